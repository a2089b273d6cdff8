"""Benchmark: our `conform` end to end vs the straightforward pm4py pipeline, in one run.

Our end-to-end run uses our BPMN converter (processmining.bpmn), whose net has
fewer silent steps than pm4py's, so its fitness differs in the silent-move
term; the fitness identity is checked by a second run of ours on pm4py's own
``convert_to_petri_net`` net (same cases), and the deviating cases on both.

    .venv/bin/python bench/bench_conformance.py                # receipt + 1M-event CRM log
    .venv/bin/python bench/bench_conformance.py --only crm --events 1000000 --pm4py-cases 20000

Each side runs in its own child process (file in -> deviations out) so that
peak memory (max RSS of the process and its workers) is measured per side.
pm4py side: ``read_xes``/``read_csv`` + ``format_dataframe``, ``read_bpmn``,
``convert_to_petri_net``, ``conformance_diagnostics_alignments``, fitness
from the diagnostics. On the CRM log pm4py runs on the first
``--pm4py-cases`` cases and its time is extrapolated linearly by case count
(said in the output); our side runs on the whole log and, for the
comparison of fitness and deviating cases, on the same sample.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATASETS = REPO.parent / "shared" / "datasets" / "real"


def _peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


def run_ours(log_path: str, model_path: str, out: str, preset: str | None, cases: int | None,
             pm4py_net: bool = False) -> dict:
    t0 = time.perf_counter()
    from processmining.bpmn import read_bpmn
    from processmining.conformance import conform
    from processmining.export import write_tables
    from processmining.ingest import read_log

    log = read_log(log_path, preset=preset)
    if cases:
        keep = log.df["case:concept:name"].drop_duplicates().iloc[:cases]
        log = log.with_frame(log.df[log.df["case:concept:name"].isin(keep)], step=f"first {cases} cases")
    if pm4py_net:  # the very net pm4py's pipeline aligns against: fitness must match to the last digit
        import pm4py

        model = pm4py.convert_to_petri_net(pm4py.read_bpmn(model_path))
    else:
        model = read_bpmn(model_path)
    result = conform(log, model, precision=False, variant_timeout_s=120)
    write_tables({"deviations": result.deviations, "summary": result.summary}, out)
    elapsed = time.perf_counter() - t0
    dev = result.deviations
    deviating = sorted(set(dev[dev.kind != "not_computed"].case_id))
    return {"seconds": elapsed, "fitness": result.summary["fitness"], "deviating": deviating,
            "cases": result.summary["cases"], "events": result.summary["events"], "peak_mb": _peak_mb(),
            "not_computed": result.summary["not_computed_cases"]}


def run_pm4py(log_path: str, model_path: str, cases: int | None) -> dict:
    t0 = time.perf_counter()
    import pandas as pd
    import pm4py

    if log_path.endswith((".xes", ".xes.gz")):
        df = pm4py.read_xes(log_path)
    else:
        df = pd.read_parquet(log_path) if log_path.endswith(".parquet") else pd.read_csv(log_path)
        df = pm4py.format_dataframe(df, case_id="case:concept:name", activity_key="concept:name",
                                    timestamp_key="time:timestamp")
    if cases:
        keep = df["case:concept:name"].drop_duplicates().iloc[:cases]
        df = df[df["case:concept:name"].isin(keep)]
    net, im, fm = pm4py.convert_to_petri_net(pm4py.read_bpmn(model_path))
    diag = pm4py.conformance_diagnostics_alignments(df, net, im, fm)
    from pm4py.algo.evaluation.replay_fitness.variants import alignment_based

    fitness = alignment_based.evaluate(diag)["log_fitness"]
    case_ids = df["case:concept:name"].drop_duplicates().tolist()  # pm4py keeps first-appearance order
    deviating = sorted(c for c, a in zip(case_ids, diag, strict=True) if a is not None and a["cost"] >= 10_000)
    return {"seconds": time.perf_counter() - t0, "fitness": fitness, "deviating": deviating,
            "cases": len(case_ids), "events": len(df), "peak_mb": _peak_mb()}


def _child(side: str, **kw) -> dict:
    cmd = [sys.executable, __file__, "--child", side, "--args", json.dumps(kw)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{side} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compare(name: str, log_path: str, model_path: str, *, preset: str | None, pm4py_cases: int | None) -> None:
    print(f"\n== {name}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        ours = _child("ours", log_path=log_path, model_path=model_path, out=f"{tmp}/d.csv", preset=preset, cases=None)
        print(f"ours : {ours['seconds']:8.1f} s  peak {ours['peak_mb']:7.0f} MB  fitness {ours['fitness']!r}  "
              f"{ours['events']:,} events / {ours['cases']:,} cases, {len(ours['deviating']):,} deviating", flush=True)
        pm = _child("pm4py", log_path=log_path, model_path=model_path, cases=pm4py_cases)
        scale = ours["cases"] / pm["cases"] if pm4py_cases and pm["cases"] < ours["cases"] else 1.0
        same = _child("ours", log_path=log_path, model_path=model_path, out=f"{tmp}/s.csv", preset=preset,
                      cases=pm4py_cases if scale != 1.0 else None, pm4py_net=True)
        print(f"pm4py: {pm['seconds']:8.1f} s  peak {pm['peak_mb']:7.0f} MB  fitness {pm['fitness']!r}  "
              f"{pm['events']:,} events / {pm['cases']:,} cases, {len(pm['deviating']):,} deviating", flush=True)
        if scale != 1.0:
            print(f"       pm4py ran on the first {pm['cases']:,} cases; its time extrapolated ×{scale:.1f} "
                  f"(linear in cases) = {pm['seconds'] * scale:.1f} s; peak memory is the sample's (a lower bound)")
        ratio = pm["seconds"] * scale / ours["seconds"]
        print(f"speed-up end to end: {ratio:.1f}×   memory ratio (pm4py/ours): {pm['peak_mb'] / ours['peak_mb']:.1f}×")
        print(f"ours on pm4py's own net, same cases: {same['seconds']:.1f} s")
        print(f"same fitness on the same cases and net: {same['fitness'] == pm['fitness']} "
              f"({same['fitness']!r} vs {pm['fitness']!r}); "
              f"same deviating cases: {same['deviating'] == pm['deviating']}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["receipt", "crm"], default=None)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--pm4py-cases", type=int, default=20_000)
    ap.add_argument("--child", default=None)
    ap.add_argument("--args", default="{}")
    a = ap.parse_args()
    if a.child:
        kw = json.loads(a.args)
        out = run_ours(**kw) if a.child == "ours" else run_pm4py(**kw)
        print(json.dumps(out))
        return
    if a.only in (None, "receipt"):
        compare("receipt.xes.gz vs receipt.bpmn (real)", str(DATASETS / "receipt.xes.gz"),
                str(DATASETS / "receipt.bpmn"), preset=None, pm4py_cases=None)
    if a.only in (None, "crm"):
        from processmining.demo import generate_sales_log

        with tempfile.TemporaryDirectory() as tmp:
            path = f"{tmp}/sales_{a.events}.parquet"
            generate_sales_log(a.events, seed=7).to_parquet(path, index=False)
            compare(f"generated CRM log, {a.events:,} events vs bpmn_models/lead_to_order.bpmn", path,
                    str(REPO / "bpmn_models" / "lead_to_order.bpmn"), preset=None, pm4py_cases=a.pm4py_cases)


if __name__ == "__main__":
    main()
