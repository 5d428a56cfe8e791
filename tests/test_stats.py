"""Power, sign convention and the cheapest-equivalent rule, pinned to hand-computed values."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pandas as pd
import pytest
from support import fold_table

from tuneworth.metrics import METRICS
from tuneworth.report import format_table
from tuneworth.stats import (
    Outcome,
    cheapest_equivalent,
    corrected_ttest,
    detectable_effect,
    detectable_floor,
    paired,
    repeats_to_detect,
    summarise,
)
from tuneworth.verdict import ArmInfo, Verdict, decide

# Quantiles of Student's t with 4 degrees of freedom and of the standard normal, from tables.
T975_4, T80_4 = 2.776445, 0.940965
Z975, Z80 = 1.959964, 0.841621


folds = partial(fold_table, predict_seconds=0.0)


def test_detectable_effect_is_the_corrected_standard_error_times_two_t_quantiles() -> None:
    d = [0.02, 0.03, 0.01, 0.04, 0.02]
    # s² = (16 + 36 + 196 + 256 + 16)e-6 / 4 = 130e-6; 1/J + n_te/n_tr = 1/5 + 100/400 = 0.45
    by_hand = (T975_4 + T80_4) * math.sqrt(0.45 * 130e-6)
    assert by_hand == pytest.approx(0.028433, abs=1e-6)
    assert detectable_effect(130e-6, 5, 400, 100) == pytest.approx(by_hand, rel=1e-5)
    assert corrected_ttest(d, 400, 100).detectable == pytest.approx(by_hand, rel=1e-5)


def test_folds_that_all_gain_the_same_have_no_variance_not_its_rounding_residue() -> None:
    c = corrected_ttest([1 / 3] * 10, n_train=275, n_test=69)
    assert c.variance == 0.0 and c.detectable == 0.0
    assert c.delta == 1 / 3 and c.ci_low == c.ci_high == 1 / 3 and c.p_value == 0.0
    tie = corrected_ttest([0.0] * 10, n_train=275, n_test=69)
    assert (tie.delta, tie.detectable, tie.p_value) == (0.0, 0.0, 1.0)


def test_repeats_shrink_the_detectable_effect_down_to_the_fold_size_floor() -> None:
    variance = 1e-3  # per-fold gains 0.01, 0.03, 0.05, 0.07, 0.09
    floor = (Z975 + Z80) * math.sqrt(0.25 * variance)
    assert detectable_floor(variance, 400, 100) == pytest.approx(floor, rel=1e-5)
    reach = detectable_effect(variance, 5 * np.arange(1, 7), 400, 100)
    assert np.all(np.diff(reach) < 0) and np.all(reach > floor)
    # A gain of 0.05: 4 repeats detect down to 0.0512, 5 repeats to 0.0497.
    assert reach[3] == pytest.approx(0.05116, abs=1e-5)
    assert reach[4] == pytest.approx(0.04974, abs=1e-5)
    assert repeats_to_detect(0.05, variance, 5, 400, 100) == 5
    assert repeats_to_detect(-0.05, variance, 5, 400, 100) == 5  # a loss, same size
    # Below the floor (0.0443) no number of repeats would do: n_te/n_tr stays 0.25.
    assert repeats_to_detect(0.044, variance, 5, 400, 100) == math.inf


def test_a_consistent_gain_within_noise_is_underpowered_with_the_repeats_that_would_fix_it() -> (
    None
):
    base = [0.80, 0.82, 0.78, 0.81, 0.79]
    better = [b + g for b, g in zip(base, [0.01, 0.03, 0.05, 0.07, 0.09], strict=True)]
    summary = summarise(
        folds({"baseline": (base, 1.0), "forest": (better, 2.0)}),
        ["baseline", "forest"],
        "baseline",
    ).set_index("arm")
    row = summary.loc["forest"]
    assert row["outcome"] == "within noise"  # p = 0.078 with the corrected variance
    assert row["gain"] == pytest.approx(0.05)
    assert (row["folds_better"], row["folds_worse"], row["folds_paired"]) == (5, 0, 5)
    assert row["detectable"] == pytest.approx((T975_4 + T80_4) * math.sqrt(0.45e-3), rel=1e-5)
    assert bool(row["underpowered"])
    assert row["repeats_needed"] == 5


def test_a_clear_gain_is_not_underpowered() -> None:
    base = [0.80, 0.82, 0.78, 0.81, 0.79, 0.80, 0.83, 0.79, 0.80, 0.81]
    summary = summarise(
        folds({"baseline": (base, 1.0), "filter": ([b + 0.05 for b in base], 1.0)}, repeats=2),
        ["baseline", "filter"],
        "baseline",
    ).set_index("arm")
    assert summary.loc["filter", "outcome"] == "better"
    assert not summary.loc["filter", "underpowered"]


@pytest.mark.parametrize(("metric", "arm_score"), [("log_loss", 0.30), ("roc_auc", 0.85)])
def test_gain_is_positive_when_the_arm_is_better_for_a_loss_and_a_score(
    metric: str, arm_score: float
) -> None:
    m = METRICS[metric]
    base = 0.35 if metric == "log_loss" else 0.80
    spread = [0.0, 0.01, -0.01, 0.02, -0.02]
    frame = folds(
        {
            "baseline": ([base + s for s in spread], 1.0),
            "arm": ([arm_score + s for s in spread], 1.0),
        }
    )
    summary = summarise(frame, ["baseline", "arm"], "baseline", m.sign).set_index("arm")
    assert summary.loc["arm", "gain"] == pytest.approx(0.05)
    assert summary.loc["arm", "ci_low"] == pytest.approx(0.05)
    assert summary.loc["arm", "outcome"] == "better"
    assert paired(frame, "arm", "baseline", m.sign).delta == pytest.approx(0.05)
    assert m.gain(arm_score, base) == pytest.approx(0.05)
    assert m.sign == (-1.0 if metric == "log_loss" else 1.0)


# The seed of each test's generator (the rng fixture).
pytestmark = pytest.mark.seed(3)


@pytest.fixture
def base(rng: np.random.Generator) -> np.ndarray:
    """The baseline's fold scores: the first draw of the test's own generator."""
    return np.asarray(0.80 + rng.normal(0, 0.02, 10)).tolist()


def shifted(base: np.ndarray, by: float, noise: float, seed: int) -> list[float]:
    jitter = np.random.default_rng(seed).normal(0, noise, 10)
    return [b + by + j for b, j in zip(base, jitter, strict=True)]


def with_costs(frame: pd.DataFrame, costs: dict[str, list[float]]) -> pd.DataFrame:
    frame = frame.copy()
    for arm, per_fold in costs.items():
        frame.loc[frame["arm"] == arm, "fit_cpu_seconds"] = per_fold
    return frame


def test_identical_reruns_with_different_timings_recommend_the_same_arm(base: np.ndarray) -> None:
    scores = {
        "baseline": (base, 0.02),
        "forest": (shifted(base, 0.05, 0.004, 1), 0.9),
        "boosting": (shifted(base, 0.05, 0.004, 2), 1.0),
        "tuned forest": (shifted(base, 0.051, 0.004, 3), 40.0),
    }
    arms = list(scores)
    first = folds(scores, repeats=2)
    # The same folds and scores, timed twice on a busy machine: each arm within 30% of its
    # cost, one fold of the forest five times slower in the first run, of boosting in the
    # second. Summed CPU time would pick boosting the first time and the forest the second.
    second = first.copy()
    first = with_costs(first, {"forest": [0.9] * 9 + [4.5], "boosting": [0.8] * 10})
    second = with_costs(second, {"forest": [1.1] * 10, "boosting": [0.8] * 9 + [4.0]})
    picks = []
    for frame in (first, second):
        summary = summarise(frame, arms, "baseline")
        assert set(summary.set_index("arm").loc[arms[1:], "outcome"]) == {"better"}
        chosen = cheapest_equivalent(frame, summary, "baseline")
        assert chosen is not None
        totals = summary.set_index("arm")["fit_cpu_seconds"]
        picks.append((chosen.arm, str(totals[["forest", "boosting"]].idxmin())))
    assert [p[1] for p in picks] == ["boosting", "forest"]  # what summed timings would say
    # Forest and boosting tie on cost (within a factor 2) and fits: the earlier arm wins.
    assert [p[0] for p in picks] == ["forest", "forest"]


def test_an_arm_indistinguishable_from_a_clearly_beaten_baseline_is_never_recommended(
    base: np.ndarray,
) -> None:
    # The best arm beats the baseline beyond doubt; the cheap arm's folds scatter so widely
    # that neither the baseline nor the best can be told from it.
    frame = folds(
        {
            "baseline": (base, 1.0),
            "best": (shifted(base, 0.06, 0.003, 4), 30.0),
            "cheap": (shifted(base, 0.03, 0.06, 5), 0.5),
        },
        repeats=2,
    )
    summary = summarise(frame, ["baseline", "best", "cheap"], "baseline")
    table = summary.set_index("arm")
    assert table.loc["best", "outcome"] == "better"
    assert table.loc["cheap", "outcome"] == "within noise"
    against_best = paired(frame, "cheap", "best")
    assert against_best.ci_low < 0 < against_best.ci_high  # the old rule's "equivalent"
    chosen = cheapest_equivalent(frame, summary, "baseline")
    assert chosen is not None and chosen.arm == "best" and chosen.candidates == ("best",)


def test_a_cheaper_arm_that_keeps_half_the_best_gain_is_recommended(base: np.ndarray) -> None:
    frame = folds(
        {
            "baseline": (base, 1.0),
            "tuned": (shifted(base, 0.060, 0.003, 6), 30.0),
            "filter": (shifted(base, 0.055, 0.003, 7), 1.2),
            "weaker": (shifted(base, 0.020, 0.003, 8), 0.9),
        },
        repeats=2,
    )
    summary = summarise(frame, ["baseline", "tuned", "filter", "weaker"], "baseline")
    chosen = cheapest_equivalent(frame, summary, "baseline")
    assert chosen is not None
    assert chosen.reference == "tuned"
    assert chosen.margin == pytest.approx(summary.set_index("arm").loc["tuned", "gain"] / 2)
    # "weaker" beat the baseline and is cheapest, but gives up more than half the gain.
    assert chosen.candidates == ("tuned", "filter")
    assert chosen.arm == "filter"


def test_with_no_arm_beyond_the_noise_the_baseline_is_recommended(base: np.ndarray) -> None:
    frame = folds(
        {"baseline": (base, 1.0), "noise": (shifted(base, 0.0, 0.01, 9), 0.2)},
        repeats=2,
    )
    summary = summarise(frame, ["baseline", "noise"], "baseline")
    chosen = cheapest_equivalent(frame, summary, "baseline")
    assert chosen is not None and chosen.arm == "baseline" and chosen.reference == "baseline"


def test_every_outcome_of_the_summary_is_a_word_of_the_one_vocabulary(base: np.ndarray) -> None:
    frame = folds(
        {
            "baseline": (base, 1.0),
            "up": (shifted(base, 0.05, 0.002, 1), 1.0),
            "down": (shifted(base, -0.05, 0.002, 2), 1.0),
            "noise": (shifted(base, 0.0, 0.01, 3), 1.0),
        }
    )
    summary = summarise(frame, ["baseline", "up", "down", "noise"], "baseline")
    outcomes = summary.set_index("arm")["outcome"].to_dict()
    assert outcomes == {
        "baseline": Outcome.NOT_COMPARED,
        "up": Outcome.BETTER,
        "down": Outcome.WORSE,
        "noise": Outcome.NOISE,
    }
    assert all(isinstance(o, str) and o in set(Outcome) for o in outcomes.values())


# --- in words ---------------------------------------------------------------------------

CONSISTENT = [0.01, 0.03, 0.05, 0.07, 0.09]  # better on every fold, p = 0.078: within noise


def consistent_verdict(metric: str = "roc_auc") -> Verdict:
    m = METRICS[metric]
    base = [0.80, 0.82, 0.78, 0.81, 0.79]
    arm = [b + m.sign * g for b, g in zip(base, CONSISTENT, strict=True)]
    tiny = [
        b + m.sign * g for b, g in zip(base, [0.004, -0.003, 0.002, -0.004, 0.003], strict=True)
    ]
    frame = folds({"baseline": (base, 1.0), "forest": (arm, 2.0), "scaling": (tiny, 1.0)})
    arms = [
        ArmInfo("baseline", "baseline", "baseline"),
        ArmInfo("forest", "model", "forest"),
        ArmInfo("scaling", "preprocess", "scaling"),
    ]
    return decide(frame, arms, m, "one_at_a_time")


@pytest.mark.parametrize("metric", ["roc_auc", "log_loss"])
def test_a_win_on_every_fold_within_noise_says_so_and_what_the_design_could_detect(
    metric: str,
) -> None:
    verdict = consistent_verdict(metric)
    detectable = (T975_4 + T80_4) * math.sqrt(0.45e-3)  # 0.0789
    text = " ".join(verdict.sentences)
    unit = METRICS[metric].label
    assert (
        f"Model: forest gains +0.050 {unit} [-0.009, +0.109], better on 5 of 5 folds, but the "
        f"design cannot separate it from noise (could detect ≥ {detectable:.3f})" in text
    )
    power = next(s for s in verdict.sentences if s.startswith("Power:"))
    assert "these 5 outer folds detect a gain of at least" in power
    assert "forest (+0.050) with 5 repeats of the 5-fold split (25 folds)" in power
    assert "No number of repeats would detect gains as small as those of scaling" in power
    assert "more outer folds or more data" in power
    assert verdict.cheapest == "baseline"
    assert verdict.sentences[-1] == (
        f"Recommendation: keep the baseline (0.800 {unit}) until more folds settle it: no arm "
        "beat it beyond the noise, but forest beat it on every fold, which these folds cannot "
        "separate from noise (see Power)."
    )


@pytest.mark.parametrize("metric", ["roc_auc", "log_loss"])
def test_a_loss_on_some_folds_and_ties_on_the_rest_is_not_a_loss_on_every_fold(
    metric: str,
) -> None:
    # A baseline at the best possible score on most folds: a lever can only tie or lose.
    m = METRICS[metric]
    perfect = 1.0 if m.greater_is_better else 0.0
    base = [perfect] * 5
    arm = [perfect - m.sign * loss for loss in (0.004, 0.0, 0.003, 0.0, 0.0)]
    arms = [ArmInfo("baseline", "baseline", "baseline"), ArmInfo("forest", "model", "forest")]
    frame = folds({"baseline": (base, 1.0), "forest": (arm, 2.0)})
    verdict = decide(frame, arms, m, "one_at_a_time")
    (effect,) = verdict.effects
    assert (effect.folds_better, effect.folds_worse, effect.folds) == (0, 2, 5)
    assert not effect.on_every_fold
    text = " ".join(verdict.sentences)
    assert "of 5 folds" not in text and "within noise (could detect ≥ " in text
    forest = next(line for line in format_table(verdict).splitlines() if line.startswith("forest"))
    assert forest.endswith(" noise")


@pytest.mark.parametrize(
    ("metric", "header"),
    [
        ("log_loss", "log loss (lower is better); gain = improvement over the baseline"),
        ("roc_auc", "ROC-AUC (higher is better); gain = improvement over the baseline"),
    ],
)
def test_the_table_says_the_direction_once_and_shows_the_detectable_gain(
    metric: str, header: str
) -> None:
    lines = format_table(consistent_verdict(metric)).splitlines()
    assert lines[0] == f"{header}, positive is better."
    assert "detect" in lines[1] and "gain/CPU-min" in lines[1] and "Δ" not in lines[1]
    forest = next(line for line in lines if line.startswith("forest"))
    assert " +0.050 ± " in forest and " 0.079 " in forest
    assert forest.endswith("noise, better on 5/5 folds")
    assert lines[-2].startswith("noise: within noise, not significant at 5% after Holm")


def test_the_verdict_recommends_the_best_not_the_twin_of_a_beaten_baseline(
    base: np.ndarray,
) -> None:
    frame = folds(
        {
            "baseline": (base, 1.0),
            "best": (shifted(base, 0.06, 0.003, 4), 30.0),
            "cheap": (shifted(base, 0.03, 0.06, 5), 0.5),
        },
        repeats=2,
    )
    arms = [
        ArmInfo(a, "baseline" if a == "baseline" else "data", a)
        for a in ("baseline", "best", "cheap")
    ]
    verdict = decide(frame, arms, METRICS["roc_auc"], "one_at_a_time")
    assert verdict.cheapest == "best"
    score = float(np.mean(shifted(base, 0.06, 0.003, 4)))
    assert verdict.sentences[-1] == (
        f"Recommendation: best ({score:.3f} ROC-AUC), the only arm that beat the baseline "
        "beyond the noise."
    )


def test_a_cost_tie_goes_to_the_arm_listed_first_even_when_the_best_comes_later(
    base: np.ndarray,
) -> None:
    frame = folds(
        {
            "baseline": (base, 1.0),
            "filter": (shifted(base, 0.052, 0.003, 10), 1.3),
            "filter + scaling": (shifted(base, 0.058, 0.003, 11), 1.2),
        },
        repeats=2,
    )
    arms = ["baseline", "filter", "filter + scaling"]
    chosen = cheapest_equivalent(frame, summarise(frame, arms, "baseline"), "baseline")
    assert chosen is not None and chosen.reference == "filter + scaling"
    assert chosen.candidates == ("filter", "filter + scaling")
    assert chosen.arm == "filter"  # 1.3 against 1.2 CPU s per fold is a tie


def test_the_recommendation_sentence_states_the_half_gain_rule(base: np.ndarray) -> None:
    frame = folds(
        {
            "baseline": (base, 1.0),
            "tuned": (shifted(base, 0.060, 0.003, 6), 30.0),
            "filter": (shifted(base, 0.055, 0.003, 7), 1.2),
        },
        repeats=2,
    )
    arms = [ArmInfo("baseline", "baseline", "baseline"), ArmInfo("tuned", "tuning", "grid")]
    verdict = decide(
        frame, [*arms, ArmInfo("filter", "data", "filter")], METRICS["roc_auc"], "one_at_a_time"
    )
    table = verdict.summary.set_index("arm")
    assert verdict.cheapest == "filter"
    assert verdict.sentences[-1] == (
        f"Recommendation: filter ({table.loc['filter', 'score_mean']:.3f} ROC-AUC), the cheapest "
        f"arm as good as the best that beat the baseline, tuned "
        f"({table.loc['tuned', 'score_mean']:.3f}): it keeps at least half of its gain "
        f"(+{table.loc['tuned', 'gain']:.3f}) with 95% confidence, at 0.04x its CPU time per fold."
    )


def test_power_names_only_arms_that_gained_as_worth_more_folds() -> None:
    m = METRICS["roc_auc"]
    base = [0.80, 0.82, 0.78, 0.81, 0.79]
    up = [b + g for b, g in zip(base, CONSISTENT, strict=True)]
    down = [b + g for b, g in zip(base, [-0.004, 0.003, -0.002, 0.004, -0.006], strict=True)]
    frame = folds({"baseline": (base, 1.0), "forest": (up, 2.0), "binning": (down, 1.0)})
    arms = [
        ArmInfo("baseline", "baseline", "baseline"),
        ArmInfo("forest", "model", "forest"),
        ArmInfo("binning", "preprocess", "binning"),
    ]
    verdict = decide(frame, arms, m, "one_at_a_time")
    power = next(s for s in verdict.sentences if s.startswith("Power:"))
    assert "'no effect' for 2 arms" in power  # both are within noise
    assert "forest (+0.050) with 5 repeats" in power
    assert "binning" not in power  # below the baseline: no number of folds makes it pay


def test_an_optimism_gap_that_rounds_to_zero_is_said_to_be_none() -> None:
    from tuneworth.verdict import _optimism_sentence

    assert _optimism_sentence(-0.0003, METRICS["roc_auc"]).startswith(
        "Optimism gap of the searches: none to three decimals;"
    )
    assert "promised 0.012 ROC-AUC more (better)" in _optimism_sentence(0.012, METRICS["roc_auc"])
