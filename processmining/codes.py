"""The integer code table of an event log: case and activity codes, case starts/ends, times in ns.

Computed once per log and cached on the immutable :class:`~processmining.model.EventLog`
(:attr:`~processmining.model.EventLog.codes`, :meth:`~processmining.model.EventLog.column_codes`,
:meth:`~processmining.model.EventLog.column_ns`); every analysis reads these instead of encoding again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .model import EventLog


def text_codes(s: pd.Series, *, sort: bool = False) -> np.ndarray:
    """Integer codes of a text column (-1 for NA); with ``sort`` the codes follow the text's sort order."""
    import pyarrow.compute as pc

    if not (isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow"):
        codes, _ = pd.factorize(s, sort=sort, use_na_sentinel=True)
        return np.asarray(codes, dtype=np.int64)
    encoded = pc.dictionary_encode(s.array.__arrow_array__()).combine_chunks()
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    if sort and len(encoded.dictionary):
        rank = np.empty(len(encoded.dictionary), dtype=np.int64)
        rank[pc.sort_indices(encoded.dictionary).to_numpy()] = np.arange(len(encoded.dictionary))
        codes = np.where(codes >= 0, rank[np.maximum(codes, 0)], -1)
    return codes


def encode(s: pd.Series, *, sort: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, uniques)`` of a column; ``uniques[codes[i]]`` is row i's value, -1 for NA."""
    codes, uniques = pd.factorize(s, sort=sort, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object)


def take_text(names: Sequence[str], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``names[codes]`` as a ``str`` column (what pandas makes of Python strings), built in Arrow without a
    Python string per row.

    >>> list(take_text(["finished", "running"], np.array([1, 0, 1])))
    ['running', 'finished', 'running']
    """
    import pyarrow as pa

    arr = pa.array(list(names), type=pa.large_string()).take(pa.array(np.asarray(codes, dtype=np.int64)))
    return pd.array(arr, dtype=pd.StringDtype("pyarrow", na_value=np.nan))


def distinct_pairs(case: np.ndarray, key: np.ndarray, n_keys: int, n_cases: int) -> np.ndarray:
    """The distinct values of ``case * n_keys + key``, sorted: which (case, key) pairs occur.

    A table of one flag per (case, key) replaces hashing when it is small (at
    most 8 bytes per event): hashing millions of pairs misses the CPU caches
    at every row and grows faster than the log.

    >>> distinct_pairs(np.array([0, 0, 0, 1]), np.array([2, 0, 2, 2]), 3, 2).tolist()
    [0, 2, 5]
    """
    pair = np.asarray(case, dtype=np.int64) * n_keys + np.asarray(key, dtype=np.int64)
    cells = n_cases * n_keys
    if cells <= max(8 * len(pair), 1 << 20):
        seen = np.zeros(cells, dtype=bool)
        seen[pair] = True
        return np.flatnonzero(seen)
    return np.sort(pd.unique(pair))


def cases_with(case: np.ndarray, key: np.ndarray, n_keys: int, n_cases: int) -> np.ndarray:
    """Per key code (``0 .. n_keys - 1``): the number of cases with at least one row of that key.

    >>> cases_with(np.array([0, 0, 0, 1]), np.array([2, 0, 2, 2]), 3, 2).tolist()
    [1, 0, 2]
    """
    return np.bincount(distinct_pairs(case, key, n_keys, n_cases) % max(n_keys, 1), minlength=n_keys)


def pair_counts(case: np.ndarray, key: np.ndarray, n_keys: int, n_cases: int) -> tuple[np.ndarray, np.ndarray]:
    """``(pairs, counts)``: the distinct values of ``case * n_keys + key`` (sorted) and how often each occurs.

    >>> [a.tolist() for a in pair_counts(np.array([0, 0, 0, 1]), np.array([2, 0, 2, 2]), 3, 2)]
    [[0, 2, 5], [1, 2, 1]]
    """
    pair = np.asarray(case, dtype=np.int64) * n_keys + np.asarray(key, dtype=np.int64)
    cells = n_cases * n_keys
    if cells <= max(2 * len(pair), 1 << 20):  # one int64 counter per (case, key): at most 16 bytes per event
        counts = np.bincount(pair, minlength=cells)
        pairs = np.flatnonzero(counts)
        return pairs, counts[pairs]
    vc = pd.Series(pair).value_counts(sort=False).sort_index()
    return vc.index.to_numpy(), vc.to_numpy()


def timestamp_ns(s: pd.Series) -> np.ndarray:
    """A timestamp column as int64 ns since the epoch (UTC); NaT is the minimum int64."""
    if s.isna().all():
        return np.full(len(s), np.iinfo(np.int64).min, dtype=np.int64)
    return s.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[ns]").view(np.int64)


@dataclass(frozen=True)
class LogCodes:
    """Integer codes of a log's events, computed once per log (:attr:`EventLog.codes`) and shared by every analysis.

    Events are in log order, so every case is one contiguous block. Immutable:
    the arrays are read-only.
    """

    case: np.ndarray        # case code per event (0, 0, 1, 1, 1, ...)
    starts: np.ndarray      # first row of every case
    ends: np.ndarray        # last row of every case
    case_text: pd.api.extensions.ExtensionArray  # case id per case code (``str`` column, Arrow-backed)
    act: np.ndarray         # activity code per event, codes in name order
    act_names: list[str]    # activity name per activity code
    ts: np.ndarray          # completion time, int64 ns since epoch (min int64 where unknown)
    start: np.ndarray | None  # start time (ns; missing -> completion), None without start times
    #: processing time per event in seconds (complete - start - suspension); NaN where the start is unknown
    processing: np.ndarray | None = None

    @cached_property
    def case_ids(self) -> np.ndarray:
        """Case id (object) per case code."""
        out = self.case_text.to_numpy(dtype=object)
        out.setflags(write=False)
        return out

    @cached_property
    def cases_per_activity(self) -> np.ndarray:
        """Per activity code: the number of cases with at least one event of it."""
        out = cases_with(self.case, self.act, len(self.act_names), self.n_cases)
        out.setflags(write=False)
        return out

    @cached_property
    def act_text(self) -> np.ndarray:
        """Activity name per event (object array)."""
        names = np.array([*self.act_names, ""], dtype=object)
        out = names[self.act] if len(self.act) else np.array([], dtype=object)
        out.setflags(write=False)
        return out

    def act_mask(self, names: Iterable[str | None]) -> np.ndarray:
        """Per event: True when its activity is one of ``names`` (compared on the codes)."""
        wanted = set(names)
        hit = np.array([a in wanted for a in self.act_names], dtype=bool)
        return hit[self.act] if len(self.act_names) else np.zeros(len(self.act), dtype=bool)

    def act_values(self, values: Mapping[str, float]) -> np.ndarray:
        """Per event: ``values`` of its activity (float; NaN for an activity not in ``values``)."""
        per_code = np.array([values.get(a, np.nan) for a in self.act_names], dtype=float)
        return per_code[self.act] if len(self.act_names) else np.full(len(self.act), np.nan)

    @cached_property
    def t(self) -> np.ndarray:
        """Completion time per event in seconds since the epoch (float; NaN where unknown)."""
        out = np.where(self.ts == np.iinfo(np.int64).min, np.nan, self.ts / 1e9)
        out.setflags(write=False)
        return out

    @property
    def codes(self) -> np.ndarray:
        """Alias of :attr:`case` (case code per event)."""
        return self.case

    @property
    def n_cases(self) -> int:
        return len(self.starts)


def case_boundaries(s: pd.Series) -> np.ndarray:
    """Per row of a column whose equal values are contiguous (the case column of a log): True where a new
    value begins. Compares neighbours (in Arrow for Arrow-backed text), so no value is hashed."""
    import pyarrow.compute as pc

    n = len(s)
    first = np.ones(n, dtype=bool)
    if n < 2:
        return first
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        arr = s.array.__arrow_array__()
        a, b = arr.slice(1), arr.slice(0, n - 1)
        ne = pc.fill_null(pc.not_equal(a, b), True)
        if arr.null_count:  # two empty values in a row are one (empty) case, as the codes say
            ne = pc.and_(ne, pc.invert(pc.and_(pc.is_null(a), pc.is_null(b))))
        first[1:] = ne.to_numpy(zero_copy_only=False)
        return first
    codes = text_codes(s)
    first[1:] = codes[1:] != codes[:-1]
    return first


def log_codes(log: EventLog) -> LogCodes:
    """The code table of ``log`` (use the cached :attr:`EventLog.codes`)."""
    from .model import ACTIVITY, CASE, START_TIMESTAMP, SUSPENDED, TIMESTAMP

    df = log.df
    n = len(df)
    first = case_boundaries(df[CASE])
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], n) - 1 if n else starts
    act_codes, act_names = encode(df[ACTIVITY], sort=True)
    ts = timestamp_ns(df[TIMESTAMP])
    start = processing = None
    if log.has_start_times:
        st = timestamp_ns(df[START_TIMESTAMP]).copy()
        missing = df[START_TIMESTAMP].isna().to_numpy()
        processing = np.where(missing, np.nan, (ts - st) / 1e9)
        if SUSPENDED in df.columns:
            processing = processing - df[SUSPENDED].fillna(0).to_numpy(dtype=float)
        st[missing] = ts[missing]
        start = st
    arrays = {"case": np.cumsum(first) - 1, "starts": starts, "ends": ends,
              "act": act_codes, "ts": ts, "start": start,
              "processing": processing}
    for a in arrays.values():
        if a is not None:
            a.setflags(write=False)
    case_text = df[CASE].array.take(starts).astype(pd.StringDtype("pyarrow", na_value=np.nan))
    return LogCodes(act_names=[str(a) for a in act_names], case_text=case_text, **arrays)


__all__ = ["LogCodes", "case_boundaries", "cases_with", "distinct_pairs", "encode", "log_codes", "pair_counts",
           "take_text", "text_codes", "timestamp_ns"]
