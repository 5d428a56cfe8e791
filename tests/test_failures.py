"""When the store, the machine or the input fails: one line, within seconds, no run left RUNNING.

Real faults, not mocks: a closed port, a local HTTP server that is not MLflow, a file where a
directory should be, a read-only directory, an SQLite file locked by another connection, a
write to /dev/full. As root, file permissions do not bind; the read-only cases then run the
command without the capabilities that bypass them (``setpriv``), or are skipped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

import tuneworth.tracking as tracking
from tuneworth.cli import main
from tuneworth.data import load_dataset, normalise_dtypes, read_frame
from tuneworth.errors import TuneworthError
from tuneworth.experiment import plan_experiment, run_experiment
from tuneworth.spec import load_spec, parse_spec
from tuneworth.tracking import StoreError, Tracker, store_errors

SPEC: dict[str, Any] = {
    "name": "faults",
    "dataset": {"source": "sklearn:iris"},
    "cv": {"folds": 2, "repeats": 1, "inner_folds": 2},
    "levers": ["scaling"],
}
ROOT = Path(__file__).resolve().parents[1]


def write_spec(tmp_path: Path, **changes: Any) -> str:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({**SPEC, **changes}))
    return str(path)


def fails_in_one_line(
    args: list[str], capsys: pytest.CaptureFixture[str], within: float = 15
) -> str:
    """Run the command; assert exit code 2 and one line on stderr, in time; return it."""
    start = time.perf_counter()
    code = main(args)
    seconds = time.perf_counter() - start
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("tuneworth: error: "), err
    assert seconds < within
    return err


@pytest.fixture
def store(tmp_path: Path, tracking_uri: str) -> str:
    """A migrated SQLite store of this test's own: a copy of the session's empty one."""
    database = tmp_path / "store" / "mlflow.db"
    database.parent.mkdir()
    shutil.copy(tracking_uri.removeprefix("sqlite:///"), database)
    return f"sqlite:///{database}"


def running(uri: str) -> int:
    client = MlflowClient(uri)
    ids = [e.experiment_id for e in client.search_experiments()]
    return sum(r.info.status == "RUNNING" for r in client.search_runs(ids)) if ids else 0


# --- the store -------------------------------------------------------------------------


def test_a_closed_port_is_named_within_seconds_not_after_minutes_of_retries(
    tmp_path: Path, free_port: Callable[[], int], capsys: pytest.CaptureFixture[str]
) -> None:
    uri = f"http://127.0.0.1:{free_port()}"
    err = fails_in_one_line(["run", write_spec(tmp_path), "--tracking-uri", uri], capsys)
    assert f"no MLflow server answers at {uri} (connection refused)" in err


@pytest.fixture
def not_mlflow(free_port: Callable[[], int], tmp_path: Path) -> Iterator[str]:
    """A plain HTTP file server on a free port: it answers, but not MLflow's REST API."""
    port = free_port()

    class Quiet(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


def test_an_http_server_that_is_not_mlflow_is_named_as_such(
    tmp_path: Path, not_mlflow: str, capsys: pytest.CaptureFixture[str]
) -> None:
    err = fails_in_one_line(["run", write_spec(tmp_path), "--tracking-uri", not_mlflow], capsys)
    assert "answers but is not an MLflow tracking server" in err


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("mlfow://host/store", "unknown tracking URI scheme 'mlfow'"),
        ("sqlite://relative.db", "names no file"),
        ("{tmp}/plain", "plain directory (file) store"),
        ("file://{tmp}/plain", "plain directory (file) store"),
        ("sqlite:///{tmp}/afile/mlflow.db", "is a file, not a directory"),
        ("sqlite:///{tmp}/adir", "is a directory, not an SQLite file"),
        ("sqlite:///{tmp}/garbage.db", "is not an SQLite database"),
    ],
)
def test_an_unusable_store_address_is_one_line_before_any_work(
    uri: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "plain").mkdir()
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("x")
    (tmp_path / "garbage.db").write_bytes(b"not a database at all, " * 100)
    uri = uri.replace("{tmp}", str(tmp_path))
    report = tmp_path / "reports"
    args = ["run", write_spec(tmp_path), "--tracking-uri", uri, "--report-dir", str(report)]
    err = fails_in_one_line(args, capsys, within=10)
    assert expected in err
    assert not report.exists() or not any(report.rglob("*.html"))


