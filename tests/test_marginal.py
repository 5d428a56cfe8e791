"""Marginal gains: tuning-budget and data-size curves, what they say, and what they cost."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from support import fold_table, noise

from tuneworth import CV, compare
from tuneworth.comparison import Comparison, measure_marginal
from tuneworth.evaluate import FoldResult, Split, fit_and_score, fold_results, results_frame
from tuneworth.levers import GridSearch, Halving, Optuna, RandomSearch, Scaling
from tuneworth.marginal import (
    CONCAVE,
    MORE_DATA,
    NOT_CONCAVE,
    NOT_MONOTONE,
    TUNING_BUDGET,
    Subsample,
    budget_cpu,
    budget_steps,
    chosen_after,
    row_order,
    summarise,
)
from tuneworth.metrics import resolve_metric

# --- what a search would have chosen after k trials ------------------------------------------


def test_the_budget_steps_halve_from_the_budget_so_the_last_step_is_a_doubling() -> None:
    assert budget_steps(20) == [1, 2, 3, 5, 10, 20]
    assert budget_steps(8) == [1, 2, 4, 8]
    assert budget_steps(5) == [1, 2, 3, 5]
    assert budget_steps(1) == [1]


def test_the_choice_after_k_trials_is_the_best_so_far_first_of_equals() -> None:
    trials = pd.DataFrame(
        {
            "trial": [0, 1, 2, 3, 4, 5],
            "comparable": True,
            "state": ["complete", "fail", "complete", "complete", "complete", "complete"],
            "score": [0.80, math.nan, 0.85, 0.85, 0.84, 0.90],
        }
    )
    # Trial 3 ties trial 2: the first of equals stays, as in the searches themselves.
    assert chosen_after(trials, [1, 2, 3, 4, 5, 6]) == [0, 0, 2, 2, 2, 5]


def test_the_choice_skips_failed_and_non_comparable_trials_and_follows_the_orientation() -> None:
    trials = pd.DataFrame(
        {
            "trial": [0, 1, 2, 3],
            "comparable": [True, False, True, True],
            "state": ["fail", "complete", "complete", "complete"],
            "score": [math.nan, 0.1, 0.5, 0.3],  # an RMSE, as a fold result holds it
        }
    )
    assert chosen_after(trials, [1, 2, 3, 4]) == [None, None, 2, 2]
    assert chosen_after(trials, [1, 2, 3, 4], sign=-1.0) == [None, None, 2, 3]


def test_a_k_trial_search_costs_its_first_k_trials_and_one_refit_pro_rata() -> None:
    trials = pd.DataFrame({"trial": range(4), "fit_seconds": [1.0, 2.0, 3.0, 2.0]})
    # Inner folds 3: a refit costs half a trial's summed inner fits. Whole search: 8 + 1.5.
    cpu = budget_cpu(trials, [1, 2, 4], [0, 1, 2], cpu_seconds=19.0, inner_folds=3)
    assert cpu == pytest.approx([19.0 * 1.5 / 9.5, 19.0 * 4.0 / 9.5, 19.0])


# --- the curve of a fitted search ---------------------------------------------------------------


@pytest.fixture(scope="module")
def cancer() -> tuple[pd.DataFrame, pd.Series, Split, Any]:
    from sklearn.datasets import load_breast_cancer

    from tuneworth.evaluate import make_splits

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    split = make_splits(y, "binary", 3, 1, 0)[0]
    return X, y, split, resolve_metric("roc_auc", "binary")


def _plan(levers: list[Any], trials: int = 8) -> Any:
    from sklearn.datasets import load_breast_cancer

    from tuneworth.data import frame_dataset
    from tuneworth.planning import build_plan
    from tuneworth.spec import parse_spec

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    spec = parse_spec(
        {
            "name": "curves",
            "dataset": {"source": "DataFrame"},
            "cv": {"folds": 3, "repeats": 1, "inner_folds": 2},
            "levers": levers,
            "budget": {"trials": trials},
            "seed": 1,
        }
    )
    frame = pd.concat([X, y.rename("target")], axis=1)
    return build_plan(spec, frame_dataset(frame, "target", "auto", source="DataFrame"))


@pytest.mark.usefixtures("one_thread")
@pytest.mark.parametrize("lever", ["random_search", {"optuna": {"sampler": "tpe"}}])
def test_a_sequential_search_refits_only_where_its_choice_changes(
    lever: Any, cancer: tuple[Any, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tuneworth.metrics import Metric

    X, y, split, metric = cancer
    plan = _plan([lever])
    arm = plan.arms[1].name
    plain = fit_and_score(arm, plan.pipelines[arm], X, y, split, metric)
    scored: list[Any] = []
    real_score = Metric.score

    def counting(self: Metric, estimator: Any, X: Any, y: Any) -> float:
        scored.append(estimator)
        return real_score(self, estimator, X, y)

    monkeypatch.setattr(Metric, "score", counting)
    result = fit_and_score(arm, plan.pipelines[arm], X, y, split, metric, curves=True)
    # The arm itself is what it is without the curve.
    assert result.score == plain.score
    assert result.best_params == plain.best_params
    assert result.n_fits == plain.n_fits
    steps = [k for k, _, _ in result.curve]
    assert steps == [1, 2, 4, 8]
    chosen = chosen_after(result.trials, steps, metric.sign)
    # The search's own choice reuses its outer score; the cost at the budget is the arm's.
    assert chosen[-1] is not None
    assert result.curve[-1][1] == result.score
    assert result.curve[-1][2] == pytest.approx(result.fit_cpu_seconds)
    costs = [cpu for _, _, cpu in result.curve]
    assert costs == sorted(costs)
    changes = {c for i, c in enumerate(chosen) if c != chosen[-1] and c not in chosen[:i]}
    # One score is the arm's own; every other is a refit of the curve.
    assert len(scored) - 1 == len(changes) and changes <= set(chosen)
    for (_, score, _), choice in zip(result.curve, chosen, strict=True):
        if choice == chosen[-1]:
            assert score == result.score


@pytest.mark.usefixtures("one_thread")
@pytest.mark.parametrize("lever", ["grid_search", "halving"])
def test_grid_search_and_halving_get_no_budget_curve(lever: str, cancer: tuple[Any, ...]) -> None:
    X, y, split, metric = cancer
    plan = _plan([lever], trials=4)
    arm = plan.arms[1].name
    assert fit_and_score(arm, plan.pipelines[arm], X, y, split, metric, curves=True).curve == ()


def test_a_curve_survives_the_fold_table_round_trip() -> None:
    result = FoldResult(
        arm="random search, 4 trials",
        fold=2,
        repeat=0,
        score=0.91,
        fit_seconds=1.0,
        fit_cpu_seconds=0.9,
        predict_seconds=0.01,
        n_fits=9,
        n_train=400,
        n_test=100,
        curve=((1, 0.88, 0.3), (2, math.nan, 0.5), (4, 0.91, 0.9)),
    )
    plain = replace(result, arm="baseline", curve=())
    frame = results_frame([result, plain])
    back = {r.arm: r for r in fold_results(frame)}
    assert back["random search, 4 trials"].curve[0] == (1, 0.88, 0.3)
    assert math.isnan(back["random search, 4 trials"].curve[1][1])
    assert back["random search, 4 trials"].curve[2] == (4, 0.91, 0.9)
    assert back["baseline"].curve == ()
    # A store written before curves existed has no column: no curve, no error.
    assert fold_results(frame.drop(columns="curve"))[0].curve == ()


# --- which rows a data-size point trains on -----------------------------------------------------


def test_data_size_subsamples_nest_hold_every_class_and_pair_across_arms() -> None:
    y = np.array(["common"] * 180 + ["rare"] * 12 + ["mid"] * 48)
    keep = {f: Subsample(f, seed=7, per_class=3).positions(y, fold=1) for f in (0.125, 0.25, 0.5)}
    assert [len(k) for k in keep.values()] == [30, 60, 120]
    assert set(keep[0.125]) <= set(keep[0.25]) <= set(keep[0.5])
    assert all((y[k] == "rare").sum() >= 3 for k in keep.values())
    # Spread evenly: a half holds about half of every class.
    assert (y[keep[0.5]] == "mid").sum() == pytest.approx(24, abs=3)
    # The same rows for every arm (seed and fold alone decide), others on another fold.
    assert np.array_equal(keep[0.25], Subsample(0.25, seed=7, per_class=3).positions(y, fold=1))
    assert not np.array_equal(keep[0.25], Subsample(0.25, seed=7, per_class=3).positions(y, 2))


def test_a_regression_subsample_is_a_seeded_prefix() -> None:
    y = np.linspace(0, 1, 100)
    order = row_order(y, seed=0, fold=0, stratify=False)
    assert sorted(order) == list(range(100))
    assert np.array_equal(Subsample(0.25, 0, stratify=False).positions(y, 0), np.sort(order[:25]))


def test_on_a_tiny_fold_fractions_that_round_to_the_same_rows_give_one_point() -> None:
    from tuneworth.marginal import data_points

    def fold(arm: str, score: float) -> FoldResult:
        return FoldResult(arm, 0, 0, score, 0.1, 0.1, 0.0, 1, 4, 2)

    # 4 training rows: 1/8 and 1/4 are both one row, 1/2 two.
    subsampled = [(0.125, fold("baseline", 0.5)), (0.25, fold("baseline", 0.6))]
    subsampled.append((0.5, fold("baseline", 0.7)))
    points = data_points(subsampled, [fold("baseline", 0.8)], rows=4)
    assert points[["step", "score"]].to_numpy().tolist() == [[1, 0.6], [2, 0.7], [4, 0.8]]


# --- what the points say ------------------------------------------------------------------------

ROWS = (100, 200, 400, 800)


def _data_curve(
    arm_scores: dict[int, np.ndarray], base: np.ndarray, folds: int = 10
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Raw data-size points of the baseline (its whole-fold scores ``base`` at the last
    step) and the fold table they pair with."""
    points = pd.DataFrame(
        [
            {
                "family": MORE_DATA,
                "arm": "baseline",
                "fold": fold,
                "step": step,
                "score": float(scores[fold]),
                "cpu_seconds": step / 1000,
            }
            for step, scores in arm_scores.items()
            for fold in range(folds)
        ]
    )
    return points, fold_table({"baseline": (base, 1.0)}, folds=folds, n_train=800, n_test=200)


