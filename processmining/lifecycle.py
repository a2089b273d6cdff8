"""Lifecycle transitions: start / complete (and schedule, suspend / resume) events become activity instances.

A log whose events carry ``lifecycle:transition`` ``start`` and ``complete``
records one activity *instance* as two events. Mined as they are, every
activity gets a self-loop and the time between start and complete looks like
waiting time. :func:`pair_lifecycle` pairs them the way Disco, ProM and
pm4py's interval conversion (``pm4py.objects.log.util.interval_lifecycle.to_interval``) do:

* a ``start`` and the next ``complete`` of the same case and activity (and the
  same ``concept:instance`` where the log has one) are one instance, with
  ``start_timestamp`` = the start's time and ``time:timestamp`` = the
  completion's. Where a case runs the same activity several times at once,
  the resource decides first (a start by Ann pairs with a complete by Ann),
  then first-in-first-out;
* an unpaired ``complete`` is an instance whose start is unknown
  (``start_timestamp`` empty: processing time unknown, not zero);
* an unpaired ``start`` is kept as an instance at its time, also with an
  unknown processing time (its ``lifecycle:transition`` stays ``start``);
  pm4py drops these — we keep and count them (tests say so);
* ``suspend`` / ``resume`` pairs inside an instance are subtracted from its
  processing time (column ``lifecycle:suspended_s``, seconds) and the events
  themselves are not activities; ``schedule``, ``assign`` and the other
  transitions of the XES lifecycle model are not activity instances either.
  Every event that does not become an instance is counted, by transition, in
  ``report.filtered`` and ``report.lifecycle``: nothing is dropped silently.

Transitions outside the XES lifecycle model (BPIC 2013 keeps ticket statuses
such as ``In Progress`` there) are left alone: such events are instances of
their own. ``mode="classifier"`` keeps every event and names it
``activity+transition`` (ProM's "Event Name AND Lifecycle transition"
classifier); ``mode="events"`` keeps the log as read.

All of it is columnar: the pairing is a grouped running sum (no loop per event).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from .errors import AnalysisError
from .model import (
    ACTIVITY,
    CASE,
    LIFECYCLE,
    RESOURCE,
    START_TIMESTAMP,
    SUSPENDED,
    TIMESTAMP,
    EventLog,
)

LifecycleMode = Literal["instances", "classifier", "events"]
MODES = ("instances", "classifier", "events")
#: the instance id attribute of the XES lifecycle extension (pm4py pairs on it too)
INSTANCE = "concept:instance"
#: transitions of the XES standard lifecycle model that are not the start or end of an instance
NOT_INSTANCES = ("schedule", "assign", "reassign", "withdraw", "manualskip", "autoskip",
                 "pi_abort", "ate_abort", "unknown")


def lifecycle_values(log: EventLog) -> pd.Series:
    """The lower-cased, trimmed transition per event ('' where there is none)."""
    if LIFECYCLE not in log.df.columns:
        return pd.Series("", index=log.df.index, dtype=object)
    return log.df[LIFECYCLE].astype("string").str.strip().str.lower().fillna("").astype(object)


def needs_pairing(log: EventLog) -> bool:
    """True when the log records activity instances as separate start / complete (suspend, ...) events."""
    if LIFECYCLE not in log.df.columns:
        return False
    values = set(pd.unique(lifecycle_values(log)))
    return bool(values & {"start", "suspend", "resume", *NOT_INSTANCES} - {"unknown"})


def _fifo_match(group: np.ndarray, is_open: np.ndarray, is_close: np.ndarray) -> np.ndarray:
    """For each row, the row of the open event a close event pairs with (-1: none), first-in-first-out per group.

    Rows are in time order. A close pairs with the oldest unpaired open of its
    group; a close with no open waiting stays unpaired. Vectorised: the queue
    length is a grouped running sum, a close finds the queue empty exactly when
    the running minimum drops, and the k-th paired close takes the k-th open.
    """
    n = len(group)
    match = np.full(n, -1, dtype=np.int64)
    rows = np.flatnonzero(is_open | is_close)
    if len(rows) == 0:
        return match
    g = group[rows]
    order = np.lexsort((rows, g))
    rows, g = rows[order], g[order]
    step = np.where(is_open[rows], 1, -1)
    frame = pd.DataFrame({"g": g, "step": step})
    level = frame.groupby("g", sort=False)["step"].cumsum().to_numpy()
    low = np.minimum(pd.Series(level).groupby(g, sort=False).cummin().to_numpy(), 0)
    prev_low = np.zeros(len(rows), dtype=np.int64)
    same = np.r_[False, g[1:] == g[:-1]]
    prev_low[1:] = low[:-1]
    prev_low[~same] = 0
    closes = step < 0
    paired_close = closes & (low == prev_low)
    opens = step > 0
    open_rank = pd.Series(opens.astype(np.int64)).groupby(g, sort=False).cumsum().to_numpy() - 1
    close_rank = pd.Series(paired_close.astype(np.int64)).groupby(g, sort=False).cumsum().to_numpy() - 1
    o = pd.DataFrame({"g": g[opens], "k": open_rank[opens], "row": rows[opens]})
    c = pd.DataFrame({"g": g[paired_close], "k": close_rank[paired_close], "row": rows[paired_close]})
    joined = c.merge(o, on=["g", "k"], suffixes=("_c", "_o"))
    match[joined["row_c"].to_numpy()] = joined["row_o"].to_numpy()
    return match


def _keys(df: pd.DataFrame, *, with_resource: bool) -> np.ndarray:
    cols = [CASE, ACTIVITY] + ([INSTANCE] if INSTANCE in df.columns else [])
    if with_resource and RESOURCE in df.columns:
        cols.append(RESOURCE)
    key = pd.MultiIndex.from_frame(df[cols].astype(object).fillna("\x00")) if len(cols) > 1 else df[cols[0]]
    codes, _ = pd.factorize(key)
    return np.asarray(codes, dtype=np.int64)


def _pair(df: pd.DataFrame, is_open: np.ndarray, is_close: np.ndarray) -> np.ndarray:
    """Resource first, then FIFO on case + activity (+ instance) for what is left."""
    match = np.full(len(df), -1, dtype=np.int64)
    if RESOURCE in df.columns:
        match = _fifo_match(_keys(df, with_resource=True), is_open, is_close)
    taken = np.zeros(len(df), dtype=bool)
    taken[match[match >= 0]] = True
    rest = _fifo_match(_keys(df, with_resource=False), is_open & ~taken, is_close & (match < 0))
    return np.where(match >= 0, match, rest)


def pair_lifecycle(log: EventLog, *, mode: LifecycleMode = "instances") -> EventLog:
    """The log with start / complete events paired into activity instances (see the module docstring).

    Returns ``log`` itself when there is nothing to pair. The report (a copy)
    gains ``lifecycle`` counts and, for every event that is no longer an event
    of its own, a ``filtered`` entry, so that ``rows_read == events +
    quarantined + collapsed + filtered`` still holds.

    >>> paired = pair_lifecycle(read_log("reviewing.xes.gz"))       # doctest: +SKIP
    >>> paired.report.lifecycle                                      # doctest: +SKIP
    {'instances': 2278, 'paired': 1452, 'complete_only': 826, 'start_only': 0}
    """
    if mode not in MODES:
        raise AnalysisError(f"lifecycle mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "events" or not needs_pairing(log):
        return log
    df = log.df
    tr = lifecycle_values(log).to_numpy()
    if mode == "classifier":
        has = tr != ""
        acts = df[ACTIVITY].astype(object).to_numpy().copy()
        acts[has] = acts[has] + "+" + df[LIFECYCLE].astype(object).to_numpy()[has]
        out = df.assign(**{ACTIVITY: pd.array(acts, dtype="string")})
        return _rebuild(log, out, {"classifier": int(len(df))}, {})
    is_start, is_complete = tr == "start", ~np.isin(tr, ["start", "suspend", "resume", *NOT_INSTANCES])
    match = _pair(df, is_start, is_complete)
    paired_start = np.zeros(len(df), dtype=bool)
    paired_start[match[match >= 0]] = True
    start_only = is_start & ~paired_start
    ts = df[TIMESTAMP]
    start_col = pd.Series(pd.NaT, index=df.index, dtype=ts.dtype)
    if START_TIMESTAMP in df.columns:  # interval events already carry their start
        start_col = df[START_TIMESTAMP].astype(ts.dtype)
    has_match = match >= 0
    start_col = start_col.where(~has_match, pd.Series(ts.to_numpy()[np.maximum(match, 0)], index=df.index))
    suspended = _suspensions(df, tr, match, is_complete)
    out = df.assign(**{START_TIMESTAMP: start_col})
    if suspended is not None:
        out[SUSPENDED] = suspended
    keep = is_complete | start_only
    out = out[keep]
    counts = {"instances": int(keep.sum()), "paired": int(has_match.sum()),
              "complete_only": int((is_complete & ~has_match & (tr != "")).sum()),
              "start_only": int(start_only.sum())}
    filtered = {}
    if has_match.any():
        filtered["lifecycle 'start' paired with its 'complete' into one activity instance"] = int(has_match.sum())
    for t in ("suspend", "resume", *NOT_INSTANCES):
        n = int((tr == t).sum())
        if n:
            counts[t] = n
            filtered[f"lifecycle '{t}' (not an activity instance; suspension is subtracted from processing time)"
                     if t in ("suspend", "resume") else f"lifecycle '{t}' (not an activity instance)"] = n
    return _rebuild(log, out, counts, filtered)


def _suspensions(df: pd.DataFrame, tr: np.ndarray, match: np.ndarray, is_complete: np.ndarray) -> np.ndarray | None:
    """Seconds each completed instance was suspended (suspend -> resume between its start and its complete)."""
    is_susp, is_res = tr == "suspend", tr == "resume"
    if not is_susp.any():
        return None
    res_match = _pair(df, is_susp, is_res)
    t = df[TIMESTAMP].to_numpy(dtype="datetime64[ns]").view(np.int64) / 1e9
    group = _keys(df, with_resource=False)
    r = np.flatnonzero(res_match >= 0)
    sus = pd.DataFrame({"g": group[r], "t0": t[res_match[r]], "secs": t[r] - t[res_match[r]]})
    c = np.flatnonzero(is_complete & (match >= 0))
    inst = pd.DataFrame({"g": group[c], "start": t[match[c]], "end": t[c], "row": c})
    joined = sus.merge(inst, on="g")
    inside = joined[(joined["t0"] >= joined["start"]) & (joined["t0"] <= joined["end"])]
    out = np.zeros(len(df))
    np.add.at(out, inside["row"].to_numpy(), inside["secs"].to_numpy())
    return out


def _rebuild(log: EventLog, frame: pd.DataFrame, counts: dict[str, int], filtered: dict[str, int]) -> EventLog:
    from dataclasses import replace

    report = log.report
    if report is not None:
        report = replace(report, filtered={**report.filtered, **filtered}, lifecycle=counts,
                         warnings=[*report.warnings, lifecycle_note(counts)])
    new = EventLog.from_frame(frame, report=report, name=log.name, history=log.history)
    if report is not None:
        report.events, report.cases = new.n_events, new.n_cases
        report.check_balance()
    return new


def lifecycle_note(counts: dict[str, int]) -> str:
    """One line for the ingest report: how the lifecycle transitions were used."""
    if "classifier" in counts:
        return "lifecycle transitions kept in the activity name (activity+transition), as ProM's classifier does"
    parts = [f"{counts['paired']:,} start/complete pairs became activity instances"]
    if counts.get("complete_only"):
        parts.append(f"{counts['complete_only']:,} completes without a start (processing time unknown)")
    if counts.get("start_only"):
        parts.append(f"{counts['start_only']:,} starts without a complete, kept (processing time unknown)")
    others = {k: v for k, v in counts.items() if k not in ("instances", "paired", "complete_only", "start_only")}
    if others:
        parts.append("not activity instances: " + ", ".join(f"{v:,} {k}" for k, v in others.items()))
    return "lifecycle: " + "; ".join(parts)


__all__ = ["INSTANCE", "MODES", "SUSPENDED", "LifecycleMode", "lifecycle_note", "lifecycle_values",
           "needs_pairing", "pair_lifecycle"]
