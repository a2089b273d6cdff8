"""Benchmark: XES import (and export) of processmining vs plain pm4py and ``rustxes``, in the same run.

    .venv/bin/python bench/bench_ingest.py                      # the three real logs, 3 repeats
    .venv/bin/python bench/bench_ingest.py --repeat 1 --files bpic2013_incidents.xes.gz
    .venv/bin/python bench/bench_ingest.py --rustxes-path /tmp/rustxes-site   # rustxes installed apart

``rustxes`` (a Rust XES importer; the ``bench-xes`` extra) is the floor of
issue 17 goal 3: our reader should take <= 1.3x its time. Install it apart
(``pip install --target DIR rustxes``) and pass ``--rustxes-path DIR``:
installed into the project's environment it becomes pm4py's default XES
importer, which would change what every pm4py comparison in the tests reads.
rustxes does not keep our guarantees (checked with rustxes 0.2.11: a
truncated or mismatched document or an HTML page raises a Rust panic without
a line; duplicate trace ids are merged; ``<int value="abc">`` becomes 0 and
an unreadable date null with only a message on stdout; an ``<event>``
inside an ``<event>`` becomes two events; attributes of the same key in two
namespaces are dropped; an entity reference is kept as the text ``&x;``),
so it is measured, not used.

Every measurement runs in a fresh child process, so the peak memory of one reader
never hides in the other's high-water mark. A child imports its library first (not
timed: pm4py's import alone takes seconds), records its resident memory, runs the
reader once and reports the wall time and the peak resident set size above that
baseline (``ru_maxrss``). The best time of ``--repeat`` runs is printed, with the
ratio pm4py / ours (> 1 means we are faster).

pm4py runs its plain Python importer: ``pm4py.read_xes(path, variant="iterparse")``
(it returns a dataframe) and ``pm4py.write_xes(df, path)``. Times are wall
clock and CPU of the child (the fair number on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATASETS = Path(os.environ.get("PROCESSMINING_DATASETS", REPO.parent / "shared" / "datasets"))
DEFAULT_FILES = ("bpic2013_incidents.xes.gz", "receipt.xes.gz", "bpic2019_p2p_1t_per_variant.xes.gz",
                 "sepsis_1t_per_variant.xes.gz")


def _rss_kib() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _child(task: str, path: str) -> None:
    """Run one measurement and print it as JSON (in a fresh process)."""
    out = Path(tempfile.mkdtemp()) / "out.xes"
    cpu0 = 0.0
    if task == "rustxes-read":
        import rustxes

        base = _rss_kib()
        start, cpu0 = time.perf_counter(), time.process_time()
        df, _ = rustxes.import_xes(path)
        n_events, n_cases = df.height, df["case:concept:name"].n_unique()
    elif task.startswith("ours"):
        sys.path.insert(0, str(REPO))
        from processmining.xes import read_xes, write_xes

        if task == "ours-write":
            log = read_xes(path)
        base = _rss_kib()
        start, cpu0 = time.perf_counter(), time.process_time()
        if task == "ours-read":
            log = read_xes(path)
            n_events, n_cases = log.n_events, log.n_cases
        else:
            write_xes(log, out)
            n_events, n_cases = log.n_events, log.n_cases
    else:
        import warnings

        warnings.filterwarnings("ignore")
        import pm4py

        if task == "pm4py-write":
            df = pm4py.read_xes(path, variant="iterparse", show_progress_bar=False)
        base = _rss_kib()
        start, cpu0 = time.perf_counter(), time.process_time()
        if task == "pm4py-read":
            df = pm4py.read_xes(path, variant="iterparse", show_progress_bar=False)
        else:
            pm4py.write_xes(df, str(out))
        n_events, n_cases = len(df), int(df["case:concept:name"].nunique())
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mib": max(peak - base, 0) / 1024, "events": n_events,
                      "cases": n_cases}))


def _measure(task: str, path: Path, repeat: int, rustxes_path: str | None = None) -> dict:
    best: dict | None = None
    env = dict(os.environ)
    if task.startswith("rustxes") and rustxes_path:
        env["PYTHONPATH"] = rustxes_path + os.pathsep + env.get("PYTHONPATH", "")
    for _ in range(repeat):
        proc = subprocess.run(
            [sys.executable, __file__, "--child", task, str(path)],
            capture_output=True, text=True, check=True, env=env,
        )
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        if best is None or result["seconds"] < best["seconds"]:
            best = result
    assert best is not None
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", nargs="*", default=list(DEFAULT_FILES), help="file names under datasets/real/")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is shown")
    parser.add_argument("--no-write", action="store_true", help="only measure reading")
    parser.add_argument("--rustxes-path", help="folder holding the rustxes package (pip install --target DIR)")
    parser.add_argument("--child", nargs=2, metavar=("TASK", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    probe = subprocess.run([sys.executable, "-c", "import rustxes"], capture_output=True,
                           env={**os.environ, "PYTHONPATH": (args.rustxes_path or "") + os.pathsep
                                + os.environ.get("PYTHONPATH", "")})
    has_rustxes = probe.returncode == 0
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
          f"best of {args.repeat} (by wall time); x pm4py = pm4py / ours (> 1: we are faster), "
          "ours/rustxes = ours / rustxes (target <= 1.3, wall and CPU); "
          + ("rustxes found" if has_rustxes else "rustxes not found (--rustxes-path)"))
    header = f"{'file':28} {'op':5} {'events':>8} {'cases':>6} {'ours s':>7} {'cpu':>6} {'pm4py s':>8} {'cpu':>6} " \
             f"{'x pm4py':>8} {'rustxes s':>9} {'cpu':>6} {'ours/rustxes':>12} {'cpu':>6} {'ours MiB':>9} {'pm4py MiB':>9}"
    print(header)
    print("-" * len(header))
    for name in args.files:
        path = DATASETS / "real" / name
        for op in ("read",) if args.no_write else ("read", "write"):
            ours = _measure(f"ours-{op}", path, args.repeat)
            theirs = _measure(f"pm4py-{op}", path, args.repeat)
            rust = _measure("rustxes-read", path, args.repeat, args.rustxes_path) if op == "read" and has_rustxes \
                else None
            same = (ours["events"], ours["cases"]) == (theirs["events"], theirs["cases"])
            rust_cols = (f"{rust['seconds']:>9.2f} {rust['cpu']:>6.2f} {ours['seconds'] / rust['seconds']:>12.2f} "
                         f"{ours['cpu'] / rust['cpu']:>6.2f}" if rust else f"{'':>9} {'':>6} {'':>12} {'':>6}")
            print(f"{name:28} {op:5} {ours['events']:>8,} {ours['cases']:>6,} {ours['seconds']:>7.2f} "
                  f"{ours['cpu']:>6.2f} {theirs['seconds']:>8.2f} {theirs['cpu']:>6.2f} "
                  f"{theirs['seconds'] / ours['seconds']:>7.2f}x {rust_cols} "
                  f"{ours['peak_mib']:>9.0f} {theirs['peak_mib']:>9.0f}" + ("" if same else "  COUNTS DIFFER"),
                  flush=True)


if __name__ == "__main__":
    main()
