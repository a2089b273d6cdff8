"""Each data-quality check on a small hand-built log where it must fire and one where it must not."""

from __future__ import annotations

import pandas as pd
import pytest

from processmining.ingest import read_log
from processmining.model import (
    ACTIVITY,
    CASE,
    LIFECYCLE,
    RESOURCE,
    START_TIMESTAMP,
    TIMESTAMP,
    ColumnMapping,
    EventLog,
    IngestReport,
    TimestampOffsets,
)
from processmining.quality import (
    QualityConfig,
    attribute_completeness,
    batch_entry_by_case,
    batch_entry_by_resource,
    duplicate_events,
    events_before_creation,
    future_events,
    high_cardinality_activities,
    implausible_past_events,
    impossible_durations,
    incomplete_cases,
    infer_boundary_activities,
    long_cases,
    mixed_offsets,
    near_duplicate_events,
    normalize_label,
    polluted_labels,
    resource_concentration,
    returning_accounts,
    single_event_cases,
    stale_open_cases,
    synonymous_labels,
    system_accounts,
    timestamp_precision,
)
from processmining.quality.findings import CheckSkipped

CFG = QualityConfig(now=pd.Timestamp("2024-12-31", tz="UTC"))


def make_log(rows, *, extra: dict | None = None, report: IngestReport | None = None) -> EventLog:
    """rows: (case, activity, timestamp, resource) tuples; timestamps in UTC."""
    df = pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP, RESOURCE])
    df[TIMESTAMP] = pd.to_datetime(df[TIMESTAMP], utc=True, format="ISO8601")
    for k, v in (extra or {}).items():
        df[k] = v
    return EventLog.from_frame(df, report=report, name="hand-built")


def flow(case: str, day: int, activities=("Open", "Work", "Closed"), who="ann", hour=9) -> list[tuple]:
    """A normal case: one activity per day at distinct times."""
    return [(case, a, f"2024-03-{day + i:02d}T{hour + i:02d}:{10 + i:02d}:00Z", who) for i, a in enumerate(activities)]


CLEAN = make_log(flow("c1", 1) + flow("c2", 2, who="bob") + flow("c3", 3, who="cy"))


# ------------------------------------------------------------ batch entry
def test_batch_entry_by_case_fires_on_steps_sharing_a_timestamp():
    # c1: three different stages saved at 10:00:00 (clicked through afterwards); c2 normal
    log = make_log([("c1", "Open", "2024-03-01T09:00:00Z", "ann"), ("c1", "Work", "2024-03-02T10:00:00Z", "ann"),
                    ("c1", "Check", "2024-03-02T10:00:00Z", "ann"), ("c1", "Closed", "2024-03-02T10:00:00Z", "ann")]
                   + flow("c2", 5))
    [f] = batch_entry_by_case(log, CFG)
    assert (f.count, f.cases_affected, sorted(f.case_ids)) == (3, 1, ["c1"])
    assert f.examples.loc[0, "activities"] == "Check | Closed | Work"
    assert f.details["batches"] == 1


def test_batch_entry_by_case_ignores_exact_duplicates_and_clean_logs():
    # the same activity twice at one instant is a duplicate, not a batch
    log = make_log([("c1", "Open", "2024-03-01T09:00:00Z", "ann"), ("c1", "Open", "2024-03-01T09:00:00Z", "ann")])
    assert batch_entry_by_case(log, CFG) == []
    assert batch_entry_by_case(CLEAN, CFG) == []


def test_batch_entry_by_resource_fires_on_bulk_update():
    # "importer" closes 5 cases at the same second; ann works normally
    rows = [(f"c{i}", "Closed", "2024-04-01T02:00:00Z", "importer") for i in range(5)]
    rows += [(f"c{i}", "Open", f"2024-03-0{i + 1}T09:00:00Z", "ann") for i in range(5)]
    [f] = batch_entry_by_resource(make_log(rows), CFG)
    assert (f.count, f.cases_affected, f.details["accounts"]) == (5, 5, ["importer"])
    assert batch_entry_by_resource(CLEAN, CFG) == []


