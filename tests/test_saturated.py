"""A baseline that already scores the best: what the verdict, the tables and the marginal
sentence say when the folds tie, rather than signed zeros and detectable effects of 0.000."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest
from support import fold_table

from tuneworth.marginal import MORE_DATA, TUNING_BUDGET, Marginal, sentence, summarise
from tuneworth.metrics import METRICS
from tuneworth.report import compact_rows, format_table, marginal_rows, verdict_markdown
from tuneworth.verdict import ArmInfo, Verdict, decide

AUC = METRICS["roc_auc"]
ONES = [1.0] * 10
# Loses 0.001 on three folds and ties the baseline on the other seven: a mean loss of
# 0.0003, which rounds to zero at three decimals.
TIES = [0.999, 1.0, 0.999, 1.0, 0.999, 1.0, 1.0, 1.0, 1.0, 1.0]
ARMS = [
    ArmInfo("baseline", "baseline", "baseline"),
    ArmInfo("random oversampling", "data", "random oversampling"),
    ArmInfo("random forest", "model", "random forest"),
    ArmInfo("grid search", "tuning", "grid search"),
]
# A sign or a size the digits do not show: a signed zero, a detectable effect of zero, a
# gain of zero with an interval of zero width, a NaN. (A score's spread over the folds,
# "1.000 ± 0.000", is a measured standard deviation and stays.)
MISLEADING = re.compile(
    r"[+-]0\.000(?![0-9]*[1-9])|≥ 0\.000(?![0-9]*[1-9])|(?<![0-9.])0\.000 ± 0\.000|nan"
)


def saturated(baseline: list[float] = ONES) -> Verdict:
    frame = fold_table(
        {
            "baseline": (baseline, 1.0),
            "random oversampling": (baseline, 1.2),
            "random forest": (TIES, 6.0),
            "grid search": (baseline, 20.0),
        },
        n_train=275,
        n_test=69,
    )
    return decide(frame, ARMS, AUC, "one_at_a_time")


def starting(verdict: Verdict, prefix: str) -> str:
    (said,) = [s for s in verdict.sentences if s.startswith(prefix)]
    return said


def test_an_arm_that_ties_the_baseline_on_every_fold_is_no_difference_not_zeros() -> None:
    verdict = saturated()
    assert starting(verdict, "Data:") == (
        "Data: random oversampling gains 0.000 ROC-AUC, no difference on any fold, at 1.2x "
        "the fit cost."
    )
    assert starting(verdict, "Tuning is not") == (
        "Tuning is not worth it here: the best search scored the same as the baseline on "
        "every fold (grid search gains 0.000 ROC-AUC, no difference on any fold, at 20x the "
        "fit cost)."
    )


def test_a_loss_that_rounds_to_zero_prints_without_a_sign() -> None:
    assert starting(saturated(), "Model:") == (
        "Model: random forest gains 0.000 ROC-AUC [-0.001, 0.000], within noise (could "
        "detect ≥ 0.001), at 6.0x the fit cost."
    )


def test_what_the_design_can_detect_leaves_out_the_arms_that_tied_on_every_fold() -> None:
    (power,) = [s for s in saturated().sentences if s.startswith("Power:")]
    assert power.startswith("Power: these 10 outer folds detect a gain of at least 0.001 ROC-AUC")
    assert "0.000" not in power


def test_the_terminal_table_shows_a_loss_that_rounds_to_zero_without_a_sign() -> None:
    rows = {row[0]: row for row in compact_rows(saturated())}
    assert rows["random forest"][2:4] == ("0.000 ± 0.001", "0.001")
    assert rows["random forest"][-1] == "noise"  # it tied on 7 folds: no sweep


def test_a_baseline_at_the_best_on_every_fold_is_said_once_and_kept() -> None:
    said = saturated().sentences
    assert said[0] == (
        "The baseline already scores the best possible ROC-AUC, 1.000, on every fold: no "
        "lever can beat it, and the folds cannot tell an arm that matches it from the baseline."
    )
    assert said[-1] == (
        "Recommendation: keep the baseline (1.000 ROC-AUC); it already scores the best "
        "possible on every fold."
    )


def test_a_baseline_within_rounding_of_the_best_says_how_little_is_left() -> None:
    near = [1.0] * 7 + [0.9997, 0.9996, 0.9998]
    said = saturated(near).sentences
    assert said[0] == (
        "The baseline already scores 1.000 ROC-AUC, within 0.00009 of the best possible: no "
        "lever has more than that to gain."
    )
    assert said[-1].startswith("Recommendation: keep the baseline (1.000 ROC-AUC); no arm beat")


def test_a_baseline_short_of_the_best_gets_no_saturation_sentence() -> None:
    short = [0.99] * 10
    assert not any(s.startswith("The baseline already") for s in saturated(short).sentences)


def test_a_loss_at_zero_on_every_fold_is_the_best_possible_too() -> None:
    zeros = [0.0] * 10
    frame = fold_table({"baseline": (zeros, 1.0), "forest": (zeros, 2.0)}, n_train=275, n_test=69)
    arms = [ArmInfo("baseline", "baseline", "baseline"), ArmInfo("forest", "model", "forest")]
    verdict = decide(frame, arms, METRICS["log_loss"], "one_at_a_time")
    assert verdict.sentences[0].startswith(
        "The baseline already scores the best possible log loss, 0.000, on every fold"
    )
    assert all(metric.best is not None for metric in METRICS.values())


def test_the_terminal_table_says_no_difference_instead_of_zeros() -> None:
    verdict = saturated()
    rows = {row[0]: row for row in compact_rows(verdict)}
    assert rows["random oversampling"][2:4] == ("0.000", "n/a")
    assert rows["random oversampling"][-1] == "no difference"
    table = format_table(verdict)
    assert "detect n/a: the arm gained the same on every fold" in " ".join(table.split())


def test_an_interval_narrower_than_three_decimals_keeps_its_width() -> None:
    # Ties on eight folds, a ten-thousandth either way on two: a half-width of 0.000063.
    arm = [1.0] * 8 + [0.9999, 1.0]
    near = [1.0] * 9 + [0.9999]
    frame = fold_table({"baseline": (near, 1.0), "scaling": (arm, 1.0)}, n_train=275, n_test=69)
    arms = [ArmInfo("baseline", "baseline", "baseline"), ArmInfo("scaling", "preprocess", "s")]
    (_, scaling) = compact_rows(decide(frame, arms, AUC, "one_at_a_time"))
    assert re.fullmatch(r"0\.000 ± 0\.0000[1-9][0-9]?", scaling[2]), scaling[2]


@pytest.mark.parametrize("baseline", [ONES, [1.0] * 7 + [0.9997, 0.9996, 0.9998]])
def test_nothing_said_of_a_saturated_study_shows_a_signed_zero_or_a_zero_to_detect(
    baseline: list[float],
) -> None:
    verdict = saturated(baseline)
    for text in (format_table(verdict), verdict_markdown(verdict)):
        assert not MISLEADING.search(text), MISLEADING.search(text)


def curve_results() -> pd.DataFrame:
    return fold_table({"baseline": (ONES, 1.0)}, n_train=275, n_test=69)


def test_a_search_whose_longer_budget_changed_no_fold_says_so_not_what_it_could_detect() -> None:
    points = pd.DataFrame(
        [
            {
                "family": TUNING_BUDGET,
                "arm": "random search",
                "fold": fold,
                "step": k,
                "score": 1.0,
                "cpu_seconds": 0.1 * k,
            }
            for k in (1, 2, 5, 10)
            for fold in range(10)
        ]
    )
    marginal = summarise(points, curve_results(), unit="ROC-AUC")
    assert marginal.sentence == (
        "More tuning is not shown to pay: the last doubling of tuning (5 to 10 trials) added "
        "0.000 ROC-AUC, no difference on any fold: stop tuning."
    )
    (row,) = marginal_rows(marginal)
    assert row[2:6] == ("0.000", "", "1.000", "no difference on any fold")


def flat_data_step(**more: float) -> dict[str, object]:
    """The last doubling of a data-size curve that has all but stopped: its extrapolated
    next doubling rounds to no gain."""
    return {
        "family": MORE_DATA,
        "arm": "baseline",
        "from_step": 138,
        "to_step": 275,
        "gain": -0.0003,
        "ci_low": -0.0009,
        "ci_high": 0.0003,
        "p_value": 0.6,
        "detectable": 0.0012,
        "outcome": "within noise",
        "extra_cpu_seconds": 0.01,
        "shape": "concave",
        "exponent": 1.0,
        "next_gain": -0.00015,
        "next_low": -0.00045,
        "next_high": 0.00015,
        "per_1000_rows": -0.00055,
        **more,
    }


def test_a_data_size_slope_that_rounds_to_zero_is_flat_not_a_signed_zero() -> None:
    steps = pd.DataFrame([flat_data_step()])
    assert sentence(steps, "ROC-AUC") == (
        "More data is not shown to pay: doubling the training rows (+275) is estimated to add "
        "0.000 ROC-AUC [0.000, 0.000]: the curve is flat, no measurable gain per 1,000 rows."
    )
    (row,) = marginal_rows(Marginal(pd.DataFrame(), steps=steps))
    assert row[2:4] == ("0.000", "[-0.001, 0.000]")
    assert row[5] == "within noise (could detect ≥ 0.001)"
    assert row[7:] == ("275 → 550 rows: 0.000 [0.000, 0.000]", "flat")


def test_a_data_size_slope_beyond_rounding_keeps_its_number() -> None:
    steps = pd.DataFrame(
        [flat_data_step(next_gain=0.002, next_low=0.0005, next_high=0.0035, per_1000_rows=0.0073)]
    )
    assert sentence(steps, "ROC-AUC").endswith(
        "is estimated to add +0.002 ROC-AUC [+0.001, +0.004] (+0.007 per 1,000 rows)."
    )
    (row,) = marginal_rows(Marginal(pd.DataFrame(), steps=steps))
    assert row[-1] == "+0.007"
    assert not math.isnan(float(row[-1]))


def test_the_gains_plot_draws_what_the_design_can_detect_without_the_tied_arms() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from tuneworth.plots import gains

    verdict = saturated()
    axes = gains(verdict).axes[0]
    (band,) = [p for p in axes.patches if p.get_label() == "detectable (median)"]
    forest = verdict.summary.set_index("arm")["detectable"]["random forest"]
    assert band.get_bbox().x1 == pytest.approx(forest)
