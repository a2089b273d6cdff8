"""Explicit fixes: each returns a new log with the step in its history and counts; the input is untouched."""

from __future__ import annotations

import pandas as pd
import pytest

from processmining.errors import ProcessMiningError
from processmining.model import ACTIVITY, CASE, RESOURCE, TIMESTAMP, EventLog, IngestReport
from processmining.quality import (
    QualityConfig,
    audit,
    drop_duplicate_events,
    exclude_incomplete_cases,
    merge_synonymous_labels,
    shift_timezone,
)


def make_log(rows, *, timezone: str = "UTC") -> EventLog:
    df = pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP, RESOURCE])
    df[TIMESTAMP] = pd.to_datetime(df[TIMESTAMP], utc=True, format="ISO8601")
    return EventLog.from_frame(df, report=IngestReport(source="t.csv", sha256="0", timezone=timezone), name="t.csv")


def tickets() -> EventLog:
    rows = []
    for i in range(6):  # six clean tickets
        rows += [(f"t{i}", "Open", "2024-03-01T09:00:00Z", "ann"),
                 (f"t{i}", "Waiting for Customer", "2024-03-01T10:00:00Z", "ann"),
                 (f"t{i}", "Closed", "2024-03-02T09:00:00Z", "bob")]
    rows += [("s1", "Open", "2024-03-01T09:00:00Z", "ann"),  # two distorted spellings
             ("s1", "waiting for customer", "2024-03-01T10:00:00Z", "ann"),
             ("s1", "Wating for Customer", "2024-03-01T11:00:00Z", "ann"),
             ("s1", "Closed", "2024-03-02T09:00:00Z", "bob")]
    rows += [("d1", "Open", "2024-03-01T09:00:00Z", "ann"),  # exact duplicate + same-instant copy by bob
             ("d1", "Open", "2024-03-01T09:00:00Z", "ann"),
             ("d1", "Open", "2024-03-01T09:00:00Z", "bob"),
             ("d1", "Closed", "2024-03-02T09:00:00Z", "bob")]
    rows += [("x1", "Waiting for Customer", "2024-03-01T10:00:00Z", "ann"),  # no start, no end
             ("x1", "Waiting for Customer", "2024-03-03T10:00:00Z", "ann")]
    return make_log(rows)


def test_merge_synonymous_labels_default_mapping():
    log = tickets()
    res = merge_synonymous_labels(log)
    assert res.details["mapping"] == {"Wating for Customer": "Waiting for Customer",
                                      "waiting for customer": "Waiting for Customer"}
    assert res.changed == 2
    assert res.step == ("quality: merged 2 labels into 1 (2 events): 'Wating for Customer' -> 'Waiting for "
                        "Customer'; 'waiting for customer' -> 'Waiting for Customer'")
    assert res.log.history == (res.step,)
    assert sorted(res.log.activities) == ["Closed", "Open", "Waiting for Customer"]
    # the original is untouched, and the fixed log no longer has the finding
    assert "Wating for Customer" in log.activities and log.history == ()
    assert audit(res.log, config=QualityConfig(now=pd.Timestamp("2025-01-01", tz="UTC"))).by_check(
        "synonymous_labels") == []


def test_merge_synonymous_labels_explicit_mapping_lists_unused_labels():
    res = merge_synonymous_labels(tickets(), mapping={"Wating for Customer": "Waiting for Customer",
                                                      "Pending": "Waiting for Customer"})
    assert (res.changed, res.details["unused"]) == (1, ["Pending"])
    assert "waiting for customer" in res.log.activities  # not in the given mapping: left alone


def test_drop_duplicate_events_exact_by_default_or_by_key():
    log = tickets()
    exact = drop_duplicate_events(log)
    assert (exact.changed, exact.log.n_events) == (1, log.n_events - 1)
    assert exact.removed[[CASE, ACTIVITY, RESOURCE]].values.tolist() == [["d1", "Open", "ann"]]
    assert exact.step == "quality: dropped 1 exact duplicate events from 1 cases"
    by_key = drop_duplicate_events(log, subset=(CASE, ACTIVITY, TIMESTAMP))
    assert by_key.changed == 2
    assert by_key.log.df.loc[by_key.log.df[CASE] == "d1", RESOURCE].tolist() == ["ann", "bob"]  # first kept
    with pytest.raises(ProcessMiningError, match=r"columns \['nope'\] are not in the log"):
        drop_duplicate_events(log, subset=("nope",))


def test_exclude_incomplete_cases_removes_and_lists_them():
    log = tickets()
    res = exclude_incomplete_cases(log)
    assert res.details["cases"] == ["x1"]
    assert (res.changed, res.log.n_cases) == (2, log.n_cases - 1)
    assert res.step == ("quality: excluded 1 incomplete cases (2 events); start activities ['Open'], "
                        "end activities ['Closed']")
    only_start = exclude_incomplete_cases(log, config=QualityConfig(start_activities=("Open",),
                                                                    end_activities=("Never",)), missing_end=False)
    assert only_start.details["cases"] == ["x1"]


def test_shift_timezone_rereads_naive_values_and_counts_dst_edge_cases():
    # values were naive Berlin wall-clock times but read as UTC
    rows = [("c1", "Open", "2024-03-01T09:00:00Z", "a"),          # winter: UTC+1 -> 08:00Z
            ("c1", "Work", "2024-03-31T02:30:00Z", "a"),          # does not exist in Berlin (spring forward)
            ("c1", "Check", "2024-07-01T09:00:00Z", "a"),         # summer: UTC+2 -> 07:00Z
            ("c1", "Closed", "2024-10-27T02:30:00Z", "a")]        # happens twice in Berlin (fall back)
    log = make_log(rows)
    res = shift_timezone(log, timezone="Europe/Berlin")
    got = res.log.df.set_index(ACTIVITY)[TIMESTAMP].dt.strftime("%Y-%m-%dT%H:%MZ").to_dict()
    assert got["Open"] == "2024-03-01T08:00Z"
    assert got["Check"] == "2024-07-01T07:00Z"
    assert got["Work"] == "2024-03-31T01:00Z"  # moved forward to 03:00 CEST
    assert got["Closed"] == "2024-10-27T01:30Z"  # read as standard time (CET)
    assert res.details[f"{TIMESTAMP} nonexistent"] == 1 and res.details[f"{TIMESTAMP} ambiguous"] == 1
    assert res.changed == 4 and res.details["assumed"] == "UTC"
    assert res.log.history[-1].startswith("quality: re-read 4 timestamps as Europe/Berlin instead of UTC")
    assert log.df[TIMESTAMP].dt.strftime("%H:%M").tolist()[0] == "09:00"  # original untouched
    with pytest.raises(ProcessMiningError, match="unknown time zone 'Mars/Olympus'"):
        shift_timezone(log, timezone="Mars/Olympus")
