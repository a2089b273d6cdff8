"""Order rules: precedence (B only after A), response (A eventually followed by B), no backward moves."""

from __future__ import annotations

import numpy as np
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
    """
    order = [str(a) for a in rule.params["order"]]
    rank = {a: i for i, a in enumerate(order)}
    allow = {(str(p[0]), str(p[1])) for p in (rule.params.get("allow") or [])}
    ev = ctx.events_in_scope(rule)
    ev = ev[ev[ACTIVITY].isin(order)]
    if ev.empty:
        return violations([], [], [])
    r = ev[ACTIVITY].map(rank).to_numpy()
    same_case = ev[CASE].to_numpy()[1:] == ev[CASE].to_numpy()[:-1]
    back = np.zeros(len(ev), dtype=bool)
    back[1:] = same_case & (r[1:] < r[:-1])
    prev_act = np.empty(len(ev), dtype=object)
    prev_act[1:] = ev[ACTIVITY].to_numpy(dtype=object)[:-1]
    prev_ord = np.zeros(len(ev), dtype=np.int64)
    prev_ord[1:] = ev[ORDER].to_numpy()[:-1]
    if allow:
        acts = ev[ACTIVITY].to_numpy(dtype=object)
        allowed = np.array([(p, a) in allow for p, a in zip(prev_act, acts, strict=True)], dtype=bool)
        back &= ~allowed
    bad = ev[back]
    pa, po = prev_act[back], prev_ord[back]
    msgs = [f"moved back from {p} to {a}" for p, a in zip(pa, bad[ACTIVITY], strict=True)]
    return violations(bad[CASE].astype(str), bad[ACTIVITY].astype(str), msgs, bad[TIMESTAMP],
                      bad[RESOURCE].astype(object), [f"{x} {y}" for x, y in zip(po, bad[ORDER], strict=True)],
                      [f"a stage after {p}" for p in pa], [f"{p} → {a}" for p, a in zip(pa, bad[ACTIVITY], strict=True)])
