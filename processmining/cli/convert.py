"""``processmining convert``: an export (CSV, XLSX, JSON, Parquet, XES) → event log (XES, CSV, Parquet)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from . import app
from .options import (
    DEFAULT_LOG_OPTIONS,
    LogOptions,
    check_outputs,
    with_log_options,
)


def _print_presets() -> None:
    from ..ingest import list_presets

    for p in list_presets():
        typer.echo(f"{p.name:32} {p.system:11} {p.shape:10} {p.description}")


@app.command()
@with_log_options
def convert(
    export: Annotated[Path | None, typer.Argument(help="The export: CSV, TSV, XLSX, JSON, Parquet or XES (.xes/.xes.gz).",
                                                  show_default=False)] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Event log to write: .xes, .xes.gz, .csv or "
                                                                       ".parquet.", show_default=False)] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the ingest report (every quarantined row and "
                                                                 "why) as JSON.", show_default=False)] = None,
    list_presets: Annotated[bool, typer.Option("--list-presets", help="List the export presets and exit.")] = False,
    log_options: LogOptions = DEFAULT_LOG_OPTIONS,
) -> None:
    """Convert a CRM / ticket export into an event log, accounting for every row.

    Example: processmining convert OpportunityFieldHistory.csv --preset salesforce-field-history -o log.xes --report r.json
    """
    if list_presets:
        _print_presets()
        return
    if export is None or output is None:
        raise typer.BadParameter("give an EXPORT file and -o OUTPUT (or --list-presets)")
    from ..errors import IngestError
    from ..ingest import write_log
    from ..safe_input import write_atomic

    if not output.name.lower().endswith((".xes", ".xes.gz", ".csv", ".parquet")):
        raise IngestError(f"cannot write {output.name!r}: use .xes, .xes.gz, .csv or .parquet")
    check_outputs(export, output=output, report=report)
    log = log_options.load(export)
    write_log(log, output)
    if report is not None and log.report is not None:
        write_atomic(report, log.report.to_json() + "\n")
    typer.echo(f"wrote {output} ({log.n_events:,} events, {log.n_cases:,} cases)")