def test_a_power_law_curve_is_concave_and_extrapolated_by_its_exponent(
    rng: np.random.Generator,
) -> None:
    law = {n: 0.95 - 2.0 * n**-0.5 for n in ROWS}
    fold_effect = rng.normal(0, 0.01, 10)  # folds differ; the curve's shape does not
    scores = {n: law[n] + fold_effect + noise(rng, 0.002) for n in ROWS}
    points, results = _data_curve(scores, scores[800])
    marginal = summarise(points, results, unit="ROC-AUC")
    (step,) = marginal.steps.to_dict("records")
    assert (step["from_step"], step["to_step"], step["shape"]) == (400, 800, CONCAVE)
    assert step["exponent"] == pytest.approx(0.5, abs=0.1)
    factor = 2 ** -step["exponent"]
    assert step["next_gain"] == pytest.approx(factor * step["gain"])
    assert (step["next_low"], step["next_high"]) == pytest.approx(
        (factor * step["ci_low"], factor * step["ci_high"])
    )
    assert step["per_1000_rows"] == pytest.approx(step["next_gain"] / 800 * 1000)
    # The true next doubling, 800 -> 1600 rows, is inside the extrapolated interval.
    truth = 2.0 * 800**-0.5 - 2.0 * 1600**-0.5
    assert step["next_low"] < truth < step["next_high"]
    assert marginal.sentence.startswith("More data pays: doubling the training rows (+800)")
    curve = marginal.curves.set_index("step")
    assert list(curve.index) == list(ROWS)
    assert curve.loc[800, "gain"] == 0.0  # the baseline on all its rows is the reference
    assert curve.loc[100, "gain"] == pytest.approx(law[100] - law[800], abs=0.003)
    assert curve.loc[100, "ci_high"] < 0


