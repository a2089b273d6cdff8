"""Parquet read typed: timestamps taken as they are, every other column text, the same accounting as text input.

``read_log`` keeps a Parquet file's timestamp columns typed instead of writing
them out as ISO text and parsing that again; these tests pin that the result
is what the text would have given (values, warnings, quarantine with the
record number and column), and the few places where it is better (a
nanosecond timestamp, refused before with an Arrow error).
"""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processmining.ingest import read_log, read_table
from processmining.ingest.assemble import event_order
from processmining.model import ACTIVITY, CASE, RESOURCE, SOURCE_ROW, TIMESTAMP, ColumnMapping

MAP = ColumnMapping(case="case", activity="act", timestamp="ts")


def parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def us(*args: int) -> dt.datetime:
    return dt.datetime(*args)  # noqa: DTZ001 - naive on purpose: Arrow stores the wall clock / UTC as given


def test_aware_timestamps_int_case_ids_and_dictionary_activities():
    table = pa.table({
        "case": pa.array([7, 7, 8, 8, 9], pa.int64()),  # ints become the text "7", "8", "9"
        "act": pa.array(["Open", "Close", "Open", "Close", "Open"]).dictionary_encode(),
        # instants (UTC), one null: that row is quarantined as "missing timestamp" with its record number
        "ts": pa.array([us(2024, 3, 1, 9), us(2024, 3, 1, 10, 0, 0, 500), us(2024, 3, 2, 8), None,
                        us(2024, 3, 3, 7)], pa.timestamp("us", "Europe/Berlin")),
        "who": pa.array(["ana", "ben", "", None, "ana"]).dictionary_encode(),
    })
    log = read_log(parquet(table), name="t.parquet", mapping=ColumnMapping(case="case", activity="act",
                                                                          timestamp="ts", resource="who"))
    df = log.df
    assert df[CASE].tolist() == ["7", "7", "8", "9"]
    assert df[ACTIVITY].tolist() == ["Open", "Close", "Open", "Open"]
    assert df[TIMESTAMP].dt.strftime("%Y-%m-%d %H:%M:%S.%f%z").tolist() == [
        "2024-03-01 09:00:00.000000+0000", "2024-03-01 10:00:00.000500+0000", "2024-03-02 08:00:00.000000+0000",
        "2024-03-03 07:00:00.000000+0000"]
    assert df[RESOURCE].fillna("-").tolist() == ["ana", "ben", "-", "ana"]  # a blank cell is NA, as in CSV
    assert df[SOURCE_ROW].tolist() == [1, 2, 3, 5]
    r = log.report
    assert (r.rows_read, r.events, r.cases) == (5, 4, 3)
    assert [(q.row, q.reason, q.column) for q in r.quarantined] == [(4, "missing timestamp", "ts")]
    assert [(o.column, o.with_offset, o.naive) for o in r.timestamp_offsets] == [("ts", 4, 0)]
    assert not [w for w in r.warnings if "offset" in w]
    assert str(df[CASE].dtype) == "string" and df[CASE].dtype.storage == "pyarrow"


def test_naive_timestamps_are_wall_clock_in_the_timezone_with_the_dst_gap_counted():
    table = pa.table({"case": ["a", "a", "b"], "act": ["X", "Y", "X"],
                      # 02:30 on 31 March 2024 does not exist in Berlin (clocks jump from 02:00 to 03:00)
                      "ts": pa.array([us(2024, 3, 31, 1, 30), us(2024, 3, 31, 2, 30), us(2024, 7, 1, 12)],
                                     pa.timestamp("us"))})
    log = read_log(parquet(table), name="t.parquet", mapping=MAP, timezone="Europe/Berlin")
    assert log.df[TIMESTAMP].dt.strftime("%Y-%m-%d %H:%M").tolist() == [
        "2024-03-31 00:30", "2024-03-31 01:30", "2024-07-01 10:00"]
    assert log.report.warnings == [
        "column 'ts': 1 local times do not exist in Europe/Berlin (daylight-saving gap, first on line 2); read as "
        "the same wall-clock time after the clock change (shifted forward by the gap)",
        "column 'ts': 3 timestamps have no UTC offset; read as Europe/Berlin (use --timezone to change)"]
    assert [(o.with_offset, o.naive) for o in log.report.timestamp_offsets] == [(0, 3)]


