from __future__ import annotations

import itertools
import math
from functools import partial

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import fold_table, noise

from tuneworth.metrics import METRICS, Metric
from tuneworth.report import format_table
from tuneworth.stats import cheapest_equivalent, corrected_ttest, holm, shapley, summarise
from tuneworth.verdict import ArmInfo, decide

AUC = METRICS["roc_auc"]
RMSE = METRICS["rmse"]
FOLDS = 10
# The seed of each test's generator (the rng fixture).
pytestmark = pytest.mark.seed(7)


results = partial(fold_table, repeats=2)  # 5-fold x 2


@pytest.fixture
def base(rng: np.random.Generator) -> np.ndarray:
    """The baseline's fold scores: the first draw of the test's own generator."""
    return 0.80 + rng.normal(0, 0.02, FOLDS)


def test_corrected_interval_is_wider_than_the_plain_t_test(rng: np.random.Generator) -> None:
    from scipy import stats

    d = rng.normal(0.01, 0.01, FOLDS)
    plain = stats.ttest_1samp(d, 0).confidence_interval()
    corrected = corrected_ttest(d, n_train=400, n_test=100)
    assert corrected.ci_high - corrected.ci_low > 1.5 * (plain.high - plain.low)
    assert corrected.delta == pytest.approx(d.mean())


def test_holm_multiplies_the_smallest_p_by_the_number_of_tests() -> None:
    adjusted = holm([0.01, 0.5, 0.02])
    assert adjusted == pytest.approx([0.03, 0.5, 0.04])
    assert holm([0.2, 0.9]) == pytest.approx([0.4, 0.9])


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 4), st.data())
def test_shapley_shares_add_up_to_the_total_gain(players: int, data: st.DataObject) -> None:
    names = [f"p{i}" for i in range(players)]
    values = {
        frozenset(s): np.array([data.draw(st.floats(-1, 1))])
        for size in range(players + 1)
        for s in itertools.combinations(names, size)
    }
    shares = shapley(values, names)
    total = values[frozenset(names)] - values[frozenset()]
    assert sum(shares.values()) == pytest.approx(total)


def test_shapley_gives_a_player_that_adds_nothing_no_share() -> None:
    v = {
        frozenset(): np.array([0.5]),
        frozenset({"data"}): np.array([0.5]),
        frozenset({"tuning"}): np.array([0.6]),
        frozenset({"data", "tuning"}): np.array([0.6]),
    }
    shares = shapley(v, ["data", "tuning"])
    assert shares["data"][0] == pytest.approx(0.0)
    assert shares["tuning"][0] == pytest.approx(0.1)


def test_a_clear_gain_is_better_and_noise_is_within_noise(
    rng: np.random.Generator, base: np.ndarray
) -> None:
    frame = results(
        {
            "baseline": (base, 1.0),
            "filter": (base + 0.04 + rng.normal(0, 0.003, FOLDS), 1.2),
            "grid search": (base + rng.normal(0, 0.01, FOLDS), 40.0),
        }
    )
    summary = summarise(frame, ["baseline", "filter", "grid search"], "baseline").set_index("arm")
    assert summary.loc["filter", "outcome"] == "better"
    assert summary.loc["grid search", "outcome"] == "within noise"
    assert math.isnan(summary.loc["grid search", "gain_per_cpu_minute"])
    assert summary.loc["grid search", "cost_ratio"] == pytest.approx(40.0)
    assert summary.loc["filter", "p_holm"] >= summary.loc["filter", "p_value"]


def test_lower_is_better_metrics_call_a_drop_better_and_a_positive_gain(base: np.ndarray) -> None:
    frame = results({"baseline": (base, 1.0), "scaled": (base - 0.05, 1.0)})
    summary = summarise(frame, ["baseline", "scaled"], "baseline", RMSE.sign).set_index("arm")
    assert summary.loc["scaled", "outcome"] == "better"
    # An RMSE 0.05 lower is a gain of +0.05: positive is better for every metric.
    assert summary.loc["scaled", "gain"] == pytest.approx(0.05)
    assert summary.loc["scaled", "ci_low"] == pytest.approx(0.05)


def test_cheapest_equivalent_prefers_the_cheap_arm_as_good_as_the_best(
    rng: np.random.Generator, base: np.ndarray
) -> None:
    frame = results(
        {
            "baseline": (base, 1.0),
            "forest": (base + 0.05, 20.0),
            "tuned forest": (base + 0.0505 + noise(rng, 0.002), 400.0),
        }
    )
    summary = summarise(frame, ["baseline", "forest", "tuned forest"], "baseline")
    chosen = cheapest_equivalent(frame, summary, "baseline")
    assert chosen is not None and chosen.arm == "forest"
    assert chosen.reference == "tuned forest"


def arms_one_at_a_time() -> list[ArmInfo]:
    return [
        ArmInfo("baseline", "baseline", "baseline"),
        ArmInfo("label-noise filter", "data", "label-noise filter"),
        ArmInfo("optuna TPE", "tuning", "optuna TPE"),
    ]


def test_verdict_says_tuning_is_not_worth_it_when_its_gain_is_noise(
    rng: np.random.Generator, base: np.ndarray
) -> None:
    frame = results(
        {
            "baseline": (base, 1.0),
            "label-noise filter": (base + 0.04 + noise(rng, 0.003), 1.3),
            "optuna TPE": (base + 0.004 + noise(rng, 0.01), 38.0),
        }
    )
    verdict = decide(frame, arms_one_at_a_time(), AUC, "one_at_a_time")
    text = " ".join(verdict.sentences)
    assert "Data: label-noise filter gains +0.04" in text
    assert "Tuning is not worth it here: its gain is inside the noise" in text
    assert "Instead, label-noise filter paid (+0.04" in text and "spend the effort there." in text
    assert "at 38x the fit cost" in text
    assert verdict.best == "label-noise filter"
    assert "within noise" in format_table(verdict)


