"""The Spark engine gives the local engine's numbers: both engines run here on the same logs.

Logs: the demo Salesforce field-history export (read by both ingests from the
CSV), and real logs from ../shared/datasets (read locally from XES, handed to
Spark as Parquet): receipt (lifecycle transitions), the interval log (start
and complete timestamps: processing times) and a22 without timestamps (order
only). Each log is read once per
engine; one SparkSession serves the whole run. See ``spark_compare`` for what
"identical" means. The demo status, SLA and funnel numbers are those of the
local engine on that log (end activities inferred: Closed Lost, Order Booked).
"""

from __future__ import annotations

import pandas as pd
import pytest
from spark_compare import (
    demo_pair,
    real_pair,
    require_pyspark,
    same_table,
    to_parquet,
)

from processmining import discovery, performance, status
from processmining.errors import AnalysisError
from processmining.ingest import read_log
from processmining.model import ColumnMapping

require_pyspark()

from processmining.spark import discovery as sdisc  # noqa: E402
from processmining.spark import performance as sperf  # noqa: E402
from processmining.spark import status as sstatus  # noqa: E402
from processmining.spark.source import read_events  # noqa: E402

STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review",
          "Closed Won"]


@pytest.fixture(scope="module")
def demo(spark, repo_root):
    """The demo CSV through both ingests (preset detection, transition shape, creation rows, collapsing)."""
    return demo_pair(spark, repo_root)


@pytest.fixture(scope="module")
def real(spark, shared_datasets):
    """Real logs, read once for the run: local from XES, Spark from the same events as Parquet."""
    return lambda name: real_pair(spark, shared_datasets, name)[:2]


def check_map_and_times(local, slog) -> None:
    """Map, variants, activity times, rework, case durations and the ranking: local vs Spark."""
    pm_l, pm_s = discovery.process_map(local), sdisc.process_map(slog)
    assert (pm_s.n_cases, pm_s.n_events, pm_s.has_start_times) == (pm_l.n_cases, pm_l.n_events, pm_l.has_start_times)
    same_table(pm_l.activities, pm_s.activities)
    same_table(pm_l.arcs, pm_s.arcs)
    assert pm_s.start_activities() == pm_l.start_activities() and pm_s.end_activities() == pm_l.end_activities()
    same_table(discovery.variants(local), sdisc.variants(slog))
    acts_l, acts_s = performance.activity_performance(local), sperf.activity_performance(slog)
    same_table(acts_l, acts_s)
    same_table(performance.rework(local), sperf.rework(slog))
    stats_l, stats_s = performance.case_duration_stats(local), sperf.case_duration_stats(slog)
    same_table(pd.DataFrame([stats_l]), pd.DataFrame([stats_s]))
    # the ranking's order too: Spark's totals are the local floats summed in another order
    same_table(performance.bottleneck_ranking(local, pm=pm_l), sperf.bottleneck_ranking(slog, pm=pm_s, acts=acts_s))


def check_status_and_sla(local, slog, *, sla: list[str], idle: str, ends: list[str] | None) -> dict:
    """Case status, stuck cases and SLA targets, per case and exactly (``ends=None``: inferred)."""
    st_l = status.case_status(local, end_activities=ends, idle=idle)
    st_s = sstatus.case_status(slog, end_activities=ends, idle=idle)
    same_table(st_l, st_s, exact=True)
    assert st_s.attrs == st_l.attrs
    stuck_l = performance.stuck_cases(local, idle=idle, end_activities=ends)
    stuck_s = sstatus.stuck_cases(slog, idle=idle, end_activities=ends)
    same_table(stuck_l, stuck_s, exact=True)
    frames = []
    for tgt in sla:  # the per-case clock and verdict of every target (sla_breaches summarises these frames)
        frame = performance.sla_cases(local, tgt, end_activities=ends)
        same_table(frame, sperf.sla_cases(slog, tgt, end_activities=ends), exact=True)
        frames.append(frame["status"].value_counts().reindex(["late", "open", "pending", "not_reached"],
                                                             fill_value=0).tolist())
    assert sum(map(sum, frames)) > 0  # the comparison is not vacuous
    return {"status": st_l["status"].value_counts().to_dict(), "stuck": len(stuck_l), "sla": frames}


def data_targets(local) -> list[str]:
    """SLA targets from the log itself: its most frequent arc (a clock) and activity (a stage)."""
    pm = discovery.process_map(local)
    arc = pm.arcs.iloc[0]
    return [f"{arc['source']}->{arc['target']}<=1d", f"{pm.activities.index[0]}<=1h"]


