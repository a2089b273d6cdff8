"""Benchmark each conformance step against pm4py in the same run: alignments, ETC precision (token and alignment).

    .venv/bin/python bench/bench_conformance_steps.py                      # all named logs
    .venv/bin/python bench/bench_conformance_steps.py --only a22f0n50 --only receipt

Logs and models: receipt (its BPMN), a22f0n00/n10/n50 (a22.pnml, order-only logs), sepsis,
bpic2019 p2p, bpic2013 incidents and loan262k (each against pm4py's inductive-miner net of the log, written
to PNML once, with PYTHONHASHSEED=0, and read by both sides). loan262k is the issue's target kind:
``generate_sales_log(262_144, seed=7)`` with bench_memory.py's noise (8 % of events each swapped, dropped,
repeated), written to Parquet. Every step runs in its own child process, so its peak memory
(max RSS, workers included) is its own; the log's Arrow size and the model's state space are
printed beside it. Imports are outside the timings on both sides. Both sides get the same net: our side compiles the PNML (or, for receipt,
pm4py's own ``convert_to_petri_net`` net) and must give the same fitness / precision.
pm4py's alignments and align-precision on the big logs run on the cases of the first
``--pm4py-variants`` variants and are extrapolated linearly by variants (said in the output).
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
DATA = REPO.parent / "shared" / "datasets"
LOGS = {
    "receipt": ("real/receipt.xes.gz", "real/receipt.bpmn"),
    "a22f0n00": ("synthetic/a22f0n00.xes.gz", "synthetic/a22.pnml"),
    "a22f0n10": ("synthetic/a22f0n10.xes.gz", "synthetic/a22.pnml"),
    "a22f0n50": ("synthetic/a22f0n50.xes.gz", "synthetic/a22.pnml"),
    "sepsis": ("real/sepsis_1t_per_variant.xes.gz", None),
    "bpic2019": ("real/bpic2019_p2p_1t_per_variant.xes.gz", None),
    "bpic2013": ("real/bpic2013_incidents.xes.gz", None),
    "loan262k": (None, None),  # generated (see _loan_log)
}


def _peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


def _pm4py_log(path: str, variants: int | None):
    import pm4py
    from pm4py.objects.log.obj import EventLog

    if path.endswith(".parquet"):
        import pandas as pd

        log = pm4py.convert_to_event_log(pd.read_parquet(path))
    else:
        log = pm4py.read_xes(path, return_legacy_log_object=True)
    if variants:
        keep = set(list(dict.fromkeys(tuple(e["concept:name"] for e in t) for t in log))[:variants])
        log = EventLog([t for t in log if tuple(e["concept:name"] for e in t) in keep])
    return log


def _pm4py_net(model: str):
    import pm4py

    if model.endswith(".pnml"):
        return pm4py.read_pnml(model)
    return pm4py.convert_to_petri_net(pm4py.read_bpmn(model))


def _our_log(path: str, variants: int | None):
    """Our reader; order-only XES through the pm4py parse until the order-only loader is merged."""
    import pandas as pd

    from processmining.ingest import read_log
    from processmining.model import ACTIVITY, CASE, ORDER, TIMESTAMP, EventLog

    log = read_log(path)
    if log.n_events == 0:
        plog = _pm4py_log(path, None)
        rows = [(str(t.attributes["concept:name"]), e["concept:name"]) for t in plog for e in t]
        df = pd.DataFrame(rows, columns=[CASE, ACTIVITY]).astype("string")
        df[TIMESTAMP] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
        df[ORDER] = range(len(df))
        log = EventLog(df=df, name=Path(path).name)
    if variants:  # the very variants pm4py's side samples: the first ones in the file's order
        from processmining.conformance.variants import log_variants

        first = set(list(dict.fromkeys(tuple(e["concept:name"] for e in t) for t in _pm4py_log(path, None)))[:variants])
        v = log_variants(log)
        keep = {str(c) for c, k in zip(v.case_ids, v.case_variant, strict=True) if v.traces[k] in first}
        log = log.with_frame(log.df[log.df["case:concept:name"].astype(str).isin(keep)], step="sample")
    return log


def child_ours(step: str, log_path: str, model: str, variants: int | None, budget: float | None = None,
               plan: bool = True, group: int | None = None) -> dict:
    t0 = time.perf_counter()
    from processmining.conformance import splitpoints

    if not plan:  # "before": no certified fitting plan, every variant searched (A* with the marking equation)
        splitpoints.PLAN_MAX_EVENTS = 0
    if group:  # the plan's first LP with this many events per split point (1: one per event, as before)
        splitpoints.PLAN_GROUP = group
    # conform's lazy imports (the variants' group-by, the plan's LP solver) happen before the clock starts,
    # as pm4py's own imports do on its side (pm4py imports everything with the package)
    import highspy  # noqa: F401
    import polars  # noqa: F401

    from processmining.conformance import conform

    log = _our_log(log_path, variants)
    import pyarrow as pa

    arrow_mb = pa.Table.from_pandas(log.df, preserve_index=False).nbytes / 1024**2
    net = _pm4py_net(model) if model.endswith(".bpmn") else None  # receipt: pm4py's own net, same as pm4py's side
    if net is None:
        from processmining.pnml import read_pnml

        net = read_pnml(model)
    from processmining.conformance import align_etc_precision, etc_precision, reference_net
    from processmining.conformance.variants import log_variants

    t1 = time.perf_counter()
    if step == "alignments":  # conform end to end: compile, align every variant, deviations per case
        r = conform(log, net, precision=False, running="none", variant_timeout_s=60, time_budget_s=budget)
        value, n_var, nc, states = r.summary["fitness"], r.summary["variants"], r.summary["not_computed_cases"], None
    else:  # compile the net, then precision over the prefix tree
        ref = reference_net(net, explore=False)  # precision walks the prefix tree: no state-space exploration needed
        v = log_variants(log)
        fn = etc_precision if step == "precision_token" else align_etc_precision
        value, n_var, nc, states = fn(ref.net, v.traces, v.counts), v.n_variants, 0, ref.net.n_markings
    return {"seconds": time.perf_counter() - t1, "total_seconds": time.perf_counter() - t0, "value": value,
            "peak_mb": _peak_mb(), "arrow_mb": arrow_mb, "states": states, "variants": n_var, "not_computed": nc}


def child_pm4py(step: str, log_path: str, model: str, variants: int | None, budget: float | None = None) -> dict:
    import pm4py

    log = _pm4py_log(log_path, variants)
    net, im, fm = _pm4py_net(model)
    t1 = time.perf_counter()
    if step == "alignments":
        value = pm4py.fitness_alignments(log, net, im, fm)["log_fitness"]
    elif step == "precision_token":
        value = pm4py.precision_token_based_replay(log, net, im, fm)
    else:
        value = pm4py.precision_alignments(log, net, im, fm)
    n_var = len({tuple(e["concept:name"] for e in t) for t in log})
    return {"seconds": time.perf_counter() - t1, "value": value, "peak_mb": _peak_mb(), "variants": n_var}


def _child(side: str, timeout: float | None = None, **kw) -> dict:
    cmd = [sys.executable, __file__, "--child", side, "--args", json.dumps(kw)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"not finished within {timeout:.0f} s (stopped)"}
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _inductive_pnml(log_path: str, out: str) -> str:
    import os

    read = ("pd.read_parquet(sys.argv[1])" if log_path.endswith(".parquet")
            else "pm4py.read_xes(sys.argv[1], return_legacy_log_object=True)")
    code = (f"import pm4py,sys; import pandas as pd; log={read}; "
            "n=pm4py.discover_petri_net_inductive(log); pm4py.write_pnml(*n, sys.argv[2])")
    # pm4py numbers the net's nodes in set order: one hash seed, one net, for every run
    subprocess.run([sys.executable, "-c", code, log_path, out], check=True, capture_output=True,
                   env={**os.environ, "PYTHONHASHSEED": "0"})
    return out


def _loan_log(tmp: str) -> str:
    """The loan-application kind of log the issue targets: the generated sales log with bench_memory's noise."""
    from bench_memory import _noisy

    from processmining.demo import generate_sales_log

    path = f"{tmp}/loan262k.parquet"
    _noisy(generate_sales_log(262_144, seed=7)).to_parquet(path, index=False)
    return path


