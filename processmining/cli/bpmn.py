"""``processmining bpmn check`` (import report) and ``processmining bpmn render`` (diagram as SVG / PNG).

Thin shells over :mod:`processmining.bpmn`. ``check`` exits 0 when the model
is usable for conformance checking and 2 (with the reasons) when it is not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ..errors import BpmnError
from . import app as root

bpmn_app = typer.Typer(
    name="bpmn",
    help="Check and draw BPMN 2.0 reference models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
root.add_typer(bpmn_app, name="bpmn")

ModelArg = Annotated[Path, typer.Argument(help="BPMN 2.0 file (.bpmn / .xml) from any modelling tool.", show_default=False)]
ProcessOpt = Annotated[
    str | None,
    typer.Option("--process", help="Process to use: its id or name, or a pool name (default: the one with most tasks)."),
]


@bpmn_app.command("check")
def check(
    model_path: ModelArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print the import report as JSON.")] = False,
    process: ProcessOpt = None,
) -> None:
    """Print the import report: what was mapped, approximated, ignored or refused, and whether the model is usable."""
    from ..bpmn import check_soundness, read_bpmn  # the model's own compiled net: pm4py is never imported

    model = read_bpmn(model_path, process=process)
    report = model.report
    soundness = None
    if report.usable:
        soundness = check_soundness(model, timeout_s=10)
    unsound = soundness.reason if soundness is not None and soundness.sound is False else None
    if as_json:
        data = report.to_dict()
        data["usable"] = report.usable and unsound is None
        data["tasks"] = [t.label for t in model.tasks]
        data["lanes"] = {t.label: model.lane_of(t.label) for t in model.tasks if t.label}
        data["soundness"] = None if soundness is None else {"sound": soundness.sound, "reason": soundness.reason}
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        typer.echo(report.summary(unsound=unsound))
        typer.echo(f"  tasks ({len(model.tasks)}): " + ", ".join(repr(t.label or t.id) for t in model.tasks[:30])
                   + (" ..." if len(model.tasks) > 30 else ""))
        if soundness is not None:
            typer.echo(f"  soundness: {soundness.reason}")
    if not report.usable:
        more = f" (and {len(report.problems) - 1} more problems)" if len(report.problems) > 1 else ""
        raise BpmnError(f"not usable for conformance: {report.problems[0]}{more}", source=model.source)
    if soundness is not None and soundness.sound is False:
        raise BpmnError(f"not usable for conformance: {soundness.reason}", source=model.source)


@bpmn_app.command("render")
def render(
    model_path: ModelArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Output file: .svg or .png.", show_default=False)],
    process: ProcessOpt = None,
    title: Annotated[str | None, typer.Option("--title", help="Title drawn above the diagram.")] = None,
) -> None:
    """Draw the model in BPMN notation (from its diagram interchange, else an automatic layout)."""
    from ..bpmn import read_bpmn, render_svg
    from ..bpmn.diagram import svg_to_png

    suffix = output.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise BpmnError(f"output must end in .svg or .png, got {output.name!r}", source=str(output))
    model = read_bpmn(model_path, process=process)
    svg = render_svg(model, title=title)
    from ..safe_input import write_atomic

    write_atomic(output, svg if suffix == ".svg" else svg_to_png(svg))
    typer.echo(f"wrote {output} ({'from diagram interchange' if model.diagram else 'automatic layout'}, "
               f"{len(model.nodes)} elements)")
