"""Checks on whole cases: incomplete, one-event, unusually long and stale cases.

Suriadi et al. (2017) patterns *elusive case* and *incomplete case*: exports
cut cases at the extraction window, records are created and abandoned, and a
case that is still open is not a finished case.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model import ACTIVITY, CASE, TIMESTAMP, EventLog
from .codes import case_bounds, codes, times
from .findings import CheckSkipped, Finding, QualityConfig, count_noun, make_finding, needs_times


def _first_last(log: EventLog) -> tuple[pd.DataFrame, pd.DataFrame]:
    """First and last event of every case (the frame is sorted by case, time, order)."""
    first, last = case_bounds(log)
    cols = [CASE, ACTIVITY, TIMESTAMP]
    return log.df.loc[first, cols], log.df.loc[last, cols]


def infer_boundary_activities(log: EventLog, *, config: QualityConfig | None = None) -> tuple[tuple[str, ...],
                                                                                            tuple[str, ...]]:
    """The start and end activities: given in ``config``, else inferred from the log.

    An activity is a start (end) activity when it is the first (last) event
    in at least ``config.boundary_share`` of the cases that contain it, and
    first (last) in at least ``config.boundary_min_cases`` of all cases. So
    "Closed" (last whenever it occurs) is an end activity, "Resolved" (usually
    followed by "Closed") is not, and a case whose last event is "Resolved"
    has no end. If the activities found this way begin (end) fewer than
    ``config.boundary_min_coverage`` of the cases, the log has no dominant
    start (end) and nothing is inferred for that side: the checks that need
    it are skipped rather than flagging most cases on a guess.

    >>> starts, ends = infer_boundary_activities(log)  # doctest: +SKIP
    >>> starts, ends  # doctest: +SKIP
    (('Open',), ('Closed',))
    """
    from ..status import infer_end_activities, infer_start_activities

    config = config or QualityConfig()
    if log.df.empty:
        return tuple(config.start_activities or ()), tuple(config.end_activities or ())
    kw = {"share": config.boundary_share, "min_cases": config.boundary_min_cases,
          "min_coverage": config.boundary_min_coverage}
    starts = tuple(config.start_activities) if config.start_activities is not None else infer_start_activities(log, **kw)
    ends = tuple(config.end_activities) if config.end_activities is not None else infer_end_activities(log, **kw)
    return starts, ends


def case_durations(log: EventLog) -> pd.Series:
    """Last minus first timestamp of every case, indexed by case id."""
    first, last = case_bounds(log)
    t = times(log)
    return pd.Series(pd.to_timedelta(t[last] - t[first], unit="ns"), index=codes(log, CASE)[1],
                     name="duration").rename_axis(CASE)


def incomplete_cases(log: EventLog, config: QualityConfig) -> list[Finding]:
    """Cases that do not begin with a start activity or do not finish with an end activity."""
    starts, ends = infer_boundary_activities(log, config=config)
    first, last = _first_last(log)
    findings: list[Finding] = []
    given = "given" if config.start_activities is not None else "inferred"
    if starts:
        bad = first.loc[~first[ACTIVITY].isin(starts)].rename(columns={ACTIVITY: "first activity",
                                                                        TIMESTAMP: "first event"})
        if not bad.empty:
            findings.append(make_finding(
                check="incomplete_cases", dimension="cases", severity="medium",
                title=f"{count_noun(len(bad), 'case')} without a start activity ({given}: {', '.join(starts)})",
                count=len(bad), case_ids=bad[CASE], examples=bad, config=config,
                recommendation="These cases started before the export window or lost their first events. "
                               "Exclude them from lead-time and conformance figures (exclude_incomplete_cases).",
                details={"kind": "no start", "start_activities": list(starts),
                         "first_activities": {str(k): int(v) for k, v in bad["first activity"].value_counts().items()}},
            ))
    given = "given" if config.end_activities is not None else "inferred"
    if ends:
        bad = last.loc[~last[ACTIVITY].isin(ends)].rename(columns={ACTIVITY: "last activity",
                                                                   TIMESTAMP: "last event"})
        if not bad.empty:
            findings.append(make_finding(
                check="incomplete_cases", dimension="cases", severity="medium",
                title=f"{count_noun(len(bad), 'case')} without an end activity ({given}: {', '.join(ends)})",
                count=len(bad), case_ids=bad[CASE], examples=bad, config=config,
                recommendation="Open (still running) or abandoned cases. Analyse them separately: their lead "
                               "times are not final and they look like deviations to a model.",
                details={"kind": "no end", "end_activities": list(ends),
                         "last_activities": {str(k): int(v) for k, v in bad["last activity"].value_counts().items()}},
            ))
    if not starts and not ends:
        raise CheckSkipped("no start or end activity could be inferred; pass start_activities / end_activities")
    return findings


def single_event_cases(log: EventLog, config: QualityConfig) -> list[Finding]:
    """Cases with exactly one event: created and never moved, or the rest of the case is missing."""
    case_codes, _ = codes(log, CASE)
    single = np.bincount(case_codes)[case_codes] == 1
    if not single.any():
        return []
    out = log.df.loc[single, [CASE, ACTIVITY, TIMESTAMP]]
    ones = out[CASE]
    return [make_finding(
        check="single_event_cases", dimension="cases", severity="low",
        title=f"{count_noun(len(ones), 'case')} with a single event",
        count=len(ones), case_ids=out[CASE], examples=out, config=config,
        recommendation="One-event cases carry no flow. Check whether they are test records or records whose "
                       "history was not exported; leave them out of the process map.",
        details={"by_activity": {str(k): int(v) for k, v in out[ACTIVITY].value_counts().items()}},
    )]


@needs_times("case durations cannot be measured")
def long_cases(log: EventLog, config: QualityConfig) -> list[Finding]:
    """Cases lasting more than ``long_case_factor`` x the ``long_case_quantile`` of all case durations."""
    duration = case_durations(log)
    if len(duration) < 20:
        raise CheckSkipped(f"only {len(duration)} cases; at least 20 are needed for a usual duration")
    usual = duration.quantile(config.long_case_quantile).round("s")
    limit = (usual * config.long_case_factor).round("s")
    long = duration[duration > limit]
    if long.empty or limit <= pd.Timedelta(0):
        return []
    out = long.rename("duration").sort_values(ascending=False).reset_index()
    out["duration"] = out["duration"].astype(str)
    return [make_finding(
        check="long_cases", dimension="cases", severity="low",
        title=f"{count_noun(len(long), 'case')} longer than {limit} "
              f"({config.long_case_factor:g} x the {config.long_case_quantile:.0%} quantile, {usual})",
        count=len(long), case_ids=out[CASE], examples=out, config=config,
        recommendation="Very long cases are often reused records or cases reopened months later; check them "
                       "before they dominate average lead times.",
        details={"usual": str(usual), "limit": str(limit)},
    )]


def stale_limit(log: EventLog, config: QualityConfig) -> pd.Timedelta:
    """The idle limit of :func:`stale_open_cases`: ``config.stale_after`` when given, else the idle limit of
    the log's preset (the same one its stuck cases are measured with), else 60 days."""
    if config.stale_after is not None:
        return config.stale_after
    from ..ingest.presets import analysis_defaults
    from ..performance.times import parse_duration

    idle = analysis_defaults(log.report.preset if log.report is not None else None).get("idle")
    return pd.Timedelta(seconds=parse_duration(str(idle))) if idle else pd.Timedelta(days=60)


