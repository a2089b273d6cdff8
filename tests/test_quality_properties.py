"""Property tests: the audit never fails on odd small logs, and its numbers stay consistent."""

from __future__ import annotations

import sys

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processmining.model import ACTIVITY, CASE, RESOURCE, TIMESTAMP, EventLog
from processmining.quality import DIMENSIONS, QualityConfig, audit, synonymous_labels

LABELS = st.sampled_from(["Open", "open ", "Opne", "Work", "Call 48213", "Closed", "Closed!", "x@y.org", "",
                          "Waiting for Customer", "Wating for Customer", "1st Line", "2nd Line", "<b>"])
EVENT = st.tuples(
    st.sampled_from(["a", "b", "c", "d", "007", "7"]),
    LABELS.filter(bool),
    st.integers(min_value=0, max_value=40 * 86_400).map(lambda s: pd.Timestamp("2024-01-01", tz="UTC")
                                                        + pd.Timedelta(seconds=s)),
    st.sampled_from(["ann", "bob", None, "Automation bot", "ann"]),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EVENT, min_size=1, max_size=40))
def test_audit_is_total_and_consistent(rows):
    df = pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP, RESOURCE])
    log = EventLog.from_frame(df)
    report = audit(log, config=QualityConfig(now=pd.Timestamp("2024-12-31", tz="UTC")))
    assert set(report.scores) == set(DIMENSIONS)
    assert all(0.0 <= v <= 100.0 for v in report.scores.values())
    cases = set(log.df[CASE])
    for f in report.findings:
        assert f.case_ids <= cases and f.cases_affected == len(f.case_ids)
        assert f.count >= 0 and len(f.examples) <= 20
    union = set().union(*(f.case_ids for f in report.findings)) if report.findings else set()
    assert report.cases_affected_share == round(len(union) / len(cases), 6)
    assert report.to_json() and report.to_html().startswith("<!DOCTYPE html>")


def test_synonyms_without_rapidfuzz_use_difflib(monkeypatch):
    # the optional dependency missing: the same mapping from difflib's ratio
    monkeypatch.setitem(sys.modules, "rapidfuzz", None)
    rows = [(f"n{i}", "Waiting for Customer", pd.Timestamp("2024-03-01", tz="UTC"), "a") for i in range(10)]
    rows += [("s1", "Wating for Customer", pd.Timestamp("2024-03-01", tz="UTC"), "a")]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP, RESOURCE]))
    [f] = synonymous_labels(log, QualityConfig())
    assert f.details["mapping"] == {"Wating for Customer": "Waiting for Customer"}
