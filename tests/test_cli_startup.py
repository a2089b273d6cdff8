"""Start-up of the CLI: commands that need neither pandas nor pydantic import neither (fresh interpreter).

Typer 0.29 coerces every parameter through a pydantic ``TypeAdapter``; the CLI gives plain text, flag, path
and text-list parameters a pydantic-free coercion (``processmining.cli._install_light_coercion``), so
``bpmn check`` and ``version`` start without it. Values must come out exactly as typer's own coercion gives them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner

from processmining.cli import _install_light_coercion

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "pm4py", "pydantic", "numpy", "pyarrow")


def _imported(args: list[str]) -> tuple[int, list[str]]:
    code = (
        "import sys, json\n"
        "from processmining.cli import app\n"
        "try:\n"
        f"    app({args!r}, prog_name='processmining')\n"
        "except SystemExit as exc:\n"
        "    rc = exc.code or 0\n"
        f"print(json.dumps([rc, sorted(m for m in {HEAVY!r} if m in sys.modules)]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    rc, mods = json.loads(proc.stdout.strip().splitlines()[-1])
    return rc, mods


def test_bpmn_check_and_version_import_neither_pandas_nor_pydantic():
    assert _imported(["bpmn", "check", str(REPO / "bpmn_models" / "lead_to_order.bpmn")]) == (0, [])
    assert _imported(["version"]) == (0, [])


def test_light_coercion_gives_typer_values(tmp_path):
    _install_light_coercion()  # idempotent: installed once when processmining.cli is imported
    seen = {}
    app = typer.Typer(rich_markup_mode=None)

    @app.command()
    def cmd(path: Path, name: str | None = None, tag: list[str] | None = None, flag: bool = False,
            n: int = 3) -> None:
        seen.update(path=path, name=name, tag=tag, flag=flag, n=n)

    runner = CliRunner()
    res = runner.invoke(app, [str(tmp_path / "x.bpmn"), "--name", "Approve", "--tag", "a", "--tag", "b", "--flag",
                              "--n", "7"])
    assert res.exit_code == 0, res.output
    assert seen == {"path": tmp_path / "x.bpmn", "name": "Approve", "tag": ["a", "b"], "flag": True, "n": 7}
    assert type(seen["path"]) is type(tmp_path)  # a pathlib.Path, as typer gives
    res = runner.invoke(app, ["p"])
    assert res.exit_code == 0 and seen == {"path": Path("p"), "name": None, "tag": None, "flag": False, "n": 3}
    res = runner.invoke(app, ["p", "--n", "x"])  # numbers keep typer's own coercion and message
    assert res.exit_code == 2
    assert "Invalid value for '--n': Input should be a valid integer, unable to parse string as an integer" in res.output
