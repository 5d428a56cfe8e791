"""What the verdict and the tuning curves say about the searches themselves."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pandas as pd
import pytest
import support

from tuneworth.metrics import METRICS
from tuneworth.plots import tuning_curves
from tuneworth.verdict import ArmInfo, Verdict, decide

AUC = METRICS["roc_auc"]
FOLDS = 5
# The seed of each test's generator (the rng fixture).
pytestmark = pytest.mark.seed(11)


@pytest.fixture
def base(rng: np.random.Generator) -> np.ndarray:
    """The baseline's fold scores: the first draw of the test's own generator."""
    return 0.80 + rng.normal(0, 0.02, FOLDS)


noise = partial(support.noise, folds=FOLDS)


FAILURE = (
    "SearchError: every one of the 10 configurations failed; the first error: "
    "ValueError: C above 1 is refused"
)


def results(arms: dict[str, np.ndarray | str]) -> pd.DataFrame:
    """A fold table: arm -> its per-fold scores, or the error every fold of it raised."""
    return support.fold_table({arm: (s, 2.0) for arm, s in arms.items()}, folds=FOLDS)


def info(*arms: tuple[str, str]) -> list[ArmInfo]:
    return [ArmInfo("baseline", "baseline", "baseline")] + [
        ArmInfo(name, family, name) for name, family in arms
    ]


def tuning_sentence(verdict: Verdict) -> str:
    """The answer to the tool's question (not the tuning family's line)."""
    answers = ("Tuning cannot", "Tuning is", "Tuning pays")
    return next(s for s in verdict.sentences if s.startswith(answers))


# --- every search failed ----------------------------------------------------------------


def test_when_every_search_failed_the_verdict_says_so_not_that_tuning_is_noise(
    rng: np.random.Generator, base: np.ndarray
) -> None:
    frame = results(
        {
            "baseline": base,
            "label-noise filter": base + 0.04 + rng.normal(0, 0.003, FOLDS),
            "optuna TPE": FAILURE,
            "random search": FAILURE.replace("ValueError", "MemoryError"),
        }
    )
    arms = info(
        ("label-noise filter", "data"), ("optuna TPE", "tuning"), ("random search", "tuning")
    )
    verdict = decide(frame, arms, AUC, "one_at_a_time")
    assert tuning_sentence(verdict) == (
        "Tuning cannot be judged here: every search failed on every fold, so nothing says "
        f"whether it pays. The first error (optuna TPE): {FAILURE}"
    )
    assert not any("inside the noise" in s for s in verdict.sentences)


def test_a_ladder_whose_tuning_rung_failed_says_every_search_failed(base: np.ndarray) -> None:
    frame = results({"baseline": base, "forest": base + 0.03, "forest + optuna TPE": FAILURE})
    arms = [
        ArmInfo("baseline", "baseline", "baseline"),
        ArmInfo("forest", "model", "forest"),
        ArmInfo("forest + optuna TPE", "model+tuning", "forest + optuna TPE"),
    ]
    sentence = tuning_sentence(decide(frame, arms, AUC, "ladder"))
    assert sentence.startswith("Tuning cannot be judged here: every search failed")
    assert sentence.endswith(f"The first error (forest + optuna TPE): {FAILURE}")


def test_a_failed_search_does_not_speak_for_the_search_that_ran(
    rng: np.random.Generator, base: np.ndarray
) -> None:
    frame = results(
        {
            "baseline": base,
            "optuna TPE": FAILURE,
            "random search": base + 0.05 + noise(rng, 0.003),
        }
    )
    arms = info(("optuna TPE", "tuning"), ("random search", "tuning"))
    sentence = tuning_sentence(decide(frame, arms, AUC, "one_at_a_time"))
    assert sentence.startswith("Tuning is worth it here: random search gains +0.05")


# --- how the searches ran ---------------------------------------------------------------


def search_table(rows: list[dict[str, object]]) -> pd.DataFrame:
    columns = {
        "configurations": 10.0,
        "random_startup": math.nan,
        "trials_to_match_grid": math.nan,
        "folds_matching_grid": 0,
        "optimism_gap": math.nan,
    }
    return pd.DataFrame([{**columns, **row} for row in rows])


def searched_verdict(base: np.ndarray, tuning: pd.DataFrame) -> Verdict:
    names = list(tuning["arm"])
    frame = results({"baseline": base, **{n: base + 0.01 * (i + 1) for i, n in enumerate(names)}})
    return decide(frame, info(*[(n, "tuning") for n in names]), AUC, "one_at_a_time", tuning)


def test_the_random_start_up_of_model_based_searches_is_stated(base: np.ndarray) -> None:
    tuning = search_table(
        [
            {"arm": "random search", "strategy": "random_search"},
            {"arm": "optuna TPE", "strategy": "optuna", "random_startup": 2.0},
            {"arm": "optuna GP", "strategy": "optuna", "configurations": 20.0, "random_startup": 5},
        ]
    )
    said = searched_verdict(base, tuning).sentences
    assert (
        "Random start-up before the model proposes (a quarter of the budget, at least 2, at "
        "most 10), per fold: optuna TPE 2 of its 10; optuna GP 5 of its 20." in said
    )


def test_halving_is_said_to_match_grid_only_in_its_last_rung(base: np.ndarray) -> None:
    tuning = search_table(
        [
            {"arm": "grid search", "strategy": "grid_search", "trials_to_match_grid": 7.0},
            {"arm": "halving", "strategy": "halving", "trials_to_match_grid": 10.0},
            {"arm": "random search", "strategy": "random_search", "trials_to_match_grid": 4.0},
        ]
    )
    said = searched_verdict(base, tuning).sentences
    assert (
        "Trials needed to reach grid search's best inner score (median over folds): "
        "halving in its last rung, after all its 10; random search in 4 of its 10." in said
    )


# --- tuning curves ----------------------------------------------------------------------


def trial_table(arm: str, scores: list[float], rungs: list[int] | None = None) -> pd.DataFrame:
    """One fold's trials; with ``rungs``, halving's: rung 1 re-scores rung 0's first two."""
    rungs = rungs or [0] * len(scores)
    first = rungs.count(0)
    candidate = [i if r == 0 else (i - first) for i, r in enumerate(rungs)]
    return pd.DataFrame(
        {
            "arm": arm,
            "fold": 0,
            "trial": range(len(scores)),
            "candidate": candidate,
            "comparable": [r == max(rungs) for r in rungs],
            "state": "complete",
            "score": scores,
        }
    )


