"""The CLI shell: every command has --help, known errors are one line, bugs are no traceback."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from processmining.cli import app


def _command_paths(group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, cmd in group.commands.items():
        paths.append((*prefix, name))
        if hasattr(cmd, "commands"):  # a command group (typer's groups are not click.Group)
            paths.extend(_command_paths(cmd, (*prefix, name)))
    return paths


COMMANDS = _command_paths(typer.main.get_command(app))


def test_all_command_groups_are_registered():
    # The issues ask for these commands; a missing module would silently drop one.
    names = {p[0] for p in COMMANDS}
    assert {"convert", "discover", "bottlenecks", "conform", "quality", "demo", "bpmn", "version"} <= names
    assert ("bpmn", "check") in COMMANDS and ("bpmn", "render") in COMMANDS


def _click_command(path: tuple[str, ...]):
    cmd = typer.main.get_command(app)
    for name in path:
        cmd = cmd.commands[name]
    return cmd


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_has_help(path):
    # typer.Exit from --help once surfaced as "internal error: Exit: 0" with exit code 1.
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "250", "TERM": "dumb"})
    assert result.exit_code == 0, result.output
    assert "internal error" not in result.output
    assert f"Usage: processmining {' '.join(path)}" in " ".join(result.output.split())
    cmd = _click_command(path)
    # the help shows the command's own description and every option it takes
    summary = " ".join((cmd.help or "").split(". ")[0].split())
    assert summary and summary in " ".join(result.output.split())
    for param in cmd.params:
        if param.param_type_name == "option" and not getattr(param, "hidden", False):
            assert param.opts[0] in result.output, (param.opts[0], path)


def test_known_error_is_one_line_and_exit_2(tmp_path):
    missing = tmp_path / "nope.csv"
    result = CliRunner().invoke(app, ["convert", str(missing), "-o", str(tmp_path / "out.xes")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "nope.csv" in result.output and "file not found" in result.output


def test_url_is_refused_without_a_request(tmp_path):
    result = CliRunner().invoke(app, ["convert", "https://example.org/log.xes", "-o", str(tmp_path / "o.xes")])
    assert result.exit_code == 2
    assert "URLs are not read" in result.output


def test_usage_error_is_a_usage_message_not_an_internal_error():
    # typer ships its own copy of click: its usage errors must pass through untouched.
    result = CliRunner().invoke(app, ["convert", "--bogus"])
    assert result.exit_code == 2
    assert "No such option" in result.output
    assert "internal error" not in result.output


@pytest.mark.parametrize("command", ["convert", "discover", "bottlenecks", "conform", "quality"])
def test_every_log_command_takes_the_same_mapping_flags(command):
    # The flags are declared once (options.with_log_options); each LOG command must offer all of them.
    from processmining.cli.options import LOG_OPTIONS

    cmd = typer.main.get_command(app).commands[command]
    flags = {opt for param in cmd.params for opt in param.opts}
    expected = {"--" + name.replace("_", "-") for name in LOG_OPTIONS if name != "dayfirst"} | {"--dayfirst"}
    assert expected <= flags
