"""Benchmark: peak memory of each step of ``conform`` end to end on big logs (issue 17, goal 6).

    nice -n 10 .venv/bin/python bench/bench_memory.py                       # every log below
    nice -n 10 .venv/bin/python bench/bench_memory.py --only loan262k --only bpic2013

Logs: ``crm1850k`` (the seeded demo generator's opportunity log at 1.85M
events, against ``bpmn_models/lead_to_order.bpmn``), ``loan262k`` (the same
generator at 262,144 events with noise added -- each event is swapped with
the next one, dropped or repeated with 8 % chance each, so there are thousands of
variants, as in the loan-application log of issue 17 -- against the same
model), ``bpic2013`` and ``bpic2019`` (the real logs, each against pm4py's
inductive-miner net of it, written to PNML once in a separate process).

Each log runs in its own child process, through the very functions
:func:`processmining.conformance.conform` calls, one step after the other:
ingest (``read_log``), discovery (``process_map``), model (compile the net and
explore its state space), variants, alignments (every variant, running cases
again as prefixes), deviation expansion (one row per case), precision (ETC,
token replay), and the exports of the deviation list (CSV, XLSX, JSON Lines,
Parquet). Before each step the kernel's peak-RSS counter of the process is
reset (``/proc/self/clear_refs``), so ``peak`` is that step's own high-water
mark, ``cpu s`` its CPU time (this process only: the fair number on a shared
machine); worker processes (the alignment pool) are sampled from ``/proc`` every
20 ms and shown apart. A second child runs ``conform`` in one call for the
whole-run peak.

The bound of issue 17 is printed beside each step: ``4 x Arrow size of the
log + the model's state space``, where the state space is the memory the
compiled, explored net keeps (RSS after the model step minus before) and
``above`` is the step's peak minus the process's size after its imports
and after one warm-up run of every step on the 6-case running example
(Python, pandas, pyarrow, highspy, lxml: the same for any log); ``own`` is
the step's peak minus the process's size when it started (what the step itself
adds on top of what earlier steps keep). Steps over the bound are marked ``OVER``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "datasets" / "real"
MODEL = REPO / "bpmn_models" / "lead_to_order.bpmn"
LOGS = ("crm1850k", "loan262k", "bpic2013", "bpic2019")


# --------------------------------------------------------------------------- memory probes
def _status_kb(field: str, pid: str = "self") -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    m = re.search(rf"^{field}:\s+(\d+)", text, re.M)
    return int(m.group(1)) if m else 0


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                kids = Path(f"/proc/{p}/task/{task}/children").read_text().split()
                out.extend(int(k) for k in kids)
                todo.extend(int(k) for k in kids)
        except OSError:
            continue
    return out


class Step:
    """Measures one step: wall time, the process's own peak RSS (reset first), the workers' summed peak."""

    def __init__(self, name: str, results: list[dict]) -> None:
        self.name, self.results = name, results

    def __enter__(self) -> Step:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        self.before = _status_kb("VmRSS")
        self.workers = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def _sample(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.02):
            kids = _descendants(me)
            if kids:
                self.workers = max(self.workers, sum(_status_kb("VmRSS", str(k)) for k in kids))

    def __exit__(self, *exc: object) -> None:
        seconds, cpu = time.perf_counter() - self.t0, time.process_time() - self.c0
        self._stop.set()
        self._thread.join()
        self.results.append({"step": self.name, "seconds": seconds, "cpu": cpu, "before_mb": self.before / 1024,
                             "peak_mb": _status_kb("VmHWM") / 1024, "after_mb": _status_kb("VmRSS") / 1024,
                             "workers_mb": self.workers / 1024})


# --------------------------------------------------------------------------- inputs
def _noisy(df):  # noqa: ANN001, ANN202 - per event: swap with the next one, drop it or repeat it (8 % each)
    import numpy as np

    rng = np.random.default_rng(17)
    case = df["case:concept:name"].to_numpy()
    n = len(case)
    u = rng.random(n)
    same_next = np.r_[case[1:] == case[:-1], False]
    swap = (u < 0.08) & same_next
    swap &= ~np.r_[False, swap[:-1]]  # no event in two swaps
    acts = df["concept:name"].to_numpy(dtype=object).copy()
    i = np.flatnonzero(swap)
    acts[i], acts[i + 1] = acts[i + 1], acts[i].copy()
    out = df.assign(**{"concept:name": acts})
    drop = (u >= 0.08) & (u < 0.16)
    repeat = (u >= 0.16) & (u < 0.24)
    take = np.repeat(np.arange(n), np.where(drop, 0, np.where(repeat, 2, 1)))
    out = out.iloc[take].reset_index(drop=True)
    out["@@index"] = np.arange(len(out))
    if "time:timestamp" in out:  # a repeated event one second after the original keeps the case in time order
        first = np.r_[True, take[1:] != take[:-1]]
        out["time:timestamp"] = out["time:timestamp"] + (~first) * np.timedelta64(1, "s")
    return out


def _prepare(name: str, tmp: str) -> tuple[str, str]:
    """The log file and model file of ``name`` (generated / discovered into ``tmp`` once)."""
    if name in ("crm1850k", "loan262k"):
        from processmining.demo import generate_sales_log

        path = f"{tmp}/{name}.parquet"
        if not Path(path).exists():
            df = generate_sales_log(1_850_000 if name == "crm1850k" else 262_144, seed=7)
            (_noisy(df) if name == "loan262k" else df).to_parquet(path, index=False)
        return path, str(MODEL)
    log = str(DATA / ("bpic2013_incidents.xes.gz" if name == "bpic2013" else "bpic2019_p2p_1t_per_variant.xes.gz"))
    pnml = f"{tmp}/{name}_inductive.pnml"
    if not Path(pnml).exists():
        code = ("import pm4py,sys; log=pm4py.read_xes(sys.argv[1], return_legacy_log_object=True); "
                "n=pm4py.discover_petri_net_inductive(log); pm4py.write_pnml(*n, sys.argv[2])")
        subprocess.run([sys.executable, "-c", code, log, pnml], check=True, capture_output=True)
    return log, pnml


def _model(path: str):  # noqa: ANN202
    if path.endswith(".pnml"):
        from processmining.pnml import read_pnml

        return read_pnml(path)
    from processmining.bpmn import read_bpmn

    return read_bpmn(path)


# --------------------------------------------------------------------------- children
def child_steps(log_path: str, model_path: str, budget: float, out_dir: str) -> dict:
    import pyarrow as pa

    from processmining.conformance import check
    from processmining.conformance.alignment import align
    from processmining.conformance.deviations import expand_to_cases
    from processmining.conformance.reference import reference_net
    from processmining.conformance.variants import log_variants
    from processmining.discovery import process_map
    from processmining.export import write_tables
    from processmining.ingest import read_log
    from processmining.model import no_progress
    from processmining.status import running_case_ids

    _warm_up(log_path, out_dir)
    base = _status_kb("VmRSS") / 1024
    res: list[dict] = []
    with Step("ingest", res):
        log = read_log(log_path)
    arrow_mb = pa.Table.from_pandas(log.df, preserve_index=False).nbytes / 1024**2
    frame_mb = log.df.memory_usage(deep=True).sum() / 1024**2
    with Step("discovery (map)", res):
        process_map(log)
    deadline = time.perf_counter() + budget
    with Step("model (compile + explore)", res):
        ref = reference_net(_model(model_path), log.activities, explore=False)
        if not ref.net.explored:
            ref.net.explore(deadline=deadline)
    state_mb = max(0.0, res[-1]["after_mb"] - res[-1]["before_mb"])
    log2, _, _ = check._prepare_log(log, ref, {}, set())
    with Step("variants", res):
        variants = log_variants(log2)
        running = check._running_variants(variants, running_case_ids(log2, fallback=ref.net.end_labels()))
    with Step("alignments", res):
        bwc = align(ref.net, ()).cost
        templates, not_computed, _costs, fitness, _counts = check._by_alignments(
            ref, variants, running, bwc, variant_timeout_s=10.0, processes=None, deadline=deadline, work={},
            progress=no_progress)
    with Step("deviation expansion", res):
        dev = expand_to_cases(log2, variants, templates, not_computed, variant_timeout_s=10.0)
    del templates  # as in conform: the later steps (and whoever exports conform's result) no longer hold them
    with Step("precision (ETC)", res):
        prec, _ = check.precision_of(ref.net, variants.traces, variants.counts, "token_replay", deadline=deadline)
    for fmt in ("csv", "xlsx", "jsonl", "parquet"):
        with Step(f"export {fmt}", res):
            write_tables({"deviations": dev}, f"{out_dir}/deviations.{fmt}")
    return {"steps": res, "arrow_mb": arrow_mb, "frame_mb": frame_mb, "state_mb": state_mb, "base_mb": base, "events": log.n_events,
            "variants": variants.n_variants, "markings": ref.net.n_markings, "deviations": len(dev),
            "fitness": fitness, "precision": prec, "not_computed": len(not_computed)}


def _warm_up(log_path: str, out_dir: str) -> None:
    """Every library a step imports lazily, imported on a 6-case log first (the same for any log), then freed."""
    import ctypes
    import gc

    import pyarrow as pa

    from processmining.conformance import conform
    from processmining.discovery import process_map
    from processmining.export import write_tables
    from processmining.ingest import read_log

    small = read_log(str(DATA / "running-example.xes"))
    if log_path.endswith(".parquet"):
        small.df.to_parquet(f"{out_dir}/warm.parquet", index=False)
        small = read_log(f"{out_dir}/warm.parquet")
    process_map(small)
    for model in (str(DATA / "running-example.bpmn"), str(MODEL)):
        r = conform(small, _model(model), processes=1)
    for fmt in ("csv", "xlsx", "jsonl", "parquet"):
        write_tables({"deviations": r.deviations}, f"{out_dir}/warm.{fmt}")
    del small, r
    gc.collect()
    pa.default_memory_pool().release_unused()
    ctypes.CDLL("libc.so.6").malloc_trim(0)


def child_conform(log_path: str, model_path: str, budget: float, out_dir: str) -> dict:
    from processmining.conformance import conform
    from processmining.ingest import read_log

    _warm_up(log_path, out_dir)
    base = _status_kb("VmRSS") / 1024
    res: list[dict] = []
    with Step("conform end to end (read + conform)", res):
        r = conform(read_log(log_path), _model(model_path), time_budget_s=budget)
    return {"steps": res, "base_mb": base, "fitness": r.summary["fitness"], "precision": r.summary["precision"]}


def _child(kind: str, **kw) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--args", json.dumps(kw)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(name: str, tmp: str, budget: float) -> None:
    log_path, model_path = _prepare(name, tmp)
    out = tempfile.mkdtemp(dir=tmp)
    r = _child("steps", log_path=log_path, model_path=model_path, budget=budget, out_dir=out)
    if "error" in r:
        print(f"\n== {name}: failed: {r['error']}", flush=True)
        return
    bound = 4 * r["arrow_mb"] + r["state_mb"]
    print(f"\n== {name}: {r['events']:,} events, {r['variants']:,} variants, {r['markings']} model markings; "
          f"log {r['arrow_mb']:.1f} MB Arrow ({r['frame_mb']:.1f} MB as pandas), state space {r['state_mb']:.1f} MB -> bound "
          f"4 x {r['arrow_mb']:.1f} + {r['state_mb']:.1f} = {bound:.0f} MB; after imports {r['base_mb']:.0f} MB; "
          f"fitness {r['fitness']!r}, precision {r['precision']!r}, {r['deviations']:,} deviation rows, "
          f"{r['not_computed']} variants not computed", flush=True)
    whole = _child("conform", log_path=log_path, model_path=model_path, budget=budget, out_dir=out)
    steps = r["steps"] + whole.get("steps", [])
    print(f"  {'step':<36} {'s':>7} {'cpu s':>6} {'start MB':>9} {'peak MB':>8} {'own':>5} {'above':>7} {'workers':>8} {'bound':>6}")
    for s in steps:
        above = s["peak_mb"] - r["base_mb"]
        flag = "OVER" if above > bound else "ok"
        print(f"  {s['step']:<36} {s['seconds']:7.1f} {s.get('cpu', float('nan')):6.2f} {s['before_mb']:9.0f} {s['peak_mb']:8.0f} "
              f"{s['peak_mb'] - s['before_mb']:5.0f} {above:7.0f} {s['workers_mb']:8.0f} {bound:6.0f} {flag}", flush=True)
    if "error" in whole:
        print(f"  conform end to end failed: {whole['error']}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", choices=LOGS, default=None)
    ap.add_argument("--budget", type=float, default=300.0,
                    help="time budget (s) of model + alignments + precision: variants not reached are not computed")
    ap.add_argument("--child", default=None)
    ap.add_argument("--args", default="{}")
    a = ap.parse_args()
    if a.child:
        kw = json.loads(a.args)
        print(json.dumps(child_steps(**kw) if a.child == "steps" else child_conform(**kw)))  # noqa: T201
        return
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in a.only or LOGS:
            run(name, tmp, a.budget)


if __name__ == "__main__":
    main()
