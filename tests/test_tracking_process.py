"""The tracker in a process of its own: the same calls, answers and errors as in-process."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tuneworth.tracking import StoreError, Tracker
from tuneworth.tracking_process import (
    RemoteTracker,
    TrackingProcess,
    prestart,
    remote_tracker,
    warm_up,
)

TAGS = {"tuneworth.spec_hash": "h", "tuneworth.data_fingerprint": "d", "tuneworth.spec": "s"}


def _pid(tracker: Tracker) -> int:
    return os.getpid()


def _fail(tracker: Tracker, message: str) -> None:
    raise ValueError(message)


class _Unrebuildable(Exception):
    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"code {code}: {detail}")


def _fail_unrebuildable(tracker: Tracker) -> None:
    raise _Unrebuildable(7, "no store here")


def test_calls_run_in_the_child_and_answer_as_the_tracker_would(tracking_uri: str) -> None:
    with remote_tracker(tracking_uri) as tracker:
        assert tracker.uri == tracking_uri and tracker.study_run_id == ""
        resumed = tracker.start_study("remote", tags=TAGS, params={"folds": 3}, resume=False)
        assert resumed is False
        # The mirrored attributes follow the tracker's; the work ran in another process,
        # and the study names this one, whose death would orphan it, as its owner.
        assert tracker.study_run_id and tracker.experiment_id
        assert tracker.apply(_pid) != os.getpid()
        tracker.note(metrics={"m": 1.5}, tags={"t": "v"})
        tracker.abort("KILLED")
    run = MlflowClient(tracking_uri).get_run(tracker.study_run_id)
    assert run.info.status == "KILLED"
    assert run.data.metrics["m"] == 1.5 and run.data.params["folds"] == "3"
    assert run.data.tags["tuneworth.pid"] == str(os.getpid())


def test_errors_come_back_as_raised_and_the_process_goes_on(tracking_uri: str) -> None:
    with remote_tracker(tracking_uri) as tracker:
        with pytest.raises(ValueError, match=r"^bad value$"):
            tracker.apply(_fail, "bad value")
        # One that cannot be rebuilt from its arguments arrives with its text.
        with pytest.raises(StoreError, match=r"^code 7: no store here$"):
            tracker.apply(_fail_unrebuildable)
        assert tracker.apply(_pid) != os.getpid()
        with pytest.raises(AttributeError, match="no attribute 'client'"):
            tracker.client  # noqa: B018 - the child's MLflow client stays there


def test_a_store_that_cannot_be_used_fails_when_the_tracker_is_made(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="plain directory"):  # noqa: SIM117
        with remote_tracker(f"file://{tmp_path}/mlruns"):
            pass


def test_a_dead_child_is_a_store_error_and_abort_still_answers(tracking_uri: str) -> None:
    process = TrackingProcess()
    tracker = RemoteTracker(process, tracking_uri)
    tracker.start_study("remote", tags=TAGS, params={}, resume=False)
    child = process._process.pid
    assert child is not None
    os.kill(child, signal.SIGKILL)
    with pytest.raises(
        StoreError, match=r"tracking process ended unexpectedly \(killed by SIGKILL\)"
    ):
        tracker.note(tags={"t": "v"})
    problem = tracker.abort("FAILED")
    assert problem is not None and problem.startswith(f"study run {tracker.study_run_id} is left")
    assert "marks it FAILED" in problem
    process.close()
    # Left RUNNING, as said: ended here so that the session's store holds no open run.
    MlflowClient(tracking_uri).set_terminated(tracker.study_run_id, "KILLED")


def test_the_child_outlives_ctrl_c_so_the_parent_can_end_the_study(tracking_uri: str) -> None:
    with remote_tracker(tracking_uri) as tracker:
        tracker.start_study("remote", tags=TAGS, params={}, resume=False)
        child = tracker._process._process.pid
        assert child is not None
        os.kill(child, signal.SIGINT)
        time.sleep(0.2)
        assert tracker.abort("KILLED") is None
    assert MlflowClient(tracking_uri).get_run(tracker.study_run_id).info.status == "KILLED"


def test_the_child_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    code = (
        "import os, sys, time\n"
        "from tuneworth.tracking_process import TrackingProcess\n"
        "process = TrackingProcess()\n"
        "print(process._process.pid, flush=True)\n"
        "time.sleep(0.5)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    child = int(done.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.1)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "zombie" in status.read_text())


def test_one_process_serves_every_study_of_its_parent(tracking_uri: str) -> None:
    prestart()
    with remote_tracker(tracking_uri) as first, remote_tracker(tracking_uri) as second:
        # Side by side, each its own tracker, in one process started once.
        first.start_study("remote", tags=TAGS, params={}, resume=False)
        second.start_study("remote", tags=TAGS, params={}, resume=False)
        assert first.study_run_id != second.study_run_id
        child = first.apply(_pid)
        assert second.apply(_pid) == child
        first.abort("KILLED")
        second.abort("KILLED")
    with remote_tracker(tracking_uri) as third:
        assert third.apply(_pid) == child


def _loaded(tracker: Tracker, module: str) -> bool:
    return module in sys.modules


def test_the_end_of_a_study_is_prepared_only_once_the_work_has_started(
    tracking_uri: str,
) -> None:
    # Until then, the calls the work waits for (opening the study, reading its checkpoint)
    # find the process free, not importing matplotlib.
    process = TrackingProcess()
    try:
        tracker = RemoteTracker(process, tracking_uri)
        time.sleep(0.5)
        assert not tracker.apply(_loaded, "mlflow.sklearn")
        warm_up(tracker)
        deadline = time.monotonic() + 60
        while not tracker.apply(_loaded, "tuneworth.plots"):
            assert time.monotonic() < deadline, "the report's modules were never imported"
            time.sleep(0.05)
    finally:
        process.close()


def test_the_rehearsal_of_a_model_log_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    from tuneworth.tracking import rehearse_model_logging

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    rehearse_model_logging()
    assert list(tmp_path.iterdir()) == []


def _unmigratable(tmp_path: Path) -> str:
    """An SQLite store its files pass for, at a schema revision MLflow does not know."""
    database = tmp_path / "odd.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        connection.execute("INSERT INTO alembic_version VALUES ('0123456789ab')")
    connection.close()
    return f"sqlite:///{database}"


def test_without_waiting_a_store_only_mlflow_refuses_fails_at_every_call(tmp_path: Path) -> None:
    with remote_tracker(_unmigratable(tmp_path), wait=False) as tracker:
        with pytest.raises(StoreError, match="Can't locate revision"):
            tracker.start_study("remote", tags=TAGS, params={}, resume=False)
        with pytest.raises(StoreError, match="Can't locate revision"):
            tracker.note(tags={"t": "v"})
        assert tracker.abort("FAILED") is None  # nothing was opened: nothing to end


def test_without_waiting_a_store_whose_files_are_wrong_still_fails_at_once(
    tmp_path: Path,
) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all, " * 100)
    with pytest.raises(StoreError, match="not an SQLite database"):  # noqa: SIM117
        with remote_tracker(f"sqlite:///{garbage}", wait=False):
            pass
