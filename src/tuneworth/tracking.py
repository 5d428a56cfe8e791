"""MLflow tracking: the only module that imports mlflow.

It only reads what the core produced (specs, fold results, summaries) and writes it in
batches from the parent process, after the work: one study run per invocation and one nested
arm run per arm. A tuning arm's trials are an artifact (``trials.csv``) and metric series,
not runs; nested per-trial runs are an opt-in for small searches (``tracking.trial_runs``).
"""

from __future__ import annotations

import math
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from tuneworth.errors import TuneworthError
from tuneworth.evaluate import FoldResult, fold_results, results_frame
from tuneworth.search import best_so_far

DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"
# MLflow's log_batch limits per request: 100 params, 100 tags, 1000 entities in all.
_BATCH_METRICS, _BATCH_PARAMS = 800, 100
_PACKAGES = ("tuneworth", "scikit-learn", "imbalanced-learn", "optuna", "pandas", "mlflow")


def resolve_tracking_uri(uri: str | None) -> str:
    """``--tracking-uri``, else ``MLFLOW_TRACKING_URI``, else this project's SQLite store."""
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def artifact_root(uri: str) -> str | None:
    """Artifacts of a SQLite store live beside it in ``artifacts/``; a server decides itself."""
    if not uri.startswith("sqlite:///"):
        return None
    database = Path(uri.removeprefix("sqlite:///"))
    return (database.parent / "artifacts").resolve().as_uri()


