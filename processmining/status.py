"""Finished, running and stuck cases: one notion, used by every analysis.

A case is **finished** when its last event is an end activity. The end
activities are given (a preset, the user, a rule's ``unless_last``) or
inferred from the data: an activity is an end activity when it is the last
event in more than ``share`` (half) of the cases that contain it - it ends the
case more often than not - and ends at least ``min_cases`` (1 %) of all
cases; and only if the activities found that way end at least
``min_coverage`` (half) of the cases, otherwise the log shows no dominant end
and nothing is inferred (:func:`infer_end_activities` says so, the app shows
and lets one edit the result). So "Closed" (last whenever it occurs) is an end
activity and "Resolved" (usually followed by "Closed") is not.

When no end activity is given and none can be inferred, the data does not say
which cases ended: every case is then ``unknown`` (never called stuck on a
guess; give the end activities). A case that is not finished is **running**;
a running case is **stuck** when
it has had no event for longer than the idle limit at ``as_of`` (default: the
log's last event). A finished case is never stuck. Exactly at the limit is not
over it. Stuck cases, SLA targets (late vs still open), the funnel, the
``max_idle`` rule, the data-quality findings and conformance (running cases are
checked as prefixes) all call :func:`case_status`.

>>> st = case_status(log, idle="30d")                              # doctest: +SKIP
>>> st["status"].value_counts()                                     # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

import numpy as np
import pandas as pd

from .codes import take_text
from .errors import AnalysisError
from .model import EventLog

Status = Literal["finished", "running", "stuck", "unknown"]
STATUS_COLUMNS = ("case", "last_activity", "last_time", "idle_s", "status")

#: inference thresholds (the data-quality config uses the same defaults)
SHARE = 0.5
MIN_CASES = 0.01
MIN_COVERAGE = 0.5
#: conformance infers end activities only from logs with at least this many cases
MIN_CASES_TO_INFER = 20


def _infer(log: EventLog, rows: np.ndarray, *, share: float, min_cases: float, min_coverage: float) -> tuple[str, ...]:
    c = log.codes
    n_act, n_cases = len(c.act_names), c.n_cases
    if n_cases == 0 or n_act == 0:
        return ()
    at = np.bincount(c.act[rows], minlength=n_act)
    return pick_boundary_activities(c.act_names, c.cases_per_activity, at, n_cases, share=share, min_cases=min_cases,
                                    min_coverage=min_coverage)


def pick_boundary_activities(names: Iterable[str], containing: np.ndarray, at: np.ndarray, n_cases: int, *,
                             share: float = SHARE, min_cases: float = MIN_CASES,
                             min_coverage: float = MIN_COVERAGE) -> tuple[str, ...]:
    """The inference rule on per-activity counts: ``containing`` (cases with the activity) and ``at`` (cases it
    ends, or begins), out of ``n_cases``. :func:`infer_end_activities` and the Spark engine both call it."""
    names = np.asarray(list(names), dtype=object)
    containing, at = np.asarray(containing), np.asarray(at)
    if n_cases == 0 or len(names) == 0:
        return ()
    ratio = np.where(containing > 0, at / np.maximum(containing, 1), 0.0)
    keep = (ratio > share) & (at >= min_cases * n_cases) & (at > 0)
    if at[keep].sum() < min_coverage * n_cases:  # no dominant boundary: do not guess
        return ()
    return tuple(sorted(names[keep].tolist()))


def infer_end_activities(log: EventLog, *, share: float = SHARE, min_cases: float = MIN_CASES,
                         min_coverage: float = MIN_COVERAGE) -> tuple[str, ...]:
    """The activities that end the cases, inferred from the data (``()`` when the log shows no dominant end).

    >>> infer_end_activities(helpdesk)                                  # doctest: +SKIP
    ('Closed',)
    """
    return _infer(log, log.codes.ends, share=share, min_cases=min_cases, min_coverage=min_coverage)


def infer_start_activities(log: EventLog, *, share: float = SHARE, min_cases: float = MIN_CASES,
                           min_coverage: float = MIN_COVERAGE) -> tuple[str, ...]:
    """The activities that begin the cases, inferred like :func:`infer_end_activities`."""
    return _infer(log, log.codes.starts, share=share, min_cases=min_cases, min_coverage=min_coverage)


def end_activity_table(log: EventLog) -> pd.DataFrame:
    """The evidence behind the inference, to show and edit: per activity ``cases_ending`` (cases whose last
    event it is), ``cases_containing`` and ``share_last`` (ending / containing), most ending first."""
    c = log.codes
    n_act = len(c.act_names)
    containing = c.cases_per_activity if n_act else []
    ending = np.bincount(c.act[c.ends], minlength=n_act) if n_act else []
    out = pd.DataFrame({"activity": c.act_names, "cases_ending": ending, "cases_containing": containing})
    out["share_last"] = out["cases_ending"] / out["cases_containing"].clip(lower=1)
    return out.sort_values(["cases_ending", "activity"], ascending=[False, True], ignore_index=True)


def resolve_end_activities(log: EventLog, end_activities: Iterable[str] | None) -> tuple[tuple[str, ...], str]:
    """``(activities, source)``: the given ones (source ``"given"``), else inferred (``"inferred"``, or ``"none"``)."""
    if end_activities is not None:
        return tuple(str(a) for a in end_activities), "given"
    inferred = infer_end_activities(log)
    return inferred, ("inferred" if inferred else "none")


def idle_limit_seconds(idle: str | float | pd.Timedelta | None) -> float | None:
    if idle is None:
        return None
    from .performance.times import parse_duration

    return parse_duration(idle)


def case_status(
    log: EventLog,
    *,
    end_activities: Iterable[str] | None = None,
    idle: str | float | pd.Timedelta | None = None,
    as_of: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Each case's status: ``finished``, ``running`` or ``stuck`` (running and idle longer than ``idle``).

    Columns: ``case``, ``last_activity``, ``last_time``, ``idle_s`` (seconds from
    the last event to ``as_of``; NaN without timestamps), ``status``. In the
    order of the log's cases. ``attrs`` records ``end_activities``,
    ``end_source`` (``"given"``, ``"inferred"`` or ``"none"`` - then every
    case's status is ``"unknown"``: nothing is called stuck on a guess), ``idle_s`` and
    ``as_of``. An idle limit on a log without timestamps is refused.

    >>> case_status(log, end_activities=["Closed"], idle="14d")["status"].tolist()   # doctest: +SKIP
    ['finished', 'stuck', 'running']
    """
    from .performance.times import as_of_seconds

    ends, source = resolve_end_activities(log, end_activities)
    limit = idle_limit_seconds(idle)
    if limit is not None and not log.has_timestamps:
        raise AnalysisError("the log has no timestamps: idle time cannot be measured, so no case can be called "
                            "stuck (finished / running still work)", source=log.name)
    c = log.codes
    now = as_of_seconds(log, as_of) if log.has_timestamps else float("nan")
    last = c.act[c.ends]
    return status_table(c.case_text, take_text(c.act_names, last), c.t[c.ends], ends=ends, source=source,
                        limit=limit, now=now)


