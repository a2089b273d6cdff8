"""The Spark engine gives the local engine's numbers: both engines run here on the same logs.

One SparkSession (local[2], 2 shuffle partitions) for the module. Logs: the
demo Salesforce field-history export (read by both ingests from the CSV), and
real logs from ../shared/datasets (read locally from XES, handed to Spark as
Parquet): running-example, receipt (lifecycle transitions), the interval log
(start and complete timestamps: processing times) and BPIC 2013 incidents.

"Identical" means equal counts, names and order, and equal times. Spark
computes from exact integer microseconds; the local engine subtracts float
seconds since the epoch (resolution ~0.24 µs in 2011-2024), so its values
carry a rounding error of up to a few microseconds (seen: 1.5 µs on a
556 s mean in receipt) and its sums a relative 1e-12: times are compared to
within 5 µs or 1e-12 relative, whichever is larger.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from processmining import discovery, performance
from processmining.ingest import read_log
from processmining.model import ColumnMapping

pytest.importorskip("pyspark", reason="the Spark engine is an optional extra: pip install 'processmining[spark]'")

from processmining.spark import discovery as sdisc  # noqa: E402
from processmining.spark import performance as sperf  # noqa: E402
from processmining.spark.source import read_events  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "eventlogs" / "salesforce_opportunity_field_history.csv"


@pytest.fixture(scope="module")
def spark():
    from processmining.spark.session import spark_session

    session = spark_session(master="local[2]", shuffle_partitions=2)
    yield session


def to_parquet(log, path: Path) -> Path:
    """The local log's frame as Parquet (µs timestamps, as a data lake holds them)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(log.df, preserve_index=False), path, coerce_timestamps="us",
                   allow_truncated_timestamps=True)
    return path


def same_times(a, b, *, atol: float = 5e-6) -> None:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    assert np.array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(a)
    np.testing.assert_allclose(b[ok], a[ok], rtol=1e-12, atol=atol)


def same_table(local: pd.DataFrame, spark: pd.DataFrame, *, time_cols=()) -> None:
    """Same columns, same rows in the same order; time columns to the microsecond, the rest exactly."""
    assert list(spark.columns) == list(local.columns)
    assert list(spark.index) == list(local.index)
    for c in local.columns:
        if c in time_cols or (c.endswith("_s") and c not in ("limit_s",)) or \
                (pd.api.types.is_float_dtype(local[c]) and not pd.api.types.is_integer_dtype(local[c])):
            same_times(local[c], spark[c])
        elif pd.api.types.is_datetime64_any_dtype(local[c]):
            diff = (spark[c] - local[c]).abs().max()
            assert pd.isna(diff) or diff <= pd.Timedelta(microseconds=1), c
        else:
            assert spark[c].tolist() == local[c].tolist(), c


def tie_order(ranking: pd.DataFrame) -> pd.DataFrame:
    """The ranking's own order (total desc, kind, name) with totals equal to the microsecond as ties.

    The local engine sums float seconds along two paths (per arc, per activity), so an arc and the
    "waiting before" row of its only target can differ by float noise and swap places; Spark's sums
    are exact integers, so equal totals are tied and ordered by kind and name as documented.
    """
    key = ranking.assign(_t=-ranking["total_s"].round(6))
    return key.sort_values(["_t", "kind", "name"], ignore_index=True).drop(columns="_t")


def data_targets(local) -> tuple[list[str], list[str]]:
    """SLA targets and end activities taken from the log itself: its most frequent arc, activity, end."""
    pm = discovery.process_map(local)
    arc = pm.arcs.iloc[0]
    stage = pm.activities.index[0]
    ends = [pm.activities["ends"].idxmax()]
    return [f"{arc['source']}->{arc['target']}<=1d", f"{stage}<=1h"], ends


