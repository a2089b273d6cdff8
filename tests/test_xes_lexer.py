"""The byte scan of XES (processmining.xes.lexer): which files it reads, that it reads them as XML says,
and that everything else goes to the streaming reader with the same result and the same messages."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xes_readers import xes_reader  # noqa: F401  (the fixture: each test runs through both readers)

from processmining.errors import IngestError
from processmining.model import ACTIVITY, CASE, TIMESTAMP
from processmining.xes import lexer, read_xes
from processmining.xes import read as xes_read
from processmining.xes.lexer import scan_bytes, scan_stream

NS = "http://www.xes-standard.org/"
DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
LOG = f'<log xes.version="1.0" xmlns="{NS}">\n'


def _event(act: str = "A", ts: str = "2024-01-01T10:00:00+00:00", extra: str = "") -> str:
    return (f'\t\t<event>\n\t\t\t<string key="concept:name" value="{act}"/>\n'
            f'\t\t\t<date key="time:timestamp" value="{ts}"/>\n{extra}\t\t</event>\n')


def _doc(body: str, *, header: str = "", decl: str = DECL, log: str = LOG) -> bytes:
    return (decl + log + header + body + "</log>\n").encode()


def _trace(case: str = "T1", *events: str) -> str:
    return f'\t<trace>\n\t\t<string key="concept:name" value="{case}"/>\n' + "".join(events or (_event(),)) + "\t</trace>\n"


@contextlib.contextmanager
def _reader(name: str) -> Iterator[None]:
    """One reader for a block (hypothesis tests cannot take the function-scoped fixture)."""
    old = xes_read.FAST_SCAN_MIN_BYTES
    xes_read.FAST_SCAN_MIN_BYTES = 0 if name == "byte scan" else 1 << 62
    try:
        yield
    finally:
        xes_read.FAST_SCAN_MIN_BYTES = old


# ------------------------------------------------------------------ what the byte scan reads
def test_values_are_read_as_xml_defines_them():
    # references decoded once (&amp;#10; stays the text "&#10;"), a literal tab and CRLF (the file has CRLF line ends)
    # become one space each, a character reference to a newline stays a newline; both attribute endings
    note = "a &amp; b &lt;c&gt; &quot;q&quot; &apos;s&apos; &#233;&#x20AC; tab\there\nnl &#10;kept &amp;#10;"
    extra = f'\t\t\t<string key="note" value="{note}" />\n\t\t\t<int key="n&amp;m" value="7"/>\n'
    doc = _doc(_trace("T1", _event(extra=extra))).replace(b"\n", b"\r\n")
    assert scan_bytes(doc, NS) is not None
    log = read_xes(doc)
    assert log.df["note"].tolist() == ["a & b <c> \"q\" 's' é€ tab here nl \nkept &#10;"]
    assert log.df["n&m"].tolist() == [7]
    assert (log.df[CASE].tolist(), log.df[ACTIVITY].tolist()) == (["T1"], ["A"])


def test_header_with_comments_globals_and_nested_log_attributes_is_skipped():
    header = ('\t<!-- comments are skipped -->\n\t<extension name="Concept" prefix="concept" '
              'uri="http://www.xes-standard.org/concept.xesext"/>\n\t<global scope="event">\n'
              '\t\t<string key="concept:name" value="x/>y"/>\n\t</global>\n'
              '\t<float key="meta" value="1.5">\n\t\t<float key="inner" value="2"/>\n\t</float>\n')
    doc = _doc(_trace("T1") + _trace("T2", _event("B")), header=header)
    assert scan_bytes(doc, NS) is not None
    log = read_xes(doc)
    assert (log.df[CASE].tolist(), log.df[ACTIVITY].tolist()) == (["T1", "T2"], ["A", "B"])


def test_trace_attributes_and_events_in_any_order_and_duplicate_ids():
    body = ('\t<trace>\n' + _event("A") + '\t\t<string key="concept:name" value="T1"/>\n'
            '\t\t<int key="prio" value="2"/>\n\t</trace>\n' + _trace("T1", _event("B")))
    doc = _doc(body)
    scan = scan_bytes(doc, NS)
    assert scan is not None and (scan.n_traces, scan.n_events) == (2, 2)
    log = read_xes(doc)
    assert log.df[CASE].tolist() == ["T1", "T1#2"]
    assert log.df["case:prio"].tolist()[0] == 2 and pd.isna(log.df["case:prio"].tolist()[1])
    assert log.report.warnings[0].startswith("1 trace ids occur more than once (1 extra traces): 'T1'")


def test_rows_of_an_attribute_every_event_has_are_kept_as_one_range(monkeypatch: pytest.MonkeyPatch):
    # chunks of ~one trace: "note" is on events 0, 1 and 3 only, "concept:name" on all four, "x" twice on event 2
    monkeypatch.setattr(lexer, "CHUNK_BYTES", 200)
    note = '\t\t\t<string key="note" value="n"/>\n'
    body = (_trace("T1", _event("A", extra=note), _event("B", extra=note))
            + _trace("T2", _event("C", extra='<int key="x" value="1"/><int key="x" value="2"/>'), _event("D", extra=note)))
    head, rest = _doc(body)[:300], [_doc(body)[300:]]
    scan = scan_stream(head, rest, NS)
    assert scan is not None and scan.n_events == 4
    by_key = {key: rows for slots in scan.ev_values.values() for key, (rows, _) in slots.items()}
    assert by_key["concept:name"] == range(4) and by_key["time:timestamp"] == range(4)
    assert by_key["note"].tolist() == [0, 1, 3] and by_key["x"].tolist() == [2, 2]
    monkeypatch.setattr(xes_read, "FAST_SCAN_MIN_BYTES", 0)  # the byte scan of the whole document
    log = read_xes(_doc(body))
    assert log.df["note"].tolist()[:2] == ["n", "n"] and pd.isna(log.df["note"].iloc[2])
    assert log.df["x"].tolist()[2] == 2  # the last value of the event
    assert log.report.warnings == ["1 events have attribute 'x' more than once; the last value was kept"]


# ------------------------------------------------------------------ what it leaves to the streaming reader
LEFT_TO_STREAMING = {
    "comment among events": dict(body=_trace("T1", "<!-- x -->" + _event())),
    "processing instruction": dict(body=_trace("T1", "<?pi x?>" + _event())),
    "CDATA text": dict(body=_trace("T1", "<event><![CDATA[x]]>" + _event()[9:])),
    "prefixed attribute": dict(body=_trace("T1", _event(extra='<o:string xmlns:o="urn:o" key="k" value="v"/>'))),
    "namespace on a trace": dict(body=_trace("T1").replace("<trace>", f'<trace xmlns="{NS}">')),
    "single quotes": dict(body=_trace("T1", _event(extra="<string key='k' value='v'/>"))),
    "value before key": dict(body=_trace("T1", _event(extra='<string value="v" key="k"/>'))),
    "space in an end tag": dict(body=_trace("T1").replace("</trace>", "</trace >")),
    "nested attribute": dict(body=_trace("T1", _event(extra='<string key="k" value="v"><int key="i" value="1"/>'
                                                           '</string>'))),
    "list attribute": dict(body=_trace("T1", _event(extra='<list key="l"><values/></list>'))),
    "log attribute after the traces": dict(body=_trace("T1") + '<string key="after" value="x"/>'),
    "DOCTYPE without entities": dict(body=_trace("T1"), decl=DECL + "<!DOCTYPE log>\n"),
    "trace with an attribute": dict(body=_trace("T1").replace("<trace>", '<trace id="1">')),
    "a <trace> in a header comment": dict(body=_trace("T1"), header="<!-- <trace> -->\n"),
    "event in the header": dict(body=_trace("T1"), header='<string key="k" value="v"><event/></string>'),
}


@pytest.mark.parametrize("case", sorted(LEFT_TO_STREAMING))
def test_other_shapes_go_to_the_streaming_reader_with_the_same_log(case, xes_reader):  # noqa: F811
    doc = _doc(**LEFT_TO_STREAMING[case])
    assert scan_bytes(doc, NS) is None
    log = read_xes(doc)
    assert (log.df[CASE].tolist(), log.df[ACTIVITY].tolist()) == (["T1"], ["A"])
    assert log.df[TIMESTAMP].tolist() == [pd.Timestamp("2024-01-01 10:00", tz="UTC")]
    assert xes_reader.byte_scans in ([], [False])


def test_latin1_and_lone_cr_files_are_read_by_the_streaming_reader(xes_reader):  # noqa: F811
    latin = _doc(_trace("T1", _event("Caf\xe9")), decl='<?xml version="1.0" encoding="ISO-8859-1"?>\n')
    latin = latin.decode().encode("latin-1")
    cr = _doc(_trace("T1")).replace(b"\n", b"\r")
    assert scan_bytes(latin, NS) is None and scan_bytes(cr, NS) is None
    assert read_xes(latin).df[ACTIVITY].tolist() == ["Café"]
    assert read_xes(cr).df[ACTIVITY].tolist() == ["A"]


# ------------------------------------------------------------------ not well-formed: libxml2 decides
BROKEN = {
    # the token shapes are all common; only an XML parser sees what is wrong
    "undeclared entity": (_trace("T1", _event("&nope;")), "line 6: not well-formed XML: Entity 'nope' not defined "
                                                          "(column 44)"),
    "character not allowed in XML": (_trace("T1", _event("&#0;")), "line 6: not well-formed XML: xmlParseCharRef: "
                                                                  "invalid xmlChar value 0 (column 42)"),
    "']]>' in text": (_trace("T1", "]]>" + _event()), "line 5: not well-formed XML: Sequence ']]>' not allowed in "
                                                      "content (column 1)"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_documents_libxml2_refuses_get_the_streaming_readers_message(case, xes_reader):  # noqa: F811
    body, message = BROKEN[case]
    with pytest.raises(IngestError) as err:
        read_xes(_doc(body), name="bad.xes")
    assert str(err.value) == f"bad.xes, {message}"


def test_invalid_utf8_in_a_value_is_refused_with_the_line(xes_reader):  # noqa: F811
    doc = _doc(_trace("T1", _event("AXB"))).replace(b"AXB", b"A\xffB")
    with pytest.raises(IngestError) as err:
        read_xes(doc, name="u.xes")
    assert str(err.value) == "u.xes, line 6: not well-formed XML: Invalid bytes in character encoding (column 39)"


# ------------------------------------------------------------------ lines past 65,535
def test_a_bad_timestamp_past_line_65535_names_the_events_own_line():
    # libxml2 keeps 16-bit line numbers in its nodes; past 65,535 lxml reports the line of an element's
    # first child (here the line after <event>). The byte scan counts newlines: the event's own line.
    events = [_event(ts=f"2024-01-01T10:00:{i % 60:02d}+00:00") for i in range(17_000)]
    events[16_990] = _event("Bad", ts="not a date")
    doc = _doc(_trace("T1", *events))
    line = doc[: doc.index(b'value="Bad"')].count(b"\n")  # the <event> line: one line before the attribute
    assert line > 65_535
    with _reader("byte scan"):
        fast = read_xes(doc)
    with _reader("streaming"):
        slow = read_xes(doc)
    assert fast.report.quarantined[0].reason == (f"trace 'T1', event 16991 (line {line}): time:timestamp "
                                                 "'not a date' is not a valid xs:dateTime")
    assert slow.report.quarantined[0].reason == fast.report.quarantined[0].reason.replace(
        f"(line {line})", f"(line {line + 1})")
    pd.testing.assert_frame_equal(fast.df, slow.df)


# ------------------------------------------------------------------ every real log
#: pm4py 2.7 (``pm4py.read_xes(path, variant="iterparse")``) on each file: events, cases, activities,
#: first and last time (hard-coded: pm4py needs ~20 s for these files)
PM4PY = {
    "real/bpic2013_incidents.xes.gz": (65533, 7554, 4, "2010-03-31 14:59:42+00:00", "2012-05-22 23:22:25+00:00"),
    "real/bpic2019_p2p_1t_per_variant.xes.gz": (338247, 11973, 42, "1948-01-26 22:59:00+00:00",
                                                "2020-04-09 21:59:00+00:00"),
    "real/interval_event_log.xes.gz": (8109, 1266, 8, "2015-01-05 09:02:50+00:00", "2015-09-30 11:11:05+00:00"),
    "real/receipt.xes.gz": (8577, 1434, 27, "2010-10-02 07:20:39.266000+00:00", "2012-01-23 14:42:54.644000+00:00"),
    "real/reviewing.xes.gz": (3730, 100, 14, "2005-12-31 23:00:00+00:00", "2010-07-17 23:00:00+00:00"),
    "real/roadtraffic100traces.xes.gz": (390, 100, 10, "2000-03-14 23:00:00+00:00", "2013-04-23 22:00:00+00:00"),
    "real/running-example.xes": (42, 6, 8, "2010-12-30 10:02:00+00:00", "2011-01-24 13:56:00+00:00"),
    "real/sepsis_1t_per_variant.xes.gz": (13775, 846, 16, "2013-11-07 07:18:29+00:00", "2015-06-05 10:25:11+00:00"),
    "synthetic/a22f0n00.xes.gz": (18928, 1000, 22, None, None),
    "synthetic/a22f0n10.xes.gz": (18597, 1000, 22, None, None),
    "synthetic/a22f0n50.xes.gz": (17480, 1000, 22, None, None),
}


BIG = {"real/bpic2013_incidents.xes.gz", "real/bpic2019_p2p_1t_per_variant.xes.gz"}


@pytest.mark.parametrize("name", sorted(PM4PY))
def test_every_shared_log_is_byte_scanned_with_pm4pys_counts_and_the_streaming_readers_frame(
        shared_datasets: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = shared_datasets / name
    scanned: list[bool] = []

    def recording(data: bytes, namespace: str | None, progress=None):  # noqa: ANN001, ANN202
        scan = scan_bytes(data, namespace, *([progress] if progress else []))
        scanned.append(scan is not None)
        return scan

    def recording_stream(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        scan = scan_stream(*args, **kwargs)
        scanned.append(scan is not None)
        return scan

    monkeypatch.setattr(xes_read, "scan_bytes", recording)
    monkeypatch.setattr(xes_read, "scan_stream", recording_stream)
    with _reader("byte scan"):
        fast = read_xes(path)  # a path: scanned as it is read (and gunzipped)
    assert scanned == [True] and fast.report.shape == "xes"
    events, cases, activities, first, last = PM4PY[name]
    assert (fast.n_events, fast.n_cases, fast.df[ACTIVITY].nunique()) == (events, cases, activities)
    times = fast.df[TIMESTAMP].dropna()
    assert (str(times.min()) if len(times) else None, str(times.max()) if len(times) else None) == (first, last)
    assert fast.report.quarantined == [] and fast.report.warnings == []
    if name in BIG:  # the streaming reader needs 5-30 s for these (same frame, checked when this was written)
        return
    with _reader("streaming"):
        slow = read_xes(path)
    pd.testing.assert_frame_equal(fast.df, slow.df)


# ------------------------------------------------------------------ any text survives the byte scan
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12).filter(
    lambda s: all(c in "\t\n\r" or ord(c) >= 0x20 for c in s) and "\ufffe" not in s and "\uffff" not in s)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TEXT, min_size=1, max_size=6))
def test_any_value_reads_back_as_xml_normalises_it(values: list[str]) -> None:
    def attr(value: str) -> str:  # written literally where XML allows it, as references where it must
        esc = value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
        return f'\t\t\t<string key="v" value="{esc}"/>\n'

    doc = _doc("".join(_trace(f"c{i}", _event(extra=attr(v))) for i, v in enumerate(values)))
    with _reader("byte scan"):
        fast = read_xes(doc)
    with _reader("streaming"):
        slow = read_xes(doc)
    expected = {f"c{i}": v.replace("\r\n", " ").replace("\r", " ").replace("\n", " ").replace("\t", " ")
                for i, v in enumerate(values)}
    assert dict(zip(fast.df[CASE], fast.df["v"], strict=True)) == expected
    pd.testing.assert_frame_equal(fast.df, slow.df)


# ------------------------------------------------------------------ dates in the plain form: one Arrow cast
def test_plain_dates_with_offsets_read_in_one_pass_equal_the_iso_parser():
    from processmining.xes import values

    texts = ["2024-01-01T10:00:00+02:00", "2024-01-01 08:30:00Z", "2024-01-01T09:00:00.123456789-0100", None]
    series = pd.Series(pd.array(texts, dtype="string[pyarrow]"))
    ns = values._plain_dates(series)
    assert ns is not None and [str(v) for v in ns] == [
        "2024-01-01T08:00:00.000000000", "2024-01-01T08:30:00.000000000", "2024-01-01T10:00:00.123456789", "NaT"]
    parsed, out_of_range = values._parse_dates(series)
    assert str(parsed.dtype) == "datetime64[ns, UTC]" and not out_of_range.any()
    # not all plain, or not all in range: the ISO parser decides (and flags 1500 as out of range)
    for other in (["2024-02-30T10:00:00Z"], ["1500-01-01T00:00:00Z"], ["2024-01-01T10:00:00"], ["2024-01-01T10:00Z"]):
        assert values._plain_dates(pd.Series(pd.array(other, dtype="string[pyarrow]"))) is None
    assert values._parse_dates(pd.Series(pd.array(["1500-01-01T00:00:00Z"], dtype="string[pyarrow]")))[1].tolist() \
        == [True]


def test_the_byte_scan_reports_progress_in_bytes_and_can_be_cancelled():
    doc = _doc("".join(_trace(f"c{i}") for i in range(50)))
    calls: list[tuple[int, int, str]] = []
    with _reader("byte scan"):
        log = read_xes(doc, progress=lambda done, total, label: calls.append((done, total, label)))
    assert log.n_events == 50 and len(calls) >= 4
    assert all(total == len(doc) and label == "reading XES" for _, total, label in calls)
    assert [d for d, _, _ in calls] == sorted(d for d, _, _ in calls) and calls[-1][0] == len(doc)

    class Cancelled(Exception):
        pass

    def cancel(done: int, total: int, label: str) -> None:
        raise Cancelled

    with _reader("byte scan"), pytest.raises(Cancelled):
        read_xes(doc, progress=cancel)
