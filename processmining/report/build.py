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
    CASE,
    RESOURCE,
    START_TIMESTAMP,
    EventLog,
    ProgressFn,
    Provenance,
    log_provenance,
    no_progress,
)
from ..performance.calendar import BusinessCalendar
from .findings import DRIVER_TARGET, Finding, by_share, finding_cases, finding_items, number, time_severity

SECTIONS = ("scope", "overview", "process", "time", "sla", "stuck", "conformance", "rules", "people", "funnel",
            "trend", "quality", "provenance")
#: the columns of the bottleneck ranking (an empty ranking for a log without timestamps)
RANKING_COLUMNS = ["kind", "name", "source", "target", "frequency", "cases", "total_s", "share", "mean_s", "median_s"]
#: quality checks reported as people risks (the rest under data quality)
PEOPLE_CHECKS = {"resource_concentration": "people_spof", "returning_accounts": "people_left",
                 "system_accounts": "people_bots", "batch_entry_by_resource": "people_batch"}
RULE_TYPES = {"segregation_of_duties": "sod", "four_eyes": "four_eyes", "role": "role"}


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
    from ..discovery import default_sliders, process_map, simplify, variants
    from ..ingest.presets import analysis_defaults
    from ..performance import bottleneck_ranking, lost_cases, stuck_cases
    from ..quality import audit
    from ..render import render_map
    from .kpis import kpi_settings, kpi_table

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
    n = log.n_cases
    acts = set(log.df["concept:name"].unique().tolist())
    findings: list[Finding] = []
    tables: dict[str, pd.DataFrame] = {}
    figures: dict[str, str] = {}
    span = log.time_span
    rep = log.report
    facts: dict[str, Any] = {
        "cases": n, "events": log.n_events, "activities": len(acts), "start": span[0] if span else None,
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
    timed = facts["has_timestamps"] = log.has_timestamps

    # ---- data quality
    q = audit(log)
    facts["quality_score"] = q.overall_score
    facts["quality_scores"] = dict(q.scores)
    facts["quality_affected"] = q.cases_affected_share
    tables["quality"] = pd.DataFrame([{"check": f.check, "dimension": f.dimension, "severity": f.severity,
                                       "count": f.count, "cases": f.cases_affected, "title": f.title}
                                      for f in q.findings], columns=["check", "dimension", "severity", "count",
                                                                     "cases", "title"])
    for f in q.findings:
        ftype = PEOPLE_CHECKS.get(f.check)
        ids = sorted(f.case_ids)
        unit = ("unit", _count_unit(f.check, f.details))
        label = ("check", _check_label(f.check, f.details))
        finding = Finding(type=ftype or "quality", section="people" if ftype else "quality", severity=f.severity,
                          severity_rule="sev.quality", severity_params={"check": label},
                          title_params={"check": label, "count": ("num", f.count), "unit": unit},
                          case_ids=ids, share=len(ids) / n if n else 0.0, evidence_sheet="quality",
                          impact_params={"cases": ("num", len(ids)), "units": ("num", f.count), "unit": unit},
                          case_based=bool(ids), **_quality_items(f))
        if ftype or f.severity != "low":
            findings.append(finding)

    # ---- the process as it runs
    progress(1, steps, "process map")
    pm = process_map(log)
    a, p = default_sliders(pm)
    # the map as DOT without its (English) footnote: the renderer adds the language's words
    dot = str(render_map(simplify(pm, activities=a, paths=p), metric="frequency", fmt="dot"))
    figures["map_dot"] = "\n".join(line for line in dot.splitlines() if "labelloc=b" not in line)
    var = variants(log)
    tables["variants"] = var.assign(activities=var["activities"].map(" → ".join))
    facts["variants"] = len(var)
    facts["top_variants"] = var.head(10)

    # ---- where time is lost
    progress(2, steps, "bottlenecks")
    rank = bottleneck_ranking(log, pm=pm) if timed else pd.DataFrame(columns=RANKING_COLUMNS)
    tables["bottlenecks"] = rank
    facts["bottlenecks"] = rank[rank["kind"] == "arc"].head(10)
    for row in rank[rank["kind"] == "arc"].head(3).itertuples():
        if row.share < 0.10:
            continue
        ids = _arc_cases(log, row.source, row.target)
        findings.append(Finding(
            type="time_sink", section="time", severity=time_severity(row.share), severity_rule="sev.time",
            severity_params={"share": ("pct", row.share)},
            title_params={"arc": ("text", f"{row.source} → {row.target}"), "share": ("pct", row.share)},
            case_ids=ids, share=len(ids) / n if n else 0.0, evidence_sheet="bottlenecks",
            impact_params={"total": ("dur", row.total_s), "median": ("dur", row.median_s),
                           "count": ("num", row.frequency)}))

    findings.extend(_flow_findings(log, n, stages=stages, ignore=defaults.get("ping_pong_ignore") or (),
                                   tables=tables))

    # ---- SLA and KPIs
    progress(3, steps, "SLA and KPIs")
    valid_slas = [s for s in slas if _sla_applies(s, acts, log.df.columns)] if timed else []
    facts["skipped_slas"] = [s for s in slas if s not in valid_slas] if timed else []
    sla_log = log
    if calendar is not None:  # SLA clocks run in working time: the same sla_breaches on the working-time clock
        from ..performance.calendar import working_time_log

        sla_log = working_time_log(log, calendar)
    if valid_slas:
        from ..performance.calendar import working_sla_breaches

        breaches, summary = working_sla_breaches(log, valid_slas, calendar, working_log=sla_log if calendar else None,
                                                 final_activities=ends)
        tables["sla_breaches"], tables["sla_summary"] = breaches, summary
        for row in summary.itertuples():
            b = breaches[breaches["target"] == row.target]
            if b.empty:
                continue
            f = by_share("sla_breach", "sla", b["case"], n, "sla_breaches", {"sla": ("text", row.target)},
                         {"late": ("num", row.late), "open": ("num", row.open_breached),
                          "excess": ("dur", float(b["excess_s"].sum())), "median_excess": ("dur", float(b["excess_s"].median())),
                          "measured": ("num", row.measured), "breach_share": ("pct", row.breach_share)})
            f.severity_params["measured"] = ("num", row.measured)
            findings.append(_with_amount(f, log))
    settings = kpi_settings(preset, kpi_overrides)
    tables["kpis"] = kpi_table(log, settings=settings, calendar=calendar)
    facts["kpis_need_times"] = list(tables["kpis"].attrs.get("needs_times", []))
    for row in tables["kpis"].itertuples():
        if row.status == "breach":
            # the cases on the wrong side of the target (kpis.kpi_table): lost deals, slow responses, ...
            ids = list(tables["kpis"].attrs.get("cases", {}).get(row.Index, []))
            findings.append(Finding(type="kpi", section="sla", severity="medium", severity_rule="sev.kpi",
                                    severity_params={"target": _kpi_param(row, row.target)},
                                    title_params={"kpi": ("kpi", row.kpi), "stage": ("text", row.stage or ""),
                                                  "actual": _kpi_param(row, row.actual),
                                                  "target": _kpi_param(row, row.target)},
                                    case_ids=ids, share=len(ids) / n if n else 0.0, evidence_sheet="kpis",
                                    impact_params={"cases": ("num", row.cases)}, case_based=bool(ids)))

    # ---- stuck and never closed
    progress(4, steps, "stuck cases")
    # the one case status (processmining.status): end activities given, else inferred from the data
    st = stuck_cases(log, idle=idle, end_activities=ends) if timed else pd.DataFrame(columns=["case", "idle_s"])
    facts["ends_inferred"] = not ends
    facts["ends"] = list(st.attrs.get("end_activities") or ())
    tables["stuck_cases"] = st
    facts["idle"] = idle
    if len(st):
        findings.append(_with_amount(by_share("stuck", "stuck", st["case"], n, "stuck_cases", {"idle": ("text", idle)},
                                              {"median_idle": ("dur", float(st["idle_s"].median())),
                                               "max_idle": ("dur", float(st["idle_s"].max()))}), log))

    # ---- conformance and rules
    progress(5, steps, "conformance")
    conf = None
    deviating: set[str] | None = None
    if model is not None:
        conf = _conformance(log, model, rules=rules, roles=roles, accepted=accepted, timeout=conformance_timeout,
                            processes=processes)
        dev = conf.deviations
        tables["deviations"] = dev
        open_dev = dev[~dev["accepted"].astype(bool)] if len(dev) else dev
        deviating = set(open_dev["case_id"].astype(str)) if len(open_dev) else set()
        if hasattr(model, "nodes"):  # a BPMN model has a diagram; a PNML net has none to draw
            figures["bpmn"] = _bpmn_figure(model, open_dev, n)
        findings.extend(_conformance_findings(conf, open_dev, n, rules))
    facts["conformance"] = conf.summary if conf else None

    # ---- funnel
    progress(6, steps, "funnel")
    if stages and lost in acts:
        from ..performance import funnel

        fn_stages = [s for s in stages if s != lost and s in acts]
        if fn_stages:
            fn = funnel(log, fn_stages, lost=lost)
            tables["funnel"] = fn
            lc = lost_cases(log, fn_stages, lost=lost)
            tables["lost_cases"] = lc
            facts["funnel_segments"] = _funnel_segments(log, fn_stages, lost)
            facts["funnel_value"] = _funnel_value(log, lc)
            if len(lc):
                top = fn.sort_values("lost_here", ascending=False).iloc[0]
                ids = lc.loc[lc["drop_out_stage"] == top["stage"], "case"]
                findings.append(_with_amount(by_share(
                    "lost", "funnel", ids, n, "lost_cases", {"stage": ("text", top["stage"])},
                    {"lost_total": ("num", len(lc)), "lost_share": ("pct", float(top["lost_share"]))}), log))

    # ---- drivers for every finding with a bad-case set
    progress(7, steps, "drivers")
    _add_drivers(log, findings, ends=ends, sla_log=sla_log)

    # ---- trend and period comparison
    progress(8, steps, "trends")
    _trend(log, facts, figures, tables, slas=valid_slas, deviating=deviating, ends=ends, settings=settings,
           sla_log=sla_log, calendar=calendar)

    order = {s: i for i, s in enumerate(SECTIONS)}
    sev = {"high": 0, "medium": 1, "low": 2}
    findings.sort(key=lambda f: (order[f.section], sev[f.severity], -f.cases))
    number(findings)
    tables["findings"] = pd.DataFrame([f.record() for f in findings])
    tables["finding_cases"] = finding_cases(findings)
    tables["finding_items"] = finding_items(findings)
    frames = [f.drivers.assign(finding=f.id) for f in findings if f.drivers is not None and len(f.drivers)]
    tables["drivers"] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["attribute", "value", "cases", "group_cases", "lift", "finding"])
    params = {**(parameters or {}), "slas": list(valid_slas), "preset": preset, "idle": idle,
              "pseudonymized": bool(pseudonymize), "calendar": calendar.describe() if calendar else None}
    if pseudonym_note:
        params["pseudonymization"] = pseudonym_note["note"]
    prov = log_provenance(log, params, inputs=inputs)
    progress(steps, steps, "done")
    return AuditReport(log_name=log.name, facts=facts, findings=findings, tables=tables, figures=figures,
                       provenance=prov, quality=q, conformance=conf.summary if conf else None,
                       evidence_name=evidence_name)


