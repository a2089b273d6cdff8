"""Composable log filters: each takes an :class:`EventLog` and returns a new one.

Every filter is vectorised (no Python loop per event or per case), never
mutates its input and records itself in ``log.history``, so a chain of filters
reads back as what the analyst did::

    >>> from processmining import filters as f
    >>> won = f.filter_follows(log, "Proposal/Price Quote", "Closed Won", within="30d")
    >>> won = f.filter_case_duration(won, max_duration="90d")
    >>> won.history
    ('filter: cases where Proposal/Price Quote is eventually followed by Closed Won within 30d',
     'filter: case duration <= 90d')

Case-level filters keep or drop whole cases; event-level filters
(:func:`filter_event_attribute`, :func:`filter_activities`,
``filter_time_frame(mode="trim")``) keep or drop single events.
Unknown activities or columns raise :class:`~processmining.errors.AnalysisError`
naming what exists, so a typo never yields a silently empty log.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from .errors import AnalysisError
from .model import ACTIVITY, TIMESTAMP, EventLog
from .performance import parse_duration

TimeFrameMode = Literal["contained", "intersecting", "started", "completed", "trim"]


# ------------------------------------------------------------------ helpers
def _case_codes(log: EventLog) -> tuple[np.ndarray, np.ndarray]:
    """Case code per event (cases are contiguous in a log) and the first row of every case."""
    c = log.codes
    return c.case, c.starts


def _keep_cases(log: EventLog, case_mask: np.ndarray, step: str) -> EventLog:
    codes, _ = _case_codes(log)
    return log.subset(case_mask[codes] if len(codes) else np.zeros(0, dtype=bool), step=step)


def _check_activities(log: EventLog, activities: Iterable[str]) -> list[str]:
    return check_activities(set(log.df[ACTIVITY].unique().tolist()), activities, source=log.name)


def check_activities(known: set[str], activities: Iterable[str], *, source: str) -> list[str]:
    """``activities`` as a list, or :class:`AnalysisError` for the first one not in ``known`` (both engines)."""
    acts = list(activities)
    for a in acts:
        if a not in known:
            close = difflib.get_close_matches(a, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; the log has {len(known)} activities"
            raise AnalysisError(f"activity {a!r} does not occur in the log{hint}", source=source)
    return acts


def _check_column(log: EventLog, column: str) -> None:
    check_column(list(log.df.columns), column, source=log.name)


def check_column(columns: Sequence[str], column: str, *, source: str) -> None:
    """:class:`AnalysisError` naming the log's columns if ``column`` is not one of them (both engines)."""
    if column not in columns:
        cols = [c for c in columns if not c.startswith("@@")]
        raise AnalysisError(f"column {column!r} not in the log; columns: {', '.join(cols)}", source=source)


def _as_list(values: str | Iterable[object]) -> list[object]:
    return [values] if isinstance(values, str) else list(values)


#: how a column compares with a value written as text (``--case-attr Amount=20500``, ``... if vip=true``)
ValueKind = Literal["text", "number", "boolean", "timestamp"]
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


def value_kind(dtype: object) -> ValueKind:
    """The :data:`ValueKind` of a pandas column type: numbers, booleans and timestamps compare as such."""
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "timestamp"
    return "text"


def typed_values(values: Iterable[object], kind: ValueKind, *, column: str) -> list[object]:
    """``values`` as a column of ``kind`` holds them, for an exact comparison; both engines call it.

    Text given for a number column is read as a number (``"20500"`` equals 20500 and 20500.0), for a
    boolean column as ``true/false`` (also ``1/0``, ``yes/no``, any case), for a timestamp column as an
    instant (naive text is UTC). Values that are not text, and every value for a text column, are kept as
    they are. Text that cannot be read as the column's type raises :class:`AnalysisError` (a typo never
    selects nothing silently).

    >>> typed_values(["20500", "1.5"], "number", column="Amount")
    [20500, 1.5]
    """
    out: list[object] = []
    for v in values:
        if not isinstance(v, str) or kind == "text":
            out.append(v)
            continue
        text = v.strip()
        try:
            if kind == "number":
                num = float(text)
                if not np.isfinite(num):
                    raise ValueError(text)
                out.append(int(text) if num.is_integer() and text.lstrip("+-").isdigit() else num)
            elif kind == "boolean":
                if text.lower() not in _TRUE + _FALSE:
                    raise ValueError(text)
                out.append(text.lower() in _TRUE)
            else:
                out.append(_ts(text))
        except (ValueError, AnalysisError):
            what = {"number": "a number", "boolean": "true or false", "timestamp": "a date or timestamp"}[kind]
            raise AnalysisError(f"column {column!r} holds {kind}s: {v!r} is not {what}") from None
    return out


