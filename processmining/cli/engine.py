"""``--engine local|spark``: the same ``discover``, ``bottlenecks`` and ``conform`` on Apache Spark.

A command decorated with :func:`with_engine` gets the flags ``--engine``,
``--spark-remote sc://host:15002`` (Spark Connect), ``--spark-master``
(``local[*]``, ...), ``--source-format`` (``auto``, ``parquet``, ``csv``,
``delta``, ``table``: LOG is then a table name), ``--quarantine-to`` and
``--deviations-to``. With ``--engine local`` (the default) the command runs
unchanged; with ``--engine spark`` the Spark version below runs, which calls
:mod:`processmining.spark` and prints and writes like the local command.
PySpark is imported only when ``--engine spark`` is chosen.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import AnalysisError, ConformanceError
from .options import LogOptions, check_outputs, option_bundle


class Engine(StrEnum):
    local = "local"
    spark = "spark"


_S = "Engine"
EngineOpt = Annotated[Engine, typer.Option("--engine", help="Where the analysis runs: this machine or Apache Spark.",
                                           rich_help_panel=_S)]
RemoteOpt = Annotated[str | None, typer.Option(
    "--spark-remote", help="Spark Connect address of a cluster, e.g. sc://host:15002 (implies --engine spark).",
    rich_help_panel=_S)]
MasterOpt = Annotated[str | None, typer.Option(
    "--spark-master", help="Spark master for a session started here (default local[*]).", rich_help_panel=_S)]
SourceFormatOpt = Annotated[str, typer.Option(
    "--source-format", help="Spark: how to read LOG: auto, parquet, csv, delta (a path) or table (a table name).",
    rich_help_panel=_S)]
QuarantineOpt = Annotated[str | None, typer.Option(
    "--quarantine-to", help="Spark: write quarantined rows here (Parquet path or table name).", rich_help_panel=_S)]
DeviationsOpt = Annotated[str | None, typer.Option(
    "--deviations-to", help="Spark conform: write the per-case deviations here (Parquet path or table name) "
                            "instead of collecting them into --output.", rich_help_panel=_S)]

ENGINE_OPTIONS: dict[str, tuple[Any, Any]] = {
    "engine": (EngineOpt, Engine.local), "spark_remote": (RemoteOpt, None), "spark_master": (MasterOpt, None),
    "source_format": (SourceFormatOpt, "auto"), "quarantine_to": (QuarantineOpt, None),
    "deviations_to": (DeviationsOpt, None),
}
SOURCE_FORMATS = ("auto", "parquet", "csv", "delta", "table")
#: flags that only the Spark engine reads: given with the local engine they stop the command (never ignored)
SPARK_ONLY = {"spark_master": None, "source_format": "auto", "quarantine_to": None, "deviations_to": None}
SHEET_ON_SPARK = ("--sheet picks a sheet of an XLSX workbook, and the Spark engine reads Parquet and CSV only: "
                  "convert the workbook first (processmining convert BOOK.xlsx --sheet NAME -o log.parquet)")
PROCESSES_ON_SPARK = ("--processes sets the worker processes of the local engine; on Spark the executors align the "
                      "variants (give them cores with --spark-master local[N] or the cluster's settings)")


@dataclass(frozen=True)
class EngineOptions:
    """The values of the engine flags (see :func:`with_engine`)."""

    engine: Engine = Engine.local
    spark_remote: str | None = None
    spark_master: str | None = None
    source_format: str = "auto"
    quarantine_to: str | None = None
    deviations_to: str | None = None

    @property
    def spark(self) -> bool:
        return self.engine == Engine.spark or self.spark_remote is not None

    def config(self) -> Any:
        """The checked session config (no network, no PySpark import)."""
        from ..spark.session import session_config

        return session_config(master=self.spark_master, remote=self.spark_remote)

    def load(self, source: Path, log_options: LogOptions, *, quiet: bool) -> Any:
        """Start (or reach) Spark and read LOG there with the shared mapping flags; print the ingest summary."""
        if self.source_format not in SOURCE_FORMATS:
            raise AnalysisError(f"--source-format must be one of {', '.join(SOURCE_FORMATS)}, "
                                f"got {self.source_format!r}")
        if log_options.sheet:
            raise AnalysisError(SHEET_ON_SPARK)
        from ..model import ColumnMapping
        from .options import read_stage_labels

        labels = read_stage_labels(log_options.stage_labels) if log_options.stage_labels else None  # before Spark
        from ..spark.session import spark_session
        from ..spark.source import read_events

        config = self.config()
        if not quiet:
            typer.echo(f"engine: Spark ({config.remote or config.master})", err=True)
        spark = spark_session(config)
        mapping = ColumnMapping(case=log_options.case, activity=log_options.activity, timestamp=log_options.timestamp,
                                resource=log_options.resource, end_timestamp=log_options.end_timestamp)
        log = read_events(spark, str(source), fmt=self.source_format, preset=log_options.preset,
                          mapping=mapping if any(mapping.to_dict().values()) else None,
                          dayfirst=log_options.dayfirst, timezone=log_options.timezone,
                          quarantine_to=self.quarantine_to, lifecycle=str(log_options.lifecycle),
                          stage_labels=labels)
        if not quiet:
            typer.echo(log.report.summary(), err=True)
        return log


def with_engine(spark_command: Callable[..., Any], *,
                deviations: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command the engine flags; with ``--engine spark`` run ``spark_command`` (same arguments) instead.

    ``deviations``: the command also gets ``--deviations-to`` (``conform``).
    A Spark-only flag given with the local engine stops the command with one
    line naming it. Put it directly above the ``def`` (below the other option
    decorators).
    """
    options = {k: v for k, v in ENGINE_OPTIONS.items() if deviations or k != "deviations_to"}

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(command, eval_str=True)

        @functools.wraps(command)
        def choose(*args: Any, engine_options: EngineOptions = EngineOptions(), **kwargs: Any) -> Any:
            if engine_options.spark:
                return spark_command(*args, engine_options=engine_options, **kwargs)
            given = [k for k, default in SPARK_ONLY.items() if getattr(engine_options, k) != default]
            if given:
                flag = "--" + given[0].replace("_", "-")
                raise AnalysisError(f"{flag} is an option of the Spark engine: add --engine spark "
                                    "(or --spark-remote), or leave it out")
            return command(*args, **kwargs)

        extra = inspect.Parameter("engine_options", inspect.Parameter.KEYWORD_ONLY, default=EngineOptions())
        choose.__signature__ = signature.replace(parameters=[*signature.parameters.values(), extra])  # type: ignore[attr-defined]
        return option_bundle("engine_options", options, EngineOptions)(choose)

    return decorate