# ------------------------------------------------------------------ helpers
#: what a quality check's ``count`` counts, when it is not events (catalogue ``unit.<unit>``)
COUNT_UNITS = {"attribute_completeness": "attributes", "incomplete_cases": "cases", "single_event_cases": "cases",
               "long_cases": "cases", "stale_open_cases": "cases", "high_cardinality_activities": "activities",
               "resource_concentration": "activities", "mixed_offsets": "timestamps"}


#: the lifecycle transitions of the XES standard (lifecycle extension, standard model)
XES_LIFECYCLE = frozenset({"schedule", "assign", "reassign", "start", "suspend", "resume", "complete", "autoskip",
                           "manualskip", "withdraw", "ate_abort", "pi_abort"})


def _lifecycle_other(log: EventLog) -> dict[str, Any] | None:
    """``lifecycle:transition`` values that are no XES lifecycle steps (BPIC 2013's "In Progress", "Wait"):
    how many, on how many events, the most frequent three."""
    from ..model import LIFECYCLE

    if LIFECYCLE not in log.df.columns:
        return None
    counts = log.df[LIFECYCLE].dropna().astype(str).value_counts().sort_index().sort_values(
        ascending=False, kind="stable")  # most frequent first, ties by name
    other = counts[~counts.index.str.strip().str.lower().isin(XES_LIFECYCLE)]
    if other.empty:
        return None
    return {"n": len(other), "events": int(other.sum()), "examples": ", ".join(other.index[:3])}


