"""Progress off a terminal (issue 14): one plain line on stderr at a steady cadence, a final
one at the end; on a terminal the tqdm bar as before; stdout's summary untouched."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from research.progress import ENV, Progress, duration, interval_seconds


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def plain(seconds: float, total: int | None = 10, **kw) -> tuple[Progress, io.StringIO, Clock]:
    out, clock = io.StringIO(), Clock()
    bar = Progress(total, "bayes", "trial", file=out, seconds=seconds, clock=clock, **kw)
    return bar, out, clock


def lines(out: io.StringIO) -> list[str]:
    return out.getvalue().splitlines()


def test_durations():
    assert [duration(s) for s in (0, 4.6, 59, 60, 130, 724, 3599, 3600, 3720)] == [
        "0s",
        "5s",
        "59s",
        "1m00s",
        "2m10s",
        "12m04s",
        "59m59s",
        "1h00m",
        "1h02m",
    ]


def test_the_interval_comes_from_the_environment():
    assert interval_seconds({}) == 30
    assert interval_seconds({ENV: "0"}) == 0
    assert interval_seconds({ENV: "2.5"}) == 2.5
    assert interval_seconds({ENV: "soon"}) == interval_seconds({ENV: "-1"}) == 30


def test_the_line_shows_count_notes_elapsed_and_eta():
    bar, out, clock = plain(0, total=80, initial=0, names={"best": "best val/acc"})
    clock.now += 130
    bar.set(12, pruned=3, failed=0, best="0.7012")
    # 130 s for 12 trials, 68 left: 130 / 12 * 68 = 736.7 s
    assert lines(out) == [
        "bayes: 12/80 trials, pruned 3, failed 0, best val/acc 0.7012, 2m10s elapsed, ETA 12m17s"
    ]


def test_eta_is_left_out_when_unknown_or_done_and_counts_only_this_sessions_units():
    bar, out, clock = plain(0, total=None)
    clock.now += 5
    bar.update()
    bar, out2, clock = plain(0, total=10, initial=4)  # resumed at 4
    clock.now += 20
    bar.update(2)  # 2 units in 20 s, 4 left
    clock.now += 40
    bar.set(10)
    assert lines(out) == ["bayes: 1 trials, 5s elapsed"]
    assert lines(out2) == [
        "bayes: 6/10 trials, 20s elapsed, ETA 40s",
        "bayes: 10/10 trials, 1m00s elapsed",
    ]


def test_at_most_one_line_per_interval_and_a_final_line_at_close():
    bar, out, clock = plain(30)
    for _ in range(7):  # a unit every 10 s
        clock.now += 10
        bar.update(1, best=f"{clock.now - 1000:.0f}")
    assert [line.split(",")[0] for line in lines(out)] == [
        "bayes: 3/10 trials",
        "bayes: 6/10 trials",
    ]
    bar.close()
    assert lines(out)[-1] == "bayes: 7/10 trials, best 70, 1m10s elapsed, ETA 30s"
    bar.close()  # once
    assert len(lines(out)) == 3


def test_close_adds_nothing_when_nothing_was_done_or_the_last_line_is_current():
    bar, out, _ = plain(30, initial=4)
    bar.close()
    assert out.getvalue() == ""
    bar, out, clock = plain(0)
    bar.update()
    bar.close()
    assert len(lines(out)) == 1


def test_with_interval_zero_a_poll_without_change_prints_nothing():
    bar, out, clock = plain(0)
    bar.set(2, pruned=0)
    for _ in range(3):
        clock.now += 1
        bar.set(2, pruned=0)  # the search's poll every second
    bar.set(3, pruned=1)
    assert [line.split(",")[:2] for line in lines(out)] == [
        ["bayes: 2/10 trials", " pruned 0"],
        ["bayes: 3/10 trials", " pruned 1"],
    ]


def test_with_an_interval_a_poll_without_change_is_a_heartbeat():
    bar, out, clock = plain(30)
    for _ in range(6):
        clock.now += 10
        bar.set(2)
    assert len(lines(out)) == 2


def test_on_a_terminal_it_is_the_tqdm_bar():
    out = io.StringIO()
    bar = Progress(3, "run", "epoch", file=out, terminal=True, seconds=0)
    bar.update(1, **{"val/acc": "0.5"})
    bar.close()
    text = out.getvalue()
    assert "\r" in text and "1/3" in text and "epoch" in text and "val/acc=0.5" in text
    assert not re.search(r"elapsed, ETA", text)


def test_the_end_can_move_on_a_terminal_and_off_it():
    """An evolution whose evaluation budget ends it early counts to that generation."""
    out = io.StringIO()
    bar = Progress(200, "cmaes", "gen", file=out, terminal=True, seconds=0)
    bar.set_total(4)
    bar.update(1)
    bar.close()
    assert "1/4" in out.getvalue() and "/200" not in out.getvalue().rsplit("\r", 1)[-1]
    bar, out, clock = plain(0, total=200)
    bar.set_total(4)
    bar.update(1)
    assert lines(out)[-1].startswith("bayes: 1/4 trials")


# -- the three loops, in real processes with stderr piped (not a terminal) -----------------


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "RESEARCH_ROOT": str(tmp_path), ENV: "0", "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "research.run", *args, f"tracking.root={tmp_path}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def check(proc: subprocess.CompletedProcess, pattern: str, n: int, first_out: str) -> None:
    assert proc.returncode == 0, proc.stderr
    err = [line for line in proc.stderr.splitlines() if re.match(pattern, line)]
    assert len(err) == n, proc.stderr
    assert "elapsed" in err[-1] and "ETA" not in err[-1] and "ETA" in err[0]
    out = proc.stdout.splitlines()
    assert out[0].startswith(first_out), proc.stdout
    assert not any("elapsed" in line for line in out), proc.stdout  # progress: stderr only


@pytest.mark.parametrize(
    "level",  # evolve's lines are also checked in-process (tests/evolve/test_evolve_messages.py)
    ["train", "search", pytest.param("evolve", marks=pytest.mark.slow)],
)
def test_off_a_terminal_each_loop_prints_progress_lines_on_stderr(tmp_path, level):
    if level == "train":
        proc = run(tmp_path, "data=xor", "model.hidden=[4]", "regime.epochs=3")
        check(proc, r"mlp-xor-sgd-seed0: [123]/3 epochs, val/", 3, "finished after 3 epochs")
    elif level == "search":
        args = ["+study=random", "study.n_trials=3", "study.report=false", "data=xor"]
        args += ["study.overrides=['regime=adam','regime.epochs=2']"]
        proc = run(tmp_path, *args)
        check(proc, r"random: [123]/3 trials, pruned \d+, failed \d+", 3, "study 'random': 3 ")
        assert "best val/acc " in proc.stderr
    else:
        args = ["+study=evolve", "study.generations=3", "study.settings.pop=12"]
        args += ["task.max_steps=200", "study.stop_on_solve=false", "study.report=false"]
        proc = run(tmp_path, *args)
        pattern = r"evolve: [123]/3 gens, generation best \S+, evals \d+"
        check(proc, pattern, 3, "evolution 'evolve': 3 generations")
