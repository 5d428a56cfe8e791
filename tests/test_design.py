from __future__ import annotations

import itertools
from typing import Any

from tuneworth.design import BASELINE, build_arms
from tuneworth.spec import parse_spec

LEVERS: list[Any] = [
    {"optuna": {"trials": 2}},
    "random_oversampling",
    {"model": {"name": "random_forest"}},
    "scaling",
]


def arms(design: str) -> list[Any]:
    spec = parse_spec(
        {"name": "d", "dataset": {"source": "sklearn:iris"}, "levers": LEVERS, "design": design}
    )
    return build_arms(spec)


def test_one_at_a_time_is_baseline_plus_one_arm_per_lever() -> None:
    built = arms("one_at_a_time")
    assert next(a.name for a in built) == BASELINE
    assert [len(a.levers) for a in built] == [0, 1, 1, 1, 1]


def test_ladder_adds_levers_cumulatively_in_family_order() -> None:
    built = arms("ladder")
    assert [a.families for a in built] == [
        (),
        ("data",),
        ("data", "preprocess"),
        ("data", "preprocess", "model"),
        ("data", "preprocess", "model", "tuning"),
    ]
    for before, after in itertools.pairwise(built):
        assert after.levers[: len(before.levers)] == before.levers


def test_factorial_runs_every_subset_of_families_once() -> None:
    built = arms("factorial")
    assert len(built) == 16
    subsets = {frozenset(a.families) for a in built}
    assert len(subsets) == 16
    assert len({a.name for a in built}) == 16
    full = next(a for a in built if len(a.families) == 4)
    assert (
        full.name == "random oversampling + standard scaling + random forest + optuna TPE, 2 trials"
    )


def test_arm_config_leaves_out_settings_that_do_not_act() -> None:
    loaded = parse_spec(
        {
            "name": "config",
            "dataset": {"source": "sklearn:breast_cancer"},
            "levers": [
                {"feature_selection": {"method": "variance", "threshold": 0.1}},
                "grid_search",
                {"random_search": {"trials": 7}},
            ],
            "budget": {"trials": 12},
        }
    )
    baseline, variance, grid, random = (a.config(loaded.baseline, 12) for a in build_arms(loaded))
    for config in (baseline, variance, grid, random):
        assert None not in config.values()
        assert "" not in config.values()
    assert "preprocess.k" not in baseline and "preprocess.variance_threshold" not in baseline
    assert variance["preprocess.variance_threshold"] == 0.1
    assert "preprocess.k" not in variance
    assert variance["lever0.feature_selection.threshold"] == 0.1
    assert "lever0.feature_selection.k" not in variance
    assert grid["lever0.grid_search.trials"] == 12  # the budget it ran with
    assert random["lever0.random_search.trials"] == 7  # its own


def test_the_pipeline_and_the_logged_params_read_one_configuration() -> None:
    from tuneworth.data import Schema
    from tuneworth.design import build_pipeline
    from tuneworth.levers import BuildContext
    from tuneworth.metrics import METRICS

    spec = parse_spec(
        {
            "name": "d",
            "dataset": {"source": "sklearn:iris"},
            "baseline": {"model": "linear", "preprocess": {"scale": "standard"}},
            "levers": [
                "random_oversampling",
                {"model": {"name": "lightgbm"}},
                "scaling",
                "grid_search",
            ],
            "design": "ladder",
        }
    )
    arm = build_arms(spec)[-1]
    configured = arm.configure(spec.baseline)
    schema = Schema(("a", "b"), ())
    ctx = BuildContext(schema, "multiclass", METRICS["accuracy"], 0, 3, 4)
    search = build_pipeline(arm, spec.baseline, ctx)
    steps = dict(search.estimator.steps)
    params = arm.config(spec.baseline, 4)
    # One model, one resolved encoding (lightgbm's native), one scaling, in both.
    assert type(steps["model"].estimator).__name__ == "LGBMClassifier"
    assert params["model"] == configured.model == "lightgbm"
    assert steps["preprocess"].encode == params["preprocess.encode"] == "native"
    assert steps["preprocess"].scale == params["preprocess.scale"] == configured.preprocess.scale
    assert list(steps) == ["random_oversampling_0", "preprocess", "model"]
    assert params["samplers"] == "random_oversampling"
    assert configured.tuning is not None
    assert params["search"] == configured.tuning.name == "grid_search"
