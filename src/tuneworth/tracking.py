"""MLflow tracking: the only module that imports mlflow.

It only reads what the core produced (specs, fold results, summaries) and writes it in
batches from the parent process, after the work: one study run per invocation and one nested
arm run per arm. A tuning arm's trials are an artifact (``trials.csv``) and metric series,
not runs; nested per-trial runs are an opt-in for small searches (``tracking.trial_runs``).
"""

from __future__ import annotations

import math
import os
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from tuneworth.evaluate import FoldResult, results_frame
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
        import logging

        import mlflow
        from mlflow.tracking import MlflowClient

        # MLflow's INFO lines (database migrations) would interleave with the progress line.
        logging.getLogger("mlflow").setLevel(logging.WARNING)

        if uri.startswith("sqlite:///"):
            Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # Set explicitly: with no URI MLflow may fall back to the deprecated file store.
        mlflow.set_tracking_uri(uri)
        self.uri = uri
        self.client = MlflowClient(tracking_uri=uri)
        self.experiment_id = ""
        self.study_run_id = ""

    def start_study(
        self, experiment: str, tags: Mapping[str, str], params: Mapping[str, Any]
    ) -> str:
        """Create (or reuse) the spec's experiment and open a study run in it."""
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
        run = self.client.create_run(
            self.experiment_id,
            tags={"tuneworth.kind": "study", **tags},
            run_name=f"{experiment} study",
        )
        self.study_run_id = run.info.run_id
        self._log(self.study_run_id, params=params)
        return self.study_run_id

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
            "delta_vs_untuned",
            "cost_vs_untuned",
        )
        for row in comparison.to_dict("records"):
            run_id = run_ids.get(row["arm"])
            if run_id:
                metrics = {key: row[key] for key in keys if math.isfinite(float(row[key]))}
                self._log(run_id, metrics=metrics)

    def log_comparisons(self, run_ids: Mapping[str, str], summary: pd.DataFrame) -> None:
        """Deltas vs the baseline, their intervals and cost ratios, on each arm run."""
        keys = {
            "delta": "delta",
            "ci_low": "delta_ci_low",
            "ci_high": "delta_ci_high",
            "p_value": "p_value",
            "cost_ratio": "cost_ratio",
        }
        for row in summary.to_dict("records"):
            run_id = run_ids.get(row["arm"])
            if run_id:
                self._log(run_id, metrics={name: row[column] for column, name in keys.items()})

    def finish_study(
        self, metrics: Mapping[str, float], files: Iterable[Path], status: str = "FINISHED"
    ) -> None:
        self._log(self.study_run_id, metrics=metrics)
        for path in files:
            self.client.log_artifact(self.study_run_id, str(path))
        self.client.set_terminated(self.study_run_id, status=status)

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
