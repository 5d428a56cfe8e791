"""The verdicts come out right where the answer is known."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats

from tuneworth.evaluate import evaluate, make_splits, results_frame
from tuneworth.metrics import METRICS
from tuneworth.stats import summarise


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
