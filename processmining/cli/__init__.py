"""The ``processmining`` command line: thin Typer commands over the library.

Each command group lives in its own module and is registered in
:data:`COMMAND_MODULES`. Known failures (:class:`ProcessMiningError`) become
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
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root() -> None:
    """Sales- and support-process mining and BPMN conformance for CRM and ticket exports."""


@app.command()
def version() -> None:
    """Print the processmining version."""
    from ..model import tool_version

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
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as exc:  # that command group is not in this build
        if exc.name != f"{__name__}.{_name}":
            raise


def main() -> None:
    """Console-script entry point."""
    app(prog_name="processmining")
