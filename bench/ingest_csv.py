"""Benchmark: reading a 1M-event CSV export into an event log.

Ours: ``processmining.ingest.read_log`` (every column as text, vectorised
timestamp parsing, full row accounting). Baseline, measured in the same run:
what a pm4py user writes - ``pandas.read_csv`` + ``pm4py.format_dataframe``.
Also a Salesforce OpportunityFieldHistory export of about 1M rows
(transition shape, preset ``salesforce-field-history``).

Each measurement runs in a fresh process, so peak memory (max RSS) is its own.
Import time of the libraries is excluded.

Run: ``.venv/bin/python bench/ingest_csv.py [n_events]``
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _measure(kind: str, path: str) -> None:
    import pandas as pd

    from processmining.ingest import read_log
    from processmining.model import ColumnMapping

    if kind == "pm4py":
        import pm4py

        def run():
            frame = pd.read_csv(path)
            return len(pm4py.format_dataframe(frame, case_id="OpportunityId", activity_key="Stage",
                                              timestamp_key="ChangedAt"))
    elif kind == "ours":
        mapping = ColumnMapping(case="OpportunityId", activity="Stage", timestamp="ChangedAt", resource="ChangedBy")

        def run():
            return read_log(path, mapping=mapping).n_events
    else:
        def run():
            return read_log(path, preset="salesforce-field-history").n_events
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    n = run()
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": dt, "events": n, "peak_mb": peak / 1024, "before_mb": base / 1024}))


def _run(kind: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", kind, str(path)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(n: int = 1_000_000) -> None:
    from processmining.demo import generate_sales_field_history, generate_sales_log

    tmp = Path(tempfile.mkdtemp())
    df = generate_sales_log(n, seed=7)
    out = df.drop(columns=["@@index"]).rename(columns={"case:concept:name": "OpportunityId", "concept:name": "Stage",
                                                       "time:timestamp": "ChangedAt", "org:resource": "ChangedBy"})
    out["ChangedAt"] = out["ChangedAt"].dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    path = tmp / "sales_long.csv"
    out.to_csv(path, index=False)
    ours = _run("ours", path)
    theirs = _run("pm4py", path)
    print(f"long CSV, {n:,} events, {path.stat().st_size / 1024**2:.0f} MB")
    print(f"  processmining.read_log         : {ours['seconds']:6.2f} s  peak RSS {ours['peak_mb']:6.0f} MB "
          f"({ours['events']:,} events)")
    print(f"  pandas.read_csv + pm4py.format : {theirs['seconds']:6.2f} s  peak RSS {theirs['peak_mb']:6.0f} MB "
          f"({theirs['events']:,} events)")
    print(f"  ratio ours / pm4py             : {ours['seconds'] / theirs['seconds']:6.2f}")

    rows, _ = generate_sales_field_history(max(20, n // 9), seed=7)
    fh = tmp / "field_history.csv"
    rows.to_csv(fh, index=False)
    res = _run("fieldhistory", fh)
    print(f"Salesforce field-history CSV, {len(rows):,} rows ({fh.stat().st_size / 1024**2:.0f} MB), preset "
          f"salesforce-field-history: {res['seconds']:.2f} s, peak RSS {res['peak_mb']:.0f} MB, "
          f"{res['events']:,} events")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        _measure(sys.argv[2], sys.argv[3])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
