"""The verdicts come out right where the answer is known."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from scipy import stats

from tuneworth.comparison import run_plan
from tuneworth.evaluate import evaluate, make_splits, results_frame
from tuneworth.experiment import plan_experiment
from tuneworth.metrics import METRICS
from tuneworth.spec import Spec, load_spec, parse_spec
from tuneworth.stats import paired, summarise
from tuneworth.verdict import Verdict

ROOT = Path(__file__).resolve().parents[1]
SEARCHES = ["grid_search", "random_search", "optuna", "halving"]
# Small enough for the test run: one repeat of the outer folds, tiny searches.
QUICK = {"cv": {"folds": 5, "repeats": 1, "inner_folds": 2}, "budget": {"trials": 3}}


def scenario(name: str, **changes: Any) -> Spec:
    """A ground-truth spec from pipelines/, with the defects and baseline it declares and
    ``changes`` (fewer folds, fewer levers) on top, so the tests check what the file says."""
    document = yaml.safe_load((ROOT / "pipelines" / f"{name}.yaml").read_text(encoding="utf-8"))
    return parse_spec({**document, **changes}, name)


def run(spec: Spec) -> tuple[Verdict, pd.DataFrame]:
    """The verdict of a spec and its fold table, from the library, without tracking."""
    comparison = run_plan(plan_experiment(spec))
    return comparison.verdict, comparison.results


def gain(verdict: Verdict, arm: str) -> float:
    """The arm's mean improvement over the baseline, positive when better."""
    return float(verdict.summary.set_index("arm").loc[arm, "gain"])


@pytest.mark.slow
def test_two_equivalent_arms_are_called_different_no_more_than_5_percent_of_the_time() -> None:
    """A null experiment: the same learner twice, only its random seed differs.

    Over many seeds (each with new outer splits) the share of 'better' or 'worse' verdicts
    is the false-positive rate; it must not exceed the nominal 5% beyond sampling error.
    The uncorrected t-test on the same folds is counted too, as the contrast.
    """
    from sklearn.datasets import load_breast_cancer
    from sklearn.tree import DecisionTreeClassifier

    data = load_breast_cancer(as_frame=True)
    X, y = data.data, pd.Series(data.target)
    seeds, called, plain = 200, 0, 0
    for seed in range(seeds):
        arms = {
            name: DecisionTreeClassifier(max_features=0.3, min_samples_leaf=5, random_state=k)
            for k, name in enumerate(("baseline", "twin"), start=2 * seed)
        }
        splits = make_splits(y, "binary", folds=5, repeats=2, seed=seed)
        folds = results_frame(list(evaluate(arms, X, y, splits, METRICS["roc_auc"])))
        summary = summarise(folds, ["baseline", "twin"], "baseline").set_index("arm")
        called += summary.loc["twin", "outcome"] != "within noise"
        scores = folds.pivot(index="fold", columns="arm", values="score")
        plain += stats.ttest_1samp(scores["twin"] - scores["baseline"], 0).pvalue < 0.05
    # One-sided: more false positives than a Binomial(200, 0.05) gives 1 time in 1000.
    ceiling = stats.binom.ppf(0.999, seeds, 0.05)
    assert called <= ceiling, f"{called}/{seeds} false positives"
    assert plain > called  # the correction is what keeps the rate down


@pytest.mark.slow
def test_label_noise_filter_beats_every_search_under_20_percent_label_noise(
    one_thread: None,
) -> None:
    spec = scenario("default", **QUICK, levers=["label_noise_filter", *SEARCHES])
    noise = spec.dataset.defects.label_noise
    assert noise is not None and noise.rate == 0.2 and noise.mode == "uniform"
    verdict, _ = run(spec)
    summary = verdict.summary.set_index("arm")
    searches = summary.index[summary["family"] == "tuning"]
    assert len(searches) == 4
    assert summary.loc["label-noise filter", "outcome"] == "better"
    # A gain is positive when better, for log loss too: the whole interval is above zero.
    assert summary.loc["label-noise filter", "ci_low"] > 0
    assert all(gain(verdict, "label-noise filter") > gain(verdict, arm) for arm in searches)


@pytest.mark.slow
def test_scaling_is_significant_for_knn_on_rescaled_columns(one_thread: None) -> None:
    spec = scenario("scale", cv={"folds": 3, "repeats": 1}, levers=[{"scaling": {}}])
    assert spec.dataset.defects.scale is not None
    assert spec.baseline.model == "knn" and spec.baseline.preprocess.scale == "none"
    verdict, _ = run(spec)
    summary = verdict.summary.set_index("arm")
    assert summary.loc["standard scaling", "outcome"] == "better"
    assert summary.loc["standard scaling", "ci_low"] > 0


@pytest.mark.slow
def test_imputation_beats_dropping_incomplete_rows(one_thread: None) -> None:
    knn = {"imputation": {"strategy": "knn", "add_indicator": False}}
    spec = scenario("missing", cv={"folds": 5, "repeats": 2}, levers=["drop_incomplete_rows", knn])
    assert spec.dataset.defects.missing is not None
    verdict, folds = run(spec)
    summary = verdict.summary.set_index("arm")
    # The baseline imputes (median): dropping the incomplete rows instead is worse ...
    assert spec.baseline.preprocess.impute == "median"
    assert summary.loc["drop incomplete rows", "outcome"] == "worse"
    # ... and so it is against another imputation, on the same folds.
    against = paired(folds, "knn imputation", "drop incomplete rows")
    assert against.ci_low > 0


