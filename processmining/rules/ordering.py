"""Order rules: precedence (B only after A), response (A eventually followed by B), no backward moves."""

from __future__ import annotations

import pandas as pd

from ..model import ACTIVITY, CASE, ORDER, RESOURCE, TIMESTAMP
from .context import RuleContext, violations
from .spec import Rule


def precedence(ctx: RuleContext, rule: Rule) -> pd.DataFrame:
    """The first ``activity`` of a case needs one of ``after`` earlier in the case."""
    b = str(rule.params["activity"])
    after = rule.params["after"]
    before = [str(a) for a in (after if isinstance(after, list) else [after])]
    ev = ctx.events_in_scope(rule)
    first_b = ev[ev[ACTIVITY] == b].groupby(CASE, sort=False, observed=True).first().reset_index()
    if first_b.empty:
        return violations([], [], [])
    first_a = ev[ev[ACTIVITY].isin(before)].groupby(CASE, sort=False, observed=True)["_pos"].min()
    pos_a = first_a.reindex(first_b[CASE]).to_numpy(dtype=float)
    bad = first_b[~(pos_a < first_b["_pos"].to_numpy())]
    need = " or ".join(before)
    return violations(bad[CASE].astype(str), b, f"{b} happened without an earlier {need}", bad[TIMESTAMP],
                      bad[RESOURCE].astype(object), bad[ORDER].astype(str), f"{need} before {b}", None)


def response(ctx: RuleContext, rule: Rule) -> pd.DataFrame:
    """The last ``activity`` of a case must be followed later by ``followed_by``."""
    a, b = str(rule.params["activity"]), str(rule.params["followed_by"])
    ev = ctx.events_in_scope(rule)
    last_a = ev[ev[ACTIVITY] == a].groupby(CASE, sort=False, observed=True).last().reset_index()
    if last_a.empty:
        return violations([], [], [])
    last_b = ev[ev[ACTIVITY] == b].groupby(CASE, sort=False, observed=True)["_pos"].max()
    pos_b = last_b.reindex(last_a[CASE]).to_numpy(dtype=float)
    bad = last_a[~(pos_b > last_a["_pos"].to_numpy())]
    return violations(bad[CASE].astype(str), a, f"{a} was not followed by {b}", bad[TIMESTAMP],
                      bad[RESOURCE].astype(object), bad[ORDER].astype(str), f"{b} after {a}", None)


def no_backward_moves(ctx: RuleContext, rule: Rule) -> pd.DataFrame:
    """No move to an earlier stage of ``order`` (consecutive staged events), except the ``allow`` pairs.

    Activities not in ``order`` (e.g. Closed Lost) are left out of the comparison.
    Computed by :func:`processmining.performance.backward_moves` (one implementation).
    """
    from ..performance.times import backward_moves

    order = [str(a) for a in rule.params["order"]]
    allow = [(str(p[0]), str(p[1])) for p in (rule.params.get("allow") or [])]
    moves = backward_moves(ctx.log_in_scope(rule), order, allowed=allow)
    if moves.empty:
        return violations([], [], [])
    pa, a = moves["from_stage"].astype(str), moves["to_stage"].astype(str)
    return violations(moves["case"].astype(str), a, "moved back from " + pa + " to " + a, moves["time"],
                      moves["resource"], moves["from_index"].astype(str) + " " + moves["to_index"].astype(str),
                      "a stage after " + pa, pa + " → " + a)
