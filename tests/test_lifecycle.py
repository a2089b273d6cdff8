"""Lifecycle transitions become activity instances (processmining.lifecycle), checked against pm4py's interval conversion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from processmining.discovery import process_map, variants
from processmining.ingest import read_log
from processmining.lifecycle import _fifo_match, pair_lifecycle
from processmining.model import (
    ACTIVITY,
    CASE,
    LIFECYCLE,
    RESOURCE,
    START_TIMESTAMP,
    SUSPENDED,
    TIMESTAMP,
    EventLog,
    IngestReport,
)
from processmining.performance import activity_performance, bottleneck_ranking


def _log(rows: list[tuple], *, resource: bool = False) -> EventLog:
    cols = [CASE, ACTIVITY, LIFECYCLE, TIMESTAMP] + ([RESOURCE] if resource else [])
    frame = pd.DataFrame(rows, columns=cols)
    frame[TIMESTAMP] = pd.to_datetime(frame[TIMESTAMP], utc=True)
    report = IngestReport(source="t.xes", sha256="x", rows_read=len(frame), events=len(frame))
    return EventLog.from_frame(frame, report=report)


def test_fifo_match_pairs_oldest_open_and_leaves_early_closes_unpaired() -> None:
    # group 0: close (nothing open) , open, open, close, close ; group 1: open (never closed)
    group = np.array([0, 0, 0, 0, 0, 1])
    is_open = np.array([False, True, True, False, False, True])
    is_close = np.array([True, False, False, True, True, False])
    assert _fifo_match(group, is_open, is_close).tolist() == [-1, -1, -1, 1, 2, -1]


def test_start_complete_become_instances_and_unpaired_ones_are_kept_and_counted() -> None:
    log = _log([
        ("1", "A", "start", "2024-01-01 09:00"), ("1", "A", "complete", "2024-01-01 10:00"),
        ("1", "B", "complete", "2024-01-01 12:00"),            # no start: processing unknown
        ("1", "C", "start", "2024-01-01 13:00"),               # never completed: kept
        ("1", "D", "schedule", "2024-01-01 13:30"),            # not an instance: counted
    ])
    out = pair_lifecycle(log)
    assert out.df[ACTIVITY].tolist() == ["A", "B", "C"]
    assert out.report.lifecycle == {"instances": 3, "paired": 1, "complete_only": 1, "start_only": 1, "schedule": 1}
    assert out.report.events == 3 and out.report.rows_read == 5
    assert out.report.filtered == {"lifecycle 'start' paired with its 'complete' into one activity instance": 1,
                                   "lifecycle 'schedule' (not an activity instance)": 1}
    out.report.check_balance()
    assert out.codes.processing[0] == 3600.0
    assert np.isnan(out.codes.processing[1:]).all()  # unknown, never a fake zero
    assert out.df[LIFECYCLE].tolist() == ["complete", "complete", "start"]


def test_parallel_instances_pair_by_resource_before_fifo() -> None:
    # Ann starts first but Bob finishes first: FIFO alone would pair Ann's start with Bob's complete
    log = _log([
        ("1", "Review", "start", "2024-01-01 09:00", "Ann"), ("1", "Review", "start", "2024-01-01 09:30", "Bob"),
        ("1", "Review", "complete", "2024-01-01 10:00", "Bob"), ("1", "Review", "complete", "2024-01-01 12:00", "Ann"),
    ], resource=True)
    out = pair_lifecycle(log)
    got = dict(zip(out.df[RESOURCE], out.codes.processing, strict=True))
    assert got == {"Bob": 1800.0, "Ann": 3 * 3600.0}


def test_suspension_is_not_processing_time() -> None:
    log = _log([
        ("1", "A", "start", "2024-01-01 09:00"), ("1", "A", "suspend", "2024-01-01 10:00"),
        ("1", "A", "resume", "2024-01-01 15:00"), ("1", "A", "complete", "2024-01-01 16:00"),
    ])
    out = pair_lifecycle(log)
    assert out.n_events == 1
    assert out.df[SUSPENDED].tolist() == [5 * 3600.0]
    assert out.codes.processing.tolist() == [2 * 3600.0]
    assert out.report.lifecycle["suspend"] == 1 and out.report.lifecycle["resume"] == 1


def test_classifier_mode_keeps_the_transition_in_the_activity_like_prom() -> None:
    log = _log([("1", "A", "start", "2024-01-01 09:00"), ("1", "A", "complete", "2024-01-01 10:00")])
    out = pair_lifecycle(log, mode="classifier")
    assert out.df[ACTIVITY].tolist() == ["A+start", "A+complete"]
    assert pair_lifecycle(log, mode="events") is log


def test_ticket_statuses_in_the_lifecycle_column_are_not_paired() -> None:
    # BPIC 2013 keeps statuses ("In Progress", "Awaiting Assignment") in lifecycle:transition
    log = _log([("1", "Accepted", "In Progress", "2024-01-01 09:00"),
                ("1", "Queued", "Awaiting Assignment", "2024-01-01 10:00")])
    assert pair_lifecycle(log) is log


def _pm4py_instances(path) -> pd.DataFrame:
    import pm4py
    from pm4py.objects.log.util import interval_lifecycle

    iv = interval_lifecycle.to_interval(pm4py.read_xes(str(path), return_legacy_log_object=True))
    rows = [(t.attributes["concept:name"], e["concept:name"], e["start_timestamp"], e["time:timestamp"])
            for t in iv for e in t]
    out = pd.DataFrame(rows, columns=["case", "activity", "start", "end"])
    out["start"] = pd.to_datetime(out["start"], utc=True)
    out["end"] = pd.to_datetime(out["end"], utc=True)
    return out


@pytest.mark.slow
def test_reviewing_agrees_with_pm4py_interval_conversion(shared_datasets) -> None:
    path = shared_datasets / "real" / "reviewing.xes.gz"
    log = read_log(path)
    assert log.report.lifecycle == {"instances": 2278, "paired": 1452, "complete_only": 826, "start_only": 0}
    assert log.report.rows_read == 3730 and log.n_events == 2278
    pm = _pm4py_instances(path)
    assert len(pm) == 2278
    ours = pd.DataFrame({"case": log.df[CASE].astype(object), "activity": log.df[ACTIVITY].astype(object),
                         "start": log.df[START_TIMESTAMP].fillna(log.df[TIMESTAMP]), "end": log.df[TIMESTAMP]})
    key = ["case", "activity", "end", "start"]
    a = ours.sort_values(key, ignore_index=True)
    b = pm.sort_values(key, ignore_index=True)
    # the same instances with the same start and end. Where we differ on purpose: pm4py gives a complete
    # without a start start = end (processing time 0); we leave the start empty (processing time unknown).
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert int(np.isnan(log.codes.processing).sum()) == 826
    assert float(np.nansum(log.codes.processing)) == float((pm["end"] - pm["start"]).dt.total_seconds().sum())
    # no lifecycle self-loops on the map, and processing time is shown
    pmap = process_map(log)
    assert not (pmap.arcs["source"] == pmap.arcs["target"]).any()
    assert pmap.has_start_times
    perf = activity_performance(log)
    assert perf["processing_total_s"].sum() == pytest.approx(315187200.0)
    ranking = bottleneck_ranking(log)
    assert set(ranking["kind"]) == {"arc", "waiting before", "processing"}
    assert not (ranking["source"].notna() & (ranking["source"] == ranking["target"])).any()
    # the raw view: start and complete as two events per instance, as read
    raw = read_log(path, lifecycle="events")
    assert raw.n_events == 3730


@pytest.mark.slow
def test_reviewing_variants_equal_pm4py_on_the_interval_log(shared_datasets) -> None:
    """pm4py orders interval events by start time, we by completion time: on this log both orders agree."""
    path = shared_datasets / "real" / "reviewing.xes.gz"
    log = read_log(path)
    pm = _pm4py_instances(path)
    pm = pm.sort_values(["case", "start"], kind="stable")
    theirs = pm.groupby("case", sort=False)["activity"].agg(tuple).value_counts()
    ours = variants(log).set_index("activities")["cases"]
    assert ours.sort_index().to_dict() == theirs.sort_index().to_dict()


@pytest.mark.slow
def test_interval_log_processing_time_equals_pm4py(shared_datasets) -> None:
    import pm4py

    path = shared_datasets / "real" / "interval_event_log.xes.gz"
    log = read_log(path)
    assert log.report.lifecycle == {}  # start_timestamp already on every event: nothing to pair
    df = pm4py.read_xes(str(path))
    dur = (df["time:timestamp"] - df["start_timestamp"]).dt.total_seconds()
    theirs = dur.groupby(df["concept:name"]).sum()
    ours = activity_performance(log)["processing_total_s"]
    assert ours.sort_index().to_dict() == pytest.approx(theirs.sort_index().to_dict())
