"""Benchmark: the local engine vs the Spark engine (local mode) on generated CRM logs written as Parquet.

Run from the project root::

    nice -n 10 .venv/bin/python bench/bench_spark.py [--events 1000000,10000000] [--master local[2]]
        [--memory 8g] [--engines local,spark] [--data DIR] [--no-conformance] [--timeout 1800]
        [--baseline DIR]

For each size, the seeded demo generator (``processmining.demo.generate_sales_log``,
the large-log generator behind ``processmining demo --scale``) writes a
canonical sales log as Parquet. Each engine then runs in its own process,
measured in the same run: reading the Parquet file, the process map,
the variants, the bottleneck ranking, the case status (idle 30 d; on Spark one
row per case comes to the driver: its bytes per case are printed) and
conformance against ``bpmn_models/lead_to_order.bpmn``. Printed per step: wall time, the
Spark / local ratio, and the peak resident memory of the whole process tree
(Python + JVM), sampled every 0.1 s from /proc. For Spark the stage metrics
(tasks, executor run time per job, from the Spark UI's REST API on loopback)
show how much of the work is spread over tasks -- what more executors would
divide -- and how much stays on the driver; the jobs of each step (count and
time) show where the Spark side spends its time.

``--baseline DIR`` (a checkout of another commit, e.g. ``git worktree add /tmp/base main``)
also runs that tree's local engine on the same files in the same run, in its own
process: its column, the ratio baseline / local, and whether both local engines
gave byte-identical tables (process map, variants, ranking, case status: a
digest of every value and dtype).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MODEL = ROOT / "bpmn_models" / "lead_to_order.bpmn"


# ------------------------------------------------------------------ memory of a process tree
def _tree_rss_kib(pid: int) -> int:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        stack += children.get(p, [])
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


def run_measured(cmd: list[str], timeout_s: float, root: Path = ROOT) -> tuple[dict, float]:
    """Run ``cmd`` (killed after ``timeout_s``) with ``root``'s package first on the path; return its JSON result
    (last stdout line) and the peak RSS of its process tree (MiB)."""
    err = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - read after the child exits
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(root)})
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss_kib(proc.pid))
            time.sleep(0.1)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        out, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_tree(proc.pid)
        proc.communicate()
        err.seek(0)
        done = [ln for ln in err.read().splitlines() if ln.startswith("[step]")]
        raise SystemExit(f"{' '.join(cmd[-4:])}: no result within {timeout_s:.0f} s (stopped; peak RSS "
                         f"{peak[0] / 1024:,.0f} MiB); finished: {'; '.join(d[7:] for d in done) or 'nothing'}") \
            from None
    t.join()
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        err.seek(0)
        text = err.read().splitlines()
        tail = "\n".join([ln for ln in text if ln.startswith("[step]")] + text[-15:])
        raise SystemExit(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{tail}")
    return json.loads(lines[-1]), peak[0] / 1024


def _kill_tree(pid: int) -> None:
    """Stop a worker and the JVM it started (children first)."""
    import signal

    kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    for k in kids:
        _kill_tree(int(k))
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


# ------------------------------------------------------------------ the two workers
def _timed(times: dict[str, float], name: str, fn, cpu: dict[str, float] | None = None):  # noqa: ANN001, ANN202
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    times[name] = time.perf_counter() - t0
    if cpu is not None:  # this process's CPU time (all its threads): the fair figure on a shared machine
        cpu[name] = time.process_time() - c0
    print(f"[step] {name}: {times[name]:.1f} s", file=sys.stderr, flush=True)  # shown when a run is stopped
    return out


def worker_local(path: str, conformance: bool) -> dict:
    from processmining.bpmn import read_bpmn
    from processmining.conformance import conform
    from processmining.discovery import process_map, variants
    from processmining.ingest import read_log
    from processmining.performance import bottleneck_ranking
    from processmining.status import case_status

    times: dict[str, float] = {}
    cpu: dict[str, float] = {}
    log = _timed(times, "read", lambda: read_log(path, max_bytes=1 << 40), cpu)
    pm = _timed(times, "map", lambda: process_map(log), cpu)
    v = _timed(times, "variants", lambda: variants(log), cpu)
    rank = _timed(times, "ranking", lambda: bottleneck_ranking(log, pm=pm), cpu)
    st = _timed(times, "status", lambda: case_status(log, idle="30d"), cpu)
    out = {"times": times, "cpu": cpu, "events": log.n_events, "variants": len(v), "arcs": len(pm.arcs),
           "ranking": rank["name"].tolist(), "status": st["status"].value_counts().to_dict(),
           "digest": _digest(pm.arcs, pm.activities, v, rank, st),
           "tree": str(Path(sys.modules["processmining"].__file__).parent.parent)}
    if conformance:
        res = _timed(times, "conformance", lambda: conform(log, read_bpmn(MODEL), precision=True), cpu)
        out["fitness"] = res.summary["fitness"]
        out["deviating_cases"] = res.summary["deviating_cases"]
    return out


def _digest(*tables) -> str:  # noqa: ANN002
    """A hash of every value, dtype, column and index of ``tables``: equal digests = identical results."""
    import hashlib

    import pandas as pd

    h = hashlib.sha256()
    for t in tables:
        t = t.reset_index()
        h.update(repr([(str(c), str(d)) for c, d in t.dtypes.items()]).encode())
        t = t.apply(lambda col: col.map(repr) if col.dtype == object else col)  # tuples, None
        h.update(pd.util.hash_pandas_object(t, index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def worker_spark(path: str, conformance: bool, master: str, partitions: int, memory: str) -> dict:
    from processmining.bpmn import read_bpmn
    from processmining.spark.conformance import conform
    from processmining.spark.discovery import process_map, variants
    from processmining.spark.performance import bottleneck_ranking
    from processmining.spark.session import session_config, spark_session
    from processmining.spark.source import read_events
    from processmining.spark.status import case_status

    times: dict[str, float] = {}
    cfg = session_config(master=master, shuffle_partitions=partitions,
                         conf={"spark.ui.enabled": "true", "spark.ui.port": "4047", "spark.driver.memory": memory})
    spark = _timed(times, "session", lambda: spark_session(cfg))

    def step(name, fn):  # noqa: ANN001, ANN202 - the step's jobs are grouped under its name
        spark.sparkContext.setJobGroup(name, name)
        return _timed(times, name, fn)

    log = step("read", lambda: read_events(spark, path))
    pm = step("map", lambda: process_map(log))  # includes the one ordering of events per case (cached)
    v = step("variants", lambda: variants(log))
    rank = step("ranking", lambda: bottleneck_ranking(log, pm=pm))
    st = step("status", lambda: case_status(log, idle="30d"))  # one row per case to the driver
    facts = log.case_facts()
    out = {"times": times, "events": log.report.events, "variants": len(v), "arcs": len(pm.arcs),
           "ranking": rank["name"].tolist(), "status": st["status"].value_counts().to_dict(),
           "driver_bytes_per_case": float((facts.memory_usage(deep=True).sum()
                                           + st.memory_usage(deep=True).sum()) / max(len(facts), 1))}
    if conformance:
        dest = tempfile.mkdtemp(prefix="pm_dev_") + "/deviations.parquet"
        res = step("conformance", lambda: conform(log, read_bpmn(MODEL), deviations_to=dest))
        out["fitness"] = res.summary["fitness"]
        out["deviating_cases"] = res.summary["deviating_cases"]
    try:  # the UI answers slowly on a loaded machine: the timings above must not be lost to it
        out["stages"] = _stage_metrics(spark)
    except OSError as exc:
        print(f"[step] stage metrics unavailable: {exc}", file=sys.stderr, flush=True)
        out["stages"] = None
    return out


def _stage_metrics(spark) -> dict:  # noqa: ANN001
    """Tasks and executor time of every stage, from the UI's REST API (loopback only)."""
    base = spark.sparkContext.uiWebUrl
    app_id = spark.sparkContext.applicationId
    with urllib.request.urlopen(f"{base}/api/v1/applications/{app_id}/stages?status=complete", timeout=300) as r:
        stages = json.load(r)
    tasks = sum(s["numTasks"] for s in stages)
    exec_ms = sum(s["executorRunTime"] for s in stages)
    multi = [s for s in stages if s["numTasks"] > 1]
    with urllib.request.urlopen(f"{base}/api/v1/applications/{app_id}/jobs", timeout=300) as r:
        jobs = json.load(r)
    per_step: dict[str, dict[str, float]] = {}
    for j in jobs:
        if "completionTime" in j:
            got = per_step.setdefault(j.get("jobGroup") or "-", {"jobs": 0, "job_s": 0.0})
            got["jobs"] += 1
            got["job_s"] += (_when(j["completionTime"]) - _when(j["submissionTime"])).total_seconds()
    return {"stages": len(stages), "tasks": tasks, "executor_run_s": exec_ms / 1000, "per_step": per_step,
            "executor_run_s_in_multi_task_stages": sum(s["executorRunTime"] for s in multi) / 1000,
            "shuffle_read_mib": sum(s.get("shuffleReadBytes", 0) for s in stages) / 2**20,
            "top": sorted(({"name": s["name"][:60], "tasks": s["numTasks"], "run_s": s["executorRunTime"] / 1000}
                           for s in stages), key=lambda x: -x["run_s"])[:5]}


