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


def test_lazy_names_are_the_library_functions():
    # the lazy table must point at the real implementation, not a same-named stand-in
    import importlib

    for name, module in processmining._LAZY.items():
        target = getattr(importlib.import_module(f"processmining.{module}"), name)
        assert getattr(processmining, name) is target, name
        assert callable(target) and target.__module__.startswith("processmining."), name


def test_top_level_verbs_work_end_to_end():
    # three cases: two follow A -> B -> C, one goes A -> C (B skipped)
    csv = (b"case,activity,time\n"
           b"1,A,2024-01-01 09:00\n1,B,2024-01-01 10:00\n1,C,2024-01-01 12:00\n"
           b"2,A,2024-01-02 09:00\n2,B,2024-01-02 09:30\n2,C,2024-01-02 10:00\n"
           b"3,A,2024-01-03 09:00\n3,C,2024-01-03 09:10\n")
    log = processmining.read_log(csv, name="abc.csv")
    assert (log.n_events, log.n_cases) == (8, 3)
    pm = processmining.process_map(log)
    arcs = {(r.source, r.target): r.frequency for r in pm.arcs.itertuples()}
    assert arcs[("A", "B")] == 2 and arcs[("B", "C")] == 2 and arcs[("A", "C")] == 1
    v = processmining.variants(log)
    assert list(v["cases"]) == [2, 1]
    assert v.loc[0, "activities"] == ("A", "B", "C")
