"""The CLI through a real Spark Connect server gives the local engine's numbers.

The test session's JVM runs the Spark Connect server (``SparkConnectPlugin``
on a loopback port, see ``spark_compare``). A separate Python process -- a
Spark Connect *client* only, as on a user's laptop: no JVM, no RDD or
SparkContext API -- runs ``discover``, ``bottlenecks`` and ``conform`` with
``--spark-remote sc://127.0.0.1:PORT`` (one interpreter for the three
commands). Their outputs are compared with the same commands on the local
engine: the same SVG, the same printed lines and spreadsheet tables, the same
conformance summary and deviation rows. ``bottlenecks`` reads a catalog table
(``--source-format table``, written with ``saveAsTable``); ``conform`` reads
the demo CSV, so the timestamp parser (a pandas UDF) and the aligner
(``mapInPandas``) run on the server's Python workers for a Connect client.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
from spark_compare import connect_url, real_pair, require_pyspark, same_table
from typer.testing import CliRunner

from processmining.cli import app

require_pyspark()

REPO = Path(__file__).resolve().parent.parent
#: runs CLI invocations (a JSON list of argument lists) in this fresh interpreter; prints exit codes and output
CLIENT = """
import json, sys
from typer.testing import CliRunner
from processmining.cli import app
runner = CliRunner()
print(json.dumps([(r.exit_code, r.stdout, r.stderr) for r in (runner.invoke(app, a) for a in json.loads(sys.argv[1]))]))
"""
SLA = "T02 Check confirmation of receipt->T04 Determine confirmation of receipt<=1d"
VOLATILE = ("seconds", "alignment_work")
RULES, ROLES = REPO / "bpmn_models" / "lead_to_order.rules.yaml", REPO / "bpmn_models" / "lead_to_order.roles.csv"


def run_client(commands: list[list[str]]) -> list[tuple[int, str, str]]:
    """The commands in one Spark Connect client process (the worktree first on its path)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", CLIENT, json.dumps(commands)], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return [tuple(r) for r in json.loads(done.stdout.strip().splitlines()[-1])]


def test_discover_bottlenecks_and_conform_through_spark_connect(spark, shared_datasets, tmp_path):
    _, _, receipt = real_pair(spark, shared_datasets, "receipt")
    spark.read.parquet(str(receipt)).write.mode("overwrite").saveAsTable("receipt_events")
    demo = REPO / "eventlogs" / "salesforce_opportunity_field_history.csv"
    model = REPO / "bpmn_models" / "lead_to_order.bpmn"
    remote = ["--spark-remote", connect_url(spark)]

    def commands(tag: str, log_table: str) -> list[list[str]]:
        return [["discover", str(receipt), "-o", str(tmp_path / f"{tag}.svg"), "--metric", "performance"],
                ["bottlenecks", log_table, "--sla", SLA, "--idle", "30d", "-o", str(tmp_path / f"{tag}.xlsx")],
                ["conform", str(demo), str(model), "-o", str(tmp_path / f"{tag}.csv"),
                 "--summary", str(tmp_path / f"{tag}.json"), "--rules", str(RULES), "--roles", str(ROLES)],
                ["discover", str(receipt), "-o", str(tmp_path / f"{tag}.bpmn")]]

    runner = CliRunner()
    # the local conform in this process (no worker pool to start: the same results, see test_conformance)
    local = [runner.invoke(app, a + (["--processes", "1"] if a[0] == "conform" else []))
             for a in commands("local", str(receipt))]
    assert [r.exit_code for r in local] == [0, 0, 0, 0], [r.output for r in local]
    got = run_client([a + remote + (["--source-format", "table"] if a[0] == "bottlenecks" else [])
                      for a in commands("connect", "receipt_events")])
    assert [r[0] for r in got] == [0, 0, 0, 0], got
    # each command said where it ran and what it read, through Connect
    assert got[0][2].splitlines()[0] == f"engine: Spark ({connect_url(spark)})"
    assert "receipt_events: 8,577 events in 1,434 cases from 8,577 rows (long; Spark)" in got[1][2]
    assert "preset salesforce-field-history" in got[2][2]

    assert (tmp_path / "connect.svg").read_text() == (tmp_path / "local.svg").read_text()
    # the discovered BPMN model: the inductive miner on the variants Spark counted, the same file
    assert (tmp_path / "connect.bpmn").read_text() == (tmp_path / "local.bpmn").read_text()

    printed = [[ln for ln in out.splitlines() if not ln.startswith("wrote ")] for out in (local[1].stdout, got[1][1])]
    assert printed[1] == printed[0] and "stuck cases (running and idle too long): 534" in printed[0]
    for sheet in ("bottlenecks", "activities", "arcs", "case_status", "stuck_cases", "sla_breaches", "sla_summary"):
        same_table(pd.read_excel(tmp_path / "local.xlsx", sheet_name=sheet),
                   pd.read_excel(tmp_path / "connect.xlsx", sheet_name=sheet))

    s_l, s_c = (json.loads((tmp_path / f"{t}.json").read_text()) for t in ("local", "connect"))
    assert {k: v for k, v in s_c.items() if k not in (*VOLATILE, "provenance")} == \
        {k: v for k, v in s_l.items() if k not in (*VOLATILE, "provenance")}
    # the bundled rules and roles checked on the executors (through Connect), as locally
    assert (s_c["cases"], s_c["running_cases"], s_c["deviating_cases"]) == (2000, 311, 289)
    d_l, d_c = (pd.read_csv(tmp_path / f"{t}.csv", dtype=str, keep_default_na=False) for t in ("local", "connect"))
    assert len(d_c) == s_l["deviations"] > 0
    assert d_c["kind"].value_counts()["rule"] == 269
    same_table(d_l, d_c)  # row for row, in the local order (the model's deviations, then each rule's)
