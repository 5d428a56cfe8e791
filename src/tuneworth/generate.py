"""Tables the project generates for its ground-truth scenarios: no download, same rows
every time.

A spec names one as its source, ``generated:<name>``. Each table is drawn from a fixed
seed with numpy only, in milliseconds, and its docstring says where the signal lives,
which is what the scenario's known truth rests on.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

_SEED = 20261129


def weekday_visits(n: int = 1000) -> pd.DataFrame:
    """Shop days over four years: is the day ``busy``? The signal is the day of the week.

    Weekend days (Saturday, Sunday) are busy with probability 0.8, weekdays with 0.2; the
    date itself (as a number), the ``temperature`` and the ``promo`` flag carry nothing.
    Dates are ISO strings, as a CSV holds them.

    >>> table = weekday_visits()
    >>> table.shape, table["busy"].value_counts().to_dict()
    ((1000, 4), {'no': 599, 'yes': 401})
    """
    rng = np.random.default_rng(_SEED)
    days = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 4 * 365, n), unit="D")
    weekend = days.day_of_week >= 5
    busy = rng.random(n) < np.where(weekend, 0.8, 0.2)
    return pd.DataFrame(
        {
            "date": pd.Series(days.strftime("%Y-%m-%d"), dtype="str"),
            "temperature": rng.normal(15, 8, n).round(1),
            "promo": pd.Series(rng.choice(["yes", "no"], n), dtype="str"),
            "busy": pd.Series(np.where(busy, "yes", "no"), dtype="str"),
        }
    )


_NEUTRAL = [
    "the",
    "a",
    "this",
    "parcel",
    "order",
    "item",
    "box",
    "arrived",
    "came",
    "was",
    "is",
    "it",
    "and",
    "with",
    "of",
    "for",
    "my",
    "on",
    "delivery",
    "package",
    "product",
    "shop",
    "seller",
    "week",
    "day",
    "colour",
    "size",
    "price",
]
_POSITIVE = ("great", "excellent", "love", "perfect", "happy")
_NEGATIVE = ("broken", "refund", "awful", "late", "disappointed")


def product_reviews(n: int = 600) -> pd.DataFrame:
    """Short product reviews: is the customer ``satisfied``? The signal lives in words.

    Each review has 8 to 14 words, mostly neutral; a satisfied customer's review holds one
    to three words of a positive set, an unsatisfied one's of a negative set, and 10% of
    the labels are flipped. The ``stars_shown`` column is noise. Every review is distinct,
    so as a category it tells nothing about a review not seen in training.

    >>> table = product_reviews()
    >>> table.shape, table["review"].nunique(), table["satisfied"].value_counts().to_dict()
    ((600, 3), 600, {'no': 328, 'yes': 272})
    """
    rng = np.random.default_rng(_SEED + 1)
    satisfied = rng.random(n) < 0.5
    reviews = []
    for happy in satisfied:
        words = list(rng.choice(_NEUTRAL, rng.integers(7, 12)))
        cues = rng.choice(_POSITIVE if happy else _NEGATIVE, rng.integers(1, 4))
        for cue in cues:
            words.insert(int(rng.integers(0, len(words) + 1)), str(cue))
        reviews.append(" ".join(words))
    flipped = satisfied ^ (rng.random(n) < 0.1)
    return pd.DataFrame(
        {
            "review": pd.Series(reviews, dtype="str"),
            "stars_shown": rng.integers(1, 6, n),
            "satisfied": pd.Series(np.where(flipped, "yes", "no"), dtype="str"),
        }
    )


def tabular_signal(n: int = 1000) -> pd.DataFrame:
    """A clean classification table of the kind boosted trees do well on.

    Ten numeric features, five of which carry the signal (two interactions and a
    threshold), three categorical columns (one informative) and no defect; the label is
    a noisy logistic function of them.

    >>> table = tabular_signal()
    >>> table.shape, round(float((table["label"] == "yes").mean()), 2)
    ((1000, 14), 0.53)
    """
    rng = np.random.default_rng(_SEED + 2)
    X = rng.normal(size=(n, 10))
    region = rng.choice(["north", "south", "east", "west"], n)
    logit = (
        1.5 * X[:, 0]
        - X[:, 1]
        + 1.2 * X[:, 2] * X[:, 3]
        + 2.0 * (X[:, 4] > 0.5)
        + np.where(region == "south", 1.0, 0.0)
        - 0.6
    )
    label = rng.random(n) < 1 / (1 + np.exp(-logit))
    table = pd.DataFrame(X, columns=[f"x{i}" for i in range(10)])
    table["region"] = pd.Series(region, dtype="str")
    table["channel"] = pd.Series(rng.choice(["web", "shop", "phone"], n), dtype="str")
    table["tier"] = pd.Series(rng.choice(["a", "b"], n), dtype="str")
    table["label"] = pd.Series(np.where(label, "yes", "no"), dtype="str")
    return table


GENERATORS: dict[str, Callable[[], pd.DataFrame]] = {
    "weekday_visits": weekday_visits,
    "product_reviews": product_reviews,
    "tabular_signal": tabular_signal,
}
