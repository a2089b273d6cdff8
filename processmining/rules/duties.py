"""Who may do what: segregation of duties / four eyes, and roles (BPMN lanes or a role mapping)."""

from __future__ import annotations

import pandas as pd

from ..errors import RuleError
from ..model import ACTIVITY, CASE, ORDER, RESOURCE, TIMESTAMP
from .context import RuleContext, violations
from .spec import Rule


def segregation_of_duties(ctx: RuleContext, rule: Rule) -> pd.DataFrame:
    """One violation per case and resource that did two or more of the listed activities.

    >>> # Proposal/Price Quote and Discount Approval both by 005X -> "... were both done by 005X"
    """
    acts = [str(a) for a in rule.params["activities"]]
    ev = ctx.events_in_scope(rule)
    ev = ev[ev[ACTIVITY].isin(acts) & ev[RESOURCE].notna()]
    if ev.empty:
        return violations([], [], [])
    per = ev.groupby([CASE, RESOURCE], sort=False, observed=True).agg(
        n=(ACTIVITY, "nunique"),
        acts=(ACTIVITY, lambda s: sorted(set(s), key=acts.index)),
        last_ts=(TIMESTAMP, "max"),
        evidence=(ORDER, lambda s: " ".join(map(str, s))),
    ).reset_index()
    bad = per[per["n"] >= 2]
    msgs = [f"{' and '.join(a)} were all done by {r}" if len(a) > 2 else f"{a[0]} and {a[1]} were both done by {r}"
            for a, r in zip(bad["acts"], bad[RESOURCE], strict=True)]
    return violations(bad[CASE].astype(str), [a[-1] for a in bad["acts"]], msgs, bad["last_ts"], bad[RESOURCE],
                      bad["evidence"], "different resources", [", ".join(a) for a in bad["acts"]])


def role(ctx: RuleContext, rule: Rule) -> pd.DataFrame:
    """Every ``activity`` event must be done by a resource with ``role`` (or the task's BPMN lane).

    Resources come from the event's ``org:resource``; their role from the role
    mapping (CSV ``resource,role``). A resource missing from the mapping is a
    violation too ("has no known role").
    """
    act = str(rule.params["activity"])
    wanted = rule.params.get("role")
    if not wanted:
        wanted = ctx.lanes.get(act)
        if not wanted:
            raise RuleError(f"rule {rule.id!r}: lane: true, but the model puts {act!r} in no lane",
                            source=ctx.source, line=rule.line)
    if not ctx.roles:
        raise RuleError(f"rule {rule.id!r}: a role rule needs a resource → role mapping (--roles roles.csv)",
                        source=ctx.source, line=rule.line)
    ev = ctx.events_in_scope(rule)
    ev = ev[ev[ACTIVITY] == act]
    if ev.empty:
        return violations([], [], [])
    actual = ev[RESOURCE].astype(object).map(lambda r: ctx.roles.get(r) if isinstance(r, str) else None)
    bad = ev[actual.ne(wanted).to_numpy()]
    actual = actual[bad.index]
    known = [a if isinstance(a, str) else None for a in actual]
    msgs = [f"{act} was done by {r} ({'role ' + a if a else 'no known role'}), not by a {wanted}"
            if isinstance(r, str) else f"{act} has no resource recorded; it must be done by a {wanted}"
            for r, a in zip(bad[RESOURCE].astype(object), known, strict=True)]
    return violations(bad[CASE].astype(str), act, msgs, bad[TIMESTAMP], bad[RESOURCE].astype(object),
                      bad[ORDER].astype(str), wanted, [a or "unknown" for a in known])