class Tracker:
    """Writes one experiment invocation to MLflow."""

    def __init__(self, uri: str) -> None:
        import mlflow
        from mlflow.tracking import MlflowClient

        _quiet_mlflow()

        if uri.startswith("sqlite:///"):
            Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # Set explicitly: with no URI MLflow may fall back to the deprecated file store.
        mlflow.set_tracking_uri(uri)
        self.uri = uri
        self.client = MlflowClient(tracking_uri=uri)
        self.experiment_id = ""
        self.study_run_id = ""

    def start_study(
        self,
        experiment: str,
        tags: Mapping[str, str],
        params: Mapping[str, Any],
        resume: bool = True,
    ) -> dict[str, tuple[str, list[FoldResult]]]:
        """Open a study run for the spec, resuming the last one if it did not finish.

        The spec's latest study with the same spec hash and data fingerprint is resumed when
        it was interrupted (KILLED), failed, or orphaned by a killed process (RUNNING, but its
        process on this host is gone; it is marked FAILED first). Returns the arms that study
        had finished, as ``name -> (arm run ID, fold results)``, so they are not recomputed.
        """
        self._use_experiment(experiment)
        same = (
            "tags.`tuneworth.kind` = 'study'"
            f" and tags.`tuneworth.spec_hash` = '{tags['tuneworth.spec_hash']}'"
            f" and tags.`tuneworth.data_fingerprint` = '{tags['tuneworth.data_fingerprint']}'"
        )
        previous = self.client.search_runs(
            [self.experiment_id], same, order_by=["attributes.start_time DESC"], max_results=1
        )
        owner = {"tuneworth.host": socket.gethostname(), "tuneworth.pid": str(os.getpid())}
        last = previous[0] if previous else None
        if last is not None and last.info.status == "RUNNING":
            if _orphaned(last.data.tags):
                self._log(last.info.run_id, tags={"tuneworth.ended": "orphaned"})
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
            self.client.update_run(self.study_run_id, status="RUNNING")
            self._log(self.study_run_id, tags=owner)
            return self._finished_arms()
        run = self.client.create_run(
            self.experiment_id,
            tags={"tuneworth.kind": "study", **tags, **owner},
            run_name=f"{experiment} study",
        )
        self.study_run_id = run.info.run_id
        self._log(self.study_run_id, params=params)
        return {}

    def _use_experiment(self, experiment: str) -> None:
        found = self.client.get_experiment_by_name(experiment)
        if found is None:
            root = artifact_root(self.uri)
            location = f"{root}/{experiment}" if root else None
            self.experiment_id = self.client.create_experiment(
                experiment, artifact_location=location
            )
        else:
            self.experiment_id = found.experiment_id
            if found.lifecycle_stage == "deleted":
                self.client.restore_experiment(self.experiment_id)

    def _finished_arms(self) -> dict[str, tuple[str, list[FoldResult]]]:
        """The finished arm runs of the current study, with their fold results."""
        runs = self.client.search_runs(
            [self.experiment_id],
            f"tags.`mlflow.parentRunId` = '{self.study_run_id}' and attributes.status = 'FINISHED'",
        )
        finished: dict[str, tuple[str, list[FoldResult]]] = {}
        with tempfile.TemporaryDirectory() as tmp:
            for run in runs:
                run_id = run.info.run_id
                folds = pd.read_csv(
                    self.client.download_artifacts(run_id, "folds.csv", tmp),
                    dtype={"error": "str"},
                )
                folds["error"] = folds["error"].fillna("")
                names = {a.path for a in self.client.list_artifacts(run_id)}
                trials = (
                    pd.read_csv(self.client.download_artifacts(run_id, "trials.csv", tmp))
                    if "trials.csv" in names
                    else None
                )
                name = run.data.tags["tuneworth.arm"]
                finished[name] = (run_id, fold_results(folds, trials))
        return finished

    def log_arm(
        self,
        arm: str,
        tags: Mapping[str, str],
        params: Mapping[str, Any],
        results: Sequence[FoldResult],
        *,
        greater_is_better: bool = True,
        trial_runs: bool = False,
    ) -> str:
        """One nested run for a finished arm: its configuration, fold scores and cost.

        A tuning arm also gets its trial table as ``trials.csv``, its best inner score per
        fold (step = fold) and the ``best_so_far`` curve (step = configurations evaluated,
        mean over folds); with ``trial_runs``, one nested run per trial.
        """
        start = int(time.time() * 1000)
        run = self.client.create_run(
            self.experiment_id,
            start_time=start,
            tags={"mlflow.parentRunId": self.study_run_id, "tuneworth.kind": "arm", **tags},
            run_name=arm,
        )
        run_id = run.info.run_id
        frame = results_frame(list(results))
        ok = frame[frame["error"] == ""]
        metrics: dict[str, Any] = {
            "score_mean": ok["score"].mean(),
            "score_std": ok["score"].std(ddof=1),
            "fit_cpu_seconds": frame["fit_cpu_seconds"].sum(),
            "fit_seconds": frame["fit_seconds"].sum(),
            "predict_seconds": frame["predict_seconds"].sum(),
            "n_fits": frame["n_fits"].sum(),
            "n_failed_folds": int((frame["error"] != "").sum()),
        }
        series: list[tuple[str, int, float]] = [("fold_score", r.fold, r.score) for r in results]
        tables = [r.trials.assign(fold=r.fold) for r in results if r.trials is not None]
        trials = pd.concat(tables, ignore_index=True) if tables else None
        if trials is not None:
            series += [("inner_best_score", r.fold, r.inner_best_score) for r in results]
            curve = best_so_far(trials, greater_is_better)
            series += [("best_so_far", int(step), float(curve[step])) for step in curve.index]
        self._log(run_id, metrics=metrics, series=series, params=params)
        if trial_runs and trials is not None:
            self._log_trial_runs(run_id, trials, tags)
        errors = sorted({r.error for r in results if r.error})
        warnings = sorted({w for r in results for w in r.warnings})
        extra = {"tuneworth.errors": "\n".join(errors)[:5000]} if errors else {}
        if warnings:
            extra["tuneworth.warnings"] = "\n".join(warnings)[:5000]
        self._log(run_id, tags=extra)
        with tempfile.TemporaryDirectory() as tmp:
            frame.to_csv(Path(tmp, "folds.csv"), index=False)
            if trials is not None:
                trials.to_csv(Path(tmp, "trials.csv"), index=False)
            self.client.log_artifacts(run_id, tmp)
        self.client.set_terminated(run_id, status="FAILED" if ok.empty else "FINISHED")
        return run_id

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
            self._log(
                run_id,
                metrics={"score": row["score"], "fit_seconds": row["fit_seconds"]},
                params={
                    str(key).removeprefix("param."): value
                    for key, value in row.items()
                    if str(key).startswith("param.") and not _missing(value)
                },
                tags={"tuneworth.fold": str(row["fold"]), "tuneworth.trial": str(row["trial"])},
            )
            status = "FINISHED" if row["state"] == "complete" else "FAILED"
            self.client.set_terminated(run_id, status=status)

    def log_tuning(self, run_ids: Mapping[str, str], comparison: pd.DataFrame) -> None:
        """What each tuning arm's search found (:func:`tuneworth.search.compare_strategies`),
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
                    tags={"tuneworth.outcome": row["outcome"]} if row["outcome"] else None,
                )

    def finish_study(
        self,
        metrics: Mapping[str, float],
        artifacts: Path,
        report: Path,
        verdict: Sequence[str] = (),
    ) -> None:
        """Close the study run with its metrics, verdict, tables and report."""
        tags = {"tuneworth.verdict": "\n".join(verdict)[:5000]} if verdict else {}
        self._log(self.study_run_id, metrics=metrics, tags=tags)
        self.client.log_artifacts(self.study_run_id, str(artifacts))
        self.client.log_artifacts(self.study_run_id, str(report), artifact_path="report")
        self.client.set_terminated(self.study_run_id, status="FINISHED")

    def abort(self, status: str = "KILLED") -> None:
        """Close the study run without losing what was already written."""
        if self.study_run_id:
            self.client.set_terminated(self.study_run_id, status=status)

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
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def environment_tags() -> dict[str, str]:
    """Git commit and package versions, so a study run says what produced it."""
    tags = {}
    for package in _PACKAGES:
        try:
            tags[f"tuneworth.version.{package}"] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        tags["mlflow.source.git.commit"] = commit
    except (OSError, subprocess.SubprocessError):
        pass
    return tags


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


def load_study(uri: str, experiment: str, run_id: str | None = None) -> StoredStudy:
    """The latest finished study run of ``experiment`` (or run ``run_id``), with its tables."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        raise TuneworthError(
            f"no MLflow store at {uri}: run an experiment first, or pass --tracking-uri"
        )
    _quiet_mlflow()
    client = MlflowClient(tracking_uri=uri)
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
    )
