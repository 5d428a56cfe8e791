"""Data types as they are: numbers written for people ('1,234', '$1,234.50', '12%', '?' for
missing) read as numbers with a note, while codes, the target, booleans and dates stay as
written, and the diagnosis says what loading read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tuneworth.cli import main
from tuneworth.data import load_dataset, read_numbers
from tuneworth.diagnose import diagnose
from tuneworth.errors import TuneworthError

N = 60


def _write(tmp_path: Path, columns: dict[str, list[str]], name: str = "d.csv") -> Path:
    """A CSV of the given string columns, a binary target ``y`` and a numeric ``x``."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(columns)
    frame["x"] = rng.normal(size=len(frame))
    frame["y"] = np.where(np.arange(len(frame)) % 2 == 0, "yes", "no")
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def _notes_about(notes: tuple[str, ...], column: str) -> list[str]:
    return [note for note in notes if note.startswith(f"column '{column}' read as numbers")]


@pytest.mark.parametrize(
    ("cells", "first", "note"),
    [
        (["1,234", "56,789", "1,234,567"], 1234.0, "'1,234' style"),
        (["1 234", "56 789", "12"], 1234.0, "'1 234' style"),
        (["$1,234.50", "$80.25", "$3,000.00"], 1234.5, "'$1,234.50' style"),
        (["12%", "7.5%", "100%"], 0.12, "'12%' style, percentages as fractions"),
    ],
)
def test_numbers_with_separators_currency_or_percent_are_read_as_numbers(
    tmp_path: Path, cells: list[str], first: float, note: str
) -> None:
    path = _write(tmp_path, {"amount": (cells * N)[:N]})
    dataset = load_dataset(str(path), "y")
    assert dataset.X["amount"].dtype.kind in "if"  # int64 for whole numbers, no gaps
    assert dataset.X["amount"].iloc[0] == pytest.approx(first)
    assert dataset.schema.numeric == ("amount", "x")
    assert _notes_about(dataset.notes, "amount") == [f"column 'amount' read as numbers: {note}"]


def test_missing_value_markers_are_missing_whatever_their_case(tmp_path: Path) -> None:
    markers = ["?", "n/a", "NA", "N/A", "-", "", "null", "None", "none", "NULL"]
    cells = [str(v) for v in range(N - len(markers))] + markers
    dataset = load_dataset(str(_write(tmp_path, {"age": cells})), "y")
    assert dataset.X["age"].dtype == "float64"
    assert int(dataset.X["age"].isna().sum()) == len(markers)
    assert dataset.X["age"].iloc[:3].tolist() == [0.0, 1.0, 2.0]
    # pandas itself reads '', 'NA', 'N/A', 'n/a', 'null', 'NULL' and 'None' as missing.
    (note,) = _notes_about(dataset.notes, "age")
    assert (
        note
        == "column 'age' read as numbers: 1 cell of '?' and 1 of '-' and 1 of 'none' as missing"
    )


def test_a_few_cells_that_are_not_numbers_become_missing_and_are_named(
    tmp_path: Path,
) -> None:
    cells = [f"{v:,}" for v in range(1000, 1000 + N - 2)] + ["unknown", "see notes"]
    dataset = load_dataset(str(_write(tmp_path, {"amount": cells})), "y")
    assert dataset.X["amount"].isna().sum() == 2
    (note,) = _notes_about(dataset.notes, "amount")
    assert note.endswith("2 cells not numbers ('unknown', 'see notes') as missing")


def test_a_column_under_95_percent_numbers_stays_text(tmp_path: Path) -> None:
    cells = [f"{v:,}" for v in range(1000, 1000 + N - 6)] + ["unknown"] * 6  # 90% numbers
    dataset = load_dataset(str(_write(tmp_path, {"amount": cells})), "y")
    assert dataset.X["amount"].dtype == "str"
    assert not _notes_about(dataset.notes, "amount")
    found = {f.name: f for f in diagnose(dataset.X, dataset.y, dataset.task, dataset.schema)}[
        "numbers as text"
    ]
    assert (found.severity, found.columns) == ("warning", ("amount",))
    assert "amount 90% parse" in found.summary


