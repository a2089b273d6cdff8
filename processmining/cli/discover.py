"""``processmining discover`` (process map / BPMN) and ``processmining bottlenecks`` (where time is lost).

Thin shells over :mod:`processmining.discovery`, :mod:`processmining.render`,
:mod:`processmining.filters` and :mod:`processmining.performance.bottlenecks`. Both read
LOG like ``convert`` (same mapping flags and presets) and accept the same
filter flags, applied in the order listed in ``--help`` and recorded in the
log's history.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import AnalysisError

if TYPE_CHECKING:  # pandas stays out of `--help`
    from collections.abc import Callable

    from ..model import EventLog, Provenance
from . import app
from .engine import spark_bottlenecks, spark_discover, with_engine
from .options import (
    DEFAULT_LOG_OPTIONS,
    LogArg,
    LogOptions,
    check_outputs,
    option_bundle,
    with_log_options,
)


class Metric(StrEnum):
    frequency = "frequency"
    performance = "performance"


class TimeMode(StrEnum):
    contained = "contained"
    intersecting = "intersecting"
    started = "started"
    completed = "completed"
    trim = "trim"


_F = "Filters"
FromOpt = Annotated[str | None, typer.Option("--from", help="Time frame start (date or date-time, UTC if naive).",
                                             rich_help_panel=_F)]
ToOpt = Annotated[str | None, typer.Option("--to", help="Time frame end (inclusive).", rich_help_panel=_F)]
TimeModeOpt = Annotated[TimeMode, typer.Option("--time-mode", help="Which cases a time frame keeps.",
                                               rich_help_panel=_F)]
CaseAttrOpt = Annotated[list[str] | None, typer.Option(
    "--case-attr", help="Keep cases where COLUMN=VALUE on any event (repeatable; same column = any of).",
    rich_help_panel=_F)]
ExcludeAttrOpt = Annotated[list[str] | None, typer.Option(
    "--exclude-case-attr", help="Drop cases where COLUMN=VALUE on any event (repeatable).", rich_help_panel=_F)]
EventAttrOpt = Annotated[list[str] | None, typer.Option(
    "--event-attr", help="Keep only events with COLUMN=VALUE (repeatable; same column = any of).",
    rich_help_panel=_F)]
TopVariantsOpt = Annotated[int | None, typer.Option("--top-variants", help="Keep the cases of the N most frequent variants.",
                                                    rich_help_panel=_F, min=1)]
StartActOpt = Annotated[list[str] | None, typer.Option("--start-activity", help="Keep cases starting with it (repeatable).",
                                                       rich_help_panel=_F)]
EndActOpt = Annotated[list[str] | None, typer.Option("--end-activity", help="Keep cases ending with it (repeatable).",
                                                     rich_help_panel=_F)]
FollowsOpt = Annotated[list[str] | None, typer.Option(
    "--follows", help='Keep cases where A is eventually followed by B: "A->B" (repeatable).', rich_help_panel=_F)]
DFollowsOpt = Annotated[list[str] | None, typer.Option(
    "--directly-follows", help='Keep cases where A is directly followed by B: "A->B" (repeatable).',
    rich_help_panel=_F)]
WithinOpt = Annotated[str | None, typer.Option("--within", help="Time window for --follows / --directly-follows, e.g. 4h.",
                                               rich_help_panel=_F)]
MinDurOpt = Annotated[str | None, typer.Option("--min-duration", help="Keep cases lasting at least this long (e.g. 2d).",
                                               rich_help_panel=_F)]
MaxDurOpt = Annotated[str | None, typer.Option("--max-duration", help="Keep cases lasting at most this long.",
                                               rich_help_panel=_F)]
ContainsOpt = Annotated[list[str] | None, typer.Option("--contains", help="Keep cases containing the activity (repeatable: all).",
                                                       rich_help_panel=_F)]
NotContainsOpt = Annotated[list[str] | None, typer.Option(
    "--not-contains", help="Drop cases containing the activity (repeatable).", rich_help_panel=_F)]

#: the filter flags of ``discover`` and ``bottlenecks``: name -> (annotation, default)
FILTER_OPTIONS: dict[str, tuple[Any, Any]] = {
    "time_from": (FromOpt, None), "time_to": (ToOpt, None), "time_mode": (TimeModeOpt, TimeMode.intersecting),
    "case_attr": (CaseAttrOpt, None), "exclude_case_attr": (ExcludeAttrOpt, None), "event_attr": (EventAttrOpt, None),
    "top_variants": (TopVariantsOpt, None), "start_activity": (StartActOpt, None), "end_activity": (EndActOpt, None),
    "follows": (FollowsOpt, None), "directly_follows": (DFollowsOpt, None), "within": (WithinOpt, None),
    "min_duration": (MinDurOpt, None), "max_duration": (MaxDurOpt, None),
    "contains": (ContainsOpt, None), "not_contains": (NotContainsOpt, None),
}
#: give a command the filter flags; it receives their values as ``filters`` (keyword arguments of apply_filters)
with_filter_options = option_bundle("filters", FILTER_OPTIONS, dict)


def _pairs(values: list[str] | None, flag: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for v in values or []:
        col, sep, val = v.partition("=")
        if not sep or not col.strip():
            raise AnalysisError(f"{flag} {v!r}: expected COLUMN=VALUE")
        out.setdefault(col.strip(), []).append(val)
    return out


def _arrow(value: str, flag: str) -> tuple[str, str]:
    a, sep, b = value.replace("→", "->").partition("->")
    if not sep or not a.strip() or not b.strip():
        raise AnalysisError(f'{flag} {value!r}: expected "A->B"')
    return a.strip(), b.strip()


def apply_filters(
    log: EventLog,
    *,
    time_from: str | None = None,
    time_to: str | None = None,
    time_mode: str = "intersecting",
    case_attr: list[str] | None = None,
    exclude_case_attr: list[str] | None = None,
    event_attr: list[str] | None = None,
    top_variants: int | None = None,
    start_activity: list[str] | None = None,
    end_activity: list[str] | None = None,
    follows: list[str] | None = None,
    directly_follows: list[str] | None = None,
    within: str | None = None,
    min_duration: str | None = None,
    max_duration: str | None = None,
    contains: list[str] | None = None,
    not_contains: list[str] | None = None,
    ops: Any = None,
) -> EventLog:
    """Apply the CLI filter flags in a fixed order (time, attributes, activities, follows, duration, variants).

    ``ops``: the module with the filter functions (default :mod:`processmining.filters`; the Spark engine
    passes :mod:`processmining.spark.filters`, whose functions take and return a ``SparkLog``).
    """
    from .. import filters as local

    f = ops or local

    if time_from is not None or time_to is not None:
        span = log.time_span
        if span is not None:
            log = f.filter_time_frame(log, time_from or span[0], time_to or span[1], mode=time_mode)  # type: ignore[arg-type]
    for col, vals in _pairs(case_attr, "--case-attr").items():
        log = f.filter_case_attribute(log, col, vals)
    for col, vals in _pairs(exclude_case_attr, "--exclude-case-attr").items():
        log = f.filter_case_attribute(log, col, vals, keep=False)
    for col, vals in _pairs(event_attr, "--event-attr").items():
        log = f.filter_event_attribute(log, col, vals)
    if start_activity:
        log = f.filter_start_activities(log, start_activity)
    if end_activity:
        log = f.filter_end_activities(log, end_activity)
    if contains:
        log = f.filter_contains(log, contains, how="all")
    if not_contains:
        log = f.filter_contains(log, not_contains, how="any", keep=False)
    for v in follows or []:
        a, b = _arrow(v, "--follows")
        log = f.filter_follows(log, a, b, within=within)
    for v in directly_follows or []:
        a, b = _arrow(v, "--directly-follows")
        log = f.filter_follows(log, a, b, directly=True, within=within)
    if min_duration is not None or max_duration is not None:
        log = f.filter_case_duration(log, min_duration=min_duration, max_duration=max_duration)
    if top_variants is not None:
        log = f.filter_variants(log, top=top_variants)
    return log


def working_time_note(cal: Any) -> str:
    """What ``bottlenecks --calendar`` measures in working time (both engines print it)."""
    return (f"SLA breaches are measured in working time (calendar {cal.name}, {cal.timezone}); the ranking, case "
            "durations and idle times are calendar time")


def _provenance(log: EventLog, params: dict[str, object]) -> Provenance:
    from ..model import log_provenance

    return log_provenance(log, params)


MAP_SUFFIXES = (".svg", ".png", ".dot", ".gv", ".bpmn")


@app.command()
@with_log_options
@with_filter_options
@with_engine(spark_discover)
def discover(
    log_path: LogArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="map.svg | map.png | map.dot | model.bpmn",
                                         show_default=False)],
    metric: Annotated[Metric, typer.Option("--metric", help="What the map shows on arcs.")] = Metric.frequency,
    activities: Annotated[float | None, typer.Option("--activities", min=0.0, max=1.0,
                                                     help="Share of activities kept, most frequent first (default: readable).")] = None,
    paths: Annotated[float | None, typer.Option("--paths", min=0.0, max=1.0,
                                                help="Share of paths kept, most frequent first (default: readable).")] = None,
    noise: Annotated[float, typer.Option("--noise", min=0.0, max=1.0,
                                         help="Inductive miner noise threshold for .bpmn output.")] = 0.2,
    large_labels: Annotated[bool, typer.Option("--large-labels", help="Big fonts for a projector.")] = False,
    hide_numbers: Annotated[bool, typer.Option("--hide-numbers", help="Draw the flow without numbers.")] = False,
    anonymise: Annotated[bool, typer.Option("--anonymise", help="Replace activity names by Activity A, B, ...")] = False,
    filters: dict[str, Any] | None = None,
    log_options: LogOptions = DEFAULT_LOG_OPTIONS,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Draw the process map (SVG / PNG / DOT) or discover a BPMN model (.bpmn) of LOG."""
    suffix = output.suffix.lower()
    if suffix not in MAP_SUFFIXES:
        raise AnalysisError(f"cannot write {output.name!r}: use one of {', '.join(MAP_SUFFIXES)}")
    check_outputs(log_path, output=output)
    log = log_options.load(log_path, quiet=quiet)
    log = apply_filters(log, **(filters or {}))
    if log.n_events == 0:
        raise AnalysisError("no case is left after the filters: " + "; ".join(log.history), source=str(log_path))
    if suffix == ".bpmn":
        from ..discovery import discover_bpmn
        from ..safe_input import write_atomic

        write_atomic(output, discover_bpmn(log, noise_threshold=noise))
        if not quiet:
            typer.echo(f"wrote {output} (inductive miner, noise threshold {noise}, {log.n_cases:,} cases)", err=True)
        return
    from ..discovery import process_map, simplify
    from ..render import render_map

    full = process_map(log)
    pm = simplify(full, activities=activities, paths=paths)
    fmt = {".svg": "svg", ".png": "png"}.get(suffix, "dot")
    out = render_map(pm, metric=metric.value, fmt=fmt, large_labels=large_labels,  # type: ignore[arg-type]
                     hide_numbers=hide_numbers, anonymise=anonymise)
    from ..safe_input import write_atomic

    write_atomic(output, out)
    if not quiet:
        for step in log.history:
            typer.echo(f"  {step}", err=True)
        msg = (f"wrote {output}: {len(pm.activities)} of {len(full.activities)} activities, "
               f"{len(pm.arcs)} of {len(full.arcs)} paths, {pm.n_cases:,} cases")
        if pm.connectors:
            msg += f" (kept to connect: {', '.join(pm.connectors)})"
        typer.echo(msg, err=True)


