"""A per-process, content-keyed cache of fitted preprocessing and of its outputs.

Within one outer fold every search strategy splits the training rows into the same inner
folds, every configuration of a search that only moves the model refits the same
preprocessing on each of them, and many arms share the baseline's preprocessing on the same
outer training rows. A fit is keyed by what determines it, the preprocessor's parameters and
the exact content of the rows (and target) it sees, so a hit returns what a fresh fit would
return, and a transform fitted on other rows can never be: a sampler that adds or removes a
single row, or a defect that changes one value, gives another key.

Outputs are handed out read-only (arrays) or as copy-on-write copies (DataFrames), so no
consumer can change what the next one receives. Warnings a fit or transform raised are kept
and raised again on every hit, so each caller sees the warnings its own fit would have.
Memory is bounded: least recently used entries go first beyond :data:`MAX_BYTES` of cached
outputs and fitted arrays, or :data:`MAX_ENTRIES` fits, and an output or fit larger than a
quarter of the budget is never kept.

Sharing makes a run faster, not an arm cheaper: each entry remembers who computed it
(:meth:`FitCache.owned_by`) and the CPU seconds it took, and another owner's first hit adds
those seconds to :attr:`FitCache.charged` (its later hits are free, as they would be alone),
so an arm's cost is what it would cost alone, whichever arm happened to fit the shared
preprocessing first.
"""

from __future__ import annotations

import hashlib
import os
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

# Enough for every inner fold of 100,000 rows of 20 columns; a million rows (a test fold's
# output is 53 MB) would otherwise keep outputs no other arm or trial asks for again.
MAX_BYTES = int(os.environ.get("TUNEWORTH_PREPROCESS_CACHE_MB", "128")) * 2**20
MAX_ENTRIES = 256


@dataclass
class CacheInfo:
    """Counts of the process's cache: fits and transforms computed (misses) or reused."""

    fit_hits: int = 0
    fit_misses: int = 0
    transform_hits: int = 0
    transform_misses: int = 0


@dataclass
class _Entry:
    """One fitted transformer, with what it produced and warned."""

    transformer: Any
    fit_warnings: list[warnings.WarningMessage]
    # Who fitted it (FitCache.owned_by), the CPU seconds the fit (or fit_transform) took,
    # and the other owners already charged for it (once each: alone, they would have fitted
    # it once and then reused it themselves).
    owner: str = ""
    cpu_seconds: float = 0.0
    charged_to: set[str] = field(default_factory=set)
    # fit_transform's output on the training rows (out of fold for a target encoder).
    train: tuple[Any, list[warnings.WarningMessage]] | None = None
    # transform's outputs, by fingerprint of their input, with who computed each, its CPU
    # seconds and the other owners charged for it.
    transforms: dict[bytes, tuple[Any, list[warnings.WarningMessage], str, float, set[str]]] = (
        field(default_factory=dict)
    )
    nbytes: int = 0


