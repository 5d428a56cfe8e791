"""What is wrong with a table before any lever runs: a list of findings, each with numbers.

Pure: a frame and a target in, :class:`Finding` records out; no printing, no tracking. Each
check runs on at most ``max_rows`` rows (a seeded sample, and its finding says so), so the
whole diagnosis takes seconds on tens of thousands of rows. The row-level checks judge rows
as the project's cleaning steps do, by the same functions: the out-of-fold confident
learning of :class:`~tuneworth.steps.LabelNoiseFilter` (and
:class:`~tuneworth.steps.TargetNoiseFilter` for a numeric target), the fence scores of
:class:`~tuneworth.steps.OutlierFilter` and the row hashes of
:class:`~tuneworth.steps.DuplicateFilter`. They call those functions, not the samplers, so
diagnosing a table imports no imbalanced-learn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from tuneworth.data import Schema, Task, read_numbers

Severity = Literal["ok", "info", "warning", "severe"]
SEVERITIES: tuple[Severity, ...] = ("ok", "info", "warning", "severe")

# Rows the model-based checks (missingness, label noise, leaks) look at: enough for a
# share estimate within a percent or so, few enough for seconds on any table.
MAX_ROWS = 5000
FOLDS = 3
# A single column that scores this well alone is more likely the answer than a feature.
LEAK_AUC = 0.98
LEAK_R2 = 0.95
# Missingness alone scoring this far above chance (AUC) or R2 tells something about y.
INFORMATIVE_MISSING_AUC = 0.55
INFORMATIVE_MISSING_R2 = 0.02
# Share of rows past which row-level defects suggest their cleaning lever.
DUPLICATE_SHARE = 0.01
NOISE_SHARE = 0.01
OUTLIER_SHARE = 0.005
# Smallest to largest class below this suggests oversampling.
IMBALANCE_RATIO = 0.5
# Largest to smallest robust scale of the numeric columns past which scale matters.
SCALE_SPREAD = 100.0
SKEWNESS = 2.0
# Quantile bins of a numeric column in the one-column leak check.
LEAK_BINS = 32
# Share of a string column's values that parse as numbers for it to be numbers as text;
# loading reads the columns past tuneworth.data.NUMBER_SHARE, so these are the few between.
NUMERIC_TEXT_SHARE = 0.9


@dataclass(frozen=True)
class Finding:
    """One check on the table and what it found.

    Parameters
    ----------
    name : str
        The check, e.g. ``"missing values"``.
    summary : str
        What it found, in one line with its numbers.
    numbers : mapping of str to float
        The measured numbers, for tests, tracking and plans.
    severity : {"ok", "info", "warning", "severe"}
        ``"ok"``: nothing found. ``"info"``: worth knowing. ``"warning"``: likely to cost
        score. ``"severe"``: the comparison cannot be trusted until it is fixed.
    lever : str or None
        The tuneworth lever that answers the finding, if one does.
    columns : tuple of str
        The columns concerned, worst first.
    """

    name: str
    summary: str
    numbers: Mapping[str, float] = field(default_factory=dict)
    severity: Severity = "ok"
    lever: str | None = None
    columns: tuple[str, ...] = ()


def diagnose(
    X: pd.DataFrame,
    y: pd.Series,
    task: Task,
    schema: Schema,
    *,
    seed: int = 0,
    max_rows: int = MAX_ROWS,
) -> list[Finding]:
    """Run every check on the features ``X`` (the columns of ``schema``) and target ``y``.

    Parameters
    ----------
    X : DataFrame
        The feature columns, as :func:`tuneworth.data.load_dataset` returns them.
    y : Series
        The target, without missing values.
    task : {"binary", "multiclass", "regression"}
    schema : Schema
        The columns' roles; its excluded columns (constant, ID-like) are reported too.
    seed : int
        Seeds the samples and the folds.
    max_rows : int
        Rows the model-based checks use at most.

    Returns
    -------
    list of Finding
        One per check, in a fixed order; ``severity == "ok"`` when it found nothing.
    """
    X = X.reset_index(drop=True)
    y = y.reset_index(drop=True)
    sample = _sample(len(y), max_rows, y if task != "regression" else None, seed)
    findings = [
        missing_values(X, y, task, sample, seed),
        duplicate_rows(X, y),
        label_noise(X, y, task, schema, sample, seed),
    ]
    if task != "regression":
        findings.append(class_balance(y))
    findings += [
        outlying_rows(X, schema),
        feature_scales(X, schema),
        id_and_constant_columns(X, schema),
        leaking_columns(X, y, task, sample, seed),
        column_roles(schema),
        numbers_as_text(X, schema),
    ]
    return findings


def _sample(n: int, limit: int, stratify: pd.Series | None, seed: int) -> np.ndarray:
    """Positions of at most ``limit`` rows, stratified by class, sorted."""
    if n <= limit:
        return np.arange(n)
    from sklearn.model_selection import train_test_split

    labels = None
    if stratify is not None and stratify.value_counts().min() >= 2:
        labels = stratify.to_numpy()
    kept, _ = train_test_split(np.arange(n), train_size=limit, stratify=labels, random_state=seed)
    return np.sort(np.asarray(kept))


def _sampled(sample: np.ndarray, n: int) -> str:
    return "" if len(sample) == n else f" (on a sample of {len(sample):,} of {n:,} rows)"


def _folds(task: Task, seed: int) -> Any:
    from sklearn.model_selection import KFold, StratifiedKFold

    if task == "regression":
        return KFold(FOLDS, shuffle=True, random_state=seed)
    return StratifiedKFold(FOLDS, shuffle=True, random_state=seed)


def _judgeable(y: pd.Series, task: Task) -> bool:
    """Enough rows of every class for stratified folds."""
    return task == "regression" or int(y.value_counts().min()) >= FOLDS


def _score(task: Task, y: np.ndarray, predicted: np.ndarray, classes: np.ndarray) -> float:
    """ROC AUC (the mean of the one-vs-rest ones for several classes) or R2 of out-of-fold
    predictions, bitwise as ``roc_auc_score`` (``multi_class="ovr"``) and ``r2_score``
    compute them, without their checks of each call: the predictions are finite (class
    shares summing to one, a column per class of ``classes``) and every class has rows."""
    from tuneworth.scoring import r2, roc_auc

    if task == "regression":
        return r2(y, predicted)
    if task == "binary":
        return roc_auc(y == classes[1], predicted[:, 1])
    per_class = [roc_auc(y == label, predicted[:, k]) for k, label in enumerate(classes)]
    return float(np.mean(per_class))


def _score_name(task: Task) -> str:
    return "R2" if task == "regression" else "AUC"


# --- missing values ----------------------------------------------------------------------


def missing_values(
    X: pd.DataFrame, y: pd.Series, task: Task, sample: np.ndarray, seed: int
) -> Finding:
    """Missing cells and rows, and how well the pattern of gaps alone predicts ``y``.

    The pattern is one indicator per column with gaps; a cross-validated linear model on
    the indicators alone scores it (AUC for classes, R2 for a numeric target). Above chance,
    the gaps carry information an imputer throws away unless it adds indicators.
    """
    gaps = X.isna()
    cells = float(gaps.to_numpy().mean()) if X.size else 0.0
    rows = float(gaps.any(axis=1).mean())
    if not cells:
        return Finding("missing values", "no missing cells", {"cells": 0.0, "rows": 0.0})
    per_column = gaps.mean().sort_values(ascending=False)
    per_column = per_column[per_column > 0]
    worst = ", ".join(f"{c} {_percent(share)}" for c, share in per_column.head(3).items())
    numbers = {"cells": cells, "rows": rows, "columns": float(len(per_column))}
    name = _score_name(task)
    informative = False
    score_text = ""
    indicators = gaps[list(per_column.index)].iloc[sample].to_numpy(dtype=float)
    target = y.iloc[sample]
    if _judgeable(target, task) and indicators.std(axis=0).max() > 0:
        score = _indicator_score(indicators, target, task, seed)
        numbers["score"] = score
        informative = score >= (
            INFORMATIVE_MISSING_R2 if task == "regression" else INFORMATIVE_MISSING_AUC
        )
        numbers["informative"] = float(informative)
        verdict = "predicts the target" if informative else "says little about the target"
        score_text = f"; missingness alone {verdict} ({name} {score:.2f})"
    summary = (
        f"{cells:.1%} of cells, {_percent(rows)} of rows in {_count(len(per_column), 'column')} "
        f"({worst}){score_text}{_sampled(sample, len(y)) if score_text else ''}"
    )
    severity: Severity = "warning" if informative or rows > 0.5 else "info"
    return Finding(
        "missing values", summary, numbers, severity, "imputation", tuple(per_column.index)
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _percent(share: float) -> str:
    """A share as a percentage, with a decimal below 1% so that a few rows are not 0%."""
    return f"{share:.1%}" if share < 0.01 else f"{share:.0%}"


def _indicator_score(indicators: np.ndarray, y: pd.Series, task: Task, seed: int) -> float:
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.model_selection import cross_val_predict

    target = y.to_numpy()
    if task == "regression":
        predicted = cross_val_predict(Ridge(), indicators, target, cv=_folds(task, seed))
        return _score(task, target, predicted, np.array([]))
    proba = cross_val_predict(
        LogisticRegression(max_iter=1000),
        indicators,
        target,
        cv=_folds(task, seed),
        method="predict_proba",
    )
    return _score(task, target, proba, np.unique(target))


# --- duplicates --------------------------------------------------------------------------


def duplicate_rows(X: pd.DataFrame, y: pd.Series) -> Finding:
    """Rows repeating an earlier row exactly, and rows whose repeats disagree about ``y``.

    Features are compared as :class:`~tuneworth.steps.DuplicateFilter` compares them, by
    the same function.
    """
    from tuneworth.steps._judgements import duplicate_groups

    _, repeat, conflicts = duplicate_groups(X, y)
    exact, conflicting = int(repeat.sum()), int(conflicts.sum())
    n = len(X)
    numbers = {
        "exact": float(exact),
        "conflicting": float(conflicting),
        "share": (exact + conflicting) / n,
    }
    if not exact and not conflicting:
        return Finding("duplicates", "no repeated rows", numbers)
    summary = (
        f"{exact} rows ({exact / n:.1%}) repeat an earlier row exactly; {conflicting} rows "
        f"({conflicting / n:.1%}) share their features with a row of another target value"
    )
    share = numbers["share"]
    severity: Severity = "warning" if share >= 0.05 else "info"
    lever = "duplicate_filter" if share >= DUPLICATE_SHARE else None
    return Finding("duplicates", summary, numbers, severity, lever)


# --- label noise -------------------------------------------------------------------------


def label_noise(
    X: pd.DataFrame, y: pd.Series, task: Task, schema: Schema, sample: np.ndarray, seed: int
) -> Finding:
    """An estimate of the share of wrong labels: the rows the project's out-of-fold
    confident-learning filter (:class:`~tuneworth.steps.LabelNoiseFilter`) would drop, or,
    for a numeric target, those :class:`~tuneworth.steps.TargetNoiseFilter` would drop.

    The out-of-fold model is a linear one over the numeric and categorical columns: an
    estimate, high on data no linear model separates well.
    """
    from tuneworth.steps import _judgements as judge

    columns = [c for c in (*schema.numeric, *schema.categorical) if c in X.columns]
    name = "label noise" if task != "regression" else "target noise"
    target = y.iloc[sample]
    if not columns or not _judgeable(target, task):
        return Finding(name, "not estimated: no numeric or categorical columns, or tiny classes")
    frame = X.iloc[sample][columns].reset_index(drop=True)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of a quick estimate
        if task == "regression":
            values = target.to_numpy(dtype="float64")
            keep, _, _ = judge.target_noise(
                frame, values, _ridge(frame), cv=FOLDS, random_state=seed
            )
        else:
            labels = target.to_numpy()
            keep, _ = judge.label_noise(frame, labels, cv=FOLDS, random_state=seed)
            keep = judge.keep_every_class(keep, labels)  # as the filter keeps them
    flagged = int(len(keep) - keep.sum())
    share = flagged / len(target)
    numbers = {"rows": float(flagged), "share": share}
    what = "labels" if task != "regression" else "targets"
    how = "confident learning" if task != "regression" else "robust residuals"
    summary = (
        f"{share:.1%} of rows ({flagged}) have implausible {what} (out-of-fold {how}, "
        f"a linear model){_sampled(sample, len(y))}"
    )
    if not flagged:
        return Finding(name, f"no implausible {what}{_sampled(sample, len(y))}", numbers)
    severity: Severity = "warning" if share >= 0.05 else "info"
    lever = None
    if share >= NOISE_SHARE:
        lever = "target_noise_filter" if task == "regression" else "label_noise_filter"
    return Finding(name, summary, numbers, severity, lever)


def _ridge(frame: pd.DataFrame) -> Any:
    """The target-noise filter's linear model with a ridge in place of its Huber
    regression: Huber's solver takes a minute on a few thousand rows of one-hot columns,
    a ridge a second, and the filter's median-and-MAD cut-off is robust either way."""
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline

    from tuneworth.steps._judgements import column_kinds
    from tuneworth.steps.preprocess import Preprocessor

    return make_pipeline(
        Preprocessor(column_kinds(frame), impute="median", scale="standard"), Ridge()
    )


