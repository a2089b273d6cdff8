"""Benchmark: reading a 1M-event (or 10M-event) CSV export into an event log.

Ours: ``processmining.ingest.read_log`` (every column as text, vectorised
timestamp parsing, full row accounting). Baselines, measured in the same run:

* the floor of issue 17: a plain ``pyarrow.csv.read_csv`` (type inference,
  ISO timestamps parsed by Arrow) + ``Table.sort_by`` (case, time) - what
  any reader has to do at least; target ours <= 2.1x of it;
* what a pm4py user writes - ``pandas.read_csv`` + ``pm4py.format_dataframe``
  (``--no-pm4py`` leaves it out at 10M rows).

Also a Salesforce OpportunityFieldHistory export of about n/9 rows
(transition shape, preset ``salesforce-field-history``; ``--no-field-history``).

The CSV is the seeded demo sales log (``processmining.demo.generate_sales_log``)
of ``n_events`` rows written ``--copies`` times with the case ids suffixed
``~k`` (so 1M x 10 = 10M rows of 10x the cases, without generating 10M events).
Each measurement runs in a fresh process, so peak memory (max RSS) is its own.
Import time of the libraries is excluded. Wall and CPU seconds (user and
system apart) and the page faults are printed; ``--repeat K`` measures each
reader K times, interleaved, and prints the medians.

``--baseline DIR`` also measures ``read_log`` of another checkout (``git worktree add DIR main``) on
the same file, in the same run: before / after of a change.

Run: ``nice -n 10 .venv/bin/python bench/ingest_csv.py [n_events] [--copies K] [--no-pm4py] [--baseline DIR]
[--repeat K]``
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _measure(kind: str, path: str, code: str | None = None) -> None:
    # this checkout (or the baseline's), not an installed copy
    sys.path.insert(0, code or str(Path(__file__).resolve().parent.parent))
    import pandas as pd

    from processmining.ingest import read_log
    from processmining.model import ColumnMapping

    if kind == "pyarrow":
        import pyarrow.csv as pacsv

        def run():
            table = pacsv.read_csv(path)
            return table.sort_by([("OpportunityId", "ascending"), ("ChangedAt", "ascending")]).num_rows
    elif kind == "pm4py":
        import pm4py

        def run():
            frame = pd.read_csv(path)
            return len(pm4py.format_dataframe(frame, case_id="OpportunityId", activity_key="Stage",
                                              timestamp_key="ChangedAt"))
    elif kind in ("ours", "baseline"):
        mapping = ColumnMapping(case="OpportunityId", activity="Stage", timestamp="ChangedAt", resource="ChangedBy")

        def run():
            return read_log(path, mapping=mapping).n_events
    else:
        def run():
            return read_log(path, preset="salesforce-field-history").n_events
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0, c0 = time.perf_counter(), time.process_time()
    n = run()
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"seconds": dt, "cpu": cpu, "events": n, "peak_mb": r1.ru_maxrss / 1024,
                      "before_mb": r0.ru_maxrss / 1024, "user": r1.ru_utime - r0.ru_utime,
                      "sys": r1.ru_stime - r0.ru_stime, "faults": r1.ru_minflt - r0.ru_minflt}))


def _run(kind: str, path: Path, code: str | None = None) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", kind, str(path), *([code] if code else [])],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(runs: list[dict]) -> dict:
    """Each field's median over the repeats (the system time of fresh processes varies several-fold under load)."""
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def _write_csv(n: int, copies: int, path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from processmining.demo import generate_sales_log

    df = generate_sales_log(n, seed=7)
    out = df.drop(columns=["@@index"]).rename(columns={"case:concept:name": "OpportunityId", "concept:name": "Stage",
                                                       "time:timestamp": "ChangedAt", "org:resource": "ChangedBy"})
    out["ChangedAt"] = out["ChangedAt"].dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    for k in range(copies):
        part = out if k == 0 else out.assign(OpportunityId=out["OpportunityId"].astype(str) + f"~{k}")
        part.to_csv(path, index=False, header=k == 0, mode="w" if k == 0 else "a")


def _line(label: str, res: dict) -> str:
    return (f"  {label:31}: {res['seconds']:6.2f} s  cpu {res['cpu']:6.2f} s (user {res['user']:5.2f}, sys "
            f"{res['sys']:5.2f}, {res['faults']:,.0f} page faults)  peak RSS {res['peak_mb']:6.0f} MB "
            f"({res['events']:,.0f} events)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n_events", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--copies", type=int, default=1, help="write the generated rows this many times")
    parser.add_argument("--no-pm4py", action="store_true")
    parser.add_argument("--no-field-history", action="store_true")
    parser.add_argument("--baseline", help="another checkout whose read_log is measured on the same file too")
    parser.add_argument("--repeat", type=int, default=1, help="measure each reader this many times (interleaved) "
                        "and print the medians")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "sales_long.csv"
    _write_csv(args.n_events, args.copies, path)
    try:
        kinds = ["ours", *(["baseline"] if args.baseline else []), "pyarrow", *([] if args.no_pm4py else ["pm4py"])]
        runs: dict[str, list[dict]] = {k: [] for k in kinds}
        for _ in range(args.repeat):
            for k in kinds:
                runs[k].append(_run(k, path, args.baseline if k == "baseline" else None))
        ours, floor = _median(runs["ours"]), _median(runs["pyarrow"])
        base = _median(runs["baseline"]) if args.baseline else None
        theirs = None if args.no_pm4py else _median(runs["pm4py"])
        repeats = f", medians of {args.repeat} runs" if args.repeat > 1 else ""
        print(f"long CSV, {args.n_events * args.copies:,} rows, {path.stat().st_size / 1024**2:.0f} MB{repeats}")
        print(_line("processmining.read_log", ours))
        print(_line("pyarrow read_csv + sort_by", floor))
        print(f"  ratio ours / pyarrow floor     : {ours['seconds'] / floor['seconds']:6.2f} wall, "
              f"{ours['cpu'] / floor['cpu']:6.2f} cpu (target <= 2.1)")
        if base:
            print(_line(f"baseline read_log ({Path(args.baseline).name})", base))
            print(f"  ratio baseline / pyarrow floor : {base['seconds'] / floor['seconds']:6.2f} wall, "
                  f"{base['cpu'] / floor['cpu']:6.2f} cpu; ours / baseline {ours['seconds'] / base['seconds']:.2f} "
                  f"wall, {ours['cpu'] / base['cpu']:.2f} cpu")
        if theirs:
            print(_line("pandas.read_csv + pm4py.format", theirs))
            print(f"  ratio ours / pm4py             : {ours['seconds'] / theirs['seconds']:6.2f}")
    finally:
        path.unlink()
    if args.no_field_history:
        return
    from processmining.demo import generate_sales_field_history

    rows, _ = generate_sales_field_history(max(20, args.n_events // 9), seed=7)
    fh = tmp / "field_history.csv"
    rows.to_csv(fh, index=False)
    res = _run("fieldhistory", fh)
    print(f"Salesforce field-history CSV, {len(rows):,} rows ({fh.stat().st_size / 1024**2:.0f} MB), preset "
          f"salesforce-field-history: {res['seconds']:.2f} s, peak RSS {res['peak_mb']:.0f} MB, "
          f"{res['events']:,} events")
    fh.unlink()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        _measure(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
    else:
        main()
