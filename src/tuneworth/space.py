"""Search-space dimensions, declared once and rendered for every search strategy.

A model declares its space as a mapping of parameter name to dimension. The same
declaration yields a grid for ``GridSearchCV`` (resolution chosen to fit a budget), scipy
distributions for ``RandomizedSearchCV`` and Optuna suggestions, so every strategy searches
the same space.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class FloatRange:
    """A float between ``low`` and ``high``, sampled uniformly or log-uniformly."""

    low: float
    high: float
    log: bool = False

    def points(self, n: int) -> list[float]:
        if n == 1:
            mid = math.sqrt(self.low * self.high) if self.log else (self.low + self.high) / 2
            return [float(mid)]
        values = (
            np.geomspace(self.low, self.high, n)
            if self.log
            else np.linspace(self.low, self.high, n)
        )
        return [float(v) for v in values]

    def distribution(self) -> Any:
        from scipy import stats

        if self.log:
            return stats.loguniform(self.low, self.high)
        return stats.uniform(self.low, self.high - self.low)


@dataclass(frozen=True)
class IntRange:
    """An integer between ``low`` and ``high`` inclusive."""

    low: int
    high: int
    log: bool = False

    def points(self, n: int) -> list[int]:
        n = min(n, self.high - self.low + 1)
        floats = FloatRange(self.low, self.high, self.log).points(n)
        return sorted({round(v) for v in floats})

    def distribution(self) -> Any:
        from scipy import stats

        if self.log:
            # A log-uniform float rounded down spends the draws like Optuna's log int.
            return _RoundedLogUniform(self.low, self.high)
        return stats.randint(self.low, self.high + 1)


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of values."""

    options: tuple[Any, ...]

    def points(self, n: int) -> list[Any]:
        return list(self.options)

    def distribution(self) -> list[Any]:
        return list(self.options)


Dimension = FloatRange | IntRange | Choice
Space = Mapping[str, Dimension]


class _RoundedLogUniform:
    """An integer distribution for RandomizedSearchCV, log-uniform between low and high."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def rvs(self, random_state: Any = None) -> int:
        rng = (
            np.random.default_rng(random_state)
            if not hasattr(random_state, "uniform")
            else random_state
        )
        value = math.exp(rng.uniform(math.log(self.low), math.log(self.high + 1)))
        return min(int(value), self.high)


def grid(space: Space, budget: int) -> dict[str, list[Any]]:
    """The finest grid over ``space`` with at most ``budget`` points.

    Categorical choices are kept whole; numeric ranges get points one at a time, always to
    the range with the fewest, while the grid still fits the budget.

    >>> g = grid({"C": FloatRange(0.01, 100.0, log=True), "kernel": Choice(("a", "b"))}, 10)
    >>> g["C"], g["kernel"]
    ([0.01, 0.1, 1.0, 10.0, 100.0], ['a', 'b'])
    """
    counts = {
        name: len(dim.options) if isinstance(dim, Choice) else 1 for name, dim in space.items()
    }
    numeric = [name for name, dim in space.items() if not isinstance(dim, Choice)]

    def capacity(name: str) -> float:
        dim = space[name]
        return dim.high - dim.low + 1 if isinstance(dim, IntRange) else math.inf

    while numeric:
        growable = [n for n in numeric if counts[n] < capacity(n)]
        if not growable:
            break
        name = min(growable, key=lambda n: counts[n])
        trial = {**counts, name: counts[name] + 1}
        if math.prod(trial.values()) > budget:
            break
        counts = trial
    return {name: dim.points(counts[name]) for name, dim in space.items()}


def grid_size(space: Space, budget: int) -> int:
    """How many points ``grid(space, budget)`` holds."""
    return math.prod(len(values) for values in grid(space, budget).values())


def distributions(space: Space) -> dict[str, Any]:
    """``param_distributions`` for ``RandomizedSearchCV``."""
    return {name: dim.distribution() for name, dim in space.items()}


def suggest(trial: Any, space: Space) -> dict[str, Any]:
    """Ask an Optuna trial for one point of ``space``."""
    params: dict[str, Any] = {}
    for name, dim in space.items():
        if isinstance(dim, FloatRange):
            params[name] = trial.suggest_float(name, dim.low, dim.high, log=dim.log)
        elif isinstance(dim, IntRange):
            params[name] = trial.suggest_int(name, dim.low, dim.high, log=dim.log)
        else:
            params[name] = trial.suggest_categorical(name, list(dim.options))
    return params


def prefixed(space: Space, prefix: str) -> dict[str, Dimension]:
    """The same space with every parameter name under a pipeline step, e.g. ``model__C``."""
    return {f"{prefix}{name}": dim for name, dim in space.items()}