# ------------------------------------------------------------ timestamps
def test_timestamp_precision_fires_on_date_only_values_among_timed_ones():
    # c2's "Work" was entered as a date (midnight); everything else has a time of day
    rows = flow("c1", 1) + [("c2", "Open", "2024-03-05T09:12:00Z", "ann"), ("c2", "Work", "2024-03-06", "ann"),
                            ("c2", "Closed", "2024-03-07T16:40:00Z", "ann")]
    [f] = timestamp_precision(make_log(rows), CFG)
    assert (f.severity, f.count, sorted(f.case_ids)) == ("medium", 1, ["c2"])
    assert f.details["by_activity"] == {"Work": 1}
    assert timestamp_precision(CLEAN, CFG) == []


def test_timestamp_precision_uses_declared_timezone_and_flags_all_date_only_logs():
    # dates read as Europe/Berlin midnight are 23:00 UTC the day before: still date-only
    report = IngestReport(source="x.csv", sha256="0", timezone="Europe/Berlin")
    berlin_midnight = ["2024-03-01T23:00:00Z", "2024-03-02T23:00:00Z"]
    log = make_log([("c1", "Open", berlin_midnight[0], "a"), ("c1", "Closed", berlin_midnight[1], "a")],
                   report=report)
    [f] = timestamp_precision(log, CFG)
    assert (f.severity, f.count) == ("high", 2)
    # the same instants in a UTC log are 23:00, a time of day
    assert timestamp_precision(make_log([("c1", "Open", berlin_midnight[0], "a")]), CFG) == []


def test_mixed_offsets_reads_the_structured_counts_and_skips_without_report():
    # a column without any offset: low severity; the warning text plays no part (a misleading one is ignored)
    report = IngestReport(source="x.csv", sha256="0", timezone="UTC", warnings=["99 values mix without offset"],
                          timestamp_offsets=[TimestampOffsets("created", with_offset=0, naive=12)])
    [f] = mixed_offsets(make_log(flow("c1", 1), report=report), CFG)
    assert (f.count, f.severity, f.details["mixed"]) == (12, "low", False)
    assert f.title == "12 timestamps have no UTC offset and were read as UTC"
    # counts but no naive value, or no counts at all: nothing to report
    every_offset = IngestReport(source="x", sha256="0", timestamp_offsets=[TimestampOffsets("t", with_offset=3)])
    assert mixed_offsets(make_log(flow("c1", 1), report=every_offset), CFG) == []
    assert mixed_offsets(make_log(flow("c1", 1), report=IngestReport(source="x", sha256="0")), CFG) == []
    with pytest.raises(CheckSkipped, match="no ingest report"):
        mixed_offsets(CLEAN, CFG)


def test_future_events_against_the_reference_time():
    # c2's "Closed" is typed as 2042; reference now is 2024-12-31 (+1 day tolerance)
    rows = flow("c1", 1) + [("c2", "Open", "2024-12-31T20:00:00Z", "a"), ("c2", "Closed", "2042-03-01T10:00:00Z", "a")]
    [f] = future_events(make_log(rows), CFG)
    assert (f.count, sorted(f.case_ids)) == (1, ["c2"])  # 20:00 on the reference day is within the tolerance
    assert f.details["reference_now"] == "2024-12-31T00:00:00+00:00"
    assert future_events(CLEAN, CFG) == []


def test_implausible_past_events_flags_placeholder_dates():
    rows = flow("c1", 1) + [("c2", "Open", "1970-01-01T00:00:00Z", "a"), ("c2", "Closed", "2024-03-01T10:00:00Z", "a")]
    [f] = implausible_past_events(make_log(rows), CFG)
    assert (f.count, sorted(f.case_ids)) == (1, ["c2"])
    assert implausible_past_events(CLEAN, CFG) == []


