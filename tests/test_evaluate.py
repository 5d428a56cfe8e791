"""Outer folds as every arm receives them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tuneworth.evaluate import make_splits, training_fold


def test_a_training_fold_stores_its_columns_as_one_block_with_the_rows_values() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(index=pd.RangeIndex(60))
    for name in "abcdef":  # added one by one: one block per column
        X[name] = rng.normal(size=60)
    y = pd.Series(np.arange(60) % 2)
    split = make_splits(y, "binary", folds=3, repeats=1, seed=0)[1]
    X_train, y_train = training_fold(X, y, split)
    pd.testing.assert_frame_equal(X_train, X.iloc[split.train])
    pd.testing.assert_series_equal(y_train, y.iloc[split.train])
    # One block: every to_numpy() is a view of the same buffer, not a fresh interleaving.
    assert np.shares_memory(X_train.to_numpy(), X_train.to_numpy())
    assert not np.shares_memory(X.to_numpy(), X.to_numpy())
