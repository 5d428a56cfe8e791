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
