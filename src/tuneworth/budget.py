"""A time budget turned into a plan: how many outer folds, search trials and arms fit.

Pure: the pilot's measured costs in, the sized settings out (:func:`size_plan`). The pilot
that measures them is :mod:`tuneworth.pilot`; the run stops at the deadline on its own
(see :func:`tuneworth.evaluate.evaluate`), so an estimate that is off cuts arms, never
overruns the budget by much.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from tuneworth.errors import TuneworthError
from tuneworth.marginal import budget_steps

# Outer folds x repeats tried, most first. Ten paired folds give the corrected t-test its
# power; five are the fewest whose interval still says something.
FOLD_OPTIONS: tuple[tuple[int, int], ...] = ((5, 2), (5, 1))
# The fewest trials a search is sized down to: fewer would not be a search.
MIN_TRIALS = 5
# Of the budget left after the pilot and the final writes, the share planned: the rest is the
# margin for the estimate's error.
PLANNED_SHARE = 0.8
# Seconds set aside for the study's own writes (MLflow runs, report, plots).
FINISH_SECONDS = 10.0
# Wall seconds an arm-fold costs beyond its fits: sending the data to a worker, scoring.
TASK_SECONDS = 0.2
# Wall seconds of opening the study (MLflow run, dataset, worker processes) and of each
# arm's MLflow writes, measured on a SQLite store.
START_SECONDS = 5.0
ARM_SECONDS = 1.0

_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?:in)?)?(?:(\d+(?:\.\d+)?)s)?")


def finish_reserve(seconds: float) -> float:
    """Seconds of a ``seconds`` budget kept after the deadline for the results' writes.

    >>> finish_reserve(600), finish_reserve(30)
    (10.0, 3.0)
    """
    return min(FINISH_SECONDS, seconds / 10)


def parse_duration(text: str, setting: str = "--time-budget") -> float:
    """Seconds in a duration written ``90s``, ``10m``, ``1h`` or ``1h30m``.

    >>> parse_duration("1h30m"), parse_duration("90s"), parse_duration("2.5m")
    (5400.0, 90.0, 150.0)
    """
    cleaned = str(text).strip().lower().replace(" ", "")
    found = _DURATION.fullmatch(cleaned)
    if not cleaned or found is None or not any(found.groups()):
        raise TuneworthError(
            f"{setting} '{text}' is not a duration: write it like 90s, 10m, 1h or 1h30m"
        )
    hours, minutes, seconds = (float(part or 0) for part in found.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total < 10:
        raise TuneworthError(
            f"{setting} '{text}' is too short to run anything: give at least 10s, e.g. 2m"
        )
    return total


def budget_label(seconds: float) -> str:
    """A budget as people say it: '90 s', '10 min', '1 h 30 min'.

    >>> budget_label(90), budget_label(600), budget_label(5400)
    ('90 s', '10 min', '1 h 30 min')
    """
    if seconds < 120 and seconds % 60:
        return f"{seconds:.0f} s"
    hours, minutes = divmod(round(seconds / 60), 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h" + (f" {minutes} min" if minutes else "")


@dataclass(frozen=True)
class ArmCost:
    """What the pilot measured of one arm: the wall seconds of one plain fit (and predict)
    on an outer training fold holding ``train_share`` of the rows.

    ``searches`` says whether the arm searches (and so fits once per trial and inner fold);
    ``fixed_trials`` are its trials when the spec fixes them, else the budget sizes them;
    ``curve`` whether the search also measures a tuning-budget curve (a refit of its
    choice after 1, 2, 4, ... trials, :mod:`tuneworth.marginal`).
    """

    name: str
    fit_seconds: float
    searches: bool = False
    fixed_trials: int | None = None
    train_share: float = 0.8
    curve: bool = False


@dataclass(frozen=True)
class Sizing:
    """The settings a budget allows, and what they are expected to cost.

    Attributes
    ----------
    folds, repeats : int
        Outer folds and repeats.
    trials : int
        Search trials per outer fold (the spec's ``budget.trials``).
    arms : tuple of str
        The arms that fit, in the plan's order.
    left_out : tuple of str
        Arms that do not fit the budget even at the smallest setting, most costly first.
    fold_seconds : dict of str to float
        Each kept arm's estimated wall seconds per outer fold.
    seconds : float
        Estimated wall seconds of the run after the pilot: the kept arms' work, with
        ``workers`` in parallel, and the fixed costs of the study's writes.
    notes : tuple of str
        What the budget changed, in words.
    """

    folds: int
    repeats: int
    trials: int
    arms: tuple[str, ...]
    left_out: tuple[str, ...]
    fold_seconds: Mapping[str, float]
    seconds: float
    notes: tuple[str, ...]


def fold_seconds(cost: ArmCost, folds: int, trials: int, inner_folds: int) -> float:
    """Estimated wall seconds of one arm on one outer fold of a ``folds``-fold split.

    A fit's time is taken as linear in its training rows. A search fits each trial on every
    inner training fold, then refits the best on the whole outer training fold; with a
    tuning-budget ``curve``, at most one more refit per point of the curve but the last.

    >>> fold_seconds(ArmCost("a", 2.0), folds=5, trials=10, inner_folds=3)
    2.0
    >>> round(fold_seconds(ArmCost("s", 2.0, searches=True), folds=5, trials=10, inner_folds=3), 6)
    42.0
    """
    outer = cost.fit_seconds * (1 - 1 / folds) / cost.train_share
    if not cost.searches:
        return outer
    n = cost.fixed_trials if cost.fixed_trials is not None else trials
    refits = len(budget_steps(n)) - 1 if cost.curve else 0
    return outer * (1 + refits + n * inner_folds * (1 - 1 / inner_folds))


def size_plan(
    costs: Sequence[ArmCost],
    seconds: float,
    *,
    trials: int,
    inner_folds: int,
    workers: int = 1,
    folds: int = 5,
    repeats: int = 2,
    label: str = "",
    drop: Literal["costliest", "last", "none"] = "costliest",
) -> Sizing:
    """The most a budget of ``seconds`` (left after the pilot) runs, in this order of worth:
    every arm (each is a question asked), then outer folds (power), then search trials.
    When arms must leave, the most costly leave first, except that one search (the
    cheapest) stays while any arm but the baseline does.

    Parameters
    ----------
    costs : sequence of ArmCost
        The pilot's measurement of every arm, in the plan's order, baseline first.
    seconds : float
        Wall seconds left for the run.
    trials : int
        The spec's search trials: the most a search is given.
    inner_folds : int
        Inner folds of a search.
    workers : int
        Arm-folds that run at once.
    folds, repeats : int
        The spec's outer folds and repeats: the most the budget is given.
    label : str
        The budget as people say it, for the notes.
    drop : {"costliest", "last", "none"}
        Which arms leave when not all fit: the most costly (arms compared one at a time),
        the last ones (a ladder, whose rungs build on those before), or none (a factorial
        design, whose Shapley shares need every arm).

    Raises
    ------
    TuneworthError
        When the baseline alone does not fit on the fewest folds.
    """
    if not costs:
        raise ValueError("no arms to size")
    planned = FINISH_SECONDS + max(0.0, (seconds - FINISH_SECONDS) * PLANNED_SHARE)
    options = [(f, r) for f, r in FOLD_OPTIONS if f * r <= folds * repeats]
    options = [(folds, repeats)] + [o for o in options if o != (folds, repeats)]
    searched = any(c.searches and c.fixed_trials is None for c in costs)
    counts = _trial_counts(trials) if searched else [trials]

    def wall(kept: Sequence[ArmCost], f: int, r: int, t: int) -> float:
        """The run's wall seconds from here: start, the arm-folds, MLflow and the report."""
        work = sum(fold_seconds(c, f, t, inner_folds) + TASK_SECONDS for c in kept) * f * r
        fixed = START_SECONDS + ARM_SECONDS * len(kept) + FINISH_SECONDS
        return fixed + work / max(1, min(workers, len(kept) * f * r))

    # Most arms first, then most folds, then most trials; arms leave most costly first.
    by_cost = list(costs[1:])
    if drop == "costliest":
        # Costliest as it would run: at the fewest trials, when arms must leave.
        by_cost.sort(key=lambda c: fold_seconds(c, 5, counts[-1], inner_folds))
        # But the cheapest search leaves last: without one, the run cannot say whether
        # tuning pays, the question it is asked first.
        search = next((c for c in by_cost if c.searches), None)
        if search is not None:
            by_cost.remove(search)
            by_cost.insert(0, search)
    fewest = len(costs) if drop == "none" else 1
    for n_arms in range(len(costs), fewest - 1, -1):
        kept_set = {c.name for c in [costs[0], *by_cost[: n_arms - 1]]}
        kept = [c for c in costs if c.name in kept_set]
        for f, r in options:
            for t in counts:
                estimate = wall(kept, f, r, t)
                if estimate <= planned:
                    return _sizing(
                        costs, kept, f, r, t, estimate, folds, repeats, trials, inner_folds, label
                    )
    f, r = options[-1]
    least = costs[:fewest]
    needed = (wall(least, f, r, counts[-1]) - FINISH_SECONDS) / PLANNED_SHARE + FINISH_SECONDS
    what = "the baseline alone needs" if fewest == 1 else "the factorial design's arms need"
    raise TuneworthError(
        f"{what} about {math.ceil(needed)} s on {f * r} folds, more than "
        f"the {label or f'{seconds:.0f} s'} budget leaves after the pilot: give a longer "
        "--time-budget"
    )


def _trial_counts(most: int) -> list[int]:
    """Trials to try, most first: the spec's, then down by a fifth at a time to the least.

    >>> _trial_counts(20)
    [20, 16, 13, 10, 8, 6, 5]
    """
    counts = [most]
    while counts[-1] > MIN_TRIALS:
        counts.append(max(MIN_TRIALS, min(counts[-1] - 1, round(counts[-1] * 0.8))))
    return counts


def _sizing(
    costs: Sequence[ArmCost],
    kept: Sequence[ArmCost],
    f: int,
    r: int,
    t: int,
    estimate: float,
    folds: int,
    repeats: int,
    trials: int,
    inner_folds: int,
    label: str,
) -> Sizing:
    names = {c.name for c in kept}
    dropped = sorted(
        (c for c in costs if c.name not in names),
        key=lambda c: -fold_seconds(c, f, t, inner_folds),
    )
    budget = f"the {label} budget" if label else "the budget"
    notes = []
    if (f, r) != (folds, repeats):
        notes.append(
            f"{f * r} outer folds ({f}-fold x {r}) instead of {folds * repeats} to fit "
            f"{budget}: fewer folds, wider intervals"
        )
    if t < trials and any(c.searches and c.fixed_trials is None for c in kept):
        notes.append(f"searches get {t} trials instead of {trials} to fit {budget}")
    if dropped:
        notes.append(
            f"left out to fit {budget}: {', '.join(c.name for c in dropped)} "
            f"(the most costly {'arm' if len(dropped) == 1 else 'arms'})"
        )
    return Sizing(
        folds=f,
        repeats=r,
        trials=t,
        arms=tuple(c.name for c in kept),
        left_out=tuple(c.name for c in dropped),
        fold_seconds={c.name: fold_seconds(c, f, t, inner_folds) + TASK_SECONDS for c in kept},
        seconds=estimate,
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class TimeBudget:
    """A run's time budget as the run needs it.

    Attributes
    ----------
    seconds : float
        The budget.
    deadline : float
        When the arms' work must stop, in :func:`time.time` seconds: the budget's end
        less the time to write the results.
    label : str
        The budget as people say it ('10 min').
    left_out : tuple of str
        Arms the plan left out before the run because they would not fit.
    """

    seconds: float
    deadline: float
    label: str
    left_out: tuple[str, ...] = ()

    @property
    def ends(self) -> float:
        """When the budget ends, in :func:`time.time` seconds: the deadline plus the time
        kept for the results' writes."""
        return self.deadline + finish_reserve(self.seconds)

    @property
    def cut_by(self) -> str:
        """'the 10 min time budget'."""
        return f"the {self.label} time budget"
