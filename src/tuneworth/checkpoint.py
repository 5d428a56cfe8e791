"""The checkpoint of an interrupted study: the arms it finished, read back from MLflow.

A study resumed by :meth:`tuneworth.tracking.Tracker.start_study` keeps the arm runs it
finished; their fold tables (``folds.csv``) and trial tables (``trials.csv``) are read here
and handed to the run as results it need not compute again
(:func:`tuneworth.comparison.run_plan`'s ``resumed``).
"""

from __future__ import annotations

import tempfile

import pandas as pd

from tuneworth.evaluate import FoldResult, fold_results
from tuneworth.tracking import Tracker, store_errors


def finished_arms(tracker: Tracker) -> dict[str, tuple[str, list[FoldResult]]]:
    """The finished arm runs of ``tracker``'s study run, as ``arm name -> (run ID, fold
    results)``."""
    client = tracker.client
    with store_errors(tracker.uri, "reading the finished arms"):
        runs = client.search_runs(
            [tracker.experiment_id],
            f"tags.`mlflow.parentRunId` = '{tracker.study_run_id}' "
            "and attributes.status = 'FINISHED'",
        )
        finished: dict[str, tuple[str, list[FoldResult]]] = {}
        with tempfile.TemporaryDirectory() as tmp:
            for run in runs:
                run_id = run.info.run_id
                folds = pd.read_csv(
                    client.download_artifacts(run_id, "folds.csv", tmp), dtype={"error": "str"}
                )
                folds["error"] = folds["error"].fillna("")
                names = {a.path for a in client.list_artifacts(run_id)}
                trials = (
                    pd.read_csv(client.download_artifacts(run_id, "trials.csv", tmp))
                    if "trials.csv" in names
                    else None
                )
                finished[run.data.tags["tuneworth.arm"]] = (run_id, fold_results(folds, trials))
    return finished
