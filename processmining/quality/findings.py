"""Types of the data-quality audit: the configuration, one finding, the report.

A :class:`Finding` is what one check saw: how many events / labels / cases /
accounts are affected (``count``, whose unit the title names), which cases
(``case_ids``, complete; ``cases_affected`` is its size), a capped table of
examples, and what to do about it. A :class:`QualityReport` bundles the
findings of one audit with a score per dimension and the share of cases hit
by at least one finding.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

Severity = Literal["low", "medium", "high"]

#: a check: ``check(log, config) -> list[Finding]``
CheckFn = Callable[..., list[Any]]

#: the dimensions a score is computed for, in report order
DIMENSIONS = ("timestamps", "labels", "events", "cases", "resources", "attributes")

#: how much one affected case costs its dimension's score, by the worst severity that hit it
SEVERITY_WEIGHT: Mapping[str, float] = {"low": 0.2, "medium": 0.5, "high": 1.0}

#: resource names that look like system, integration or bot accounts (matched case-insensitively)
DEFAULT_SYSTEM_ACCOUNT_PATTERN = (
    r"\b(?:bot|robot|automation|automated|system|integration|api|admin|workflow|script|scheduler|"
    r"cron|batch|sync|service ?account|no-?reply|do-?not-?reply|migration|import|etl|zapier|"
    r"workato|mulesoft|jira|salesforce|hubspot|zendesk|servicenow)\b"
)


@dataclass(frozen=True)
class QualityConfig:
    """Thresholds of the audit. Every field has a documented default; pass only what you change.

    Time reference: ``now`` is the moment an event must not be later than. By
    default it is the wall-clock time of the audit (UTC), because the export
    time is unknown for most files and the log's own maximum would make the
    check vacuous (nothing is later than the latest event). Pass the export
    time when you know it (e.g. the file's download date) to catch events
    stamped between the export and today as well. Staleness of open cases is
    measured against the log's last event (the effective export time), never
    against the wall clock, so that an old export does not make every open
    case look stale; when ``now`` is given it is taken as the export time for
    staleness too.
    """

    #: events later than this are "in the future" (default: wall-clock UTC at audit time)
    now: pd.Timestamp | None = None
    #: tolerance for clock skew and time-zone mistakes before an event counts as future
    future_tolerance: pd.Timedelta = pd.Timedelta(days=1)
    #: events before this date are implausible (default values such as 1900-01-01 or 1970-01-01)
    earliest_plausible: pd.Timestamp = pd.Timestamp("1990-01-01", tz="UTC")
    #: a case with at least this many distinct events recorded within ``batch_window`` was entered in a batch
    batch_case_min_events: int = 2
    #: consecutive events of a case closer than this count as one save (sub-second clock differences)
    batch_window: pd.Timedelta = pd.Timedelta(seconds=1)
    #: an account recording at least this many events of different cases at one instant
    batch_resource_min_events: int = 5
    #: case durations above this are impossible for CRM/ticket processes
    max_case_duration: pd.Timedelta = pd.Timedelta(days=3650)
    #: fuzzy similarity (0-1, Levenshtein ratio) above which a rarer label is a misspelling of a frequent one
    label_similarity: float = 0.9
    #: a misspelling must be at most this share as frequent as the label it resembles
    label_rare_ratio: float = 0.2
    #: labels shorter than this (after normalising) are never fuzzily matched ("Open" vs "Opened")
    label_min_length: int = 5
    #: more distinct activities than this make the log's activity set high-cardinality
    max_activities: int = 200
    #: same case and activity within this time (but not the same instant) is a near-duplicate
    near_duplicate_window: pd.Timedelta = pd.Timedelta(seconds=60)
    #: start / end activities; ``None`` means inferred (see :func:`infer_boundary_activities`)
    start_activities: tuple[str, ...] | None = None
    end_activities: tuple[str, ...] | None = None
    #: an activity is inferred as start (end) when it is first (last) in more than this share of
    #: the cases that contain it, and first (last) in at least ``boundary_min_cases`` share of all cases
    #: (the defaults of :mod:`processmining.status`: one notion of finished)
    boundary_share: float = 0.5
    boundary_min_cases: float = 0.01
    #: ... and only when the inferred activities begin (end) at least this share of all cases
    boundary_min_coverage: float = 0.5
    #: activity that creates a case (e.g. "Open"); its time is the case's creation time
    creation_activity: str | None = None
    #: case attribute with the case's creation time; ``None`` = auto-detect a datetime column
    #: named like "case:created..." / "case:Create Date"
    creation_column: str | None = None
    #: cases longer than ``long_case_factor`` x the ``long_case_quantile`` of case durations
    long_case_quantile: float = 0.95
    long_case_factor: float = 2.0
    #: open cases (no end activity) without an event for this long before the log's last event;
    #: ``None``: the idle limit of the log's preset (the one the stuck cases use), else 60 days
    stale_after: pd.Timedelta | None = None
    #: an account silent for this long that acts again (a departed employee's account?)
    silence: pd.Timedelta = pd.Timedelta(days=90)
    #: regular expression for system / bot accounts
    system_account_pattern: str = DEFAULT_SYSTEM_ACCOUNT_PATTERN
    #: one account doing at least this share of an activity's events is a single point of dependency
    concentration_share: float = 0.5
    #: ... for activities with at least this many events and at least this many accounts in the log
    concentration_min_events: int = 20
    concentration_min_resources: int = 3
    #: restrict the concentration check to these activities (e.g. approvals); ``None`` = all
    critical_activities: tuple[str, ...] | None = None
    #: rows kept in each finding's ``examples`` table
    max_examples: int = 20

    def reference_now(self) -> pd.Timestamp:
        """The instant after which events are "in the future" (see the class docstring)."""
        if self.now is None:
            return pd.Timestamp(dt.datetime.now(dt.UTC))
        now = pd.Timestamp(self.now)
        return now.tz_localize("UTC") if now.tzinfo is None else now.tz_convert("UTC")

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class Finding:
    """One data-quality problem found by one check.

    ``count`` is the number of affected units named in ``title`` (events,
    labels, cases, accounts or attributes); ``case_ids`` lists every affected
    case (``cases_affected == len(case_ids)``); ``examples`` shows at most
    ``QualityConfig.max_examples`` affected rows; ``details`` holds
    machine-readable extras (e.g. the label ``mapping`` a fix applies).
    """

    check: str
    dimension: str
    severity: Severity
    title: str
    count: int
    cases_affected: int
    examples: pd.DataFrame
    recommendation: str
    case_ids: frozenset[str] = frozenset()
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "dimension": self.dimension,
            "severity": self.severity,
            "title": self.title,
            "count": int(self.count),
            "cases_affected": int(self.cases_affected),
            "recommendation": self.recommendation,
            "examples": frame_records(self.examples),
            "details": _jsonable(dict(self.details)),
        }


def count_noun(n: int, singular: str, plural: str | None = None) -> str:
    """``count_noun(1, "event")`` -> ``'1 event'``; ``count_noun(1200, "batch", "batches")`` -> ``'1,200 batches'``."""
    return f"{n:,} {singular if n == 1 else (plural or singular + 's')}"


def make_finding(
    *,
    check: str,
    dimension: str,
    severity: Severity,
    title: str,
    count: int,
    case_ids: Any,
    examples: pd.DataFrame,
    recommendation: str,
    config: QualityConfig,
    details: Mapping[str, Any] | None = None,
) -> Finding:
    """Build a :class:`Finding`: deduplicates ``case_ids`` and caps ``examples``."""
    if isinstance(case_ids, (pd.Series, pd.Index)):
        values = case_ids.to_numpy(dtype=object)
    else:
        values = np.asarray(list(case_ids), dtype=object)
    ids = frozenset(map(str, pd.unique(values)))
    return Finding(
        check=check,
        dimension=dimension,
        severity=severity,
        title=title,
        count=int(count),
        cases_affected=len(ids),
        examples=examples.head(config.max_examples).reset_index(drop=True),
        recommendation=recommendation,
        case_ids=ids,
        details=dict(details or {}),
    )


@dataclass(frozen=True)
class QualityReport:
    """The result of :func:`processmining.quality.audit`.

    ``scores`` maps each dimension to 0-100 (100 = nothing found; see
    :func:`processmining.quality.audit` for the formula); ``cases_affected_share``
    is the share (0-1) of cases hit by at least one finding; ``skipped`` names
    the checks that could not run on this log and why.
    """

    findings: tuple[Finding, ...]
    scores: Mapping[str, float]
    cases_affected_share: float
    summary: Mapping[str, Any]
    skipped: Mapping[str, str] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)
    source: str = "log"
    #: share of cases hit by a finding of at least this severity: {"high": .., "medium": .., "low": ..}
    cases_affected_by_severity: Mapping[str, float] = field(default_factory=dict)

    @property
    def overall_score(self) -> float:
        """Mean of the dimension scores."""
        return round(sum(self.scores.values()) / len(self.scores), 1) if self.scores else 100.0

    def by_check(self, check: str) -> list[Finding]:
        """The findings of one check (usually zero or one)."""
        return [f for f in self.findings if f.check == check]

    def case_table(self) -> pd.DataFrame:
        """Every (finding, affected case) pair: columns check, dimension, severity, title, case id.

        The complete list behind ``cases_affected`` (the examples are capped), e.g.
        for an auditor's spreadsheet or to filter the log.
        """
        parts = [pd.DataFrame({"check": f.check, "dimension": f.dimension, "severity": f.severity,
                               "title": f.title, "case:concept:name": sorted(f.case_ids)})
                 for f in self.findings if f.case_ids]
        if not parts:
            return pd.DataFrame(columns=["check", "dimension", "severity", "title", "case:concept:name"])
        return pd.concat(parts, ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "summary": _jsonable(dict(self.summary)),
            "overall_score": self.overall_score,
            "scores": {k: float(v) for k, v in self.scores.items()},
            "cases_affected_share": float(self.cases_affected_share),
            "cases_affected_by_severity": {k: float(v) for k, v in self.cases_affected_by_severity.items()},
            "findings": [f.to_dict() for f in self.findings],
            "skipped": dict(self.skipped),
            "config": dict(self.config),
        }

    def to_json(self, *, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def pseudonymized(self, pseudonymizer: Any) -> QualityReport:
        """The same report with every case id and resource name (titles, examples, details) replaced.

        ``pseudonymizer`` is a :class:`processmining.pseudonyms.Pseudonymizer`
        (e.g. ``Pseudonymizer.from_log(log, key=...)``); JSON, HTML and text
        output of the copy then name nobody.
        """
        p = pseudonymizer
        findings = tuple(dataclasses.replace(
            f, title=p.text(f.title), recommendation=p.text(f.recommendation), examples=p.frame(f.examples),
            case_ids=frozenset(p.text(c) for c in f.case_ids), details=p.mapping(dict(f.details)))
            for f in self.findings)
        summary = {**p.mapping(dict(self.summary)), "pseudonymization": p.note()}  # which columns, what left out
        return dataclasses.replace(self, findings=findings, summary=summary)

    def to_html(self) -> str:
        """A self-contained HTML page: a summary table, then one section per finding."""
        from .html import report_html

        return report_html(self)

    def to_text(self) -> str:
        """A few lines for a terminal."""
        lines = [
            f"{self.source}: {self.summary.get('events', 0):,} events, {self.summary.get('cases', 0):,} cases; "
            f"overall score {self.overall_score:.1f}/100; "
            f"{self.cases_affected_share:.1%} of cases affected by at least one finding "
            f"({self.cases_affected_by_severity.get('medium', 0.0):.1%} by a medium or high one)",
            "  scores: " + ", ".join(f"{k} {v:.1f}" for k, v in self.scores.items()),
        ]
        for f in self.findings:
            lines.append(f"  [{f.severity}] {f.check}: {f.title} ({count_noun(f.cases_affected, 'case')})")
        for check, reason in self.skipped.items():
            lines.append(f"  skipped {check}: {reason}")
        return "\n".join(lines)


# ------------------------------------------------------------ JSON helpers
def _jsonable(value: Any) -> Any:
    """Plain JSON types for config values, details and example cells."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, (pd.Timedelta, dt.timedelta)):
        return str(pd.Timedelta(value))
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [_jsonable(v) for v in items]
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    return str(value)


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of an examples table as JSON-ready dicts (timestamps as ISO text, missing as null)."""
    out = []
    for row in frame.astype(object).itertuples(index=False, name=None):  # capped table, not a hot path
        out.append({str(c): _jsonable(v) for c, v in zip(frame.columns, row, strict=True)})
    return out


class CheckSkipped(Exception):  # noqa: N818 - a signal, not an error
    """Raised by a check that cannot run on this log; :func:`audit` records the reason in ``skipped``."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def needs_times(why: str) -> Callable[[CheckFn], CheckFn]:
    """Mark a check that rests on timestamps: on an order-only log it is skipped with ``why``, never run.

    Without times every event "happens" at NaT, so equal-time tests (batch
    entry, same-instant duplicates) would hit every event; the check must
    say that it needs times and report nothing.
    """
    def mark(check: CheckFn) -> CheckFn:
        @functools.wraps(check)
        def run(log: Any, config: QualityConfig) -> list[Finding]:
            if not log.has_timestamps:
                raise CheckSkipped(f"the log has no timestamps: {why}")
            return check(log, config)
        run.needs_times = True  # type: ignore[attr-defined]
        return run
    return mark