def _filtered(log: Any, filters: dict[str, Any] | None, source: Path) -> Any:
    """The shared filter flags applied on the cluster (:mod:`processmining.spark.filters`), in the local
    order and with the local history; no case left is the local error."""
    used = [k for k, v in (filters or {}).items() if v not in (None, [], ()) and k != "time_mode"]
    if not used:
        return log
    from ..spark import filters as spark_filters
    from .discover import apply_filters

    log = apply_filters(log, ops=spark_filters, **(filters or {}))
    if log.n_events == 0:
        raise AnalysisError("no case is left after the filters: " + "; ".join(log.history), source=str(source))
    return log


def _provenance(log: Any, params: dict[str, Any]) -> Any:
    from ..model import Provenance

    return Provenance.build(inputs={"log": (log.name, "")},
                            parameters={**params, "log_history": list(log.history), "engine": "spark"})


# ------------------------------------------------------------------ the Spark commands
def spark_discover(log_path: Path, *, output: Path, metric: Any, activities: float | None, paths: float | None,
                   large_labels: bool = False, hide_numbers: bool = False, anonymise: bool = False,
                   noise: float = 0.2, filters: dict[str, Any] | None = None, log_options: LogOptions, quiet: bool = False,
                   engine_options: EngineOptions, **_: Any) -> None:
    """``discover --engine spark``: the map is computed on Spark, simplified and drawn here; a ``.bpmn`` output
    is the local inductive miner on the variants counted on Spark."""
    from ..discovery import simplify
    from ..render import render_map
    from ..spark.discovery import process_map
    from .discover import MAP_SUFFIXES

    suffix = output.suffix.lower()
    if suffix not in MAP_SUFFIXES:
        raise AnalysisError(f"cannot write {output.name!r}: use one of {', '.join(MAP_SUFFIXES)}")
    check_outputs(log_path, output=output)
    log = _filtered(engine_options.load(log_path, log_options, quiet=quiet), filters, log_path)
    if suffix == ".bpmn":
        from ..safe_input import write_atomic
        from ..spark.discovery import discover_bpmn

        write_atomic(output, discover_bpmn(log, noise_threshold=noise))
        if not quiet:
            typer.echo(f"wrote {output} (inductive miner, noise threshold {noise}, "
                       f"{log.cases().count():,} cases, Spark)", err=True)
        return
    full = process_map(log)
    if full.n_events == 0:
        raise AnalysisError("the log has no events", source=str(log_path))
    pm = simplify(full, activities=activities, paths=paths)
    fmt = {".svg": "svg", ".png": "png"}.get(suffix, "dot")
    out = render_map(pm, metric=metric.value, fmt=fmt, large_labels=large_labels, hide_numbers=hide_numbers,
                     anonymise=anonymise)
    if isinstance(out, bytes):
        output.write_bytes(out)
    else:
        output.write_text(out, encoding="utf-8")
    if not quiet:
        for step in log.history:
            typer.echo(f"  {step}", err=True)
        typer.echo(f"wrote {output}: {len(pm.activities)} of {len(full.activities)} activities, "
                   f"{len(pm.arcs)} of {len(full.arcs)} paths, {pm.n_cases:,} cases (Spark)", err=True)


