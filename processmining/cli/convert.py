"""``processmining convert``: an export (CSV, XLSX, JSON, Parquet, XES) → event log (XES, CSV, Parquet)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from . import app
from .options import (
    ActivityOpt,
    CaseOpt,
    DayfirstOpt,
    EndTimestampOpt,
    PresetOpt,
    ResourceOpt,
    SheetOpt,
    TimestampOpt,
    TimezoneOpt,
    load_log,
    progress_bar,
)


def read_stage_labels(path: Path) -> dict[str, str]:
    """A stage lookup file: JSON ``{"id": "label"}`` or a CSV whose first two columns are id and label."""
    from ..errors import IngestError
    from ..ingest import read_table
    from ..ingest.tabular import load_json
    from ..safe_input import read_bytes

    data = read_bytes(path)
    if path.suffix.lower() == ".json":
        doc = load_json(data)
        if not isinstance(doc, dict):
            raise IngestError('expected a JSON object {"stage id": "label", ...}', source=data.name)
        return {str(k): str(v) for k, v in doc.items()}
    table = read_table(path)
    if table.frame.shape[1] < 2:
        raise IngestError("a stage lookup needs two columns: id and label", source=data.name)
    ids, labels = table.frame.iloc[:, 0], table.frame.iloc[:, 1]
    ok = ids.notna() & labels.notna()
    return dict(zip(ids[ok].astype(str), labels[ok].astype(str), strict=True))


def _print_presets() -> None:
    from ..ingest import list_presets

    for p in list_presets():
        typer.echo(f"{p.name:32} {p.system:11} {p.shape:10} {p.description}")


@app.command()
def convert(
    export: Annotated[Path | None, typer.Argument(help="The export: CSV, TSV, XLSX, JSON, Parquet or XES (.xes/.xes.gz).",
                                                  show_default=False)] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Event log to write: .xes, .xes.gz, .csv or "
                                                                       ".parquet.", show_default=False)] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the ingest report (every quarantined row and "
                                                                 "why) as JSON.", show_default=False)] = None,
    list_presets: Annotated[bool, typer.Option("--list-presets", help="List the export presets and exit.")] = False,
    preset: PresetOpt = None,
    case: CaseOpt = None,
    activity: ActivityOpt = None,
    timestamp: TimestampOpt = None,
    resource: ResourceOpt = None,
    end_timestamp: EndTimestampOpt = None,
    dayfirst: DayfirstOpt = None,
    timezone: TimezoneOpt = "UTC",
    sheet: SheetOpt = None,
    stage_labels: Annotated[Path | None, typer.Option(
        "--stage-labels", help="CSV (id,label) or JSON object mapping stage ids to labels (HubSpot, ServiceNow, "
                               "Pipedrive ids).", show_default=False)] = None,
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

    if not output.name.lower().endswith((".xes", ".xes.gz", ".csv", ".parquet")):
        raise IngestError(f"cannot write {output.name!r}: use .xes, .xes.gz, .csv or .parquet")
    if stage_labels is None:
        log = load_log(export, preset=preset, case=case, activity=activity, timestamp=timestamp, resource=resource,
                       end_timestamp=end_timestamp, dayfirst=dayfirst, timezone=timezone, sheet=sheet)
    else:
        from ..ingest import read_log
        from ..model import ColumnMapping

        labels = read_stage_labels(stage_labels)
        mapping = ColumnMapping(case=case, activity=activity, timestamp=timestamp, resource=resource,
                                end_timestamp=end_timestamp)
        with progress_bar(f"reading {export.name}") as progress:
            log = read_log(export, preset=preset, mapping=mapping, dayfirst=dayfirst, timezone=timezone, sheet=sheet,
                           progress=progress, stage_labels=labels)
        if log.report is not None:
            typer.echo(log.report.summary(), err=True)
    write_log(log, output)
    if report is not None and log.report is not None:
        report.write_text(log.report.to_json() + "\n", encoding="utf-8")
    typer.echo(f"wrote {output} ({log.n_events:,} events, {log.n_cases:,} cases)")
