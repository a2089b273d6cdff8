"""Selections for drill-down: numeric ranges, one case in detail, the dotted chart of a whole log.

Small verbs the app's drill-down needs next to :mod:`processmining.filters`
(which holds every other filter): columnar, no per-event Python loops.

>>> big = filter_numeric_range(log, "case:Amount", low=50_000)
>>> case_events(log, "006A000001")[["concept:name", "time:timestamp"]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from processmining.errors import AnalysisError
from processmining.model import ACTIVITY, CASE, ORDER, RESOURCE, TIMESTAMP, EventLog

_INTERNAL = {ORDER, "@@source_row"}


def numeric_columns(log: EventLog) -> list[str]:
    """Columns whose values are numbers (or text that reads as numbers in every non-empty cell)."""
    out = []
    for col in log.df.columns:
        if col in _INTERNAL or col in (CASE, ACTIVITY, TIMESTAMP, RESOURCE):
            continue
        s = log.df[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
            continue
        if pd.api.types.is_numeric_dtype(s):
            if s.notna().any():
                out.append(col)
            continue
        sample = s.dropna().head(2000)
        if len(sample) and pd.to_numeric(sample.astype(str), errors="coerce").notna().all():
            out.append(col)
    return out


def numeric_values(log: EventLog, column: str) -> pd.Series:
    """``column`` as floats (text numbers read, anything else empty)."""
    if column not in log.df.columns:
        raise AnalysisError(f"the log has no column {column!r}")
    s = log.df[column]
    return s.astype(float) if pd.api.types.is_numeric_dtype(s) else pd.to_numeric(s.astype("string"), errors="coerce")


def filter_numeric_range(log: EventLog, column: str, *, low: float | None = None, high: float | None = None,
                         keep: bool = True) -> EventLog:
    """Whole cases where some event has ``low <= column <= high`` (``keep=False``: the other cases).

    For a case attribute (``case:Amount``, the same on every event) this is
    "deals over 50,000"; cases without a value never match.
    """
    v = numeric_values(log, column).to_numpy()
    lo = -np.inf if low is None else float(low)
    hi = np.inf if high is None else float(high)
    hit = (v >= lo) & (v <= hi)
    case = log.df[CASE]
    cases = pd.unique(case[hit])
    mask = case.isin(cases).to_numpy()
    bounds = " and ".join(p for p in (f">= {low:g}" if low is not None else "",
                                      f"<= {high:g}" if high is not None else "") if p) or "any value"
    return log.subset(mask if keep else ~mask, step=f"filter: cases {'' if keep else 'not '}with {column} {bounds}")


def case_events(log: EventLog, case_id: str) -> pd.DataFrame:
    """One case's events in order, with the time since the case started and since the previous event (s)."""
    ev = log.df[log.df[CASE] == case_id]
    if ev.empty:
        raise AnalysisError(f"no case {case_id!r} in the log")
    ts = ev[TIMESTAMP]
    out = ev.drop(columns=[c for c in ev.columns if c in _INTERNAL]).reset_index(drop=True)
    out.insert(3, "since_start_s", (ts - ts.iloc[0]).dt.total_seconds().to_numpy())
    out.insert(4, "since_previous_s", ts.diff().dt.total_seconds().fillna(0.0).to_numpy())
    return out


def case_attributes(log: EventLog, case_id: str) -> dict[str, object]:
    """The case-level attributes (``case:*`` columns) of one case, from its first event."""
    ev = log.df[log.df[CASE] == case_id]
    if ev.empty:
        raise AnalysisError(f"no case {case_id!r} in the log")
    first = ev.iloc[0]
    return {c: first[c] for c in ev.columns if c.startswith("case:") and c != CASE and pd.notna(first[c])}


def dotted_chart(log: EventLog, *, max_cases: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, int]:
    """Events over time, one row per case (the dotted chart): ``(frame, cases_total)``.

    The frame has ``case``, ``row`` (cases by start time, 0 first), ``activity``
    and ``time``; beyond ``max_cases`` whole cases are sampled (seeded).
    """
    df = log.df
    first = df.groupby(CASE, sort=False, observed=True)[TIMESTAMP].min().sort_values(kind="stable")
    total = len(first)
    chosen = first
    if total > max_cases:
        rng = np.random.default_rng(seed)
        chosen = first.iloc[np.sort(rng.choice(total, size=max_cases, replace=False))]
    row = pd.Series(np.arange(len(chosen)), index=chosen.index)
    ev = df[df[CASE].isin(chosen.index)]
    out = pd.DataFrame({"case": ev[CASE].to_numpy(), "row": row.reindex(ev[CASE].to_numpy()).to_numpy(),
                        "activity": ev[ACTIVITY].to_numpy(), "time": ev[TIMESTAMP].to_numpy()})
    return out, total


__all__ = ["case_attributes", "case_events", "dotted_chart", "filter_numeric_range", "numeric_columns",
           "numeric_values"]