def spark_bottlenecks(log_path: Path, *, output: Path | None = None, sla: list[str] | None = None,
                      idle: str | None = None, final: list[str] | None = None, stages: str | None = None,
                      lost: str | None = None, top: int = 10, pseudonymize: str | None = None,
                      ping_pong_attribute: str = "concept:name", ping_pong_ignore: list[str] | None = None,
                      calendar_path: Path | None = None, filters: dict[str, Any] | None = None,
                      log_options: LogOptions, quiet: bool = False, engine_options: EngineOptions,
                      **_: Any) -> None:
    """``bottlenecks --engine spark``: every table aggregated on Spark, printed and written here; with
    ``--calendar`` the SLA clocks run in working time on the executors (:mod:`processmining.spark.calendar`)."""
    from ..performance import parse_sla
    from ..spark.performance import bottleneck_report
    from .discover import REPORT_SUFFIXES, report_bottlenecks

    if output is not None and output.suffix.lower() not in REPORT_SUFFIXES:
        raise AnalysisError(f"cannot write {output.name!r}: use one of {', '.join(REPORT_SUFFIXES)}")
    targets = [parse_sla(s) for s in sla or []]
    cal = None
    if calendar_path is not None:
        from ..performance.calendar import load_calendar

        cal = load_calendar(calendar_path)  # a bad calendar fails before Spark starts
    check_outputs(log_path, output=output)
    log = _filtered(engine_options.load(log_path, log_options, quiet=quiet), filters, log_path)
    from ..spark.calendar import working_sla_breaches
    from ..spark.pseudonyms import pseudonymizer

    report_bottlenecks(log, bottleneck_report, working_sla_breaches, pseudonymizer, _provenance, output=output,
                       sla=sla, targets=targets, cal=cal, idle=idle, final=final, stages=stages, lost=lost,
                       ping_pong_attribute=ping_pong_attribute, ping_pong_ignore=ping_pong_ignore, top=top,
                       pseudonymize=pseudonymize, quiet=quiet)