def test_whole_numbers_with_no_gap_are_integers(tmp_path: Path) -> None:
    dataset = load_dataset(str(_write(tmp_path, {"units": ["1,000", "2,500"] * (N // 2)})), "y")
    assert dataset.X["units"].dtype == "int64"
    assert dataset.X["units"].tolist()[:2] == [1000, 2500]


def test_whole_numbers_beyond_exact_floats_stay_floats(tmp_path: Path) -> None:
    cells = ["1,234,567,890,123,456,789", "2,000"] * (N // 2)
    dataset = load_dataset(str(_write(tmp_path, {"big": cells})), "y")
    assert dataset.X["big"].dtype == "float64"
    assert dataset.X["big"].iloc[0] == pytest.approx(1.2345678901234568e18)


def test_zip_codes_with_leading_zeros_stay_text(tmp_path: Path) -> None:
    cells = (["01234", "02139", "10001", "?"] * N)[:N]
    dataset = load_dataset(str(_write(tmp_path, {"zip": cells})), "y")
    assert dataset.X["zip"].dtype == "str"
    assert dataset.X["zip"].iloc[0] == "01234"
    assert dataset.schema.categorical == ("zip",)
    assert not _notes_about(dataset.notes, "zip")
    assert "column 'zip' kept as text: codes with a leading zero ('01234')" in dataset.notes
    found = {f.name: f for f in diagnose(dataset.X, dataset.y, dataset.task, dataset.schema)}
    assert found["numbers as text"].severity == "ok"


def test_zip_codes_pandas_would_read_as_integers_stay_text_with_a_note(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, {"zip": (["01234", "02139", "10001"] * N)[:N]})
    dataset = load_dataset(str(path), "y")
    assert dataset.X["zip"].iloc[:3].tolist() == ["01234", "02139", "10001"]
    assert dataset.schema.categorical == ("zip",)
    assert "column 'zip' kept as text: codes with a leading zero ('01234')" in dataset.notes
    numeric = load_dataset(str(path), "y", roles={"zip": "numeric"})
    assert numeric.X["zip"].iloc[:3].tolist() == [1234, 2139, 10001]


def test_the_target_is_never_read_as_numbers(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "x": np.arange(N, dtype=float) % 7,
            "label": (["1,000", "2,000", "?"] * N)[:N],
            "answer": (["yes", "no", "?"] * N)[:N],
        }
    )
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    coded = load_dataset(str(path), "label")
    assert coded.y.dtype == "str"
    assert sorted(coded.y.unique()) == ["1,000", "2,000", "?"]
    assert coded.task == "multiclass"
    answered = load_dataset(str(path), "answer")
    assert sorted(answered.y.unique()) == ["?", "no", "yes"]
    # The other of the two is a feature: 'label' is read as numbers there.
    assert answered.X["label"].dtype == "float64"


def test_booleans_and_dates_are_left_as_they_were(tmp_path: Path) -> None:
    columns = {
        "member": (["True", "False", ""] * N)[:N],
        "flag": (["yes", "no", "?"] * N)[:N],
        "day": pd.date_range("2026-01-01", periods=N, freq="D").strftime("%Y-%m-%d").tolist(),
        "stamp": pd.date_range("2026-01-01", periods=N, freq="h").strftime("%d/%m/%Y %H:%M"),
    }
    dataset = load_dataset(str(_write(tmp_path, columns)), "y")
    assert dataset.schema.categorical == ("member", "flag")
    assert dataset.schema.dates == ("day", "stamp")
    assert dataset.schema.numeric == ("x",)
    assert not any("read as numbers" in note for note in dataset.notes)
    assert dataset.schema.parsed == {}


def test_a_spec_role_keeps_a_column_as_written(tmp_path: Path) -> None:
    path = _write(tmp_path, {"amount": (["1,234", "5,678", "?"] * N)[:N]})
    dataset = load_dataset(str(path), "y", roles={"amount": "categorical"})
    assert dataset.X["amount"].dtype == "str"
    assert dataset.schema.categorical == ("amount",)
    numeric = load_dataset(str(path), "y", roles={"amount": "numeric"})
    assert numeric.X["amount"].dtype == "float64"


def test_a_decimal_comma_file_reads_its_amounts_with_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    rows = zip(
        (["1 234,5", "2,75", "?", "12"] * N)[:N],
        (["0,5", "1,5", "2,5"] * N)[:N],
        (["yes", "no"] * N)[:N],
        strict=True,
    )
    path.write_text("amount;x;y\n" + "".join(f"{a};{x};{y}\n" for a, x, y in rows))
    dataset = load_dataset(str(path), "y")
    assert dataset.X["amount"].iloc[:4].tolist()[:2] == [1234.5, 2.75]
    assert np.isnan(dataset.X["amount"].iloc[2])
    assert dataset.X["x"].iloc[0] == 0.5


def test_dots_group_thousands_where_the_decimal_mark_is_a_comma() -> None:
    reading = read_numbers(pd.Series(["€1.234,50", "2.000", "NULL", "1,5"]), decimal=",")
    assert reading is not None
    assert reading.numbers.tolist()[:2] == [1234.5, 2000.0]
    assert reading.numbers.iloc[3] == 1.5
    assert reading.describe() == "'€1.234,50' style, 1 cell of 'NULL' as missing"


def test_the_diagnosis_reports_what_loading_read(tmp_path: Path) -> None:
    path = _write(tmp_path, {"amount": (["1,234", "56,789", "990", "?"] * N)[:N]})
    dataset = load_dataset(str(path), "y")
    assert dataset.schema.parsed == {"amount": "'1,234' style, 15 cells of '?' as missing"}
    found = {f.name: f for f in diagnose(dataset.X, dataset.y, dataset.task, dataset.schema)}
    finding = found["numbers as text"]
    assert finding.severity == "info"
    assert finding.summary == "read as numbers: amount ('1,234' style, 15 cells of '?' as missing)"
    assert finding.numbers == {"columns": 0.0, "parsed": 1.0}


def test_read_numbers_of_a_column_of_markers_only_is_none() -> None:
    assert read_numbers(pd.Series(["?", "-", None], dtype="str")) is None


def test_check_prints_each_decision_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, {"amount": (["1,234", "56,789", "990", "?"] * N)[:N]})
    assert main(["check", str(path), "--target", "y"]) == 0
    out = capsys.readouterr().out
    assert out.count("note: column 'amount' read as numbers: '1,234' style") == 1
    assert "numeric (2): amount, x" in out


def test_an_unknown_target_on_the_command_line_names_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, {"amount": ["1"] * N})
    assert main(["check", str(path), "--target", "churn"]) == 2
    err = capsys.readouterr().err
    assert "set --target to one of its 3 columns" in err
    assert "dataset.target" not in err
    with pytest.raises(TuneworthError, match=r"set dataset\.target to one of its 3 columns"):
        load_dataset(str(path), "churn")


def _write_european(tmp_path: Path, columns: dict[str, list[str]]) -> Path:
    """A semicolon CSV of the given columns beside a decimal-dot column ``ratio``, so the
    file as a whole reads with a decimal dot, and a binary target ``y``."""
    frame = pd.DataFrame(columns)
    frame["ratio"] = [f"{v / 7:.3f}" for v in range(len(frame))]
    frame["y"] = np.where(np.arange(len(frame)) % 2 == 0, "ja", "nein")
    path = tmp_path / "euro.csv"
    frame.to_csv(path, index=False, sep=";")
    return path


def test_decimal_comma_columns_are_read_as_numbers_with_one_note_each(tmp_path: Path) -> None:
    price = (
        [f"{v:,.1f}".translate(str.maketrans(",.", ".,")) for v in (1234.5, 980.0, 12345.25)] * N
    )[:N]
    rate = (["3,5", "12,25", "?", "-0,75"] * N)[:N]
    dataset = load_dataset(str(_write_european(tmp_path, {"price": price, "rate": rate})), "y")
    assert price[:2] == ["1.234,5", "980,0"]
    assert dataset.X["price"].tolist()[:3] == [1234.5, 980.0, 12345.2]
    assert dataset.X["rate"].tolist()[:2] == [3.5, 12.25]
    assert dataset.X["rate"].isna().sum() == N // 4
    assert dataset.X["ratio"].iloc[1] == pytest.approx(0.143)
    assert set(dataset.schema.numeric) == {"price", "rate", "ratio"}
    assert _notes_about(dataset.notes, "price") == [
        "column 'price' read as numbers: decimal comma, '1.234,5' style"
    ]
    assert _notes_about(dataset.notes, "rate") == [
        "column 'rate' read as numbers: decimal comma, 15 cells of '?' as missing"
    ]


def test_a_column_mixing_decimal_marks_stays_text(tmp_path: Path) -> None:
    mixed = (["3,5", "2.25", "4,75", "1.5"] * N)[:N]  # half one way, half the other
    dataset = load_dataset(str(_write_european(tmp_path, {"mixed": mixed})), "y")
    assert dataset.X["mixed"].dtype == "str"
    assert not _notes_about(dataset.notes, "mixed")


def test_three_digits_after_a_lone_comma_stay_thousands(tmp_path: Path) -> None:
    dataset = load_dataset(str(_write_european(tmp_path, {"units": ["1,234", "2,500"] * 30})), "y")
    assert dataset.X["units"].tolist()[:2] == [1234, 2500]
