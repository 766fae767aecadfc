"""Learning curves of one training run."""

from __future__ import annotations

from research.report.figures import plt


def learning_curve_figure(history: list[dict[str, float]], title: str = ""):
    """Loss (left) and accuracy or RMSE (right) per epoch for every split in ``history``."""
    fig, (ax_loss, ax_score) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    epochs = [h["epoch"] for h in history]
    keys = sorted({k for h in history for k in h if "/" in k and not k.startswith("time/")})
    for key in keys:
        values = [h.get(key, float("nan")) for h in history]
        ax = ax_loss if key.endswith("/loss") else ax_score
        ax.plot(epochs, values, marker="." if len(epochs) < 40 else None, label=key)
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_score.set(xlabel="epoch", ylabel="accuracy / RMSE", title="score")
    for ax in (ax_loss, ax_score):
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def close(fig) -> None:
    plt.close(fig)