def _when(text: str):  # noqa: ANN202 - the REST API's times ("2026-12-01T23:10:00.123GMT")
    from datetime import datetime

    return datetime.strptime(text.replace("GMT", ""), "%Y-%m-%dT%H:%M:%S.%f")


# ------------------------------------------------------------------ main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", default="1000000,10000000")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--partitions", type=int, default=0,
                    help="shuffle partitions (default: one per core of a local master; measured fastest)")
    ap.add_argument("--memory", default="8g", help="Spark driver memory (local mode: the executors' too)")
    ap.add_argument("--engines", default="local,spark", help="which engines to run (local, spark or both)")
    ap.add_argument("--no-conformance", action="store_true")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per engine and size before it is stopped")
    ap.add_argument("--data", help="keep the generated Parquet files in this folder (and reuse them)")
    ap.add_argument("--baseline", help="also run the local engine of this source tree (another commit), same files")
    ap.add_argument("--worker", choices=["local", "spark"], help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    args = ap.parse_args()
    conformance = not args.no_conformance
    if args.worker == "local":
        if args.baseline:  # the other tree's package, not this one's
            sys.path.insert(0, str(Path(args.baseline).resolve()))
        print(json.dumps(worker_local(args.path, conformance)))
        return
    if args.worker == "spark":
        print(json.dumps(worker_spark(args.path, conformance, args.master, args.partitions, args.memory)))
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    from processmining.demo import generate_sales_log
    from processmining.spark.session import local_cores

    cores_hint = os.cpu_count() or 2

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    tmp = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="pm_bench_spark_"))
    tmp.mkdir(parents=True, exist_ok=True)
    for n in (int(x) for x in args.events.split(",")):
        path = tmp / f"sales_{n}.parquet"
        t0 = time.perf_counter()
        if not path.exists():
            pq.write_table(pa.Table.from_pandas(generate_sales_log(n, seed=7), preserve_index=False), path,
                           coerce_timestamps="us", allow_truncated_timestamps=True)
        print(f"\n== {n:,} events (generated and written in {time.perf_counter() - t0:.1f} s, "
              f"{path.stat().st_size / 2**20:.0f} MiB Parquet; load average {os.getloadavg()[0]:.1f})", flush=True)
        parts = args.partitions or local_cores(args.master) or 2 * cores_hint
        base = [sys.executable, __file__, "--path", str(path), "--memory", args.memory] + \
            (["--no-conformance"] if not conformance else [])
        got: dict[str, tuple[dict, float]] = {}
        if "local" in engines:
            got["local"] = run_measured(base + ["--worker", "local"], args.timeout)
        if args.baseline:
            got["baseline"] = run_measured(base + ["--worker", "local", "--baseline", args.baseline], args.timeout,
                                           root=Path(args.baseline).resolve())
        if "spark" in engines:
            got["spark"] = run_measured(base + ["--worker", "spark", "--master", args.master,
                                                "--partitions", str(parts)], args.timeout)
        report(n, got)
        if not args.data:
            path.unlink()


