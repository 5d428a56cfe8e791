"""tuneworth: is hyperparameter tuning worth it on your tabular data?

The public API is re-exported here; heavy modules load on first use::

    from tuneworth import compare
    from tuneworth.levers import GridSearch, LabelNoiseFilter

    result = compare(X, y, levers=[LabelNoiseFilter(), GridSearch(trials=20)])
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "compare": "tuneworth.api",
    "Comparison": "tuneworth.comparison",
    "Baseline": "tuneworth.api",
    "CV": "tuneworth.api",
    "Budget": "tuneworth.api",
    "Spec": "tuneworth.spec",
    "load_spec": "tuneworth.spec",
    "parse_spec": "tuneworth.spec",
    "load_dataset": "tuneworth.data",
    "infer_schema": "tuneworth.data",
    "detect_task": "tuneworth.data",
    "plan_experiment": "tuneworth.experiment",
    "run_experiment": "tuneworth.experiment",
    "corrected_ttest": "tuneworth.stats",
    "TuneworthError": "tuneworth.errors",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'tuneworth' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