def test_events_before_creation_with_a_case_attribute():
    # c2 has a stage change a day before its record was created
    rows = flow("c1", 1) + flow("c2", 5)
    created = pd.to_datetime(["2024-03-01T08:00:00Z"] * 3 + ["2024-03-06T08:00:00Z"] * 3, utc=True)
    log = make_log(rows, extra={"case:CreatedDate": created})
    [f] = events_before_creation(log, CFG)
    assert (f.count, sorted(f.case_ids)) == (1, ["c2"])
    assert f.examples.loc[0, ACTIVITY] == "Open"
    assert f.details["creation_source"] == "case attribute 'case:CreatedDate'"


def test_events_before_creation_with_a_creation_activity_and_skip_without_either():
    # c2's "Work" is stamped before its "Open"
    rows = flow("c1", 1) + [("c2", "Open", "2024-03-05T09:00:00Z", "a"), ("c2", "Work", "2024-03-04T09:00:00Z", "a")]
    cfg = QualityConfig(now=CFG.now, creation_activity="Open")
    [f] = events_before_creation(make_log(rows), cfg)
    assert (f.count, sorted(f.case_ids)) == (1, ["c2"])
    assert events_before_creation(CLEAN, cfg) == []
    with pytest.raises(CheckSkipped, match="no creation time"):
        events_before_creation(CLEAN, CFG)


def test_impossible_durations_negative_events_and_decade_long_cases():
    rows = flow("c1", 1) + [("c2", "Open", "2010-01-01T09:00:00Z", "a"), ("c2", "Closed", "2024-01-01T09:00:00Z", "a")]
    starts = pd.to_datetime(["2024-03-01T08:00:00Z", "2024-03-02T12:00:00Z", "2024-03-03T10:00:00Z", None, None],
                            utc=True)
    log = make_log(rows, extra={START_TIMESTAMP: starts})
    found = {f.details["kind"]: f for f in impossible_durations(log, CFG)}
    # c1's "Work" ends 10:11 but starts 12:00
    assert found["negative event duration"].count == 1
    assert sorted(found["negative event duration"].case_ids) == ["c1"]
    assert sorted(found["case too long"].case_ids) == ["c2"]
    assert impossible_durations(CLEAN, CFG) == []


# ------------------------------------------------------------ labels
def test_normalize_label():
    assert normalize_label("  Waiting For-Customer ") == "waiting for customer"


def test_synonymous_labels_case_whitespace_punctuation_and_misspelling():
    # 20 clean cases use "Waiting for Customer"; three cases use a distorted spelling each
    rows = []
    for i in range(20):
        rows += flow(f"n{i:02d}", 1, ("Open", "Waiting for Customer", "Closed"))
    rows += flow("s1", 1, ("Open", "Waiting for customer", "Closed"))
    rows += flow("s2", 1, ("Open", "Waiting For Customer ", "Closed"))
    rows += flow("s3", 1, ("Open", "Wating for Customer", "Closed"))
    [f] = synonymous_labels(make_log(rows), CFG)
    assert f.details["mapping"] == {"Waiting for customer": "Waiting for Customer",
                                    "Waiting For Customer ": "Waiting for Customer",
                                    "Wating for Customer": "Waiting for Customer"}
    assert (f.count, sorted(f.case_ids)) == (3, ["s1", "s2", "s3"])
    reasons = dict(zip(f.examples["label"], f.examples["reason"], strict=True))
    assert reasons["Wating for Customer"] == "similarity 0.97 to 'Waiting for Customer'"


def test_synonymous_labels_never_merges_labels_that_differ_in_digits_or_are_both_frequent():
    # "1st Line Support" / "2nd Line Support" differ by two characters but name different lines;
    # "Closed Won" / "Closed Lost" are both frequent
    rows = []
    for i in range(10):
        rows += flow(f"a{i}", 1, ("1st Line Support", "2nd Line Support", "Closed Won"))
        rows += flow(f"b{i}", 1, ("1st Line Support", "Closed Lost"))
    rows += flow("c", 1, ("1st Line Support", "3rd Line Support"))
    assert synonymous_labels(make_log(rows), CFG) == []