def check_analyses(local, slog, *, sla: list[str], idle: str, ends: list[str]) -> None:
    """Map, variants, activity times, rework, case durations, ranking, SLA, stuck: local vs Spark."""
    pm_l, pm_s = discovery.process_map(local), sdisc.process_map(slog)
    assert (pm_s.n_cases, pm_s.n_events, pm_s.has_start_times) == (pm_l.n_cases, pm_l.n_events, pm_l.has_start_times)
    same_table(pm_l.activities, pm_s.activities)
    same_table(pm_l.arcs, pm_s.arcs)
    assert pm_s.start_activities() == pm_l.start_activities()
    assert pm_s.end_activities() == pm_l.end_activities()
    same_table(discovery.variants(local), sdisc.variants(slog))
    acts_l, acts_s = performance.activity_performance(local), sperf.activity_performance(slog)
    same_table(acts_l.sort_index(), acts_s.sort_index())
    same_table(performance.rework(local), sperf.rework(slog))
    stats_l, stats_s = performance.case_duration_stats(local), sperf.case_duration_stats(slog)
    assert stats_s.keys() == stats_l.keys() and stats_s["count"] == stats_l["count"]
    same_times([stats_l[k] for k in stats_l], [stats_s[k] for k in stats_l])
    same_table(tie_order(performance.bottleneck_ranking(local)), sperf.bottleneck_ranking(slog, pm=pm_s, acts=acts_s))
    b_l, s_l = performance.sla_breaches(local, sla, final_activities=ends)
    b_s, s_s = sperf.sla_breaches(slog, sla, final_activities=ends)
    same_table(s_l, s_s)
    same_table(b_l, b_s)
    same_table(performance.stuck_cases(local, idle=idle, end_activities=ends),
               sperf.stuck_cases(slog, idle=idle, end_activities=ends))
    assert s_l["measured"].sum() > 0 and len(pm_l.arcs) > 0  # the comparison is not vacuous


def test_demo_field_history_ingest_and_analyses(spark):
    # the same CSV through both ingests: preset detection, transition shape, creation rows, collapsing
    local = read_log(DEMO)
    slog = read_events(spark, str(DEMO))
    rep, srep = local.report, slog.report
    assert (srep.rows_read, srep.events, srep.cases, srep.collapsed_duplicates, srep.duplicate_events) == \
        (rep.rows_read, rep.events, rep.cases, rep.collapsed_duplicates, rep.duplicate_events) == \
        (17284, 11809, 2000, 60, rep.duplicate_events)
    assert srep.filtered == rep.filtered and srep.quarantined == len(rep.quarantined)
    assert srep.preset == "salesforce-field-history"
    check_analyses(local, slog, sla=["Prospecting->Proposal/Price Quote<=30d", "Negotiation/Review<=14d"],
                   idle="60d", ends=["Closed Won", "Closed Lost"])
    stages = ["Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review",
              "Closed Won"]
    f_l = performance.funnel(local, stages, lost="Closed Lost")
    f_s = sperf.funnel(slog, stages, lost="Closed Lost")
    pd.testing.assert_frame_equal(f_l, f_s, check_dtype=False)
    assert f_s.attrs == f_l.attrs and f_s.attrs["lost_cases"] > 0


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


@pytest.mark.parametrize("name, idle", [
    ("running-example.xes", "5d"), ("receipt.xes.gz", "30d"), ("interval_event_log.xes.gz", "30d")])
def test_real_logs_from_parquet(spark, shared_datasets, tmp_path, name, idle):
    local = read_log(shared_datasets / "real" / name)
    sla, ends = data_targets(local)
    slog = read_events(spark, str(to_parquet(local, tmp_path / "log.parquet")))
    assert slog.report.events == local.n_events and slog.report.quarantined == 0
    check_analyses(local, slog, sla=sla, idle=idle, ends=ends)
    if name.startswith("interval"):
        assert sdisc.process_map(slog).has_start_times  # processing times were compared too
    slog.unpersist()


def test_bpic2013_incidents_map_and_variants(spark, shared_datasets, tmp_path):
    local = read_log(shared_datasets / "real" / "bpic2013_incidents.xes.gz")
    slog = read_events(spark, str(to_parquet(local, tmp_path / "bpic.parquet")))
    pm_l, pm_s = discovery.process_map(local), sdisc.process_map(slog)
    same_table(pm_l.activities, pm_s.activities)
    same_table(pm_l.arcs, pm_s.arcs)
    v_l, v_s = discovery.variants(local), sdisc.variants(slog)
    same_table(v_l, v_s)
    assert (pm_s.n_cases, len(v_s)) == (7554, len(v_l)) and math.isclose(v_s["share"].sum(), 1.0)
    slog.unpersist()
