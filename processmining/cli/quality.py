"""``processmining quality LOG -o report.json|html``: the data-quality audit from the command line.

A thin shell over :func:`processmining.quality.audit` and the fixes in
:mod:`processmining.quality.fixes`; every fix is explicit (``--fix``), printed
and recorded in the report's history.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import ProcessMiningError
from . import app
from .options import (
    DEFAULT_LOG_OPTIONS,
    LogArg,
    LogOptions,
    check_outputs,
    progress_bar,
    with_log_options,
)


class Fix(StrEnum):
    merge_labels = "merge-labels"
    drop_duplicates = "drop-duplicates"
    exclude_incomplete = "exclude-incomplete"
    shift_timezone = "shift-timezone"


REPORT_SUFFIXES = (".json", ".html", ".htm")
LOG_SUFFIXES = (".xes", ".xes.gz", ".csv", ".xlsx", ".json", ".zip")


def _parse_now(value: str | None) -> object:
    if value is None:
        return None
    import pandas as pd

    try:
        ts = pd.Timestamp(value)
    except ValueError as exc:
        raise ProcessMiningError(f"--now {value!r} is not a date or date-time (use e.g. 2024-12-02T06:00Z)") from exc
    try:
        return (ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).as_unit("ns")
    except (ValueError, OverflowError):
        raise ProcessMiningError(f"--now {value!r} is outside the dates this tool holds (1677-09-22 to "
                                 "2262-04-11)") from None


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".xes.gz" if name.endswith(".xes.gz") else path.suffix.lower()


def _write_fixed_log(log: object, dest: Path) -> None:
    suffix = _suffix(dest)
    if suffix not in LOG_SUFFIXES:
        raise ProcessMiningError(f"cannot write a log as {suffix or 'a file without extension'}; "
                                 f"use one of {', '.join(LOG_SUFFIXES)}", source=str(dest))
    if suffix in (".xes", ".xes.gz", ".csv"):
        from ..ingest import write_log

        write_log(log, dest)  # type: ignore[arg-type]
        return
    from ..export import write_tables

    write_tables({"events": log.df}, dest)  # type: ignore[attr-defined]  # internal @@ columns are left out


@app.command("quality")
@with_log_options
def quality(
    log_path: LogArg,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report: .json or .html. "
                                                "Without it a summary is printed.")] = None,
    log_options: LogOptions = DEFAULT_LOG_OPTIONS,
    now: Annotated[str | None, typer.Option("--now", help="Reference time for 'events in the future' "
                                            "(default: the time of the audit). E.g. the export date.")] = None,
    start_activity: Annotated[list[str] | None, typer.Option("--start-activity", help="A start activity "
                                                              "(repeatable; default: inferred).")] = None,
    end_activity: Annotated[list[str] | None, typer.Option("--end-activity", help="An end activity "
                                                            "(repeatable; default: inferred).")] = None,
    creation_activity: Annotated[str | None, typer.Option("--creation-activity", help="Activity that creates a "
                                                          "case, for 'events before creation'.")] = None,
    silence_days: Annotated[int, typer.Option("--silence-days", min=1, help="Silence after which an account "
                                              "acting again is reported.")] = 90,
    stale_days: Annotated[int | None, typer.Option("--stale-days", min=1, help="Idle days after which an open case "
                                                   "is stale (default: the preset's idle limit, else 60).")] = None,
    fix: Annotated[list[Fix] | None, typer.Option("--fix", help="Apply a fix before the audit (repeatable, in "
                                                  "order): merge-labels, drop-duplicates, exclude-incomplete, "
                                                  "shift-timezone.")] = None,
    declared_timezone: Annotated[str | None, typer.Option("--declared-timezone", help="For --fix shift-timezone: "
                                                          "the zone the naive timestamps were really in.")] = None,
    fixed_log: Annotated[Path | None, typer.Option("--fixed-log", help="Write the fixed log (.xes, .xes.gz, "
                                                   ".csv, .xlsx, .json, .zip).")] = None,
    pseudonymize: Annotated[str | None, typer.Option(
        "--pseudonymize", help="Key: case ids and resources become keyed hashes (HMAC-SHA256) in the report "
        "and the fixed log.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No ingest summary or progress.")] = False,
) -> None:
    """Audit an event log's data quality: batch entry, date-only times, synonymous labels, duplicates,
    incomplete cases, returning accounts, missing values, ... with a score per dimension."""
    import pandas as pd

    from ..quality import (
        QualityConfig,
        audit,
        drop_duplicate_events,
        exclude_incomplete_cases,
        merge_synonymous_labels,
        shift_timezone,
    )

    if output is not None and _suffix(output) not in REPORT_SUFFIXES:
        raise ProcessMiningError(f"the report must be .json or .html, got {output.name!r}", source=str(output))
    if Fix.shift_timezone in (fix or []) and not declared_timezone:
        raise ProcessMiningError("--fix shift-timezone needs --declared-timezone (e.g. Europe/Berlin)")
    config = QualityConfig(
        now=_parse_now(now),  # type: ignore[arg-type]
        start_activities=tuple(start_activity) if start_activity else None,
        end_activities=tuple(end_activity) if end_activity else None,
        creation_activity=creation_activity,
        silence=pd.Timedelta(days=silence_days),
        stale_after=pd.Timedelta(days=stale_days) if stale_days else None,
    )
    check_outputs(log_path, output=output, fixed_log=fixed_log)
    log = log_options.load(log_path, quiet=quiet)
    for step in fix or []:
        if step is Fix.merge_labels:
            result = merge_synonymous_labels(log, config=config)
        elif step is Fix.drop_duplicates:
            result = drop_duplicate_events(log)
        elif step is Fix.exclude_incomplete:
            result = exclude_incomplete_cases(log, config=config)
        else:
            result = shift_timezone(log, timezone=str(declared_timezone))
        log = result.log
        if not quiet:
            typer.echo(f"fix: {result.step}", err=True)
    with progress_bar("auditing", quiet=quiet) as progress:
        report = audit(log, config=config, progress=progress)
    if pseudonymize:
        from ..pseudonyms import Pseudonymizer

        pseudo = Pseudonymizer.from_log(log, key=pseudonymize)
        report = report.pseudonymized(pseudo)
        log = log.with_frame(pseudo.frame(log.df), step="pseudonymized")
    if fixed_log is not None:
        _write_fixed_log(log, fixed_log)
        if not quiet:
            typer.echo(f"wrote fixed log {fixed_log} ({log.n_events:,} events, {log.n_cases:,} cases)", err=True)
    if output is None:
        typer.echo(report.to_text())
        return
    text = report.to_json() if _suffix(output) == ".json" else report.to_html()
    from ..safe_input import write_atomic

    write_atomic(output, text + ("\n" if not text.endswith("\n") else ""))
    if not quiet:
        typer.echo(f"wrote {output}: {len(report.findings)} findings, overall score {report.overall_score:.1f}/100, "
                   f"{report.cases_affected_share:.1%} of cases affected "
                   f"({dt.datetime.now(dt.UTC):%H:%M:%S} UTC)", err=True)
