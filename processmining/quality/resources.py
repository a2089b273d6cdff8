"""Checks on who did the work: returning accounts, system/bot accounts, single points of dependency.

Adapted from Suriadi et al.'s *unanchored* / *homonymous resource* ideas to
CRM and ticket data, where departed employees' accounts keep acting through
automations and one person may carry a whole approval step.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..model import ACTIVITY, CASE, RESOURCE, TIMESTAMP, EventLog
from .codes import codes, times
from .findings import CheckSkipped, Finding, QualityConfig, count_noun, make_finding, needs_times


def _resources(log: EventLog) -> pd.DataFrame:
    if RESOURCE not in log.df.columns:
        raise CheckSkipped("the log has no resource column")
    df = log.df[[CASE, ACTIVITY, RESOURCE, TIMESTAMP]].dropna(subset=[RESOURCE])
    if df.empty:
        raise CheckSkipped("the resource column is empty")
    return df


def system_account_mask(resources: pd.Series, *, config: QualityConfig) -> pd.Series:
    """True where the resource name matches ``config.system_account_pattern`` (on distinct names)."""
    names = pd.Series(resources.dropna().unique())
    pattern = re.compile(config.system_account_pattern, re.IGNORECASE)
    system = {n for n in names.astype(str) if pattern.search(n)}
    return resources.isin(system).fillna(False).astype(bool)


@needs_times("silences between an account's events cannot be measured")
def returning_accounts(log: EventLog, config: QualityConfig) -> list[Finding]:
    """Accounts that act again after a silence longer than ``config.silence`` (e.g. a departed employee).

    ``count`` = events by those accounts from their first return on.
    """
    _resources(log)
    res_codes, names = codes(log, RESOURCE)
    case_codes, case_ids = codes(log, CASE)
    t = times(log)
    valid = np.nonzero(res_codes >= 0)[0]
    order = valid[np.lexsort((t[valid], res_codes[valid]))]
    rr, tt = res_codes[order], t[order]
    gap = np.r_[0, np.diff(tt)]
    back = np.r_[False, rr[1:] == rr[:-1]] & (gap > config.silence.value)
    if not back.any():
        return []
    first_back = pd.DataFrame({"r": rr[back], "t": tt[back], "gap": gap[back]}).groupby("r").agg(
        returned=("t", "min"), longest=("gap", "max"))
    returned = np.full(len(names), np.iinfo(np.int64).max)
    returned[first_back.index.to_numpy()] = first_back["returned"].to_numpy()
    flagged = np.isin(rr, first_back.index.to_numpy())
    after = flagged & (tt >= returned[rr])
    before = flagged & (tt < returned[rr])
    last_before = pd.Series(tt[before]).groupby(rr[before]).max()
    n_after = pd.Series(np.bincount(rr[after], minlength=len(names)))
    idx = first_back.index.to_numpy()
    examples = pd.DataFrame({
        RESOURCE: names[idx],
        "last seen before": pd.to_datetime(last_before.reindex(idx).to_numpy(), utc=True),
        "returned": pd.to_datetime(first_back["returned"].to_numpy(), utc=True),
        "longest_silence": [f"{int(g // 86_400_000_000_000)} days" for g in first_back["longest"].to_numpy()],
        "events after return": n_after.to_numpy()[idx],
    }).sort_values("events after return", ascending=False, kind="stable")
    n = int(after.sum())
    return [make_finding(
        check="returning_accounts", dimension="resources", severity="medium",
        title=f"{count_noun(len(examples), 'account')} active again after more than {config.silence.days:,} days "
              f"of silence ({count_noun(n, 'event')})",
        count=n, case_ids=case_ids[case_codes[order[after]]], examples=examples, config=config,
        recommendation="A long-silent account that acts again is often a departed employee whose account is "
                       "used by someone else or by an automation. Check the access logs; do not credit the work "
                       "to that person in segregation-of-duties analyses.",
        details={"accounts": sorted(str(a) for a in examples[RESOURCE])},
    )]


def system_accounts(log: EventLog, config: QualityConfig) -> list[Finding]:
    """Resources whose name looks like a system, integration or bot account ("Automation for Jira")."""
    df = _resources(log)
    mask = system_account_mask(df[RESOURCE], config=config)
    n = int(mask.sum())
    if n == 0:
        return []
    per = df.loc[mask].groupby(RESOURCE, observed=True).agg(events=(CASE, "size"), cases=(CASE, "nunique"))
    per = per.sort_values("events", ascending=False).reset_index()
    return [make_finding(
        check="system_accounts", dimension="resources", severity="low",
        title=f"{count_noun(len(per), 'system or bot account')} with {count_noun(n, 'event')} "
              f"({n / len(log.df):.1%} of all)",
        count=n, case_ids=df.loc[mask, CASE], examples=per, config=config,
        recommendation="Automated steps are not human work: leave them out of workload, hand-over and "
                       "segregation-of-duties analyses, and check that each automation is intended.",
        details={"accounts": per[RESOURCE].astype(str).tolist()},
    )]


def resource_concentration(log: EventLog, config: QualityConfig) -> list[Finding]:
    """One person carrying at least ``config.concentration_share`` of an activity: a single point of dependency.

    System accounts are left out (they are reported by :func:`system_accounts`).
    No case is "affected": ``count`` is the number of activities.
    """
    _resources(log)
    res_codes, names = codes(log, RESOURCE)
    act_codes, labels = codes(log, ACTIVITY)
    system = system_account_mask(pd.Series(names, dtype="object"), config=config).to_numpy()
    human = (res_codes >= 0) & ~system[np.maximum(res_codes, 0)]
    if len(pd.unique(res_codes[human])) < config.concentration_min_resources:
        raise CheckSkipped(f"fewer than {config.concentration_min_resources} (human) accounts in the log")
    if config.critical_activities is not None:
        critical = np.isin(labels.astype(str), list(config.critical_activities))  # on distinct labels
        human &= critical[act_codes]
    n_res = len(names)
    pair_counts = pd.Series(act_codes[human] * n_res + res_codes[human]).value_counts(sort=False)
    pairs, counts = pair_counts.index.to_numpy(), pair_counts.to_numpy()
    per = pd.DataFrame({"a": pairs // n_res, "r": pairs % n_res, "events": counts})  # one row per (activity, account)
    stats = per.groupby("a").agg(total=("events", "sum"), accounts=("r", "size"))
    top = per.sort_values("events", ascending=False, kind="stable").drop_duplicates("a").set_index("a")
    top = top.join(stats)
    top["share"] = (top["events"] / top["total"]).round(4)
    top = top.loc[(top["share"] >= config.concentration_share) & (top["total"] >= config.concentration_min_events)]
    if top.empty:
        return []
    hit = pd.DataFrame({ACTIVITY: labels[top.index.to_numpy()], RESOURCE: names[top["r"].to_numpy()],
                        "events": top["events"].to_numpy(), "activity events": top["total"].to_numpy(),
                        "accounts": top["accounts"].to_numpy(), "share": top["share"].to_numpy()})
    hit = hit.sort_values(["share", "activity events"], ascending=False, kind="stable").reset_index(drop=True)
    return [make_finding(
        check="resource_concentration", dimension="resources", severity="low",
        title=f"{count_noun(len(hit), 'activity', 'activities')} depending on one person (at least "
              f"{config.concentration_share:.0%} "
              "of their events)",
        count=len(hit), case_ids=[], examples=hit, config=config,
        recommendation="A single point of dependency: absences stall the process, and a shared or generic "
                       "account may hide several people. Confirm who works behind the account; plan a deputy.",
        details={"activities": dict(zip(hit[ACTIVITY].astype(str), hit[RESOURCE].astype(str), strict=True))},
    )]


CHECKS = (returning_accounts, system_accounts, resource_concentration)