def test_a_locked_sqlite_store_waits_for_the_writer_then_says_who_holds_it(
    tmp_path: Path,
    store: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    uri = store
    monkeypatch.setattr(tracking, "LOCK_WAIT_SECONDS", 0.5)
    holder = sqlite3.connect(uri.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another writer, in the middle of a transaction
    try:
        start = time.perf_counter()
        err = fails_in_one_line(["run", write_spec(tmp_path), "--tracking-uri", uri], capsys)
        assert time.perf_counter() - start >= 0.5  # it waited for the writer first
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "is locked by another process" in err
    assert MlflowClient(uri).get_experiment_by_name("faults") is None


def test_a_lock_released_within_the_wait_lets_the_run_start(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = store
    monkeypatch.setattr(tracking, "LOCK_WAIT_SECONDS", 5.0)
    database = uri.removeprefix("sqlite:///")
    holder = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    threading.Timer(0.5, lambda: holder.execute("ROLLBACK")).start()
    tracking.check_store(uri)  # returns once the other writer is done
    holder.close()


def test_a_write_to_a_full_device_becomes_a_store_error() -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    with pytest.raises(StoreError, match="no space left on the device of the MLflow store"):  # noqa: SIM117
        with store_errors("sqlite:///x/mlflow.db", "writing"):
            Path("/dev/full").write_bytes(b"x" * 4096)


def _as_unprivileged() -> list[str]:
    """A command prefix under which file permissions bind, or a skip."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("root ignores file permissions and setpriv is not available")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [*_as_unprivileged(), sys.executable, "-m", "tuneworth.cli", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "ro"
    directory.mkdir()
    yield directory
    for path in [directory, *directory.rglob("*")]:
        path.chmod(0o755)


def test_a_read_only_store_directory_is_one_line(
    tmp_path: Path, read_only: Path, tracking_uri: str
) -> None:
    read_only.chmod(0o555)
    uri = f"sqlite:///{read_only / 'mlruns' / 'mlflow.db'}"
    done = _cli(["run", write_spec(tmp_path), "--tracking-uri", uri], tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "is read-only" in done.stderr and "Permission denied" in done.stderr


def test_an_existing_read_only_store_is_one_line_and_left_as_it_was(
    tmp_path: Path, read_only: Path, tracking_uri: str
) -> None:
    database = read_only / "mlflow.db"
    shutil.copy(tracking_uri.removeprefix("sqlite:///"), database)
    before = database.read_bytes()
    database.chmod(0o444)
    read_only.chmod(0o555)
    uri = f"sqlite:///{database}"
    done = _cli(["run", write_spec(tmp_path), "--tracking-uri", uri], tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "is read-only" in done.stderr
    assert database.read_bytes() == before


def test_an_unreadable_data_file_is_named_for_what_it_is(tmp_path: Path, read_only: Path) -> None:
    data = read_only / "data.csv"
    data.write_text("x,label\n1,a\n2,b\n")
    data.chmod(0o000)
    spec = write_spec(tmp_path, dataset={"source": str(data), "target": "label"})
    done = _cli(["check", spec], tmp_path)
    assert done.returncode == 2, done.stderr
    assert "is not readable (permission denied)" in done.stderr


# --- no run left RUNNING ---------------------------------------------------------------


def test_a_fresh_run_on_a_store_only_mlflow_refuses_is_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fresh study does not wait for the store to open: MLflow's refusal arrives with the
    first fold, still as one line, and nothing is written."""
    database = tmp_path / "odd.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        connection.execute("INSERT INTO alembic_version VALUES ('0123456789ab')")
    connection.close()
    uri = f"sqlite:///{database}"
    report = tmp_path / "reports"
    args = ["run", write_spec(tmp_path), "--tracking-uri", uri, "--fresh"]
    err = fails_in_one_line([*args, "--report-dir", str(report), "--quiet"], capsys)
    assert f"the MLflow store {uri}" in err and "Can't locate revision" in err
    assert not report.exists() or not any(report.rglob("*.html"))


def test_a_store_failing_in_the_middle_ends_every_run_it_created(
    tmp_path: Path, store: str
) -> None:
    """The artifact directory becomes a file after the study run exists: writing the first
    arm fails. The line names the store; the arm and the study runs end FAILED."""
    uri = store
    artifacts = tmp_path / "store" / "artifacts"
    spec = parse_spec(SPEC)

    class BreakTheStore:
        inner = True

        def begin(self, pending: Any, total: int) -> None:
            pass

        def fold_done(self, done: int, total: int, result: Any) -> None:
            if done == 1:
                shutil.rmtree(artifacts)
                artifacts.write_text("in the way")

        def inner_scored(self) -> None:
            pass

    with pytest.raises(StoreError, match=f"the MLflow store {uri}"):
        run_experiment(spec, tracking_uri=uri, n_jobs=1, progress=BreakTheStore(), report_dir=None)
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("faults").experiment_id])
    assert {r.data.tags["tuneworth.kind"]: r.info.status for r in runs} == {
        "study": "FAILED",
        "arm": "FAILED",
    }
    assert running(uri) == 0


def test_when_the_study_cannot_be_ended_the_line_says_so_instead_of_raising(
    store: str,
) -> None:
    uri = store
    tracker = Tracker(uri)
    tracker.start_study(
        "ending", {"tuneworth.spec_hash": "h", "tuneworth.data_fingerprint": "f"}, {}
    )
    tracker.client = MlflowClient("http://127.0.0.1:1")  # the store is gone
    with tracking._http_limits({"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}):
        problem = tracker.abort("FAILED")
    assert problem is not None
    assert f"study run {tracker.study_run_id} is left RUNNING" in problem
    assert "marks it FAILED" in problem


def test_an_orphaned_study_has_its_running_arm_runs_ended_on_resume(store: str) -> None:
    uri = store
    tags = {"tuneworth.spec_hash": "h", "tuneworth.data_fingerprint": "f"}
    first = Tracker(uri)
    first.start_study("orphan", tags, {})
    arm = first.client.create_run(
        first.experiment_id, tags={"mlflow.parentRunId": first.study_run_id}
    ).info.run_id
    # As a process killed with -9 leaves them: a dead pid on this host, both RUNNING.
    first.client.set_tag(first.study_run_id, "tuneworth.pid", "999999999")
    second = Tracker(uri)
    second.start_study("orphan", tags, {})
    assert second.client.get_run(arm).info.status == "FAILED"
    second.abort("KILLED")
    assert running(uri) == 0


# --- checked before the study run exists -----------------------------------------------


@pytest.mark.parametrize(
    ("changes", "options", "expected"),
    [
        ({}, ["-j", "0"], "--jobs 0 would run nothing"),
        ({}, ["--report-dir", "{tmp}/afile/reports"], "'{tmp}/afile' is a file"),
        ({"name": ".."}, [], "name: '..' is not a usable name"),
        ({"name": "n" * 101}, [], "name: String should have at most 100 characters"),
        ({"name": "a/b"}, [], "name: String should match pattern"),
        ({"seed": 2**32}, [], "seed: Input should be less than or equal to 4294967295"),
        (
            {"baseline": {"model": "linear", "params": {"C": -1}}},
            [],
            "baseline.params.C: The 'C' parameter of LogisticRegression must be a float",
        ),
        (
            {"levers": [{"model": {"name": "random_forest", "params": {"n_estimators": "ten"}}}]},
            [],
            "levers.0.model.params.n_estimators: The 'n_estimators' parameter",
        ),
        (
            {"levers": [{"model": {"name": "svm", "params": {"C": 0}}}]},
            [],
            "levers.0.model.params.C: The 'C' parameter of SVC",
        ),
        (
            {"levers": ["scaling", "imputation", {"scaling": {"method": "standard"}}]},
            [],
            "levers.2: the same lever as levers.0 ('standard scaling')",
        ),
    ],
)
def test_what_can_be_checked_first_stops_before_the_study_run_exists(
    changes: dict[str, Any],
    options: list[str],
    expected: str,
    tmp_path: Path,
    tracking_uri: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "afile").write_text("x")
    spec = write_spec(tmp_path, **changes)
    options = [o.replace("{tmp}", str(tmp_path)) for o in options]
    args = ["run", spec, "--tracking-uri", tracking_uri, "--report-dir", str(tmp_path / "r")]
    err = fails_in_one_line([*args, *options], capsys, within=10)
    assert expected.replace("{tmp}", str(tmp_path)) in err
    name = changes.get("name", SPEC["name"])
    assert MlflowClient(tracking_uri).get_experiment_by_name(str(name)) is None


def test_a_scheduler_without_dask_installed_stops_before_the_study_run(
    tmp_path: Path,
    tracking_uri: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    spec = write_spec(tmp_path, name="nodask")
    args = ["run", spec, "--tracking-uri", tracking_uri, "--scheduler", "tcp://127.0.0.1:1"]
    err = fails_in_one_line(args, capsys)
    assert "--scheduler needs dask.distributed" in err
    assert MlflowClient(tracking_uri).get_experiment_by_name("nodask") is None


def test_a_billion_laughs_document_is_refused_at_once(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    lines += ["name: laughs", "dataset: {source: 'sklearn:iris'}", "description: *a9"]
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n")
    start = time.perf_counter()
    with pytest.raises(TuneworthError, match="expands to more than 100,000 values"):
        load_spec(path)
    assert time.perf_counter() - start < 1


def test_a_spec_file_too_large_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("name: big\ndescription: '" + "x" * 1_100_000 + "'\n")
    with pytest.raises(TuneworthError, match="a spec is at most 1,000,000"):
        load_spec(path)


def test_a_few_aliases_are_still_fine(tmp_path: Path) -> None:
    path = tmp_path / "aliases.yaml"
    text = """
    name: aliases
    dataset: {source: 'sklearn:iris'}
    cv: &cv {folds: 2, repeats: 1, inner_folds: 2}
    levers: [scaling]
    """
    path.write_text(textwrap.dedent(text))
    assert load_spec(path).cv.folds == 2


# --- data ------------------------------------------------------------------------------


def nullable_frame(n: int = 90) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "age": pd.array(rng.integers(18, 80, n), dtype="Int64"),
            "income": pd.array(rng.normal(50, 10, n), dtype="Float64"),
            "member": pd.array(rng.random(n) < 0.5, dtype="boolean"),
            "city": pd.array(rng.choice(["Oslo", "Rome"], n), dtype="string"),
            "label": pd.array(rng.choice(["yes", "no"], n), dtype="string"),
        }
    )
    frame.loc[::7, "age"] = pd.NA
    frame.loc[::5, "member"] = pd.NA
    frame.loc[::6, "city"] = pd.NA
    return frame


def test_nullable_dtypes_become_the_dtypes_a_csv_file_gives() -> None:
    frame = normalise_dtypes(nullable_frame())
    assert {c: str(t) for c, t in frame.dtypes.items()} == {
        "age": "float64",
        "income": "float64",
        "member": "str",
        "city": "str",
        "label": "str",
    }
    assert frame["age"].isna().sum() == 13 and frame["city"].isna().sum() == 15
    assert set(frame["member"].dropna()) == {"True", "False"}
    assert not any(v is pd.NA for v in frame.to_numpy().ravel())


def test_a_parquet_file_of_nullable_dtypes_runs_every_arm(
    tmp_path: Path, tracking_uri: str
) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "nullable.parquet"
    nullable_frame().to_parquet(path)
    assert str(pd.read_parquet(path)["member"].dtype) == "boolean"
    spec = parse_spec(
        {
            **SPEC,
            "name": "nullable",
            "dataset": {"source": str(path), "target": "label"},
            "levers": ["scaling", {"model": {"name": "random_forest"}}],
        }
    )
    result = run_experiment(spec, tracking_uri=tracking_uri, n_jobs=1, report_dir=None)
    assert (result.results["error"] == "").all()


def test_a_csv_column_of_booleans_with_empty_cells_is_a_category_an_encoder_takes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "flags.csv"
    path.write_text("a,flag,label\n1,True,x\n2,,y\n3,False,x\n4,True,y\n")
    frame = read_frame(str(path))
    assert frame["flag"].dtype == "str" and frame["flag"].isna().sum() == 1
    from sklearn.preprocessing import OneHotEncoder

    assert OneHotEncoder().fit_transform(frame[["flag"]]).shape == (4, 3)


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_a_csv_file_with_another_delimiter_is_read_with_it(tmp_path: Path, sep: str) -> None:
    path = tmp_path / "data.csv"
    normalise_dtypes(nullable_frame()).to_csv(path, sep=sep, index=False)
    dataset = load_dataset(str(path), "label")
    assert list(dataset.X.columns) == ["age", "income", "member", "city"]
    assert dataset.schema.numeric == ("age", "income")


def test_decimal_commas_in_a_semicolon_file_are_numbers(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_text("x;y;label\n" + "".join(f"{i},5;{i};{'ab'[i % 2]}\n" for i in range(30)))
    frame = read_frame(str(path))
    assert frame["x"].dtype == "float64" and frame["x"].iloc[3] == 3.5


def test_a_file_read_as_one_column_names_the_delimiter_it_seems_to_use(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    # Rows of uneven length: the sniffer cannot tell, and the comma reads one column.
    path.write_text("x;label;z\n1;a\n2;b;c;d\n3\n")
    with pytest.raises(TuneworthError, match="is it semicolon-separated"):
        load_dataset(str(path), "label")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: p.symlink_to(p), "is a loop of symbolic links"),
        (lambda p: p.symlink_to(p.with_name("gone.csv")), "symbolic link to a file that does"),
        (lambda p: None, "not found"),
    ],
)
def test_a_data_path_that_is_not_a_file_is_named_for_what_it_is(
    make: Callable[[Path], None], expected: str, tmp_path: Path
) -> None:
    path = tmp_path / "data.csv"
    make(path)
    with pytest.raises(TuneworthError, match=expected):
        read_frame(str(path))


# --- silent adjustments become notes -------------------------------------------------------


def test_smote_with_too_few_rows_says_so_in_a_note_and_in_the_arm_name(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 100
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    frame["y"] = np.where(np.arange(n) < 5, "rare", "common")
    frame.to_csv(tmp_path / "imbalanced.csv", index=False)
    dataset = {"source": str(tmp_path / "imbalanced.csv"), "target": "y"}
    plan = plan_experiment(parse_spec({**SPEC, "dataset": dataset, "levers": ["smote"]}))
    assert [arm.name for arm in plan.arms] == ["baseline", "SMOTE (k lowered to 1)"]
    assert plan.arms[1].lever == "SMOTE (k lowered to 1)"
    assert any("k_neighbors 5 lowered to 1" in note for note in plan.dataset.notes)
    assert "SMOTE (k lowered to 1)" in plan.pipelines


def test_a_feature_selection_above_the_feature_count_says_it_keeps_them_all() -> None:
    levers = [{"feature_selection": {"k": 50}}, {"feature_selection": {"k": 2}}]
    plan = plan_experiment(parse_spec({**SPEC, "levers": levers}))
    assert [arm.name for arm in plan.arms] == [
        "baseline",
        "mutual-information top 50 features (all 4)",
        "mutual-information top 2 features",
    ]
    assert any("k = 50 is not below the 4 features" in note for note in plan.dataset.notes)


def test_many_whole_number_codes_taken_as_regression_say_how_to_force_classes(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=400), "code": np.arange(400) % 200})
    frame.to_csv(tmp_path / "codes.csv", index=False)
    dataset = load_dataset(str(tmp_path / "codes.csv"), "code")
    assert dataset.task == "regression"
    assert any("set dataset.task: multiclass" in note for note in dataset.notes)
    forced = load_dataset(str(tmp_path / "codes.csv"), "code", task="multiclass")
    assert forced.task == "multiclass" and not forced.notes


# --- child processes end with their parent ------------------------------------------------

WORKERS = """
import sys, time
from sklearn.base import BaseEstimator, ClassifierMixin
from tuneworth.evaluate import evaluate, make_splits
from tuneworth.metrics import resolve_metric
from sklearn.datasets import load_iris

class Slow(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        time.sleep(60)
        return self

X, y = load_iris(return_X_y=True, as_frame=True)
splits = make_splits(y, "multiclass", 2, 1, 0)
print("started", flush=True)
list(evaluate({"slow": Slow()}, X, y, splits, resolve_metric("accuracy", "multiclass"), n_jobs=2))
"""


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_workers_end_within_seconds_of_their_parent_being_killed(tmp_path: Path) -> None:
    script = tmp_path / "workers.py"
    script.write_text(WORKERS)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    parent = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE)
    assert parent.stdout is not None and parent.stdout.readline().strip() == b"started"

    def workers() -> list[int]:
        return [
            pid
            for pid in _children(parent.pid)
            if b"popen_loky" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]

    try:
        deadline = time.monotonic() + 60
        while len(workers()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(3)  # the workers are in their fits
        started = workers()
        assert len(started) >= 2
    except BaseException:
        parent.kill()
        raise
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid in started if _alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "workers outlived their parent"