def spark_conform(log_path: Path, model_path: Path, *, output: Path, rules_path: Path | None = None,
                  roles_path: Path | None = None, mapping_path: Path | None = None, alias: list[str] | None = None,
                  ignore: list[str] | None = None, accepted_path: Path | None = None,
                  pseudonymize: str | None = None, mode: str = "alignments", precision: str = "token-replay",
                  timeout: float = 10.0, summary_path: Path | None = None, running: str = "auto",
                  end_activity: list[str] | None = None, processes: int | None = None, log_options: LogOptions,
                  quiet: bool = False, engine_options: EngineOptions, **_: Any) -> None:
    """``conform --engine spark``: variants aligned (or replayed) per variant, rules checked and accepted
    patterns marked on the executors; deviations written on the cluster."""
    from ..bpmn import read_label_mapping
    from ..conformance import read_accepted, read_model
    from ..export import write_tables
    from ..rules import load_rules, read_roles
    from ..spark.conformance import conform
    from .conform import _describe, checked_flags

    if processes is not None:
        raise AnalysisError(PROCESSES_ON_SPARK)
    mode_name, aliases, precision_method = checked_flags(mode=mode, running=running, end_activity=end_activity,
                                                         output=output, alias=alias, precision=precision)
    check_outputs(log_path, model_path, rules_path, roles_path, mapping_path, accepted_path,
                  output=output, summary=summary_path)
    model = read_model(model_path)
    rules = load_rules(rules_path) if rules_path else None  # bad rule files fail before Spark starts
    roles = read_roles(roles_path) if roles_path else None
    accepted = read_accepted(accepted_path) if accepted_path else None
    label_mapping = read_label_mapping(mapping_path) if mapping_path else None
    log = engine_options.load(log_path, log_options, quiet=quiet)
    if end_activity:
        missing = sorted(set(end_activity) - set(log.activity_cases().index))
        if missing:
            raise ConformanceError(f"--end-activity {missing[0]!r} is not an activity of the log", source=str(log_path))
    pseudo = None
    if pseudonymize:
        from ..spark.pseudonyms import pseudonymizer

        pseudo = pseudonymizer(log, key=pseudonymize)
    dest = engine_options.deviations_to
    result = conform(log, model, rules=rules, mode=mode_name, variant_timeout_s=timeout,  # type: ignore[arg-type]
                     label_mapping=label_mapping, activity_map=aliases, ignore_activities=ignore or (),
                     running=running, end_activities=end_activity or None, accepted=accepted,  # type: ignore[arg-type]
                     roles=roles, precision=precision_method, deviations_to=None if pseudo else dest)
    summary = result.summary
    if summary["cases"] == 0:
        raise ConformanceError("the log has no cases", source=str(log_path))
    if pseudo is not None and dest is not None:  # names replaced on the executors before the table is written
        from ..spark.conformance import _write
        from ..spark.pseudonyms import pseudonymize_frame

        _write(pseudonymize_frame(result.deviations, pseudo), dest)
    tables: dict[str, Any] = {"summary": summary, "variants": result.variants}
    if dest is None:  # small enough for one machine: collect into --output
        tables = {"deviations": result.deviation_table(), **tables}
    params = {**result.parameters, **log_options.parameters(), "deviations_to": dest,
              "pseudonymized": bool(pseudo)}
    provenance = _provenance(log, params)
    write_tables(tables, output, provenance=provenance, pseudonymizer=pseudo)
    if summary_path is not None:
        doc = {"provenance": provenance.to_dict(), **(pseudo.mapping(summary) if pseudo else summary)}
        summary_path.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    if not quiet:
        typer.echo(_describe(summary, output))
        if engine_options.deviations_to:
            typer.echo(f"deviations written on the cluster: {engine_options.deviations_to}")
