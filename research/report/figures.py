"""matplotlib for files only: the one place the report selects the Agg backend (no display is
ever needed, and a headless machine has none). Figure modules take ``plt`` from here."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

#: resolution of every figure (report PNGs, MLflow figure artifacts): readable when zoomed
DPI = 150
plt.rcParams["figure.dpi"] = DPI  # MLflow's log_figure saves at the figure's own dpi

__all__ = ["DPI", "plt"]
