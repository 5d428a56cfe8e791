"""Data and preprocessing levers in specs: validated on load, built into the right step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tuneworth.comparison import run_plan
from tuneworth.design import build_arms
from tuneworth.errors import TuneworthError
from tuneworth.experiment import plan_experiment
from tuneworth.levers import LEVERS, DataLever, PreprocessLever
from tuneworth.spec import parse_spec

DATA_LEVERS = [name for name, cls in LEVERS.items() if issubclass(cls, DataLever)]
CLASSIFICATION_DATA_LEVERS = [
    name for name in DATA_LEVERS if "binary" in getattr(LEVERS[name], "tasks", ())
]
PREPROCESS_LEVERS = [name for name, cls in LEVERS.items() if issubclass(cls, PreprocessLever)]


def spec(levers: list[Any], **overrides: Any) -> dict[str, Any]:
    return {
        "name": "t",
        "dataset": {"source": "sklearn:iris"},
        "cv": {"folds": 2, "repeats": 1, "inner_folds": 2},
        "levers": levers,
        **overrides,
    }


def error(document: dict[str, Any]) -> str:
    with pytest.raises(TuneworthError) as caught:
        parse_spec(document)
    return str(caught.value)


def test_every_lever_of_the_issue_is_registered() -> None:
    assert set(DATA_LEVERS) == {
        "label_noise_filter",
        "target_noise_filter",
        "outlier_filter",
        "duplicate_filter",
        "drop_incomplete_rows",
        "noise_injection",
        "mixup",
        "random_oversampling",
        "smote",
        "text_augmentation",
    }
    assert set(PREPROCESS_LEVERS) == {
        "scaling",
        "imputation",
        "encoding",
        "feature_selection",
        "date_features",
        "roles",
    }


@pytest.mark.parametrize(
    ("typo", "name"),
    [
        ("label_noise", "label_noise_filter"),
        ("smot", "smote"),
        ("mix_up", "mixup"),
        ("noise_injections", "noise_injection"),
        ("outlier_filters", "outlier_filter"),
        ("duplicates_filter", "duplicate_filter"),
        ("encodings", "encoding"),
        ("feature_selecton", "feature_selection"),
    ],
)
def test_an_unknown_lever_suggests_the_closest_name(typo: str, name: str) -> None:
    assert f"unknown lever '{typo}' (did you mean '{name}'?)" in error(spec([typo]))


@pytest.mark.parametrize(
    ("lever", "message"),
    [
        ({"label_noise_filter": {"threshold": 1.5}}, "levers.0.label_noise_filter.threshold"),
        ({"label_noise_filter": {"folds": 1}}, "folds: Input should be greater than or equal"),
        (
            {"label_noise_filter": {"model": "random_forrest"}},
            "model: unknown model 'random_forrest' (did you mean 'random_forest'?)",
        ),
        (
            {"smote": {"k_neighbours": 3}},
            "levers.0.smote.k_neighbours: unknown key (did you mean 'k_neighbors'?)",
        ),
        ({"noise_injection": {"copies": 0}}, "copies: Input should be greater than or equal"),
        ({"outlier_filter": {"contamination": 0.1}}, "contamination does not apply to method iqr"),
        (
            {"outlier_filter": {"method": "isolation_forest", "threshold": 2}},
            "threshold does not apply to method isolation_forest",
        ),
        ({"encoding": {"min_frequency": 5}}, "target encoding already shrinks them"),
        ({"feature_selection": {"method": "variance", "k": 3}}, "k does not apply to method"),
        ({"scaling": {"method": "minmax"}}, "'standard', 'robust', 'quantile' or 'power'"),
        ({"imputation": {"strategy": "mice"}}, "'knn' or 'iterative'"),
    ],
)
def test_lever_parameters_are_validated_when_the_spec_loads(lever: Any, message: str) -> None:
    assert message in error(spec([lever]))


def test_indicators_without_imputation_are_refused_in_the_baseline() -> None:
    document = spec([], baseline={"preprocess": {"impute": "none", "add_indicator": True}})
    assert error(document) == (
        "spec: baseline.preprocess: add_indicator needs an imputer: set impute to a strategy"
    )


def test_levers_describe_themselves_for_the_table() -> None:
    loaded = parse_spec(
        spec(
            [
                "label_noise_filter",
                {"label_noise_filter": {"model": "knn", "threshold": 0.2}},
                "outlier_filter",
                {"outlier_filter": {"method": "isolation_forest", "contamination": 0.02}},
                {"noise_injection": {"copies": 2, "scale": 0.1}},
                "smote",
                {"encoding": {"method": "onehot", "min_frequency": 0.05}},
                {"feature_selection": {"k": 5}},
                {"imputation": {"strategy": "most_frequent", "add_indicator": False}},
            ]
        )
    )
    assert [lever.describe() for lever in loaded.levers] == [
        "label-noise filter",
        "label-noise filter (knn, 0.2)",
        "outlier filter (IQR x 3, at most 5%)",
        "outlier filter (isolation forest, 2%)",
        "noise injection (2 copies, 0.1 sd)",
        "SMOTE",
        "one-hot encoding, rare < 0.05 grouped",
        "mutual-information top 5 features",
        "most frequent imputation",
    ]


def test_samplers_come_first_and_preprocess_levers_change_the_preprocessor() -> None:
    plan = plan_experiment(
        parse_spec(
            spec(["mixup", {"feature_selection": {"k": 2}}, {"scaling": {"method": "power"}}])
        )
    )
    mixup, selection, scaling = (arm.levers[0] for arm in plan.arms[1:])
    pipeline = plan.pipelines[mixup.describe()]
    assert [name for name, _ in pipeline.steps] == ["mixup_0", "preprocess", "model"]
    assert type(pipeline.steps[0][1]).__name__ == "Mixup"
    selected = plan.pipelines[selection.describe()].named_steps["preprocess"]
    assert (selected.select, selected.k) == ("mutual_info", 2)
    scaled = plan.pipelines[scaling.describe()].named_steps["preprocess"]
    assert scaled.scale == "power"
    fitted = scaled.fit(plan.dataset.X, plan.dataset.y).transformer_
    assert type(fitted.named_transformers_["numeric"][0]).__name__ == "PowerTransformer"


@pytest.mark.parametrize(
    ("lever", "instead"),
    [
        ("label_noise_filter", "target_noise_filter"),
        ("mixup", "noise_injection"),
        ("smote", "noise_injection"),
        ("random_oversampling", "noise_injection"),
    ],
)
def test_levers_that_need_classes_refuse_a_regression_task_and_name_the_alternative(
    lever: str, instead: str
) -> None:
    document = spec([lever], dataset={"source": "sklearn:diabetes"})
    with pytest.raises(TuneworthError) as caught:
        plan_experiment(parse_spec(document))
    assert str(caught.value) == (
        f"lever '{lever}' needs class labels but the task is regression: use '{instead}' "
        "instead, or remove it from levers"
    )


def test_the_target_noise_filter_refuses_a_classification_task() -> None:
    with pytest.raises(TuneworthError) as caught:
        plan_experiment(parse_spec(spec(["target_noise_filter"])))
    assert str(caught.value) == (
        "lever 'target_noise_filter' needs a regression target but the task is multiclass: "
        "use 'label_noise_filter' instead, or remove it from levers"
    )


def test_label_agnostic_levers_serve_a_regression_task() -> None:
    document = spec(
        ["outlier_filter", "duplicate_filter", "noise_injection", "target_noise_filter"],
        dataset={"source": "sklearn:diabetes"},
    )
    plan = plan_experiment(parse_spec(document))
    results = run_plan(plan).results
    assert (results["error"] == "").all()


@pytest.mark.slow
def test_every_data_and_preprocess_lever_runs_on_a_raw_mixed_table(
    mixed_frame: pd.DataFrame, tmp_path: Path
) -> None:
    rng = np.random.default_rng(1)
    words = ["late", "parcel", "great", "service", "refund", "asked", "twice", "happy"]
    table = mixed_frame.assign(
        note=[" ".join(rng.choice(words, 5)) + f" call {i}" for i in range(len(mixed_frame))],
        joined=pd.date_range("2024-01-01", periods=len(mixed_frame), freq="W").astype(str),
    )
    csv_path = tmp_path / "customers.csv"
    table.to_csv(csv_path, index=False)
    levers: list[Any] = [
        *CLASSIFICATION_DATA_LEVERS,
        {"outlier_filter": {"method": "isolation_forest"}},
        {"scaling": {"method": "quantile"}},
        {"imputation": {"strategy": "knn"}},
        {"imputation": {"strategy": "iterative"}},
        {"encoding": {"method": "ordinal", "min_frequency": 3}},
        "encoding",
        {"feature_selection": {"k": 3}},
        {"feature_selection": {"method": "variance", "threshold": 0.01}},
    ]
    document = spec(levers, dataset={"source": str(csv_path), "target": "churned"})
    plan = plan_experiment(parse_spec(document))
    schema = plan.dataset.schema
    assert ("city" in schema.categorical, schema.text, schema.dates) == (
        True,
        ("note",),
        ("joined",),
    )
    results = run_plan(plan).results
    assert len(results) == 2 * (1 + len(levers))
    assert results.loc[results["error"] != "", ["arm", "error"]].to_dict("records") == []


def test_arm_config_records_the_new_preprocessing_settings() -> None:
    loaded = parse_spec(spec([{"encoding": {"method": "ordinal", "min_frequency": 4}}]))
    arm = build_arms(loaded)[1]
    config = arm.config(loaded.baseline)
    assert (config["preprocess.encode"], config["preprocess.min_frequency"]) == ("ordinal", 4)


def test_a_data_lever_builds_with_the_spec_seed() -> None:
    plan = plan_experiment(parse_spec(spec(["smote"], seed=7)))
    assert plan.pipelines["SMOTE"].steps[0][1].random_state == 7
