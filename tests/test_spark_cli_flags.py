"""Every flag of the commands that take ``--engine`` works the same on Spark or stops with one line naming it.

``--stage-labels`` runs on Spark with the local results; ``--sheet`` (XLSX)
and ``conform --processes`` (local worker processes) have no meaning there
and stop; a Spark-only flag given to the local engine stops too; no flag is
dropped silently. The refusals are checked before Spark starts (no session).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from spark_compare import require_pyspark
from typer.testing import CliRunner

from processmining.cli import app
from processmining.cli.engine import PROCESSES_ON_SPARK, SHEET_ON_SPARK
from processmining.ingest import read_log

REPO = Path(__file__).resolve().parent.parent
FIX = REPO / "tests" / "fixtures" / "ingest"
MODEL = str(REPO / "bpmn_models" / "lead_to_order.bpmn")
#: ServiceNow state choices: 2 and 6 under one label (consecutive, so the second collapses) and 7 without one
#: (kept as its id, with the local warning)
LABELS = {"2": "Done", "6": "Done"}
NOTE = "1 stage ids have no label in the stage lookup and are kept as ids: '7'"


def test_stage_labels_give_the_local_log_and_map_on_spark(spark, tmp_path):
    require_pyspark()
    from processmining.spark.source import read_events

    src = FIX / "servicenow_sys_audit.csv"
    local = read_log(src, preset="servicenow-audit", stage_labels=LABELS)
    slog = read_events(spark, str(src), preset="servicenow-audit", stage_labels=LABELS)
    cols = ["case:concept:name", "concept:name", "time:timestamp", "@@index", "@@source_row"]
    got = slog.df.toPandas().sort_values(["case:concept:name", "time:timestamp", "@@index"], ignore_index=True)
    got["time:timestamp"] = got["time:timestamp"].dt.tz_localize("UTC")  # Spark hands naive UTC times
    assert got[cols].values.tolist() == local.df[cols].values.tolist()
    assert got["concept:name"].tolist() == ["Done", "Done", "7"]
    assert (slog.report.collapsed_duplicates, slog.report.events) == (local.report.collapsed_duplicates,
                                                                      local.n_events) == (2, 3)
    assert NOTE in slog.report.warnings and NOTE in local.report.warnings
    # the lookup file read by the CLI and handed to the Spark ingest: the same map, drawn the same
    labels = tmp_path / "states.csv"
    labels.write_text("value,label\n" + "".join(f"{k},{v}\n" for k, v in LABELS.items()))
    base = ["discover", str(src), "--preset", "servicenow-audit", "--stage-labels", str(labels), "-q"]
    for args in (["-o", str(tmp_path / "l.dot")], ["-o", str(tmp_path / "s.dot"), "--engine", "spark"]):
        res = CliRunner().invoke(app, base + args)
        assert res.exit_code == 0, res.output
    drawn = (tmp_path / "l.dot").read_text()
    assert (tmp_path / "s.dot").read_text() == drawn and "Done" in drawn and '"2"' not in drawn


@pytest.mark.parametrize("args, message", [
    # an XLSX sheet: Spark reads Parquet and CSV only
    (["discover", "x.parquet", "-o", "m.svg", "--engine", "spark", "--sheet", "Deals"], SHEET_ON_SPARK),
    (["bottlenecks", "x.parquet", "--spark-remote", "sc://127.0.0.1:9", "--sheet", "Deals"], SHEET_ON_SPARK),
    (["conform", "x.parquet", MODEL, "-o", "d.csv", "--engine", "spark", "--sheet", "Deals"], SHEET_ON_SPARK),
    # local worker processes: on Spark the executors do the work
    (["conform", "x.parquet", MODEL, "-o", "d.csv", "--engine", "spark", "--processes", "2"], PROCESSES_ON_SPARK),
    # Spark-only flags given to the local engine
    (["discover", "x.parquet", "-o", "m.svg", "--quarantine-to", "q.parquet"],
     "--quarantine-to is an option of the Spark engine: add --engine spark (or --spark-remote), or leave it out"),
    (["bottlenecks", "x.parquet", "--spark-master", "local[2]"],
     "--spark-master is an option of the Spark engine: add --engine spark (or --spark-remote), or leave it out"),
    (["bottlenecks", "x.parquet", "--source-format", "table"],
     "--source-format is an option of the Spark engine: add --engine spark (or --spark-remote), or leave it out"),
    (["conform", "x.parquet", MODEL, "-o", "d.csv", "--deviations-to", "devs"],
     "--deviations-to is an option of the Spark engine: add --engine spark (or --spark-remote), or leave it out"),
])
def test_a_flag_the_engine_cannot_use_is_one_line(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2
    assert res.output.strip() == f"error: {message}"


def test_deviations_to_is_only_a_conform_flag():
    # discover and bottlenecks write no deviations: the flag is not theirs on any engine
    for command in ("discover", "bottlenecks"):
        res = CliRunner().invoke(app, [command, "x.parquet", "--engine", "spark", "--deviations-to", "devs"])
        assert res.exit_code == 2
        assert "No such option: --deviations-to" in res.output