class FitCache:
    """Fitted transformers by (parameters, content of X and y); bounded, least recent out."""

    def __init__(self, max_bytes: int = MAX_BYTES, max_entries: int = MAX_ENTRIES) -> None:
        self.max_bytes, self.max_entries = max_bytes, max_entries
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self._nbytes = 0
        self._paused = 0
        self.info = CacheInfo()
        self.owner = ""
        # CPU seconds of work reused from other owners' entries, charged to the owners that
        # reused it: read before and after a timed fit (see tuneworth.evaluate).
        self.charged = 0.0

    @contextmanager
    def owned_by(self, owner: str) -> Iterator[None]:
        """Fits and transforms inside the block are ``owner``'s (an arm's name): reusing
        what another owner computed charges its CPU seconds to :attr:`charged`."""
        previous, self.owner = self.owner, owner
        try:
            yield
        finally:
            self.owner = previous

    def _charge(self, owner: str, seconds: float, charged_to: set[str]) -> None:
        """Charge the current owner, once, for work ``owner`` did."""
        if owner != self.owner and self.owner not in charged_to:
            charged_to.add(self.owner)
            self.charged += seconds

    def clear(self) -> None:
        """Forget every entry and reset the counts."""
        self._entries.clear()
        self._nbytes = 0
        self.info = CacheInfo()

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0 and not self._paused

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Neither reuse nor keep fits inside the block (for work whose cost must not be
        shared, such as an untimed warm-up that would otherwise pay for a timed fit)."""
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1

    def fit(self, key: bytes, fit: Callable[[], Any]) -> Any:
        """The transformer fitted under ``key``: reused, or fitted by ``fit()`` and kept."""
        entry = self._get(key)
        if entry is not None:
            self.info.fit_hits += 1
            self._charge(entry.owner, entry.cpu_seconds, entry.charged_to)
            _replay(entry.fit_warnings)
            return entry.transformer
        self.info.fit_misses += 1
        transformer, caught, cpu = _recording(fit)
        entry = _Entry(transformer, caught, self.owner, cpu, nbytes=_footprint(transformer))
        self._put(key, entry)
        return transformer

    def fit_transform(self, key: bytes, fit_transform: Callable[[], tuple[Any, Any]]) -> Any:
        """``(transformer, output)`` of fitting and transforming the training rows under
        ``key``: reused, or computed by ``fit_transform()`` and kept."""
        entry = self._get(key)
        if entry is not None and entry.train is not None:
            self.info.fit_hits += 1
            self._charge(entry.owner, entry.cpu_seconds, entry.charged_to)
            _replay(entry.fit_warnings)
            _replay(entry.train[1])
            return entry.transformer, _handed_out(entry.train[0])
        self.info.fit_misses += 1
        (transformer, output), caught, cpu = _recording(fit_transform)
        output = _frozen(output)
        entry = _Entry(transformer, caught, self.owner, cpu, nbytes=_footprint(transformer))
        if self._keeps(output):
            entry.train = (output, [])
            entry.nbytes += _nbytes(output)
        self._put(key, entry)
        return transformer, _handed_out(output)

    def transform(self, key: bytes, X_key: bytes, transform: Callable[[], Any]) -> Any:
        """The output of the transformer fitted under ``key`` on the input ``X_key``."""
        entry = self._get(key)
        if entry is not None and X_key in entry.transforms:
            self.info.transform_hits += 1
            output, caught, owner, cpu, charged_to = entry.transforms[X_key]
            self._charge(owner, cpu, charged_to)
            _replay(caught)
            return _handed_out(output)
        self.info.transform_misses += 1
        output, caught, cpu = _recording(transform)
        output = _frozen(output)
        if entry is not None and self._keeps(output):
            entry.transforms[X_key] = (output, caught, self.owner, cpu, set())
            entry.nbytes += _nbytes(output)
            self._nbytes += _nbytes(output)
            self._evict()
        return _handed_out(output)

    def _get(self, key: bytes) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def _keeps(self, output: Any) -> bool:
        return isinstance(output, np.ndarray | pd.DataFrame) and _nbytes(output) * 4 <= (
            self.max_bytes
        )

    def _put(self, key: bytes, entry: _Entry) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._nbytes -= old.nbytes
        if not self.enabled or entry.nbytes * 4 > self.max_bytes:
            return
        self._entries[key] = entry
        self._nbytes += entry.nbytes
        self._evict()

    def _evict(self) -> None:
        while self._entries and (
            self._nbytes > self.max_bytes or len(self._entries) > self.max_entries
        ):
            _, entry = self._entries.popitem(last=False)
            self._nbytes -= entry.nbytes


CACHE = FitCache()


def preprocess_cache() -> FitCache:
    """This process's cache of :class:`tuneworth.steps.Preprocessor` fits: its counts
    (``info``), ``clear()``, ``paused()``, and its bounds (``max_bytes``, ``max_entries``;
    ``max_entries = 0`` turns it off)."""
    return CACHE


def fingerprint(*parts: Any) -> bytes:
    """A digest of the content of arrays, Series, DataFrames and plain values.

    Numeric columns are hashed from their buffers; other columns (strings, categories,
    dates) through pandas' row hashes. A DataFrame's index is part of it, since an output
    in pandas carries its input's index.

    >>> import numpy as np
    >>> fingerprint(np.arange(3.0)) == fingerprint(np.arange(3.0))
    True
    >>> fingerprint(np.arange(3.0)) == fingerprint(np.arange(3.0)[::-1])
    False
    """
    digest = hashlib.sha1(usedforsecurity=False)
    for part in parts:
        _update(digest, part)
    return digest.digest()


def _update(digest: Any, part: Any) -> None:
    if isinstance(part, pd.DataFrame):
        digest.update(repr((type(part).__name__, part.shape, part.columns.tolist())).encode())
        _update_values(digest, part.index)
        dtypes = set(part.dtypes)
        if len(dtypes) == 1 and _is_numeric(next(iter(dtypes))):
            # One numeric block: its buffer at once, not column by column.
            values = part.to_numpy()
            _update_values(digest, values.T if values.T.flags.c_contiguous else values)
            return
        for _, column in part.items():
            _update_values(digest, column)
    elif isinstance(part, pd.Series | pd.Index | np.ndarray):
        _update_values(digest, part)
    elif part is None:
        digest.update(b"<none>")
    elif hasattr(part, "shape") and hasattr(part, "dtype"):  # a sparse matrix or the like
        _update_values(digest, np.asarray(part.todense() if hasattr(part, "todense") else part))
    else:
        digest.update(repr(part).encode())
        digest.update(b"\0")


def _update_values(digest: Any, values: Any) -> None:
    if isinstance(values, pd.RangeIndex):
        digest.update(repr(("range", values.start, values.stop, values.step)).encode())
        return
    dtype = values.dtype
    digest.update(f"{type(values).__name__}:{dtype}:{values.shape}".encode())
    if _is_numeric(dtype):
        digest.update(np.ascontiguousarray(values).data)
        return
    if isinstance(values, np.ndarray) and values.ndim != 1:
        for column in values.reshape(len(values), -1).T:
            _update_values(digest, column)
        return
    hashes = pd.util.hash_pandas_object(
        values if isinstance(values, pd.Series) else pd.Series(values), index=False
    )
    digest.update(hashes.to_numpy().data)


def _is_numeric(dtype: Any) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind in "biufcmM"


def _recording(
    compute: Callable[[], Any],
) -> tuple[Any, list[warnings.WarningMessage], float]:
    """``compute()``'s result, the warnings it raised (raised again here) and its CPU
    seconds."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.process_time()
        result = compute()
        cpu = time.process_time() - start
    _replay(caught)
    return result, caught, cpu