def _check_label(check: str, details: Mapping[str, Any]) -> str:
    """The catalogue label of a check, by its kind where one check reports two things (``incomplete_cases``:
    no start / no end), so that two findings of one check do not carry the same title."""
    from .i18n import catalogue

    kind = details.get("kind")
    specific = f"{check}.{str(kind).replace(' ', '_')}" if kind else check
    return specific if f"check.{specific}" in catalogue("en") else check


def _quality_items(f: Any) -> dict[str, Any]:
    """The accounts / activities / attributes / labels / columns a quality check names (``Finding.items``),
    from its details: every account of an account check, every activity resting on one person (with that
    person), every incomplete attribute, every label variant, every timestamp column with values without a
    UTC offset (with their number)."""
    d = f.details
    if d.get("accounts"):
        return {"items": [str(a) for a in d["accounts"]], "item_unit": "accounts"}
    if isinstance(d.get("activities"), Mapping):
        return {"items": [f"{a} ({r})" for a, r in d["activities"].items()], "item_unit": "activities"}
    if f.check == "attribute_completeness" and isinstance(d.get("completeness"), Mapping):
        worst_first = sorted(d["completeness"].items(), key=lambda kv: kv[1])
        shown = [str(a) for a in f.examples["attribute"]] if "attribute" in f.examples.columns else []
        # the examples are capped (QualityConfig.max_examples); the completeness of every attribute is not
        return {"items": shown if len(shown) >= f.count else [str(a) for a, c in worst_first if c < 1][:f.count] or shown,
                "item_unit": "attributes"}
    if isinstance(d.get("mapping"), Mapping):
        return {"items": [f"{a} → {b}" for a, b in d["mapping"].items()], "item_unit": "labels"}
    if f.check == "mixed_offsets" and isinstance(d.get("columns"), Mapping):  # counted at ingest, per column
        return {"items": [f"{c}: {v['naive']:,}" for c, v in d["columns"].items()], "item_unit": "columns"}
    return {}


