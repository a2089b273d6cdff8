"""Checks on when events happened: batch entry, precision, offsets, anchoring, durations.

Suriadi et al. (2017) patterns *form-based event capture*, *inadvertent time
travel*, *unanchored event* and *scattered event*, adapted to CRM stage and
ticket status histories. Every check is ``check(log, config) -> list[Finding]``
and works on whole columns (groupbys), never event by event.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..model import ACTIVITY, CASE, ORDER, RESOURCE, START_TIMESTAMP, TIMESTAMP, EventLog
from .cases import case_durations
from .codes import codes, times
from .findings import CheckSkipped, Finding, QualityConfig, count_noun, make_finding, needs_times


@needs_times("steps recorded at one instant cannot be found without times")
def batch_entry_by_case(log: EventLog, config: QualityConfig) -> list[Finding]:
    """Cases with several different steps recorded at (almost) the same instant: stages clicked through afterwards.

    Consecutive events of a case less than ``config.batch_window`` apart form
    one batch (so 06:26:54.511 and 06:26:54.744 are one save); a batch with at
    least ``config.batch_case_min_events`` distinct activities is reported.
    Interval logs (with ``start_timestamp``) are compared on entry (start)
    times: in a HubSpot-style export a stage ends when the next is entered,
    which is not a batch.
    ``count`` = events in such batches. Exact repeats of one activity are
    left to :func:`~processmining.quality.events.duplicate_events`.
    """
    df = log.df
    case_codes, case_ids = codes(log, CASE)
    act_codes, act_labels = codes(log, ACTIVITY)
    if START_TIMESTAMP in df.columns:
        t = np.where(df[START_TIMESTAMP].notna().to_numpy(), times(log, START_TIMESTAMP), times(log))
        order = np.lexsort((df[ORDER].to_numpy(), t, case_codes))
    else:  # the log is already sorted by case, time, input order
        t = times(log)
        order = np.arange(len(df))
    cc, tt, aa = case_codes[order], t[order], act_codes[order]
    window = config.batch_window.value  # ns
    batch = np.cumsum(np.r_[True, (cc[1:] != cc[:-1]) | ((tt[1:] - tt[:-1]) >= window)]) - 1
    candidate = np.bincount(batch)[batch] >= config.batch_case_min_events
    if not candidate.any():
        return []
    sub = pd.DataFrame({"batch": batch[candidate], "act": aa[candidate], "case": cc[candidate],
                        "t": tt[candidate]}).drop_duplicates(["batch", "act"])
    distinct = sub.groupby("batch", sort=False).size()
    hit = distinct[distinct >= config.batch_case_min_events]
    if hit.empty:
        return []
    affected = sub.loc[sub["batch"].isin(hit.index)]
    groups = affected.groupby("batch", sort=False).agg(
        case=("case", "first"), first=("t", "min"), last=("t", "max"), events=("act", "size"),
    ).sort_values("events", ascending=False, kind="stable")
    shown = groups.index[: config.max_examples]  # label lists only for the examples shown
    labels = affected.loc[affected["batch"].isin(shown)].groupby("batch", sort=False)["act"].agg(
        lambda a: " | ".join(sorted(str(act_labels[i]) for i in a)))
    examples = pd.DataFrame({
        CASE: case_ids[groups["case"].to_numpy()],
        "first": pd.to_datetime(groups["first"].to_numpy(), utc=True),
        "last": pd.to_datetime(groups["last"].to_numpy(), utc=True),
        "events": groups["events"].to_numpy(),
        "activities": labels.reindex(groups.index).to_numpy(),
    })
    n_events = int(hit.sum())
    seconds = config.batch_window.total_seconds()
    return [make_finding(
        check="batch_entry_by_case", dimension="timestamps", severity="medium",
        title=f"{count_noun(n_events, 'event')} recorded within {seconds:g} s of another step of the same case "
              f"({count_noun(len(groups), 'batch', 'batches')})",
        count=n_events, case_ids=examples[CASE], examples=examples, config=config,
        recommendation="The order of these steps is unknown and their waiting times are zero by construction: "
                       "they were recorded in one save or entered afterwards. Do not read durations between them; "
                       "ask whether the stages are really used as they happen.",
        details={"batches": len(groups), "window_seconds": seconds},
    )]


@needs_times("bulk updates at one instant cannot be found without times")
def batch_entry_by_resource(log: EventLog, config: QualityConfig) -> list[Finding]:
    """Accounts that record many events of different cases at the same instant (bulk updates, imports)."""
    if RESOURCE not in log.df.columns:
        raise CheckSkipped("the log has no resource column")
    res_codes, res_names = codes(log, RESOURCE)
    case_codes, case_ids = codes(log, CASE)
    t = times(log)
    valid = np.nonzero(res_codes >= 0)[0]
    same_instant = pd.DataFrame({"r": res_codes[valid], "t": t[valid]}).duplicated(keep=False).to_numpy()
    idx = valid[same_instant]
    if len(idx) == 0:
        return []
    sub = pd.DataFrame({"r": res_codes[idx], "t": t[idx], "c": case_codes[idx]})
    agg = sub.groupby(["r", "t"], sort=False)["c"].agg(["size", "nunique"])
    hit = agg[(agg["size"] >= config.batch_resource_min_events) & (agg["nunique"] >= 2)]
    if hit.empty:
        return []
    hit = hit.sort_values("size", ascending=False, kind="stable").reset_index()
    groups = pd.DataFrame({RESOURCE: res_names[hit["r"].to_numpy()],
                           TIMESTAMP: pd.to_datetime(hit["t"].to_numpy(), utc=True),
                           "events": hit["size"].to_numpy(), "cases": hit["nunique"].to_numpy()})
    affected = sub.merge(hit[["r", "t"]], on=["r", "t"])
    n_events = int(groups["events"].sum())
    return [make_finding(
        check="batch_entry_by_resource", dimension="timestamps", severity="low",
        title=f"{count_noun(n_events, 'event')} in {count_noun(len(groups), 'bulk update')} by "
              f"{count_noun(groups[RESOURCE].nunique(), 'account')}",
        count=n_events, case_ids=case_ids[affected["c"].to_numpy()], examples=groups, config=config,
        recommendation="Bulk updates (imports, mass edits, automations) do not show when the work happened. "
                       "Exclude these events from timing analyses or check them with the account owner.",
        details={"batches": len(groups), "accounts": sorted(str(a) for a in groups[RESOURCE].unique())},
    )]


def _local_naive(log: EventLog) -> pd.Series:
    tz = log.report.timezone if log.report is not None and log.report.timezone else "UTC"
    try:
        return log.df[TIMESTAMP].dt.tz_convert(tz).dt.tz_localize(None)
    except (ValueError, KeyError):  # unknown zone name in a hand-made report: fall back to UTC
        return log.df[TIMESTAMP].dt.tz_localize(None)


@needs_times("there is no precision to measure")
def timestamp_precision(log: EventLog, config: QualityConfig) -> list[Finding]:
    """Date-only values: events at exactly midnight (in the declared time zone) among timed events.

    If every event is at midnight the whole log has day precision (high
    severity); otherwise the midnight cluster is reported when it is larger
    than minute-precision clocks would produce by chance (1 in 1,440).
    """
    local = _local_naive(log)
    midnight = (local.dt.normalize() == local).to_numpy(dtype=bool, na_value=False)
    n = int(midnight.sum())
    total = len(local)
    if n == 0 or n / total <= 1 / 1440:
        return []
    df = log.df.loc[midnight, [CASE, ACTIVITY, TIMESTAMP]]
    if n == total:
        return [make_finding(
            check="timestamp_precision", dimension="timestamps", severity="high",
            title=f"all {n:,} timestamps are dates without a time of day",
            count=n, case_ids=df[CASE], examples=df, config=config,
            recommendation="Day precision: the order of events on the same day is the file order, and "
                           "durations below a day are meaningless. Report times in days.",
            details={"share": 1.0},
        )]
    by_activity = df[ACTIVITY].value_counts()
    return [make_finding(
        check="timestamp_precision", dimension="timestamps", severity="medium",
        title=f"{count_noun(n, 'event')} ({n / total:.1%}) with a date but no time (midnight) among timed events",
        count=n, case_ids=df[CASE], examples=df, config=config,
        recommendation="Date-only values sort before every timed event of the same day, which invents an "
                       "order and distorts waiting times. Find the source field that drops the time; treat these "
                       "events as day precision.",
        details={"share": round(n / total, 6), "by_activity": {str(k): int(v) for k, v in by_activity.items()}},
    )]


@needs_times("there are no offsets to compare")
def mixed_offsets(log: EventLog, config: QualityConfig) -> list[Finding]:
    """Timestamps without a UTC offset, as the ingest counted them (:attr:`IngestReport.timestamp_offsets`).

    Offsets mixed in one column (some values with, some without) are medium
    severity: the naive ones may be hours off. A column without any offset is
    low severity: every value was read in the declared time zone, which is
    only a question of whether that declaration is right. ``count`` = values
    without an offset, over all timestamp columns.
    """
    if log.report is None:
        raise CheckSkipped("the log has no ingest report (offsets are only known at ingest)")
    columns = [t for t in log.report.timestamp_offsets if t.naive]
    if not columns:
        return []
    mixed = any(t.mixed for t in columns)
    n = sum(t.naive for t in columns)
    examples = pd.DataFrame({"column": [t.column for t in columns],
                             "values with offset": [t.with_offset for t in columns],
                             "values without offset": [t.naive for t in columns]})
    tz = log.report.timezone
    if mixed:
        title = f"timestamps with and without a UTC offset are mixed; {n:,} without were read as {tz}"
    else:
        title = f"{n:,} timestamps have no UTC offset and were read as {tz}"
    return [make_finding(
        check="mixed_offsets", dimension="timestamps", severity="medium" if mixed else "low",
        title=title, count=n, case_ids=[], examples=examples, config=config,
        recommendation=f"Values without an offset were read as {tz}. If they were written in another zone "
                       "(the exporting user's), re-read with --timezone or apply the shift_timezone fix.",
        details={"assumed_timezone": tz, "mixed": mixed,
                 "columns": {t.column: {"with_offset": t.with_offset, "naive": t.naive} for t in columns}},
    )]


@needs_times("no event can be dated")
def future_events(log: EventLog, config: QualityConfig) -> list[Finding]:
    """Events later than the reference "now" (``config.now``, default the audit time) plus a tolerance."""
    now = config.reference_now()
    limit = now + config.future_tolerance
    mask = log.df[TIMESTAMP] > limit
    n = int(mask.sum())
    if n == 0:
        return []
    df = log.df.loc[mask, [CASE, ACTIVITY, TIMESTAMP]].sort_values(TIMESTAMP, ascending=False, kind="stable")
    return [make_finding(
        check="future_events", dimension="timestamps", severity="high",
        title=f"{count_noun(n, 'event')} later than {now.isoformat()} (the reference time)",
        count=n, case_ids=df[CASE], examples=df, config=config,
        recommendation="Future dates are typos (2042 for 2024), planned dates stored as event dates, or a "
                       "wrong time zone. Correct them at the source or exclude these cases.",
        details={"reference_now": now.isoformat()},
    )]


@needs_times("no event can be dated")
def implausible_past_events(log: EventLog, config: QualityConfig) -> list[Finding]:
    """Events before ``config.earliest_plausible`` (1900-01-01, 1970-01-01 and other default values)."""
    mask = log.df[TIMESTAMP] < config.earliest_plausible
    n = int(mask.sum())
    if n == 0:
        return []
    df = log.df.loc[mask, [CASE, ACTIVITY, TIMESTAMP]]
    return [make_finding(
        check="implausible_past_events", dimension="timestamps", severity="high",
        title=f"{count_noun(n, 'event')} dated before {config.earliest_plausible.date()}",
        count=n, case_ids=df[CASE], examples=df, config=config,
        recommendation="Such dates are placeholders for an empty field (epoch 1970-01-01, 1900-01-01). "
                       "Treat them as missing and exclude the cases from timing analyses.",
        details={"values": {str(k): int(v) for k, v in df[TIMESTAMP].value_counts().head(10).items()}},
    )]


_CREATED_NAME = re.compile(r"creat", re.IGNORECASE)


def _as_utc_times(values: pd.Series, timezone: str) -> pd.Series | None:
    """A case attribute as UTC timestamps: already timestamps, or ISO text with >= 95% parseable values."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values
    if not (values.dtype == object or isinstance(values.dtype, pd.StringDtype)):
        return None
    text = values.astype("string")
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=False)
    if parsed.notna().sum() < 0.95 * text.notna().sum() or parsed.notna().sum() == 0:
        return None
    if not isinstance(parsed.dtype, pd.DatetimeTZDtype):  # naive: the declared zone, as ingest reads them
        parsed = parsed.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="shift_forward")
    return parsed.dt.tz_convert("UTC")