def _column_values(log: EventLog, column: str, values: str | Iterable[object]) -> tuple[list[object], list[object]]:
    """``(values as given, values as the column holds them)`` for :func:`filter_case_attribute` and
    :func:`filter_event_attribute`."""
    vals = _as_list(values)
    dtype = log.df[column].dtype
    typed = typed_values(vals, value_kind(dtype), column=column)
    if value_kind(dtype) == "timestamp" and getattr(dtype, "tz", None) is None:  # a naive column: UTC wall time
        typed = [t.tz_convert(None) if isinstance(t, pd.Timestamp) and t.tzinfo else t for t in typed]
    return vals, typed


def _ts(value: str | pd.Timestamp) -> pd.Timestamp:
    try:
        t = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise AnalysisError(f"{value!r} is not a date or timestamp") from exc
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _neg(keep: bool) -> str:
    return "" if keep else "not "


# ------------------------------------------------------------------ time
def filter_time_frame(
    log: EventLog,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    *,
    mode: TimeFrameMode = "intersecting",
) -> EventLog:
    """Cases (or events) in the time frame ``[start, end]`` (inclusive; naive times are UTC).

    ``mode``: ``"contained"`` cases that start and end inside the frame;
    ``"intersecting"`` cases with any activity span overlapping it;
    ``"started"`` cases whose first event is inside; ``"completed"`` cases whose
    last event is inside; ``"trim"`` keeps only the events inside.

    >>> q1 = filter_time_frame(log, "2024-01-01", "2024-03-31 23:59:59", mode="started")
    """
    t0, t1 = _ts(start), _ts(end)
    if t1 < t0:
        raise AnalysisError(f"time frame ends ({t1}) before it starts ({t0})")
    step = f"filter: {mode} in time frame {t0.isoformat()} .. {t1.isoformat()}"
    ts = log.df[TIMESTAMP]
    if mode == "trim":
        return log.subset(((ts >= t0) & (ts <= t1)).to_numpy(), step=step)
    if log.n_events == 0:
        return log.with_frame(log.df, step=step)
    _, starts = _case_codes(log)
    v = ts.to_numpy(dtype="datetime64[ns]")
    first = np.minimum.reduceat(v, starts)
    last = np.maximum.reduceat(v, starts)
    lo, hi = np.datetime64(t0.tz_convert(None), "ns"), np.datetime64(t1.tz_convert(None), "ns")
    if mode == "contained":
        mask = (first >= lo) & (last <= hi)
    elif mode == "intersecting":
        mask = (first <= hi) & (last >= lo)
    elif mode == "started":
        mask = (first >= lo) & (first <= hi)
    elif mode == "completed":
        mask = (last >= lo) & (last <= hi)
    else:
        raise AnalysisError(f"unknown time frame mode {mode!r}; use contained, intersecting, started, completed or trim")
    return _keep_cases(log, mask, step)


def filter_case_duration(
    log: EventLog,
    *,
    min_duration: str | float | pd.Timedelta | None = None,
    max_duration: str | float | pd.Timedelta | None = None,
) -> EventLog:
    """Cases whose duration (first to last event) lies in ``[min_duration, max_duration]``.

    Durations are ``"4h"``, ``"30d"``, ``"1d 12h"``, a :class:`pandas.Timedelta` or seconds.

    >>> slow = filter_case_duration(log, min_duration="30d")
    """
    lo = parse_duration(min_duration) if min_duration is not None else -np.inf
    hi = parse_duration(max_duration) if max_duration is not None else np.inf
    parts = []
    if min_duration is not None:
        parts.append(f">= {min_duration}")
    if max_duration is not None:
        parts.append(f"<= {max_duration}")
    step = "filter: case duration " + " and ".join(parts or ["any"])
    if log.n_events == 0:
        return log.with_frame(log.df, step=step)
    _, starts = _case_codes(log)
    v = log.df[TIMESTAMP].to_numpy(dtype="datetime64[ns]").view("int64")
    dur = (np.maximum.reduceat(v, starts) - np.minimum.reduceat(v, starts)) / 1e9
    return _keep_cases(log, (dur >= lo) & (dur <= hi), step)