REPORT_SUFFIXES = (".json", ".csv", ".xlsx", ".zip")

#: the ranking's row kinds, printed as separate tables: (kind, heading, what the shares are of)
RANKING_TABLES = (
    ("arc", "Where is time lost between two steps (arcs)", "total waiting time"),
    ("waiting before", "Where is time lost before an activity (all waiting that ends there)", "total waiting time"),
    ("processing", "Where is time spent in an activity (processing, start to complete)", "total processing time"),
)


def _print_ranking(ranking: Any, *, top: int) -> None:
    """The bottleneck ranking as one table per kind, each with shares of its own total (adding up to 100 %).

    An arc and the waiting before its target are two views of the same time, so they are never ranked
    together (their shares would add up to 200 %).
    """
    from ..render import format_duration

    for kind, heading, of in RANKING_TABLES:
        part = ranking[ranking["kind"] == kind]
        if part.empty:
            continue
        total = float(part["total_s"].sum())
        typer.echo(f"{heading}, share of the {of} ({format_duration(total)}; this table's shares add up to 100 %):")
        for row in part.head(top).itertuples(index=False):
            typer.echo(f"  {row.share:6.1%}  {format_duration(row.total_s):>9} total  "
                       f"{format_duration(row.median_s):>8} median  {row.name}")