def _creation_times(log: EventLog, config: QualityConfig) -> tuple[pd.Series, str]:
    """Creation time per case (indexed by case id) and where it came from."""
    df = log.df
    tz = log.report.timezone if log.report is not None and log.report.timezone else "UTC"
    columns = [config.creation_column] if config.creation_column is not None else [
        c for c in df.columns if c.startswith("case:") and _CREATED_NAME.search(c)]
    for column in columns:
        if column not in df.columns:
            raise CheckSkipped(f"creation column {column!r} is not in the log")
        first = df.groupby(CASE, observed=True, sort=False)[column].first()
        try:
            parsed = _as_utc_times(first, tz)
        except (ValueError, TypeError):  # mixed offsets / odd text: not usable as a creation time
            parsed = None
        if parsed is not None:
            return parsed, f"case attribute {column!r}"
        if config.creation_column is not None:
            raise CheckSkipped(f"creation column {column!r} does not hold timestamps")
    if config.creation_activity is not None:
        created = df.loc[df[ACTIVITY] == config.creation_activity]
        return (created.groupby(CASE, observed=True, sort=False)[TIMESTAMP].min(),
                f"activity {config.creation_activity!r}")
    raise CheckSkipped("no creation time: the log has no 'case:created' timestamp attribute and no "
                       "creation_activity was given")


