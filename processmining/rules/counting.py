"""How often: existence (at least ``min``, at most ``max``) and absence (at most ``max``, default never)."""

from __future__ import annotations

import pandas as pd

from ..model import ACTIVITY, CASE
from .context import RuleContext, violations
from .spec import Rule


def _counts(ctx: RuleContext, rule: Rule, act: str) -> pd.Series:
    ev = ctx.events_in_scope(rule)
    cases = pd.Index(ev[CASE].unique())
    return ev[ev[ACTIVITY] == act].groupby(CASE, sort=False, observed=True).size().reindex(cases, fill_value=0)


def existence(ctx: RuleContext, rule: Rule) -> pd.DataFrame:
    """Each case (in scope) has ``activity`` at least ``min`` (default 1) and at most ``max`` times."""
    act = str(rule.params["activity"])
    lo, hi = int(rule.params.get("min", 1)), rule.params.get("max")
    n = _counts(ctx, rule, act)
    bad = n[(n < lo) | ((n > hi) if hi is not None else False)]
    msgs = [f"{act} is missing ({c} times, at least {lo} required)" if c < lo
            else f"{act} happened {c} times (at most {hi} allowed)" for c in bad]
    expected = f"{lo}..{hi} times" if hi is not None else f"at least {lo} times"
    return violations(bad.index.astype(str), act, msgs, None, None, None, expected, [f"{c} times" for c in bad])


def absence(ctx: RuleContext, rule: Rule) -> pd.DataFrame:
    """Each case (in scope) has ``activity`` at most ``max`` times (default 0: never)."""
    act = str(rule.params["activity"])
    hi = int(rule.params.get("max", 0))
    n = _counts(ctx, rule, act)
    bad = n[n > hi]
    msgs = [f"{act} happened {c} times, but {'must not happen' if hi == 0 else f'at most {hi} are allowed'}"
            for c in bad]
    return violations(bad.index.astype(str), act, msgs, None, None, None, f"at most {hi} times",
                      [f"{c} times" for c in bad])