def _count_unit(check: str, details: Mapping[str, Any]) -> str:
    if check == "impossible_durations" and details.get("kind") == "case too long":
        return "cases"
    return COUNT_UNITS.get(check, "events")


def _flow_findings(log: EventLog, n: int, *, stages: Sequence[str], ignore: Sequence[str],
                   tables: dict[str, pd.DataFrame]) -> list[Finding]:
    """Ping-pong between activities, rework (an activity repeated) and moves back to an earlier stage."""
    from ..performance import backward_moves, ping_pong_cases, rework

    out: list[Finding] = []
    pp = ping_pong_cases(log, ignore=ignore)
    tables["ping_pong_cases"] = pp
    if len(pp):
        pairs = pp.assign(pair=[" ↔ ".join(sorted((str(a), str(b)))) for a, b in zip(pp["a"], pp["b"], strict=True)])
        top = pairs.groupby("pair")["case"].nunique().sort_values(ascending=False)
        out.append(by_share("ping_pong", "time", pp["case"], n, "ping_pong_cases", {"pair": ("text", top.index[0])},
                            {"occurrences": ("num", int(pp["occurrences"].sum())),
                             "cases": ("num", int(pp["case"].nunique()))}))
    rw = rework(log)
    rw = rw[(rw["cases_with_rework"] >= 5) & (rw["share_of_cases"] >= 0.05)]
    if len(rw):
        act = str(rw.index[0])
        per_case = rework(log, level="case")
        ids = per_case.loc[per_case["activity"] == act, "case"]
        tables["rework_cases"] = per_case
        out.append(by_share("rework", "time", ids, n, "rework_cases", {"activity": ("text", act)},
                            {"extra": ("num", int(rw["extra_executions"].iloc[0])),
                             "share": ("pct", float(rw["share_of_cases"].iloc[0]))}))
    if stages:
        bm = backward_moves(log, [s for s in stages if s in set(log.df["concept:name"].unique().tolist())])
        tables["backward_moves"] = bm
        if len(bm):
            top = bm.groupby(["from_stage", "to_stage"]).size().sort_values(ascending=False).index[0]
            out.append(by_share("backward", "time", bm["case"], n, "backward_moves",
                                {"from": ("text", top[0]), "to": ("text", top[1])},
                                {"moves": ("num", len(bm)), "cases": ("num", int(bm["case"].nunique()))}))
    return out



def _sla_applies(sla: str, acts: set[str], columns: Any = ()) -> bool:
    """The SLA's activities occur and its ``if column=value`` column exists (a preset's "if priority=High"
    on a log without priority is skipped and listed, not an error that stops the report)."""
    from ..performance import parse_sla

    t = parse_sla(sla)
    if t.where is not None and t.where[0] not in columns and f"case:{t.where[0]}" not in columns:
        return False
    return all(x is None or x in acts for x in (t.source, t.target))