def test_polluted_labels_ids_numbers_emails():
    rows = flow("c1", 1, ("Open", "Call 48213", "Call 50112")) + flow("c2", 1, ("Open", "Mail to jo@example.com"))
    [f] = polluted_labels(make_log(rows), CFG)
    assert (f.count, sorted(f.case_ids)) == (3, ["c1", "c2"])
    assert f.details["templates"] == {"Call <number>": 2, "Mail to <e-mail>": 1}
    # "1st Line Support", "T02 Check" are not polluted
    assert polluted_labels(make_log(flow("c1", 1, ("1st Line Support", "T02 Check"))), CFG) == []


def test_polluted_labels_free_text_families():
    # names typed into the activity: five "Call <name>" labels, one call each
    names = ("Ann Lee", "Bo Chen", "Cy Diaz", "Di Evans", "Ed Fox")
    rows = [(f"c{i}", f"Call {n}", "2024-03-01T09:00:00Z", "a") for i, n in enumerate(names)]
    [f] = polluted_labels(make_log(rows), CFG)
    assert f.details["templates"] == {"Call <text>": 5}
    assert f.count == 5 and f.cases_affected == 5
    # "Closed Won" dominates its family: stages, not free text (and only 5 labels with one carrying most events)
    rows = [(f"w{i}", "Closed Won", "2024-03-01T09:00:00Z", "a") for i in range(20)]
    rows += [(f"x{i}", f"Closed {s}", "2024-03-01T09:00:00Z", "a") for i, s in enumerate(("Lost", "Void", "Dup", "Spam"))]
    assert polluted_labels(make_log(rows), CFG) == []


def test_high_cardinality_activities():
    rows = [(f"c{i}", f"Note {chr(65 + i % 26)}{i // 26}", "2024-03-01T09:00:00Z", "a") for i in range(30)]
    cfg = QualityConfig(now=CFG.now, max_activities=20)
    [f] = high_cardinality_activities(make_log(rows), cfg)
    assert (f.count, f.details["singletons"], f.cases_affected) == (30, 30, 30)
    assert f.examples.loc[0, "first word"] == "Note"
    assert high_cardinality_activities(CLEAN, cfg) == []


# ------------------------------------------------------------ duplicates
def test_duplicate_events_counts_surplus_copies_and_exact_ones():
    # c1: "Work" three times at one instant (2 surplus, one with another resource); c2 clean
    rows = flow("c1", 1) + [("c1", "Work", "2024-03-02T10:11:00Z", "ann"), ("c1", "Work", "2024-03-02T10:11:00Z", "bob")]
    rows += flow("c2", 1)
    [f] = duplicate_events(make_log(rows), CFG)
    assert (f.count, sorted(f.case_ids), f.details["exact"]) == (2, ["c1"], 1)
    assert f.examples.loc[0, "copies"] == 3
    assert duplicate_events(CLEAN, CFG) == []


@pytest.mark.parametrize("stamp, clock, severity", [
    ("2024-03-02T10:11:00Z", "minute", "medium"),   # whole minutes, nothing else recorded: maybe two steps
    ("2024-03-02T00:00:00Z", "day", "medium"),
    ("2024-03-02T10:11:07Z", "fine", "high"),       # to the second: a copy
])
def test_duplicate_events_on_a_coarse_clock_with_nothing_else_recorded_are_medium(stamp, clock, severity):
    # like the BPIC 2019 sample: only case, activity and whole-minute times, "Record Invoice Receipt" twice
    rows = [("c1", "Create", "2024-03-01T09:00:00Z"), ("c1", "Record", stamp), ("c1", "Record", stamp)]
    df = pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP])
    df[TIMESTAMP] = pd.to_datetime(df[TIMESTAMP], utc=True, format="ISO8601")
    [f] = duplicate_events(EventLog.from_frame(df, name="hand-built"), CFG)
    assert (f.count, f.severity, f.details["clock"]) == (1, severity, clock)
    assert f.title.endswith(f"same {clock}") == (clock != "fine")
    # with a resource column the copies are identical in more than the key: a copy, whatever the clock
    [g] = duplicate_events(make_log([(*r, "ann") for r in rows]), CFG)
    assert (g.severity, g.details["clock"]) == ("high", "fine")


