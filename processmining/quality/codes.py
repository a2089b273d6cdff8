"""Integer codes of a log's columns, computed once per log and shared by the checks.

The checks group and compare on integers instead of strings: a million
case ids are factorised once (the log is sorted by case, so the case codes
are a cumulative sum of "case changed" flags), not once per check. The cache
is keyed by the identity of the log's frame, which never changes after
construction, and an entry is dropped when its frame is garbage-collected.
"""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

from ..model import CASE, TIMESTAMP, EventLog

_CACHE: dict[int, dict[str, tuple[np.ndarray, np.ndarray]]] = {}


def _entry(log: EventLog) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    key = id(log.df)
    entry = _CACHE.get(key)
    if entry is None:
        entry = _CACHE[key] = {}
        weakref.finalize(log.df, _CACHE.pop, key, None)
    return entry


def codes(log: EventLog, column: str) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, uniques)`` of a column: ``uniques[codes[i]]`` is row i's value; missing values have code -1."""
    entry = _entry(log)
    if column not in entry:
        values = log.df[column]
        if column == CASE:  # sorted by case: a new code wherever the case id changes
            change = values.ne(values.shift()).to_numpy(dtype=bool, na_value=True)
            entry[column] = (np.cumsum(change) - 1, values.to_numpy()[change])
        else:
            c, u = pd.factorize(values, use_na_sentinel=True)
            entry[column] = (np.asarray(c, dtype=np.int64), np.asarray(u, dtype=object))
    return entry[column]


def times(log: EventLog, column: str = TIMESTAMP) -> np.ndarray:
    """A timestamp column as int64 nanoseconds since the epoch (UTC); NaT is the minimum int64."""
    entry = _entry(log)
    key = f"@@ns:{column}"
    if key not in entry:
        ns = log.df[column].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[ns]")
        entry[key] = (ns.view(np.int64), np.empty(0))
    return entry[key][0]


def case_bounds(log: EventLog) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the first and the last event of every case (in log order)."""
    case_codes, _ = codes(log, CASE)
    if len(case_codes) == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    change = case_codes[1:] != case_codes[:-1]
    return np.r_[True, change], np.r_[change, True]


def value_mask(log: EventLog, column: str, values: object) -> np.ndarray:
    """``log.df[column].isin(values)`` computed on the distinct values (fast for Arrow strings)."""
    wanted = {str(v) for v in values}  # type: ignore[attr-defined]
    column_codes, uniques = codes(log, column)
    hit = np.fromiter((str(u) in wanted for u in uniques), dtype=bool, count=len(uniques))
    return np.r_[hit, False][column_codes]  # code -1 (missing) -> False


def value_counts(log: EventLog, column: str) -> pd.Series:
    """Events per distinct value (plain Python strings as index), most frequent first."""
    column_codes, uniques = codes(log, column)
    counts = np.bincount(column_codes[column_codes >= 0], minlength=len(uniques))
    out = pd.Series(counts, index=pd.Index([str(u) for u in uniques], dtype=object), name="count")
    return out.sort_values(ascending=False, kind="stable")
