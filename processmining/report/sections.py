"""The sections of the audit report: each function runs the analyses of one section on a :class:`Context`
and adds what they found (facts, evidence tables, figures, findings) to it.

:func:`processmining.report.build.build_report` calls them in report order; the
analyses are the library calls the CLI commands make, so that every number
of the report is the number of the command.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..model import CASE, RESOURCE, EventLog
from ..performance.calendar import BusinessCalendar
from .findings import DRIVER_TARGET, Finding, by_share, time_severity

#: the columns of the bottleneck ranking (an empty ranking for a log without timestamps)
RANKING_COLUMNS = ["kind", "name", "source", "target", "frequency", "cases", "total_s", "share", "mean_s", "median_s"]
#: quality checks reported as people risks (the rest under data quality)
PEOPLE_CHECKS = {"resource_concentration": "people_spof", "returning_accounts": "people_left",
                 "system_accounts": "people_bots", "batch_entry_by_resource": "people_batch"}
RULE_TYPES = {"segregation_of_duties": "sod", "four_eyes": "four_eyes", "role": "role"}


@dataclass
class Context:
    """One report in the making: the log and its settings, and what the sections found so far."""

    log: EventLog
    facts: dict[str, Any]
    ends: list[str] | None
    calendar: BusinessCalendar | None = None
    findings: list[Finding] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, str] = field(default_factory=dict)
    #: the log on the calendar's working-time clock (the log itself without a calendar)
    sla_log: EventLog | None = None

    @property
    def n(self) -> int:
        return self.facts["cases"]

    @property
    def timed(self) -> bool:
        return bool(self.facts["has_timestamps"])

    def share(self, ids: Sequence[str]) -> float:
        return len(ids) / self.n if self.n else 0.0


def quality_section(ctx: Context) -> Any:
    """The data-quality audit: score, the checks table, a finding per check (people risks among them)."""
    from ..quality import audit

    q = audit(ctx.log)
    ctx.facts["quality_score"] = q.overall_score
    ctx.facts["quality_scores"] = dict(q.scores)
    ctx.facts["quality_affected"] = q.cases_affected_share
    ctx.tables["quality"] = pd.DataFrame([{"check": f.check, "dimension": f.dimension, "severity": f.severity,
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
                          case_ids=ids, share=ctx.share(ids), evidence_sheet="quality",
                          impact_params={"cases": ("num", len(ids)), "units": ("num", f.count), "unit": unit},
                          case_based=bool(ids), **_quality_items(f))
        if ftype or f.severity != "low":
            ctx.findings.append(finding)
    return q


def process_section(ctx: Context) -> Any:
    """The process map (as DOT: the renderer adds the language's words) and the variants; returns the map."""
    from ..discovery import default_sliders, process_map, simplify, variants
    from ..discovery.variants import variant_text
    from ..render import render_map

    pm = process_map(ctx.log)
    a, p = default_sliders(pm)
    # the map as DOT without its (English) footnote: the renderer adds the language's words
    dot = str(render_map(simplify(pm, activities=a, paths=p), metric="frequency", fmt="dot"))
    ctx.figures["map_dot"] = "\n".join(line for line in dot.splitlines() if "labelloc=b" not in line)
    var = variants(ctx.log)
    ctx.tables["variants"] = var.assign(activities=variant_text(list(var["activities"])).set_axis(var.index))
    ctx.facts["variants"] = len(var)
    ctx.facts["top_variants"] = var.head(10)
    return pm


def time_section(ctx: Context, pm: Any, *, stages: Sequence[str], ignore: Sequence[str]) -> None:
    """Where time is lost: the bottleneck ranking (the top arcs with >= 10 % of the waiting time are
    findings), ping-pong, rework and backward moves."""
    from ..performance import bottleneck_ranking

    log = ctx.log
    rank = bottleneck_ranking(log, pm=pm) if ctx.timed else pd.DataFrame(columns=RANKING_COLUMNS)
    ctx.tables["bottlenecks"] = rank
    ctx.facts["bottlenecks"] = rank[rank["kind"] == "arc"].head(10)
    for row in rank[rank["kind"] == "arc"].head(3).itertuples():
        if row.share < 0.10:
            continue
        ids = _arc_cases(log, row.source, row.target)
        ctx.findings.append(Finding(
            type="time_sink", section="time", severity=time_severity(row.share), severity_rule="sev.time",
            severity_params={"share": ("pct", row.share)},
            title_params={"arc": ("text", f"{row.source} → {row.target}"), "share": ("pct", row.share)},
            case_ids=ids, share=ctx.share(ids), evidence_sheet="bottlenecks",
            impact_params={"total": ("dur", row.total_s), "median": ("dur", row.median_s),
                           "count": ("num", row.frequency)}))
    ctx.findings.extend(_flow_findings(log, ctx.n, stages=stages, ignore=ignore, tables=ctx.tables))


def sla_section(ctx: Context, slas: Sequence[str], *, preset: str | None,
                kpi_overrides: Mapping[str, Any] | None) -> tuple[list[str], dict[str, Any]]:
    """SLA breaches (in working time with a calendar) and the KPI table; a finding per breached SLA and per
    KPI in breach. Returns the SLAs that apply and the KPI settings."""
    from .kpis import kpi_settings, kpi_table

    log, calendar = ctx.log, ctx.calendar
    acts = set(log.df["concept:name"].unique().tolist())
    valid = [s for s in slas if _sla_applies(s, acts, log.df.columns)] if ctx.timed else []
    ctx.facts["skipped_slas"] = [s for s in slas if s not in valid] if ctx.timed else []
    ctx.sla_log = log
    if calendar is not None:  # SLA clocks run in working time: the same sla_breaches on the working-time clock
        from ..performance.calendar import working_time_log

        ctx.sla_log = working_time_log(log, calendar)
    if valid:
        from ..performance.calendar import working_sla_breaches

        breaches, summary = working_sla_breaches(log, valid, calendar, working_log=ctx.sla_log if calendar else None,
                                                 final_activities=ctx.ends)
        ctx.tables["sla_breaches"], ctx.tables["sla_summary"] = breaches, summary
        for row in summary.itertuples():
            b = breaches[breaches["target"] == row.target]
            if b.empty:
                continue
            f = by_share("sla_breach", "sla", b["case"], ctx.n, "sla_breaches", {"sla": ("text", row.target)},
                         {"late": ("num", row.late), "open": ("num", row.open_breached),
                          "excess": ("dur", float(b["excess_s"].sum())),
                          "median_excess": ("dur", float(b["excess_s"].median())),
                          "measured": ("num", row.measured), "breach_share": ("pct", row.breach_share)})
            f.severity_params["measured"] = ("num", row.measured)
            ctx.findings.append(_with_amount(f, log))
    settings = kpi_settings(preset, kpi_overrides)
    kpis = ctx.tables["kpis"] = kpi_table(log, settings=settings, calendar=calendar)
    ctx.facts["kpis_need_times"] = list(kpis.attrs.get("needs_times", []))
    for row in kpis.itertuples():
        if row.status == "breach":
            # the cases on the wrong side of the target (kpis.kpi_table): lost deals, slow responses, ...
            ids = list(kpis.attrs.get("cases", {}).get(row.Index, []))
            ctx.findings.append(Finding(type="kpi", section="sla", severity="medium", severity_rule="sev.kpi",
                                        severity_params={"target": _kpi_param(row, row.target)},
                                        title_params={"kpi": ("kpi", row.kpi), "stage": ("text", row.stage or ""),
                                                      "actual": _kpi_param(row, row.actual),
                                                      "target": _kpi_param(row, row.target)},
                                        case_ids=ids, share=ctx.share(ids), evidence_sheet="kpis",
                                        impact_params={"cases": ("num", row.cases)}, case_based=bool(ids)))
    return valid, settings


def stuck_section(ctx: Context, idle: str) -> None:
    """Stuck and never-closed cases: the one case status (processmining.status), end activities given or
    inferred from the data."""
    from ..performance import stuck_cases

    st = (stuck_cases(ctx.log, idle=idle, end_activities=ctx.ends) if ctx.timed
          else pd.DataFrame(columns=["case", "idle_s"]))
    ctx.facts["ends_inferred"] = not ctx.ends
    ctx.facts["ends"] = list(st.attrs.get("end_activities") or ())
    ctx.tables["stuck_cases"] = st
    ctx.facts["idle"] = idle
    if len(st):
        ctx.findings.append(_with_amount(by_share(
            "stuck", "stuck", st["case"], ctx.n, "stuck_cases", {"idle": ("text", idle)},
            {"median_idle": ("dur", float(st["idle_s"].median())), "max_idle": ("dur", float(st["idle_s"].max()))}),
            ctx.log))


def conformance_section(ctx: Context, model: Any, **kw: Any) -> tuple[Any, set[str] | None]:
    """Conformance with the model and the rules: deviations, the diagram with them, a finding per pattern.
    Returns the conformance result and the deviating cases (``None`` without a model)."""
    if model is None:
        ctx.facts["conformance"] = None
        return None, None
    conf = _conformance(ctx.log, model, **kw)
    dev = conf.deviations
    ctx.tables["deviations"] = dev
    open_dev = dev[~dev["accepted"].astype(bool)] if len(dev) else dev
    deviating = set(open_dev["case_id"].astype(str)) if len(open_dev) else set()
    if hasattr(model, "nodes"):  # a BPMN model has a diagram; a PNML net has none to draw
        ctx.figures["bpmn"] = _bpmn_figure(model, open_dev, ctx.n)
    ctx.findings.extend(_conformance_findings(conf, open_dev, ctx.n, kw["rules"]))
    ctx.facts["conformance"] = conf.summary
    return conf, deviating


def funnel_section(ctx: Context, stages: Sequence[str], lost: str | None) -> None:
    """The funnel with its drop-out stage (a finding), by segment and by value."""
    from ..performance import funnel, lost_cases

    log = ctx.log
    acts = set(log.df["concept:name"].unique().tolist())
    if not stages or lost not in acts:
        return
    fn_stages = [s for s in stages if s != lost and s in acts]
    if not fn_stages:
        return
    fn = funnel(log, fn_stages, lost=lost)
    ctx.tables["funnel"] = fn
    lc = lost_cases(log, fn_stages, lost=lost)
    ctx.tables["lost_cases"] = lc
    ctx.facts["funnel_segments"] = _funnel_segments(log, fn_stages, lost)
    ctx.facts["funnel_value"] = _funnel_value(log, lc)
    if len(lc):
        top = fn.sort_values("lost_here", ascending=False).iloc[0]
        ids = lc.loc[lc["drop_out_stage"] == top["stage"], "case"]
        ctx.findings.append(_with_amount(by_share(
            "lost", "funnel", ids, ctx.n, "lost_cases", {"stage": ("text", top["stage"])},
            {"lost_total": ("num", len(lc)), "lost_share": ("pct", float(top["lost_share"]))}), log))


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



__all__ = ["PEOPLE_CHECKS", "RANKING_COLUMNS", "RULE_TYPES", "Context", "amount_column", "conformance_section",
           "funnel_section", "process_section", "quality_section", "sla_section", "stuck_section", "time_section"]