def test_duplicate_events_respects_the_lifecycle_transition():
    # start and complete of one activity at one instant are two events, not a duplicate
    rows = [("c1", "Work", "2024-03-02T10:11:00Z", "ann"), ("c1", "Work", "2024-03-02T10:11:00Z", "ann")]
    log = make_log(rows, extra={LIFECYCLE: ["start", "complete"]})
    assert duplicate_events(log, CFG) == []
    assert near_duplicate_events(log, CFG) == []


def test_near_duplicate_events_within_the_window():
    # c1's "Work" resubmitted 20 s later; c2 repeats "Work" after 2 hours (rework, not a duplicate)
    rows = flow("c1", 1) + [("c1", "Work", "2024-03-02T10:11:20Z", "ann")]
    rows += [("c2", "Work", "2024-03-02T08:00:00Z", "a"), ("c2", "Work", "2024-03-02T10:00:00Z", "a")]
    [f] = near_duplicate_events(make_log(rows), CFG)
    assert (f.count, sorted(f.case_ids)) == (1, ["c1"])
    assert f.examples.loc[0, "seconds_after_previous"] == 20.0
    assert near_duplicate_events(CLEAN, CFG) == []


# ------------------------------------------------------------ cases
def _ticket_log() -> EventLog:
    rows = []
    for i in range(20):  # 20 complete tickets
        rows += flow(f"t{i:02d}", 1, ("Open", "Work", "Resolved", "Closed"))
    rows += flow("x1", 1, ("Work", "Resolved", "Closed"))  # starts mid-way (before the export window)
    rows += flow("x2", 1, ("Open", "Work", "Resolved"))  # resolved, never closed
    rows += flow("x3", 1, ("Open",))  # one event only, still open
    return make_log(rows)


def test_boundary_activities_are_inferred():
    assert infer_boundary_activities(_ticket_log(), config=CFG) == (("Open",), ("Closed",))


def test_incomplete_cases_no_start_and_no_end():
    found = {f.details["kind"]: f for f in incomplete_cases(_ticket_log(), CFG)}
    assert sorted(found["no start"].case_ids) == ["x1"]
    assert sorted(found["no end"].case_ids) == ["x2", "x3"]
    assert found["no end"].details["last_activities"] == {"Open": 1, "Resolved": 1}
    assert incomplete_cases(CLEAN, CFG) == []


def test_incomplete_cases_with_given_boundaries_and_skip_when_nothing_dominates():
    cfg = QualityConfig(now=CFG.now, start_activities=("Open",), end_activities=("Closed", "Resolved"))
    found = {f.details["kind"]: f for f in incomplete_cases(_ticket_log(), cfg)}
    assert sorted(found["no end"].case_ids) == ["x3"]
    # A and B each begin half of the cases and end the other half: nothing dominates, check skipped
    rows = [(f"c{i}", "AB"[i % 2], "2024-03-01T09:00:00Z", "a") for i in range(4)]
    rows += [(f"c{i}", "BA"[i % 2], "2024-03-02T09:00:00Z", "a") for i in range(4)]
    with pytest.raises(CheckSkipped, match="no start or end activity"):
        incomplete_cases(make_log(rows), CFG)


def test_single_event_cases():
    [f] = single_event_cases(_ticket_log(), CFG)
    assert (f.count, sorted(f.case_ids)) == (1, ["x3"])
    assert single_event_cases(CLEAN, CFG) == []


def test_long_cases_beyond_twice_the_95th_percentile():
    rows = []
    for i in range(24):  # 24 cases of one day
        rows += [(f"c{i:02d}", "Open", "2024-03-01T09:00:00Z", "a"), (f"c{i:02d}", "Closed", "2024-03-02T09:00:00Z", "a")]
    rows += [("slow", "Open", "2024-03-01T09:00:00Z", "a"), ("slow", "Closed", "2024-06-01T09:00:00Z", "a")]
    [f] = long_cases(make_log(rows), CFG)
    assert (f.count, sorted(f.case_ids)) == (1, ["slow"])
    assert f.details["usual"] == "1 days 00:00:00"
    with pytest.raises(CheckSkipped, match="at least 20"):
        long_cases(CLEAN, CFG)


