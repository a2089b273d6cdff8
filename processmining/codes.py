"""The integer code table of an event log: case and activity codes, case starts/ends, times in ns.

Computed once per log and cached on the immutable :class:`~processmining.model.EventLog`
(:attr:`~processmining.model.EventLog.codes`, :meth:`~processmining.model.EventLog.column_codes`,
:meth:`~processmining.model.EventLog.column_ns`); every analysis reads these instead of encoding again.
"""

from __future__ import annotations

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
    case_ids: np.ndarray    # case id (object) per case code
    act: np.ndarray         # activity code per event, codes in name order
    act_names: list[str]    # activity name per activity code
    ts: np.ndarray          # completion time, int64 ns since epoch (min int64 where unknown)
    start: np.ndarray | None  # start time (ns; missing -> completion), None without start times
    #: processing time per event in seconds (complete - start - suspension); NaN where the start is unknown
    processing: np.ndarray | None = None

    @cached_property
    def act_text(self) -> np.ndarray:
        """Activity name per event (object array)."""
        names = np.array([*self.act_names, ""], dtype=object)
        out = names[self.act] if len(self.act) else np.array([], dtype=object)
        out.setflags(write=False)
        return out

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


def log_codes(log: EventLog) -> LogCodes:
    """The code table of ``log`` (use the cached :attr:`EventLog.codes`)."""
    from .model import ACTIVITY, CASE, START_TIMESTAMP, SUSPENDED, TIMESTAMP

    df = log.df
    n = len(df)
    case_raw = text_codes(df[CASE])
    first = np.ones(n, dtype=bool)
    if n > 1:
        first[1:] = case_raw[1:] != case_raw[:-1]
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
              "case_ids": df[CASE].iloc[starts].to_numpy(dtype=object), "act": act_codes, "ts": ts, "start": start,
              "processing": processing}
    for a in arrays.values():
        if a is not None:
            a.setflags(write=False)
    return LogCodes(act_names=[str(a) for a in act_names], **arrays)


__all__ = ["LogCodes", "encode", "log_codes", "text_codes", "timestamp_ns"]
