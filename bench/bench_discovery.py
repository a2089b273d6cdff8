"""Benchmark: our process map, variants and bottleneck tables vs the equivalent plain-pm4py calls.

Run from the project root::

    .venv/bin/python bench/bench_discovery.py [--events 1000000] [--skip-bpic]

For bpic2013 (real, ../shared/datasets/real/bpic2013_incidents.xes.gz) and a
generated 1M-event CRM stage log (processmining.demo.generate_sales_log) it
prints, measured in the same run: our time, pm4py's time, the ratio, and the
peak memory (tracemalloc: Python + numpy allocations; polars / Arrow
buffers are not traced, see the process max RSS at the end) of each step; then the
time of slider changes on the 1M map (simplify on the cached full map) and of
drawing the SVG. Reading the input is not timed. Each timing is the best of
``--repeat`` runs (default 3; pm4py steps too).
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from processmining.model import EventLog  # noqa: E402


def measure(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best wall time over ``repeat`` runs (seconds) and peak traced memory of one run (MiB)."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak / 2**20, result


def row(label: str, ours: tuple[float, float, Any], theirs: tuple[float, float, Any] | None) -> None:
    if theirs is None:
        print(f"  {label:<34} ours {ours[0]:8.3f} s  peak {ours[1]:7.1f} MiB")
        return
    ratio = theirs[0] / ours[0] if ours[0] > 0 else float("inf")
    print(f"  {label:<34} ours {ours[0]:8.3f} s  pm4py {theirs[0]:8.3f} s  ratio {ratio:6.1f}x  "
          f"peak ours {ours[1]:7.1f} MiB / pm4py {theirs[1]:7.1f} MiB")


def compare(name: str, log: EventLog, repeat: int) -> None:
    import pm4py

    from processmining.discovery import map as discovery_map
    from processmining.discovery import process_map, variants
    from processmining.performance import (
        activity_performance,
        bottleneck_ranking,
        case_durations,
        handovers,
        rework,
    )

    def fresh(fn):  # our per-log code cache is cleared: every timed run pays the full cost
        def run():
            discovery_map._CODES.clear()
            return fn()
        return run

    print(f"\n{name}: {log.n_events:,} events, {log.n_cases:,} cases, {len(log.activities)} activities")
    frame = log.to_pm4py()
    if "org:resource" in frame.columns:  # pm4py's handover code cannot group Arrow-backed strings
        frame["org:resource"] = frame["org:resource"].astype(object)

    def pm4py_map():
        f = frame.copy(deep=False)
        dfg, sa, ea = pm4py.discover_dfg(f)
        perf, _, _ = pm4py.discover_performance_dfg(f)
        return dfg, perf

    ours = measure(fresh(lambda: process_map(log)), repeat)
    theirs = measure(pm4py_map, repeat)
    assert ours[2].dfg() == {k: int(v) for k, v in theirs[2][0].items()}, "maps differ"
    row("process map (frequency + time)", ours, theirs)

    row("variants", measure(fresh(lambda: variants(log)), repeat),
        measure(lambda: pm4py.get_variants(frame.copy(deep=False)), repeat))

    def ours_bottlenecks():
        pm = process_map(log)
        return (bottleneck_ranking(log, pm=pm), activity_performance(log), case_durations(log), rework(log),
                handovers(log))

    def pm4py_bottlenecks():
        f = frame.copy(deep=False)
        perf, _, _ = pm4py.discover_performance_dfg(f)
        return (perf, pm4py.get_all_case_durations(f), pm4py.get_rework_cases_per_activity(f),
                pm4py.discover_handover_of_work_network(f))

    row("bottleneck tables", measure(fresh(ours_bottlenecks), repeat), measure(pm4py_bottlenecks, 1))


def sliders(log: EventLog) -> None:
    from processmining.discovery import process_map, simplify
    from processmining.render import render_map

    full = process_map(log)
    simplify(full, activities=1.0, paths=1.0)  # first call builds the cached edge list and widest-path trees
    times = []
    for acts in (0.2, 0.5, 0.8, 1.0):
        for paths in (0.0, 0.3, 0.7, 1.0):
            t0 = time.perf_counter()
            simplify(full, activities=acts, paths=paths)
            times.append(time.perf_counter() - t0)
    print(f"  slider change (simplify, {len(times)} positions)  mean {1000 * sum(times) / len(times):6.1f} ms  "
          f"max {1000 * max(times):6.1f} ms")
    small = simplify(full)
    t0 = time.perf_counter()
    render_map(small, fmt="svg")
    print(f"  draw SVG of the default map             {1000 * (time.perf_counter() - t0):6.1f} ms "
          f"({len(small.activities)} activities, {len(small.arcs)} paths)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-bpic", action="store_true")
    args = ap.parse_args()
    import warnings

    warnings.filterwarnings("ignore")
    import pm4py

    print(f"pm4py {pm4py.__version__}; best of {args.repeat} runs; peak = tracemalloc peak of one run")
    bpic = ROOT.parent / "shared" / "datasets" / "real" / "bpic2013_incidents.xes.gz"
    if not args.skip_bpic and bpic.exists():
        raw = pm4py.read_xes(str(bpic), show_progress_bar=False)
        compare("bpic2013_incidents", EventLog.from_frame(raw), args.repeat)
    from processmining.demo import generate_sales_log

    t0 = time.perf_counter()
    big = EventLog.from_frame(generate_sales_log(args.events, seed=7))
    print(f"\n(generated the CRM log in {time.perf_counter() - t0:.1f} s)")
    compare(f"generated CRM stage log ({args.events:,} events)", big, args.repeat)
    sliders(big)
    print(f"\nprocess max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
