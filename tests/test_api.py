"""The top-level package: light to import, every advertised verb resolves."""

from __future__ import annotations

import subprocess
import sys

import processmining


def test_every_public_name_resolves():
    missing = [name for name in processmining.__all__ if not hasattr(processmining, name)]
    assert missing == []


def test_import_does_not_load_pm4py():
    # pm4py takes seconds to import; the CLI and app start-up must not pay for it.
    code = "import sys, processmining; processmining.read_log; print('pm4py' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
