"""Benchmark: big exports (issue 17, goal 5) -- the deviation list of a 262k-event log, before and after.

    .venv/bin/python bench/bench_export.py                     # 262,144 rows, every format
    .venv/bin/python bench/bench_export.py --rows 1000000 --formats csv,xlsx,jsonl,parquet
    .venv/bin/python bench/bench_export.py --before-tree /tmp/base   # before = another checkout's writers

The table has the deviation columns (``processmining.model.DEVIATION_COLUMNS``)
with realistic values: case ids, kinds, activity labels (some formula-like,
so neutralisation runs), messages, timestamps, resources, evidence. It is
written with

* **before**: ``processmining/export.py`` as of commit ``20e2119`` (xlsxwriter
  ``constant_memory`` with one call per cell, JSON records from Python's
  encoder, CSV in Arrow), loaded from git (``--before COMMIT`` for another;
  its XLSX writer needs ``xlsxwriter`` installed); or, with ``--before-tree DIR``,
  the :func:`~processmining.export.write_tables` of another checkout (e.g. a
  ``git worktree`` of ``main``), to compare two versions of today's writers;
* **after**: the current :func:`processmining.export.write_tables` (XLSX
  sheet XML built column by column in Arrow, CSV / JSON / JSON Lines rows
  joined in Arrow per chunk of 8,192 rows, the text work once per
  distinct value of a column, Parquet).

Each measurement runs in a fresh child process (the table is built there
first, not timed) and reports the wall time, the CPU time of the process
(the fair number on a shared machine: wall time grows with the load), the
file size and the peak resident memory of the write above the child's size
before it (the kernel's peak counter is reset first; a 100-row warm-up
write does the writer's lazy imports beforehand). ``ratio`` = before / after wall time.
Targets (issue 17): XLSX <= 15 s and CSV <= 2 s on 262,144 rows, memory
bounded (a chunk of rows, not the file).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BASELINE_COMMIT = "20e2119"


def _table(n: int):  # noqa: ANN202
    import numpy as np
    import pandas as pd

    from processmining.model import DEVIATION_COLUMNS

    rng = np.random.default_rng(7)
    acts = np.array(["Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won",
                     "=HYPERLINK(\"x\")", "Discount Approval", "@Legal Review"])
    kinds = np.array(["missing", "unexpected", "out_of_order", "rule"])
    a = acts[rng.integers(0, len(acts), n)]
    k = kinds[rng.integers(0, len(kinds), n)]
    case = pd.Series(rng.integers(0, n // 20 + 1, n)).map("006Hs{:08d}".format)
    res = pd.Series(rng.integers(0, 400, n)).map("005Hs{:06d}".format)
    frame = pd.DataFrame({
        "case_id": case, "kind": k, "activity": a,
        "message": pd.Series(a).str.cat(pd.Series(k), sep=" happened, but the model does not allow it here: "),
        "rule_id": np.where(k == "rule", "sod-quote", None), "bpmn_element_id": "Task_" + pd.Series(a).str[:6],
        "expected": np.where(k == "missing", a, None), "observed": np.where(k == "unexpected", a, None),
        "timestamp": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 3e7, n), unit="s"),
        "resource": res, "severity": np.where(k == "missing", "high", "medium"),
        "evidence": pd.Series(rng.integers(0, 10 * n, n)).astype(str), "accepted": rng.random(n) < 0.02,
        "accepted_reason": None,
    })
    return frame[list(DEVIATION_COLUMNS)]


def _baseline(commit: str):  # noqa: ANN202
    src = subprocess.run(["git", "-C", str(REPO), "show", f"{commit}:processmining/export.py"],
                         check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "export_before.py"
    path.write_text(src.replace("from .", "from processmining."))
    spec = importlib.util.spec_from_file_location("export_before", path)
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def _child(which: str, fmt: str, rows: int, commit: str) -> None:
    from processmining.model import Provenance

    frame = _table(rows)
    prov = Provenance.build(inputs={"log": ("bench.xes", "0" * 64)}, parameters={"rows": rows})
    mod = _baseline(commit) if which == "before" and commit != "tree" else __import__("processmining.export",
                                                                                     fromlist=["write_tables"])
    out = Path(tempfile.mkdtemp()) / f"deviations.{fmt}"
    # warm-up on 100 rows: the writer's lazy imports are not part of the measurement
    mod.write_tables({"deviations": frame.iloc[:100], "summary": {"rows": 100}}, out, provenance=prov)
    Path("/proc/self/clear_refs").write_text("5")  # the peak below is the writer's own (Linux: reset VmHWM)
    base = _status_kb("VmRSS")
    t0, c0 = time.perf_counter(), time.process_time()
    mod.write_tables({"deviations": frame, "summary": {"rows": rows}}, out, provenance=prov)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = _status_kb("VmHWM")
    print(json.dumps({"seconds": seconds, "cpu": cpu, "mb": out.stat().st_size / 1024**2,
                      "mem_mib": max(peak - base, 0) / 1024}))


def _status_kb(field: str) -> int:
    import re

    return int(re.search(rf"^{field}:\s+(\d+)", Path("/proc/self/status").read_text(), re.M).group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=262_144)
    ap.add_argument("--formats", default="csv,xlsx,json,jsonl,parquet")
    ap.add_argument("--before", default=BASELINE_COMMIT, help="commit whose processmining/export.py is 'before'")
    ap.add_argument("--before-tree", default=None, help="a checkout whose processmining.export is 'before'")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], int(args.child[2]), args.child[3])
        return
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    envs = {"before": env, "after": env}
    before = args.before
    if args.before_tree:
        envs["before"] = {**os.environ, "PYTHONPATH": str(Path(args.before_tree).resolve())}
        before = "tree"
    print(f"deviation table: {args.rows:,} rows x 14 columns; one fresh process per cell; before = "
          f"{args.before_tree or args.before}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'format':8} {'before s':>9} {'after s':>8} {'ratio':>7} {'before cpu':>11} {'after cpu':>10} "
          f"{'before MB':>10} {'after MB':>9} {'before MiB':>11} {'after MiB':>10}")
    for fmt in args.formats.split(","):
        got = {}
        for which in ("before", "after"):
            run = subprocess.run([sys.executable, __file__, "--child", which, fmt, str(args.rows), before],
                                 env=envs[which], capture_output=True, text=True)
            if run.returncode:
                print(run.stderr[-2000:], file=sys.stderr)
                raise SystemExit(run.returncode)
            got[which] = json.loads(run.stdout.strip().splitlines()[-1])
        b, a = got.get("before"), got["after"]
        nan = float("nan")
        ratio = f"{b['seconds'] / a['seconds']:6.1f}x" if b else "    new"
        print(f"{fmt:8} {b['seconds'] if b else nan:9.2f} {a['seconds']:8.2f} {ratio:>7} {b['cpu'] if b else nan:11.2f} "
              f"{a['cpu']:10.2f} {b['mb'] if b else nan:10.1f} {a['mb']:9.1f} {b['mem_mib'] if b else nan:11.0f} "
              f"{a['mem_mib']:10.0f}", flush=True)


if __name__ == "__main__":
    main()
