"""Marginal gains: what the next CPU-hour of tuning, or the next thousand rows, would buy.

Two kinds of curve, both measured on the same outer folds as every arm and paired fold by
fold with the baseline:

- a *tuning-budget* curve per sequential search arm: the outer-fold score of the
  configuration the search would have chosen after 1, 2, 4, ... trials, up to its budget,
  against the CPU seconds a search of that budget costs;
- a *data-size* curve for the baseline and the best arm: each trained on 1/8, 1/4, 1/2 and
  all of every outer training fold, scored on the untouched outer test fold.

The raw points, one per (curve, fold, step), are the single source (:attr:`Marginal.folds`);
everything else is computed from them and the arms' fold results, so a report rebuilt from
a store says the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

# The two families a curve belongs to; "more data" joins the lever families of the verdict.
TUNING_BUDGET = "tuning budget"
MORE_DATA = "more data"


@dataclass(frozen=True)
class Marginal:
    """The marginal-gain curves of a comparison and what they say.

    Attributes
    ----------
    folds : pandas.DataFrame
        The raw points, one row per curve, outer fold and step: ``family``
        (:data:`TUNING_BUDGET` or :data:`MORE_DATA`), ``arm``, ``fold``, ``step`` (trials, or
        training rows), ``score`` (the outer test fold's score, in the metric's own
        orientation) and ``cpu_seconds`` (what fitting that point cost on that fold).
    curves : pandas.DataFrame
        One row per curve point, over the folds: ``family``, ``arm``, ``step``, ``unit``
        ("trials" or "rows"), ``fraction`` (of the curve's last step), ``cpu_seconds``
        (mean per fold), ``score`` (mean), ``gain`` over the baseline trained on all rows
        (positive is better), its corrected 95% interval ``ci_low``/``ci_high``, and
        ``n_folds``.
    steps : pandas.DataFrame
        One row per curve: the last doubling (``from_step`` -> ``to_step``) with its paired
        ``gain``, ``ci_low``, ``ci_high``, ``p_value``, ``detectable`` and ``outcome``
        (:class:`tuneworth.stats.Outcome`); for data-size curves also ``shape``
        ("concave", "not monotone" or "not concave"), the extrapolated gain of the next
        doubling ``next_gain`` with ``next_low``/``next_high`` (NaN when the shape forbids
        extrapolating) and ``per_1000_rows``.
    sentence : str
        Where the next CPU-hour, or the next batch of rows, pays most.
    notes : tuple of str
        What was not measured and why (a grid has no "after k trials"; curves a time
        budget left out).
    """

    folds: pd.DataFrame
    curves: pd.DataFrame = field(default_factory=pd.DataFrame)
    steps: pd.DataFrame = field(default_factory=pd.DataFrame)
    sentence: str = ""
    notes: tuple[str, ...] = ()