def _kpi_param(row: Any, value: Any) -> tuple[str, Any]:
    return ("pct" if row.unit == "share" else "dur", value)


def _arc_cases(log: EventLog, source: str, target: str) -> list[str]:
    """Cases in which ``target`` directly follows ``source``."""
    ev = log.codes
    act = ev.act_text
    if len(act) < 2:
        return []
    hit = (act[:-1] == source) & (act[1:] == target) & (ev.case[:-1] == ev.case[1:])
    return sorted(set(ev.case_ids[ev.case[:-1][hit]].astype(str).tolist()))


def amount_column(log: EventLog) -> str | None:
    """The value column of the log (``case:Amount`` or similar, numeric), if any."""
    for col in log.df.columns:
        if col.lower().removeprefix("case:") in ("amount", "value", "deal value", "amount_eur", "price"):
            num = pd.to_numeric(log.df[col], errors="coerce")
            if num.notna().mean() > 0.5:
                return col
    return None


def _case_amounts(log: EventLog) -> pd.Series | None:
    col = amount_column(log)
    if col is None:
        return None
    num = pd.to_numeric(log.df[col], errors="coerce")
    return num.groupby(log.df[CASE].astype(str)).first()


def _with_amount(f: Finding, log: EventLog) -> Finding:
    amounts = _case_amounts(log)
    if amounts is not None and f.case_ids:
        f.impact_params["amount"] = ("num", float(amounts.reindex(f.case_ids).sum()))
    return f


def _funnel_value(log: EventLog, lc: pd.DataFrame) -> pd.DataFrame | None:
    """Value of the lost cases per drop-out stage (when the log has an amount column)."""
    amounts = _case_amounts(log)
    if amounts is None or lc.empty:
        return None
    v = lc.assign(amount=amounts.reindex(lc["case"].astype(str)).to_numpy())
    return v.groupby("drop_out_stage", sort=False).agg(cases=("case", "size"), amount=("amount", "sum")).reset_index()


def _funnel_segments(log: EventLog, stages: Sequence[str], lost: str) -> pd.DataFrame | None:
    """Win / loss by owner (or the first segment column): conversion to the last stage per segment."""
    from ..filters import filter_case_attribute
    from ..performance import funnel

    cols = [c for c in log.df.columns if c.lower().removeprefix("case:") in ("deal owner", "owner", "team", "source",
                                                                               "lead source", "region", "channel")]
    col = cols[0] if cols else (RESOURCE if RESOURCE in log.df.columns else None)
    if col is None:
        return None
    # an event attribute (org:resource) segments by its value on the case's first event (who opened it): "cases
    # touched by" would give the account that books won orders a conversion of 100 % by selection
    per_case = not col.startswith("case:")
    first = pd.Series(log.df[col].to_numpy()[log.codes.starts], index=log.codes.case_ids) if per_case else None
    counts = first.value_counts() if first is not None else log.df.drop_duplicates([CASE, col])[col].value_counts()
    rows = []
    for value in counts.head(8).index.tolist():
        if first is not None:
            sub = filter_case_attribute(log, CASE, first.index[first.to_numpy() == value].tolist())
        else:
            sub = filter_case_attribute(log, col, [value])
        fn = funnel(sub, stages, lost=lost)
        rows.append({"segment": col, "by_first_event": per_case, "value": value, "cases": sub.n_cases,
                     "reached_last": int(fn["reached"].iloc[-1]), "lost": int(fn.attrs.get("lost_cases", 0)),
                     "conversion": float(fn["reached"].iloc[-1] / fn["reached"].iloc[0]) if fn["reached"].iloc[0] else 0.0})
    return pd.DataFrame(rows)


def _conformance(log: EventLog, model: Any, **kw: Any) -> Any:
    from ..conformance import conform

    return conform(log, model, rules=kw["rules"], roles=kw["roles"], accepted=kw["accepted"],
                   variant_timeout_s=kw["timeout"], processes=kw["processes"])


def _bpmn_figure(model: Any, dev: pd.DataFrame, n_cases: int) -> str:
    from ..bpmn import render_svg
    from ..bpmn.diagram import Overlay

    overlays = {}
    if len(dev) and "bpmn_element_id" in dev.columns:
        per = dev.dropna(subset=["bpmn_element_id"]).groupby("bpmn_element_id")["case_id"].nunique()
        top = float(per.max()) if len(per) else 1.0
        for elem, k in per.items():
            if elem in model.nodes:
                shade = int(235 - 120 * k / top)
                overlays[elem] = Overlay(fill=f"#f5{shade:02x}{shade:02x}", badge=f"{int(k):,}")
    return render_svg(model, element_overlays=overlays)


