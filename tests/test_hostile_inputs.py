"""Hostile and odd inputs, round 2 (issue 11): each family fixed at its root, several inputs each.

Every test asserts exact messages and counts, and that the report adds up:
``rows_read == events + quarantined + collapsed + filtered``.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from processmining.errors import IngestError, UnsafeInputError
from processmining.ingest import read_log, write_log
from processmining.ingest.timestamps import OUT_OF_RANGE, check_timezone
from processmining.model import ACTIVITY, CASE, ORDER, RESOURCE, TIMESTAMP, ColumnMapping, EventLog

MAP = ColumnMapping(case="case", activity="activity", timestamp="time")


def _balanced(log: EventLog) -> None:
    r = log.report
    assert r.rows_read == r.events + len(r.quarantined) + r.collapsed_duplicates + sum(r.filtered.values())
    assert r.events == log.n_events


def _csv(rows: list[str], header: str = "case,activity,time") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


# ------------------------------------------------------------------ colliding column names
def test_input_columns_named_like_canonical_ones_never_override_the_mapping():
    # an export that carries pm4py-looking columns next to the ones the user maps
    data = _csv(["1,Open,2024-03-01 09:00,X,99,5,1999-01-01,bob", "1,Close,2024-03-02 10:00,Y,98,0,1998-01-01,ann"],
                "id,Status,when,concept:name,case:concept:name,@@index,time:timestamp,org:resource")
    log = read_log(data, name="c.csv", mapping=ColumnMapping(case="id", activity="Status", timestamp="when"))
    assert log.df[ACTIVITY].tolist() == ["Open", "Close"]
    assert log.df[CASE].tolist() == ["1", "1"]
    assert log.df[ORDER].tolist() == [0, 1]  # the input's @@index does not take over the event order
    assert RESOURCE not in log.df.columns
    assert log.df["concept:name (input)"].tolist() == ["X", "Y"]
    assert log.df["index (input)"].tolist() == ["5", "0"]
    assert log.df["org:resource (input)"].tolist() == ["bob", "ann"]
    assert log.report.warnings[0] == (
        "5 input columns have the name of a column the log itself uses and are kept under another name (the "
        "mapping decides case, activity, time and resource): 'concept:name' → 'concept:name (input)', "
        "'case:concept:name' → 'case:concept:name (input)', '@@index' → 'index (input)', "
        "'time:timestamp' → 'time:timestamp (input)', 'org:resource' → 'org:resource (input)'")
    _balanced(log)


def test_a_mapped_column_that_has_a_canonical_name_is_used_as_mapped():
    # a pm4py CSV: the canonical names ARE the mapping; nothing renamed
    data = _csv(["c1,A,2024-01-01T00:00:00Z,@@x", "c1,B,2024-01-02T00:00:00Z,y"],
                "case:concept:name,concept:name,time:timestamp,@@source_row")
    log = read_log(data, name="p.csv")
    assert log.df[ACTIVITY].tolist() == ["A", "B"]
    assert log.df["source_row (input)"].tolist() == ["@@x", "y"]
    assert log.df["@@source_row"].tolist() == [2, 3]


def test_colliding_name_taken_twice_is_numbered():
    from processmining.model import input_column_name

    assert input_column_name("concept:name", {"concept:name", "concept:name (input)"}) == "concept:name (input 2)"
    assert input_column_name("@@index", set()) == "index (input)"
    assert input_column_name("Amount", {"concept:name"}) == "Amount"


# ------------------------------------------------------------------ dates outside datetime64[ns]
@pytest.mark.parametrize("value", ["1500-01-01 10:00", "9999-12-31 23:59", "1677-09-21 00:00",
                                   "2262-04-12 00:00", "1600-01-01T00:00:00Z", "9999999999"])
def test_out_of_range_dates_are_quarantined_never_wrapped(value):
    log = read_log(_csv([f"1,A,{value}", "1,B,2024-01-01 00:00"]), name="d.csv", mapping=MAP)
    assert log.df[TIMESTAMP].tolist() == [pd.Timestamp("2024-01-01", tz="UTC")]
    [q] = log.report.quarantined
    assert (q.row, q.reason, q.column) == (2, f"{OUT_OF_RANGE}: {value!r}", "time")
    _balanced(log)


def test_dates_at_the_edges_inside_the_range_are_held_exactly():
    log = read_log(_csv(["1,A,1677-09-22 00:00:00", "1,B,2262-04-11 00:00:00.123456789"]), name="e.csv", mapping=MAP)
    assert log.df[TIMESTAMP].tolist() == [pd.Timestamp("1677-09-22", tz="UTC"),
                                          pd.Timestamp("2262-04-11 00:00:00.123456789", tz="UTC")]
    assert OUT_OF_RANGE == ("date outside the range this tool holds exactly (1677-09-21 00:12:44 to "
                            "2262-04-11 23:47:16 UTC)")


def test_mixed_precisions_with_extreme_years_keep_every_valid_value():
    rows = ["1,A,2024-01-01 00:00:00.123456789", "1,B,1500-06-01", "1,C,2024-01-01T00:00:01Z", "1,D,3000-01-01 10:00"]
    log = read_log(_csv(rows), name="m.csv", mapping=MAP)
    assert log.df[ACTIVITY].tolist() == ["A", "C"]
    assert [q.row for q in log.report.quarantined] == [3, 5]
    _balanced(log)


# ------------------------------------------------------------------ DST gaps and overlaps
def test_dst_gap_and_overlap_are_counted_and_the_resolution_said():
    # Europe/Berlin: 2024-03-31 02:30 does not exist; 2024-10-27 02:30 happens twice
    rows = ["1,A,2024-03-31 01:30", "1,B,2024-03-31 02:30", "1,C,2024-03-31 02:45", "2,A,2024-10-27 02:30",
            "2,B,2024-10-27 03:30"]
    log = read_log(_csv(rows), name="dst.csv", mapping=MAP, timezone="Europe/Berlin")
    got = dict(zip(log.df[ACTIVITY] + log.df[CASE], log.df[TIMESTAMP].dt.strftime("%H:%M"), strict=True))
    assert got == {"A1": "00:30", "B1": "01:30", "C1": "01:45", "A2": "00:30", "B2": "02:30"}
    assert ("column 'time': 2 local times do not exist in Europe/Berlin (daylight-saving gap, first on line 3); "
            "read as the same wall-clock time after the clock change (shifted forward by the gap)") in log.report.warnings
    assert ("column 'time': 1 local times occur twice in Europe/Berlin (daylight-saving overlap, first on line 5); "
            "read as the first occurrence (summer time); give timestamps with a UTC offset to decide"
            ) in log.report.warnings


def test_no_dst_notes_for_utc_offsets_or_a_fixed_offset_zone():
    log = read_log(_csv(["1,A,2024-03-31 02:30+02:00", "1,B,2024-03-31 02:30"]), name="o.csv", mapping=MAP,
                   timezone="+05:30")
    assert dict(zip(log.df[ACTIVITY], log.df[TIMESTAMP], strict=True)) == {
        "A": pd.Timestamp("2024-03-31 00:30", tz="UTC"), "B": pd.Timestamp("2024-03-30 21:00", tz="UTC")}
    assert not [w for w in log.report.warnings if "daylight" in w]


# ------------------------------------------------------------------ time zones: names only, no file access
@pytest.mark.parametrize("bad", ["../../etc/passwd", "/etc/localtime", "Europe/../../etc/hostname", "Mars/Olympus",
                                 "posixrules", ""])
def test_timezone_accepts_only_iana_names_and_offsets(bad, monkeypatch):
    # the zone list is read once per process from the system's zone database (its walk opens every file
    # there, /usr/share/zoneinfo/localtime among them): read it first, so that the spy sees only what the
    # bad value makes us open - which must be nothing at all
    check_timezone("Europe/Berlin")
    opened: list[str] = []
    real_open = open

    def spy(file, *a, **k):  # noqa: ANN001
        opened.append(str(file))
        return real_open(file, *a, **k)

    monkeypatch.setattr("builtins.open", spy)
    with pytest.raises(IngestError) as exc:
        check_timezone(bad)
    assert str(exc.value) == (f"unknown time zone {bad!r}; use an IANA name like 'Europe/Berlin', 'UTC' or a fixed "
                              "offset like '+02:00'")
    assert opened == []


def test_timezone_names_and_offsets_are_normalised():
    assert [check_timezone(z) for z in ("UTC", "utc", "Z", "America/New_York", "+0200", "UTC-03:30")] == [
        "UTC", "UTC", "UTC", "America/New_York", "+02:00", "-03:30"]


# ------------------------------------------------------------------ precision and stable ties
def test_nanoseconds_survive_csv_output(tmp_path):
    log = read_log(_csv(["1,A,2024-03-01 09:00:00.123456789", "1,B,2024-03-01 09:00:00.5"]), name="n.csv", mapping=MAP)
    out = tmp_path / "o.csv"
    write_log(log, out)
    assert out.read_text().splitlines()[1:] == ['"1","A","2024-03-01T09:00:00.123456789+00:00"',
                                                 '"1","B","2024-03-01T09:00:00.500000000+00:00"']
    back = read_log(out, mapping=ColumnMapping(case=CASE, activity=ACTIVITY, timestamp=TIMESTAMP))
    assert back.df[TIMESTAMP].tolist() == log.df[TIMESTAMP].tolist()


def test_equal_timestamps_keep_file_order_through_readers_and_round_trips(tmp_path):
    rows = [f"1,{a},2024-03-01 09:00" for a in ("Zeta", "Alpha", "Mid", "Alpha", "Beta")]
    log = read_log(_csv(rows), name="t.csv", mapping=MAP)
    assert log.df[ACTIVITY].tolist() == ["Zeta", "Alpha", "Mid", "Alpha", "Beta"]
    for name in ("o.xes", "o.csv", "o.parquet"):
        write_log(log, tmp_path / name)
        back = read_log(tmp_path / name, mapping=None if name != "o.csv" else
                        ColumnMapping(case=CASE, activity=ACTIVITY, timestamp=TIMESTAMP))
        assert back.df[ACTIVITY].tolist() == ["Zeta", "Alpha", "Mid", "Alpha", "Beta"], name
    # and through from_frame with a shuffled frame: order decides the ties
    shuffled = log.df.sample(frac=1.0, random_state=3)
    assert EventLog.from_frame(shuffled).df[ACTIVITY].tolist() == ["Zeta", "Alpha", "Mid", "Alpha", "Beta"]


# ------------------------------------------------------------------ Unicode
def test_nfd_zero_width_and_bidi_marks_do_not_split_labels():
    nfd = unicodedata.normalize("NFD", "Café")
    rows = ["1,Café,2024-01-01 00:00,ann", f"1,{nfd},2024-01-01 01:00,ann\u200e", "2,A\u200bB,2024-01-01 00:00,x",
            "2\u200b,AB,2024-01-01 00:00,x", "3,\u202eAB,2024-01-01 00:00,x"]
    log = read_log(_csv(rows, "case,activity,time,res"), name="u.csv",
                   mapping=ColumnMapping(case="case", activity="activity", timestamp="time", resource="res"))
    assert sorted(set(log.df[ACTIVITY])) == ["AB", "Café"]
    assert sorted(set(log.df[RESOURCE])) == ["ann", "x"]
    assert sorted(set(log.df[CASE])) == ["1", "2", "2\u200b", "3"]  # ids are kept as written, and flagged
    assert log.report.warnings[:3] == [
        "3 activity values were normalised (Unicode NFC, invisible zero-width or direction marks removed), e.g. "
        "'Cafe\\u0301' → 'Café'; 3 labels that only looked alike are now one",
        "1 resource values were normalised (Unicode NFC, invisible zero-width or direction marks removed), e.g. "
        "'ann\\u200e' → 'ann'; 1 labels that only looked alike are now one",
        "1 case ids differ from another case id only by Unicode form or invisible zero-width / direction marks; "
        "they are kept apart as written (check the export)"]
    _balanced(log)


def test_clean_labels_give_no_unicode_note():
    log = read_log(_csv(["1,Prüfung,2024-01-01 00:00", "1,Ablehnung,2024-01-02 00:00"]), name="c.csv", mapping=MAP)
    assert not [w for w in log.report.warnings if "Unicode" in w]


# ------------------------------------------------------------------ JSON
def test_json_repeated_keys_keep_both_values():
    data = (b'[{"case":"1","activity":"A","time":"2024-01-01T00:00:00Z","note":"first","note":"second"},'
            b'{"case":"1","activity":"B","time":"2024-01-02T00:00:00Z","note":"x"}]')
    log = read_log(data, name="k.json", mapping=MAP)
    assert log.df["note"].tolist() == ["first", "x"]
    assert log.df["note (2)"].tolist()[0] == "second"
    assert ("1 JSON objects repeat a key; both values are kept, the later one as '<key> (2)': 'note' (1×)"
            in log.report.warnings)
    _balanced(log)


def test_json_flat_dotted_key_next_to_nested_key_keeps_both():
    data = (b'[{"case":"1","activity":"A","time":"2024-01-01T00:00:00Z","a.b":1,"a":{"b":2}},'
            b'{"case":"1","activity":"B","time":"2024-01-02T00:00:00Z","a":{"b":3}}]')
    log = read_log(data, name="n.json", mapping=MAP)
    assert log.df["a.b"].tolist() == ["1", pd.NA] or log.df["a.b"].fillna("-").tolist() == ["1", "-"]
    assert log.df["a.b (2)"].tolist() == ["2", "3"]
    assert ("1 JSON keys spell the same column as a nested key (a flat \"a.b\" next to a nested a → b); both are "
            "kept: 'a.b' as 'a.b (2)'") in log.report.warnings


def test_json_numbers_kept_as_written_and_huge_integers_and_deep_nesting():
    big = "9" * 5000
    data = (f'[{{"case":7.0,"activity":"A","time":"2024-01-01T00:00:00Z","amount":7.10,"id":{big}}},'
            '{"case":7,"activity":"B","time":"2024-01-02T00:00:00Z","amount":1e400}]').encode()
    log = read_log(data, name="h.json", mapping=MAP)
    assert sorted(log.df[CASE].unique()) == ["7", "7.0"]  # two cases, as written
    assert log.df.sort_values(ACTIVITY)["amount"].tolist() == ["7.10", "1e400"]
    assert log.df["id"].dropna().tolist() == [big]
    for deep in (b"[" * 100_000, b'{"a":' * 5000 + b"1" + b"}" * 5000):
        with pytest.raises(IngestError) as exc:
            read_log(deep, name="deep.json")
        assert str(exc.value) == "deep.json: JSON is nested too deeply to read (thousands of levels); refusing it"


@pytest.mark.parametrize("doc,system", [
    (b'{"issues": [{"key": "A-1", "changelog": {"histories": "oops"}}]}', "Jira"),
    (b'{"audits": [{"ticket_id": 1, "created_at": "x", "events": "y"}]}', "Zendesk"),
    (b'{"results": [{"id": "1", "propertiesWithHistory": {"dealstage": [{"value": null}, 3]}}]}', "HubSpot"),
])
def test_json_that_only_looks_like_a_known_export(doc, system):
    with pytest.raises(IngestError) as exc:
        read_log(doc, name="x.json")
    assert str(exc.value).startswith(f"x.json: the JSON looks like a {system} changelog export (preset ")
    assert str(exc.value).endswith("; export it again or convert it to a flat table")


# ------------------------------------------------------------------ CSV oddities
def test_cr_only_line_endings_are_read():
    log = read_log(b"case,activity,time\r1,A,2024-01-01 00:00\r1,B,2024-01-02 00:00\r", name="mac.csv")
    assert (log.n_events, log.df[ACTIVITY].tolist()) == (2, ["A", "B"])
    assert "lines end with CR only (classic Mac OS); read as line ends" in log.report.warnings
    assert [q.row for q in log.report.quarantined] == []


def test_thousands_of_columns_are_read_whole():
    n = 3000
    header = ",".join(["case", "activity", "time", *(f"c{i}" for i in range(n))])
    rows = [",".join([str(r % 7), "A", f"2024-01-01 00:{r % 60:02d}", *(["v"] * n)]) for r in range(50)]
    log = read_log(("\n".join([header, *rows]) + "\n").encode(), name="wide.csv", mapping=MAP)
    assert log.df.shape == (50, n + 5)
    assert log.df[f"c{n - 1}"].tolist() == ["v"] * 50


# ------------------------------------------------------------------ devices, FIFOs, stdin
def test_character_devices_are_refused_without_reading():
    with pytest.raises(UnsafeInputError) as exc:
        read_log("/dev/zero")
    assert str(exc.value) == "/dev/zero: is a device or socket, not a file; save the data to a file and pass that"


def test_a_fifo_is_read_with_a_cap_on_what_is_actually_read(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    payload = b"case,activity,time\n" + b"1,A,2024-01-01 00:00\n" * 200

    def feed() -> None:
        with contextlib.suppress(BrokenPipeError), open(fifo, "wb") as fh:
            fh.write(payload)

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    with pytest.raises(UnsafeInputError) as exc:
        read_log(fifo, max_bytes=1000)
    t.join(timeout=5)
    assert str(exc.value) == "pipe.csv: input is over the 0 MB limit (stopped reading there)"
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    t = threading.Thread(target=feed, daemon=True)
    t.start()
    log = read_log(fifo)
    t.join(timeout=5)
    assert log.n_events == 200


# ------------------------------------------------------------------ order-only logs and empty loads (issue 10)
def test_csv_without_a_timestamp_column_loads_in_file_order():
    log = read_log(_csv(["2,Open", "1,B", "1,A", "2,Close"], "case,activity"), name="o.csv")
    assert log.report.has_timestamps is False and log.has_timestamps is False
    assert log.df[[CASE, ACTIVITY]].values.tolist() == [["1", "B"], ["1", "A"], ["2", "Open"], ["2", "Close"]]
    assert log.df[TIMESTAMP].isna().all() and log.df[ORDER].tolist() == [1, 2, 0, 3]
    assert log.time_span is None
    assert ("  no timestamps: events are ordered as in the file; time-based analyses (durations, waiting times, "
            "SLA) are unavailable") in log.report.summary().splitlines()
    assert log.report.to_dict()["has_timestamps"] is False
    _balanced(log)


def test_an_entirely_empty_timestamp_column_is_an_order_only_log():
    log = read_log(_csv(["1,B,", "1,A,", "2,A, "]), name="e.csv", mapping=MAP)
    assert (log.has_timestamps, log.n_events, log.report.quarantined) == (False, 3, [])
    assert log.df[ACTIVITY].tolist() == ["B", "A", "A"]
    assert log.report.duplicate_events == 0  # without times, repeats are rework, not duplicates


def test_one_time_makes_the_other_blank_times_quarantined():
    log = read_log(_csv(["1,B,", "1,A,2024-01-01 00:00"]), name="p.csv", mapping=MAP)
    assert log.has_timestamps is True
    assert [(q.row, q.reason) for q in log.report.quarantined] == [(2, "missing timestamp")]


def test_from_frame_accepts_order_only_frames():
    frame = pd.DataFrame({CASE: ["1", "1", "2"], ACTIVITY: ["B", "A", "C"]})
    log = EventLog.from_frame(frame)
    assert (log.has_timestamps, log.df[ACTIVITY].tolist(), str(log.df[TIMESTAMP].dtype)) == (
        False, ["B", "A", "C"], "datetime64[ns, UTC]")
    frame[TIMESTAMP] = [pd.NaT, pd.Timestamp("2024-01-01", tz="UTC"), pd.NaT]
    with pytest.raises(ValueError, match="has 2 empty values"):
        EventLog.from_frame(frame)


def test_a_load_with_zero_events_is_an_error_naming_the_file_and_why():
    with pytest.raises(IngestError) as exc:
        read_log(_csv(["1,,2024-01-01", ",A,2024-01-01", "2,B,garbage"]), name="z.csv", mapping=MAP)
    assert str(exc.value) == ("z.csv: no events could be loaded: all 3 rows were left out: 3 quarantined (1 × missing "
                              "activity, 1 × missing case id, 1 × not a recognised date/time)")


def test_order_only_xes_round_trips(tmp_path):
    log = read_log(_csv(["1,B", "1,A", "2,C"], "case,activity"), name="o.csv")
    write_log(log, tmp_path / "o.xes")
    back = read_log(tmp_path / "o.xes")
    assert (back.has_timestamps, back.df[ACTIVITY].tolist(), back.report.quarantined) == (False, ["B", "A", "C"], [])
    assert np.isnat(back.df[TIMESTAMP].to_numpy(dtype="datetime64[ns]")).all()


def test_real_order_only_benchmark_log(shared_datasets: Path):
    log = read_log(shared_datasets / "synthetic" / "a22f0n00.xes.gz")
    assert (log.has_timestamps, log.n_events, log.n_cases, len(log.report.quarantined)) == (False, 18928, 1000, 0)
    assert log.report.duplicate_events == 0