def run(name: str, steps: list[str], pm4py_variants: int | None, tmp: str, budget: float | None,
        pm4py_timeout: float | None = None, per_event: bool = False) -> None:
    log_rel, model_rel = LOGS[name]
    log_path = str(DATA / log_rel) if log_rel else _loan_log(tmp)
    model = str(DATA / model_rel) if model_rel else _inductive_pnml(log_path, f"{tmp}/{name}_inductive.pnml")
    print(f"\n== {name}: {log_rel or log_path} vs {model_rel or 'its inductive-miner net (pm4py, PNML)'}",
          flush=True)
    for step in steps:
        ours = _child("ours", step=step, log_path=log_path, model=model, variants=None, budget=budget)
        if "error" in ours:
            print(f"  {step:<16} ours failed: {ours['error']}", flush=True)
            continue
        sample = pm4py_variants if (pm4py_variants and ours["variants"] > pm4py_variants and step != "precision_token"
                                    and not name.startswith("a22")) else None  # a22: pm4py aligns it in about a minute
        pm = _child("pm4py", timeout=pm4py_timeout, step=step, log_path=log_path, model=model, variants=sample)
        states = "" if ours["states"] is None else f", {ours['states']} model states"
        line = (f"  {step:<16} ours {ours['seconds']:8.1f} s  peak {ours['peak_mb']:6.0f} MB "
                f"(log {ours['arrow_mb']:.1f} MB Arrow{states})  value {ours['value']!r}"
                + (f"  not computed {ours['not_computed']}" if ours["not_computed"] else ""))
        print(line, flush=True)
        if "error" in pm:
            print(f"  {'':<16} pm4py failed: {pm['error']}", flush=True)
        else:
            scale = ours["variants"] / pm["variants"] if sample else 1.0
            print(f"  {'':<16} pm4py {pm['seconds']:7.1f} s  peak {pm['peak_mb']:6.0f} MB  value {pm['value']!r}"
                  + (f"  (on {pm['variants']} variants, time ×{scale:.1f} = {pm['seconds'] * scale:.1f} s)"
                     if sample else ""), flush=True)
            same = "same value" if not sample and pm["value"] == ours["value"] else \
                ("values on different samples" if sample else "DIFFERENT value")
            print(f"  {'':<16} speed-up {pm['seconds'] * scale / ours['seconds']:.1f}×  {same}", flush=True)
        if sample:
            mine = _child("ours", step=step, log_path=log_path, model=model, variants=pm4py_variants)
            if "error" not in mine:
                agree = "" if "error" in pm else f" ({'same' if mine['value'] == pm['value'] else 'DIFFERENT'})"
                print(f"  {'':<16} ours on pm4py's sample: value {mine['value']!r}{agree}, {mine['seconds']:.1f} s",
                      flush=True)
            if step == "alignments":  # before/after on the same sample: the search alone vs the plan first
                before = _child("ours", step=step, log_path=log_path, model=model, variants=pm4py_variants, plan=False)
                if "error" not in before and "error" not in mine:
                    print(f"  {'':<16} ours without the fitting plan on pm4py's sample: {before['seconds']:.1f} s "
                          f"(plan {before['seconds'] / max(mine['seconds'], 1e-9):.1f}× faster), value "
                          f"{'same' if before['value'] == mine['value'] else 'DIFFERENT'}", flush=True)
        if step == "alignments" and per_event:  # before/after on the whole log: a split point per event in the plan
            old = _child("ours", step=step, log_path=log_path, model=model, variants=None, budget=budget, group=1)
            if "error" not in old:
                print(f"  {'':<16} ours, whole log, plan with a split point per event (before): {old['seconds']:.1f} s"
                      f" (now {old['seconds'] / max(ours['seconds'], 1e-9):.1f}× faster), value "
                      f"{'same' if old['value'] == ours['value'] else repr(old['value'])}"
                      + (f"  not computed {old['not_computed']}" if old["not_computed"] else ""), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", choices=sorted(LOGS), default=None)
    ap.add_argument("--steps", default="alignments,precision_token,precision_alignments")
    ap.add_argument("--pm4py-variants", type=int, default=20,
                    help="pm4py aligns only this many variants of a bigger log (5-60 s each on the inductive nets)")
    ap.add_argument("--budget", type=float, default=600.0,
                    help="time_budget_s of our conform (all of the work): variants not reached are 'not computed'")
    ap.add_argument("--pm4py-timeout", type=float, default=None,
                    help="stop pm4py's side after this many seconds (bpic2019: minutes per variant)")
    ap.add_argument("--per-event", action="store_true",
                    help="also align the whole log with the plan's LP split at every event (before the groups)")
    ap.add_argument("--child", default=None)
    ap.add_argument("--args", default="{}")
    a = ap.parse_args()
    if a.child:
        kw = json.loads(a.args)
        print(json.dumps(child_ours(**kw) if a.child == "ours" else child_pm4py(**kw)))  # noqa: T201
        return
    with tempfile.TemporaryDirectory() as tmp:
        for name in a.only or list(LOGS):
            run(name, a.steps.split(","), a.pm4py_variants, tmp, a.budget, a.pm4py_timeout, a.per_event)


if __name__ == "__main__":
    main()