def status_table(case_ids: np.ndarray, last_activity: np.ndarray, last_t: np.ndarray, *, ends: tuple[str, ...],
                 source: str, limit: float | None, now: float) -> pd.DataFrame:
    """The table of :func:`case_status` from per-case facts (last activity, last time in seconds), in the
    given case order; the Spark engine computes those facts on the cluster and calls this."""
    from .performance.times import to_timestamps

    finished = pd.Series(last_activity).isin(list(ends)).to_numpy(dtype=bool)
    idle_s = now - np.asarray(last_t, dtype=float)
    stuck = ~finished & (idle_s > limit) if limit is not None else np.zeros(len(finished), dtype=bool)
    status = np.where(finished, 0, np.where(stuck, 2, 1))
    if source == "none":  # nothing says which cases ended: do not guess
        status = np.full(len(finished), 3)
    out = pd.DataFrame({"case": case_ids, "last_activity": last_activity, "last_time": to_timestamps(last_t),
                        "idle_s": idle_s, "status": take_text(("finished", "running", "stuck", "unknown"), status)})
    out.attrs.update({"end_activities": ends, "end_source": source, "idle_s": limit,
                      "as_of": None if np.isnan(now) else pd.Timestamp(now * 1e9, unit="ns", tz="UTC")})
    return out


