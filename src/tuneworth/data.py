"""Load a dataset, infer its schema and task, and fingerprint it.

Everything here is pure apart from reading the file: no tracking, no printing. Notes meant
for the user (an excluded ID column, dropped rows) come back as strings in ``Dataset.notes``.
"""

from __future__ import annotations

import csv
import dataclasses
import errno
import hashlib
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from tuneworth.errors import TuneworthError, closest

Task = Literal["binary", "multiclass", "regression"]
Role = Literal["numeric", "categorical", "high_cardinality", "text", "date"]
ROLES: tuple[Role, ...] = ("numeric", "categorical", "high_cardinality", "text", "date")

SKLEARN_PREFIX = "sklearn:"
GENERATED_PREFIX = "generated:"  # tables of tuneworth.generate
# Built-in datasets that ship with scikit-learn (no download at run time).
SKLEARN_DATASETS = ("breast_cancer", "iris", "wine", "digits", "diabetes")
# An integer target with at most this many distinct values is taken as class labels.
MAX_CLASSES = 20
_MIN_ROWS_FOR_ID_GUESS = 20
_ID_NAMES = ("id", "uuid", "guid", "pid", "key", "index", "order")
# A string column with more distinct values than this is high-cardinality (skrub's
# TableVectorizer draws its line at 40 too): one-hot encoding would explode it.
MAX_CATEGORIES = 40
# Free text: this many distinct values or more, with this many words per value on average.
TEXT_MIN_DISTINCT = 40
TEXT_MIN_WORDS = 3.0
# A string column is a date when skrub's ToDatetime finds a format for it.
_DATE_SAMPLE = 1000
# Cells that stand for a missing value in a column of numbers written as text (compared
# lower-cased and stripped); pandas already reads "", "NA", "N/A", "n/a" and "null" as
# missing, not "?", "-" or "none".
MISSING_MARKERS = frozenset(
    {"", "?", "-", "--", ".", "na", "n/a", "nan", "null", "none", "missing"}
)
# Share of a string column's other cells that must parse as numbers for it to be read as
# numbers; the few that do not become missing values, and the note names them.
NUMBER_SHARE = 0.95


@dataclass(frozen=True)
class Schema:
    """Which columns are features of which role, and which were left out and why.

    ``reasons`` says, for each column whose role was not plain numeric or categorical, why
    it got the role it has (inferred from the data, or set by the spec). ``parsed`` says,
    for each column of numbers written as text that loading read as numbers, how they were
    written (see :func:`read_numbers`).
    """

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    excluded: dict[str, str] = field(default_factory=dict)
    high_cardinality: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    reasons: dict[str, str] = field(default_factory=dict)
    parsed: dict[str, str] = field(default_factory=dict)

    @property
    def features(self) -> tuple[str, ...]:
        return self.numeric + self.non_numeric

    @property
    def non_numeric(self) -> tuple[str, ...]:
        """Every feature that is not a number: what samplers copy rather than perturb."""
        return self.categorical + self.high_cardinality + self.text + self.dates

    def with_roles(self, roles: Mapping[str, Role]) -> Schema:
        """The same features with some roles changed (an arm's ``roles`` lever).

        Raises
        ------
        TuneworthError
            For a column that is not a feature, or a non-numeric one made numeric.
        """
        current = self.roles()
        for column, role in roles.items():
            if column not in current:
                raise TuneworthError(
                    f"roles: '{column}' is not a feature{closest(column, list(current))}"
                )
            if role == "numeric" and current[column] != "numeric":
                raise TuneworthError(f"roles: column '{column}' is not numeric")
        updated = {**current, **roles}
        reasons = {**self.reasons, **{c: "set by the arm's roles lever" for c in roles}}

        def having(role: Role) -> tuple[str, ...]:
            return tuple(c for c, r in updated.items() if r == role)

        return Schema(
            numeric=having("numeric"),
            categorical=having("categorical"),
            excluded=self.excluded,
            high_cardinality=having("high_cardinality"),
            text=having("text"),
            dates=having("date"),
            reasons=reasons,
            parsed=self.parsed,
        )

    def roles(self) -> dict[str, Role]:
        """Each feature's role."""
        return {column: role for role, columns in self._groups() for column in columns}

    def roles_by_name(self) -> dict[str, tuple[str, ...]]:
        """The features of each role present, under the role's readable name."""
        return {_ROLE_NAMES[role]: columns for role, columns in self._groups() if columns}

    def describe(self) -> list[str]:
        """Notes for the user: why each column whose role is not plain numeric or
        categorical got it, then how many columns each role has. A table of numbers and
        categories only needs no note (``tuneworth check`` lists its roles all the same)."""
        lines = [
            f"column '{column}' is {_ROLE_NAMES[role]}: {self.reasons[column]}"
            for column, role in self.roles().items()
            if column in self.reasons
        ]
        if not lines:
            return []
        counts = [f"{len(cols)} {name}" for name, cols in self.roles_by_name().items()]
        return [*lines, f"column roles: {', '.join(counts)}"]

    def _groups(self) -> tuple[tuple[Role, tuple[str, ...]], ...]:
        return (
            ("numeric", self.numeric),
            ("categorical", self.categorical),
            ("high_cardinality", self.high_cardinality),
            ("text", self.text),
            ("date", self.dates),
        )


