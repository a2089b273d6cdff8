"""The CLI starts instantly: `--help` and `bpmn check` do not import pandas or pm4py (checked in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "pm4py", "numpy", "pyarrow", "rich")


def _imported_after(args: list[str], heavy: tuple[str, ...] = HEAVY) -> tuple[int, list[str]]:
    """Run the CLI with ``args`` in a new interpreter; exit code and which ``heavy`` modules it imported."""
    code = (
        "import sys, json\n"
        "from processmining.cli import app\n"
        "try:\n"
        f"    app({args!r}, prog_name='processmining')\n"
        "except SystemExit as exc:\n"
        "    rc = exc.code or 0\n"
        f"print(json.dumps([rc, sorted(m for m in {heavy!r} if m in sys.modules)]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    rc, mods = json.loads(proc.stdout.strip().splitlines()[-1])
    return rc, mods


def test_help_imports_no_heavy_library():
    assert _imported_after(["--help"]) == (0, [])
    assert _imported_after(["conform", "--help"]) == (0, [])
    assert _imported_after(["bpmn", "--help"]) == (0, [])


def test_bpmn_check_imports_no_heavy_library():
    rc, mods = _imported_after(["bpmn", "check", str(REPO / "bpmn_models" / "lead_to_order.bpmn")])
    assert (rc, [m for m in mods if m in ("pandas", "pm4py")]) == (0, [])