def finished_mask(log: EventLog, *, end_activities: Iterable[str] | None = None) -> np.ndarray:
    """Per case code (the log's case order): True when the case is finished."""
    return case_status(log, end_activities=end_activities)["status"].to_numpy() == "finished"


def running_case_ids(log: EventLog, *, end_activities: Iterable[str] | None = None,
                     fallback: Iterable[str] | None = None) -> list[str]:
    """Ids of the running cases, for conformance to check them as prefixes.

    End activities: ``end_activities`` if given; else inferred from the data
    when the log has at least :data:`MIN_CASES_TO_INFER` cases and shows a
    dominant end; else ``fallback`` (conformance passes the labels the model
    can end with); else none - then no case is treated as running (every case
    is checked in full) rather than hiding deviations behind a guess. A case
    that ended is checked in full, whatever its last activity. A log without
    timestamps (an order-only extract, such as a benchmark log) has no export
    time for a case to be still running at: unless ``end_activities`` are
    given, every case is checked in full.
    """
    end_activities = running_end_activities(log.codes.n_cases, lambda: infer_end_activities(log), end_activities,
                                            fallback, has_timestamps=log.has_timestamps)
    if end_activities is None:
        return []
    st = case_status(log, end_activities=end_activities)
    return st.loc[st["status"].isin(["running", "stuck"]), "case"].astype(str).tolist()


def running_end_activities(n_cases: int, infer: Callable[[], tuple[str, ...]], end_activities: Iterable[str] | None,
                           fallback: Iterable[str] | None, *, has_timestamps: bool = True) -> tuple[str, ...] | None:
    """The end activities :func:`running_case_ids` decides with (``None``: treat no case as running); ``infer``
    is called only for logs of at least :data:`MIN_CASES_TO_INFER` cases, and not at all for a log without
    timestamps (no case of an order-only log is running unless its end activities are given)."""
    if end_activities is not None:
        return tuple(end_activities)
    if not has_timestamps:
        return None
    inferred = infer() if n_cases >= MIN_CASES_TO_INFER else ()
    return inferred or (tuple(fallback) if fallback else None)


def status_note(st: pd.DataFrame) -> str:
    """One sentence saying how the status was decided (shown beside every status-based view)."""
    ends = st.attrs.get("end_activities") or ()
    source = st.attrs.get("end_source")
    counts = st["status"].value_counts()
    parts = [f"{int(counts.get(k, 0)):,} {k}" for k in ("finished", "running", "stuck", "unknown") if counts.get(k)]
    if source == "none":
        how = ("no end activity given and none inferred from the data, so finished and running cases cannot be "
               "told apart (give the end activities)")
    else:
        how = f"finished = last event is {' / '.join(ends)} ({source})"
    idle = st.attrs.get("idle_s")
    if idle is not None:
        from .performance.times import format_duration

        how += f"; stuck = running and no event for more than {format_duration(idle)}"
    return f"{', '.join(parts)} cases: {how}."


__all__ = ["STATUS_COLUMNS", "Status", "case_status", "end_activity_table", "finished_mask", "infer_end_activities",
           "pick_boundary_activities", "running_end_activities", "status_table",
           "infer_start_activities", "resolve_end_activities", "running_case_ids", "status_note"]
