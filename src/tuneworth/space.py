"""Search-space dimensions, declared once and rendered for every search strategy.

A model declares its space as a mapping of parameter name to dimension. The same
declaration yields a grid for ``GridSearchCV`` (resolution chosen to fit a budget), scipy
distributions for ``RandomizedSearchCV`` and the halving search, and Optuna suggestions, so
every strategy searches the same space. A spec may replace any dimension with
:func:`narrow`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np

from tuneworth.errors import closest


@dataclass(frozen=True)
class FloatRange:
    """A float between ``low`` and ``high``, sampled uniformly or log-uniformly."""

    low: float
    high: float
    log: bool = False

    def __post_init__(self) -> None:
        _check_range(self.low, self.high, self.log)

    def points(self, n: int) -> list[float]:
        """``n`` evenly spaced points (on the log scale if ``log``), ends included."""
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

    def __str__(self) -> str:
        return f"{'log' if self.log else ''}[{self.low:g}, {self.high:g}]"


@dataclass(frozen=True)
class IntRange:
    """An integer between ``low`` and ``high`` inclusive."""

    low: int
    high: int
    log: bool = False

    def __post_init__(self) -> None:
        _check_range(self.low, self.high, self.log)

    def points(self, n: int) -> list[int]:
        """``n`` distinct integers (all of them if fewer), evenly spaced (on the log scale if
        ``log``), ends included."""
        n = min(n, self.high - self.low + 1)
        values = [round(v) for v in FloatRange(self.low, self.high, self.log).points(n)]
        # Rounding merges neighbours at the low end of a log range: push them apart.
        for i in range(1, n):
            values[i] = max(values[i], values[i - 1] + 1)
        for i in range(n - 2, -1, -1):
            values[i] = min(values[i], values[i + 1] - 1)
        return values

    def distribution(self) -> Any:
        from scipy import stats

        if self.log:
            # A log-uniform float rounded down spends the draws like Optuna's log int.
            return _RoundedLogUniform(self.low, self.high)
        return stats.randint(self.low, self.high + 1)

    def __str__(self) -> str:
        return f"{'log' if self.log else ''}[{self.low}..{self.high}]"


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of values."""

    options: tuple[Any, ...]

    def __post_init__(self) -> None:
        if not self.options:
            raise ValueError("a choice needs at least one option")

    def points(self, n: int) -> list[Any]:
        return list(self.options)

    def distribution(self) -> list[Any]:
        return list(self.options)

    def __str__(self) -> str:
        return str(list(self.options))


Dimension = FloatRange | IntRange | Choice
Space = Mapping[str, Dimension]