def test_tuning_curves_draw_halving_as_its_last_rung_at_its_budget(base: np.ndarray) -> None:
    trials = pd.concat(
        [
            trial_table("grid search", [0.80, 0.84, 0.83, 0.85]),
            trial_table("random search", [0.82, 0.81, 0.86, 0.84]),
            # Rung 0 on a ninth of the rows scores 0.99: not comparable, not drawn.
            trial_table("halving", [0.99, 0.70, 0.75, 0.72, 0.83, 0.79], [0, 0, 0, 0, 1, 1]),
        ]
    )
    tuning = search_table(
        [
            {"arm": "grid search", "strategy": "grid_search"},
            {"arm": "random search", "strategy": "random_search"},
            {"arm": "halving", "strategy": "halving"},
        ]
    )
    axes = tuning_curves(searched_verdict(base, tuning), trials).axes[0]
    lines = {line.get_label(): line for line in axes.get_lines()}
    halving = lines["halving (last rung, after all 4 candidates)"]
    assert list(halving.get_xdata()) == [4] and list(halving.get_ydata()) == [0.83]
    assert list(lines["random search"].get_xdata()) == [1, 2, 3, 4]
    assert list(lines["random search"].get_ydata()) == [0.82, 0.82, 0.86, 0.86]
    assert list(lines["grid search's best"].get_ydata()) == [0.85, 0.85]
    curves = [line for label, line in lines.items() if label != "grid search's best"]
    assert max(max(line.get_xdata()) for line in curves) == 4  # no strategy past the budget
    assert axes.get_xlabel() == "configurations evaluated"


@pytest.mark.parametrize("greater", [True, False])
def test_tuning_curves_follow_the_metric_direction(greater: bool, base: np.ndarray) -> None:
    metric = AUC if greater else METRICS["rmse"]
    trials = trial_table("random search", [3.0, 2.0, 4.0])
    tuning = search_table([{"arm": "random search", "strategy": "random_search"}])
    verdict = searched_verdict(base, tuning)
    verdict = Verdict(metric, verdict.design, verdict.summary, "", "", (), tuning=tuning)
    (line,) = tuning_curves(verdict, trials).axes[0].get_lines()
    assert list(line.get_ydata()) == ([3.0, 3.0, 4.0] if greater else [3.0, 2.0, 2.0])
