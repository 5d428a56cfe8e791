"""Augmentation samplers: append synthetic training rows.

Each keeps every original row unchanged and appends new ones after them. Categorical
values of a synthetic row are copied from a real row, and numeric values are derived from
real ones, so a synthetic row is always a plausible row of the raw table. As imbalanced-learn
samplers they run on training folds only.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import check_sampling_strategy
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from tuneworth.steps._judgements import as_float, column_kinds, is_numeric
from tuneworth.steps._sampling import CATEGORICAL_FEATURES, Augmenter, with_values


class NoiseInjection(Augmenter):
    """Append jittered copies of the training rows.

    Each copy adds Gaussian noise to the numeric columns, scaled per column: the noise of a
    column has standard deviation ``scale`` times that column's standard deviation, so
    columns in different units are perturbed alike. Categorical values, labels and missing
    values are copied unchanged; integer columns are rounded back to integers.

    Parameters
    ----------
    copies : int
        Jittered copies of every row; the training set grows ``1 + copies`` times.
    scale : float
        Noise standard deviation as a fraction of each column's standard deviation.
    categorical_features : "auto" or array-like
        Which columns are categorical: "auto" takes those whose dtype is not numeric (or
        is boolean); otherwise column names, positions or a boolean mask.
    random_state : int, RandomState instance or None
        Seed of the noise.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"height": [150.0, 160.0, 170.0, 180.0],
    ...                   "team": ["a", "b", "a", "b"]})
    >>> X_more, y_more = NoiseInjection(copies=2, random_state=0).fit_resample(X, [0, 1, 0, 1])
    >>> len(X_more), X_more["team"].tolist()[4:8], y_more[4:8]
    (12, ['a', 'b', 'a', 'b'], [0, 1, 0, 1])
    >>> bool(abs(X_more["height"][4:8].to_numpy() - X["height"].to_numpy()).max() < 3)
    True
    """

    _accepts_continuous_target = True

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "copies": [Interval(Integral, 1, None, closed="left")],
        "scale": [Interval(Real, 0, None, closed="left")],
        "categorical_features": CATEGORICAL_FEATURES,
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        copies: int = 1,
        *,
        scale: float = 0.05,
        categorical_features: Any = "auto",
        random_state: Any = None,
    ) -> None:
        self.copies = copies
        self.scale = scale
        self.categorical_features = categorical_features
        self.random_state = random_state

    def _generate(self, frame: pd.DataFrame, y: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
        random = check_random_state(self.random_state)
        numeric = column_kinds(frame, self.categorical_features).numeric
        rows = np.tile(np.arange(len(frame)), self.copies)
        values = as_float(frame, numeric)[rows]
        spread = np.nan_to_num(np.nanstd(values, axis=0)) if len(numeric) else 0.0
        noisy = values + random.standard_normal(values.shape) * self.scale * spread
        updates = {column: noisy[:, i] for i, column in enumerate(numeric)}
        return with_values(frame, rows, updates), y[rows]


class Mixup(Augmenter):
    """Append convex combinations of two training rows of the same class (within-class mixup).

    A synthetic row takes ``lam * a + (1 - lam) * b`` of the numeric values of two rows
    ``a`` and ``b`` of one class, with ``lam`` drawn from Beta(``alpha``, ``alpha``), and
    the categorical values of the row that weighs more. Where one of the two values is
    missing, the heavier row's value (possibly missing) is taken. Mixing within a class keeps
    labels exact, unlike mixup across classes.

    Parameters
    ----------
    ratio : float
        Synthetic rows per class, as a fraction of the class's rows.
    alpha : float
        Beta distribution parameter: small values keep synthetic rows near a real row,
        1 mixes uniformly.
    categorical_features : "auto" or array-like
        Which columns are categorical: "auto" takes those whose dtype is not numeric (or
        is boolean); otherwise column names, positions or a boolean mask.
    random_state : int, RandomState instance or None
        Seed of the pairs and weights.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [10.0, 10.0], [11.0, 11.0]])
    >>> y = np.array([0, 0, 1, 1])
    >>> X_more, y_more = Mixup(ratio=1.0, random_state=0).fit_resample(X, y)
    >>> X_more.shape
    (8, 2)
    >>> bool(np.all((X_more[4:][y_more[4:] == 0] <= 1) & (X_more[4:][y_more[4:] == 1] >= 10)))
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "ratio": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "categorical_features": CATEGORICAL_FEATURES,
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        ratio: float = 1.0,
        *,
        alpha: float = 0.2,
        categorical_features: Any = "auto",
        random_state: Any = None,
    ) -> None:
        self.ratio = ratio
        self.alpha = alpha
        self.categorical_features = categorical_features
        self.random_state = random_state

    def _generate(self, frame: pd.DataFrame, y: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
        random = check_random_state(self.random_state)
        numeric = column_kinds(frame, self.categorical_features).numeric
        firsts, seconds = [], []
        for label in np.unique(y):
            members = np.flatnonzero(y == label)
            n_new = round(self.ratio * len(members))
            if len(members) < 2 or n_new == 0:
                continue
            first = random.randint(len(members), size=n_new)
            # a different partner: an offset in 1 .. n-1 around the class
            second = (first + random.randint(1, len(members), size=n_new)) % len(members)
            firsts.append(members[first])
            seconds.append(members[second])
        if not firsts:
            return frame.iloc[:0], y[:0]
        a, b = np.concatenate(firsts), np.concatenate(seconds)
        lam = random.beta(self.alpha, self.alpha, size=len(a))
        heavier = np.where(lam >= 0.5, a, b)
        values = as_float(frame, numeric)
        mixed = lam[:, None] * values[a] + (1 - lam[:, None]) * values[b]
        mixed = np.where(np.isnan(mixed), values[heavier], mixed)
        updates = {column: mixed[:, i] for i, column in enumerate(numeric)}
        return with_values(frame, heavier, updates), y[a]


class Oversampler(Augmenter, BaseOverSampler):  # type: ignore[misc]
    """Balance the classes with imbalanced-learn's over-samplers, on raw tabular data.

    ``method="smote"`` picks the SMOTE variant the columns need: SMOTE when every column is
    numeric, SMOTE-NC when numeric and categorical columns mix, SMOTE-N when every column is
    categorical. Before interpolating, numeric columns are median-imputed and standardised,
    so that neighbours are found on comparable scales; synthetic values are mapped back to
    the original units and dtypes, and categories back to their values. Original rows are
    returned unchanged, missing values included. ``k_neighbors`` is lowered for a class with
    too few rows, and a class with a single row is duplicated instead.

    Parameters
    ----------
    method : {"smote", "random"}
        Interpolate new rows (SMOTE family) or duplicate random rows of a class.
    sampling_strategy : float, str, dict or callable
        Target class counts, as in imbalanced-learn (default: every class up to the
        majority's count).
    k_neighbors : int
        Neighbours SMOTE interpolates towards.
    categorical_features : "auto" or array-like
        Which columns are categorical: "auto" takes those whose dtype is not numeric (or
        is boolean); otherwise column names, positions or a boolean mask.
    random_state : int, RandomState instance or None
        Seed of the sampling.

    Attributes
    ----------
    sampling_strategy_ : dict
        Rows added per class.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"amount": [10.0, 12, None, 11, 50, 52, 51, 49],
    ...                   "channel": ["web", "shop", "web", "web",
    ...                               "shop", "shop", "web", "shop"]})
    >>> y = [0, 0, 0, 0, 0, 0, 1, 1]
    >>> X_bal, y_bal = Oversampler(k_neighbors=1, random_state=0).fit_resample(X, y)
    >>> y_bal.count(0), y_bal.count(1)
    (6, 6)
    >>> bool(X_bal["amount"][8:].between(49, 51).all()), int(X_bal["amount"].isna().sum())
    (True, 1)
    """

    _sampling_type = "over-sampling"

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **BaseOverSampler._parameter_constraints,
        "method": [StrOptions({"smote", "random"})],
        "k_neighbors": [Interval(Integral, 1, None, closed="left")],
        "categorical_features": CATEGORICAL_FEATURES,
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        method: str = "smote",
        *,
        sampling_strategy: Any = "auto",
        k_neighbors: int = 5,
        categorical_features: Any = "auto",
        random_state: Any = None,
    ) -> None:
        self.method = method
        self.sampling_strategy = sampling_strategy
        self.k_neighbors = k_neighbors
        self.categorical_features = categorical_features
        self.random_state = random_state

    def _generate(self, frame: pd.DataFrame, y: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
        self.sampling_strategy_ = check_sampling_strategy(
            self.sampling_strategy, y, self._sampling_type
        )
        if self.method == "random":
            from imblearn.over_sampling import RandomOverSampler

            # imbalanced-learn's own draws, on row positions: the rows themselves stay in
            # their columns' dtypes, which an array of mixed columns would not keep.
            sampler = RandomOverSampler(
                sampling_strategy=self.sampling_strategy, random_state=self.random_state
            )
            positions = np.arange(len(y)).reshape(-1, 1)
            sampler.fit_resample(positions, y)
            rows = np.asarray(sampler.sample_indices_[len(y) :], dtype=int)
            return with_values(frame, rows, {}), y[rows]
        return self._smote(frame, y, check_random_state(self.random_state))

    def _smote(
        self, frame: pd.DataFrame, y: np.ndarray, random: np.random.RandomState
    ) -> tuple[pd.DataFrame, np.ndarray]:
        columns = column_kinds(frame, self.categorical_features)
        numeric = as_float(frame, columns.numeric)
        center = np.nan_to_num(np.nanmedian(numeric, axis=0)) if numeric.shape[1] else 0.0
        numeric = np.where(np.isnan(numeric), center, numeric)
        mean, std = numeric.mean(axis=0), numeric.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        factorized = [pd.factorize(frame[c], use_na_sentinel=False) for c in columns.categorical]
        codes = [code for code, _ in factorized]
        uniques = [np.asarray(values, dtype=object) for _, values in factorized]
        encoded = np.column_stack([(numeric - mean) / std, *codes]).astype(float)

        parts, labels = [], []
        for label, n_new in self.sampling_strategy_.items():
            members = np.flatnonzero(y == label)
            if n_new == 0:
                continue
            if len(members) == 1:
                parts.append(np.repeat(encoded[members], n_new, axis=0))
            else:
                sampler = self._smote_for(columns, min(self.k_neighbors, len(members) - 1))
                sampler.set_params(
                    sampling_strategy={label: len(members) + n_new},
                    random_state=random.randint(np.iinfo(np.int32).max),
                )
                resampled, _ = sampler.fit_resample(encoded, y)
                parts.append(resampled[len(encoded) :])
            labels.append(np.full(n_new, label, dtype=y.dtype))
        if not parts:
            return frame.iloc[:0], y[:0]
        new = np.concatenate(parts)
        n_numeric = len(columns.numeric)
        # Every synthetic row gets a template row whose dtypes it inherits; its values are
        # then overwritten column by column.
        rows = np.zeros(len(new), dtype=int)
        updates: dict[Any, Any] = {
            column: new[:, i] * std[i] + mean[i] for i, column in enumerate(columns.numeric)
        }
        for j, column in enumerate(columns.categorical):
            updates[column] = uniques[j][new[:, n_numeric + j].round().astype(int)]
        return with_values(frame, rows, updates), np.concatenate(labels)

    def _smote_for(self, columns: Any, k_neighbors: int) -> Any:
        from imblearn.over_sampling import SMOTE, SMOTEN, SMOTENC

        if not columns.categorical:
            return SMOTE(k_neighbors=k_neighbors)
        if not columns.numeric:
            return SMOTEN(k_neighbors=k_neighbors)
        n_numeric = len(columns.numeric)
        categorical = list(range(n_numeric, n_numeric + len(columns.categorical)))
        return SMOTENC(categorical, k_neighbors=k_neighbors)


class TextAugmentation(Augmenter):
    """Append copies of the training rows whose text is perturbed: words swapped and dropped.

    The two label-preserving operations of "easy data augmentation" that need no thesaurus
    (Wei & Zou, EMNLP 2019): in each copy of a text, ``swap`` times its word count (at least
    one) random pairs of words trade places, then each word is deleted with probability
    ``delete`` (one word always stays). Other columns, labels and missing texts are copied
    unchanged. The gains Wei & Zou report are largest on training sets of a few hundred
    texts and shrink with more data.

    Parameters
    ----------
    copies : int
        Perturbed copies of every row; the training set grows ``1 + copies`` times.
    swap : float
        Swaps per text, as a fraction of its words (EDA's alpha for random swap).
    delete : float
        Probability of deleting each word (EDA's p for random deletion).
    text_features : "auto" or array-like
        The text columns: "auto" takes the non-numeric columns whose values have two words
        or more on average; otherwise column names or positions.
    random_state : int, RandomState instance or None
        Seed of the perturbations.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"review": ["box came late and torn", "great price fast delivery"],
    ...                   "stars": [1, 5]})
    >>> X_more, y_more = TextAugmentation(random_state=0).fit_resample(X, ["no", "yes"])
    >>> X_more["stars"].tolist(), y_more
    ([1, 5, 1, 5], ['no', 'yes', 'no', 'yes'])
    >>> X_more["review"][2:].tolist()
    ['late came box and torn', 'great delivery fast price']
    """

    _accepts_continuous_target = True

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "copies": [Interval(Integral, 1, None, closed="left")],
        "swap": [Interval(Real, 0, 1, closed="both")],
        "delete": [Interval(Real, 0, 1, closed="left")],
        "text_features": ["array-like", StrOptions({"auto"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        copies: int = 1,
        *,
        swap: float = 0.1,
        delete: float = 0.1,
        text_features: Any = "auto",
        random_state: Any = None,
    ) -> None:
        self.copies = copies
        self.swap = swap
        self.delete = delete
        self.text_features = text_features
        self.random_state = random_state

    def _generate(self, frame: pd.DataFrame, y: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
        random = check_random_state(self.random_state)
        rows = np.tile(np.arange(len(frame)), self.copies)
        updates = {
            column: np.array(
                [self._perturb(value, random) for value in frame[column].to_numpy()[rows]],
                dtype=object,
            )
            for column in self._text_columns(frame)
        }
        return with_values(frame, rows, updates), y[rows]

    def _text_columns(self, frame: pd.DataFrame) -> list[Any]:
        labels = list(frame.columns)
        if isinstance(self.text_features, str):
            return [
                c
                for c in labels
                if not is_numeric(frame[c])
                and frame[c].dropna().astype(str).str.count(r"\S+").mean() >= 2
            ]
        given = list(self.text_features)
        if all(v in labels for v in given):
            return given
        if all(isinstance(v, Integral) and 0 <= int(v) < len(labels) for v in given):
            return [labels[int(v)] for v in given]
        unknown = next(v for v in given if v not in labels)
        raise ValueError(f"text_features names unknown column {unknown!r}")

    def _perturb(self, value: Any, random: np.random.RandomState) -> Any:
        if not isinstance(value, str):
            return value  # missing stays missing
        words = value.split()
        if len(words) < 2:
            return value
        for _ in range(max(1, round(self.swap * len(words)))):
            i, j = random.choice(len(words), size=2, replace=False)
            words[i], words[j] = words[j], words[i]
        kept = [word for word in words if random.random_sample() >= self.delete]
        return " ".join(kept or [words[random.randint(len(words))]])