def test_a_timestamp_outside_the_range_held_is_quarantined_by_record_and_value():
    table = pa.table({"case": ["a", "a", "b"], "act": ["X", "Y", "X"],
                      "ts": pa.array([us(2024, 1, 1), us(1500, 1, 1), us(2024, 1, 2)], pa.timestamp("us", "UTC"))})
    log = read_log(parquet(table), name="t.parquet", mapping=MAP)
    assert log.n_events == 2
    (q,) = log.report.quarantined
    assert (q.row, q.column, q.value) == (2, "ts", "1500-01-01T00:00:00.000000+00:00")
    assert q.reason == ("date outside the range this tool holds exactly (1677-09-21 00:12:44 to 2262-04-11 "
                        "23:47:16 UTC): '1500-01-01T00:00:00.000000+00:00'")


def test_nanosecond_timestamps_keep_their_nanoseconds():
    # Before, the reader cast every timestamp to microseconds and Arrow refused the lossy cast
    # ("would lose data"), a traceback; now the instant is kept exactly.
    table = pa.table({"case": ["a", "a"], "act": ["X", "Y"],
                      "ts": pa.array([1_709_283_600_000_000_001, 1_709_283_600_000_000_999], pa.timestamp("ns", "UTC")),
                      "seen": pa.array([1_709_283_600_000_000_001, None], pa.timestamp("ns", "UTC"))})
    log = read_log(parquet(table), name="t.parquet", mapping=MAP)
    assert log.df[TIMESTAMP].astype("int64").tolist() == [1_709_283_600_000_000_001, 1_709_283_600_000_000_999]
    # a timestamp column that is not the event time is an attribute, as text, here to the nanosecond
    assert log.df["seen"].fillna("-").tolist() == ["2024-03-01T09:00:00.000000001+00:00", "-"]


def test_typed_parquet_gives_the_log_its_text_gives():
    # the same events as typed Parquet and as the text the reader renders typed cells as (a CSV): one log
    table = pa.table({
        "case": pa.array([2, 1, 1, 2], pa.int32()), "act": ["B", "A", "B", "A"],
        "ts": pa.array([us(2024, 5, 2, 8), us(2024, 5, 1, 9, 30), us(2024, 5, 1, 9, 30), us(2024, 5, 1, 7)],
                       pa.timestamp("ms", "UTC")),
        "amount": pa.array([1.5, 2.0, None, 4.25]), "flag": [True, False, True, True],
        "day": pa.array([19844, 19845, None, 19846], pa.date32()),
        "seen": pa.array([us(2024, 1, 1), None, us(2024, 1, 2, 3, 4, 5, 6), us(2024, 1, 3)], pa.timestamp("us")),
    })
    typed = read_log(parquet(table), name="t.parquet", mapping=MAP)
    csv = ("case,act,ts,amount,flag,day,seen\n"
           "2,B,2024-05-02T08:00:00.000000+00:00,1.5,true,2024-05-01,2024-01-01T00:00:00.000000\n"
           "1,A,2024-05-01T09:30:00.000000+00:00,2,false,2024-05-02,\n"
           "1,B,2024-05-01T09:30:00.000000+00:00,,true,,2024-01-02T03:04:05.000006\n"
           "2,A,2024-05-01T07:00:00.000000+00:00,4.25,true,2024-05-03,2024-01-03T00:00:00.000000\n")
    text = read_log(csv.encode(), name="t.csv", mapping=MAP)
    pd.testing.assert_frame_equal(typed.df.drop(columns=SOURCE_ROW), text.df.drop(columns=SOURCE_ROW))
    assert typed.df[SOURCE_ROW].tolist() == [2, 3, 4, 1]  # Parquet: record numbers; CSV: line numbers
    assert typed.df["seen"].fillna("-").tolist() == ["-", "2024-01-02T03:04:05.000006", "2024-01-03T00:00:00.000000",
                                                     "2024-01-01T00:00:00.000000"]
    assert typed.df["amount"].fillna("-").tolist() == ["2", "-", "4.25", "1.5"]


