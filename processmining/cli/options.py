"""Options shared by every command that reads an event log, and CLI progress bars.

Every command that takes a LOG accepts the same mapping flags and presets as
``convert``: decorate it with :func:`with_log_options` (below ``@app.command()``)
and read the log with ``log_options.load(path)``.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:  # pandas stays out of `--help` and of commands that read no log
    from ..model import EventLog, ProgressFn

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


StageLabelsOpt = Annotated[
    Path | None,
    typer.Option("--stage-labels", help="CSV (id,label) or JSON object mapping stage ids to labels (HubSpot, "
                                        "ServiceNow, Pipedrive ids).", show_default=False),
]

class Lifecycle(StrEnum):
    """How start / complete events of one activity instance are read (see :mod:`processmining.lifecycle`)."""

    instances = "instances"
    classifier = "classifier"
    events = "events"


LifecycleOpt = Annotated[
    Lifecycle,
    typer.Option("--lifecycle", help="Logs with start/complete events: 'instances' pairs them into one activity "
                                     "instance with a start and an end time (default); 'classifier' keeps every "
                                     "event, named activity+transition, as ProM does; 'events' keeps the events "
                                     "as read. Logs without start events are read as they are.",
                 case_sensitive=False),
]

#: the shared flags: name -> annotation (all default to None except the time zone)
LOG_OPTIONS: dict[str, Any] = {
    "preset": PresetOpt,
    "case": CaseOpt,
    "activity": ActivityOpt,
    "timestamp": TimestampOpt,
    "resource": ResourceOpt,
    "end_timestamp": EndTimestampOpt,
    "dayfirst": DayfirstOpt,
    "timezone": TimezoneOpt,
    "sheet": SheetOpt,
    "stage_labels": StageLabelsOpt,
    "lifecycle": LifecycleOpt,
}
#: the defaults of the shared flags that are not None
LOG_DEFAULTS: dict[str, Any] = {"timezone": "UTC", "lifecycle": Lifecycle.instances}


@dataclass(frozen=True)
class LogOptions:
    """How to read LOG: the values of the shared flags (see :func:`with_log_options`)."""

    preset: str | None = None
    case: str | None = None
    activity: str | None = None
    timestamp: str | None = None
    resource: str | None = None
    end_timestamp: str | None = None
    dayfirst: bool | None = None
    timezone: str = "UTC"
    sheet: str | None = None
    stage_labels: Path | None = None
    lifecycle: str = "instances"

    def parameters(self) -> dict[str, Any]:
        """The options as plain values, for provenance."""
        return {k: (str(v) if isinstance(v, Path | StrEnum) else v) for k, v in asdict(self).items()}

    def load(self, path: Path, *, quiet: bool = False) -> EventLog:
        """Read LOG with these options, print the ingest summary to stderr, return the log."""
        from ..ingest import read_log
        from ..model import ColumnMapping

        mapping = ColumnMapping(case=self.case, activity=self.activity, timestamp=self.timestamp,
                                resource=self.resource, end_timestamp=self.end_timestamp)
        labels = read_stage_labels(self.stage_labels) if self.stage_labels else None
        with progress_bar(f"reading {path.name}", quiet=quiet) as progress:
            log = read_log(path, preset=self.preset, mapping=mapping, dayfirst=self.dayfirst, timezone=self.timezone,
                           sheet=self.sheet, progress=progress, stage_labels=labels, lifecycle=str(self.lifecycle))
        if not quiet and log.report is not None:
            typer.echo(log.report.summary(), err=True)
        return log


def check_outputs(*inputs: Path | None, **outputs: Path | None) -> None:
    """Refuse bad output paths before any work: an output that is one of ``inputs``, two outputs on one file,
    a missing folder, a folder, a symlink loop (one line each, exit code 2).

    The writers check again when they write (:func:`processmining.safe_input.check_output_path`),
    against every file the command has read.
    """
    import os

    from ..errors import OutputError
    from ..safe_input import check_output_path

    seen: dict[str, str] = {}
    for flag, path in outputs.items():
        if path is None:
            continue
        check_output_path(path, inputs=inputs)
        key = os.path.realpath(path)
        if key in seen:
            raise OutputError(f"is given for both --{seen[key].replace('_', '-')} and --{flag.replace('_', '-')}; "
                              "choose two different files", source=str(path))
        seen[key] = flag


#: the default for a command's ``log_options`` parameter (filled in by the decorator)
DEFAULT_LOG_OPTIONS = LogOptions()


def option_bundle(param: str, options: Mapping[str, tuple[Any, Any]],
                  build: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator that gives a command a set of shared flags, declared once.

    ``options`` maps a parameter name to ``(annotation, default)``. The flags
    are added to the command's signature (which is what Typer reads); the
    command receives ``build(**values)`` as its parameter ``param``.
    Decorators made this way stack.
    """

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.name != param]
        shared = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)
                  for name, (annotation, default) in options.items()]

        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            values = {name: kwargs.pop(name) for name in options}
            return command(*args, **{param: build(**values)}, **kwargs)

        run.__signature__ = signature.replace(parameters=[*own, *shared])  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in (*own, *shared)}
        return run

    return decorate


#: give a command the shared LOG flags; it receives their values as ``log_options: LogOptions``
with_log_options = option_bundle(
    "log_options", {name: (annotation, LOG_DEFAULTS.get(name)) for name, annotation in LOG_OPTIONS.items()},
    LogOptions)


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
