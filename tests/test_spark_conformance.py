"""Conformance on Spark equals the local engine; the CLI's --engine spark; Spark Connect addresses.

Conformance runs both engines on a real model/log pair (receipt from
../shared/datasets) and on the demo Salesforce log with the
bundled lead-to-order model: same fitness, precision, summary, variant
costs, traversal counts and the same per-case deviation rows (read back from
the Parquet table Spark wrote).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from spark_compare import demo_pair, real_pair, require_pyspark, to_parquet
from typer.testing import CliRunner

from processmining.bpmn import read_bpmn
from processmining.cli import app
from processmining.conformance import conform
from processmining.conformance.accepted import AcceptedDeviations, AcceptedPattern
from processmining.ingest import read_log
from processmining.rules import load_rules, read_roles

require_pyspark()

from processmining.spark.conformance import conform as spark_conform  # noqa: E402
from processmining.spark.session import EngineError, parse_remote, session_config  # noqa: E402
from processmining.spark.source import read_events  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
#: what differs by design: wall time, and how the work was spread (worker pool vs executors)
VOLATILE = ("seconds", "alignment_work")
#: the local engine's numbers on the demo log with the bundled rules (violations per rule, deviating cases
#: without / with the accepted patterns), and on the Jira log (token replay)
RULE_ROWS = {"quote-within-30d": 85, "stuck-60d": 79, "no-backward-stage-moves": 40, "approval-above-20pct": 30,
             "sod-quote-approval": 20, "order-after-won": 15}
DEVIATING = (289, 204)
TICKET_RULE_ROWS = {"resolution-high-5d": 52, "first-response-4h": 42, "never-closed-30d": 30}
TICKET_REPLAY = ("pm4py token-based replay log fitness", 1370, 221)


def micros(s: pd.Series) -> list:
    """Timestamps as µs since the epoch (UTC; naive = UTC), None for NaT."""
    s = pd.to_datetime(s)
    s = s.dt.tz_localize("UTC") if s.dt.tz is None else s.dt.tz_convert("UTC")
    return [None if pd.isna(x) else x.value // 1000 for x in s]


def same_rows(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    for c in want.columns:
        if c == "timestamp":
            assert micros(got[c]) == micros(want[c])
        else:
            assert got[c].astype(object).where(got[c].notna(), None).tolist() == \
                want[c].astype(object).where(want[c].notna(), None).tolist(), c


def check_same(local, slog, model, tmp_path: Path, *, collect: bool = False, **options) -> tuple[dict, pd.DataFrame]:
    """Both engines with the same ``options`` (rules, roles, accepted, mode): the same summary, variants,
    traversal counts and deviation rows (written as Parquet, or with ``collect`` collected as the local table)."""
    # a generous budget per variant: "not computed" depends on the machine's load, not on the engine
    r_l = conform(local, model, processes=1, variant_timeout_s=300, **options)
    dest = tmp_path / "deviations.parquet"
    r_s = spark_conform(slog, model, deviations_to=None if collect else str(dest), variant_timeout_s=300, **options)
    assert {k: v for k, v in r_s.summary.items() if k not in VOLATILE} == \
        {k: v for k, v in r_l.summary.items() if k not in VOLATILE}
    pd.testing.assert_frame_equal(r_s.variants, r_l.variants, check_dtype=False)
    assert (r_s.element_counts, r_s.flow_counts, r_s.untraced_cases) == \
        (r_l.element_counts, r_l.flow_counts, r_l.untraced_cases)
    n_rows = r_l.summary["deviations"] + r_l.summary["accepted_deviations"]
    assert len(r_l.deviations) == n_rows
    if collect:  # the table --output gets: rows in the local order
        same_rows(r_s.deviation_table(), r_l.deviations.reset_index(drop=True))
        r_s.unpersist()
    else:
        got = pd.read_parquet(dest).sort_values(["case_id", "step"], ignore_index=True).drop(columns="step")
        same_rows(got, r_l.deviations.sort_values("case_id", kind="stable", ignore_index=True))
    return r_l.summary, r_l.deviations


def test_real_model_log_pair(spark, shared_datasets, tmp_path):
    local, slog, _ = real_pair(spark, shared_datasets, "receipt")
    summary, _ = check_same(local, slog, read_bpmn(shared_datasets / "real" / "receipt.bpmn"), tmp_path,
                            precision="alignments")
    # no case deviates (running receipt cases fit as prefixes; seen in both engines)
    assert (summary["cases"], summary["variants"], summary["running_cases"], summary["deviating_cases"]) == \
        (1434, 116, 552, 0)
    # alignment-based precision on both engines, on the net compiled from receipt.bpmn (token-based: 0.18488)
    assert (summary["precision"], summary["precision_method"]) == \
        (0.1839696495242683, "pm4py align-ETC precision, precision_alignments")


def test_demo_log_with_the_bundled_model(spark, tmp_path):
    local, slog = demo_pair(spark, REPO)  # the CSV through the Spark ingest, not via the local frame
    # collected (the table --output gets without --deviations-to), in the local order
    summary, _ = check_same(local, slog, read_bpmn(REPO / "bpmn_models" / "lead_to_order.bpmn"), tmp_path,
                            collect=True)
    # running cases (end activities inferred from the data, as processmining.status decides) are prefixes
    assert (summary["cases"], summary["running_cases"], summary["deviating_cases"]) == (2000, 311, 75)
    assert summary["patterns"]


def test_demo_log_with_rules_roles_and_accepted_deviations(spark, tmp_path):
    # the auditors' run: the bundled rules (segregation of duties, an SLA, precedence with a `when`, roles by
    # BPMN lane, backward moves, idle cases) and accepted patterns of each kind (activity, rule, listed cases)
    local, slog = demo_pair(spark, REPO)
    model = read_bpmn(REPO / "bpmn_models" / "lead_to_order.bpmn")
    rules = load_rules(REPO / "bpmn_models" / "lead_to_order.rules.yaml")
    roles = read_roles(REPO / "bpmn_models" / "lead_to_order.roles.csv")
    plain, rows = check_same(local, slog, model, tmp_path, rules=rules, roles=roles, precision=False)
    by_rule = rows["rule_id"].value_counts().to_dict()
    assert by_rule == RULE_ROWS
    some_case = sorted(rows.loc[rows["rule_id"] == "no-backward-stage-moves", "case_id"])[0]
    accepted = AcceptedDeviations((
        AcceptedPattern(kind="unexpected", activity="Closed Lost", reason="lost from any stage"),
        AcceptedPattern(kind="rule", rule_id="quote-within-30d", reason="slow quotes signed off"),
        AcceptedPattern(kind="rule", rule_id="no-backward-stage-moves", cases=frozenset({some_case}),
                        reason="one case")))
    summary, rows = check_same(local, slog, model, tmp_path, collect=True, rules=rules, roles=roles,
                               accepted=accepted, precision=False)
    assert summary["accepted_deviations"] == int(rows["accepted"].sum()) > RULE_ROWS["quote-within-30d"]
    assert (plain["deviating_cases"], summary["deviating_cases"]) == DEVIATING


def test_ticket_rules_with_a_condition_and_token_replay(spark, repo_root, tmp_path):
    # the Jira log (nested JSON, converted locally, on Spark as Parquet): an SLA with `when` infers the end
    # activities of its own cases on the cluster; token replay per variant
    path = to_parquet(read_log(repo_root / "eventlogs" / "jira_changelog.json"), tmp_path / "jira.parquet")
    local, slog = read_log(path), read_events(spark, str(path))  # one file: the same event numbers
    model = read_bpmn(repo_root / "bpmn_models" / "it_support_ticket.bpmn")
    rules = load_rules(repo_root / "bpmn_models" / "it_support_ticket.rules.yaml")
    summary, rows = check_same(local, slog, model, tmp_path, collect=True, rules=rules, mode="token_replay")
    assert rows["rule_id"].value_counts().to_dict() == TICKET_RULE_ROWS
    assert (summary["fitness_method"], summary["fitting_cases"], summary["deviating_cases"]) == TICKET_REPLAY


def test_a_resorted_canonical_file_is_numbered_by_its_rows_on_both_engines(spark, tmp_path):
    # a canonical Parquet file (as convert writes it) whose @@index is not its row order (re-sorted since): both
    # ingests number the events by file row (the local ingest is the reference) and keep the file's own numbers
    # as 'index (input)'; so ties in time run in file order and the evidence cites the same event numbers
    import pyarrow as pa
    import pyarrow.parquet as pq

    day = pd.Timestamp("2024-03-01", tz="UTC")
    # each case has two events at one time; in file order "fits" fits and "late" deviates, in the stored
    # (reverse) order the other way round
    cases = {"fits": [("Prospecting", 0), ("Qualification", 0), ("Needs Analysis", 1)],
             "late": [("Prospecting", 0), ("Qualification", 1), ("Proposal/Price Quote", 2), ("Needs Analysis", 2),
                      ("Negotiation/Review", 3)]}
    rows = [(c, a, day + pd.Timedelta(days=d)) for c, events in cases.items() for a, d in events]
    frame = pd.DataFrame(rows, columns=["case:concept:name", "concept:name", "time:timestamp"])
    n = len(frame)
    frame["@@index"] = range(n - 1, -1, -1)  # the stored order says the reverse of the file
    frame["@@source_row"] = frame["@@index"] + 1
    path = tmp_path / "resorted.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, coerce_timestamps="us")
    local, slog = read_log(path), read_events(spark, str(path))
    got = slog.df.toPandas().sort_values("@@index", ignore_index=True)
    for log in (local.df.sort_values("@@index", ignore_index=True), got):
        assert log["@@index"].tolist() == list(range(n))
        assert log["index (input)"].tolist() == [str(i) for i in range(n - 1, -1, -1)]
    model = read_bpmn(REPO / "bpmn_models" / "lead_to_order.bpmn")
    _, rows = check_same(local, slog, model, tmp_path, collect=True)
    assert rows[["case_id", "kind", "activity", "evidence"]].values.tolist() == [
        ["late", "unexpected", "Proposal/Price Quote", "5"], ["late", "unexpected", "Negotiation/Review", "7"]]


# ------------------------------------------------------------------ CLI
def test_cli_discover_on_spark_in_local_mode(spark, shared_datasets, tmp_path):
    # --engine spark without --spark-remote: a session on this machine (bottlenecks and conform through the CLI
    # are compared in test_spark_connect, through Spark Connect)
    _, _, src = real_pair(spark, shared_datasets, "receipt")
    runner = CliRunner()
    for engine, out in (("local", "l.svg"), ("spark", "s.svg")):
        args = ["discover", str(src), "-o", str(tmp_path / out), "--metric", "performance"]
        res = runner.invoke(app, args + (["--engine", "spark", "--spark-master", "local[2]"] if engine == "spark"
                                         else []))
        assert res.exit_code == 0, res.output
    assert res.stderr.splitlines()[0] == "engine: Spark (local[2])"
    assert (tmp_path / "s.svg").read_text() == (tmp_path / "l.svg").read_text()  # the same map, drawn the same


def test_cli_refuses_bad_inputs_and_unreachable_cluster(tmp_path):
    runner = CliRunner()
    src = tmp_path / "x.parquet"
    res = runner.invoke(app, ["discover", str(src), "-o", str(tmp_path / "m.svg"),
                              "--spark-remote", "sc://127.0.0.1:9"])
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [
        "engine: Spark (sc://127.0.0.1:9)",
        "error: cannot reach Spark Connect at sc://127.0.0.1:9: Connection refused (is the Connect server running, "
        "and is the port open to this machine?)"]
    res = runner.invoke(app, ["conform", str(src), str(REPO / "bpmn_models" / "lead_to_order.bpmn"), "-o",
                              str(tmp_path / "d.csv"), "--engine", "spark", "--rules", "r.yaml"])
    assert res.exit_code == 2  # the rules are read before Spark starts: a missing file is one line
    assert res.output.strip() == "error: r.yaml: file not found"
    res = runner.invoke(app, ["discover", str(src), "-o", str(tmp_path / "m.svg"), "--engine", "spark",
                              "--spark-remote", "http://x:1"])
    assert res.output.strip().endswith("error: --spark-remote must look like sc://host:15002, got 'http://x:1'")


def test_remote_session_config():
    cfg = session_config(remote="sc://spark.internal/;token=abc")
    assert cfg.remote == "sc://spark.internal:15002/;token=abc" and cfg.master is None
    assert cfg.settings()["spark.sql.session.timeZone"] == "UTC"
    assert "spark.ui.enabled" not in cfg.settings()  # a cluster's settings are its own
    assert parse_remote("sc://10.0.0.5:443") == "sc://10.0.0.5:443"
    assert session_config(master="local[2]", shuffle_partitions=4).settings()["spark.sql.shuffle.partitions"] == "4"
    with pytest.raises(EngineError, match="either --spark-remote"):
        session_config(remote="sc://a", master="local[2]")
    with pytest.raises(EngineError, match="invalid port"):
        parse_remote("sc://a:99999999")