_ROLE_NAMES: dict[Role, str] = {
    "numeric": "numeric",
    "categorical": "categorical",
    "high_cardinality": "high-cardinality categorical",
    "text": "text",
    "date": "date",
}


@dataclass(frozen=True)
class Dataset:
    """Features, target and what was learned about them while loading."""

    X: pd.DataFrame
    y: pd.Series
    schema: Schema
    task: Task
    source: str
    fingerprint: str
    notes: tuple[str, ...] = ()


def read_frame(source: str) -> pd.DataFrame:
    """Read a CSV or Parquet file, a scikit-learn built-in (``sklearn:breast_cancer``) or a
    table the project generates (``generated:weekday_visits``, see :mod:`tuneworth.generate`).

    A CSV file's delimiter (comma, semicolon, tab or bar) is sniffed from its first lines.
    pandas' nullable dtypes (``Int64``, ``Float64``, ``boolean``, ``string``, as Parquet
    files often hold) come back as the NumPy dtypes a CSV file gives, missing values as NaN.
    Columns are as pandas reads them: numbers written as text stay strings until
    :func:`load_dataset` reads them (see :func:`read_numbers`).
    """
    return _read(source)[0]


def _read(source: str) -> tuple[pd.DataFrame, str]:
    """The table of :func:`read_frame`, and its decimal mark ("," for a semicolon file of
    decimal commas, else ".")."""
    if source.startswith(SKLEARN_PREFIX):
        return _load_builtin(source.removeprefix(SKLEARN_PREFIX)), "."
    if source.startswith(GENERATED_PREFIX):
        return _generated(source.removeprefix(GENERATED_PREFIX)), "."
    path = Path(source)
    _check_data_file(path, source)
    options: dict[str, Any] = {}
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = _read_parquet(path)
        else:
            options = _csv_options(path)
            # pandas renames a repeated header ('a', 'a.1'); the raw header row tells.
            header = pd.read_csv(path, header=None, nrows=1, dtype=str, **options)
            _refuse_duplicates([str(name) for name in header.iloc[0].fillna("")], source)
            frame = pd.read_csv(path, **options)
            frame = _keep_codes(frame, path, options)
    except PermissionError:
        raise TuneworthError(
            f"data file '{source}' is not readable (permission denied): make it readable "
            "for this user, or copy it"
        ) from None
    except pd.errors.EmptyDataError:
        raise TuneworthError(
            f"data file '{source}' is empty: it needs a header row and data"
        ) from None
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TuneworthError(
            f"cannot read '{source}': {first}; save it as UTF-8 CSV or Parquet"
        ) from None
    if frame.empty:
        raise TuneworthError(f"data file '{source}' has no data rows")
    return normalise_dtypes(frame), str(options.get("decimal", "."))


def _read_parquet(path: Path) -> pd.DataFrame:
    """The Parquet file as a DataFrame, and the memory Arrow used to decode it given back.

    Arrow's allocator keeps the pages it freed for its next allocation; there is none,
    and they would count on top of every later peak (about 1.7 times the table's size for
    a million rows of floats).
    """
    import pyarrow

    frame = pd.read_parquet(path)
    pyarrow.default_memory_pool().release_unused()
    return frame


def _keep_codes(frame: pd.DataFrame, path: Path, options: dict[str, Any]) -> pd.DataFrame:
    """The integer columns written with leading zeros ('01234') as the strings they are.

    pandas reads a column of zip or account codes as integers, and '01234' becomes 1234:
    a code whose zero matters, and whose order and distances mean nothing. These come
    back as text, as a column of them with one '?' would; :func:`parse_numbers` then
    leaves them as text with a note.
    """
    integers = [c for c in frame.columns if pd.api.types.is_integer_dtype(frame[c].dtype)]
    if not integers:
        return frame
    raw = pd.read_csv(path, usecols=integers, dtype=str, **options)
    codes = {
        c: raw[c].astype("str") for c in integers if raw[c].str.strip().str.fullmatch(r"0\d+").any()
    }
    return frame.assign(**codes) if codes else frame


