"""Importable pipeline steps: scikit-learn transformers and imbalanced-learn samplers.

Every step follows the scikit-learn estimator contract, so it works in any scikit-learn or
imbalanced-learn pipeline and in any search. The samplers take raw tabular data (numeric,
categorical and text columns, missing values) and belong before preprocessing; an imblearn
``Pipeline`` runs them on training data only. Importing this package needs neither mlflow
nor optuna, and the steps load on first use, so that reading a spec stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuneworth.steps._fitcache import CacheInfo, FitCache, preprocess_cache
    from tuneworth.steps._impute import MedianImputer
    from tuneworth.steps.augment import Mixup, NoiseInjection, Oversampler, TextAugmentation
    from tuneworth.steps.clean import (
        DuplicateFilter,
        IncompleteRowFilter,
        LabelNoiseFilter,
        OutlierFilter,
        TargetNoiseFilter,
    )
    from tuneworth.steps.preprocess import Preprocessor, mutual_information

_EXPORTS = {
    "CacheInfo": "tuneworth.steps._fitcache",
    "FitCache": "tuneworth.steps._fitcache",
    "preprocess_cache": "tuneworth.steps._fitcache",
    "MedianImputer": "tuneworth.steps._impute",
    "DuplicateFilter": "tuneworth.steps.clean",
    "IncompleteRowFilter": "tuneworth.steps.clean",
    "LabelNoiseFilter": "tuneworth.steps.clean",
    "OutlierFilter": "tuneworth.steps.clean",
    "TargetNoiseFilter": "tuneworth.steps.clean",
    "Mixup": "tuneworth.steps.augment",
    "NoiseInjection": "tuneworth.steps.augment",
    "Oversampler": "tuneworth.steps.augment",
    "TextAugmentation": "tuneworth.steps.augment",
    "Preprocessor": "tuneworth.steps.preprocess",
    "mutual_information": "tuneworth.steps.preprocess",
}
__all__ = [
    "CacheInfo",
    "DuplicateFilter",
    "FitCache",
    "IncompleteRowFilter",
    "LabelNoiseFilter",
    "MedianImputer",
    "Mixup",
    "NoiseInjection",
    "OutlierFilter",
    "Oversampler",
    "Preprocessor",
    "TargetNoiseFilter",
    "TextAugmentation",
    "mutual_information",
    "preprocess_cache",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'tuneworth.steps' has no attribute {name!r}")
