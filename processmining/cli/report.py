"""``processmining report`` (the audit report), ``drivers``, ``compare`` and ``kpis``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from . import app
from .options import DEFAULT_LOG_OPTIONS, LogArg, LogOptions, progress_bar, with_log_options

SlaOpt = Annotated[list[str] | None, typer.Option("--sla", help="Time target, e.g. 'Open->Resolved<=5d' (repeatable; "
                                                                 "default: the preset's).")]
ModelOpt = Annotated[Path | None, typer.Option("--model", help="Reference model: BPMN 2.0 XML, or a Petri net (.pnml).")]
CalendarOpt = Annotated[Path | None, typer.Option("--calendar", help="Business-hours calendar (YAML): SLAs, first response "
                                                                     "and resolution in working time.")]


def _preset(log: Any, log_options: LogOptions) -> str | None:
    return log_options.preset or (log.report.preset if log.report else None)


def _read_model(path: Path) -> Any:
    """The reference model, read as ``conform`` reads it (BPMN, or PNML by its suffix)."""
    from ..conformance import read_model

    return read_model(path)


def _sha(path: Path) -> str:
    from ..model import sha256_file

    return sha256_file(path)


def _write_table(tables: dict, output: Path, params: dict, log: Any) -> None:
    from ..errors import AnalysisError
    from ..export import infer_format, write_tables
    from ..model import log_provenance

    try:
        infer_format(output)
    except ValueError as exc:
        raise AnalysisError(str(exc)) from None
    prov = log_provenance(log, params)
    write_tables(tables, output, provenance=prov)


@app.command()
@with_log_options
def report(
    log_path: LogArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="The report: audit.html or audit.pdf.")],
    model_path: ModelOpt = None,
    rules_path: Annotated[Path | None, typer.Option("--rules", help="Audit rules (RULES.yaml).")] = None,
    roles_path: Annotated[Path | None, typer.Option("--roles", help="Resource → role mapping (CSV resource,role).")] = None,
    accepted_path: Annotated[Path | None, typer.Option("--accepted", help="Accepted deviation patterns.")] = None,
    sla: SlaOpt = None,
    lang: Annotated[str, typer.Option("--lang", help="Report language: en, pl or ru.")] = "en",
    pseudonymize: Annotated[str | None, typer.Option("--pseudonymize", help="Key: case ids, resources and people "
                                                                            "columns become keyed hashes in the whole "
                                                                            "report and annex; free-text columns (deal "
                                                                            "names, summaries) are left out.")] = None,
    evidence: Annotated[Path | None, typer.Option("--evidence", help="Evidence annex (.xlsx, .zip, .json; default "
                                                                     "<report>_evidence.xlsx).")] = None,
    calendar_path: CalendarOpt = None,
    targets_path: Annotated[Path | None, typer.Option("--targets", help="KPI targets (YAML).")] = None,
    stages: Annotated[str | None, typer.Option("--stages", help="Pipeline stages in order, comma-separated "
                                                                "(default: the preset's).")] = None,
    lost: Annotated[str | None, typer.Option("--lost", help="The lost stage (default: the preset's).")] = None,
    idle: Annotated[str | None, typer.Option("--idle", help="Idle limit for stuck cases (default: the preset's, "
                                                            "else 30d).")] = None,
    final: Annotated[list[str] | None, typer.Option("--final", help="End activity (repeatable).")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per variant for alignments.")] = 10.0,
    log_options: LogOptions = DEFAULT_LOG_OPTIONS,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
) -> None:
    """Write the audit report (HTML or PDF) of LOG with its evidence annex.

    Example: processmining report eventlogs/salesforce_opportunity_field_history.csv
    --model bpmn_models/lead_to_order.bpmn --rules bpmn_models/lead_to_order.rules.yaml
    --roles bpmn_models/lead_to_order.roles.csv --lang pl -o audit.pdf
    """
    from ..errors import AnalysisError
    from ..report.build import build_report
    from ..report.i18n import LANGUAGES
    from ..report.pdf import write_report

    if lang not in LANGUAGES:
        raise AnalysisError(f"--lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    if output.suffix.lower() not in (".html", ".htm", ".pdf"):
        raise AnalysisError(f"-o must end in .html or .pdf, got {output.name!r}")
    log = log_options.load(log_path, quiet=quiet)
    model = rules = roles = accepted = None
    inputs: dict[str, tuple[str, str]] = {}  # the log itself: model.log_provenance
    if model_path:
        model = _read_model(model_path)
        inputs["model"] = (model_path.name, model.sha256)
    if rules_path:
        from ..rules import load_rules

        rules = load_rules(rules_path)
        inputs["rules"] = (rules_path.name, rules.sha256)
    if roles_path:
        from ..rules import read_roles

        roles = read_roles(roles_path)
        inputs["roles"] = (roles_path.name, _sha(roles_path))
    if accepted_path:
        from ..conformance import read_accepted

        accepted = read_accepted(accepted_path)
        inputs["accepted"] = (accepted_path.name, accepted.sha256)
    calendar = None
    if calendar_path:
        from ..performance.calendar import load_calendar

        calendar = load_calendar(calendar_path)
        inputs["calendar"] = (calendar_path.name, _sha(calendar_path))
    overrides = None
    if targets_path:
        from ..report.kpis import load_targets

        overrides = load_targets(targets_path)
        inputs["targets"] = (targets_path.name, _sha(targets_path))
    with progress_bar("building the report", quiet=quiet) as progress:
        rep = build_report(log, model=model, rules=rules, roles=roles, accepted=accepted, slas=sla or (),
                           preset=_preset(log, log_options), calendar=calendar,
                           stages=[x.strip() for x in stages.split(",") if x.strip()] if stages else None,
                           lost=lost, idle=idle, end_activities=final or None, kpi_overrides=overrides,
                           pseudonymize=pseudonymize, inputs=inputs, conformance_timeout=timeout,
                           parameters={**log_options.parameters(), "lang": lang},
                           progress=progress)
    out, ev = write_report(rep, output, lang=lang, evidence=evidence)
    if not quiet:
        high = sum(f.severity == "high" for f in rep.findings)
        typer.echo(f"{len(rep.findings)} findings ({high} high) · {rep.facts['cases']:,} cases")
        for f in rep.findings[:10]:
            cases = (f"{f.cases:>7,} cases" if f.case_based else f"{len(f.items):>7,} {f.item_unit}" if f.items
                     else "      – (no case list)")
            typer.echo(f"  {f.id} {f.severity:<6} {f.type:<12} {cases}")
        typer.echo(f"written: {out}\nevidence: {ev}")


@app.command()
@with_log_options
def drivers(
    log_path: LogArg,
    target: Annotated[str, typer.Option("--target", help="Bad cases: late:SLA, deviating, lost or stuck.")],
    model_path: ModelOpt = None,
    lost: Annotated[str | None, typer.Option("--lost", help="Lost activity (default: the preset's).")] = None,
    idle: Annotated[str | None, typer.Option("--idle", help="Idle limit for stuck (default: the preset's).")] = None,
    ends: Annotated[list[str] | None, typer.Option("--end", help="End activity (repeatable; default: the preset's).")] = None,
    attribute: Annotated[list[str] | None, typer.Option("--attribute", help="Only test this column (repeatable).")] = None,
    min_cases: Annotated[int, typer.Option("--min-cases", help="Smallest group tested.")] = 5,
    top: Annotated[int, typer.Option("--top", help="Rows to print.")] = 10,
    show_all: Annotated[bool, typer.Option("--all", help="Print the values that are not significant too.")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the full table (.csv/.xlsx/.json).")] = None,
    log_options: LogOptions = DEFAULT_LOG_OPTIONS,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
) -> None:
    """Which attributes are over-represented among late / deviating / lost / stuck cases (lift, p-value).

    Example: processmining drivers eventlogs/jira_changelog.json --target "late:Open->Resolved<=5d"
    """
    import pandas as pd

    from ..ingest.presets import analysis_defaults
    from ..report.drivers import bad_cases, parse_target
    from ..report.drivers import drivers as run_drivers

    kind, _ = parse_target(target)
    log = log_options.load(log_path, quiet=quiet)
    d = analysis_defaults(_preset(log, log_options))
    deviating = None
    if kind == "deviating":
        from ..errors import AnalysisError

        if model_path is None:
            raise AnalysisError("--target deviating needs --model M.bpmn (or M.pnml)")
        from ..conformance import conform

        model = _read_model(model_path)
        with progress_bar("aligning variants", quiet=quiet) as progress:
            res = conform(log, model, progress=progress)
        dev = res.deviations
        deviating = set(dev.loc[~dev["accepted"].astype(bool), "case_id"].astype(str)) if len(dev) else set()
    bc = bad_cases(log, target, deviating=deviating, lost=lost or d.get("lost"),
                   idle=idle or (d.get("idle") if kind == "stuck" else None),
                   end_activities=ends or d.get("ends"))
    table = run_drivers(log, bc, attributes=attribute, min_cases=min_cases)
    if output is not None:
        _write_table({"drivers": table}, output, {"target": target, "min_cases": min_cases}, log)
    if not quiet:
        typer.echo(f"{len(bc.bad & bc.population):,} bad cases of {len(bc.population):,} ({target})")
        significant = table["significant"].astype(bool) if len(table) else pd.Series(dtype=bool)
        shown = table if show_all else table[significant]
        for r in shown.head(top).itertuples():
            mark = "*" if r.significant else " "
            typer.echo(f"{mark} {r.attribute} = {r.value}: {r.cases:,}/{r.group_cases:,} cases, rate {r.rate:.1%} "
                       f"vs {r.base_rate:.1%}, lift {r.lift:.2f} (≥{r.lift_low:.2f}), q={r.q_value:.2g}")
        if not significant.any():
            typer.echo("no attribute value is significantly over-represented")
        left_out = int((~significant).sum())
        if left_out and not show_all:
            typer.echo(f"{left_out:,} attribute values that are not significant (q ≥ 0.05 or lift ≤ 1) are not "
                       "shown; --all prints them, -o writes the full table")


@app.command()
@with_log_options
def compare(
    log_path: LogArg,
    split: Annotated[str | None, typer.Option("--split", help="Compare cases started before / from this date.")] = None,
    segment: Annotated[str | None, typer.Option("--segment", help="Compare by this column (with --a, --b).")] = None,
    a: Annotated[list[str] | None, typer.Option("--a", help="Segment A value(s).")] = None,
    b: Annotated[list[str] | None, typer.Option("--b", help="Segment B value(s) (default: all others).")] = None,
    sla: SlaOpt = None,
    model_path: ModelOpt = None,
    freq: Annotated[str, typer.Option("--freq", help="Trend per M(onth) or W(eek).")] = "M",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Tables (.xlsx/.zip/.json).")] = None,
    diff_map: Annotated[Path | None, typer.Option("--diff-map", help="Difference map as SVG.")] = None,
    calendar_path: CalendarOpt = None,
    log_options: LogOptions = DEFAULT_LOG_OPTIONS,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
) -> None:
    """Two periods (--split DATE) or two segments (--segment COL --a X [--b Y]): KPI deltas, map difference,
    variants that appear or vanish, and the trend with change points.

    Example: processmining compare eventlogs/jira_changelog.json --split 2024-06-01 --sla "Open->Resolved<=5d"
    """
    from ..errors import AnalysisError
    from ..ingest.presets import analysis_defaults
    from ..report.compare import (
        compare_logs,
        difference_dot,
        format_metric,
        split_period,
        split_segment,
        svg_from_dot,
        trend,
    )
    from ..report.kpis import kpi_settings

    if (split is None) == (segment is None):
        raise AnalysisError("give either --split DATE or --segment COLUMN --a VALUE")
    log = log_options.load(log_path, quiet=quiet)
    preset = _preset(log, log_options)
    d = analysis_defaults(preset)
    slas = list(sla or [s for s in str(d.get("slas") or "").splitlines() if s.strip()])
    deviating = None
    if model_path is not None:
        from ..conformance import conform

        model = _read_model(model_path)
        with progress_bar("aligning variants", quiet=quiet) as progress:
            res = conform(log, model, progress=progress)
        dev = res.deviations
        deviating = set(dev.loc[~dev["accepted"].astype(bool), "case_id"].astype(str)) if len(dev) else set()
    if split is not None:
        left, right = split_period(log, split)
        labels = (f"< {split}", f">= {split}")
    else:
        if not a:
            raise AnalysisError("--segment needs --a VALUE")
        left, right = split_segment(log, segment, a, b)
        labels = (", ".join(a), ", ".join(b) if b else "other")
    acts = set(log.df["concept:name"].unique().tolist())
    from ..performance import parse_sla

    slas = [s for s in slas if all(x is None or x in acts for x in (parse_sla(s).source, parse_sla(s).target))]
    ends = d.get("ends")
    cal = None
    if calendar_path is not None:
        from ..performance.calendar import load_calendar

        cal = load_calendar(calendar_path)
    cmp = compare_logs(left, right, labels=labels, slas=slas, deviating=deviating, settings=kpi_settings(preset),
                       end_activities=ends, calendar=cal)
    sla_log = None
    if cal is not None and slas:
        from ..performance.calendar import working_time_log

        sla_log = working_time_log(log, cal)
    tr = trend(log, freq=freq, slas=slas, deviating=deviating, end_activities=ends, sla_log=sla_log)
    if output is not None:
        _write_table({"kpis": cmp.kpis, "map_difference": cmp.arcs, "variant_changes": cmp.variants, "trend": tr},
                     output, {"split": split, "segment": segment, "a": a, "b": b, "slas": slas,
                              "calendar": cal.describe() if cal else None}, log)
    if diff_map is not None:
        diff_map.write_text(svg_from_dot(difference_dot(cmp.arcs, labels=labels)), encoding="utf-8")
    if not quiet:
        typer.echo(f"A = {labels[0]} ({left.n_cases:,} cases) · B = {labels[1]} ({right.n_cases:,} cases)")
        for r in cmp.kpis.itertuples():
            clock = f"  ({r.measured_in})" if r.measured_in.startswith("working") else ""
            a_text, b_text = format_metric(r.a, r.unit), format_metric(r.b, r.unit)
            name = r.metric.removesuffix("_s") if r.unit == "seconds" else r.metric  # the file keeps the unit
            typer.echo(f"  {name:<40} {a_text:>14} {b_text:>14}  Δ {format_metric(r.delta, r.unit, signed=True)}"
                       f"{clock}")
        counts = cmp.arcs["change"].value_counts()
        typer.echo("arcs: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        typer.echo(f"variants: {int((cmp.variants['change'] == 'appeared').sum())} appeared, "
                   f"{int((cmp.variants['change'] == 'vanished').sum())} vanished")
        for col, pts in tr.attrs.get("change_points", {}).items():
            if pts:
                typer.echo(f"change points in {col}: " + ", ".join(str(tr['period'].iloc[i]) for i in pts))


@app.command()
@with_log_options
def kpis(
    log_path: LogArg,
    targets_path: Annotated[Path | None, typer.Option("--targets", help="KPI settings and targets (YAML).")] = None,
    calendar_path: CalendarOpt = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the table (.csv/.xlsx/.json).")] = None,
    log_options: LogOptions = DEFAULT_LOG_OPTIONS,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
) -> None:
    """KPI table of LOG: actual, target and status (ok / warning / breach); defaults per preset.

    Example: processmining kpis eventlogs/jira_changelog.json --calendar hours.yaml
    """
    from ..performance.calendar import load_calendar
    from ..report.kpis import kpi_cases, kpi_settings, kpi_table, load_targets

    log = log_options.load(log_path, quiet=quiet)
    settings = kpi_settings(_preset(log, log_options), load_targets(targets_path) if targets_path else None)
    cal = load_calendar(calendar_path) if calendar_path else None
    table = kpi_table(log, settings=settings, calendar=cal)
    if output is not None:
        _write_table({"kpis": table, "kpi_cases": kpi_cases(table)}, output, {"targets": str(targets_path), "calendar": str(calendar_path)},
                     log)
    if not quiet:
        for r in table.itertuples():
            value = f"{r.actual:.1%}" if r.unit == "share" else f"{r.actual / 86400:.2f} d"
            tgt = "-" if r.target is None or r.target != r.target else (
                f"{r.target:.1%}" if r.unit == "share" else f"{r.target / 86400:.2f} d")
            stage = f" [{r.stage}]" if isinstance(r.stage, str) else ""
            judged = "no target" if tgt == "-" else f"(target {tgt}) {r.status}"
            typer.echo(f"{r.kpi}{stage}: {value} {judged} · {r.cases:,} cases")
        if table.attrs.get("needs_times"):
            typer.echo(f"the log has no timestamps; not shown, as they need times: {', '.join(table.attrs['needs_times'])}")
        if table.empty:
            typer.echo("no KPI applies to this log (no won/lost, reopen or resource columns); give settings with --targets")
