"""Options shared by every command that reads an event log, and CLI progress bars.

Every command that takes a LOG accepts the same mapping flags and presets as
``convert``; use the ``*Opt`` annotations and :func:`load_log`.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from ..model import ColumnMapping, EventLog, ProgressFn

LogArg = Annotated[Path, typer.Argument(help="Event log: CSV, XLSX, JSON, XES (.xes/.xes.gz) or Parquet.", show_default=False)]
PresetOpt = Annotated[
    str | None,
    typer.Option("--preset", "-p", help="Export layout of the source system (see `processmining convert --list-presets`)."),
]
CaseOpt = Annotated[str | None, typer.Option("--case", help="Column with the case id.")]
ActivityOpt = Annotated[str | None, typer.Option("--activity", help="Column with the activity / stage / status.")]
TimestampOpt = Annotated[str | None, typer.Option("--timestamp", help="Column with the event (completion) time.")]
ResourceOpt = Annotated[str | None, typer.Option("--resource", help="Column with the user / agent / team.")]
EndTimestampOpt = Annotated[
    str | None, typer.Option("--end-timestamp", help="Column with the end time; --timestamp is then the start.")
]
DayfirstOpt = Annotated[
    bool | None,
    typer.Option("--dayfirst/--monthfirst", help="How to read ambiguous dates like 03/04/2024.", show_default=False),
]
TimezoneOpt = Annotated[str, typer.Option("--timezone", help="Time zone of timestamps without an offset.")]
SheetOpt = Annotated[str | None, typer.Option("--sheet", help="XLSX sheet name (default: the first).")]


def load_log(
    path: Path,
    *,
    preset: str | None = None,
    case: str | None = None,
    activity: str | None = None,
    timestamp: str | None = None,
    resource: str | None = None,
    end_timestamp: str | None = None,
    dayfirst: bool | None = None,
    timezone: str = "UTC",
    sheet: str | None = None,
    quiet: bool = False,
) -> EventLog:
    """Read LOG with the mapping flags, print the ingest summary to stderr, return the log."""
    from ..ingest import read_log

    mapping = ColumnMapping(case=case, activity=activity, timestamp=timestamp, resource=resource,
                            end_timestamp=end_timestamp)
    with progress_bar(f"reading {path.name}", quiet=quiet) as progress:
        log = read_log(path, preset=preset, mapping=mapping, dayfirst=dayfirst, timezone=timezone,
                       sheet=sheet, progress=progress)
    if not quiet and log.report is not None:
        typer.echo(log.report.summary(), err=True)
    return log


@contextlib.contextmanager
def progress_bar(label: str, *, quiet: bool = False) -> Iterator[ProgressFn]:
    """A :data:`ProgressFn` that draws a progress bar on stderr (only on a terminal)."""
    if quiet or not sys.stderr.isatty():
        yield lambda done, total, text: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int, text: str) -> None:
            bar.update(task, completed=done, total=total or None, description=text or label)

        yield update