def test_stale_open_cases_relative_to_the_last_event():
    rows = []
    for i in range(20):
        rows += flow(f"t{i:02d}", 1, ("Open", "Work", "Closed"))
    rows += [("stuck", "Open", "2024-01-02T09:00:00Z", "a"), ("stuck", "Work", "2024-01-03T09:00:00Z", "a")]
    rows += [("fresh", "Open", "2024-03-01T09:00:00Z", "a")]  # open, but active 2 days before the export
    default = QualityConfig()  # no known export time: measured against the log's last event (2024-03-03)
    [f] = stale_open_cases(make_log(rows), default)
    assert (f.count, sorted(f.case_ids)) == (1, ["stuck"])
    assert f.details["last_activities"] == {"Work": 1}
    assert stale_open_cases(make_log(rows[:-3]), default) == []
    # with the export time given (2024-12-31), "fresh" has been idle for ten months as well
    [f] = stale_open_cases(make_log(rows), CFG)
    assert sorted(f.case_ids) == ["fresh", "stuck"]
    assert f.details["export_time"] == "2024-12-31T00:00:00+00:00"


# ------------------------------------------------------------ resources
def test_returning_accounts_after_long_silence():
    # "dave" works in January, is silent until June (> 90 days) and acts on two cases; ann works throughout
    rows = [("c1", "Work", "2024-01-10T09:00:00Z", "dave"), ("c2", "Work", "2024-06-20T09:00:00Z", "dave"),
            ("c3", "Work", "2024-06-21T09:00:00Z", "dave")]
    rows += [(f"a{m}", "Work", f"2024-{m:02d}-05T09:00:00Z", "ann") for m in range(1, 8)]
    [f] = returning_accounts(make_log(rows), CFG)
    assert (f.count, sorted(f.case_ids), f.details["accounts"]) == (2, ["c2", "c3"], ["dave"])
    assert f.examples.loc[0, "longest_silence"] == "162 days"
    assert returning_accounts(CLEAN, CFG) == []


def test_system_accounts_by_name():
    rows = flow("c1", 1) + [("c1", "Closed", "2024-03-10T09:00:00Z", "Automation for Jira")]
    [f] = system_accounts(make_log(rows), CFG)
    assert (f.count, f.details["accounts"], sorted(f.case_ids)) == (1, ["Automation for Jira"], ["c1"])
    assert system_accounts(CLEAN, CFG) == []


def test_resource_concentration_single_point_of_dependency():
    # "mia" does 18 of 20 approvals; "Work" is shared evenly by three people
    rows = [(f"c{i}", "Approve", f"2024-03-01T{i % 10:02d}:00:00Z", "mia" if i < 18 else "ned") for i in range(20)]
    rows += [(f"c{i}", "Work", "2024-02-28T09:00:00Z", ("ann", "bob", "cy")[i % 3]) for i in range(20)]
    [f] = resource_concentration(make_log(rows), CFG)
    assert f.details["activities"] == {"Approve": "mia"}
    assert (f.count, f.examples.loc[0, "share"]) == (1, 0.9)
    cfg = QualityConfig(now=CFG.now, critical_activities=("Work",))
    assert resource_concentration(make_log(rows), cfg) == []


def test_resource_checks_skip_without_a_resource_column():
    df = CLEAN.df.drop(columns=[RESOURCE])
    log = EventLog.from_frame(df)
    for check in (returning_accounts, system_accounts, resource_concentration, batch_entry_by_resource):
        with pytest.raises(CheckSkipped, match="no resource column"):
            check(log, CFG)