def echo_bottlenecks(tables: dict[str, Any], *, top: int, final: list[str] | None) -> None:
    """Print the bottleneck report's summary lines (both engines)."""
    typer.echo(tables["summary"].at[0, "timing"])
    _print_ranking(tables["bottlenecks"], top=top)
    if "sla_summary" in tables:
        for row in tables["sla_summary"].itertuples(index=False):
            typer.echo(f"SLA {row.target}: {row.late + row.open_breached:,} of {row.measured:,} cases breached "
                       f"({row.late:,} late, {row.open_breached:,} still open"
                       + (f", {row.not_reached:,} ended without the target)" if final else ")"))
            if row.open_breached and not final:
                typer.echo("  cases that never reached the target count as still open; name the activities "
                           "that end a case with --final (e.g. --final 'Closed Lost') to count them as ended")
    if "stuck_cases" in tables:
        typer.echo(f"stuck cases (running and idle too long): {len(tables['stuck_cases']):,}")
    if "case_status" in tables:
        typer.echo(tables["summary"].iloc[0]["case_status"])


@app.command()
@with_log_options
@with_filter_options
@with_engine(spark_bottlenecks)
def bottlenecks(
    log_path: LogArg,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="report.json | .csv | .xlsx | .zip",
                                                show_default=False)] = None,
    sla: Annotated[list[str] | None, typer.Option(
        "--sla", help='Time target, repeatable: "A->B<=4h", "Stage<=14d", "start->B<=30d", "A->B<=5d if priority=High".')] = None,
    idle: Annotated[str | None, typer.Option("--idle", help="List cases without an event for longer than this (e.g. 60d).")] = None,
    final: Annotated[list[str] | None, typer.Option(
        "--final", help="End activity (repeatable): cases with none of them are listed as open.")] = None,
    stages: Annotated[str | None, typer.Option(
        "--stages", help="Pipeline stage order, comma-separated: enables backward moves and the funnel.")] = None,
    lost: Annotated[str | None, typer.Option("--lost", help="The lost stage (e.g. 'Closed Lost') for funnel drop-outs.")] = None,
    ping_pong_attribute: Annotated[str, typer.Option("--ping-pong-by", help="Column for ping-pong (lines, teams, people).")] = "concept:name",
    ping_pong_ignore: Annotated[list[str] | None, typer.Option("--ping-pong-ignore", help="Values skipped for ping-pong (repeatable).")] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Rows of the ranking printed.")] = 10,
    pseudonymize: Annotated[str | None, typer.Option(
        "--pseudonymize", help="Key: case ids and resources become keyed hashes (HMAC-SHA256) in the report.")] = None,
    calendar_path: Annotated[Path | None, typer.Option(
        "--calendar", help="Business-hours calendar (YAML): SLA clocks run in working time, as in the report.")] = None,
    filters: dict[str, Any] | None = None,
    log_options: LogOptions = DEFAULT_LOG_OPTIONS,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Where is time lost? Bottleneck ranking, SLA breaches, stuck cases, rework, ping-pong, handovers, funnel.

    With ``--calendar`` the SLA breaches are measured in working time (the same
    ``working_sla_breaches`` as the report and the app's Bottlenecks page); the
    ranking, case durations and idle times stay calendar time, as there.
    """
    if output is not None and output.suffix.lower() not in REPORT_SUFFIXES:
        raise AnalysisError(f"cannot write {output.name!r}: use one of {', '.join(REPORT_SUFFIXES)}")
    from ..performance import bottleneck_report, parse_sla

    targets = [parse_sla(s) for s in sla or []]  # malformed targets fail before the log is read
    cal = None
    if calendar_path is not None:
        from ..performance.calendar import load_calendar

        cal = load_calendar(calendar_path)  # a bad calendar fails before the log is read, too
    check_outputs(log_path, output=output)
    log = log_options.load(log_path, quiet=quiet)
    log = apply_filters(log, **(filters or {}))
    if log.n_events == 0:
        raise AnalysisError("no case is left after the filters: " + "; ".join(log.history), source=str(log_path))
    from ..performance.calendar import working_sla_breaches
    from ..pseudonyms import Pseudonymizer

    report_bottlenecks(log, bottleneck_report, working_sla_breaches, Pseudonymizer.from_log,
                       _provenance, output=output, sla=sla, targets=targets, cal=cal,
                       idle=idle, final=final, stages=stages, lost=lost, ping_pong_attribute=ping_pong_attribute,
                       ping_pong_ignore=ping_pong_ignore, top=top, pseudonymize=pseudonymize, quiet=quiet)


def report_bottlenecks(log: Any, build: Callable[..., dict[str, Any]], working_breaches: Callable[..., Any],
                       make_pseudonymizer: Callable[..., Any], provenance: Callable[[Any, dict[str, Any]], Any], *,
                       output: Path | None, sla: list[str] | None, targets: list[Any], cal: Any, idle: str | None,
                       final: list[str] | None, stages: str | None, lost: str | None, ping_pong_attribute: str,
                       ping_pong_ignore: list[str] | None, top: int, pseudonymize: str | None, quiet: bool) -> None:
    """The tables of ``bottlenecks`` built, printed and written, on either engine: ``build`` is the engine's
    ``bottleneck_report``, ``working_breaches`` its ``working_sla_breaches``, ``make_pseudonymizer(log, key=)``
    its pseudonymizer and ``provenance(log, params)`` its provenance."""
    order = [s.strip() for s in stages.split(",") if s.strip()] if stages else None
    tables = build(log, slas=[] if cal else targets, idle=idle, end_activities=final, stage_order=order,
                   lost=lost, ping_pong_attribute=ping_pong_attribute, ping_pong_ignore=ping_pong_ignore or ())
    if cal is not None and targets:
        tables["sla_breaches"], tables["sla_summary"] = working_breaches(log, targets, cal, end_activities=final)
    if not quiet:
        echo_bottlenecks(tables, top=top, final=final)
        if cal is not None and targets:
            typer.echo(working_time_note(cal))
    if output is not None:
        from ..export import write_tables

        params = {"sla": sla or [], "idle": idle, "final": final or [], "stages": order, "lost": lost,
                  "ping_pong_by": ping_pong_attribute, "ping_pong_ignore": ping_pong_ignore or [],
                  "calendar": cal.describe() if cal else None}
        pseudo = make_pseudonymizer(log, key=pseudonymize) if pseudonymize else None
        written = write_tables(tables, output, provenance=provenance(log, {**params, "pseudonymized": bool(pseudo)}),
                               pseudonymizer=pseudo)
        if not quiet:
            typer.echo(f"wrote {', '.join(str(p) for p in written)}", err=True)
