"""The metrics a spec may name, which tasks they fit, and which way is better."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tuneworth.data import Task
from tuneworth.errors import TuneworthError, closest
from tuneworth.scoring import Scorer

CLASSIFICATION: tuple[Task, ...] = ("binary", "multiclass")


@dataclass(frozen=True)
class Metric:
    """A metric as people read it: RMSE is positive and lower is better."""

    name: str
    label: str
    scorer: str  # scikit-learn's name; :attr:`scoring` computes it
    tasks: tuple[Task, ...]
    greater_is_better: bool = True
    heading: str = ""  # a narrow table column's header, when the label is long
    # The best score there is (1 for a perfect ROC-AUC, 0 for no error), None if unbounded:
    # a baseline there has nothing left for any lever to gain.
    best: float | None = None

    @property
    def column(self) -> str:
        """The header of the metric's column in a table: short, the label said in full above.

        >>> METRICS["roc_auc_ovr"].column, METRICS["log_loss"].column
        ('ROC-AUC', 'log loss')
        """
        return self.heading or self.label

    @property
    def sign(self) -> float:
        """``+1.0`` when higher is better, ``-1.0`` when lower is.

        The one place the metric's orientation is decided: a difference of scores times the
        sign is a gain (positive is better), and a scikit-learn scorer's value (always
        greater-is-better) times the sign is the metric as people read it.

        >>> METRICS["roc_auc"].sign, METRICS["log_loss"].sign
        (1.0, -1.0)
        """
        return orientation(self.greater_is_better)

    @property
    def direction(self) -> str:
        """``"higher is better"`` or ``"lower is better"``."""
        return "higher is better" if self.greater_is_better else "lower is better"

    def gain(self, arm: Any, reference: Any) -> Any:
        """How much better ``arm`` scored than ``reference``: positive is better, whichever
        way the metric points (for a loss, ``reference - arm``).

        >>> METRICS["log_loss"].gain(0.30, 0.35), METRICS["accuracy"].gain(0.90, 0.85)
        (0.04999999999999999, 0.050000000000000044)
        """
        return self.sign * (arm - reference)

    @property
    def scoring(self) -> Scorer:
        """The scorer to give a search and to score outer folds with: scikit-learn's
        ``scorer`` (greater is better), bitwise, without its per-call checks."""
        return Scorer(self.scorer)

    def score(self, estimator: Any, X: Any, y: Any) -> float:
        """The metric in its natural orientation (scikit-learn negates error scorers)."""
        return self.sign * float(self.scoring(estimator, X, y))


def orientation(greater_is_better: bool) -> float:
    """``+1.0`` for a metric where higher is better, ``-1.0`` for a loss or an error.

    For code that holds only the flag (a search, a stored study); prefer :attr:`Metric.sign`.
    """
    return 1.0 if greater_is_better else -1.0


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("roc_auc", "ROC-AUC", "roc_auc", ("binary",), best=1.0),
        Metric(
            "roc_auc_ovr",
            "ROC-AUC (one-vs-rest)",
            "roc_auc_ovr",
            ("multiclass",),
            True,
            "ROC-AUC",
            best=1.0,
        ),
        Metric(
            "average_precision",
            "average precision",
            "average_precision",
            ("binary",),
            True,
            "AP",
            best=1.0,
        ),
        Metric("accuracy", "accuracy", "accuracy", CLASSIFICATION, best=1.0),
        Metric(
            "balanced_accuracy",
            "balanced accuracy",
            "balanced_accuracy",
            CLASSIFICATION,
            True,
            "bal. acc.",
            best=1.0,
        ),
        Metric("f1", "F1", "f1", ("binary",), best=1.0),
        Metric("f1_macro", "macro F1", "f1_macro", CLASSIFICATION, best=1.0),
        Metric(
            "log_loss",
            "log loss",
            "neg_log_loss",
            CLASSIFICATION,
            greater_is_better=False,
            best=0.0,
        ),
        Metric("r2", "R²", "r2", ("regression",), best=1.0),
        Metric("rmse", "RMSE", "neg_root_mean_squared_error", ("regression",), False, best=0.0),
        Metric("mae", "MAE", "neg_mean_absolute_error", ("regression",), False, best=0.0),
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