def test_the_sentence_speaks_of_the_best_arms_curve_not_the_baselines(
    rng: np.random.Generator,
) -> None:
    fold_effect = rng.normal(0, 0.01, 10)
    steep = {n: 0.95 - 2.0 * n**-0.5 + fold_effect + noise(rng, 0.002) for n in ROWS}
    flat = {n: 0.80 + fold_effect + noise(rng, 0.002) for n in ROWS}
    best, results = _data_curve(steep, flat[800])
    base, _ = _data_curve(flat, flat[800])
    # "a model" sorts before "baseline", and its rows come first: neither decides.
    points = pd.concat([best.assign(arm="a model"), base], ignore_index=True)
    marginal = summarise(points, results, unit="ROC-AUC")
    assert list(marginal.steps["arm"]) == ["a model", "baseline"]
    assert marginal.sentence.startswith("More data pays: doubling the training rows (+800)")
    assert " to a model (+" in marginal.sentence and " per 1,000 rows)" in marginal.sentence


def test_a_clear_drop_is_not_monotone_and_is_not_extrapolated(rng: np.random.Generator) -> None:
    means = {100: 0.80, 200: 0.85, 400: 0.90, 800: 0.86}
    scores = {n: m + noise(rng, 0.004) for n, m in means.items()}
    marginal = summarise(*_data_curve(scores, scores[800]))
    (step,) = marginal.steps.to_dict("records")
    assert step["shape"] == NOT_MONOTONE
    assert math.isnan(step["next_gain"]) and math.isnan(step["per_1000_rows"])
    assert "not monotone" in marginal.sentence and "not extrapolated" in marginal.sentence


