"""The progress of a run: the arm running now, time left from each arm's own cost, and a
line at times when stderr is not a terminal."""

from __future__ import annotations

import math

import pytest

from tuneworth.cli import _Progress
from tuneworth.evaluate import FoldResult


def result(arm: str, fold: int, seconds: float) -> FoldResult:
    return FoldResult(arm, fold, 0, 0.9, seconds, seconds, 0.0, 1, 90, 10)


def test_the_time_left_counts_each_arm_at_its_own_pace() -> None:
    progress = _Progress(3, tty=False, every=math.inf)
    progress.begin(["baseline"] * 2 + ["grid search"] * 2 + ["forest"] * 2, 6)
    assert progress.running() == "baseline"
    assert progress.seconds_left() is None
    progress.fold_done(1, 6, result("baseline", 0, 1.0))
    # Nothing else measured yet: every fold left is taken at the baseline's 1 s.
    assert progress.seconds_left() == pytest.approx(5.0)
    progress.fold_done(2, 6, result("baseline", 1, 1.0))
    progress.fold_done(3, 6, result("grid search", 0, 40.0))
    assert progress.running() == "grid search"
    # grid search: one fold at 40 s; forest unseen: the mean of the arms' means, 20.5 s each.
    assert progress.seconds_left() == pytest.approx(40.0 + 2 * 20.5)


def test_without_a_terminal_a_line_every_so_often_names_the_running_arm(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = iter([0.0, 1.0, 31.0, 32.0, 70.0])
    monkeypatch.setattr("tuneworth.cli.time.perf_counter", lambda: next(clock))
    progress = _Progress(2, tty=False, every=30.0)
    progress.begin(["baseline", "baseline", "optuna TPE", "optuna TPE"], 4)
    progress.fold_done(1, 4, result("baseline", 0, 2.0))  # at 1 s: too soon for a line
    progress.fold_done(2, 4, result("baseline", 1, 2.0))  # at 31 s
    progress.inner_scored()  # at 32 s: too soon again
    progress.fold_done(3, 4, result("optuna TPE", 0, 30.0))  # at 70 s
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "progress: 2/4 arm-folds, 31 s elapsed, ~4 s left  now: optuna TPE",
        "progress: 3/4 arm-folds, 1 min 10 s elapsed, ~30 s left  now: optuna TPE",
    ]
    progress.close()


def test_a_resumed_run_starts_the_count_at_the_kept_arm_folds() -> None:
    progress = _Progress(3, tty=True)
    progress.begin(["forest", "forest"], 6)
    assert progress.bar.n == 4 and progress.bar.total == 6
    progress.fold_done(5, 6, result("forest", 0, 3.0))
    assert progress.bar.n == 5
    assert "now: forest" in progress._status()
    progress.close()