# --- classes -------------------------------------------------------------------------------


def class_balance(y: pd.Series) -> Finding:
    """The smallest class's rows over the largest's."""
    counts = y.value_counts()
    ratio = float(counts.iloc[-1] / counts.iloc[0])
    numbers = {"ratio": ratio, "smallest": float(counts.iloc[-1]), "classes": float(len(counts))}
    listed = " / ".join(f"{int(n):,}" for n in counts.head(6))
    more = ", ..." if len(counts) > 6 else ""
    summary = f"{len(counts)} classes of {listed}{more} rows; smallest/largest {ratio:.2f}"
    if ratio >= IMBALANCE_RATIO:
        return Finding("class balance", summary, numbers)
    severity: Severity = "warning" if ratio < 0.1 else "info"
    return Finding("class balance", summary, numbers, severity, "random_oversampling")


# --- numeric columns -----------------------------------------------------------------------


def _numeric(X: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    return X[[c for c in schema.numeric if c in X.columns]].astype("float64")


def outlying_rows(X: pd.DataFrame, schema: Schema) -> Finding:
    """Rows with a numeric value beyond Tukey's 3-IQR fences, scored as
    :class:`~tuneworth.steps.OutlierFilter` scores them."""
    from tuneworth.steps._judgements import fence_scores

    values = _numeric(X, schema)
    if values.empty:
        return Finding("outliers", "no numeric columns")
    # A row's score is positive when one of its values is: column by column, the rows
    # whose score would be positive, without the filter's temporaries of the whole table.
    scored = np.zeros(len(values), dtype=bool)
    for _, column in values.items():
        scored |= fence_scores(column.to_numpy()[:, None], 3.0) > 0
    outlying = int(scored.sum())
    share = outlying / len(values)
    numbers = {"rows": float(outlying), "share": share}
    if not outlying:
        return Finding("outliers", "no value beyond 3 IQR of its column", numbers)
    q1, q3 = values.quantile(0.25), values.quantile(0.75)
    spread = q3 - q1
    beyond = ((values < q1 - 3 * spread) | (values > q3 + 3 * spread)) & (spread > 0)
    worst = beyond.sum().sort_values(ascending=False)
    worst = worst[worst > 0]
    listed = ", ".join(f"{c} {int(n)}" for c, n in worst.head(3).items())
    summary = f"{share:.1%} of rows ({outlying}) have a value beyond 3 IQR ({listed})"
    severity: Severity = "warning" if share >= 0.05 else "info"
    lever = "outlier_filter" if share >= OUTLIER_SHARE else None
    return Finding("outliers", summary, numbers, severity, lever, tuple(worst.index))


def feature_scales(X: pd.DataFrame, schema: Schema) -> Finding:
    """How far apart the numeric columns' scales are, and how many are heavily skewed.

    Scale is the interquartile range (the standard deviation where it is zero): the
    spread is the largest over the smallest. Skewed: absolute skewness above 2, where a
    quantile or power transform helps a linear model.
    """
    values = _numeric(X, schema)
    if values.shape[1] == 0:
        return Finding("feature scales", "no numeric columns")
    scale = (values.quantile(0.75) - values.quantile(0.25)).where(lambda s: s > 0, values.std())
    scale = scale[scale > 0]
    spread = float(scale.max() / scale.min()) if len(scale) else 1.0
    skew = values.skew().abs()
    skewed = skew[skew > SKEWNESS].sort_values(ascending=False)
    numbers = {"spread": spread, "skewed": float(len(skewed))}
    summary = f"scales differ {spread:,.0f}-fold across {values.shape[1]} numeric columns"
    if len(skewed):
        listed = ", ".join(str(c) for c in skewed.index[:3])
        summary += f"; {len(skewed)} heavily skewed ({listed})"
    if spread < SCALE_SPREAD and not len(skewed):
        return Finding("feature scales", summary, numbers)
    lever = "scaling"
    return Finding("feature scales", summary, numbers, "info", lever, tuple(skewed.index))


# --- columns -------------------------------------------------------------------------------


def id_and_constant_columns(X: pd.DataFrame, schema: Schema) -> Finding:
    """Columns left out of the features (constant, entirely missing or ID-like), and
    features that still look like IDs.

    :func:`tuneworth.data.infer_schema` excludes a column with a distinct value on *every*
    row; one repeated row (a duplicate) keeps it in. Here a feature is ID-like with a
    distinct value on 90% of its rows or more and an ID's name, or whole numbers that count
    up by one, or strings that are neither text nor dates: a model would memorise rows.
    """
    excluded = schema.excluded
    kept = [
        str(c)
        for c in X.columns
        if c not in schema.text and c not in schema.dates and _id_like(str(c), X[c])
    ]
    numbers = {"excluded": float(len(excluded)), "kept": float(len(kept))}
    if not excluded and not kept:
        return Finding("constant / ID columns", "none", numbers)
    by_reason: dict[str, list[str]] = {}
    for column, reason in excluded.items():
        by_reason.setdefault(reason.split(" (")[0], []).append(column)
    parts = [f"excluded {reason} {', '.join(columns)}" for reason, columns in by_reason.items()]
    if kept:
        parts.append(
            f"ID-like but kept: {', '.join(kept)} (drop {'it' if len(kept) == 1 else 'them'})"
        )
    severity: Severity = "warning" if kept else "info"
    return Finding(
        "constant / ID columns",
        "; ".join(parts),
        numbers,
        severity,
        columns=(*kept, *excluded),
    )


def _id_like(name: str, values: pd.Series) -> bool:
    from tuneworth.data import _ID_NAMES

    present = values.dropna()
    if len(present) < 20 or present.nunique() < 0.9 * len(values):
        return False
    lowered = name.lower()
    if lowered in _ID_NAMES or lowered.endswith(("_id", " id")) or lowered.startswith("id_"):
        return True
    if pd.api.types.is_integer_dtype(present):
        return bool(np.all(np.diff(np.sort(present.unique())) == 1))
    return not pd.api.types.is_numeric_dtype(present)


def leaking_columns(
    X: pd.DataFrame, y: pd.Series, task: Task, sample: np.ndarray, seed: int
) -> Finding:
    """Columns that predict the target almost perfectly on their own.

    Each column alone is a lookup table, cross-validated: its values (a numeric column
    cut into 32 quantile bins, a missing value a bin of its own) map to the training
    folds' mean target, or class shares, in each bin. The cost is a count of the bins
    per column and fold. AUC >= 0.98 (R2 >= 0.95 for a numeric target) marks a leak: a
    column that is known only with or after the outcome, or a copy of it.
    """
    target = y.iloc[sample].reset_index(drop=True)
    if X.shape[1] == 0 or not _judgeable(target, task):
        return Finding("leaking columns", "not checked: tiny classes or no columns")
    lookup = _Lookup.of(target, task, seed)
    scores = {str(column): lookup.score(X[column].iloc[sample]) for column in X.columns}
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    limit = LEAK_R2 if task == "regression" else LEAK_AUC
    leaks = [c for c, s in ranked if s >= limit]
    name = _score_name(task)
    best, best_score = ranked[0]
    numbers = {"leaks": float(len(leaks)), "best": best_score}
    if not leaks:
        summary = f"none; the strongest single column is {best} ({name} {best_score:.2f})"
        return Finding("leaking columns", summary + _sampled(sample, len(y)), numbers)
    listed = ", ".join(f"{c} ({name} {scores[c]:.2f})" for c in leaks[:3])
    verb = "predicts" if len(leaks) == 1 else "predict"
    summary = f"{_count(len(leaks), 'column')} alone {verb} the target: {listed}"
    return Finding("leaking columns", summary, numbers, "severe", columns=tuple(leaks))


@dataclass(frozen=True)
class _Lookup:
    """The target of the one-column lookup tables and its folds, shared by every column."""

    task: Task
    truth: np.ndarray  # the target as the score takes it
    encoded: np.ndarray  # the target as columns to average: itself, or one per class
    classes: np.ndarray
    folds: list[tuple[np.ndarray, np.ndarray]]  # (train, test) positions

    @classmethod
    def of(cls, y: pd.Series, task: Task, seed: int) -> _Lookup:
        if task == "regression":
            truth = y.to_numpy(dtype="float64")
            classes, encoded = np.array([]), truth[:, None]
        else:
            truth = y.to_numpy()
            classes = np.unique(truth)
            encoded = (truth[:, None] == classes).astype("float64")
        folds = list(_folds(task, seed).split(np.zeros(len(y)), y))
        return cls(task, truth, encoded, classes, folds)

    def score(self, values: pd.Series) -> float:
        """Out-of-fold score of predicting the target from the bin of ``values`` alone."""
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            bins = pd.qcut(values, LEAK_BINS, labels=False, duplicates="drop")
            keys: pd.Series = bins.astype("float64").fillna(-1.0)
        else:
            keys = values.astype("str").where(values.notna(), "\x00missing")
        codes, uniques = pd.factorize(keys)
        encoded = self.encoded
        predicted = np.zeros(encoded.shape)
        for train, test in self.folds:
            # Each bin's mean target (or class shares) in the training folds; a bin they
            # lack gets their overall mean. Bin counts and sums in one pass over the rows.
            counts = np.bincount(codes[train], minlength=len(uniques))
            sums = np.column_stack(
                [
                    np.bincount(codes[train], weights=column, minlength=len(uniques))
                    for column in encoded[train].T
                ]
            )
            seen = counts[codes[test]] > 0
            looked = np.tile(encoded[train].mean(axis=0), (len(test), 1))
            looked[seen] = sums[codes[test][seen]] / counts[codes[test][seen], None]
            predicted[test] = looked
        if self.task == "regression":
            return _score(self.task, self.truth, predicted[:, 0], self.classes)
        return _score(self.task, self.truth, predicted, self.classes)


def column_roles(schema: Schema) -> Finding:
    """Columns that are not plain numbers or categories: high-cardinality categoricals,
    free text and dates, which a one-hot encoder would explode or misread."""
    groups = {
        "high-cardinality": schema.high_cardinality,
        "text": schema.text,
        "date": schema.dates,
    }
    numbers = {name: float(len(columns)) for name, columns in groups.items()}
    present = {name: columns for name, columns in groups.items() if columns}
    if not present:
        return Finding("column roles", "numeric and categorical columns only", numbers)
    summary = "; ".join(f"{name}: {', '.join(columns)}" for name, columns in present.items())
    lever = "encoding" if schema.high_cardinality else None
    columns = tuple(c for cols in present.values() for c in cols)
    return Finding("column roles", summary, numbers, "info", lever, columns)


def numbers_as_text(X: pd.DataFrame, schema: Schema) -> Finding:
    """String columns of numbers written with separators, currency or percent signs, or
    '?', 'n/a' and the like for missing, as :func:`tuneworth.data.read_numbers` reads them.

    The columns loading read as numbers (``schema.parsed``) are reported as read. A column
    still of strings of which 90% or more parse is flagged: read as categories, its order
    and distances are lost. Codes with leading zeros ('01234') are not numbers, and a
    column of two values is a flag.
    """
    parsed = {c: how for c, how in schema.parsed.items() if c in X.columns}
    found: dict[str, float] = {}
    for column in X.columns:
        if column in schema.numeric or column in schema.dates:
            continue
        readings = [read_numbers(X[column], decimal) for decimal in (".", ",")]
        numeric = [r for r in readings if r is not None and not r.codes]
        best = max(numeric, key=lambda r: r.share, default=None)
        if best and best.share >= NUMERIC_TEXT_SHARE and best.numbers.nunique() > 2:
            found[str(column)] = best.share
    numbers = {"columns": float(len(found)), "parsed": float(len(parsed))}
    parts = []
    if found:
        listed = ", ".join(f"{c} {_percent(share)}" for c, share in found.items())
        verb = "holds" if len(found) == 1 else "hold"
        parts.append(
            f"{_count(len(found), 'string column')} {verb} mostly numbers ({listed} parse): "
            "write them as plain numbers, missing as empty cells"
        )
    if parsed:
        listed = "; ".join(f"{c} ({how})" for c, how in parsed.items())
        parts.append(f"read as numbers: {listed}")
    if not parts:
        return Finding("numbers as text", "none", numbers)
    return Finding(
        "numbers as text",
        "; ".join(parts),
        numbers,
        "warning" if found else "info",
        columns=(*found, *parsed),
    )


def findings_frame(findings: Sequence[Finding]) -> pd.DataFrame:
    """The findings as a table, one row per check, its numbers as JSON (for tracking)."""
    import json

    return pd.DataFrame(
        [
            {
                "check": f.name,
                "severity": f.severity,
                "lever": f.lever or "",
                "finding": f.summary,
                "columns": ", ".join(f.columns),
                "numbers": json.dumps({k: float(v) for k, v in f.numbers.items()}),
            }
            for f in findings
        ],
        columns=["check", "severity", "lever", "finding", "columns", "numbers"],
    )


def format_findings(findings: list[Finding], width: int = 100) -> str:
    """The findings as a table of check, severity, lever and finding, ``width`` wide.

    The finding column wraps; lines of a wrapped finding are indented under it.
    """
    import textwrap

    name_w = max(len("check"), *(len(f.name) for f in findings))
    lever_w = max(len("lever"), *(len(f.lever or "-") for f in findings))
    head = f"{'check':<{name_w}}  {'severity':<8}  {'lever':<{lever_w}}  "
    text_w = max(20, width - len(head))
    lines = [f"{head}finding", "-" * min(width, len(head) + text_w)]
    for finding in findings:
        wrapped = textwrap.wrap(finding.summary, text_w) or [""]
        lever = finding.lever or "-"
        lines.append(
            f"{finding.name:<{name_w}}  {finding.severity:<8}  {lever:<{lever_w}}  {wrapped[0]}"
        )
        lines += [" " * len(head) + rest for rest in wrapped[1:]]
    return "\n".join(lines)