@needs_times("no event can be dated")
def events_before_creation(log: EventLog, config: QualityConfig) -> list[Finding]:
    """Events (or event starts) earlier than the creation of their case."""
    created, source = _creation_times(log, config)
    df = log.df
    creation = df[CASE].map(created)
    earliest = df[TIMESTAMP]
    if START_TIMESTAMP in df.columns:
        earliest = df[START_TIMESTAMP].where(df[START_TIMESTAMP].notna(), df[TIMESTAMP])
        earliest = earliest.where(earliest < df[TIMESTAMP], df[TIMESTAMP])
    mask = (earliest < creation).fillna(False).astype(bool)
    n = int(mask.sum())
    if n == 0:
        return []
    out = df.loc[mask, [CASE, ACTIVITY, TIMESTAMP]].assign(created=creation[mask])
    out["before_by"] = (out["created"] - earliest[mask]).astype(str)
    return [make_finding(
        check="events_before_creation", dimension="timestamps", severity="high",
        title=f"{count_noun(n, 'event')} before their case was created ({source})",
        count=n, case_ids=out[CASE], examples=out, config=config,
        recommendation="Either the creation time is wrong (record migrated or re-created) or these events carry "
                       "the wrong date. Check the cases at the source before measuring lead times.",
        details={"creation_source": source},
    )]