# ------------------------------------------------------------------ the demo log, both ingests
def test_demo_ingest_same_row_accounting(demo):
    local, slog = demo
    rep, srep = local.report, slog.report
    assert (srep.rows_read, srep.events, srep.cases, srep.collapsed_duplicates, srep.duplicate_events) == \
        (rep.rows_read, rep.events, rep.cases, rep.collapsed_duplicates, rep.duplicate_events) == \
        (17288, 11809, 2000, 60, 0)
    assert srep.filtered == rep.filtered and srep.quarantined == len(rep.quarantined)
    assert srep.preset == "salesforce-field-history" and slog.has_timestamps


def test_demo_map_times_and_ranking(demo):
    check_map_and_times(*demo)


def test_demo_status_sla_and_stuck_with_inferred_and_given_ends(demo):
    local, slog = demo
    sla = ["Prospecting->Proposal/Price Quote<=30d", "Negotiation/Review<=14d", "start->Closed Won<=90d"]
    # end activities inferred from the data (Closed Lost, Order Booked): open cases are pending or open
    got = check_status_and_sla(local, slog, sla=sla, idle="60d", ends=None)
    assert got["status"] == {"finished": 1689, "running": 232, "stuck": 79} and got["stuck"] == 79
    # per target: late, open (breached), pending, not reached
    assert got["sla"] == [[46, 39, 75, 472], [334, 107, 12, 0], [0, 48, 263, 897]]
    b_l, s_l = performance.sla_breaches(local, sla)
    b_s, s_s = sperf.sla_breaches(slog, sla)
    same_table(s_l, s_s)
    same_table(b_l, b_s, exact=True)
    assert s_s["open_breached"].tolist() == [39, 107, 48] and s_s["pending"].tolist() == [75, 12, 263]
    given = check_status_and_sla(local, slog, sla=sla, idle="60d", ends=["Closed Won", "Closed Lost"])
    assert given["status"] == {"finished": 882, "stuck": 707, "running": 411}  # Closed Won ends a case now
    assert given["sla"][2] == [0, 60, 266, 882]


def test_demo_funnel_with_still_open_and_lost(demo):
    local, slog = demo
    f_l = performance.funnel(local, STAGES, lost="Closed Lost")
    f_s = sperf.funnel(slog, STAGES, lost="Closed Lost")
    pd.testing.assert_frame_equal(f_l, f_s, check_dtype=False)
    assert f_s.attrs == f_l.attrs and f_s.attrs["lost_cases"] > 0 and f_s["still_open"].sum() > 0


def test_demo_backward_moves_and_bpmn_discovery(demo):
    # backward moves: the local function on batches of whole cases (executors), rows in the local order;
    # the discovered BPMN model: the local inductive miner on the variants Spark counted, the same file
    local, slog = demo
    for allowed in ((), [("Negotiation/Review", "Proposal/Price Quote")]):
        m_l = performance.backward_moves(local, STAGES, allowed=allowed)
        m_s = sperf.backward_moves(slog, STAGES, allowed=allowed)
        pd.testing.assert_frame_equal(m_s, m_l, check_dtype=False)
    assert len(m_l) == 40 and m_l["case"].is_monotonic_increasing
    for noise in (0.0, 0.2):
        assert sdisc.discover_bpmn(slog, noise_threshold=noise) == discovery.discover_bpmn(local, noise_threshold=noise)


def test_quarantine_written_on_the_cluster_and_counted(spark, tmp_path):
    # rows 3 and 5 (lines 3 and 5 of the file) are bad: a blank activity and an impossible date
    src = tmp_path / "events.csv"
    src.write_text("case,activity,time,who\n"
                   "1,Open,2024-03-01 09:00,ann\n"
                   "1, ,2024-03-01 10:00,ann\n"
                   "1,Close,2024-03-02 10:00,bob\n"
                   "2,Open,2024-02-31 10:00,bob\n"
                   "2,Open,2024-03-03 10:00,bob\n")
    mapping = ColumnMapping(case="case", activity="activity", timestamp="time", resource="who")
    local = read_log(src, mapping=mapping)
    out = tmp_path / "quarantine.parquet"
    slog = read_events(spark, str(src), mapping=mapping, quarantine_to=str(out))
    rep = slog.report
    assert (rep.rows_read, rep.events, rep.quarantined) == (5, 3, 2)
    assert rep.rows_read == rep.events + rep.quarantined + rep.collapsed_duplicates + sum(rep.filtered.values())
    written = pd.read_parquet(out).sort_values("row").reset_index(drop=True)
    expected = [(q.row, q.reason, q.column, q.value) for q in local.report.quarantined]
    got = [(int(r.row), r.reason, r.column, None if pd.isna(r.value) else r.value) for r in written.itertuples()]
    assert got == expected == [(3, "missing activity", "activity", None),
                               (5, expected[1][1], "time", "2024-02-31 10:00")]
    assert rep.quarantine_location == str(out)
    same_table(discovery.variants(local), sdisc.variants(slog))


