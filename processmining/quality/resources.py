"""Checks on who did the work: returning accounts, system/bot accounts, single points of dependency.

Adapted from Suriadi et al.'s *unanchored* / *homonymous resource* ideas to
CRM and ticket data, where departed employees' accounts keep acting through
automations and one person may carry a whole approval step.
"""

from __future__ import annotations

import re

import pandas as pd

from ..model import ACTIVITY, CASE, RESOURCE, TIMESTAMP, EventLog
from .findings import CheckSkipped, Finding, QualityConfig, make_finding


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


def returning_accounts(log: EventLog, config: QualityConfig) -> list[Finding]:
    """Accounts that act again after a silence longer than ``config.silence`` (e.g. a departed employee)."""
    df = _resources(log).sort_values([RESOURCE, TIMESTAMP], kind="stable")
    gap = df[TIMESTAMP].diff()
    same = df[RESOURCE].eq(df[RESOURCE].shift()).to_numpy(dtype=bool, na_value=False)
    mask = same & (gap > config.silence).to_numpy(dtype=bool, na_value=False)
    returns = df.loc[mask].assign(silence=gap[mask])
    if returns.empty:
        return []
    first_return = returns.groupby(RESOURCE, observed=True, sort=False).agg(
        returned=(TIMESTAMP, "min"), longest_silence=("silence", "max"))
    after = df.merge(first_return["returned"].reset_index(), on=RESOURCE)
    after = after.loc[after[TIMESTAMP] >= after["returned"]]
    last_before = df.merge(first_return["returned"].reset_index(), on=RESOURCE)
    last_before = last_before.loc[last_before[TIMESTAMP] < last_before["returned"]].groupby(
        RESOURCE, observed=True)[TIMESTAMP].max().rename("last seen before")
    examples = first_return.join(last_before).join(after.groupby(RESOURCE, observed=True).size().rename(
        "events after return")).reset_index()
    examples["longest_silence"] = examples["longest_silence"].dt.days.astype("int64").astype(str) + " days"
    examples = examples[[RESOURCE, "last seen before", "returned", "longest_silence", "events after return"]]
    return [make_finding(
        check="returning_accounts", dimension="resources", severity="medium",
        title=f"{len(examples):,} accounts act again after more than {config.silence.days:,} days of silence "
              f"({len(after):,} events)",
        count=len(after), case_ids=after[CASE], examples=examples, config=config,
        recommendation="A long-silent account that acts again is often a departed employee whose account is "
                       "used by someone else or by an automation. Check the access logs; do not credit the work "
                       "to that person in segregation-of-duties analyses.",
        details={"accounts": sorted(examples[RESOURCE].astype(str).tolist())},
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
        title=f"{len(per):,} system or bot accounts recorded {n:,} events ({n / len(log.df):.1%})",
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
    df = _resources(log)
    df = df.loc[~system_account_mask(df[RESOURCE], config=config)]
    if df[RESOURCE].nunique() < config.concentration_min_resources:
        raise CheckSkipped(f"fewer than {config.concentration_min_resources} (human) accounts in the log")
    if config.critical_activities is not None:
        df = df.loc[df[ACTIVITY].isin(config.critical_activities)]
    per = df.groupby([ACTIVITY, RESOURCE], observed=True).size().rename("events").reset_index()
    totals = per.groupby(ACTIVITY, observed=True)["events"].agg(["sum", "size"])
    top = per.sort_values("events", ascending=False, kind="stable").drop_duplicates(ACTIVITY)
    top = top.merge(totals.rename(columns={"sum": "activity events", "size": "accounts"}).reset_index(),
                    on=ACTIVITY)
    top["share"] = (top["events"] / top["activity events"]).round(4)
    hit = top.loc[(top["share"] >= config.concentration_share)
                  & (top["activity events"] >= config.concentration_min_events)]
    if hit.empty:
        return []
    hit = hit.sort_values("share", ascending=False).reset_index(drop=True)
    return [make_finding(
        check="resource_concentration", dimension="resources", severity="low",
        title=f"{len(hit):,} activities depend on one person (at least {config.concentration_share:.0%} "
              "of their events)",
        count=len(hit), case_ids=[], examples=hit, config=config,
        recommendation="A single point of dependency: absences stall the process, and a shared or generic "
                       "account may hide several people. Confirm who works behind the account; plan a deputy.",
        details={"activities": dict(zip(hit[ACTIVITY].astype(str), hit[RESOURCE].astype(str), strict=True))},
    )]


CHECKS = (returning_accounts, system_accounts, resource_concentration)