def test_preview_and_transition_exports_see_text():
    table = pa.table({"OpportunityId": ["006A", "006A", "006A"], "Field": ["created", "StageName", "Amount"],
                      "OldValue": [None, "Prospecting", "10"], "NewValue": [None, "Qualification", "20"],
                      "CreatedById": ["005X", "005X", "005Y"],
                      "CreatedDate": pa.array([us(2024, 3, 1, 9), us(2024, 3, 4, 16, 40), None],
                                              pa.timestamp("us", "UTC"))})
    data = parquet(table)
    preview = read_table(data, name="h.parquet")
    assert preview.frame["CreatedDate"].fillna("-").tolist() == ["2024-03-01T09:00:00.000000+00:00",
                                                                 "2024-03-04T16:40:00.000000+00:00", "-"]
    log = read_log(data, name="h.parquet", preset="salesforce-field-history")
    assert log.df[ACTIVITY].tolist() == ["Prospecting", "Qualification"]
    assert (log.report.rows_read, log.report.events) == (3, 2)
    assert log.report.filtered == {"Field is 'Amount', not a stage field": 1}


def test_a_nested_column_is_refused_naming_it():
    # before, Arrow's cast error surfaced as a traceback
    from processmining.errors import IngestError

    table = pa.table({"case": ["a"], "act": ["X"], "ts": pa.array([us(2024, 1, 1)], pa.timestamp("us", "UTC")),
                      "tags": pa.array([["x", "y"]])})
    with pytest.raises(IngestError) as exc:
        read_log(parquet(table), name="n.parquet", mapping=MAP)
    assert str(exc.value) == ("n.parquet: column 'tags' holds list<element: string> values, which cannot be read as "
                              "one text per cell; flatten it or leave it out of the export")


def test_empty_parquet_is_refused_with_the_file_name():
    from processmining.errors import IngestError

    with pytest.raises(IngestError, match=r"^e.parquet: the Parquet file has no rows$"):
        read_log(parquet(pa.table({"case": pa.array([], pa.string())})), name="e.parquet")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), min_size=0, max_size=40),
       st.sampled_from(["as given", "grouped", "time order"]))
def test_event_order_is_the_three_key_sort(events, shape):
    # the linear-time shortcuts (cases in blocks in time order, or time order overall) give exactly the
    # permutation numpy's lexsort gives for (case, time, input order)
    if shape == "grouped":
        events = sorted(events, key=lambda e: e[0])
        events = sorted(events, key=lambda e: (e[0] * 7) % 6)  # blocks, but not in case order
        events = [(c, t) for c, t in sorted(events, key=lambda e: ((e[0] * 7) % 6, e[1]))]
    elif shape == "time order":
        events = sorted(events, key=lambda e: e[1])
    case = np.array([c for c, _ in events], dtype=np.int32)
    ts = np.array([t for _, t in events], dtype=np.int64)
    order = np.arange(len(events), dtype=np.int64)
    assert event_order(case, ts, order).tolist() == np.lexsort((order, ts, case)).tolist()


def test_a_converted_interval_log_keeps_its_start_times(shared_datasets, tmp_path):
    # write_log / convert write start_timestamp beside time:timestamp; reading the file back maps them as an
    # activity instance (start -> complete) again, so processing times survive the round trip. Before, the
    # start times were kept as a plain attribute 'start_timestamp (input)' (and the Spark engine, which reads
    # them as start times, disagreed with the local one).
    from processmining.ingest import write_log
    from processmining.model import START_TIMESTAMP

    xes = read_log(shared_datasets / "real" / "interval_event_log.xes.gz")
    write_log(xes, tmp_path / "interval.parquet")
    back = read_log(tmp_path / "interval.parquet")
    assert back.report.mapping == {"case": CASE, "activity": ACTIVITY, "timestamp": START_TIMESTAMP,
                                             "end_timestamp": TIMESTAMP}
    cols = [CASE, ACTIVITY, TIMESTAMP, START_TIMESTAMP]
    pd.testing.assert_frame_equal(back.df[cols], xes.df[cols], check_dtype=False)
    assert (back.n_events, len(back.report.quarantined), "start_timestamp (input)" in back.df) == (8109, 0, False)
    # an event without a start time is an event without one, not a bad row
    frame = xes.df[cols].head(6).copy()
    frame.loc[frame.index[2], START_TIMESTAMP] = pd.NaT
    from processmining.model import EventLog

    write_log(EventLog.from_frame(frame), tmp_path / "gap.parquet")
    gap = read_log(tmp_path / "gap.parquet")
    assert (gap.n_events, len(gap.report.quarantined)) == (6, 0)
    assert gap.df[START_TIMESTAMP].isna().tolist() == [False, False, True, False, False, False]