@pytest.mark.slow
def test_no_search_pays_for_a_random_forest_on_clean_data(one_thread: None) -> None:
    # A smaller forest only to keep the test fast; the spec's forest has 100 trees.
    baseline = {"model": "random_forest", "params": {"n_estimators": 15}}
    spec = scenario("clean", **QUICK, baseline=baseline, levers=SEARCHES)
    assert not spec.dataset.defects.any()
    verdict, _ = run(spec)
    summary = verdict.summary.set_index("arm")
    searches = summary[summary["family"] == "tuning"]
    assert len(searches) == 4
    assert ((searches["ci_low"] <= 0) & (searches["ci_high"] >= 0)).all(), searches
    assert set(searches["outcome"]) == {"within noise"}


@pytest.mark.slow
def test_non_nested_best_cv_score_of_a_tuned_svm_is_optimistic(one_thread: None) -> None:
    """The best CV score of a search over every row flatters the configuration it picks;
    the nested outer score does not (pipelines/nested.yaml, benchmarks/nested.py).

    Three outer folds, so that the nested models train on as many rows (100) as the
    non-nested search's inner ones: a learning-curve gap cannot pass for optimism.
    """
    from sklearn.base import clone

    from tuneworth.trials import search_outcome

    cv = {"folds": 3, "repeats": 1, "inner_folds": 3}
    plan = plan_experiment(scenario("nested", cv=cv, levers=["grid_search"]))
    search = plan.pipelines["grid search"]
    X, y = plan.dataset.X, plan.dataset.y
    outer = results_frame(list(evaluate({"grid search": search}, X, y, plan.splits, plan.metric)))
    nested = outer["score"].mean()
    non_nested = search_outcome(clone(search).fit(X, y), True)["inner_best_score"]
    assert plan.spec.baseline.model == "svm" and len(y) == 150
    assert plan.spec.budget.trials >= 16  # the optimism grows with the configurations tried
    assert non_nested > nested
    # tuneworth's optimism_gap: the same comparison inside each outer fold, on average.
    assert (outer["inner_best_score"] - outer["score"]).mean() > 0


@pytest.mark.parametrize("path", sorted((ROOT / "pipelines").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_spec_in_pipelines_plans_and_a_scenario_states_its_truth(path: Path) -> None:
    plan = plan_experiment(load_spec(path))
    assert len(plan.arms) > 1
    if plan.spec.dataset.defects.any() or path.stem in ("clean", "nested"):
        assert "Known truth:" in path.read_text(encoding="utf-8").split("\nname:")[0]


@pytest.mark.slow
def test_calendar_features_beat_the_raw_date_and_tuning_does_not(one_thread: None) -> None:
    spec = scenario("dates", **QUICK, levers=["date_features", "random_search"])
    assert spec.baseline.preprocess.dates == "elapsed"
    verdict, _ = run(spec)
    summary = verdict.summary.set_index("arm")
    assert summary.loc["calendar date features", "outcome"] == "better"
    assert gain(verdict, "calendar date features") > 0.15
    assert summary.loc["random search", "outcome"] == "within noise"


@pytest.mark.slow
def test_reading_reviews_as_text_beats_one_hot_and_tuning(one_thread: None) -> None:
    spec = scenario("text", **QUICK)
    assert spec.dataset.roles == {"review": "categorical"}
    verdict, _ = run(spec)
    summary = verdict.summary.set_index("arm")
    assert summary.loc["roles: review as text", "outcome"] == "better"
    assert gain(verdict, "roles: review as text") > 0.3
    for search in ("random search", "optuna TPE"):
        assert summary.loc[search, "outcome"] == "within noise"


@pytest.mark.slow
def test_tuning_lightgbm_on_clean_data_buys_little_next_to_a_label_defect(
    one_thread: None,
) -> None:
    quick = {"cv": {"folds": 5, "repeats": 1, "inner_folds": 2}, "budget": {"trials": 5}}
    clean = scenario("boosting", **quick, levers=["random_search"])
    verdict, folds = run(clean)
    assert verdict.summary.set_index("arm").loc["random search", "outcome"] == "within noise"
    document = yaml.safe_load((ROOT / "pipelines" / "boosting.yaml").read_text("utf-8"))
    noisy_dataset = {**document["dataset"], "defects": {"label_noise": {"rate": 0.2}}}
    noisy = scenario("boosting", **quick, dataset=noisy_dataset, levers=["label_noise_filter"])
    _, noisy_folds = run(noisy)
    baseline = folds[folds["arm"] == "baseline"].set_index("fold")["score"]
    damaged = noisy_folds[noisy_folds["arm"] == "baseline"].set_index("fold")["score"]
    cost_of_defect = float((baseline - damaged).mean())  # same outer folds: paired
    assert cost_of_defect > 0.05
    assert cost_of_defect > 3 * abs(gain(verdict, "random search"))
