"""MLflow tracking: the only module that imports mlflow.

It only reads what the core produced (specs, fold results, summaries) and writes it in
batches from the parent process: one study run per invocation and one nested arm run per
arm, opened when the arm's first fold starts, given each fold as it finishes, and closed
with the arm's summary after its last. A tuning arm's trials are an artifact
(``trials.csv``) and metric series, not runs; nested per-trial runs are an opt-in for small
searches (``tracking.trial_runs``). The best arm's pipeline, refitted on every row, is the
study run's MLflow model.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import math
import os
import re
import socket
import sqlite3
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import urlsplit

import pandas as pd
import yaml

from tuneworth.errors import TuneworthError, closest
from tuneworth.evaluate import FoldResult, results_frame
from tuneworth.files import PROBE_PREFIX, probe_directory
from tuneworth.marginal import MORE_DATA, TUNING_BUDGET, Marginal
from tuneworth.metrics import Metric
from tuneworth.rows import row_change, row_metrics
from tuneworth.stats import Outcome
from tuneworth.trials import best_so_far, trials_frame

DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"
# MLflow's log_batch limits per request: 100 params, 100 tags, 1000 entities in all.
_BATCH_METRICS, _BATCH_PARAMS = 800, 100
# Schemes of the stores tuneworth writes to. MLflow's plain directory ("file") store is left
# out: MLflow 3 refuses it unless MLFLOW_ALLOW_FILE_STORE is set.
_DATABASES = ("postgresql", "mysql", "mssql")
_SCHEMES = ("sqlite", "http", "https", "databricks", *_DATABASES)
# How long the probe waits for another writer to release an SQLite store. A concurrent
# tuneworth run holds the lock for milliseconds at a time; MLflow itself waits 20 s later on.
LOCK_WAIT_SECONDS = 5.0
# MLflow retries a tracking server for about four minutes by default. The probe asks once
# more after a short wait; the run itself retries a little longer, for a server restart.
_PROBE_HTTP = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "5",
}
_RUN_HTTP = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}
_PROBE_BYTES = 64 * 1024
# Without this experiment tag MLflow's UI opens a new experiment in its GenAI view (traces).
_EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}
# The UI's model-training view of a page, whatever view the browser last used.
_TRAINING_VIEW = "?workflowType=machine_learning"
# The markdown MLflow's UI shows as an experiment's or a run's description.
_NOTE = "mlflow.note.content"
# MLflow stores tag values of up to 8000 characters.
_TAG_LIMIT = 8000

_P = ParamSpec("_P")
_R = TypeVar("_R")


def resolve_tracking_uri(uri: str | None) -> str:
    """``--tracking-uri``, else ``MLFLOW_TRACKING_URI``, else this project's SQLite store."""
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def _sqlite_file(uri: str) -> Path | None:
    """The database file of an SQLite store's URI; ``None`` for any other store."""
    return Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None


def artifact_root(uri: str) -> str | None:
    """Artifacts of a SQLite store live beside it in ``artifacts/``; a server decides itself."""
    database = _sqlite_file(uri)
    if database is None:
        return None
    return (database.parent / "artifacts").resolve().as_uri()


class StoreError(TuneworthError):
    """The MLflow store cannot be used: unreachable, read-only, full, locked or not MLflow."""


def check_store(uri: str) -> None:
    """Probe the store before any work: a known kind, reachable, writable, migrated.

    Raises
    ------
    StoreError
        One line naming the store, what is wrong with it and the fix.
    """
    check_store_files(uri)
    with _http_limits(_PROBE_HTTP), store_errors(uri, "opening it"):
        from mlflow.tracking import MlflowClient

        # Creates a new SQLite store's tables, and refuses an unmigrated one.
        MlflowClient(tracking_uri=uri).search_experiments(max_results=1)


def check_store_files(uri: str) -> None:
    """What :func:`check_store` checks without MLflow: a known kind of store and, for an
    SQLite one, writable directories for it and its artifacts, and a database file that is
    SQLite and not locked for long by another writer.

    Raises
    ------
    StoreError
        One line naming the store, what is wrong with it and the fix.
    """
    kind = store_kind(uri)
    database = _sqlite_file(uri)
    if kind == "sqlite" and database is not None:
        _check_directory(database.parent, f"the MLflow store {uri}")
        root = artifact_root(uri)
        if root is not None:
            _check_directory(Path(urlsplit(root).path), f"the artifacts of {uri}")
        if database.exists():
            _check_sqlite_file(database, uri)


def store_kind(uri: str) -> str:
    """The URI's scheme (``sqlite``, ``http``, ``postgresql``, ...), or a :class:`StoreError`
    for a scheme MLflow cannot track to or a plain directory store."""
    scheme = urlsplit(uri).scheme.split("+")[0].lower()
    if scheme in ("", "file"):
        if os.environ.get("MLFLOW_ALLOW_FILE_STORE", "").lower() in ("1", "true"):
            return "file"
        path = urlsplit(uri).path if scheme == "file" else uri
        raise StoreError(
            f"'{uri}' is a plain directory (file) store, which MLflow 3 no longer opens: pass "
            f"--tracking-uri sqlite:///{Path(path, 'mlflow.db').as_posix().lstrip('/')} "
            "(or migrate the old store with 'mlflow migrate-filestore')"
        )
    if scheme not in _SCHEMES:
        raise StoreError(
            f"unknown tracking URI scheme '{scheme}' in '{uri}'{closest(scheme, _SCHEMES)}: use "
            "sqlite:///path/mlflow.db, http(s)://host:port of an MLflow server, or a database "
            "URL (postgresql://...)"
        )
    if scheme == "sqlite" and not uri.startswith("sqlite:///"):
        raise StoreError(f"'{uri}' names no file: use sqlite:///path/mlflow.db")
    return scheme


def _check_directory(directory: Path, what: str) -> None:
    """Make ``directory`` if needed and write a little to it: a file in the way, a read-only
    directory and a full disk each get their own line."""
    try:
        blocking = probe_directory(directory, _PROBE_BYTES)
    except OSError as exc:
        raise StoreError(_os_problem(exc, what, directory)) from None
    if blocking is not None:
        raise StoreError(
            f"cannot use {what}: '{blocking}' is a file, not a directory; pass "
            "--tracking-uri with a path under a directory"
        )