# ------------------------------------------------------------ attributes
def test_attribute_completeness_event_and_case_level():
    # resource missing on 1 of 6 events; case:Amount missing for 1 of 2 cases; blank text counts as missing:
    # c1's Work has a blank channel where c2's Work has one; "verdict" is only ever recorded on Closed, so the
    # other steps do not miss it (an activity-specific attribute, like a reviewer's result in an XES log)
    rows = flow("c1", 1) + flow("c2", 1)
    log = make_log(rows, extra={"case:Amount": [100.0] * 3 + [None] * 3,
                                "channel": ["web", " ", "web", "web", "web", "web"],
                                "verdict": [None, None, "ok", None, None, "ok"]})
    log = EventLog.from_frame(log.df.assign(**{RESOURCE: ["ann", None, "ann", "bob", "bob", "bob"]}))
    [f] = attribute_completeness(log, CFG)
    table = {r["attribute"]: (r["level"], r["rows"], r["missing"]) for r in f.examples.to_dict("records")}
    assert table == {"case:Amount": ("case", 2, 1), "channel": ("event", 6, 1), RESOURCE: ("event", 6, 1)}
    assert f.details["completeness"]["verdict"] == 1.0
    assert f.severity == "medium" and f.cases_affected == 0  # completeness has its own score, no cases
    assert f.details["resource_missing_by_activity"] == {"Work": 1}
    assert f.details["completeness"]["case:Amount"] == 0.5
    assert attribute_completeness(CLEAN, CFG) == []


def test_mixed_offsets_counts_what_the_timestamp_parser_counted():
    # start: 2 with an offset, 1 naive (mixed); end: 3 naive, one of them date-only; a 02:30 on the spring-forward
    # night does not exist in Berlin: its DST warning names a count too but is no offset count
    text = ("case,activity,start,end\n"
            "1,Open,2024-03-01T10:00:00+01:00,2024-03-01 11:00\n"
            "1,Work,2024-03-31T01:00:00Z,2024-03-31 02:30\n"
            "1,Done,2024-04-02 09:00,2024-04-03\n")
    log = read_log(text.encode(), name="t.csv", timezone="Europe/Berlin",
                   mapping=ColumnMapping(case="case", activity="activity", timestamp="start", end_timestamp="end"))
    assert log.report.timestamp_offsets == [TimestampOffsets("start", with_offset=2, naive=1),
                                            TimestampOffsets("end", with_offset=0, naive=3)]
    assert any("do not exist in Europe/Berlin" in w for w in log.report.warnings)
    [f] = mixed_offsets(log, CFG)
    assert (f.count, f.severity, f.details["mixed"]) == (4, "medium", True)
    assert f.title == "timestamps with and without a UTC offset are mixed; 4 without were read as Europe/Berlin"
    assert f.examples.to_dict("records") == [
        {"column": "start", "values with offset": 2, "values without offset": 1},
        {"column": "end", "values with offset": 0, "values without offset": 3}]
    assert log.report.to_dict()["timestamp_offsets"] == [
        {"column": "start", "with_offset": 2, "naive": 1}, {"column": "end", "with_offset": 0, "naive": 3}]


def test_mixed_offsets_on_xes_counts_the_values_read_as_utc():
    xes = ('<?xml version="1.0" encoding="UTF-8"?><log xes.version="1.0"><trace>'
           '<string key="concept:name" value="c1"/>'
           '<event><string key="concept:name" value="A"/><date key="time:timestamp" value="2024-03-01T10:00:00"/></event>'
           '<event><string key="concept:name" value="B"/><date key="time:timestamp" value="2024-03-01T11:00:00Z"/>'
           '</event><event><string key="concept:name" value="C"/>'
           '<date key="time:timestamp" value="2024-03-01T12:00:00+02:00"/></event></trace></log>')
    log = read_log(xes.encode(), name="t.xes")
    assert log.report.timestamp_offsets == [TimestampOffsets(TIMESTAMP, with_offset=2, naive=1)]
    [f] = mixed_offsets(log, CFG)
    assert (f.count, f.severity) == (1, "medium")