def test_a_clear_speed_up_is_not_concave(rng: np.random.Generator) -> None:
    means = {100: 0.70, 200: 0.71, 400: 0.72, 800: 0.82}
    scores = {n: m + noise(rng, 0.004) for n, m in means.items()}
    (step,) = summarise(*_data_curve(scores, scores[800])).steps.to_dict("records")
    assert step["shape"] == NOT_CONCAVE
    assert math.isnan(step["next_gain"])


def test_noise_alone_is_not_flagged_as_a_bad_shape() -> None:
    flagged = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        scores = {n: 0.9 + rng.normal(0, 0.01, 10) for n in ROWS}
        (step,) = summarise(*_data_curve(scores, scores[800])).steps.to_dict("records")
        flagged += step["shape"] != CONCAVE
        assert step["outcome"] == "within noise" or seed != 0
    # Holm-adjusted tests at 5%: a flat, noisy curve is flagged at most that often.
    assert flagged <= 2


def test_a_flat_tuning_curve_says_stop_tuning(rng: np.random.Generator) -> None:
    base = 0.90 + noise(rng, 0.01)
    arm = "random search, 8 trials"
    points = pd.DataFrame(
        [
            {
                "family": TUNING_BUDGET,
                "arm": arm,
                "fold": fold,
                "step": k,
                "score": base[fold] + 0.01 + rng.normal(0, 0.002),
                "cpu_seconds": k * 0.5,
            }
            for k in (1, 2, 4, 8)
            for fold in range(10)
        ]
    )
    results = fold_table({"baseline": (base, 1.0)}, n_train=800, n_test=200)
    marginal = summarise(points, results, unit="ROC-AUC")
    (step,) = marginal.steps.to_dict("records")
    assert (step["from_step"], step["to_step"], step["outcome"]) == (4, 8, "within noise")
    assert step["extra_cpu_seconds"] == pytest.approx(2.0)
    assert marginal.curves["gain"].iloc[0] == pytest.approx(0.01, abs=0.002)
    assert marginal.sentence.startswith("More tuning is not shown to pay: the last doubling")
    detect = f"{step['detectable']:.3f}"
    assert marginal.sentence.endswith(f"inside the noise (could detect ≥ {detect}): stop tuning.")


def test_a_loss_metric_counts_a_lower_score_as_a_gain(rng: np.random.Generator) -> None:
    law = {n: 0.2 + 3.0 * n**-0.5 for n in ROWS}  # a loss that falls with more rows
    fold_effect = rng.normal(0, 0.01, 10)
    scores = {n: law[n] + fold_effect + noise(rng, 0.002) for n in ROWS}
    (step,) = summarise(*_data_curve(scores, scores[800]), sign=-1.0).steps.to_dict("records")
    assert step["gain"] > 0 and step["next_gain"] > 0 and step["shape"] == CONCAVE


# --- in a run ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small() -> tuple[pd.DataFrame, pd.Series]:
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=300, n_features=8, n_informative=4, random_state=0)
    return pd.DataFrame(X).add_prefix("x"), pd.Series(y, name="y")


LEVERS = [
    Scaling(method="standard"),
    RandomSearch(trials=4),
    GridSearch(trials=4),
    Halving(trials=4),
]