def _check_sqlite_file(database: Path, uri: str) -> None:
    """Open an existing SQLite store and write to it without changing it."""
    if database.is_dir():
        raise StoreError(f"'{database}' is a directory, not an SQLite file: fix --tracking-uri")
    try:
        with contextlib.closing(
            sqlite3.connect(database, timeout=LOCK_WAIT_SECONDS, isolation_level=None)
        ) as connection:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            connection.execute("BEGIN IMMEDIATE")
            try:
                # A write of the same value: it needs the journal, so a read-only directory
                # shows too; the rollback leaves the file as it was.
                connection.execute(f"PRAGMA user_version = {int(version)}")
            finally:
                connection.execute("ROLLBACK")
    except sqlite3.Error as exc:
        raise StoreError(_store_problem(str(exc), uri)) from None
    except OSError as exc:
        raise StoreError(_os_problem(exc, f"the MLflow store {uri}", database)) from None


def _os_problem(exc: OSError, what: str, path: Path) -> str:
    probe = PROBE_PREFIX in str(exc.filename)
    where = path if probe or not exc.filename else exc.filename
    if exc.errno == errno.ENOSPC:
        return (
            f"no space left on the device of {what} ('{where}'): free some, or point it elsewhere"
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (
            f"{what} is read-only ('{where}': {exc.strerror}): make it writable, or pass "
            "--tracking-uri sqlite:///a/writable/path/mlflow.db"
        )
    if exc.errno == errno.ENAMETOOLONG:
        return f"a path of {what} is too long ('{where}'): use a shorter directory or name"
    if exc.errno == errno.ENOTDIR:
        return f"cannot use {what}: a part of '{where}' is a file, not a directory"
    return f"cannot write {what} ('{where}'): {exc.strerror or exc}"


def _store_problem(message: str, uri: str) -> str:
    """One line for an error MLflow, SQLAlchemy, SQLite or requests raised about ``uri``."""
    text = message.lower()
    first = message.strip().splitlines()[0][:200] if message.strip() else "unknown error"
    if "database is locked" in text or "database table is locked" in text:
        return (
            f"the SQLite store {uri} is locked by another process: wait for it to finish, "
            "or pass --tracking-uri with another store (SQLite is for one writer at a time)"
        )
    if "disk is full" in text or "no space left" in text:
        return f"no space left on the device of the MLflow store {uri}: free some, or move it"
    if (
        "readonly database" in text
        or "read-only file system" in text
        or ("unable to open database file" in text)
    ):
        return (
            f"the MLflow store {uri} is read-only: make the file and its directory writable, "
            "or pass --tracking-uri sqlite:///a/writable/path/mlflow.db"
        )
    if "file is not a database" in text or "file is encrypted" in text:
        return f"{uri} is not an SQLite database: point --tracking-uri at an MLflow store"
    if "out-of-date database schema" in text or "mlflow db upgrade" in text:
        return (
            f"the MLflow store {uri} was made by an older MLflow: back it up, then run "
            f"'mlflow db upgrade {uri}'"
        )
    if "connection refused" in text or "failed to establish a new connection" in text:
        return (
            f"no MLflow server answers at {uri} (connection refused): start it "
            "('mlflow server --port ...') or fix --tracking-uri / MLFLOW_TRACKING_URI"
        )
    if (
        "timed out" in text
        or "timeout" in text
        or "name or service not known" in text
        or ("max retries exceeded" in text)
    ):
        return (
            f"the MLflow server at {uri} does not answer ({first}): check the address and "
            "the network, or use a local store (--tracking-uri sqlite:///mlruns/mlflow.db)"
        )
    if "failed with error code" in text and any(
        f"error code {code}" in text for code in (404, 405, 501)
    ):
        return (
            f"{uri} answers but is not an MLflow tracking server (no MLflow REST API there): "
            "fix the address or port"
        )
    if "failed with error code" in text or "response body" in text:
        return f"the MLflow server at {uri} failed: {first}"
    return f"the MLflow store {uri} failed: {first}"


@contextlib.contextmanager
def store_errors(uri: str, doing: str) -> Iterator[None]:
    """Turn what MLflow and its drivers raise about the store into one :class:`StoreError`."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except TuneworthError:
        raise
    except OSError as exc:
        raise StoreError(_os_problem(exc, f"the MLflow store {uri}", Path(uri))) from None
    except (MlflowException, sqlite3.Error) as exc:
        raise StoreError(_store_problem(str(exc), uri)) from None
    except Exception as exc:
        # SQLAlchemy and requests errors reach here when MLflow does not wrap them.
        module = type(exc).__module__.split(".")[0]
        if module not in ("sqlalchemy", "requests", "urllib3", "alembic"):
            raise
        raise StoreError(_store_problem(str(exc), uri)) from None


@contextlib.contextmanager
def _http_limits(limits: Mapping[str, str]) -> Iterator[None]:
    """MLflow reads its HTTP retry settings at each request: bound them for a while."""
    saved = {key: os.environ.get(key) for key in limits}
    os.environ.update(limits)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def bound_http_retries() -> None:
    """Retries of a tracking server during the run: a restart survives, a dead server fails
    in under a minute instead of four. Settings already in the environment win."""
    for key, value in _RUN_HTTP.items():
        os.environ.setdefault(key, value)


def _guarded(
    method: Callable[Concatenate[Tracker, _P], _R],
) -> Callable[Concatenate[Tracker, _P], _R]:
    """A store failure inside a :class:`Tracker` method becomes one :class:`StoreError`."""

    def guarded(self: Tracker, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with store_errors(self.uri, method.__name__.replace("_", " ")):
            return method(self, *args, **kwargs)

    functools.update_wrapper(guarded, method)
    return guarded


class Tracker:
    """Writes one experiment invocation to MLflow.

    The store is probed when the tracker is made; afterwards every failure of the store
    raises :class:`StoreError`, and every run this tracker created is ended on the way out.
    ``owner``, the process ID a study run records as its owner (by default, this process's),
    is the process whose death orphans the runs it writes.
    """

    def __init__(self, uri: str, owner: int | None = None) -> None:
        import mlflow
        from mlflow.tracking import MlflowClient

        _quiet_mlflow()
        check_store(uri)
        bound_http_retries()
        # Set explicitly: with no URI MLflow may fall back to the deprecated file store.
        mlflow.set_tracking_uri(uri)
        self.uri = uri
        self.client = MlflowClient(tracking_uri=uri)
        self.experiment_id = ""
        self.study_run_id = ""
        self.owner = os.getpid() if owner is None else owner
        self._dataset: Any = None  # the DatasetInput logged on every run, once built

    def apply(self, function: Callable[..., _R], /, *args: Any, **kwargs: Any) -> _R:
        """``function(self, *args, **kwargs)``: work that needs the tracker, run where it
        runs (see :class:`tuneworth.tracking_process.RemoteTracker`)."""
        return function(self, *args, **kwargs)

    def _errors(self, doing: str) -> contextlib.AbstractContextManager[None]:
        return store_errors(self.uri, doing)

    @_guarded
    def start_study(
        self,
        experiment: str,
        tags: Mapping[str, str],
        params: Mapping[str, Any],
        resume: bool = True,
        description: str = "",
    ) -> bool:
        """Open a study run for the spec, resuming the last one if it did not finish.

        The experiment is tagged so MLflow's UI opens it on its runs, with ``description``
        (the spec's) as its description, whether it is new or not. Parameters that are
        ``None`` are not logged.

        The spec's latest study with the same spec hash and data fingerprint is resumed when
        it was interrupted (KILLED), failed, or orphaned by a killed process (RUNNING, but its
        process on this host is gone; it is marked FAILED first). Returns whether a study was
        resumed: its finished arms are its checkpoint (:mod:`tuneworth.checkpoint`).
        """
        self._use_experiment(experiment, description)
        same = (
            "tags.`tuneworth.kind` = 'study'"
            f" and tags.`tuneworth.spec_hash` = '{tags['tuneworth.spec_hash']}'"
            f" and tags.`tuneworth.data_fingerprint` = '{tags['tuneworth.data_fingerprint']}'"
        )
        previous = self.client.search_runs(
            [self.experiment_id], same, order_by=["attributes.start_time DESC"], max_results=1
        )
        owner = {"tuneworth.host": socket.gethostname(), "tuneworth.pid": str(self.owner)}
        last = previous[0] if previous else None
        if last is not None and last.info.status == "RUNNING":
            if _orphaned(last.data.tags):
                self._log(last.info.run_id, tags={"tuneworth.ended": "orphaned"})
                self._end_running_children(last.info.run_id, "FAILED")
                self.client.set_terminated(last.info.run_id, status="FAILED")
                last = self.client.get_run(last.info.run_id)
            elif resume:
                holder = last.data.tags.get("tuneworth.pid", "?")
                raise TuneworthError(
                    f"another tuneworth process (pid {holder}) is running this spec now: wait "
                    "for it to finish, or pass --fresh to start a separate study"
                )
        if resume and last is not None and last.info.status in ("KILLED", "FAILED"):
            self.study_run_id = last.info.run_id
            # Arm runs a killed process was writing: recomputed below, so ended here.
            self._end_running_children(self.study_run_id, "KILLED")
            self.client.update_run(self.study_run_id, status="RUNNING")
            try:
                self._log(self.study_run_id, tags=owner)
            except BaseException as exc:
                self._end_quietly(self.study_run_id, exc)
                raise
            return True
        run = self.client.create_run(
            self.experiment_id,
            tags={"tuneworth.kind": "study", **tags, **owner},
            run_name=f"{experiment} study",
        )
        self.study_run_id = run.info.run_id
        try:
            self._log(self.study_run_id, params=_set(params))
        except BaseException as exc:
            self._end_quietly(self.study_run_id, exc)
            raise
        return False

    def _use_experiment(self, experiment: str, description: str = "") -> None:
        found = self.client.get_experiment_by_name(experiment)
        tags = {**_EXPERIMENT_KIND, **({_NOTE: description.strip()} if description.strip() else {})}
        if found is None:
            root = artifact_root(self.uri)
            location = f"{root}/{experiment}" if root else None
            self.experiment_id = self.client.create_experiment(
                experiment, artifact_location=location, tags=tags
            )
            return
        self.experiment_id = found.experiment_id
        if found.lifecycle_stage == "deleted":
            self.client.restore_experiment(self.experiment_id)
        # Experiments made before these tags existed, or a spec whose description changed.
        for key, value in tags.items():
            if found.tags.get(key) != value:
                self.client.set_experiment_tag(self.experiment_id, key, value)

    @_guarded
    def log_dataset(self, data: pd.DataFrame, source: str, target: str, name: str) -> None:
        """Log ``data`` (features and target) as the MLflow dataset input of the study run,
        and of every arm run logged after this; MLflow's runs table shows it.

        A file's source is its path; a built-in or generated table is named in the
        source's tags. Data MLflow cannot describe (a column type it has no schema for) is
        left out with a tag saying why, not a failed study.
        """
        from mlflow.exceptions import MlflowException

        try:
            self._dataset = _dataset_input(data, source, target, name)
        except (MlflowException, TypeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0][:500] if str(exc).strip() else type(exc)
            self._log(self.study_run_id, tags={"tuneworth.dataset_not_logged": str(first)})
            return
        self.client.log_inputs(self.study_run_id, datasets=[self._dataset])

    @_guarded
    def start_arm(
        self,
        arm: str,
        tags: Mapping[str, str],
        params: Mapping[str, Any],
        space: Mapping[str, str] | None = None,
        description: str = "",
        started: float | None = None,
    ) -> str:
        """Open the nested run of an arm whose first fold is starting: RUNNING, with its
        configuration, the searched ``space`` of a tuning arm (``space.<name>`` params and
        ``space.json``), the data input and ``description`` (markdown) as its description.
        ``started`` (:func:`time.time`; by default, now) is its start time.
        Returns the run ID; :meth:`log_fold` and :meth:`finish_arm` write the rest."""
        run = self.client.create_run(
            self.experiment_id,
            start_time=int((time.time() if started is None else started) * 1000),
            tags={"mlflow.parentRunId": self.study_run_id, "tuneworth.kind": "arm", **tags},
            run_name=arm,
        )
        run_id = run.info.run_id
        try:
            if self._dataset is not None:
                self.client.log_inputs(run_id, datasets=[self._dataset])
            shown = {f"space.{name}": value for name, value in (space or {}).items()}
            note = {_NOTE: _clip(description, _TAG_LIMIT)} if description else {}
            self._log(run_id, params={**_set(params), **shown}, tags=note)
            if space:
                self.client.log_dict(run_id, dict(space), "space.json")
        except BaseException as exc:
            self._end_quietly(run_id, exc)
            raise
        return run_id

    @_guarded
    def log_fold(
        self,
        run_id: str,
        result: FoldResult,
        metric: str = "score",
        done: Sequence[FoldResult] = (),
    ) -> None:
        """One finished outer fold on its arm run, as it finishes: the series (step = fold)
        ``fold_<metric>`` of its score, ``fold_fit_seconds`` and a search's
        ``fold_inner_best_<metric>``; with ``done`` (the arm's folds finished so far, this
        one included), ``<metric>_mean`` over them, step = their number, so the runs table
        and the compare view show the arm's mean so far, and its mean once it finished.
        (A run's metric shows its last step's value: the arm's score is ``<metric>_mean``,
        never a bare ``<metric>``.)"""
        series = []
        if done:
            scores = [r.score for r in done if not r.failed and math.isfinite(r.score)]
            if scores:
                series.append((f"{metric}_mean", len(done), sum(scores) / len(scores)))
        series.append((f"fold_{metric}", result.fold, result.score))
        series.append(("fold_fit_seconds", result.fold, result.fit_seconds))
        if result.best_params:
            series.append((f"fold_inner_best_{metric}", result.fold, result.inner_best_score))
        self._log(run_id, series=series)

    @_guarded
    def finish_arm(
        self,
        run_id: str,
        arm: str,
        tags: Mapping[str, str],
        results: Sequence[FoldResult],
        *,
        metric: Metric,
        trial_runs: bool = False,
        ended: float | None = None,
    ) -> None:
        """Close an arm run whose folds are all done (each logged by :meth:`log_fold`): its
        summary metrics, trial table, chosen configurations and fold table; FINISHED, or
        FAILED when no fold scored. ``ended`` (:func:`time.time`; by default, now) is its
        end time.

        A tuning arm also gets its trial table as ``trials.csv`` and the ``best_so_far``
        curve (step = configurations evaluated, mean over folds); with ``trial_runs``, one
        nested run per trial.
        """
        try:
            self._write_arm(run_id, arm, results, tags, metric, trial_runs, ended)
        except BaseException as exc:
            self._end_quietly(run_id, exc)
            raise

    def _write_arm(
        self,
        run_id: str,
        arm: str,
        results: Sequence[FoldResult],
        tags: Mapping[str, str],
        metric: Metric,
        trial_runs: bool,
        ended: float | None,
    ) -> None:
        name = metric.name
        frame = results_frame(list(results))
        ok = frame[frame["error"] == ""]
        metrics: dict[str, Any] = {
            f"{name}_std": ok["score"].std(ddof=1),
            "fit_cpu_seconds": frame["fit_cpu_seconds"].sum(),
            "fit_seconds": frame["fit_seconds"].sum(),
            "predict_seconds": frame["predict_seconds"].sum(),
            "n_fits": frame["n_fits"].sum(),
            "n_failed_folds": int((frame["error"] != "").sum()),
        }
        # At the step of the running mean log_fold wrote: the last, so the one shown.
        series: list[tuple[str, int, float]] = [(f"{name}_mean", len(results), ok["score"].mean())]
        row_warnings: list[str] = []
        if "data" in tags.get("tuneworth.family", "").split("+"):
            rows = row_change(arm, frame)
            metrics.update(row_metrics(rows))
            row_warnings = rows.warnings()
            series += [("rows_removed", r.fold, r.rows_removed) for r in results]
            series += [("rows_added", r.fold, r.rows_added) for r in results]
        table = trials_frame(results)
        trials = table.drop(columns="arm") if not table.empty else None
        if trials is not None:
            curve = best_so_far(trials, metric.greater_is_better)
            key = f"best_so_far_inner_{name}"
            series += [(key, int(step), float(curve[step])) for step in curve.index]
        self._log(run_id, metrics=metrics, series=series)
        if trial_runs and trials is not None:
            self._log_trial_runs(run_id, trials, tags)
        errors = sorted({r.error for r in results if r.error})
        warnings = sorted({w for r in results for w in r.warnings})
        extra = {"tuneworth.errors": "\n".join(errors)[:5000]} if errors else {}
        if warnings:
            extra["tuneworth.warnings"] = "\n".join(warnings)[:5000]
        if row_warnings:
            extra["tuneworth.row_warnings"] = "\n".join(row_warnings)[:5000]
        self._log(run_id, tags=extra)
        with tempfile.TemporaryDirectory() as tmp:
            frame.to_csv(Path(tmp, "folds.csv"), index=False)
            if trials is not None:
                trials.to_csv(Path(tmp, "trials.csv"), index=False)
            chosen = chosen_configurations(results)
            if not chosen.empty:
                chosen.to_csv(Path(tmp, "chosen.csv"), index=False)
            self.client.log_artifacts(run_id, tmp)
        self.client.set_terminated(
            run_id,
            status="FAILED" if ok.empty else "FINISHED",
            end_time=None if ended is None else int(ended * 1000),
        )

    def _log_trial_runs(
        self, arm_run_id: str, trials: pd.DataFrame, tags: Mapping[str, str]
    ) -> None:
        """One nested run per trial under the arm run: its parameters, score and state."""
        parent = {**tags, "mlflow.parentRunId": arm_run_id, "tuneworth.kind": "trial"}
        for row in trials.to_dict("records"):
            name = f"fold {row['fold']} trial {row['trial']}"
            run_id = self.client.create_run(
                self.experiment_id, tags={**parent, "tuneworth.state": row["state"]}, run_name=name
            ).info.run_id
            try:
                self._log(
                    run_id,
                    metrics={"score": row["score"], "fit_seconds": row["fit_seconds"]},
                    params={
                        str(key).removeprefix("param."): value
                        for key, value in row.items()
                        if str(key).startswith("param.") and not _missing(value)
                    },
                    tags={
                        "tuneworth.fold": str(row["fold"]),
                        "tuneworth.trial": str(row["trial"]),
                    },
                )
            except BaseException as exc:
                self._end_quietly(run_id, exc)
                raise
            status = "FINISHED" if row["state"] == "complete" else "FAILED"
            self.client.set_terminated(run_id, status=status)

    @_guarded
    def log_tuning(self, run_ids: Mapping[str, str], comparison: pd.DataFrame) -> None:
        """What each tuning arm's search found (:func:`tuneworth.strategies.compare_strategies`),
        on its arm run. An unreached grid score logs no ``trials_to_match_grid``."""
        keys = (
            "configurations",
            "distinct",
            "inner_score",
            "optimism_gap",
            "trials_to_match_grid",
            "folds_matching_grid",
            "gain_vs_untuned",
            "cost_vs_untuned",
        )
        for row in comparison.to_dict("records"):
            run_id = run_ids.get(row["arm"])
            if run_id:
                metrics = {key: row[key] for key in keys if math.isfinite(float(row[key]))}
                self._log(run_id, metrics=metrics)

    @_guarded
    def log_marginal(self, run_ids: Mapping[str, str], marginal: Marginal) -> None:
        """The marginal-gain curves (:mod:`tuneworth.marginal`), for the UI's charts and for
        :func:`load_marginal` to rebuild the report's section.

        On each search arm's run, the series ``budget_curve.gain``, ``budget_curve.ci_low``,
        ``budget_curve.ci_high`` and ``budget_curve.cpu_seconds`` (step = trials); on the
        study run, per data-size curve, ``data_curve.<arm>.gain`` (with ``ci_low``,
        ``ci_high`` and ``cpu_seconds``; step = training rows), the sentence and notes as the
        tags ``tuneworth.marginal.sentence`` and ``tuneworth.marginal.notes``, and the
        tables ``marginal_folds.csv``, ``marginal_curves.csv`` and ``marginal_steps.csv``.
        One batch per run and one upload of the tables.
        """
        study: list[tuple[str, int, float]] = []
        curves = marginal.curves
        for (family, arm), curve in curves.groupby(["family", "arm"], sort=False):
            if family == TUNING_BUDGET:
                run_id = run_ids.get(str(arm))
                if run_id:
                    self._log(run_id, series=_curve_series(curve, "budget_curve"))
            elif family == MORE_DATA:
                study += _curve_series(curve, f"data_curve.{metric_key(str(arm))}")
        tags = {
            "tuneworth.marginal.sentence": marginal.sentence[:_TAG_LIMIT],
            "tuneworth.marginal.notes": "\n".join(marginal.notes)[:5000],
        }
        self._log(self.study_run_id, series=study, tags=tags)
        with tempfile.TemporaryDirectory() as tmp:
            for name, table in _marginal_tables(marginal).items():
                table.to_csv(Path(tmp, f"{name}.csv"), index=False)
            self.client.log_artifacts(self.study_run_id, tmp)

    @_guarded
    def log_comparisons(self, run_ids: Mapping[str, str], summary: pd.DataFrame) -> None:
        """Gains over the baseline (positive is better, for losses too), their intervals,
        the gain the folds could detect, and cost ratios, on each arm run."""
        keys = {
            "gain": "gain",
            "ci_low": "gain_ci_low",
            "ci_high": "gain_ci_high",
            "detectable": "detectable_gain",
            "repeats_needed": "repeats_needed",
            "p_value": "p_value",
            "p_holm": "p_holm",
            "cost_ratio": "cost_ratio",
            "fold_cost": "fold_cost",
            "gain_per_cpu_minute": "gain_per_cpu_minute",
        }
        for row in summary.to_dict("records"):
            run_id = run_ids.get(row["arm"])
            if run_id:
                # An infinite repeats_needed (no number of repeats would do) is left out.
                metrics = {
                    name: row[column]
                    for column, name in keys.items()
                    if not math.isinf(float(row[column]))
                }
                self._log(
                    run_id,
                    metrics=metrics,
                    tags={"tuneworth.outcome": Outcome(row["outcome"]).value}
                    if row["outcome"]
                    else None,
                )

    @_guarded
    def finish_study(
        self,
        metrics: Mapping[str, float],
        artifacts: Path,
        report: Path,
        verdict: Sequence[str] = (),
        description: str = "",
    ) -> None:
        """Close the study run with its metrics, verdict, tables and report.

        ``description`` (markdown) becomes the run's description in MLflow's UI.
        """
        tags = {"tuneworth.verdict": "\n".join(verdict)[:5000]} if verdict else {}
        # Arms the run started but did not finish (a time budget cut them) end with it.
        self._end_running_children(self.study_run_id, "KILLED")
        if description:
            tags[_NOTE] = _clip(description, _TAG_LIMIT)
        self._log(self.study_run_id, metrics=metrics, tags=tags)
        self.client.log_artifacts(self.study_run_id, str(artifacts))
        self.client.log_artifacts(self.study_run_id, str(report), artifact_path="report")
        self.client.set_terminated(self.study_run_id, status="FINISHED")

    @_guarded
    def note(
        self, metrics: Mapping[str, float] | None = None, tags: Mapping[str, str] | None = None
    ) -> None:
        """Metrics and tags on the study run."""
        self._log(self.study_run_id, metrics=metrics, tags=tags)

    @_guarded
    def log_model(
        self,
        model: Any,
        example: pd.DataFrame,
        tags: Mapping[str, str],
        register: str | None = None,
    ) -> str:
        """Log ``model``, fitted on every row, on the study run as the MLflow model
        ``model``, with a signature inferred from ``example`` (a few rows of the features)
        and its predictions, and ``example`` as its input example; ``register`` also makes
        it a version of that registered model. Returns the model's URI."""
        import mlflow
        import mlflow.sklearn
        from mlflow.models import infer_signature

        with warnings.catch_warnings():
            # MLflow's hints about integer columns and pandas calls it makes: not the user's.
            for category in (UserWarning, FutureWarning, DeprecationWarning):
                warnings.simplefilter("ignore", category)
            signature = infer_signature(example, model.predict(example))
            with mlflow.start_run(run_id=self.study_run_id):
                info = mlflow.sklearn.log_model(
                    model,
                    name="model",
                    signature=signature,
                    input_example=example,
                    registered_model_name=register,
                    tags=dict(tags),
                    **_serialization(model),
                )
        # The context above ends the run as FINISHED: it is still being written.
        self.client.update_run(self.study_run_id, status="RUNNING")
        return str(info.model_uri)

    def abort(self, status: str = "KILLED", cause: BaseException | None = None) -> str | None:
        """Close the study run, and any of its arm runs still open, keeping what was written.

        Never raises for the store: returns the one-line problem when the runs could not be
        ended (a store that is gone, full or locked), else ``None``. A study left RUNNING that
        way is marked FAILED by the next run of the spec on this machine.
        """
        if not self.study_run_id:
            return None
        if cause is not None and _locked(cause):
            return (
                f"study run {self.study_run_id} is left RUNNING while the store is locked; "
                "the next run of this spec on this machine marks it FAILED"
            )
        try:
            with self._errors("ending the study run"):
                self._end_running_children(self.study_run_id, status)
                self.client.set_terminated(self.study_run_id, status=status)
        except StoreError as exc:
            reason = "for the same reason" if str(exc) == str(cause) else f"({exc})"
            return (
                f"study run {self.study_run_id} is left RUNNING {reason}; the next run of "
                "this spec on this machine marks it FAILED"
            )
        return None

    @_guarded
    def end_cut_arms(self, arms: Sequence[str], cut_by: str) -> None:
        """Name on the study run the arms ``cut_by`` (a time budget) stopped before their
        last fold, and end any of their runs still open as KILLED: they are not compared."""
        self._log(
            self.study_run_id, tags={"tuneworth.cut": "\n".join(arms), "tuneworth.cut_by": cut_by}
        )
        self._end_running_children(self.study_run_id, "KILLED")

    def _end_running_children(self, parent: str, status: str) -> None:
        """End every RUNNING run under ``parent`` (arm runs, and their trial runs)."""
        pending = [parent]
        while pending:
            children = self.client.search_runs(
                [self.experiment_id], f"tags.`mlflow.parentRunId` = '{pending.pop()}'"
            )
            for child in children:
                pending.append(child.info.run_id)
                if child.info.status == "RUNNING":
                    self.client.set_terminated(child.info.run_id, status=status)

    def _end_quietly(self, run_id: str, cause: BaseException) -> None:
        """End a run on the way out of a failure: the first failure is the one to report.

        Not on a locked SQLite store: MLflow has just waited 20 s for it, and would again.
        """
        if _locked(cause):
            return
        with contextlib.suppress(Exception):
            self.client.set_terminated(run_id, status=_ending(cause))

    def _log(
        self,
        run_id: str,
        metrics: Mapping[str, Any] | None = None,
        series: Iterable[tuple[str, int, float]] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        from mlflow.entities import Metric, Param, RunTag

        now = int(time.time() * 1000)
        metric_list = [
            Metric(key, float(value), now, 0)
            for key, value in (metrics or {}).items()
            if value is not None and not math.isnan(float(value))
        ]
        metric_list += [
            Metric(key, float(value), now, int(step))
            for key, step, value in series
            if not math.isnan(float(value))
        ]
        param_list = [Param(key, str(value)[:6000]) for key, value in (params or {}).items()]
        tag_list = [RunTag(key, value) for key, value in (tags or {}).items()]
        # As few requests as MLflow's per-request limits allow: one, for a typical arm.
        batch = 0
        while True:
            m = metric_list[batch * _BATCH_METRICS : (batch + 1) * _BATCH_METRICS]
            p = param_list[batch * _BATCH_PARAMS : (batch + 1) * _BATCH_PARAMS]
            t = tag_list[batch * _BATCH_PARAMS : (batch + 1) * _BATCH_PARAMS]
            if not (m or p or t):
                return
            self.client.log_batch(run_id, metrics=m, params=p, tags=t)
            batch += 1


def run_url(uri: str, experiment_id: str, run_id: str) -> str:
    """The address of a run in the MLflow UI of a tracking server, or ``""`` for a store
    that no server shows at a known address (an SQLite file, a database).

    >>> run_url("http://mlflow.lan:5000/", "3", "ab12")
    'http://mlflow.lan:5000/#/experiments/3/runs/ab12?workflowType=machine_learning'
    >>> run_url("sqlite:///mlruns/mlflow.db", "3", "ab12")
    ''
    """
    if urlsplit(uri).scheme.lower() not in ("http", "https") or not run_id:
        return ""
    # Without it, a browser new to the UI opens the run in its GenAI view (traces).
    return f"{uri.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}{_TRAINING_VIEW}"


def newest_study(uri: str) -> tuple[str, str, str] | None:
    """The newest study run in the store at ``uri``, as ``(experiment name, experiment ID,
    run ID)``; ``None`` when there is none or the store cannot be read (a missing SQLite
    file is not created)."""
    database = _sqlite_file(uri)
    if database is not None and not database.is_file():
        return None
    from mlflow.tracking import MlflowClient

    _quiet_mlflow()
    try:
        client = MlflowClient(tracking_uri=uri)
        experiments = client.search_experiments()
        runs = client.search_runs(
            [e.experiment_id for e in experiments],
            filter_string="tags.`tuneworth.kind` = 'study'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
    except Exception:  # a broken or unreachable store: the UI says so itself
        return None
    if not runs:
        return None
    run = runs[0]
    names = {e.experiment_id: e.name for e in experiments}
    return names[run.info.experiment_id], run.info.experiment_id, run.info.run_id


def metric_key(name: str) -> str:
    """``name`` as a part of an MLflow metric key, which takes letters, digits, ``_-.`` and
    spaces: a ``+`` between stacked levers becomes ``plus``, other characters go.

    >>> metric_key("label noise filter + optuna TPE, 20 trials")
    'label noise filter plus optuna TPE 20 trials'
    """
    kept = re.sub(r"[^\w.\- ]", "", name.replace("+", " plus "))
    return " ".join(kept.split())


def _curve_series(curve: pd.DataFrame, prefix: str) -> list[tuple[str, int, float]]:
    """A curve's gain, interval and CPU seconds as metric series, step = its step."""
    return [
        (f"{prefix}.{column}", int(row["step"]), float(row[column]))
        for row in curve.to_dict("records")
        for column in ("gain", "ci_low", "ci_high", "cpu_seconds")
    ]


# The artifacts holding a Marginal's folds, curves and steps, in that order.
_MARGINAL_TABLES = ("marginal_folds", "marginal_curves", "marginal_steps")


def _marginal_tables(marginal: Marginal) -> dict[str, pd.DataFrame]:
    """The tables of ``marginal`` by artifact name; the empty ones are not written."""
    tables = zip(_MARGINAL_TABLES, (marginal.folds, marginal.curves, marginal.steps), strict=True)
    return {name: table for name, table in tables if not table.empty}


def load_marginal(uri: str, run_id: str, tags: Mapping[str, str]) -> Marginal | None:
    """The marginal-gain curves a study run stored (:meth:`Tracker.log_marginal`), read
    back as they were written, not recomputed; ``tags`` are the run's. ``None`` for a study
    without curves, or one stored before they existed."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    if "tuneworth.marginal.sentence" not in tags:
        return None
    client = MlflowClient(tracking_uri=uri)
    tables: dict[str, pd.DataFrame] = {}
    with store_errors(uri, "reading the curves"), tempfile.TemporaryDirectory() as tmp:
        stored = {a.path for a in client.list_artifacts(run_id)}
        for name in _MARGINAL_TABLES:
            if f"{name}.csv" not in stored:
                tables[name] = pd.DataFrame()
                continue
            try:
                path = client.download_artifacts(run_id, f"{name}.csv", tmp)
            except (MlflowException, OSError):
                tables[name] = pd.DataFrame()
                continue
            tables[name] = pd.read_csv(path, dtype={"family": "str", "arm": "str"})
    notes = tags.get("tuneworth.marginal.notes", "")
    folds, curves, steps = (tables[name] for name in _MARGINAL_TABLES)
    return Marginal(
        folds,
        curves,
        steps,
        tags["tuneworth.marginal.sentence"],
        tuple(notes.splitlines()),
    )


def rehearse_model_logging() -> None:
    """Save a tiny model as :meth:`Tracker.log_model` saves one, into a directory then
    removed, and load it back to predict, as MLflow checks that a logged model serves; and
    resolve the context MLflow tags a logged model with (the git commit of the program
    running): what MLflow loads and computes once per process for a first model (its
    scikit-learn flavour, skops, the map of installed packages it checks a model's
    requirements against, its serving code, git: about 0.4 s) is then ready for the real
    one."""
    import mlflow.pyfunc
    import mlflow.sklearn
    from mlflow.models import infer_signature
    from mlflow.tracking.context import registry
    from sklearn.dummy import DummyClassifier

    X = pd.DataFrame({"x": [0.0, 1.0]})
    model = DummyClassifier().fit(X, [0, 1])
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = str(Path(tmp, "model"))
        mlflow.sklearn.save_model(
            model,
            path,
            signature=infer_signature(X, model.predict(X)),
            input_example=X,
            **_serialization(model),
        )
        mlflow.pyfunc.load_model(path).predict(X)
        registry.resolve_tags()


def _serialization(model: Any) -> dict[str, Any]:
    """How MLflow saves ``model``: skops, MLflow's safe default, trusting the types of this
    model (tuneworth's own steps among them), which tuneworth itself made; cloudpickle for a
    model skops cannot write. With the packages the model needs, pinned to the versions that
    fitted it, so MLflow does not load the model in a subprocess to guess them."""
    try:
        import skops.io

        trusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
    except Exception:  # skops is absent, or cannot write one of the steps
        return {"serialization_format": "cloudpickle", "pip_requirements": _requirements()}
    return {
        "serialization_format": "skops",
        "skops_trusted_types": trusted,
        "pip_requirements": _requirements("skops"),
    }


def _requirements(*extra: str) -> list[str]:
    """The packages a logged model needs, pinned to the installed versions."""
    pinned = []
    packages = ("scikit-learn", "imbalanced-learn", "pandas", "numpy", "tuneworth", *extra)
    for package in packages:
        with contextlib.suppress(metadata.PackageNotFoundError):
            pinned.append(f"{package}=={metadata.version(package)}")
    return pinned


def _set(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters that say something: a ``None`` or an empty string is left out."""
    return {key: value for key, value in params.items() if not _missing(value) and value != ""}


def _clip(text: str, limit: int) -> str:
    """``text`` cut at the last line that fits in ``limit`` characters, saying so."""
    if len(text) <= limit:
        return text
    more = "\n\n(cut here: the full verdict is in the report artifact)"
    return text[: text.rfind("\n", 0, limit - len(more))] + more


def chosen_configurations(results: Sequence[FoldResult]) -> pd.DataFrame:
    """The configuration each outer fold's search chose, one row per fold with its inner
    score and outer score, for a tuning arm's ``chosen.csv`` (empty for other arms)."""
    rows = [
        {
            "fold": r.fold,
            "repeat": r.repeat,
            **dict(r.best_params),
            "inner_score": r.inner_best_score,
            "outer_score": r.score,
        }
        for r in sorted(results, key=lambda r: r.fold)
        if r.best_params
    ]
    return pd.DataFrame(rows)


def _dataset_input(data: pd.DataFrame, source: str, target: str, name: str) -> Any:
    """An MLflow ``DatasetInput`` for ``data``, in the training context."""
    from mlflow.data.code_dataset_source import CodeDatasetSource
    from mlflow.data.pandas_dataset import from_pandas
    from mlflow.entities import DatasetInput, InputTag

    path = Path(source)
    raw: Any = (
        str(path.resolve()) if path.is_file() else CodeDatasetSource({"tuneworth.source": source})
    )
    with warnings.catch_warnings():
        # MLflow hints at integer columns and at two equal resolvers of a local path, and
        # calls pandas in a way pandas 4 will refuse: none of it is the user's to act on.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        dataset = from_pandas(
            data, source=raw, targets=target, name=name, digest=_pandas_digest(data)
        )
        dataset.schema = _pandas_schema(data)
        # What mlflow.log_input does for the active run, for a run of this client.
        entity = dataset._to_mlflow_entity()
    return DatasetInput(entity, [InputTag("mlflow.data.context", "training")])


# MLflow computes a pandas dataset's digest and schema with a Python call per cell (about
# 12 s for a million rows of 21 columns); these two give the same values column by column.


def _pandas_digest(data: pd.DataFrame) -> str:
    """The digest ``mlflow.data.from_pandas`` computes for ``data``: a hash of the first
    rows of its numeric columns and of its columns holding strings only, its row count and
    its column names."""
    import numpy as np
    from mlflow.data.digest_utils import MAX_ROWS, get_normalized_md5_digest

    def strings_only(column: pd.Series) -> bool:
        kind = column.dtype
        if (
            pd.api.types.is_numeric_dtype(kind)
            or pd.api.types.is_bool_dtype(kind)
            or pd.api.types.is_datetime64_any_dtype(kind)
        ):
            return False
        if isinstance(column.dtype, pd.StringDtype):
            return bool(column.notna().all())
        return bool(column.map(lambda value: type(value) is str).all())

    trimmed = data.head(MAX_ROWS)
    strings = trimmed.columns[[strings_only(data[c]) for c in data.columns]]
    trimmed = trimmed[strings.union(trimmed.select_dtypes(include=[np.number]).columns)]
    return str(
        get_normalized_md5_digest(
            [pd.util.hash_pandas_object(trimmed).to_numpy(), np.int64(len(data))]
            + [str(c).encode() for c in data.columns]
        )
    )


def _pandas_schema(data: pd.DataFrame) -> Any:
    """The schema ``mlflow.data.from_pandas`` infers for ``data``: each column's type (from
    its dtype, or from its values for an object column) and whether it has no missing
    value; ``None``, as there, for a column of values of several types."""
    from mlflow.types import ColSpec, Schema
    from mlflow.types.utils import _infer_pandas_column

    missing = data.isna().any()
    try:
        return Schema(
            [
                ColSpec(type=_infer_pandas_column(data[c]), name=c, required=not bool(missing[c]))
                for c in data.columns
            ]
        )
    except Exception:
        return None


def _locked(exc: BaseException) -> bool:
    """Whether ``exc`` says an SQLite store is locked (raw, or as a :class:`StoreError`)."""
    text = str(exc).lower()
    return "database is locked" in text or "is locked by another process" in text


def _ending(exc: BaseException) -> str:
    """The status of a run ended by ``exc``: KILLED for an interruption, else FAILED."""
    return "KILLED" if isinstance(exc, KeyboardInterrupt | SystemExit) else "FAILED"


def _orphaned(tags: Mapping[str, str]) -> bool:
    """A RUNNING study whose process on this host no longer exists."""
    if tags.get("tuneworth.host") != socket.gethostname():
        return False  # another machine's process: nothing here can tell
    try:
        os.kill(int(tags.get("tuneworth.pid", "0")), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return False


def _quiet_mlflow() -> None:
    """MLflow's INFO lines (database migrations) and its download bars (reading arms back
    on resume) would interleave with tuneworth's own output."""
    import logging

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    # It logs every database error with a traceback before raising it; the error itself
    # reaches the user as one line (store_errors).
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # With a tracking server it prints two links to stdout each time a run ends, between the
    # lines of the progress and the table; tuneworth prints the study run once, at the end.
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@dataclass(frozen=True)
class StoredStudy:
    """A finished study read back from the store: enough to rebuild its verdict and report."""

    run_id: str
    params: dict[str, str]
    tags: dict[str, str]
    results: pd.DataFrame
    arms: pd.DataFrame
    trials: pd.DataFrame
    tuning: pd.DataFrame
    spec: dict[str, Any]
    start_ms: int = 0  # the study run's start and end, milliseconds since the epoch
    end_ms: int | None = None


def load_study(uri: str, experiment: str, run_id: str | None = None) -> StoredStudy:
    """The latest finished study run of ``experiment`` (or run ``run_id``), with its tables."""
    from mlflow.tracking import MlflowClient

    database = _sqlite_file(uri)
    if database is not None and not database.is_file():
        raise TuneworthError(
            f"no MLflow store at {uri}: run an experiment first, or pass --tracking-uri"
        )
    _quiet_mlflow()
    store_kind(uri)
    bound_http_retries()
    with store_errors(uri, "reading the study"):
        return _load_study(MlflowClient(tracking_uri=uri), uri, experiment, run_id)


def _load_study(client: Any, uri: str, experiment: str, run_id: str | None) -> StoredStudy:
    from mlflow.exceptions import MlflowException

    if run_id is None:
        found = client.get_experiment_by_name(experiment)
        runs = (
            client.search_runs(
                [found.experiment_id],
                filter_string="tags.`tuneworth.kind` = 'study' and attributes.status = 'FINISHED'",
                order_by=["attributes.start_time DESC"],
                max_results=1,
            )
            if found is not None
            else []
        )
        if not runs:
            raise TuneworthError(
                f"no finished study of '{experiment}' in {uri}: run 'tuneworth run' on its "
                "spec first"
            )
        run = runs[0]
    else:
        try:
            run = client.get_run(run_id)
        except MlflowException:
            raise TuneworthError(f"no run '{run_id}' in {uri}: check the run ID") from None
    with tempfile.TemporaryDirectory() as tmp:
        tables = {}
        for name in ("results", "arms", "trials", "tuning"):
            try:
                path = client.download_artifacts(run.info.run_id, f"{name}.csv", tmp)
                table = pd.read_csv(path, dtype={"error": "str"})
                if "error" in table.columns:  # an empty cell there means "no error"
                    table["error"] = table["error"].fillna("")
                tables[name] = table
            except (MlflowException, OSError):
                tables[name] = pd.DataFrame()
        if tables["results"].empty or tables["arms"].empty:
            raise TuneworthError(
                f"run {run.info.run_id} has no results.csv and arms.csv: it is not a finished "
                "tuneworth study"
            )
        spec_path = client.download_artifacts(run.info.run_id, "spec.yaml", tmp)
        spec = yaml.safe_load(Path(spec_path).read_text(encoding="utf-8"))
    return StoredStudy(
        run.info.run_id,
        dict(run.data.params),
        dict(run.data.tags),
        tables["results"],
        tables["arms"],
        tables["trials"],
        tables["tuning"],
        spec,
        int(run.info.start_time or 0),
        run.info.end_time,
    )