@needs_times("durations cannot be measured")
def impossible_durations(log: EventLog, config: QualityConfig) -> list[Finding]:
    """Events that end before they start, and cases longer than ``config.max_case_duration``."""
    df = log.df
    findings: list[Finding] = []
    if START_TIMESTAMP in df.columns:
        neg = (df[START_TIMESTAMP] > df[TIMESTAMP]).fillna(False).astype(bool)
        n = int(neg.sum())
        if n:
            out = df.loc[neg, [CASE, ACTIVITY, START_TIMESTAMP, TIMESTAMP]]
            findings.append(make_finding(
                check="impossible_durations", dimension="timestamps", severity="high",
                title=f"{count_noun(n, 'event')} ending before they start",
                count=n, case_ids=out[CASE], examples=out, config=config,
                recommendation="Start and end columns are swapped or one of them is wrong; "
                               "processing times of these events are negative.",
                details={"kind": "negative event duration"},
            ))
    duration = case_durations(log)
    long = duration[duration > config.max_case_duration]
    if not long.empty:
        out = long.rename("duration").sort_values(ascending=False).reset_index()
        out["duration"] = out["duration"].astype(str)
        findings.append(make_finding(
            check="impossible_durations", dimension="timestamps", severity="high",
            title=f"{count_noun(len(long), 'case')} longer than {config.max_case_duration.days:,} days",
            count=len(long), case_ids=out[CASE], examples=out, config=config,
            recommendation="A case that long is a reused case id or a placeholder date; "
                           "split or exclude it before measuring lead times.",
            details={"kind": "case too long"},
        ))
    return findings


CHECKS = (
    batch_entry_by_case,
    batch_entry_by_resource,
    timestamp_precision,
    mixed_offsets,
    future_events,
    implausible_past_events,
    events_before_creation,
    impossible_durations,
)