def _check_data_file(path: Path, source: str) -> None:
    """A missing file, a broken link, a link loop, a directory and a device each say so."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if path.is_symlink():
            raise TuneworthError(
                f"data file '{source}' is a symbolic link to a file that does not exist: "
                "point dataset.source at the file itself"
            ) from None
        raise TuneworthError(
            f"data file '{source}' not found: give a CSV or Parquet path relative to "
            f"'{Path.cwd()}', or a built-in such as 'sklearn:breast_cancer'"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise TuneworthError(
                f"data file '{source}' is a loop of symbolic links: point dataset.source at "
                "the file itself"
            ) from None
        if exc.errno == errno.ENOTDIR:
            raise TuneworthError(
                f"data file '{source}' not found: a part of the path is a file, not a directory"
            ) from None
        raise TuneworthError(f"cannot read data file '{source}': {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        inside = sorted(
            p.name for p in path.iterdir() if p.suffix.lower() in (".csv", ".parquet", ".pq")
        )
        hint = f", e.g. '{path / inside[0]}'" if inside else ""
        raise TuneworthError(
            f"data file '{source}' is a directory: give the CSV or Parquet file in it{hint}"
        )
    if not stat.S_ISREG(mode):
        raise TuneworthError(
            f"data file '{source}' is not a regular file (a pipe or a device): save the data "
            "to a CSV or Parquet file"
        )


# Delimiters a CSV file may use; the sniffer picks among these only.
_DELIMITERS = ",;\t|"
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "bar"}


def _csv_options(path: Path) -> dict[str, Any]:
    """``sep`` (and ``decimal`` for a semicolon file with decimal commas) from the first
    lines; a comma when they do not tell."""
    size = 64 * 1024
    with path.open("rb") as handle:
        sample = handle.read(size).decode("utf-8", errors="replace")
    lines = sample.splitlines()
    if len(sample) >= size and len(lines) > 1:
        lines = lines[:-1]  # cut in the middle
    lines = lines[:50]
    try:
        delimiter = csv.Sniffer().sniff("\n".join(lines), delimiters=_DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","
    if delimiter == "," or not lines:
        return {}
    options: dict[str, Any] = {"sep": delimiter}
    body = "\n".join(lines[1:])
    if delimiter == ";" and re.search(r"\d,\d", body) and not re.search(r"\d\.\d", body):
        options["decimal"] = ","
    return options


def delimiter_hint(frame: pd.DataFrame) -> str:
    """For a file read as one column: which other delimiter its header seems to use."""
    if len(frame.columns) != 1:
        return ""
    header = str(frame.columns[0])
    for delimiter in _DELIMITERS:
        if delimiter != "," and delimiter in header:
            return (
                f"; the file has one column, whose name holds {_NAMES[delimiter]}s: "
                f"is it {_NAMES[delimiter]}-separated?"
            )
    return ""


def normalise_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """pandas' nullable dtypes as the NumPy dtypes scikit-learn takes; booleans with
    missing values as strings.

    ``Int64`` becomes ``int64`` (``float64`` when values are missing), ``Float64``
    ``float64``, ``boolean`` ``bool`` (the strings ``"True"`` and ``"False"`` when values
    are missing: a category with missing values), ``string`` the default ``str`` dtype;
    ``pd.NA`` becomes NaN.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"n": pd.array([1, None], dtype="Int64"),
    ...                       "b": pd.array([True, None], dtype="boolean"),
    ...                       "s": pd.array(["a", None], dtype="string")})
    >>> normalise_dtypes(frame).dtypes.astype(str).tolist()
    ['float64', 'str', 'str']
    """
    columns: dict[str, pd.Series] = {}
    for name in frame.columns:
        values = frame[name]
        dtype = values.dtype
        if pd.api.types.is_object_dtype(dtype) and _booleans_with_missing(values):
            # As a CSV file of True, False and empty cells reads: two types to an encoder.
            columns[name] = values.map({True: "True", False: "False"}).astype("str")
            continue
        if not isinstance(dtype, pd.api.extensions.ExtensionDtype) or isinstance(
            dtype, pd.CategoricalDtype | pd.DatetimeTZDtype | pd.PeriodDtype | pd.IntervalDtype
        ):
            continue
        missing = bool(values.isna().any())
        if pd.api.types.is_bool_dtype(dtype):
            # With missing values, True and NaN together would be two types to an encoder.
            columns[name] = values.astype("str") if missing else values.astype(bool)
        elif pd.api.types.is_integer_dtype(dtype) and not missing:
            columns[name] = values.astype(np.dtype(str(dtype).lower()))
        elif pd.api.types.is_numeric_dtype(dtype):
            columns[name] = pd.Series(
                values.to_numpy(dtype="float64", na_value=np.nan), index=values.index
            )
        elif pd.api.types.is_string_dtype(dtype):
            columns[name] = values.astype("str")
    return frame.assign(**columns) if columns else frame


_CURRENCY = "$€£¥"
# A thousands separator is followed by groups of three digits: a comma or a space (plain,
# non-breaking or narrow) where the decimal mark is a dot; a dot or a space where it is a
# comma. Other cells of digits with a comma or a dot would be ambiguous, and stay text.
_THOUSANDS = {".": ", \u00a0\u202f", ",": ". \u00a0\u202f"}


@dataclass(frozen=True)
class NumberReading:
    """A string column read as numbers: what parsed, how it was written, what was missing.

    Attributes
    ----------
    numbers : Series
        The values as float64 on the column's index; NaN where the cell is missing, a
        missing-value marker, or not a number.
    share : float
        Of the cells that are neither missing nor a marker, the share that parse.
    markers : dict of str to int
        The missing-value markers as written, with their counts, most frequent first.
    unparsed : dict of str to int
        The other cells that are not numbers, with their counts, most frequent first.
    styles : tuple of str
        One cell as written for each way of writing beyond plain digits: a thousands
        separator, a currency sign, a percent sign (read as a fraction: 12% is 0.12).
    codes : bool
        Whether some cells are digits with a leading zero ('01234').
    """

    numbers: pd.Series
    share: float
    markers: dict[str, int]
    unparsed: dict[str, int]
    styles: tuple[str, ...]
    codes: bool

    @property
    def as_numbers(self) -> bool:
        """Whether loading reads the column as numbers.

        Not when it holds codes: a zip or account code with a leading zero is a label
        whose zero matters ('01234' is not '1234') and whose order and distances mean
        nothing, so it stays text.
        """
        return self.share >= NUMBER_SHARE and not self.codes

    def describe(self) -> str:
        """How the numbers were written: "'1,234' style, 3 cells of '?' as missing"."""
        parts = []
        if self.styles:
            parts.append(f"{' and '.join(shown(s) for s in self.styles)} style")
        if any("%" in s for s in self.styles):
            parts.append("percentages as fractions")
        if self.markers:
            (first, n_first), *others = self.markers.items()
            counts = [f"{n_first} {_cells(n_first)} of {shown(first)}"]
            counts += [f"{n} of {shown(marker)}" for marker, n in others]
            parts.append(f"{' and '.join(counts)} as missing")
        if self.unparsed:
            total = sum(self.unparsed.values())
            listed = ", ".join(shown(v) for v in list(self.unparsed)[:3])
            more = ", ..." if len(self.unparsed) > 3 else ""
            what = "not a number" if total == 1 else "not numbers"
            parts.append(f"{total} {_cells(total)} {what} ({listed}{more}) as missing")
        return ", ".join(parts) or "numbers stored as strings"


def _cells(n: int) -> str:
    return "cell" if n == 1 else "cells"


def read_numbers(values: pd.Series, decimal: str = ".") -> NumberReading | None:
    """Read a column of strings as numbers written for people.

    A cell may carry a sign, a currency sign ($, €, £, ¥) before or after, thousands
    separators (see ``_THOUSANDS``), a decimal mark ``decimal`` and a trailing percent sign;
    the cells in :data:`MISSING_MARKERS` (any case) are missing values. None when the
    column has no cell besides missing values and markers.

    >>> import pandas as pd
    >>> reading = read_numbers(pd.Series(["1,234", "$2,500.50", "?", "12"]))
    >>> reading.numbers.tolist()
    [1234.0, 2500.5, nan, 12.0]
    >>> reading.describe()
    "'$2,500.50' style, 1 cell of '?' as missing"
    >>> read_numbers(pd.Series(["01234", "02139", "?"])).as_numbers
    False
    """
    cells = values.dropna().astype("str").str.strip()
    is_marker = cells.str.lower().isin(MISSING_MARKERS)
    rest = cells[~is_marker]
    if rest.empty:
        return None
    currency = rest.str.extract(f"([{_CURRENCY}])", expand=False).fillna("")
    body = rest.str.replace(rf"^([-+]?)\s*[{_CURRENCY}]\s*|\s*[{_CURRENCY}]$", r"\1", regex=True)
    percent = body.str.endswith("%")
    body = body.str.removesuffix("%").str.rstrip()
    mark = re.escape(decimal)
    plain = body.str.fullmatch(rf"[-+]?(?:\d+(?:{mark}\d*)?|{mark}\d+)(?:[eE][-+]?\d+)?")
    normal = body.where(plain)
    separator = pd.Series("", index=body.index, dtype="str")
    for thousands in _THOUSANDS[decimal]:
        grouped = (
            body.str.fullmatch(rf"[-+]?\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+(?:{mark}\d+)?")
            & ~plain
        )
        normal = normal.mask(grouped, body.str.replace(thousands, "", regex=False))
        separator = separator.mask(grouped, thousands)
    numbers = pd.to_numeric(normal.str.replace(decimal, ".", regex=False), errors="coerce")
    numbers = numbers.astype("float64").mask(percent, numbers / 100)
    parsed = numbers.notna()
    style = (currency + separator + percent.map({True: "%", False: ""}))[parsed]
    # One example per way of writing, leaving out those another example shows ('$80.25'
    # when '$1,234.50' is listed).
    written = rest[parsed]
    examples = {key: str(written[style == key].iloc[0]) for key in style.unique() if key}
    styles = tuple(
        cell
        for key, cell in examples.items()
        if not any(set(key) < set(other) for other in examples)
    )
    return NumberReading(
        numbers=numbers.reindex(values.index),
        share=float(parsed.mean()),
        markers={str(k): int(n) for k, n in cells[is_marker].value_counts().items()},
        unparsed={str(k): int(n) for k, n in rest[~parsed].value_counts().items()},
        styles=styles,
        codes=bool(rest.str.fullmatch(r"0\d+").any()),
    )


def parse_numbers(
    X: pd.DataFrame,
    decimal: str = ".",
    keep: tuple[str, ...] = (),
    numeric: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, dict[str, str], dict[str, str]]:
    """Read the string columns of numbers written as text as numbers (see
    :func:`read_numbers`), except those in ``keep``; those in ``numeric`` even if they
    hold codes. In a file read with a decimal dot, a column that parses only with decimal
    commas ('3,5', '1.234,5') is read with them.

    Returns the table; for each column read, how its numbers were written; and, for each
    column of digits left as text because it holds codes, a code with its leading zero.
    A column of whole numbers with no missing value becomes int64, as pandas reads one
    from a CSV.
    """
    columns: dict[str, pd.Series] = {}
    parsed: dict[str, str] = {}
    kept: dict[str, str] = {}
    for column in X.columns:
        values = X[column]
        if column in keep or not (
            pd.api.types.is_string_dtype(values.dtype) or pd.api.types.is_object_dtype(values)
        ):
            continue
        reading = read_numbers(values, decimal)
        comma = False
        if decimal == "." and (reading is None or reading.share < NUMBER_SHARE):
            # A column written with decimal commas ('3,5', '1.234,5') in a file that is
            # otherwise not: read so only when the whole column is consistently that way.
            reading, comma = read_numbers(values, ","), True
        if reading is None or reading.share < NUMBER_SHARE:
            continue
        if reading.codes and column not in numeric:
            codes = values.dropna().astype("str").str.strip()
            kept[str(column)] = str(codes[codes.str.fullmatch(r"0\d+")].iloc[0])
            continue
        numbers = reading.numbers
        whole = numbers.notna().all() and bool(np.all(np.mod(numbers.to_numpy(), 1) == 0))
        if whole and numbers.abs().max() < 2**53:  # exactly representable either way
            numbers = numbers.astype("int64")
        columns[str(column)] = numbers
        how = reading.describe()
        if comma:
            how = "decimal comma" if how == "numbers stored as strings" else f"decimal comma, {how}"
        parsed[str(column)] = how
    return (X.assign(**columns) if columns else X), parsed, kept


def shown(value: object) -> str:
    """A value as a person would write it: 'yes' quoted, 3 and 0.5 bare, no numpy reprs."""
    value = value.item() if isinstance(value, np.generic) else value
    return f"'{value}'" if isinstance(value, str) else str(value)


def _refuse_duplicates(columns: list[str], source: str) -> None:
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        names = ", ".join(f"'{c}'" for c in duplicated)
        raise TuneworthError(
            f"duplicate column names in '{source}': {names}; rename them so each column has "
            "its own name"
        )


def _generated(name: str) -> pd.DataFrame:
    from tuneworth.generate import GENERATORS

    if name not in GENERATORS:
        raise TuneworthError(
            f"unknown generated dataset 'generated:{name}'{closest(name, GENERATORS)}; "
            f"choose one of {', '.join(GENERATORS)}"
        )
    return GENERATORS[name]()


def _load_builtin(name: str) -> pd.DataFrame:
    from sklearn import datasets

    if name not in SKLEARN_DATASETS:
        raise TuneworthError(
            f"unknown built-in dataset 'sklearn:{name}'{closest(name, SKLEARN_DATASETS)}; "
            f"choose one of {', '.join(SKLEARN_DATASETS)}"
        )
    bunch = getattr(datasets, f"load_{name}")(as_frame=True)
    frame: pd.DataFrame = bunch.frame
    if name in ("breast_cancer", "iris", "wine"):
        # Class names read better than codes in reports, and make the target categorical.
        names = np.asarray(bunch.target_names)
        frame["target"] = pd.Series(names[frame["target"].to_numpy()], dtype="str")
    return frame


def load_dataset(
    source: str,
    target: str,
    task: Task | Literal["auto"] = "auto",
    drop: tuple[str, ...] = (),
    min_class_rows: int | None = None,
    roles: Mapping[str, Role] | None = None,
    target_setting: str = "dataset.target",
) -> Dataset:
    """Load ``source`` and split it into features and ``target``.

    Rows whose target is missing are dropped (with a note), ID-like columns and columns in
    ``drop`` are excluded from the features, the task is inferred unless given, and each
    column's role is inferred unless ``roles`` gives it (see :func:`infer_schema`). With
    ``min_class_rows``, the rows of classes with fewer rows are dropped (with a note).
    String columns of numbers written as text are read as numbers (see
    :func:`parse_numbers`), the target excepted. ``target_setting`` is where the user
    named the target (``"--target"`` on the command line), for the hint of an unknown one.
    """
    frame, decimal = _read(source)
    return frame_dataset(
        frame,
        target,
        task,
        drop,
        min_class_rows,
        roles,
        source=source,
        decimal=decimal,
        target_setting=target_setting,
    )


def frame_dataset(
    frame: pd.DataFrame,
    target: str,
    task: Task | Literal["auto"] = "auto",
    drop: tuple[str, ...] = (),
    min_class_rows: int | None = None,
    roles: Mapping[str, Role] | None = None,
    *,
    source: str = "DataFrame",
    decimal: str = ".",
    target_setting: str = "dataset.target",
) -> Dataset:
    """The :class:`Dataset` of a table already in memory, as :func:`load_dataset` makes it
    of a file (``source`` names the table in notes and errors; ``decimal`` is the decimal
    mark of numbers written as text)."""
    columns = [str(c) for c in frame.columns]
    _refuse_duplicates(columns, source)
    frame.columns = pd.Index(columns)
    if target not in frame.columns:
        raise TuneworthError(
            f"target column '{target}' not in '{source}'{closest(target, columns)}; "
            f"set {target_setting} to one of its {len(columns)} columns{delimiter_hint(frame)}"
        )
    unknown = [c for c in drop if c not in frame.columns]
    if unknown:
        raise TuneworthError(
            f"dataset.drop names unknown column '{unknown[0]}'{closest(unknown[0], columns)}"
        )
    notes: list[str] = []
    y = frame[target]
    missing = y.isna()
    if pd.api.types.is_float_dtype(y):
        missing |= np.isinf(y.to_numpy())
    if missing.all():
        raise TuneworthError(f"target column '{target}' is entirely missing: choose another")
    if missing.any():
        notes.append(f"dropped {int(missing.sum())} rows whose target '{target}' is missing")
        frame = frame.loc[~missing].reset_index(drop=True)
        y = frame[target]
    if y.nunique() < 2:
        raise TuneworthError(
            f"target column '{target}' has a single value ({shown(y.iloc[0])}): nothing to predict"
        )
    resolved = detect_task(y) if task == "auto" else task
    if min_class_rows is not None:
        frame, dropped = drop_rare_classes(frame, target, resolved, min_class_rows)
        notes += dropped
        y = frame[target]
        resolved = detect_task(y) if task == "auto" else resolved
    if task == "auto" and resolved == "regression" and _integral(y):
        notes.append(
            f"target '{target}' holds {y.nunique()} distinct whole numbers, more than "
            f"{MAX_CLASSES}: taken as regression; if they are class codes, set "
            "dataset.task: multiclass"
        )
    if resolved == "regression":
        if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
            raise TuneworthError(
                f"task is regression but target '{target}' is not numeric; "
                "set dataset.task to binary or multiclass"
            )
        y = y.astype("float64")
    elif resolved == "binary" and y.nunique() != 2:
        raise TuneworthError(
            f"task is binary but target '{target}' has {y.nunique()} classes; "
            "set dataset.task to multiclass"
        )
    X = frame.drop(columns=[target, *drop])
    unknown = [c for c in roles or {} if c not in X.columns]
    if unknown:
        raise TuneworthError(
            f"dataset.roles names unknown column '{unknown[0]}'"
            f"{closest(unknown[0], [str(c) for c in X.columns])}"
        )
    # The target is never read as numbers: its values are the classes or amounts as given,
    # and a marker such as '?' in it is for the user to decide on. A column the spec gives
    # a non-numeric role stays as written.
    given = roles or {}
    X, parsed, codes = parse_numbers(
        X,
        decimal,
        keep=tuple(c for c, r in given.items() if r != "numeric"),
        numeric=tuple(c for c, r in given.items() if r == "numeric"),
    )
    notes += [f"column '{c}' read as numbers: {how}" for c, how in parsed.items()]
    notes += [
        f"column '{c}' kept as text: codes with a leading zero ({shown(code)})"
        for c, code in codes.items()
    ]
    infinite = {
        c: int(n)
        for c in X.columns
        if pd.api.types.is_float_dtype(X[c]) and (n := np.isinf(X[c].to_numpy()).sum())
    }
    if infinite:
        X = X.replace([np.inf, -np.inf], np.nan)
        listed = ", ".join(f"'{c}' ({n})" for c, n in infinite.items())
        notes.append(f"treated infinite values as missing in {listed}")
    schema = infer_schema(X, roles)
    schema = dataclasses.replace(
        schema, parsed={c: how for c, how in parsed.items() if c in schema.features}
    )
    for column, reason in schema.excluded.items():
        notes.append(f"excluded column '{column}': {reason}")
    notes.extend(schema.describe())
    if not schema.features:
        raise TuneworthError(
            f"no usable feature columns in '{source}' besides the target: "
            "add numeric or categorical columns"
        )
    X = X[list(schema.features)]
    return Dataset(
        X=X,
        y=y,
        schema=schema,
        task=resolved,
        source=source,
        fingerprint=fingerprint(X, y),
        notes=tuple(notes),
    )


def drop_rare_classes(
    frame: pd.DataFrame, target: str, task: Task, min_rows: int
) -> tuple[pd.DataFrame, list[str]]:
    """The rows of the classes with at least ``min_rows`` rows, and a note naming the rest.

    Dropping, not merging into an "other" class: a merged class mixes unrelated rare
    classes into one no one asked to predict, and two classes of 2 rows still make a class
    too small for most fold counts. The few rows dropped are named, so nothing goes
    silently.
    """
    if task == "regression":
        raise TuneworthError(
            "dataset.min_class_rows drops rare classes, but the task is regression: remove it"
        )
    counts = frame[target].value_counts()
    counts = counts[counts > 0]  # a categorical target lists its unused categories
    rare = counts[counts < min_rows]
    if rare.empty:
        return frame, []
    if len(counts) - len(rare) < 2:
        raise TuneworthError(
            f"dataset.min_class_rows: {min_rows} would leave fewer than 2 classes (the "
            f"largest has {int(counts.max())} rows): lower it"
        )
    listed = ", ".join(f"{shown(c)} ({int(n)})" for c, n in rare.items())
    kept = frame.loc[~frame[target].isin(rare.index)].reset_index(drop=True)
    note = (
        f"dropped {len(rare)} {'class' if len(rare) == 1 else 'classes'} with fewer than "
        f"dataset.min_class_rows = {min_rows} rows, {int(rare.sum())} rows in all: {listed}"
    )
    return kept, [note]


def detect_task(y: pd.Series) -> Task:
    """Infer the task from the target's dtype and number of distinct values.

    >>> import pandas as pd
    >>> detect_task(pd.Series(["a", "b", "a"]))
    'binary'
    >>> detect_task(pd.Series([0, 1, 2, 1]))
    'multiclass'
    >>> detect_task(pd.Series([0.5, 1.25, 3.0]))
    'regression'
    """
    values = y.dropna()
    n_unique = values.nunique()
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return "binary" if n_unique == 2 else "multiclass"
    if _integral(values) and n_unique <= MAX_CLASSES:
        return "binary" if n_unique == 2 else "multiclass"
    return "regression"


def _booleans_with_missing(values: pd.Series) -> bool:
    present = values.dropna()
    return len(present) < len(values) and all(isinstance(v, bool | np.bool_) for v in present)


def _integral(values: pd.Series) -> bool:
    """Whole numbers only (of an integer or a float dtype), missing values aside."""
    values = values.dropna()
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return False
    return pd.api.types.is_integer_dtype(values) or bool(
        np.all(np.mod(values.to_numpy(dtype=float), 1) == 0)
    )


def infer_schema(X: pd.DataFrame, roles: Mapping[str, Role] | None = None) -> Schema:
    """Give each column a role, and exclude unusable columns.

    Roles, in the manner of skrub's ``TableVectorizer``, decided once on the whole table
    (they depend on the columns' form, never on the target):

    - *numeric*: numbers (booleans are categorical);
    - *date*: datetimes, and strings in which skrub's ``ToDatetime`` finds a date format;
    - *text*: strings with at least 40 distinct values and 3 words per value on average;
    - *high-cardinality categorical*: other strings with more than 40 distinct values;
    - *categorical*: the rest.

    Excluded: columns that are entirely missing or constant, and ID-like columns (a
    distinct value on every row, and either an ID-like name, a string column that is not
    text, or an integer column counting up by one), which would let a model memorise rows.
    ``roles`` sets the role of some columns instead (an ID-like column included).

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"id": [1, 2, 3, 4], "age": [30.0, None, 41.0, 25.0],
    ...                       "city": ["Oslo", "Rome", None, "Oslo"], "flag": [1, 1, 1, 1],
    ...                       "day": ["2026-11-01", "2026-11-02", "2026-11-05", None]})
    >>> schema = infer_schema(frame)
    >>> schema.numeric, schema.categorical, schema.dates
    (('age',), ('city',), ('day',))
    >>> sorted(schema.excluded)
    ['flag', 'id']
    >>> infer_schema(frame, {"city": "text"}).text
    ('city',)

    Raises
    ------
    TuneworthError
        If ``roles`` makes a column of text numeric, or names an unknown role.
    """
    groups: dict[Role, list[str]] = {role: [] for role in ROLES}
    excluded: dict[str, str] = {}
    reasons: dict[str, str] = {}
    roles = dict(roles or {})
    n_rows = len(X)
    for column in X.columns:
        values = X[column]
        non_missing = values.dropna()
        is_bool = pd.api.types.is_bool_dtype(values)
        is_numeric = pd.api.types.is_numeric_dtype(values) and not is_bool
        if column in roles:
            role = roles[column]
            if role not in ROLES:
                raise TuneworthError(
                    f"dataset.roles: '{role}' for column '{column}' is not a role"
                    f"{closest(str(role), ROLES)}; choose one of {', '.join(ROLES)}"
                )
            if role == "numeric" and not is_numeric:
                raise TuneworthError(
                    f"dataset.roles: column '{column}' holds {values.dtype} values, not numbers; "
                    "give it another role"
                )
            groups[role].append(column)
            reasons[column] = "set by dataset.roles"
            continue
        if non_missing.empty:
            excluded[column] = "entirely missing"
            continue
        if non_missing.nunique() < 2:
            excluded[column] = "constant"
            continue
        if pd.api.types.is_datetime64_any_dtype(values) or isinstance(values.dtype, pd.PeriodDtype):
            groups["date"].append(column)
            reasons[column] = "a datetime column"
            continue
        if is_numeric or is_bool:
            if _looks_like_id(column, values, is_numeric, n_rows):
                excluded[column] = "ID-like (a distinct value on every row)"
                continue
            groups["numeric" if is_numeric else "categorical"].append(column)
            continue
        strings = non_missing.astype(str)
        distinct = strings.nunique()
        words = float(strings.str.count(r"\S+").mean())
        if distinct >= TEXT_MIN_DISTINCT and words >= TEXT_MIN_WORDS:
            groups["text"].append(column)
            reasons[column] = f"{distinct} distinct values, {words:.1f} words per value"
            continue
        date_format = _date_format(strings, column)
        if date_format:
            groups["date"].append(column)
            reasons[column] = f"strings that parse as dates ({date_format})"
            continue
        if _looks_like_id(column, values, is_numeric, n_rows):
            excluded[column] = "ID-like (a distinct value on every row)"
            continue
        if distinct > MAX_CATEGORIES:
            groups["high_cardinality"].append(column)
            reasons[column] = f"{distinct} distinct values, too many to one-hot encode"
            continue
        groups["categorical"].append(column)
    return Schema(
        numeric=tuple(groups["numeric"]),
        categorical=tuple(groups["categorical"]),
        excluded=excluded,
        high_cardinality=tuple(groups["high_cardinality"]),
        text=tuple(groups["text"]),
        dates=tuple(groups["date"]),
        reasons=reasons,
    )


def _date_format(strings: pd.Series, column: str) -> str | None:
    """The date format skrub's ``ToDatetime`` finds in ``strings``, or None."""
    sample = strings.drop_duplicates().head(_DATE_SAMPLE)
    # Dates have digits and a separator; skipping other columns keeps loading fast.
    if not sample.str.contains(r"\d[-/.:]\d", regex=True).mean() > 0.9:
        return None
    from skrub import ToDatetime

    try:
        converter = ToDatetime().fit(sample.rename(column).astype("str"))
    except ValueError:  # skrub's RejectColumn: no format fits
        return None
    return str(getattr(converter, "format_", None) or "mixed formats")


def _looks_like_id(name: str, values: pd.Series, is_numeric: bool, n_rows: int) -> bool:
    if values.isna().any() or values.nunique() != len(values):
        return False
    lowered = name.lower()
    if lowered in _ID_NAMES or lowered.endswith(("_id", " id")) or lowered.startswith("id_"):
        return True
    if n_rows < _MIN_ROWS_FOR_ID_GUESS:
        # In a handful of rows any column can be all-distinct; only the name is evidence.
        return False
    if not is_numeric:
        return True
    if pd.api.types.is_integer_dtype(values):
        ordered = np.sort(values.to_numpy())
        return bool(np.all(np.diff(ordered) == 1))
    return False


def fingerprint(X: pd.DataFrame, y: pd.Series) -> str:
    """A short hash of the rows, columns and dtypes: equal data gives an equal fingerprint."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(f"{c}:{X[c].dtype}" for c in X.columns).encode())
    digest.update(pd.util.hash_pandas_object(X, index=False).to_numpy().tobytes())
    digest.update(pd.util.hash_pandas_object(y, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]