# ------------------------------------------------------------------ attributes
def filter_case_attribute(log: EventLog, column: str, values: str | Iterable[object], *, keep: bool = True) -> EventLog:
    """Whole cases where any event has ``column`` in ``values`` (``keep=False``: cases where none has).

    Works for case attributes (``case:Amount``, the same on every event) and for
    event attributes (``org:resource``: "cases touched by this agent"). Text values are read as the
    column's type (:func:`typed_values`: ``"20500"`` for a number column, ``"true"`` for a boolean one).

    >>> emea = filter_case_attribute(log, "case:Region", ["EMEA"])
    """
    _check_column(log, column)
    vals, typed = _column_values(log, column, values)
    hit = log.df[column].isin(typed).to_numpy()
    codes, starts = _case_codes(log)
    any_hit = np.zeros(len(starts), dtype=bool)
    np.logical_or.at(any_hit, codes[hit], True)
    return _keep_cases(log, any_hit if keep else ~any_hit,
                       f"filter: cases {_neg(keep)}having {column} in {vals}")


def filter_event_attribute(log: EventLog, column: str, values: str | Iterable[object], *, keep: bool = True) -> EventLog:
    """Only the events with ``column`` in ``values`` (``keep=False``: all other events).

    >>> no_bot = filter_event_attribute(log, "org:resource", ["Automation for Jira"], keep=False)
    """
    _check_column(log, column)
    vals, typed = _column_values(log, column, values)
    hit = log.df[column].isin(typed)
    return log.subset((hit if keep else ~hit).to_numpy(), step=f"filter: events {_neg(keep)}having {column} in {vals}")


def filter_activities(log: EventLog, activities: str | Iterable[str], *, keep: bool = True) -> EventLog:
    """Only the events of ``activities`` (``keep=False``: remove those events, keep the cases).

    >>> stages = filter_activities(log, ["Closed Won", "Closed Lost"], keep=False)
    """
    acts = _check_activities(log, _as_list(activities))
    hit = log.df[ACTIVITY].isin(acts)
    return log.subset((hit if keep else ~hit).to_numpy(), step=f"filter: events {_neg(keep)}of activities {acts}")


def filter_contains(
    log: EventLog, activities: str | Iterable[str], *, how: Literal["any", "all"] = "any", keep: bool = True
) -> EventLog:
    """Cases that contain ``activities`` (``how="any"``: at least one; ``"all"``: every one).

    ``keep=False`` gives the complement: cases that do *not* contain them.

    >>> reopened = filter_contains(log, "Reopened")
    >>> never_approved = filter_contains(log, "Discount Approval", keep=False)
    """
    acts = _check_activities(log, _as_list(activities))
    codes, starts = _case_codes(log)
    act = log.df[ACTIVITY]
    counts = np.zeros(len(starts), dtype=np.int64)
    for a in acts:  # one vectorised pass per named activity (a handful)
        present = np.zeros(len(starts), dtype=bool)
        present[codes[(act == a).to_numpy()]] = True
        counts += present
    mask = counts >= (len(acts) if how == "all" else 1)
    return _keep_cases(log, mask if keep else ~mask,
                       f"filter: cases {'' if keep else 'not '}containing {how} of {acts}")


def filter_start_activities(log: EventLog, activities: str | Iterable[str], *, keep: bool = True) -> EventLog:
    """Cases whose first event is one of ``activities``.

    >>> proper = filter_start_activities(log, "Prospecting")
    """
    acts = _check_activities(log, _as_list(activities))
    _, starts = _case_codes(log)
    mask = log.df[ACTIVITY].to_numpy(dtype=object)[starts]
    hit = pd.Series(mask).isin(acts).to_numpy()
    return _keep_cases(log, hit if keep else ~hit, f"filter: cases {_neg(keep)}starting with {acts}")


