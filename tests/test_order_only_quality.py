"""Data quality on order-only logs (no timestamps): time-based checks say they need times and report nothing."""

from __future__ import annotations

import pandas as pd
import pytest

from processmining.model import ACTIVITY, CASE, RESOURCE, TIMESTAMP, EventLog
from processmining.quality import audit, drop_duplicate_events, duplicate_events
from processmining.quality.findings import CheckSkipped, QualityConfig

TIME_CHECKS = {
    "batch_entry_by_case", "batch_entry_by_resource", "timestamp_precision", "mixed_offsets", "future_events",
    "implausible_past_events", "events_before_creation", "impossible_durations", "duplicate_events",
    "near_duplicate_events", "long_cases", "stale_open_cases", "returning_accounts",
}


def order_only(rows) -> EventLog:
    df = pd.DataFrame(rows, columns=[CASE, ACTIVITY, RESOURCE])
    df[TIMESTAMP] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    return EventLog.from_frame(df, name="order-only")


def test_order_only_log_gets_no_time_findings_and_says_why():
    # the same activity twice in a row with equal attributes: without times a repeat, not a proven duplicate
    log = order_only([("c1", "A", "u"), ("c1", "B", "u"), ("c1", "B", "u"), ("c1", "C", "u"),
                      ("c2", "A", "u"), ("c2", "C", "u")])
    assert not log.has_timestamps
    report = audit(log, config=QualityConfig())
    assert [f.check for f in report.findings] == []
    assert set(report.skipped) >= TIME_CHECKS
    assert report.skipped["duplicate_events"] == (
        "the log has no timestamps: a step recorded twice cannot be told from a step done twice (a repeat is "
        "rework), so no duplicates are claimed")
    assert report.skipped["batch_entry_by_case"] == (
        "the log has no timestamps: steps recorded at one instant cannot be found without times")
    assert "timestamps" not in report.scores  # no clean 100 for times that do not exist
    with pytest.raises(CheckSkipped):
        duplicate_events(log, QualityConfig())
    fixed = drop_duplicate_events(log)
    assert (fixed.changed, fixed.log.n_events) == (0, 6)
    assert fixed.step == ("quality: dropped no duplicate events: the log has no timestamps, so a step recorded "
                          "twice cannot be told from a step done twice")


def test_a22_reports_no_batch_entry_and_no_duplicates(shared_datasets):
    from processmining.ingest import read_log

    log = read_log(shared_datasets / "synthetic" / "a22f0n00.xes.gz")
    report = audit(log)
    # before: batch_entry_by_case 14,530 events, duplicate_events 4,398 (on equal NaT "times")
    assert not {f.check for f in report.findings} & TIME_CHECKS
    assert set(report.skipped) >= TIME_CHECKS
    assert set(report.scores) == {"labels", "events", "cases", "resources", "attributes"}
    # before: synonymous_labels proposed s->S and e->E (high severity, 1,396 events)
    assert report.by_check("synonymous_labels") == []


def _counts(d: dict[str, int]) -> pd.Series:
    return pd.Series(d, name="count")


def test_short_codes_differing_in_case_are_two_activities():
    from processmining.quality import synonym_mapping

    # a22: s/S and e/E are different activities, both frequent (before: s->S, e->E as high severity)
    mapping, _ = synonym_mapping(_counts({"S": 1000, "s": 1000, "E": 1000, "e": 396, "g": 1840}), QualityConfig())
    assert mapping == {}
    # a real case variant of a word is still merged
    mapping, reason = synonym_mapping(_counts({"Resolved": 900, "RESOLVED ": 40}), QualityConfig())
    assert mapping == {"RESOLVED ": "Resolved"}
    assert reason == {"RESOLVED ": "same after trimming and case-folding"}


def test_negations_are_not_typos():
    from processmining.quality import synonym_mapping

    # bpic2019: before, 'SRM: Incomplete' (6 events) -> 'SRM: Complete' (552) at similarity 0.92
    counts = _counts({"SRM: Complete": 552, "SRM: Incomplete": 6, "Approved": 500, "Not approved": 20,
                      "Paid invoice": 400, "Unpaid invoice": 30, "Waiting for Customer": 300,
                      "Wating for Customer": 7})
    mapping, reason = synonym_mapping(counts, QualityConfig())
    assert mapping == {"Wating for Customer": "Waiting for Customer"}
    assert reason == {"Wating for Customer": "similarity 0.97 to 'Waiting for Customer'"}

