"""Importable pipeline steps: scikit-learn transformers and imbalanced-learn samplers.

Every step follows the scikit-learn estimator contract, so it works in any scikit-learn or
imbalanced-learn pipeline and in any search. Importing this package needs neither mlflow nor
optuna.
"""

from tuneworth.steps.preprocess import make_preprocessor

__all__ = ["make_preprocessor"]
