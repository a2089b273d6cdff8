"""Hostile and odd XES (issue 11): namespaces, nested events, containers, extreme dates, colliding keys."""

from __future__ import annotations

import pandas as pd
import pytest
from xes_readers import xes_reader  # noqa: F401  (the fixture: each test runs through both readers)

from processmining.errors import IngestError
from processmining.ingest.timestamps import OUT_OF_RANGE
from processmining.model import ACTIVITY, ORDER, TIMESTAMP
from processmining.xes import read_xes, write_xes

pytestmark = pytest.mark.usefixtures("xes_reader")


def _xes(events: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?><log xmlns="http://www.xes-standard.org/" xmlns:o="urn:other">'
            f'<trace><string key="concept:name" value="T1"/>{events}</trace></log>').encode()


def _ev(act: str, ts: str, extra: str = "") -> str:
    return f'<event><string key="concept:name" value="{act}"/><date key="time:timestamp" value="{ts}"/>{extra}</event>'


def _balanced(log) -> None:  # noqa: ANN001
    r = log.report
    assert r.rows_read == r.events + len(r.quarantined) + r.collapsed_duplicates + sum(r.filtered.values())


def test_dates_outside_the_range_are_quarantined_and_the_rest_sorts_right():
    log = read_xes(_xes(_ev("Old", "1500-01-01T00:00:00Z") + _ev("B", "2024-01-02T00:00:00Z")
                        + _ev("A", "2024-01-01T00:00:00.123456789Z") + _ev("Far", "9999-12-31T23:59:59Z")))
    assert log.df[ACTIVITY].tolist() == ["A", "B"]
    assert log.df[TIMESTAMP].tolist() == [pd.Timestamp("2024-01-01 00:00:00.123456789", tz="UTC"),
                                          pd.Timestamp("2024-01-02", tz="UTC")]
    assert [q.reason for q in log.report.quarantined] == [
        f"trace 'T1', event 1 (line 1): time:timestamp '1500-01-01T00:00:00Z': {OUT_OF_RANGE}",
        f"trace 'T1', event 4 (line 1): time:timestamp '9999-12-31T23:59:59Z': {OUT_OF_RANGE}"]
    _balanced(log)


def test_only_old_dates_in_microseconds_never_wrap():
    # pandas picks microseconds for a column of year-1600 dates; they must not become 2184
    log = read_xes(_xes(_ev("A", "2024-01-01T00:00:00Z") + _ev("B", "1600-01-01T00:00:00Z")))
    assert log.df[ACTIVITY].tolist() == ["A"] and len(log.report.quarantined) == 1


def test_same_key_in_two_namespaces_keeps_both_values():
    log = read_xes(_xes(_ev("A", "2024-01-01T00:00:00Z", '<string key="note" value="a"/><o:string key="note" '
                                                         'value="b"/>')))
    assert (log.df["note"].tolist(), log.df["note [urn:other]"].tolist()) == (["a"], ["b"])
    assert log.report.warnings == ["1 event attributes <string key='note'> in namespace 'urn:other' have the key of "
                                   "attributes in another namespace; kept as column 'note [urn:other]'"]


def test_event_inside_event_is_refused_with_the_line():
    body = _ev("A", "2024-01-01T00:00:00Z", "\n" + _ev("Inner", "2024-01-02T00:00:00Z"))
    with pytest.raises(IngestError) as exc:
        read_xes(_xes(body))
    assert str(exc.value) == ("<upload>, line 2: <event> inside <event>; XES allows events only directly under "
                              "<trace> (the file is refused rather than losing the inner event)")


def test_list_and_container_attributes_are_kept_including_empty_ones():
    extra = ('<list key="tags"><values><string key="t" value="x"/><string key="t" value="y"/></values></list>'
             '<list key="none"/><container key="box"><int key="n" value="3"/></container>')
    log = read_xes(_xes(_ev("A", "2024-01-01T00:00:00Z", extra)))
    assert (log.df["tags"].tolist(), log.df["none"].tolist(), log.df["box"].tolist()) == (
        ['["x", "y"]'], ["[]"], ['{"n": "3"}'])


def test_attributes_named_like_log_columns_are_kept_apart(tmp_path):
    extra = '<string key="@@index" value="99"/><string key="case:concept:name" value="other"/>'
    log = read_xes(_xes(_ev("B", "2024-01-01T00:00:00Z", extra) + _ev("A", "2024-01-01T00:00:00Z")))
    assert log.df[ORDER].tolist() == [0, 1]  # file order, not the attribute
    assert log.df["index (input)"].tolist()[0] == "99"
    assert log.df["case:concept:name (input)"].tolist()[0] == "other"
    assert log.report.warnings == ["2 attributes have the name of a column the log itself uses and are kept under "
                                   "another name: event attribute '@@index' → 'index (input)', event attribute "
                                   "'case:concept:name' → 'case:concept:name (input)'"]
    write_xes(log, tmp_path / "o.xes")
    back = read_xes(tmp_path / "o.xes")
    assert back.df[ACTIVITY].tolist() == ["B", "A"]  # equal times keep the file order through a round trip


def test_xes_without_any_timestamp_is_an_order_only_log():
    events = "".join(f'<event><string key="concept:name" value="{a}"/></event>' for a in ("Z", "A", "M"))
    log = read_xes(_xes(events))
    assert (log.has_timestamps, log.df[ACTIVITY].tolist(), log.report.quarantined) == (False, ["Z", "A", "M"], [])
    assert log.report.has_timestamps is False