@pytest.fixture(scope="module")
def with_curves(small: tuple[pd.DataFrame, pd.Series]) -> Comparison:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return compare(*small, levers=LEVERS, cv=CV(folds=3, repeats=1, inner_folds=2), seed=4)


def test_a_comparison_carries_both_curves_and_says_what_pays(with_curves: Comparison) -> None:
    marginal = with_curves.marginal
    assert marginal is not None
    folds = marginal.folds
    tuning = folds[folds["family"] == TUNING_BUDGET]
    assert set(tuning["arm"]) == {"random search, 4 trials"}
    assert sorted(set(tuning["step"])) == [1, 2, 4]
    data = folds[folds["family"] == MORE_DATA]
    best = with_curves.verdict.best
    assert set(data["arm"]) == {"baseline"} | {best}
    assert sorted(set(data["step"])) == [25, 50, 100, 200]
    assert len(data) == len(set(data["arm"])) * 3 * 4
    # The whole fold is the arm's own result, reused.
    full = data[data["step"] == 200].set_index(["arm", "fold"])["score"].sort_index()
    own = with_curves.results.set_index(["arm", "fold"])["score"].loc[full.index]
    assert full.tolist() == own.tolist()
    assert with_curves.verdict.sentences[-1] == marginal.sentence
    assert "stop tuning" in marginal.sentence or "tuning pay" in marginal.sentence
    assert any("Grid search has no tuning-budget curve" in n for n in marginal.notes)
    assert any("Successive halving has no tuning-budget curve" in n for n in marginal.notes)


@pytest.mark.slow
def test_curves_off_does_no_extra_work_and_leaves_the_arms_as_they_are(
    small: tuple[pd.DataFrame, pd.Series],
    with_curves: Comparison,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from threadpoolctl import threadpool_limits

    from tuneworth import comparison

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a data-size fit ran with curves off")

    monkeypatch.setattr(comparison, "evaluate_tasks", refuse)
    with threadpool_limits(limits=1):
        off = compare(
            *small, levers=LEVERS, cv=CV(folds=3, repeats=1, inner_folds=2), seed=4, curves=False
        )
    assert off.marginal is None
    assert (off.results["curve"] == "").all()
    assert len(off.verdict.sentences) == len(with_curves.verdict.sentences) - 1
    columns = ["arm", "fold", "score", "n_fits", "inner_best_score"]
    pd.testing.assert_frame_equal(off.results[columns], with_curves.results[columns])


class _Watching:
    inner = False

    def __init__(self) -> None:
        self.said: list[str] = []
        self.done: list[int] = []

    def begin(self, pending: Any, total: int) -> None:
        pass

    def fold_done(self, done: int, total: int, result: Any) -> None:
        pass

    def inner_scored(self) -> None:
        pass

    def curves_begin(self, what: str, total: int) -> None:
        self.said.append(f"{what} ({total})")

    def curve_done(self, done: int, total: int, label: str) -> None:
        self.done.append(done)


def test_data_size_fits_that_would_pass_the_deadline_are_left_out_with_a_note(
    with_curves: Comparison,
) -> None:
    bare = replace(with_curves, marginal=None)
    watching = _Watching()
    late = measure_marginal(bare, deadline=time.time() + 0.01, progress=watching)
    assert late.marginal is not None
    assert set(late.marginal.folds["family"]) == {TUNING_BUDGET}
    assert any(n.startswith("Data-size curves left out (") for n in late.marginal.notes)
    assert watching.said == []


def test_the_progress_is_told_what_the_data_size_fits_are(with_curves: Comparison) -> None:
    watching = _Watching()
    arms = {"baseline", with_curves.verdict.best}
    again = measure_marginal(replace(with_curves, marginal=None), progress=watching)
    assert watching.said == [
        f"data-size curves: {' and '.join(dict.fromkeys(['baseline', with_curves.verdict.best]))}"
        f" on 1/8, 1/4 and 1/2 of every training fold ({len(arms) * 3 * 3})"
    ]
    assert watching.done == list(range(1, len(arms) * 9 + 1))
    assert again.marginal is not None
    assert with_curves.marginal is not None
    scores = ["family", "arm", "fold", "step", "score"]  # the same fits, timed again
    pd.testing.assert_frame_equal(again.marginal.folds[scores], with_curves.marginal.folds[scores])


# --- ground truth ------------------------------------------------------------------------------


def _generated(rows: int, **shape: Any) -> tuple[pd.DataFrame, pd.Series]:
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=rows, random_state=0, **shape)
    return pd.DataFrame(X).add_prefix("x"), pd.Series(y, name="y")


