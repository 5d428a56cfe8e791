"""Importable pipeline steps: scikit-learn transformers and imbalanced-learn samplers.

Every step follows the scikit-learn estimator contract, so it works in any scikit-learn or
imbalanced-learn pipeline and in any search. The samplers take raw tabular data (numeric
and categorical columns, missing values) and belong before preprocessing; an imblearn
``Pipeline`` runs them on training data only. Importing this package needs neither mlflow
nor optuna.
"""

from tuneworth.steps.augment import Mixup, NoiseInjection, Oversampler
from tuneworth.steps.clean import DuplicateFilter, LabelNoiseFilter, OutlierFilter
from tuneworth.steps.preprocess import make_preprocessor, mutual_information

__all__ = [
    "DuplicateFilter",
    "LabelNoiseFilter",
    "Mixup",
    "NoiseInjection",
    "OutlierFilter",
    "Oversampler",
    "make_preprocessor",
    "mutual_information",
]