def _replay(caught: list[warnings.WarningMessage]) -> None:
    for item in caught:
        warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)


def _frozen(output: Any) -> Any:
    if isinstance(output, np.ndarray):
        output.flags.writeable = False
    return output


def _handed_out(output: Any) -> Any:
    """What a caller receives: an array as it is (read-only); a DataFrame as a copy that
    copy-on-write keeps from writing into the cached one; anything else as it is."""
    if isinstance(output, pd.DataFrame):
        return output.copy(deep=False)
    return output


def _footprint(transformer: Any, depth: int = 8) -> int:
    """Bytes of the arrays a fitted transformer holds (a k-NN imputer keeps its training
    rows), found through its attributes and those of the estimators inside it."""
    if isinstance(transformer, np.ndarray | pd.DataFrame | pd.Series):
        return _nbytes(transformer)
    if depth == 0:
        return 0
    if isinstance(transformer, list | tuple):
        return sum(_footprint(item, depth - 1) for item in transformer)
    if isinstance(transformer, dict):
        return sum(_footprint(item, depth - 1) for item in transformer.values())
    if hasattr(transformer, "get_params"):
        return sum(_footprint(value, depth - 1) for value in vars(transformer).values())
    return 0


def _nbytes(output: Any) -> int:
    if isinstance(output, np.ndarray):
        return int(output.nbytes)
    if isinstance(output, pd.Series):
        return int(output.memory_usage(index=True, deep=False))
    return int(output.memory_usage(index=True, deep=False).sum())
