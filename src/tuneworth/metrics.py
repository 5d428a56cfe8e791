"""The metrics a spec may name, which tasks they fit, and which way is better."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tuneworth.data import Task
from tuneworth.errors import TuneworthError, closest

CLASSIFICATION: tuple[Task, ...] = ("binary", "multiclass")


@dataclass(frozen=True)
class Metric:
    """A metric as people read it: RMSE is positive and lower is better."""

    name: str
    label: str
    scorer: str
    tasks: tuple[Task, ...]
    greater_is_better: bool = True

    def score(self, estimator: Any, X: Any, y: Any) -> float:
        """The metric in its natural orientation (scikit-learn negates error scorers)."""
        from sklearn.metrics import get_scorer

        value = float(get_scorer(self.scorer)(estimator, X, y))
        return value if self.greater_is_better else -value


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("roc_auc", "ROC-AUC", "roc_auc", ("binary",)),
        Metric("roc_auc_ovr", "ROC-AUC (one-vs-rest)", "roc_auc_ovr", ("multiclass",)),
        Metric("average_precision", "average precision", "average_precision", ("binary",)),
        Metric("accuracy", "accuracy", "accuracy", CLASSIFICATION),
        Metric("balanced_accuracy", "balanced accuracy", "balanced_accuracy", CLASSIFICATION),
        Metric("f1", "F1", "f1", ("binary",)),
        Metric("f1_macro", "macro F1", "f1_macro", CLASSIFICATION),
        Metric("log_loss", "log loss", "neg_log_loss", CLASSIFICATION, greater_is_better=False),
        Metric("r2", "R²", "r2", ("regression",)),
        Metric("rmse", "RMSE", "neg_root_mean_squared_error", ("regression",), False),
        Metric("mae", "MAE", "neg_mean_absolute_error", ("regression",), False),
    )
}

DEFAULT_METRIC: dict[Task, str] = {
    "binary": "roc_auc",
    "multiclass": "roc_auc_ovr",
    "regression": "r2",
}


def resolve_metric(name: str | None, task: Task) -> Metric:
    """The metric called ``name`` (or the task's default), checked against the task."""
    if name is None:
        return METRICS[DEFAULT_METRIC[task]]
    if name not in METRICS:
        raise TuneworthError(
            f"unknown metric '{name}'{closest(name, METRICS)}; choose one of {', '.join(METRICS)}"
        )
    metric = METRICS[name]
    if task not in metric.tasks:
        fitting = [m for m, spec in METRICS.items() if task in spec.tasks]
        raise TuneworthError(
            f"metric '{name}' does not fit a {task} task; choose one of {', '.join(fitting)}"
        )
    return metric