@pytest.mark.usefixtures("one_thread")
def test_ground_truth_a_tenth_of_the_rows_makes_more_data_the_clear_winner() -> None:
    # A non-linear problem of 20,000 rows for a nearest-neighbours model, cut to its first
    # tenth; the other rows are the truth the estimate is checked against.
    X, y = _generated(
        20_000, n_features=20, n_informative=10, n_redundant=0, n_clusters_per_class=4
    )
    tenth = compare(
        X[:2000],
        y[:2000],
        baseline="knn",
        levers=[RandomSearch(trials=4)],
        cv=CV(folds=5, repeats=1),
    )
    assert tenth.marginal is not None
    data = tenth.marginal.steps.set_index("arm").loc["baseline"]
    assert (data["family"], data["shape"], data["to_step"]) == (MORE_DATA, CONCAVE, 1600)
    assert data["next_low"] > 0, data
    assert tenth.marginal.sentence.startswith("More data pays most: doubling the training rows")
    # And it does: the baseline on 3,200 rows instead of 1,600, scored on 10,000 unseen rows,
    # gains what the interval says.
    from sklearn.base import clone

    model = tenth.refit("baseline")
    unseen = X[10_000:], y[10_000:]
    scores = [
        tenth.plan.metric.score(clone(model).fit(X[:rows], y[:rows]), *unseen)
        for rows in (1600, 3200)
    ]
    assert data["next_low"] < scores[1] - scores[0] < data["next_high"]


@pytest.mark.usefixtures("one_thread")
def test_ground_truth_on_saturated_data_more_data_buys_nothing() -> None:
    X, y = _generated(
        4000, n_features=5, n_informative=2, n_redundant=0, n_clusters_per_class=1, class_sep=2.0
    )
    result = compare(X, y, cv=CV(folds=5, repeats=1))
    assert result.marginal is not None
    (data,) = result.marginal.steps.to_dict("records")
    assert (data["family"], data["outcome"]) == (MORE_DATA, "within noise")
    assert abs(data["gain"]) < 0.002
    assert result.marginal.sentence.startswith("More data is not shown to pay")


@pytest.mark.slow
@pytest.mark.usefixtures("one_thread")
@pytest.mark.parametrize("search", [RandomSearch(trials=8), Optuna(trials=8, sampler="random")])
def test_ground_truth_a_clean_random_forest_needs_no_tuning(search: Any) -> None:
    X, y = _generated(400, n_features=10, n_informative=5)
    result = compare(
        X,
        y,
        baseline={"model": "random_forest", "params": {"n_estimators": 20}},
        levers=[search],
        cv=CV(folds=5, repeats=1, inner_folds=2),
    )
    assert result.marginal is not None
    steps = result.marginal.steps.set_index("family")
    tuning = steps.loc[TUNING_BUDGET]
    assert tuning["outcome"] == "within noise"
    curve = result.marginal.curves
    flat = curve[curve["family"] == TUNING_BUDGET]
    # Flat from the first trials: no point of the curve is beyond the noise of the baseline.
    assert ((flat["ci_low"] <= 0) & (flat["ci_high"] >= 0)).all(), flat
    assert "stop tuning" in result.marginal.sentence


# --- the switch, and what a time budget plans for ------------------------------------------


def test_the_curves_key_changes_neither_the_digest_nor_the_document_at_its_default() -> None:
    from support import TINY

    from tuneworth.spec import parse_spec

    plain = parse_spec(TINY)
    assert plain.curves is True
    off = parse_spec({**TINY, "curves": False})
    assert plain.digest() == off.digest()  # the arms' results are the same either way
    assert "curves" not in plain.to_document()
    assert off.to_document()["curves"] is False
    assert parse_spec(off.to_document()).curves is False


def test_tuneworth_run_takes_no_curves() -> None:
    from tuneworth.cli import _parser

    assert _parser().parse_args(["run", "spec.yaml", "--no-curves"]).curves is False
    assert _parser().parse_args(["run", "spec.yaml"]).curves is True


