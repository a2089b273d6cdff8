"""The ``processmining`` command line: thin Typer commands over the library.

Each command group lives in its own module and is registered in
:data:`COMMAND_MODULES`. Command modules import only typer and the light
modules (errors) at the top; pandas, pm4py and the analysis packages are
imported inside the commands that use them, so ``--help`` and ``bpmn check``
start in a fraction of a second. Known failures (:class:`ProcessMiningError`) become
one line on stderr and exit code 2; anything else is reported as an internal
error with exit code 1, never a traceback (set ``PROCESSMINING_DEBUG=1`` to
see one). The handling sits in the click group, so ``CliRunner`` tests see
exactly what users see.
"""

from __future__ import annotations

import importlib
import os

import typer
from typer.core import TyperGroup

from ..errors import ProcessMiningError

#: exit code for input the tool cannot use
EXIT_UNUSABLE = 2


def _install_light_coercion() -> None:
    """Coerce plain text, path and text-list parameters without pydantic (0.25 s of start-up per command).

    Typer (0.29) builds a pydantic ``TypeAdapter`` for every parameter of the
    command that runs, even for ``str`` values; importing pydantic costs more
    than the rest of ``bpmn check``. Parameters annotated ``str``, ``bool``
    (flags), ``Path`` (checked by typer's own path rules) or ``list[str]``
    (each optionally ``| None``) get a pydantic-free coercion with the same
    results; every
    other annotation (numbers with bounds, choices) keeps typer's. If typer's
    internals change, typer's own coercion stays in place.
    """
    try:
        import types
        import typing
        from dataclasses import dataclass
        from pathlib import Path

        from typer import core
        from typer._coercion import RuntimeParam
        from typer._param_types import coerce_cli_path
    except (ImportError, AttributeError):  # pragma: no cover - another typer
        return
    original = getattr(core, "build_runtime_param", None)
    if original is None or getattr(original, "_light", False):
        return

    @dataclass(frozen=True)
    class _Light(RuntimeParam):
        kind: str = "str"
        descriptor: typing.Any = None

        def _coerce_value(self, value, param, ctx):  # noqa: ANN001, ANN202
            if self.kind == "bool":  # flags arrive as bools; text (an environment variable) goes to typer
                if isinstance(value, bool):
                    return value
                return original(self.descriptor)._coerce_value(value, param=param, ctx=ctx)
            if self.kind == "str":
                return value if isinstance(value, str) else str(value)
            if self.kind == "list":
                return [v if isinstance(v, str) else str(v) for v in value]
            return coerce_cli_path(value if isinstance(value, Path) else Path(value), self.parameter_info,
                                   path_type=Path, param=param, ctx=ctx)

    def light(descriptor):  # noqa: ANN001, ANN202
        ann, info = descriptor.annotation, descriptor.parameter_info
        if typing.get_origin(ann) in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            ann = args[0] if len(args) == 1 else None
        kind = None
        if descriptor.file_annotation is None and getattr(info, "parser", None) is None:
            if ann is str:
                kind = "str"
            elif ann is bool:
                kind = "bool"
            elif ann is Path and getattr(info, "path_type", None) is None:
                kind = "path"
            elif typing.get_origin(ann) is list and typing.get_args(ann) == (str,):
                kind = "list"
        if kind is None:
            return original(descriptor)
        try:
            return _Light(parameter_info=info, annotation=descriptor.annotation, kind=kind, descriptor=descriptor)
        except Exception:  # noqa: BLE001 - another typer's RuntimeParam: its own coercion
            return original(descriptor)

    light._light = True  # type: ignore[attr-defined]
    core.build_runtime_param = light


_install_light_coercion()


class _SafeGroup(TyperGroup):
    def invoke(self, ctx):  # type: ignore[override]
        from ..safe_input import tracking_inputs

        try:
            with tracking_inputs():  # no output of this command may overwrite a file it read
                return super().invoke(ctx)
        except (typer.TyperException, typer.Exit, typer.Abort):
            # usage errors, --help, ctrl-c prompts: typer (its own copy of click) prints them
            raise
        except ProcessMiningError as exc:
            typer.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_UNUSABLE)
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:  # noqa: BLE001 - the last line of defence for CLI users
            if os.environ.get("PROCESSMINING_DEBUG"):
                raise
            typer.echo(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in processmining; rerun with PROCESSMINING_DEBUG=1 for details and report it.",
                err=True,
            )
            ctx.exit(1)


app = typer.Typer(
    name="processmining",
    cls=_SafeGroup,
    help="Sales- and support-process mining and BPMN conformance for CRM and ticket exports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain help text: formatting it with rich costs more than the rest of the start-up together
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root() -> None:
    """Sales- and support-process mining and BPMN conformance for CRM and ticket exports."""


@app.command()
def version() -> None:
    """Print the processmining version."""
    from ..version import tool_version

    typer.echo(f"processmining {tool_version()}")


#: modules under processmining.cli that add commands to ``app`` when imported
COMMAND_MODULES = (
    "convert",
    "bpmn",
    "discover",
    "conform",
    "quality",
    "demo",
    "report",
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_name}")
for _group in app.registered_groups:  # command groups (``bpmn``) print plain help too
    if _group.typer_instance is not None:
        _group.typer_instance.rich_markup_mode = None


def main() -> None:
    """Console-script entry point."""
    app(prog_name="processmining")