def filter_end_activities(log: EventLog, activities: str | Iterable[str], *, keep: bool = True) -> EventLog:
    """Cases whose last event is one of ``activities``.

    >>> finished = filter_end_activities(log, ["Order Booked", "Closed Lost"])
    """
    acts = _check_activities(log, _as_list(activities))
    _, starts = _case_codes(log)
    ends = np.append(starts[1:], log.n_events) - 1 if len(starts) else starts
    hit = pd.Series(log.df[ACTIVITY].to_numpy(dtype=object)[ends]).isin(acts).to_numpy()
    return _keep_cases(log, hit if keep else ~hit, f"filter: cases {_neg(keep)}ending with {acts}")


# ------------------------------------------------------------------ variants
def filter_variants(
    log: EventLog,
    *,
    top: int | None = None,
    variants: Sequence[Sequence[str]] | None = None,
    keep: bool = True,
) -> EventLog:
    """Cases of the ``top`` most frequent variants, or of the listed ``variants`` (activity sequences).

    Ranks as :func:`processmining.discovery.variants` does (cases, then sequence).

    >>> main_flow = filter_variants(log, top=5)
    >>> odd = filter_variants(log, top=5, keep=False)
    """
    from .discovery import variant_table

    if (top is None) == (variants is None):
        raise AnalysisError("give either top=N or variants=[...], not both or neither")
    if log.n_events == 0:
        return log.with_frame(log.df, step="filter: variants (empty log)")
    table, case_variant, _ = variant_table(log)
    if top is not None:
        ranked = table.sort_values(["cases", "activities"], ascending=[False, True])
        rows = ranked.index.to_numpy()[: max(int(top), 0)]
        label = f"top {top} variants"
    else:
        wanted = {tuple(v) for v in variants or ()}
        rows = np.flatnonzero(table["activities"].map(lambda a: a in wanted).to_numpy())  # one per variant
        label = f"{len(wanted)} listed variants"
    hit = np.isin(case_variant, rows)
    return _keep_cases(log, hit if keep else ~hit, f"filter: cases {_neg(keep)}in {label}")


# ------------------------------------------------------------------ follows
def filter_follows(
    log: EventLog,
    a: str,
    b: str,
    *,
    directly: bool = False,
    within: str | float | pd.Timedelta | None = None,
    keep: bool = True,
) -> EventLog:
    """Cases where ``a`` is (``directly=True``: directly) followed by ``b``, optionally ``within`` a time.

    "Eventually": some ``b`` occurs after some ``a`` in the case; with ``within``,
    at most that long after the latest preceding ``a``. ``keep=False`` gives the
    cases where this never happens (e.g. a missing or late follow-up).

    >>> quick = filter_follows(log, "Open", "1st Line Support", directly=True, within="4h")
    """
    _check_activities(log, [a, b])
    limit = parse_duration(within) if within is not None else np.inf
    codes, starts = _case_codes(log)
    act = log.df[ACTIVITY].to_numpy(dtype=object)
    t = log.df[TIMESTAMP].to_numpy(dtype="datetime64[ns]").view("int64") / 1e9  # seconds
    is_a, is_b = act == a, act == b
    n = len(act)
    hit_row = np.zeros(n, dtype=bool)
    if directly:
        if n > 1:
            same = codes[1:] == codes[:-1]
            hit_row[1:] = is_a[:-1] & is_b[1:] & same & (t[1:] - t[:-1] <= limit)
    else:
        # time of the latest `a` at an earlier position of the same case: shift by one, then carry forward
        a_time = pd.Series(np.where(is_a, t, np.nan))
        prev_a = a_time.groupby(codes).shift(1).groupby(codes).ffill().to_numpy()
        hit_row = is_b & ~np.isnan(prev_a) & (t - np.nan_to_num(prev_a) <= limit)
    any_hit = np.zeros(len(starts), dtype=bool)
    any_hit[codes[hit_row]] = True
    how = "directly" if directly else "eventually"
    step = f"filter: cases {_neg(keep)}where {a} is {how} followed by {b}" + (f" within {within}" if within is not None else "")
    return _keep_cases(log, any_hit if keep else ~any_hit, step)