def test_batch_entry_by_case_within_a_second_and_not_for_interval_rows():
    # Jira: "Resolved" and "Closed" saved 233 ms apart are one save
    rows = [("c1", "Open", "2024-03-01T09:00:00Z", "a"), ("c1", "Resolved", "2024-03-04T06:26:54.511Z", "a"),
            ("c1", "Closed", "2024-03-04T06:26:54.744Z", "a")]
    [f] = batch_entry_by_case(make_log(rows), CFG)
    assert (f.count, sorted(f.case_ids)) == (2, ["c1"])
    # HubSpot-style intervals: a stage ends when the next is entered; entry times differ, so no batch
    rows = [("d1", "Appointment Scheduled", "2024-03-08T11:26:00Z", "a"), ("d1", "Closed Lost", "2024-03-08T11:26:00Z", "a")]
    starts = pd.to_datetime(["2024-03-04T08:40:00Z", "2024-03-08T11:26:00Z"], utc=True)
    assert batch_entry_by_case(make_log(rows, extra={START_TIMESTAMP: starts}), CFG) == []


def test_events_before_creation_reads_a_text_creation_column_in_the_declared_zone():
    # HubSpot "Create Date" is naive text, read in Europe/Berlin: d2 created 08:30 UTC, before its first
    # stage at 08:45 UTC (fine); d3 created 09:00 UTC, 15 minutes after its first stage
    rows = [("d2", "Appointment", "2024-03-01T08:45:00Z", "a"), ("d3", "Appointment", "2024-03-01T08:45:00Z", "a")]
    report = IngestReport(source="h.csv", sha256="0", timezone="Europe/Berlin")
    log = make_log(rows, extra={"case:Create Date": ["2024-03-01 09:30", "2024-03-01 10:00"]}, report=report)
    [f] = events_before_creation(log, CFG)
    assert (f.count, sorted(f.case_ids)) == (1, ["d3"])
    assert f.examples.loc[0, "before_by"] == "0 days 00:15:00"
    # an explicit column that holds no timestamps is a skip with the reason
    cfg = QualityConfig(now=CFG.now, creation_column="case:Create Date")
    text = make_log(rows, extra={"case:Create Date": ["soon", "later"]})
    with pytest.raises(CheckSkipped, match="does not hold timestamps"):
        events_before_creation(text, cfg)


def test_label_structure_keeps_different_objects_apart():
    """O_DECLINED (an offer) and A_DECLINED (an application) look alike but are different objects: never merged."""
    from processmining.quality.labels import different_objects, synonym_mapping

    counts = pd.Series({"A_DECLINED": 3429, "O_DECLINED": 802, "W_Call after offers": 5000, "W_Call afer offers": 12,
                        "Call A": 400, "Call B": 30, "Waiting for Customer": 900, "Waiting For-Customer": 4,
                        "Wating for Customer": 3})
    mapping, reason = synonym_mapping(counts, QualityConfig())
    assert mapping == {"W_Call afer offers": "W_Call after offers", "Waiting For-Customer": "Waiting for Customer",
                       "Wating for Customer": "Waiting for Customer"}
    assert reason["Waiting For-Customer"] == "same after normalising case, whitespace and punctuation"
    assert reason["Wating for Customer"] == "similarity 0.97 to 'Waiting for Customer'"
    assert different_objects("O_DECLINED", "A_DECLINED") and different_objects("Call A", "Call B")
    assert not different_objects("o_declined", "O_DECLINED")


def test_a_label_merge_can_be_previewed_without_changing_the_log():
    from processmining.quality import preview_merge_labels

    log = make_log([("c1", "Open", "2024-01-01 09:00", "a"), ("c1", "Wating for Customer", "2024-01-01 10:00", "a"),
                    ("c2", "Wating for Customer", "2024-01-02 10:00", "b"), ("c2", "Closed", "2024-01-03 10:00", "b")])
    before = log.df.copy()
    preview = preview_merge_labels(log, mapping={"Wating for Customer": "Waiting for Customer", "Nope": "X"})
    assert preview.to_dict("records") == [{"label": "Wating for Customer", "becomes": "Waiting for Customer",
                                           "events": 2, "cases": 2}]
    pd.testing.assert_frame_equal(log.df, before)
