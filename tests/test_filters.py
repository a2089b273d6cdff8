"""Composable filters: exact cases kept, history recorded, typos rejected with a hint."""

from __future__ import annotations

import pandas as pd
import pytest

from processmining import filters as f
from processmining.errors import AnalysisError
from processmining.model import ACTIVITY, CASE, RESOURCE, TIMESTAMP, EventLog


def _log() -> EventLog:
    # c1: quick normal flow in January, by Ann.
    # c2: A then B much later (3 days) — "follows within 1d" must reject it.
    # c3: A, X, B — B eventually (not directly) follows A; starts in Feb.
    # c4: only B — no A at all; spans the Jan/Feb boundary.
    # c5: B before A — A is never followed by B.
    rows = [
        ("c1", "A", "2024-01-10T08:00Z", "Ann", "EMEA"), ("c1", "B", "2024-01-10T09:00Z", "Ann", "EMEA"),
        ("c2", "A", "2024-01-15T08:00Z", "Bob", "US"), ("c2", "B", "2024-01-18T08:00Z", "Ann", "US"),
        ("c3", "A", "2024-02-02T08:00Z", "Bob", "EMEA"), ("c3", "X", "2024-02-02T09:00Z", "Bob", "EMEA"),
        ("c3", "B", "2024-02-02T10:00Z", "Cid", "EMEA"),
        ("c4", "B", "2024-01-31T22:00Z", "Cid", "APAC"), ("c4", "C", "2024-02-01T02:00Z", "Cid", "APAC"),
        ("c5", "B", "2024-01-20T08:00Z", "Ann", "US"), ("c5", "A", "2024-01-20T09:00Z", "Ann", "US"),
    ]
    df = pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP, RESOURCE, "case:Region"])
    df[TIMESTAMP] = pd.to_datetime(df[TIMESTAMP], utc=True)
    return EventLog.from_frame(df)


def cases(log: EventLog) -> list[str]:
    return sorted(log.df[CASE].unique().tolist())


@pytest.mark.parametrize(("mode", "expected"), [
    ("contained", ["c1", "c2", "c5"]),        # entirely in January
    ("intersecting", ["c1", "c2", "c4", "c5"]),  # c4 overlaps the end of January
    ("started", ["c1", "c2", "c4", "c5"]),
    ("completed", ["c1", "c2", "c5"]),
])
def test_time_frame_modes(mode, expected):
    out = f.filter_time_frame(_log(), "2024-01-01", "2024-01-31T23:59:59", mode=mode)
    assert cases(out) == expected
    assert out.history == (f"filter: {mode} in time frame 2024-01-01T00:00:00+00:00 .. 2024-01-31T23:59:59+00:00",)


def test_time_frame_trim_keeps_only_events_inside():
    out = f.filter_time_frame(_log(), "2024-02-01", "2024-02-28", mode="trim")
    assert out.n_events == 4  # c3's three events and c4's C
    assert cases(out) == ["c3", "c4"]


def test_time_frame_rejects_reversed_frame():
    with pytest.raises(AnalysisError, match="ends .* before it starts"):
        f.filter_time_frame(_log(), "2024-02-01", "2024-01-01")


def test_case_duration_range():
    log = _log()
    assert cases(f.filter_case_duration(log, max_duration="1h")) == ["c1", "c5"]
    assert cases(f.filter_case_duration(log, min_duration="2d")) == ["c2"]
    assert cases(f.filter_case_duration(log, min_duration="2h", max_duration="4h")) == ["c3", "c4"]


def test_case_and_event_attributes():
    log = _log()
    assert cases(f.filter_case_attribute(log, "case:Region", ["EMEA"])) == ["c1", "c3"]
    assert cases(f.filter_case_attribute(log, "case:Region", ["EMEA"], keep=False)) == ["c2", "c4", "c5"]
    # cases touched by Cid (any event), whole cases kept
    touched = f.filter_case_attribute(log, RESOURCE, "Cid")
    assert cases(touched) == ["c3", "c4"] and touched.n_events == 5
    only_ann = f.filter_event_attribute(log, RESOURCE, ["Ann"])
    assert only_ann.n_events == 5 and set(only_ann.df[RESOURCE]) == {"Ann"}
    with pytest.raises(AnalysisError, match="column 'Region' not in the log"):
        f.filter_case_attribute(log, "Region", ["EMEA"])


def test_start_end_and_contains():
    log = _log()
    assert cases(f.filter_start_activities(log, "A")) == ["c1", "c2", "c3"]
    assert cases(f.filter_end_activities(log, ["C", "A"])) == ["c4", "c5"]
    assert cases(f.filter_contains(log, "X")) == ["c3"]
    assert cases(f.filter_contains(log, ["A", "X"], how="all")) == ["c3"]
    assert cases(f.filter_contains(log, ["X", "C"], how="any")) == ["c3", "c4"]
    assert cases(f.filter_contains(log, "A", keep=False)) == ["c4"]
    removed = f.filter_activities(log, "X", keep=False)
    assert removed.n_events == 10 and cases(removed) == cases(log)


def test_follows_eventually_directly_and_within():
    log = _log()
    assert cases(f.filter_follows(log, "A", "B")) == ["c1", "c2", "c3"]
    assert cases(f.filter_follows(log, "A", "B", directly=True)) == ["c1", "c2"]
    assert cases(f.filter_follows(log, "A", "B", within="1d")) == ["c1", "c3"]
    assert cases(f.filter_follows(log, "A", "B", directly=True, within="2h")) == ["c1"]
    assert cases(f.filter_follows(log, "A", "B", keep=False)) == ["c4", "c5"]


def test_follows_within_uses_the_latest_earlier_a():
    # A at 0h, A again at 10h, B at 11h: the B is 1 h after the latest A, so "within 2h" holds.
    df = pd.DataFrame({CASE: ["k"] * 3, ACTIVITY: ["A", "A", "B"],
                       TIMESTAMP: pd.to_datetime(["2024-01-01T00:00Z", "2024-01-01T10:00Z", "2024-01-01T11:00Z"])})
    log = EventLog.from_frame(df)
    assert cases(f.filter_follows(log, "A", "B", within="2h")) == ["k"]
    assert cases(f.filter_follows(log, "A", "A")) == ["k"]  # the second A follows the first


def test_variants_top_and_listed():
    log = _log()
    # variants: (A,B) x2 [c1, c2], (A,X,B), (B,C), (B,A)
    assert cases(f.filter_variants(log, top=1)) == ["c1", "c2"]
    assert cases(f.filter_variants(log, top=1, keep=False)) == ["c3", "c4", "c5"]
    assert cases(f.filter_variants(log, variants=[("B", "C"), ("B", "A")])) == ["c4", "c5"]
    with pytest.raises(AnalysisError, match="either top=N or variants"):
        f.filter_variants(log)


def test_filters_compose_and_record_history():
    log = _log()
    out = f.filter_follows(f.filter_case_attribute(log, "case:Region", ["EMEA"]), "A", "B", directly=True)
    assert cases(out) == ["c1"]
    assert out.history == ("filter: cases having case:Region in ['EMEA']",
                           "filter: cases where A is directly followed by B")
    assert log.n_cases == 5  # the input is untouched


def test_unknown_activity_names_a_close_match():
    with pytest.raises(AnalysisError) as err:
        f.filter_contains(_log(), "Xx")
    assert str(err.value) == "log: activity 'Xx' does not occur in the log; did you mean 'X'?"


def test_bad_duration_is_a_clear_error():
    with pytest.raises(AnalysisError, match="'soon' is not a duration"):
        f.filter_case_duration(_log(), max_duration="soon")