# ------------------------------------------------------------------ real logs
@pytest.mark.parametrize("name, idle, counts", [
    ("receipt", "30d", {"finished": 882, "stuck": 534, "running": 18}),
    ("interval_event_log", "30d", {"finished": 1002, "stuck": 227, "running": 37}),
])
def test_real_logs(real, name, idle, counts):
    local, slog = real(name)
    assert slog.report.events == local.n_events and slog.report.quarantined == 0
    check_map_and_times(local, slog)
    got = check_status_and_sla(local, slog, sla=data_targets(local), idle=idle, ends=None)
    assert got["status"] == counts
    if name.startswith("interval"):
        assert slog.has_start_times  # processing times were compared too


def test_order_only_log(spark, shared_datasets, tmp_path):
    # a22 with 10 % noise has no timestamps: maps count, variants have no durations, time analyses say why
    local = read_log(shared_datasets / "synthetic" / "a22f0n10.xes.gz")
    slog = read_events(spark, str(to_parquet(local, tmp_path / "a22.parquet")))
    assert (local.has_timestamps, slog.has_timestamps, slog.report.events) == (False, False, local.n_events)
    pm_l, pm_s = discovery.process_map(local), sdisc.process_map(slog)
    same_table(pm_l.activities, pm_s.activities)
    same_table(pm_l.arcs, pm_s.arcs)
    v_l, v_s = discovery.variants(local), sdisc.variants(slog)
    same_table(v_l, v_s)
    assert v_s["mean_duration_s"].isna().all() and pm_s.arcs["wait_mean_s"].isna().all()
    same_table(status.case_status(local), sstatus.case_status(slog), exact=True)
    for local_fn, spark_fn in ((performance.activity_performance, sperf.activity_performance),
                               (performance.bottleneck_ranking, sperf.bottleneck_ranking)):
        with pytest.raises(AnalysisError) as want:
            local_fn(local)
        with pytest.raises(AnalysisError) as got:
            spark_fn(slog)
        assert str(got.value).split(": ", 1)[1] == str(want.value).split(": ", 1)[1]
    slog.unpersist()


def test_start_and_complete_events_are_paired_not_miscounted(spark, tmp_path):
    # a table with start and complete events: paired into one instance on the cluster (tests/test_spark_lifecycle.py
    # has every corner), never mined as two events with a self-loop
    import pyarrow as pa
    import pyarrow.parquet as pq

    from processmining.model import ACTIVITY, CASE, LIFECYCLE, START_TIMESTAMP, TIMESTAMP

    path = tmp_path / "lc.parquet"
    pq.write_table(pa.table({CASE: ["1", "1"], ACTIVITY: ["Review", "Review"], LIFECYCLE: ["start", "complete"],
                             TIMESTAMP: pa.array([1_700_000_000_000_000, 1_700_000_360_000_000],
                                                 type=pa.timestamp("us", tz="UTC"))}), path)
    slog = read_events(spark, str(path))
    assert (slog.report.rows_read, slog.report.events, slog.report.lifecycle["paired"]) == (2, 1, 1)
    row = slog.df.select(START_TIMESTAMP, TIMESTAMP).first()
    assert (row[TIMESTAMP] - row[START_TIMESTAMP]).total_seconds() == 360.0
    slog.unpersist()


def test_delta_without_the_delta_jars_is_one_clear_line(spark, tmp_path):
    # the Delta connector is the cluster's (its jars come from Maven, not from the delta-spark wheel): without it
    # --source-format delta names the missing data source in one line, and nothing is read
    from processmining.errors import IngestError

    with pytest.raises(IngestError) as got:
        read_events(spark, str(tmp_path), fmt="delta")
    assert str(got.value) == f"{tmp_path}: Spark cannot read it as delta: this Spark has no Delta Lake (the " \
        "cluster needs the io.delta:delta-spark_2.13 jar of its Spark version and the Delta session extensions; " \
        'see the README, "Running on a Spark cluster"), or read a catalog table by name with --source-format table'
    with pytest.raises(IngestError) as got:  # any other Spark failure: its own message, not py4j's call site
        read_events(spark, str(tmp_path / "missing.parquet"))
    assert "An error occurred while calling" not in str(got.value) and "PATH_NOT_FOUND" in str(got.value)
