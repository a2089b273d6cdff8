"""Time rules: SLA between two activities (max_duration) and running cases idle for too long (max_idle).

Both call the performance / status primitives (:func:`processmining.performance.sla_cases`,
:func:`processmining.status.case_status`), so a rule and the Bottlenecks view
count the same cases: a still-open running case over the limit is a
violation, a finished case is never idle, exactly at the limit is within it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model import ORDER, RESOURCE, TIMESTAMP
from .context import RuleContext, fmt_duration, violations
from .spec import Rule


def _as_of(ctx: RuleContext, rule: Rule) -> pd.Timestamp | None:
    as_of = rule.params.get("as_of")
    if as_of in (None, "last_event"):
        if ctx.whole is not None:
            return ctx.whole.last_event
        return ctx.events[TIMESTAMP].max() if len(ctx.events) else None
    return as_of


def max_duration(ctx: RuleContext, rule: Rule) -> pd.DataFrame:
    """From the first (``from_occurrence: last``: last) ``from`` to the first (``to_occurrence``) ``to`` after it
    within ``limit``.

    Late cases (``to`` came after the limit) and still-open running cases
    already over the limit at ``as_of`` (default: the log's last event) are
    violations; a case that finished without ``to`` (its last event is one of
    ``end_activities``, inferred from the data when not given) is not judged.
    """
    from ..performance.bottlenecks import SlaTarget, sla_cases

    a, b, limit = str(rule.params["from"]), str(rule.params["to"]), rule.params["limit"]
    log = ctx.log_in_scope(rule)
    if log.n_events == 0 or not (log.codes.act_text == a).any():
        return violations([], [], [])
    as_of = _as_of(ctx, rule)
    target = SlaTarget(label=rule.id, source=a, target=b, limit_s=limit.total_seconds())
    ends = rule.params.get("end_activities")
    frame = sla_cases(log, target, as_of=as_of, end_activities=ends if ends is not None else
                      ctx.inferred_end_activities(rule),
                      from_occurrence=rule.params.get("from_occurrence", "first"),
                      to_occurrence=rule.params.get("to_occurrence", "first"), require_target=False)
    bad = frame[frame["status"].isin(["late", "open"])]
    if bad.empty:
        return violations([], [], [])
    order = log.df[ORDER].to_numpy()
    res = log.df[RESOURCE].astype(object).to_numpy() if RESOURCE in log.df.columns else np.full(len(order), None)
    late = bad["status"].to_numpy() == "late"
    from_pos, to_pos = bad["from_pos"].to_numpy(), bad["to_pos"].to_numpy()
    took = [pd.Timedelta(seconds=float(d)) for d in bad["duration_s"]]
    stamp = f"{as_of:%Y-%m-%d %H:%M} UTC" if as_of is not None else "the log's last event"
    msgs = [f"{b} came {fmt_duration(t)} after {a} (limit {fmt_duration(limit)})" if is_late else
            f"{b} has not happened {fmt_duration(t)} after {a} and the case is still open "
            f"(limit {fmt_duration(limit)}, as of {stamp})" for t, is_late in zip(took, late, strict=True)]
    last = np.where(late, to_pos, from_pos)
    ts = log.df[TIMESTAMP].array.take(last)  # the event's own time (float seconds would lose the last ns)
    evidence = [f"{order[f]} {order[t]}" if is_late else f"{order[f]}"
                for f, t, is_late in zip(from_pos, to_pos, late, strict=True)]
    return violations(bad["case"].astype(str), np.where(late, b, a), msgs, ts, res[last], evidence,
                      f"within {fmt_duration(limit)}", [fmt_duration(t) for t in took])


def max_idle(ctx: RuleContext, rule: Rule) -> pd.DataFrame:
    """A running case (its last activity is not in ``unless_last``; inferred end activities when not given) with
    no event for more than ``limit`` at ``as_of`` (a timestamp; default: the log's last event): a stuck case.
    """
    from ..status import case_status

    limit = rule.params["limit"]
    ends = rule.params.get("unless_last")
    log = ctx.log_in_scope(rule)
    given = [str(e) for e in ends] if ends else ctx.inferred_end_activities(rule)
    if log.n_events == 0 or given == ():  # nothing says which cases ended (no end inferred): none is stuck
        return violations([], [], [])
    as_of = _as_of(ctx, rule)
    st = case_status(log, end_activities=given, idle=limit, as_of=as_of)
    bad = st[st["status"] == "stuck"]
    c = log.codes
    last_rows = c.ends[np.flatnonzero(st["status"].to_numpy() == "stuck")]
    idle = [pd.Timedelta(seconds=float(s)) for s in bad["idle_s"]]
    msgs = [f"no event for {fmt_duration(t)} since {act} (limit {fmt_duration(limit)}, as of {as_of:%Y-%m-%d %H:%M} UTC)"
            for t, act in zip(idle, bad["last_activity"], strict=True)]
    df = log.df
    res = df[RESOURCE].astype(object).to_numpy()[last_rows] if RESOURCE in df.columns else None
    last_time = df[TIMESTAMP].array.take(last_rows)  # the last event's own time (not back from float seconds)
    return violations(bad["case"].astype(str), bad["last_activity"].astype(str), msgs, last_time, res,
                      df[ORDER].to_numpy()[last_rows].astype(str), f"an event within {fmt_duration(limit)}",
                      [fmt_duration(t) for t in idle])
