"""Time rules: SLA between two activities (max_duration) and cases idle for too long (max_idle)."""

from __future__ import annotations

import pandas as pd

from ..model import ACTIVITY, CASE, ORDER, RESOURCE, TIMESTAMP
from .context import RuleContext, fmt_duration, violations
from .spec import Rule


def max_duration(ctx: RuleContext, rule: Rule) -> pd.DataFrame:
    """The first ``to`` after the first ``from`` must come within ``limit``.

    Cases that never reach ``to`` are not judged (no time has been measured).
    """
    a, b, limit = str(rule.params["from"]), str(rule.params["to"]), rule.params["limit"]
    ev = ctx.events_in_scope(rule)
    starts = ev[ev[ACTIVITY] == a].groupby(CASE, sort=False, observed=True).first()
    if starts.empty:
        return violations([], [], [])
    ends = ev[ev[ACTIVITY] == b].merge(starts[[TIMESTAMP, "_pos"]].rename(
        columns={TIMESTAMP: "_t0", "_pos": "_p0"}), left_on=CASE, right_index=True).reset_index(drop=True)
    ends = ends[ends["_pos"] > ends["_p0"]]
    if ends.empty:  # no case has reached ``to`` yet: nothing to judge
        return violations([], [], [])
    ends = ends.groupby(CASE, sort=False, observed=True).first().reset_index()
    late = ends[(ends[TIMESTAMP] - ends["_t0"]) > limit]
    if late.empty:
        return violations([], [], [])
    took = late[TIMESTAMP] - late["_t0"]
    first_order = starts[ORDER].reindex(late[CASE]).to_numpy()
    msgs = [f"{b} came {fmt_duration(t)} after {a} (limit {fmt_duration(limit)})" for t in took]
    return violations(late[CASE].astype(str), b, msgs, late[TIMESTAMP], late[RESOURCE].astype(object),
                      [f"{x} {y}" for x, y in zip(first_order, late[ORDER], strict=True)],
                      f"within {fmt_duration(limit)}", [fmt_duration(t) for t in took])


def max_idle(ctx: RuleContext, rule: Rule) -> pd.DataFrame:
    """A case not finished (its last activity is not in ``unless_last``) with no event for more than ``limit``.

    Idle time is measured up to ``as_of`` (a timestamp; default: the log's last event).
    """
    limit = rule.params["limit"]
    ends = {str(a) for a in (rule.params.get("unless_last") or [])}
    ev = ctx.events_in_scope(rule)
    if ev.empty:
        return violations([], [], [])
    as_of = rule.params.get("as_of")
    if as_of in (None, "last_event"):
        as_of = ctx.events[TIMESTAMP].max()
    last = ev.groupby(CASE, sort=False, observed=True).last().reset_index()
    idle = as_of - last[TIMESTAMP]
    bad = last[(idle > limit).to_numpy() & ~last[ACTIVITY].isin(ends).to_numpy()]
    idle = idle[bad.index]
    msgs = [f"no event for {fmt_duration(t)} since {act} (limit {fmt_duration(limit)}, as of {as_of:%Y-%m-%d %H:%M} UTC)"
            for t, act in zip(idle, bad[ACTIVITY], strict=True)]
    return violations(bad[CASE].astype(str), bad[ACTIVITY].astype(str), msgs, bad[TIMESTAMP],
                      bad[RESOURCE].astype(object), bad[ORDER].astype(str), f"an event within {fmt_duration(limit)}",
                      [fmt_duration(t) for t in idle])