def report(n: int, got: dict[str, tuple[dict, float]]) -> None:
    """Print one size's table: time per step and engine, the ratios to the local engine, peak memory, Spark's
    jobs per step."""
    names = list(got)
    others = [e for e in names if e != "local" and "local" in got]
    print(f"{'step':<12} " + " ".join(f"{e + ' s':>10}" for e in names) + "".join(f"  {e + '/local':>14}" for e in others))
    for step in ("read", "map", "variants", "ranking", "status", "conformance"):
        vals = {e: got[e][0]["times"].get(step) for e in names}
        if all(v is not None for v in vals.values()):
            print(f"{step:<12} " + " ".join(f"{vals[e]:10.2f}" for e in names) +
                  "".join(f"  {vals[e] / vals['local']:14.2f}" for e in others))
    totals = {e: sum(v for k, v in got[e][0]["times"].items() if k != "session") for e in names}
    print(f"{'total':<12} " + " ".join(f"{totals[e]:10.2f}" for e in names) +
          "".join(f"  {totals[e] / totals['local']:14.2f}" for e in others) +
          (f"   (+ {got['spark'][0]['times']['session']:.1f} s Spark start)" if "spark" in got else ""))
    local_like = [e for e in names if "cpu" in got[e][0]]
    if local_like:  # CPU seconds of the local engines' processes: what the load average does not move much
        print("CPU s: " + "; ".join(f"{e} " + ", ".join(f"{k} {v:.2f}" for k, v in got[e][0]["cpu"].items())
                                    for e in local_like))
    print("peak RSS (whole process tree): " + ", ".join(f"{e} {got[e][1]:,.0f} MiB" for e in names))
    loc = got.get("local", (None,))[0]
    if loc is not None and "spark" in got:
        keys = ("events", "variants", "arcs", "ranking", "status", "fitness", "deviating_cases")
        spk = got["spark"][0]
        print(f"same results (spark): { {k: loc[k] == spk[k] for k in keys if k in loc} }")
    if loc is not None and "baseline" in got:
        bas = got["baseline"][0]
        keys = ("events", "variants", "arcs", "ranking", "status", "digest", "fitness", "deviating_cases")
        print(f"same results (baseline {bas['tree']}): { {k: loc.get(k) == bas.get(k) for k in keys if k in loc} }")
    if "spark" in got:
        spk = got["spark"][0]
        print(f"driver rows per case: {spk['driver_bytes_per_case']:.0f} bytes")
        st = spk["stages"]
        if st is None:
            print("spark stage metrics: the UI did not answer in time")
            st = {"stages": 0, "tasks": 0, "executor_run_s": 0.0, "executor_run_s_in_multi_task_stages": 0.0,
                  "shuffle_read_mib": 0.0, "per_step": {}, "top": []}
        print(f"spark stages: {st['stages']}, tasks {st['tasks']}, executor run time {st['executor_run_s']:.1f} s "
              f"({st['executor_run_s_in_multi_task_stages']:.1f} s in stages with >1 task), "
              f"shuffle read {st['shuffle_read_mib']:.0f} MiB")
        print("spark jobs per step: " + ", ".join(f"{k} {v['jobs']} ({v['job_s']:.1f} s)"
                                                  for k, v in st["per_step"].items()))
        for s in st["top"]:
            print(f"   {s['run_s']:7.1f} s  {s['tasks']:>4} tasks  {s['name']}")
    print(f"load average: {os.getloadavg()[0]:.1f}", flush=True)
    print(json.dumps({"events": n, **{e: got[e][0] for e in names}, **{f"{e}_peak_mib": got[e][1] for e in names}}),
          file=sys.stderr)

if __name__ == "__main__":
    main()