def test_verdict_says_tuning_pays_when_it_is_the_best_lever(
    rng: np.random.Generator, base: np.ndarray
) -> None:
    frame = results(
        {
            "baseline": (base, 1.0),
            "label-noise filter": (base + rng.normal(0, 0.01, FOLDS), 1.3),
            "optuna TPE": (base + 0.05 + rng.normal(0, 0.003, FOLDS), 38.0),
        }
    )
    verdict = decide(frame, arms_one_at_a_time(), AUC, "one_at_a_time")
    assert any(s.startswith("Tuning is worth it here: optuna TPE") for s in verdict.sentences)


def test_ladder_steps_add_up_to_the_top_rung(rng: np.random.Generator, base: np.ndarray) -> None:
    arms = [
        ArmInfo("baseline", "baseline", "baseline"),
        ArmInfo("a", "data", "filter"),
        ArmInfo("b", "data+preprocess", "filter + scaling"),
        ArmInfo("c", "data+preprocess+tuning", "filter + scaling + grid search"),
    ]
    frame = results(
        {
            "baseline": (base, 1.0),
            "a": (base + 0.03, 1.0),
            "b": (base + 0.05 + rng.normal(0, 0.002, FOLDS), 1.0),
            "c": (base + 0.051 + rng.normal(0, 0.004, FOLDS), 50.0),
        }
    )
    verdict = decide(frame, arms, AUC, "ladder")
    assert [e.name for e in verdict.effects] == ["+ filter", "+ scaling", "+ grid search"]
    top = verdict.summary.set_index("arm").loc["c", "gain"]
    assert sum(e.gain for e in verdict.effects) == pytest.approx(top)
    assert verdict.effects[-1].cost_factor == pytest.approx(50.0)
    assert "Tuning is not worth it here" in " ".join(verdict.sentences)


def test_factorial_attributes_the_best_arms_gain_to_its_families(base: np.ndarray) -> None:
    arms = [
        ArmInfo("baseline", "baseline", "baseline"),
        ArmInfo("d", "data", "filter"),
        ArmInfo("t", "tuning", "grid"),
        ArmInfo("dt", "data+tuning", "filter + grid"),
    ]
    frame = results(
        {
            "baseline": (base, 1.0),
            "d": (base + 0.04, 1.0),
            "t": (base + 0.01, 30.0),
            "dt": (base + 0.05, 30.0),
        }
    )
    verdict = decide(frame, arms, AUC, "factorial")
    shares = {e.name: e.gain for e in verdict.effects}
    assert shares == pytest.approx({"data": 0.04, "tuning": 0.01})
    assert verdict.best == "dt"


def test_a_larger_gain_inside_the_noise_is_named_not_ignored(
    rng: np.random.Generator, base: np.ndarray
) -> None:
    arms = [*arms_one_at_a_time(), ArmInfo("forest", "model", "forest")]
    frame = results(
        {
            "baseline": (base, 1.0),
            "label-noise filter": (base + rng.normal(0, 0.01, FOLDS), 1.3),
            "optuna TPE": (base + 0.02 + rng.normal(0, 0.002, FOLDS), 38.0),
            "forest": (base + 0.04 + rng.normal(0, 0.06, FOLDS), 20.0),
        }
    )
    verdict = decide(frame, arms, AUC, "one_at_a_time")
    tuning = next(s for s in verdict.sentences if s.startswith("Tuning pays"))
    assert tuning.startswith("Tuning pays here (optuna TPE")
    assert "The larger gain of forest" in tuning and "not beyond the noise" in tuning


@pytest.mark.parametrize(
    ("metric", "gap", "said"),
    [
        (AUC, 0.012, "0.012 ROC-AUC more (better)"),
        (AUC, -0.003, "0.003 ROC-AUC less (worse)"),
        # The default run: inner CV on noisy labels promised more loss than the outer folds
        # (true labels) gave, a gap of -0.212 in gain terms. More loss is worse.
        (METRICS["log_loss"], -0.212, "0.212 log loss more (worse)"),
        (METRICS["log_loss"], 0.02, "0.020 log loss less (better)"),
    ],
)
def test_the_optimism_gap_is_said_in_words_whichever_its_sign_and_direction(
    metric: Metric, gap: float, said: str, base: np.ndarray
) -> None:
    frame = results({"baseline": (base, 1.0), "optuna TPE": (base + 0.01, 30.0)})
    tuning = pd.DataFrame(
        {
            "arm": ["optuna TPE"],
            "strategy": ["optuna"],
            "configurations": [20],
            "trials_to_match_grid": [np.nan],
            "optimism_gap": [gap],
        }
    )
    arms = [
        ArmInfo("baseline", "baseline", "baseline"),
        ArmInfo("optuna TPE", "tuning", "optuna TPE"),
    ]
    verdict = decide(frame, arms, metric, "one_at_a_time", tuning)
    sentence = next(s for s in verdict.sentences if s.startswith("Optimism gap"))
    assert f"inner CV promised {said} than the outer folds then gave" in sentence
    assert ("pessimistic" in sentence) == (gap < 0)