def _conformance_findings(conf: Any, dev: pd.DataFrame, n: int, rules: Any) -> list[Finding]:
    out: list[Finding] = []
    rule_types = {r.id: r.type for r in rules.rules} if rules is not None else {}
    for p in conf.summary["patterns"]:
        if p["kind"] == "not_computed":
            continue
        sel = dev[dev["kind"] == p["kind"]]
        if p["kind"] == "rule":
            sel = sel[sel["rule_id"] == p["rule_id"]]
            rtype = RULE_TYPES.get(rule_types.get(p["rule_id"], ""), "rule")
            sev_values = sel["severity"].value_counts()
            severity = next((s for s in ("high", "medium", "low") if s in sev_values.index), "medium")
            out.append(Finding(type=rtype, section="rules", severity=severity, severity_rule="sev.rule",
                               severity_params={"rule": ("text", p["rule_id"])},
                               title_params={"rule": ("text", p["rule_id"])},
                               case_ids=sorted(sel["case_id"].astype(str).unique()), share=p["share"],
                               evidence_sheet="deviations", impact_params=_delta(p)))
            continue
        if p["activity"]:
            sel = sel[sel["activity"] == p["activity"]]
        f = by_share("deviation", "conformance", sel["case_id"], n, "deviations",
                     {"kind": ("kind", p["kind"]), "activity": ("text", p["activity"] or "")}, _delta(p))
        out.append(f)
    out.sort(key=lambda f: -f.cases)
    return out[:12]


def _delta(p: Mapping[str, Any]) -> dict[str, tuple[str, Any]]:
    d = p.get("throughput_delta_days")
    return {"delta": ("dur", d * 86400.0)} if d is not None else {}


def _add_drivers(log: EventLog, findings: list[Finding], *, ends: Sequence[str] | None, sla_log: EventLog) -> None:
    """The significant drivers (top 3) of every finding with at least 5 cases and a bad-case set."""
    from .drivers import BadCases, bad_cases, drivers

    all_cases = frozenset(log.df[CASE].astype(str).unique().tolist())
    for f in findings:
        kind = DRIVER_TARGET.get(f.type)
        if kind is None or f.cases < 5:
            continue
        population = all_cases
        if kind == "late":  # compared with the cases where the SLA clock started
            population = bad_cases(sla_log, f"late:{f.title_params['sla'][1]}", end_activities=ends).population
        d = drivers(log, BadCases(kind, f.type, frozenset(f.case_ids), population))
        f.drivers = d[d["significant"]].head(3)


def _trend(log: EventLog, facts: dict[str, Any], figures: dict[str, str], tables: dict[str, pd.DataFrame], *,
           slas: Sequence[str], deviating: set[str] | None, ends: Sequence[str] | None, settings: Any,
           sla_log: EventLog | None = None, calendar: BusinessCalendar | None = None) -> None:
    from .compare import compare_logs, split_period, trend

    span = log.time_span
    if span is None or span[1] - span[0] < pd.Timedelta(days=45) or log.n_cases < 20:
        facts["trend"] = None
        return
    freq = "M" if span[1] - span[0] >= pd.Timedelta(days=120) else "W"
    tr = trend(log, freq=freq, slas=slas, deviating=deviating, end_activities=ends, sla_log=sla_log)
    tables["trend"] = tr
    facts["trend"] = tr
    facts["trend_freq"] = freq
    starts = log.df.groupby(CASE)["time:timestamp"].min().sort_values()
    mid = starts.iloc[len(starts) // 2]
    try:
        a, b = split_period(log, mid)
    except Exception:  # noqa: BLE001 - a degenerate period split just leaves the comparison out
        facts["comparison"] = None
        return
    cmp = compare_logs(a, b, labels=(f"< {mid.date()}", f">= {mid.date()}"), slas=slas[:1], deviating=deviating,
                       settings=settings, end_activities=ends, calendar=calendar)
    facts["comparison"] = cmp
    facts["split"] = mid
    tables["comparison"] = cmp.kpis
    tables["map_difference"] = cmp.arcs
    tables["variant_changes"] = cmp.variants
    facts["variants_appeared"] = int((cmp.variants["change"] == "appeared").sum())
    facts["variants_vanished"] = int((cmp.variants["change"] == "vanished").sum())


__all__ = ["SECTIONS", "AuditReport", "amount_column", "build_report"]