def test_a_time_budget_plans_a_refit_per_point_of_a_searchs_curve() -> None:
    from tuneworth.budget import ArmCost, fold_seconds

    plain = ArmCost("random search", 1.0, searches=True, train_share=0.8)
    curved = ArmCost("random search", 1.0, searches=True, train_share=0.8, curve=True)
    # 20 trials: points at 1, 2, 3, 5, 10 and 20 trials, the last one the search's own.
    extra = fold_seconds(curved, 5, 20, 3) - fold_seconds(plain, 5, 20, 3)
    assert extra == pytest.approx(5 * fold_seconds(ArmCost("baseline", 1.0), 5, 20, 3))


def test_a_cli_user_is_told_what_the_data_size_fits_are_and_when_they_end(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tuneworth.cli import _Progress

    progress = _Progress(3, tty=False)
    progress.begin(["baseline"], 1)
    progress.curves_begin("data-size curves: baseline on 1/8, 1/4 and 1/2 of every fold", 6)
    for done in range(1, 7):
        progress.curve_done(done, 6, "baseline on 1/8 of the rows")
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "data-size curves: baseline on 1/8, 1/4 and 1/2 of every fold: 6 fits"
    assert lines[-1].startswith("progress: 6/6 curve fits, ")


def test_the_data_size_line_fits_a_narrow_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tuneworth.cli import _Progress

    monkeypatch.setenv("COLUMNS", "60")
    progress = _Progress(3, tty=False)
    what = "data-size curves: baseline and histogram gradient boosting on 1/8, 1/4 and 1/2"
    progress.curves_begin(what, 60)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) > 1 and all(len(line) <= 60 for line in lines)
    assert " ".join(line.strip() for line in lines) == f"{what}: 60 fits"
    assert lines[-1].endswith(" 60 fits")  # the count keeps its unit


def _step(family: str, arm: str, gain: float, low: float, high: float, **more: Any) -> dict:
    outcome = "within noise" if low <= 0 <= high else ("better" if gain > 0 else "worse")
    row = {
        "family": family,
        "arm": arm,
        "from_step": 10 if family == TUNING_BUDGET else 800,
        "to_step": 20 if family == TUNING_BUDGET else 1600,
        "gain": gain,
        "ci_low": low,
        "ci_high": high,
        "outcome": outcome,
        "extra_cpu_seconds": 12.0,
        "shape": "" if family == TUNING_BUDGET else CONCAVE,
        "next_gain": math.nan,
        "next_low": math.nan,
        "next_high": math.nan,
        "per_1000_rows": math.nan,
    }
    return {**row, **more}


def test_the_sentence_weighs_tuning_against_data() -> None:
    from tuneworth.marginal import sentence

    more_rows = {"next_gain": 0.02, "next_low": 0.008, "next_high": 0.032, "per_1000_rows": 0.0125}
    pays = _step(MORE_DATA, "baseline", 0.03, 0.01, 0.05, **more_rows)
    flat = _step(MORE_DATA, "baseline", 0.0, -0.01, 0.01)
    tunes = _step(TUNING_BUDGET, "random search", 0.02, 0.005, 0.035)
    stuck = _step(TUNING_BUDGET, "random search", 0.0, -0.004, 0.004)
    hurts = _step(TUNING_BUDGET, "random search", -0.02, -0.03, -0.01)

    def say(*rows: dict) -> str:
        return sentence(pd.DataFrame(list(rows)), "ROC-AUC")

    assert say(tunes, pays).startswith("Both more data and more tuning pay: doubling the")
    assert say(tunes, flat).startswith(
        "More tuning pays most: the last doubling of tuning (10 to 20 trials) added +0.020 "
        "ROC-AUC [+0.005, +0.035] for 12 more CPU s per fold, beyond the noise"
    )
    assert say(stuck, pays) == (
        "More data pays most: doubling the training rows (+1,600) is estimated to add +0.020 "
        "ROC-AUC [+0.008, +0.032] (+0.013 per 1,000 rows); the last doubling of tuning (10 to "
        "20 trials) added 0.000 ROC-AUC [-0.004, +0.004], inside the noise: stop tuning."
    )
    assert say(hurts).endswith("a loss beyond the noise: stop tuning.")
    assert say(stuck, flat).startswith("Neither more data nor more tuning is shown to pay")
