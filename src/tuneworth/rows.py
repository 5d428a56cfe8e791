"""Row accounting: what each data lever did to the training rows, said plainly.

Pure: the tidy fold table of :func:`tuneworth.evaluate.results_frame` in, numbers and
sentences out. Every sampler counts the rows it was given and returned on each outer
training fold; here those counts become, per arm, the mean share of the training rows
removed or added with its range over the folds, the same per class, and a warning when a
filter took so much that it is no longer cleaning.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tuneworth.data import shown
from tuneworth.evaluate import parse_class_rows

# A filter that removes more than this share of the training rows is warned about. Label
# errors in real data sets run at a few percent (Northcutt et al. 2021: 3.3% on average
# over ten common test sets, 10% at most) and gross errors at 1-10% (Hampel et al. 1986):
# past a fifth of the rows a filter is reshaping the population the model learns, not
# removing its errors.
ROW_SHARE_LIMIT = 0.20
# ... or more than this share of one class's training rows: the model then sees less of
# that class than of its errors, and a rare class whose rows look unusual (the label-noise
# filter took 166 of 175 rows of a wine set's rarest class) is filtered away.
CLASS_SHARE_LIMIT = 0.50
# Classes named on the terminal line, the most changed first; the report names them all.
TERMINAL_CLASSES = 3


@dataclass(frozen=True)
class ClassChange:
    """Mean shares of one class's training rows removed and added, over the folds."""

    label: Any
    removed: float
    added: float


@dataclass(frozen=True)
class RowChange:
    """What an arm's samplers did to the outer training folds.

    Shares are of the fold's training rows (of the class's, for ``classes``): ``removed``
    and ``added`` are means over the folds that finished, ``*_low`` and ``*_high`` their
    smallest and largest values.
    """

    arm: str
    folds: int
    removed: float
    removed_low: float
    removed_high: float
    added: float
    added_low: float
    added_high: float
    classes: tuple[ClassChange, ...] = ()

    @property
    def changed(self) -> bool:
        return self.removed_high > 0 or self.added_high > 0

    def warnings(self) -> list[str]:
        """Why this arm's removals deserve a look, if they do."""
        said = []
        if self.removed > ROW_SHARE_LIMIT:
            said.append(
                f"{self.arm} removed {self.removed:.1%} of the training rows, more than "
                f"{ROW_SHARE_LIMIT:.0%}: that reshapes the data rather than cleaning it; "
                "check the filter's settings before trusting its gain"
            )
        for c in self.classes:
            if c.removed > CLASS_SHARE_LIMIT:
                said.append(
                    f"{self.arm} removed {c.removed:.0%} of the training rows of class "
                    f"{shown(c.label)}, more than {CLASS_SHARE_LIMIT:.0%}: the model learns "
                    "that class from what is left of it"
                )
        return said


def row_change(arm: str, folds: pd.DataFrame) -> RowChange:
    """One arm's :class:`RowChange` from its rows of the fold table (failed folds skipped)."""
    ok = folds[folds["error"].fillna("") == ""] if "error" in folds else folds
    n_train = ok["n_train"].to_numpy(dtype=float)
    removed = _column(ok, "rows_removed") / n_train
    added = _column(ok, "rows_added") / n_train
    per_class: dict[Any, list[tuple[float, float]]] = {}
    cells = ok["class_rows"].tolist() if "class_rows" in ok else []
    for cell in cells:
        for label, rows, out, extra in parse_class_rows(cell):
            per_class.setdefault(label, []).append((out / rows, extra / rows))
    classes = tuple(
        ClassChange(label, *(float(mean) for mean in np.mean(shares, axis=0)))
        for label, shares in per_class.items()
    )
    return RowChange(arm, len(ok), *_spread(removed), *_spread(added), classes=classes)


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:  # a store written before rows were counted
        return np.zeros(len(frame))
    return frame[name].fillna(0).to_numpy(dtype=float)


def _spread(shares: np.ndarray) -> tuple[float, float, float]:
    if len(shares) == 0:
        return np.nan, np.nan, np.nan
    return float(shares.mean()), float(shares.min()), float(shares.max())


def row_changes(results: pd.DataFrame, summary: pd.DataFrame) -> list[RowChange]:
    """A :class:`RowChange` per data arm (an arm whose family includes ``data``), in the
    order of ``summary`` (the verdict's, with ``arm`` and ``family`` columns)."""
    data_arms = [
        str(row["arm"])
        for row in summary.to_dict("records")
        if "data" in str(row["family"]).split("+")
    ]
    return [row_change(arm, results[results["arm"] == arm]) for arm in data_arms]


def _share(value: float) -> str:
    return f"{value:.1%}" if round(value, 4) < 0.1 else f"{value:.0%}"


def _amount(verb: str, mean: float, low: float, high: float, folds: int) -> str:
    spread = f" ({100 * low:.1f}–{high:.1%} over folds)" if folds > 1 and high > low else ""
    whose = "of the training rows" if verb == "removed" else "to the training rows"
    return f"{verb} {mean:.1%} {whose}{spread}"


def describe(change: RowChange, max_classes: int | None = None) -> str:
    """One line: ``label-noise filter: removed 12.3% of the training rows (8.1-15.0% over
    folds); class 'yes': 31%, class 'no': 4.1%``. A lever that changed nothing says so."""
    if change.folds == 0:
        return f"{change.arm}: no fold finished, so no rows were counted"
    if not change.changed:
        return f"{change.arm}: no rows removed or added"
    c = change
    parts = []
    if c.removed_high > 0:
        parts.append(_amount("removed", c.removed, c.removed_low, c.removed_high, c.folds))
    if c.added_high > 0:
        parts.append(_amount("added", c.added, c.added_low, c.added_high, c.folds))
    line = f"{c.arm}: {', '.join(parts)}"
    moved = sorted(
        (k for k in c.classes if k.removed > 0 or k.added > 0),
        key=lambda k: -(k.removed + k.added),
    )
    if moved:
        shown_classes = moved if max_classes is None else moved[:max_classes]
        cells = []
        for k in shown_classes:
            values = [_share(k.removed)] if k.removed > 0 else []
            values += [f"+{_share(k.added)}"] if k.added > 0 else []
            cells.append(f"class {shown(k.label)}: {' / '.join(values)}")
        more = len(moved) - len(shown_classes)
        line += f"; {', '.join(cells)}" + (f" (and {more} more classes)" if more else "")
    return line


def describe_all(changes: Sequence[RowChange], max_classes: int | None = None) -> list[str]:
    """A line per arm, then a ``warning:`` line per warning."""
    lines = [describe(c, max_classes) for c in changes]
    lines += [f"warning: {w}" for c in changes for w in c.warnings()]
    return lines


def row_metrics(change: RowChange) -> dict[str, float]:
    """The arm's row shares as MLflow metrics (class labels made valid metric names)."""
    metrics = {
        "rows_removed_share": change.removed,
        "rows_removed_share_min": change.removed_low,
        "rows_removed_share_max": change.removed_high,
        "rows_added_share": change.added,
        "rows_added_share_min": change.added_low,
        "rows_added_share_max": change.added_high,
    }
    for c in change.classes:
        name = re.sub(r"[^A-Za-z0-9_.\- /]", "_", str(c.label))
        metrics[f"rows_removed_share.class.{name}"] = c.removed
        metrics[f"rows_added_share.class.{name}"] = c.added
    return metrics
