"""Checks on repeated events: exact duplicates and near-duplicates.

Suriadi et al. (2017) pattern *collateral events*: the same step recorded
twice (double clicks, re-sent webhooks, history rows duplicated by an export).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model import ACTIVITY, CASE, LIFECYCLE, ORDER, SOURCE_ROW, TIMESTAMP, EventLog
from .codes import codes, times
from .findings import Finding, QualityConfig, count_noun, make_finding, needs_times

DUPLICATE_KEY = (CASE, ACTIVITY, TIMESTAMP)


def event_key(log: EventLog) -> list[str]:
    """Columns that identify "the same event": case, activity, timestamp, and the lifecycle transition if any.

    With a lifecycle column (XES ``start``/``complete``, BPIC's sub-statuses)
    a start and a complete of one activity at one instant are two events.
    """
    return [*DUPLICATE_KEY, *([LIFECYCLE] if LIFECYCLE in log.df.columns else [])]


def attribute_columns(log: EventLog) -> list[str]:
    """Every column except the internal ones (``@@index``, ``@@source_row`` and other ``@@`` columns)."""
    return [c for c in log.df.columns if not c.startswith("@@") and c not in (ORDER, SOURCE_ROW)]


@needs_times("a step recorded twice cannot be told from a step done twice (a repeat is rework), so no duplicates are claimed")
def duplicate_events(log: EventLog, config: QualityConfig) -> list[Finding]:
    """Events with the same case, activity and timestamp (and lifecycle transition) as an earlier event.

    ``count`` = the surplus copies (a pair counts 1). ``details["exact"]`` is
    how many of them are identical in every attribute, which is what
    :func:`processmining.quality.drop_duplicate_events` removes by default.

    When the events carry nothing beyond case, activity and time and every
    copy's time is a whole minute (or day), a copy may as well be a second
    step in the same minute: the finding says so and is *medium*, not *high*
    (``details["clock"]`` is ``"minute"``/``"day"``, else ``"fine"``).

    On an order-only log (no timestamps) the check is skipped with a reason
    and claims nothing: even an adjacent repeat with every attribute equal is
    as likely a step done twice (rework, a loop of the model) as a step
    recorded twice, and only a time (or an event id) could tell them apart.
    """
    df = log.df
    key = event_key(log)
    keyframe = pd.DataFrame({c: (times(log) if c == TIMESTAMP else codes(log, c)[0]) for c in key})
    dup = keyframe.duplicated(keep="first").to_numpy()
    n = int(dup.sum())
    if n == 0:
        return []
    involved = keyframe.duplicated(keep=False).to_numpy()
    attributes = attribute_columns(log)
    exact = int(df.loc[involved, attributes].duplicated(keep="first").sum())
    groups = (df.loc[involved].groupby(key, observed=True, sort=False, dropna=False).size().rename("copies")
              .reset_index().sort_values("copies", ascending=False, kind="stable"))
    coarse = _coarse_clock(df.loc[involved, TIMESTAMP]) if not set(attributes) - set(key) else None
    title = (f"{count_noun(n, 'duplicate event')} (same case, activity and timestamp; {exact:,} identical in "
             "every attribute)")
    recommendation = ("Duplicates inflate activity counts and create self-loops on the map. Drop them with "
                      "drop_duplicate_events (CLI: --fix drop-duplicates) unless the step really happened twice.")
    if coarse:
        title += f"; the times are whole {coarse}s and the events carry no other attribute, so copies may be " \
                 f"distinct steps recorded in the same {coarse}"
        recommendation = (f"With whole-{coarse} times and no attribute beyond case, activity and time, a repeat "
                          "cannot be told from a second step done in the same " + coarse + " (several invoices "
                          "booked at once, a batch job). Check the source system (an event or document id, an "
                          "amount, the user) before dropping them: drop_duplicate_events (CLI: --fix "
                          "drop-duplicates) removes them all.")
    return [make_finding(
        check="duplicate_events", dimension="events", severity="medium" if coarse else "high",
        title=title, count=n, case_ids=df.loc[dup, CASE], examples=groups, config=config,
        recommendation=recommendation,
        details={"exact": exact, "groups": len(groups), "clock": coarse or "fine"},
    )]


def _coarse_clock(stamps: pd.Series) -> str | None:
    """``"day"`` or ``"minute"`` when every one of ``stamps`` sits on a whole day / minute, else ``None``."""
    t = pd.to_datetime(stamps).dropna()
    if t.empty:
        return None
    if bool((t == t.dt.floor("D")).all()):
        return "day"
    if bool((t == t.dt.floor("min")).all()):
        return "minute"
    return None


@needs_times("repeats seconds apart cannot be found without times")
def near_duplicate_events(log: EventLog, config: QualityConfig) -> list[Finding]:
    """Consecutive events of one case with the same activity within ``config.near_duplicate_window``.

    Same-instant repeats are :func:`duplicate_events`; this catches the ones
    a few seconds apart (double submits, retries).
    """
    df = log.df
    same = np.ones(len(df), dtype=bool)
    for column in event_key(log)[:2] + event_key(log)[3:]:  # case, activity (+ lifecycle), not the time
        column_codes = codes(log, column)[0]
        same &= np.r_[False, column_codes[1:] == column_codes[:-1]]
    gap = df[TIMESTAMP] - df[TIMESTAMP].shift()
    mask = same & ((gap > pd.Timedelta(0)) & (gap <= config.near_duplicate_window)).to_numpy(
        dtype=bool, na_value=False)
    n = int(mask.sum())
    if n == 0:
        return []
    out = df.loc[mask, [CASE, ACTIVITY, TIMESTAMP]].assign(seconds_after_previous=gap[mask].dt.total_seconds())
    return [make_finding(
        check="near_duplicate_events", dimension="events", severity="medium",
        title=f"{count_noun(n, 'event')} repeating the previous step of their case within "
              f"{int(config.near_duplicate_window.total_seconds()):,} s",
        count=n, case_ids=out[CASE], examples=out, config=config,
        recommendation="Repeats seconds apart are usually double submits or retries, not rework. Check a few; if "
                       "they are artefacts, collapse them before counting rework or loops.",
        details={"window_seconds": config.near_duplicate_window.total_seconds()},
    )]


CHECKS = (duplicate_events, near_duplicate_events)
