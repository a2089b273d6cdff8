"""Collect the analyses of one log into an audit report: sections, findings, evidence tables, provenance.

:func:`build_report` calls the library analyses (quality audit, process map,
variants, bottleneck ranking, SLA breaches, stuck cases, conformance, funnel,
KPIs, drivers, trends) exactly as the CLI commands do, turns what they found
into :class:`~processmining.report.findings.Finding` records, and keeps every
table they came from as the evidence annex. Nothing here is language specific:
:func:`processmining.report.html.render_html` renders the result in a language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..model import (
    START_TIMESTAMP,
    EventLog,
    ProgressFn,
    Provenance,
    log_provenance,
    no_progress,
)
from ..performance.calendar import BusinessCalendar
from .findings import Finding, finding_cases, finding_items, number
from .sections import (
    Context,
    _add_drivers,
    _lifecycle_other,
    _trend,
    amount_column,
    conformance_section,
    funnel_section,
    process_section,
    quality_section,
    sla_section,
    stuck_section,
    time_section,
)

SECTIONS = ("scope", "overview", "process", "time", "sla", "stuck", "conformance", "rules", "people", "funnel",
            "trend", "quality", "provenance")


@dataclass
class AuditReport:
    """Everything the report shows; ``tables`` is the evidence annex (sheet name -> table)."""

    log_name: str
    facts: dict[str, Any]
    findings: list[Finding]
    tables: dict[str, pd.DataFrame]
    figures: dict[str, str]
    provenance: Provenance
    quality: Any = None
    conformance: dict[str, Any] | None = None
    evidence_name: str = "audit_evidence.xlsx"
    sections: tuple[str, ...] = field(default=SECTIONS)


def _pseudonymize_log(log: EventLog, key: str) -> tuple[EventLog, dict[str, list[str]]]:
    """The log with case ids, resources and every column that names people replaced by keyed hashes (the
    same person gets the same ``res-`` pseudonym everywhere) and its free-text columns left out
    (:func:`processmining.pseudonyms.column_policy`); and which columns were hashed and left out."""
    from ..pseudonyms import Pseudonymizer

    p = Pseudonymizer.from_log(log, key=key)
    history = tuple(p.text(h) for h in log.history)  # earlier steps (filters) may quote names
    out = EventLog.from_frame(p.log_frame(log.df), report=log.report, name=log.name, history=history)
    return out, {"hashed": list(p.hashed), "dropped": list(p.dropped), "note": p.note()}


def build_report(
    log: EventLog,
    *,
    model: Any = None,
    rules: Any = None,
    roles: Mapping[str, str] | None = None,
    accepted: Any = None,
    slas: Sequence[str] = (),
    preset: str | None = None,
    stages: Sequence[str] | None = None,
    lost: str | None = None,
    idle: str | None = None,
    end_activities: Sequence[str] | None = None,
    calendar: BusinessCalendar | None = None,
    kpi_overrides: Mapping[str, Any] | None = None,
    pseudonymize: str | None = None,
    inputs: Mapping[str, tuple[str, str]] | None = None,
    parameters: Mapping[str, Any] | None = None,
    evidence_name: str = "audit_evidence.xlsx",
    conformance_timeout: float = 10.0,
    processes: int | None = 1,
    progress: ProgressFn = no_progress,
) -> AuditReport:
    """Run every analysis the report needs and collect findings and evidence.

    ``slas`` default to the preset's SLA targets (``analysis_defaults``);
    stage order, lost / end activities and the idle limit come from the preset
    too, unless given (``stages``, ``lost``, ``idle``, ``end_activities``). ``pseudonymize`` replaces case ids and resources by keyed hashes
    before anything is computed, so the whole report and annex carry only
    pseudonyms (counts and times are unchanged).
    """
    from ..ingest.presets import analysis_defaults

    preset = preset or (log.report.preset if log.report else None)
    defaults = analysis_defaults(preset)
    if not slas and defaults.get("slas"):
        slas = [s for s in str(defaults["slas"]).splitlines() if s.strip()]
    ends = list(end_activities or defaults.get("ends") or []) or None
    lost = lost or defaults.get("lost")
    idle = str(idle or defaults.get("idle") or "30d")
    stages = list(stages or defaults.get("stages") or [])
    pseudonym_note = None
    if pseudonymize:
        log, pseudonym_note = _pseudonymize_log(log, pseudonymize)
        if roles:
            from ..export import pseudonym

            roles = {pseudonym(str(k), pseudonymize, prefix="res-"): v for k, v in roles.items()}
    steps = 9
    progress(0, steps, "data quality")
    ctx = Context(log=log, facts=_scope_facts(log, preset=preset, slas=slas, calendar=calendar,
                                              pseudonym_note=pseudonym_note), ends=ends, calendar=calendar)
    q = quality_section(ctx)
    progress(1, steps, "process map")
    pm = process_section(ctx)
    progress(2, steps, "bottlenecks")
    time_section(ctx, pm, stages=stages, ignore=defaults.get("ping_pong_ignore") or ())
    progress(3, steps, "SLA and KPIs")
    valid_slas, settings = sla_section(ctx, slas, preset=preset, kpi_overrides=kpi_overrides)
    progress(4, steps, "stuck cases")
    stuck_section(ctx, idle)
    progress(5, steps, "conformance")
    conf, deviating = conformance_section(ctx, model, rules=rules, roles=roles, accepted=accepted,
                                          timeout=conformance_timeout, processes=processes)
    progress(6, steps, "funnel")
    funnel_section(ctx, stages, lost)
    progress(7, steps, "drivers")  # for every finding with a bad-case set
    _add_drivers(log, ctx.findings, ends=ends, sla_log=ctx.sla_log)
    progress(8, steps, "trends")
    _trend(log, ctx.facts, ctx.figures, ctx.tables, slas=valid_slas, deviating=deviating, ends=ends,
           settings=settings, sla_log=ctx.sla_log, calendar=calendar)
    _finish(ctx)
    params = {**(parameters or {}), "slas": list(valid_slas), "preset": preset, "idle": idle,
              "pseudonymized": bool(pseudonymize), "calendar": calendar.describe() if calendar else None}
    if pseudonym_note:
        params["pseudonymization"] = pseudonym_note["note"]
    prov = log_provenance(log, params, inputs=inputs)
    progress(steps, steps, "done")
    return AuditReport(log_name=log.name, facts=ctx.facts, findings=ctx.findings, tables=ctx.tables,
                       figures=ctx.figures, provenance=prov, quality=q, conformance=conf.summary if conf else None,
                       evidence_name=evidence_name)


def _scope_facts(log: EventLog, *, preset: str | None, slas: Sequence[str], calendar: BusinessCalendar | None,
                 pseudonym_note: Mapping[str, Any] | None) -> dict[str, Any]:
    """Scope and data: source, period, sizes, the ingest in brief, the settings the report ran with."""
    n = log.n_cases
    span = log.time_span
    rep = log.report
    facts: dict[str, Any] = {
        "cases": n, "events": log.n_events, "activities": len(set(log.df["concept:name"].unique().tolist())),
        "start": span[0] if span else None,
        "end": span[1] if span else None, "preset": preset, "has_start_times": log.has_start_times,
        "events_with_start": int(log.df[START_TIMESTAMP].notna().sum()) if log.has_start_times else 0,
        "source": rep.source if rep else log.name, "sha256": rep.sha256 if rep else "",
        "rows_read": rep.rows_read if rep else log.n_events, "rows_quarantined": len(rep.quarantined) if rep else 0,
        "rows_collapsed": rep.collapsed_duplicates if rep else 0,
        "rows_filtered": sum(rep.filtered.values()) if rep else 0,
        "history": list(log.history), "slas": list(slas), "calendar": calendar.describe() if calendar else None,
        "calendar_name": calendar.name if calendar else None, "pseudonymized": pseudonym_note,
    }
    facts["lifecycle_other"] = _lifecycle_other(log)
    # an order-only log: the parts that need no times are complete, each time-based section says what is missing
    facts["has_timestamps"] = log.has_timestamps
    return facts


def _finish(ctx: Context) -> None:
    """Findings in report order (section, severity, size), numbered F01...; the findings, their cases and
    items, and their drivers as annex sheets."""
    order = {s: i for i, s in enumerate(SECTIONS)}
    sev = {"high": 0, "medium": 1, "low": 2}
    findings = ctx.findings
    findings.sort(key=lambda f: (order[f.section], sev[f.severity], -f.cases))
    number(findings)
    ctx.tables["findings"] = pd.DataFrame([f.record() for f in findings])
    ctx.tables["finding_cases"] = finding_cases(findings)
    ctx.tables["finding_items"] = finding_items(findings)
    frames = [f.drivers.assign(finding=f.id) for f in findings if f.drivers is not None and len(f.drivers)]
    ctx.tables["drivers"] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["attribute", "value", "cases", "group_cases", "lift", "finding"])


__all__ = ["SECTIONS", "AuditReport", "amount_column", "build_report"]