def _days(limit: pd.Timedelta) -> str:
    from ..performance.times import format_duration

    return f"{limit.days:,} days" if limit == pd.Timedelta(days=limit.days) else format_duration(limit)


def stale_open_cases(log: EventLog, config: QualityConfig) -> list[Finding]:
    """Cases without an end activity whose last event is older than :func:`stale_limit` at export time.

    Export time = ``config.now`` when given (the known export time), else the
    log's last event (see :class:`QualityConfig`).
    """
    from ..status import case_status

    _, ends = infer_boundary_activities(log, config=config)
    if not ends:
        raise CheckSkipped("no end activity could be inferred; pass end_activities")
    if not log.has_timestamps:
        raise CheckSkipped("the log has no timestamps: idle time cannot be measured")
    export = config.reference_now() if config.now is not None else log.df[TIMESTAMP].max()
    limit = stale_limit(log, config)
    st = case_status(log, end_activities=ends, idle=limit, as_of=export)  # THE stuck notion
    stuck = st[st["status"] == "stuck"]
    out = pd.DataFrame({CASE: stuck["case"].to_numpy(), "last activity": stuck["last_activity"].to_numpy(),
                        "last event": stuck["last_time"].to_numpy(),
                        "idle": pd.to_timedelta(stuck["idle_s"].to_numpy(), unit="s").round("s").astype(str)})
    if out.empty:
        return []
    return [make_finding(
        check="stale_open_cases", dimension="cases", severity="medium",
        title=f"{count_noun(len(out), 'open case')} without an event for more than {_days(limit)} "
              f"before {'the export' if config.now is not None else 'the last event of the log'} ({export.date()})",
        count=len(out), case_ids=out[CASE], examples=out, config=config,
        recommendation="Stuck or abandoned records that were never closed: close or re-qualify them in the "
                       "source system; exclude them from open-pipeline figures.",
        details={"export_time": export.isoformat(),
                 "last_activities": {str(k): int(v) for k, v in out["last activity"].value_counts().items()}},
    )]


CHECKS = (incomplete_cases, single_event_cases, long_cases, stale_open_cases)
