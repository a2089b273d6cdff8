"""Column codes for the checks: thin views of the log's own cached encoder.

The checks group and compare on integers instead of strings. The codes are
computed once per log object by :meth:`EventLog.column_codes` /
:attr:`EventLog.codes` and live on that (immutable) object: nothing is
cached in a module global, so two app sessions never share an entry.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model import TIMESTAMP, EventLog


def codes(log: EventLog, column: str) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, uniques)`` of a column: ``uniques[codes[i]]`` is row i's value; missing values have code -1."""
    return log.column_codes(column)


def times(log: EventLog, column: str = TIMESTAMP) -> np.ndarray:
    """A timestamp column as int64 nanoseconds since the epoch (UTC); NaT is the minimum int64."""
    return log.column_ns(column)


def case_bounds(log: EventLog) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the first and the last event of every case (in log order)."""
    c = log.codes
    first = np.zeros(len(c.case), dtype=bool)
    last = np.zeros(len(c.case), dtype=bool)
    first[c.starts] = True
    last[c.ends] = True
    return first, last


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