def _check_range(low: float, high: float, log: bool) -> None:
    if not low < high:
        raise ValueError(f"low ({low}) must be below high ({high})")
    if log and low <= 0:
        raise ValueError(f"a log range needs low > 0, not {low}")


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

    Categorical choices are kept whole; numeric ranges gain points one at a time, always the
    range with the fewest points that still lets the grid fit the budget. A range left at
    one point is fixed at its middle.

    >>> g = grid({"C": FloatRange(0.01, 100.0, log=True), "kernel": Choice(("a", "b"))}, 10)
    >>> g["C"], g["kernel"]
    ([0.01, 0.1, 1.0, 10.0, 100.0], ['a', 'b'])

    Raises
    ------
    ValueError
        If the categorical choices alone make more combinations than ``budget``.
    """
    sizes = {name: len(dim.points(1)) for name, dim in space.items()}
    if math.prod(sizes.values()) > budget:
        raise ValueError(
            f"the categorical choices alone make {math.prod(sizes.values())} combinations, "
            f"more than the budget of {budget}: raise the trials or narrow the space"
        )

    def capacity(dim: Dimension) -> float:
        if isinstance(dim, Choice):
            return len(dim.options)
        return dim.high - dim.low + 1 if isinstance(dim, IntRange) else math.inf

    while True:
        growable = [
            name
            for name, dim in space.items()
            if sizes[name] < capacity(dim)
            and math.prod(sizes.values()) // sizes[name] * (sizes[name] + 1) <= budget
        ]
        if not growable:
            break
        name = min(growable, key=lambda n: sizes[n])
        sizes[name] += 1
    return {name: dim.points(sizes[name]) for name, dim in space.items()}


def grid_size(space: Space, budget: int) -> int:
    """How many points ``grid(space, budget)`` holds."""
    return math.prod(len(values) for values in grid(space, budget).values())


def distributions(space: Space) -> dict[str, Any]:
    """``param_distributions`` for ``RandomizedSearchCV`` and the halving search."""
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


def narrow(space: Space, overrides: Mapping[str, Any]) -> dict[str, Dimension]:
    """``space`` with some dimensions replaced, as a spec writes them.

    A list replaces a dimension by those choices; a mapping with ``low``, ``high`` and
    ``log`` replaces a range, keeping the declared value of any key it leaves out and the
    declared kind (integer or float). Parameters the space does not declare are errors.

    >>> space = {"C": FloatRange(1e-3, 1e3, log=True), "gamma": FloatRange(1e-4, 10.0, log=True)}
    >>> narrowed = narrow(space, {"C": {"low": 0.1, "high": 100}, "gamma": ["scale", 0.01]})
    >>> print(narrowed["C"], narrowed["gamma"])
    log[0.1, 100] ['scale', 0.01]

    Raises
    ------
    ValueError
        Naming the parameter and what is wrong with it.
    """
    result = dict(space)
    for name, value in overrides.items():
        if name not in space:
            declared = ", ".join(space) or "nothing"
            raise ValueError(
                f"no tunable parameter '{name}'{closest(name, space)}; the space declares "
                f"{declared}"
            )
        try:
            result[name] = _override(space[name], value)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    return result


def _override(declared: Dimension, value: Any) -> Dimension:
    if isinstance(value, list | tuple):
        return Choice(tuple(value))
    if not isinstance(value, Mapping):
        raise ValueError(
            f"give a list of choices, e.g. [{value}], or a range such as {{low: 1, high: 10}}"
        )
    if isinstance(declared, Choice):
        raise ValueError(f"is categorical {declared}: give a list of choices")
    unknown = [key for key in value if key not in ("low", "high", "log")]
    if unknown:
        raise ValueError(
            f"unknown range key '{unknown[0]}'{closest(str(unknown[0]), ('low', 'high', 'log'))}"
        )
    low, high = value.get("low", declared.low), value.get("high", declared.high)
    log = value.get("log", declared.log)
    if not isinstance(log, bool):
        raise ValueError(f"log must be true or false, not {log!r}")
    if isinstance(declared, IntRange):
        for bound in (low, high):
            if isinstance(bound, bool) or not isinstance(bound, Integral):
                raise ValueError(f"is an integer range: {bound!r} is not an integer")
        return IntRange(int(low), int(high), log)
    for bound in (low, high):
        if isinstance(bound, bool) or not isinstance(bound, Real):
            raise ValueError(f"is a float range: {bound!r} is not a number")
    return FloatRange(float(low), float(high), log)


def describe(dimension: Any) -> str:
    """One dimension of a searched space as a reader writes it: a :data:`Dimension`, a
    grid's list of values, or a random search's distribution.

    >>> describe(FloatRange(1e-3, 1e3, log=True)), describe(IntRange(1, 30))
    ('loguniform(0.001, 1000)', 'int uniform(1, 30)')
    >>> describe(Choice(("l1", "l2"))), describe([0.1, 1.0, 10.0])
    ("choice(['l1', 'l2'])", 'grid(0.1, 1, 10)')
    """
    if isinstance(dimension, FloatRange):
        kind = "loguniform" if dimension.log else "uniform"
        return f"{kind}({dimension.low:g}, {dimension.high:g})"
    if isinstance(dimension, IntRange | _RoundedLogUniform):
        log = isinstance(dimension, _RoundedLogUniform) or dimension.log
        return f"int {'loguniform' if log else 'uniform'}({dimension.low}, {dimension.high})"
    if isinstance(dimension, Choice):
        return f"choice({list(dimension.options)})"
    if isinstance(dimension, list | tuple):
        return f"grid({', '.join(_shown(v) for v in dimension)})"
    frozen = getattr(dimension, "dist", None)
    name, args = getattr(frozen, "name", ""), tuple(getattr(dimension, "args", ()))
    if name == "loguniform" and len(args) == 2:
        return f"loguniform({args[0]:g}, {args[1]:g})"
    if name == "uniform" and len(args) == 2:
        return f"uniform({args[0]:g}, {args[0] + args[1]:g})"
    if name == "randint" and len(args) == 2:
        return f"int uniform({args[0]}, {args[1] - 1})"
    return repr(dimension)


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else repr(value)


def searched_space(search: Any) -> dict[str, str]:
    """What a search explores, one readable line per parameter (:func:`describe`): an
    Optuna search's space, a random or halving search's distributions, a grid search's
    grid; empty for an estimator that is not a search."""
    for attribute in ("space", "param_distributions", "param_grid"):
        space = getattr(search, attribute, None)
        if isinstance(space, Mapping):
            return {str(name): describe(dim) for name, dim in space.items()}
    return {}
