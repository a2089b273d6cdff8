"""Run every check on a log and summarise: :func:`audit`."""

from __future__ import annotations

import numpy as np

from ..model import ACTIVITY, CASE, RESOURCE, TIMESTAMP, EventLog, ProgressFn, no_progress
from . import attributes, cases, events, labels, resources, timestamps
from .attributes import completeness_table
from .codes import codes
from .findings import (
    DIMENSIONS,
    SEVERITY_WEIGHT,
    CheckSkipped,
    Finding,
    QualityConfig,
    QualityReport,
)

#: every check, in report order; each is ``check(log, config) -> list[Finding]``
CHECKS = (
    *timestamps.CHECKS,
    *labels.CHECKS,
    *events.CHECKS,
    *cases.CHECKS,
    *resources.CHECKS,
    *attributes.CHECKS,
)


def audit(
    log: EventLog,
    *,
    config: QualityConfig | None = None,
    checks: tuple = CHECKS,
    progress: ProgressFn = no_progress,
) -> QualityReport:
    """Audit an event log's data quality: every check, a score per dimension, the share of affected cases.

    Scores (0-100, 100 = nothing found): for the dimensions timestamps,
    labels, events, cases and resources, every case hit by a finding of that
    dimension costs ``SEVERITY_WEIGHT`` of its worst finding (high 1, medium
    0.5, low 0.2), so ``score = 100 * (1 - sum(weights) / cases)``. Findings
    that name no cases (mixed offsets from the ingest report, single points
    of dependency) are listed but do not move a score. The attributes score
    is the mean completeness of all attributes x 100.
    ``cases_affected_share`` is the share of cases hit by at least one finding;
    ``cases_affected_by_severity["medium"]`` the share hit by a medium or high one.

    A check that cannot run on this log (no resource column, no creation
    time, ...) is listed in ``report.skipped`` with the reason.

    >>> report = audit(log, config=QualityConfig(now=pd.Timestamp("2024-12-31", tz="UTC")))  # doctest: +SKIP
    >>> report.scores["labels"], [f.check for f in report.findings]  # doctest: +SKIP
    (99.2, ['batch_entry_by_case', 'synonymous_labels', 'duplicate_events'])
    """
    config = config or QualityConfig()
    findings: list[Finding] = []
    skipped: dict[str, str] = {}
    total = len(checks)
    for i, check in enumerate(checks):
        progress(i, total, f"quality: {check.__name__}")
        if log.df.empty:
            skipped[check.__name__] = "the log has no events"
            continue
        try:
            findings.extend(check(log, config))
        except CheckSkipped as exc:
            skipped[check.__name__] = exc.reason
    progress(total, total, "quality: done")
    n_cases = log.n_cases
    hit: dict[str, set[str]] = {"high": set(), "medium": set(), "low": set()}
    for f in findings:
        for level in ("high", "medium", "low")[("high", "medium", "low").index(f.severity):]:
            hit[level] |= f.case_ids
    all_cases = hit["low"]
    return QualityReport(
        findings=tuple(findings),
        scores=dimension_scores(findings, log=log),
        cases_affected_share=round(len(all_cases) / n_cases, 6) if n_cases else 0.0,
        summary=log_summary(log, config=config),
        skipped=skipped,
        config=config.to_dict(),
        source=log.name,
        cases_affected_by_severity={k: round(len(v) / n_cases, 6) if n_cases else 0.0 for k, v in hit.items()},
    )


def dimension_scores(findings: list[Finding] | tuple[Finding, ...], *, log: EventLog) -> dict[str, float]:
    """Score per dimension (0-100); see :func:`audit` for the formula. An order-only log has no timestamps score."""
    n_cases = log.n_cases
    scores: dict[str, float] = {}
    for dim in DIMENSIONS:
        if dim == "timestamps" and not log.has_timestamps:
            continue  # an order-only log has no times to score: no score rather than a clean 100
        if dim == "attributes":
            table = completeness_table(log)
            scores[dim] = round(100 * float(table["completeness"].mean()), 1) if not table.empty else 100.0
            continue
        worst: dict[str, float] = {}
        for f in findings:
            if f.dimension != dim:
                continue
            w = SEVERITY_WEIGHT[f.severity]
            for c in f.case_ids:
                if worst.get(c, 0.0) < w:
                    worst[c] = w
        penalty = sum(worst.values())
        scores[dim] = round(100 * (1 - penalty / n_cases), 1) if n_cases else 100.0
    return scores


def timestamp_precision_counts(log: EventLog) -> dict[str, int]:
    """How many timestamps are exact to the day, minute, second, or finer (in the declared time zone)."""
    tz = log.report.timezone if log.report is not None and log.report.timezone else "UTC"
    try:
        local = log.df[TIMESTAMP].dt.tz_convert(tz).dt.tz_localize(None)
    except (ValueError, KeyError):
        local = log.df[TIMESTAMP].dt.tz_localize(None)
    day = (local.dt.normalize() == local).to_numpy(dtype=bool, na_value=False)
    on_minute = (local.dt.floor("min") == local).to_numpy(dtype=bool, na_value=False)
    on_second = (local.dt.floor("s") == local).to_numpy(dtype=bool, na_value=False)
    minute = on_minute & ~day
    second = on_second & ~on_minute
    return {"day": int(day.sum()), "minute": int(minute.sum()), "second": int(second.sum()),
            "sub-second": int((~(day | minute | second)).sum())}


def log_summary(log: EventLog, *, config: QualityConfig) -> dict[str, object]:
    """Sizes, time span, timestamp precision and boundary activities of the log, for the report header."""
    df = log.df
    span = log.time_span
    starts, ends = cases.infer_boundary_activities(log, config=config) if not df.empty else ((), ())
    sizes = np.bincount(codes(log, CASE)[0]) if not df.empty else np.zeros(0, dtype=np.int64)
    summary: dict[str, object] = {
        "events": log.n_events,
        "cases": log.n_cases,
        "activities": int(df[ACTIVITY].nunique()),
        "resources": int(df[RESOURCE].nunique()) if RESOURCE in df.columns else None,
        "first_event": span[0].isoformat() if span else None,
        "last_event": span[1].isoformat() if span else None,
        "events_per_case_median": float(np.median(sizes)) if len(sizes) else 0.0,
        "timestamp_precision": timestamp_precision_counts(log) if not df.empty else {},
        "start_activities": list(starts),
        "end_activities": list(ends),
        "reference_now": config.reference_now().isoformat(),
        "history": list(log.history),
    }
    if log.report is not None:
        summary["ingest"] = {
            "source": log.report.source, "sha256": log.report.sha256, "rows_read": log.report.rows_read,
            "quarantined": len(log.report.quarantined), "timezone": log.report.timezone,
        }
    return summary
