"""XES reading and writing: column mapping, typing, warnings, progress, write format."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from xes_readers import xes_reader  # noqa: F401  (the fixture: each test runs through both readers)

from processmining.errors import IngestError, ProcessMiningError
from processmining.model import (
    ACTIVITY,
    CASE,
    LIFECYCLE,
    ORDER,
    RESOURCE,
    SOURCE_ROW,
    TIMESTAMP,
    EventLog,
)
from processmining.xes import read_xes, write_xes

pytestmark = pytest.mark.usefixtures("xes_reader")

DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
NS_LOG = '<log xes.version="1.0" xmlns="http://www.xes-standard.org/">\n'

# A small log with the elements real XES files carry: extensions, globals, classifiers,
# log attributes with nested meta-attributes (as in BPIC 2013), typed trace and event
# attributes, a list and a container, and a nested meta-attribute on an event attribute.
TYPED_LOG = DECL + NS_LOG + """
<extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
<global scope="event"><string key="concept:name" value="UNKNOWN"/></global>
<classifier name="Activity" keys="concept:name lifecycle:transition"/>
<float key="meta:avg" value="7.6"><float key="Anna" value="0.1"/></float>
<trace>
  <string key="concept:name" value="006Hs00000XyZ12IAF"/>
  <float key="Amount" value="25000.5"/>
  <int key="Discount__c" value="25"/>
  <boolean key="IsWon" value="true"/>
  <date key="CloseDate" value="2024-04-30T00:00:00.000+02:00"/>
  <event>
    <string key="concept:name" value="Prospecting"/>
    <date key="time:timestamp" value="2024-03-01T09:15:02.123456+01:00"/>
    <string key="org:resource" value="005Hs000001AaBbIAK"/>
    <string key="lifecycle:transition" value="complete"/>
    <int key="Probability" value="10"/>
    <float key="Score" value="0.25"><string key="unit" value="ratio"/></float>
    <boolean key="Auto" value="false"/>
    <id key="row" value="a1b2"/>
    <list key="tags"><values><string key="tag" value="emea"/><string key="tag" value="smb"/></values></list>
    <container key="meta"><int key="n" value="3"/></container>
  </event>
  <event>
    <string key="concept:name" value="Qualification"/>
    <date key="time:timestamp" value="2024-03-02T10:00:00Z"/>
    <string key="org:resource" value="005Hs000001AaBbIAK"/>
    <string key="lifecycle:transition" value="complete"/>
    <int key="Probability" value="-20"/>
    <boolean key="Auto" value="1"/>
  </event>
</trace>
<trace>
  <string key="concept:name" value="006Hs00000AbC34IAF"/>
  <int key="Discount__c" value="5"/>
  <event>
    <string key="concept:name" value="Prospecting"/>
    <date key="time:timestamp" value="2024-03-05T08:00:00"/>
    <string key="lifecycle:transition" value="complete"/>
  </event>
</trace>
</log>
"""


@pytest.fixture(scope="module")
def typed_log() -> EventLog:
    return read_xes(TYPED_LOG.encode(), name="typed.xes")


def test_canonical_columns_and_order(typed_log: EventLog) -> None:
    df = typed_log.df
    assert list(df.columns[:5]) == [CASE, ACTIVITY, TIMESTAMP, RESOURCE, LIFECYCLE]
    assert df[CASE].tolist() == ["006Hs00000AbC34IAF", "006Hs00000XyZ12IAF", "006Hs00000XyZ12IAF"]
    assert df[ACTIVITY].tolist() == ["Prospecting", "Prospecting", "Qualification"]
    # offsets converted to UTC, microseconds kept; a naive timestamp is read as UTC
    assert df[TIMESTAMP].tolist() == [
        pd.Timestamp("2024-03-05 08:00:00", tz="UTC"),
        pd.Timestamp("2024-03-01 08:15:02.123456", tz="UTC"),
        pd.Timestamp("2024-03-02 10:00:00", tz="UTC"),
    ]
    assert df[RESOURCE].isna().tolist() == [True, False, False]
    # @@index is the input order of the <event> element, @@source_row its 1-based position
    assert df[ORDER].tolist() == [2, 0, 1]
    assert df[SOURCE_ROW].tolist() == [3, 1, 2]


def test_event_and_trace_attribute_types_are_preserved(typed_log: EventLog) -> None:
    df = typed_log.df
    dtypes = {c: str(t) for c, t in df.dtypes.items()}
    assert dtypes["Probability"] == "Int64"
    assert dtypes["Score"] == "Float64"
    assert dtypes["Auto"] == "boolean"
    assert dtypes["row"] == "string"
    assert dtypes["case:Amount"] == "Float64"
    assert dtypes["case:Discount__c"] == "Int64"
    assert dtypes["case:IsWon"] == "boolean"
    assert dtypes["case:CloseDate"] == "datetime64[us, UTC]"
    won = df[df[CASE] == "006Hs00000XyZ12IAF"]
    assert won["Probability"].tolist() == [10, -20]
    assert won["Auto"].tolist() == [False, True]
    assert won["case:Amount"].tolist() == [25000.5, 25000.5]
    assert won["case:CloseDate"].iloc[0] == pd.Timestamp("2024-04-29 22:00", tz="UTC")
    other = df[df[CASE] == "006Hs00000AbC34IAF"]
    assert other["case:Discount__c"].tolist() == [5]
    assert other["case:Amount"].isna().all()


def test_nested_list_and_container_attributes_are_kept_and_warned(typed_log: EventLog) -> None:
    df = typed_log.df
    first = df[df[ORDER] == 0].iloc[0]
    assert first["Score/unit"] == "ratio"
    assert first["tags"] == '["emea", "smb"]'
    assert first["meta"] == '{"n": "3"}'
    assert typed_log.report.warnings == [
        "nested attribute under 'Score' flattened into column 'Score/unit' (1 times)",
        "<list> attribute 'tags' kept as JSON text (1 times)",
        "<container> attribute 'meta' kept as JSON text (1 times)",
        "1 time:timestamp values have no UTC offset; read as UTC",
    ]


def test_report_accounts_for_every_event_element(typed_log: EventLog) -> None:
    report = typed_log.report
    assert (report.shape, report.source, report.rows_read, report.events, report.cases) == (
        "xes", "typed.xes", 3, 3, 2)
    assert report.sha256 == __import__("hashlib").sha256(TYPED_LOG.encode()).hexdigest()
    report.check_balance()


def test_key_with_mixed_types_becomes_text_with_a_warning() -> None:
    doc = DECL + "<log><trace><string key='concept:name' value='c'/>" + "".join(
        f"<event><string key='concept:name' value='A'/><date key='time:timestamp' value='2024-01-0{i}T00:00:00Z'/>"
        f"<{t} key='x' value='{v}'/></event>"
        for i, (t, v) in enumerate([("int", "1"), ("string", "one"), ("float", "1.5")], start=1)
    ) + "</trace></log>"
    log = read_xes(doc.encode(), name="mixed.xes")
    assert str(log.df["x"].dtype) == "string"
    assert log.df["x"].tolist() == ["1", "one", "1.5"]
    assert log.report.warnings == ["event attribute 'x' is written as float, int, string in different places; kept as text"]


def test_gzip_is_detected_by_content_and_sha256_is_of_the_file_as_given(tmp_path: Path) -> None:
    raw = gzip.compress(TYPED_LOG.encode())
    path = tmp_path / "log.xes.gz"
    path.write_bytes(raw)
    log = read_xes(path)
    assert log.report.source == "log.xes.gz"
    assert log.report.sha256 == __import__("hashlib").sha256(raw).hexdigest()
    assert log.n_events == 3


def test_progress_is_reported_in_bytes_and_ends_at_the_total() -> None:
    events = "".join(
        f"<event><string key='concept:name' value='A'/><date key='time:timestamp' value='2024-01-01T00:00:{i % 60:02d}Z'/>"
        "</event>" for i in range(50)
    )
    doc = (DECL + "<log>" + "".join(f"<trace><string key='concept:name' value='c{k}'/>{events}</trace>"
                                    for k in range(200)) + "</log>").encode()
    calls: list[tuple[int, int, str]] = []
    log = read_xes(doc, progress=lambda done, total, label: calls.append((done, total, label)))
    assert log.n_events == 10_000
    assert len(calls) >= 3  # every 4,096 events, plus the final call
    assert all(total == len(doc) and label == "reading XES" for _, total, label in calls)
    assert [d for d, _, _ in calls] == sorted(d for d, _, _ in calls)
    assert calls[-1][0] == len(doc)


# ------------------------------------------------------------------ writing
def _small_log() -> EventLog:
    # two cases, one event with a missing resource and one missing amount, a value with
    # every XML special character plus tab/newline, and microsecond timestamps
    frame = pd.DataFrame(
        {
            CASE: ["c1", "c1", "c2"],
            ACTIVITY: ["Open", "Close <&>", "Open"],
            TIMESTAMP: pd.to_datetime(
                ["2024-01-01 10:00:00.000001", "2024-01-02 10:00:00", "2024-01-03 00:00:00"], utc=True, format="ISO8601"),
            RESOURCE: pd.array(["Ann", None, "Bo"], dtype="string"),
            "note": pd.array(['say "hi"\tand\nbye \'x\'', "ü€", None], dtype="string"),
            "amount": pd.array([1.5, None, 3.0], dtype="Float64"),
            "count": pd.array([1, 2, None], dtype="Int64"),
            "flag": pd.array([True, None, False], dtype="boolean"),
            "case:Region": pd.array(["EMEA", "EMEA", "APAC"], dtype="string"),
        }
    )
    return EventLog.from_frame(frame, name="small")


def test_written_xes_declares_extensions_and_typed_attributes() -> None:
    buf = io.BytesIO()
    write_xes(_small_log(), buf)
    text = buf.getvalue().decode("utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1849-2016"')
    for prefix in ("concept", "time", "org", "lifecycle"):
        assert f'prefix="{prefix}" uri="http://www.xes-standard.org/{prefix}.xesext"' in text
    assert '<date key="time:timestamp" value="2024-01-01T10:00:00.000001+00:00"/>' in text
    assert '<string key="concept:name" value="Close &lt;&amp;&gt;"/>' in text
    assert '<string key="note" value="say &quot;hi&quot;&#9;and&#10;bye \'x\'"/>' in text
    assert '<float key="amount" value="1.5"/>' in text
    assert '<int key="count" value="2"/>' in text
    assert '<boolean key="flag" value="false"/>' in text
    assert '<string key="Region" value="APAC"/>' in text
    assert text.count("<trace>") == 2 and text.count("<event>") == 3
    assert "@@index" not in text


def test_write_then_read_keeps_values_and_types(tmp_path: Path) -> None:
    log = _small_log()
    path = tmp_path / "small.xes.gz"
    write_xes(log, path)
    assert path.read_bytes()[:2] == b"\x1f\x8b"  # .gz name → gzip
    back = read_xes(path)
    cols = [CASE, ACTIVITY, TIMESTAMP, RESOURCE, "note", "amount", "count", "flag", "case:Region"]
    pd.testing.assert_frame_equal(back.df[cols], log.df[cols], check_dtype=True)
    assert back.report.warnings == []


def test_compress_flag_overrides_the_name(tmp_path: Path) -> None:
    path = tmp_path / "plain-name.xes"
    write_xes(_small_log(), path, compress=True)
    assert gzip.decompress(path.read_bytes()).startswith(b"<?xml")
    write_xes(_small_log(), tmp_path / "x.xes.gz", compress=False)
    assert (tmp_path / "x.xes.gz").read_bytes().startswith(b"<?xml")


def test_control_characters_that_xml_cannot_hold_are_refused_not_dropped(tmp_path: Path) -> None:
    frame = _small_log().df.copy()
    frame["note"] = pd.array(["ok", "bell\x07", None], dtype="string")
    log = EventLog.from_frame(frame)
    with pytest.raises(ProcessMiningError) as err:
        write_xes(log, tmp_path / "bad.xes")
    assert str(err.value) == (
        "column 'note': value 'bell\\x07' of case 'c1' contains a control character that XML 1.0 cannot hold "
        "(1 values in this column); remove control characters before exporting"
    )
    assert not (tmp_path / "bad.xes").exists() and not (tmp_path / "bad.xes.part").exists()


def test_events_of_a_case_that_are_not_contiguous_are_grouped_into_one_trace() -> None:
    log = _small_log()
    shuffled = EventLog(df=log.df.iloc[[0, 2, 1]].reset_index(drop=True), name="x")  # c1, c2, c1
    buf = io.BytesIO()
    write_xes(shuffled, buf)
    back = read_xes(buf.getvalue())
    assert back.report.warnings == []  # no duplicate trace ids were written
    assert back.df.groupby(CASE).size().to_dict() == {"c1": 2, "c2": 1}


def test_float_specials_and_nanosecond_timestamps_round_trip() -> None:
    frame = pd.DataFrame(
        {
            CASE: ["c", "c", "c"],
            ACTIVITY: ["A", "B", "C"],
            TIMESTAMP: pd.to_datetime(["2024-01-01 00:00:00.000000001", "2024-01-01 00:00:01", "2262-01-01"], format="ISO8601",
                                      utc=True).as_unit("ns"),
            "x": pd.array([np.inf, -np.inf, 1e-300], dtype="Float64"),
        }
    )
    buf = io.BytesIO()
    write_xes(EventLog.from_frame(frame), buf)
    assert b'value="INF"' in buf.getvalue() and b'value="-INF"' in buf.getvalue()
    back = read_xes(buf.getvalue())
    assert back.df[TIMESTAMP].tolist() == frame[TIMESTAMP].tolist()
    assert back.df["x"].tolist() == [np.inf, -np.inf, 1e-300]


def test_timestamp_variants_seen_in_the_wild_are_read() -> None:
    # offsets without colon (older ProM), comma fractions and lower-case z (hand-made files),
    # space instead of T, and 7 fractional digits (.NET exports): all valid instants
    stamps = ["2010-03-31T16:59:42.123+0200", "2010-03-31T16:59:42,5+02:00", "2010-03-31T16:59:42z",
              "2010-03-31 16:59:42+02:00", "2010-03-31T16:59:42.1234567-01:00"]
    events = "".join(
        f"<event><string key='concept:name' value='A{i}'/><date key='time:timestamp' value='{s}'/></event>"
        for i, s in enumerate(stamps)
    )
    log = read_xes((DECL + f"<log><trace><string key='concept:name' value='c'/>{events}</trace></log>").encode())
    got = dict(zip(log.df[ACTIVITY], log.df[TIMESTAMP], strict=True))
    assert got == {
        "A0": pd.Timestamp("2010-03-31 14:59:42.123", tz="UTC"),
        "A1": pd.Timestamp("2010-03-31 14:59:42.5", tz="UTC"),
        "A2": pd.Timestamp("2010-03-31 16:59:42", tz="UTC"),
        "A3": pd.Timestamp("2010-03-31 14:59:42", tz="UTC"),
        "A4": pd.Timestamp("2010-03-31 17:59:42.1234567", tz="UTC"),
    }
    assert log.report.quarantined == [] and log.report.warnings == []


def test_cli_convert_reads_and_writes_xes_and_refuses_html(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import processmining.cli

    src = tmp_path / "typed.xes"
    src.write_text(TYPED_LOG, encoding="utf-8")
    out = tmp_path / "out.xes.gz"
    result = CliRunner().invoke(processmining.cli.app, ["convert", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    back = read_xes(out)
    assert (back.n_events, back.n_cases) == (3, 2)
    assert str(back.df["case:Discount__c"].dtype) == "Int64"
    page = tmp_path / "page.xes"
    page.write_bytes(b"<!DOCTYPE html>\n<html><body>login</body></html>")
    result = CliRunner().invoke(processmining.cli.app, ["convert", str(page), "-o", str(tmp_path / "x.csv")])
    assert result.exit_code == 2
    assert "error: page.xes, line 2: root <html>, expected <log>" in result.output
    assert "Traceback" not in result.output


def test_case_column_that_varies_within_a_case_is_kept_per_event() -> None:
    # a "case:" column from a CSV need not be constant per case: writing only the first
    # value as a trace attribute would lose the others
    frame = _small_log().df.copy()
    frame["case:Stage"] = pd.array(["open", "won", "open"], dtype="string")
    buf = io.BytesIO()
    write_xes(EventLog.from_frame(frame), buf)
    assert b'<string key="case:Stage" value="won"/>' in buf.getvalue()
    assert b'<string key="Region" value="EMEA"/>' in buf.getvalue()  # constant: a trace attribute
    back = read_xes(buf.getvalue())
    assert back.df["case:Stage"].tolist() == ["open", "won", "open"]
    assert back.df["case:Region"].tolist() == ["EMEA", "EMEA", "APAC"]


def test_empty_log_round_trips() -> None:
    log = EventLog.from_frame(_small_log().df.iloc[:0])
    buf = io.BytesIO()
    write_xes(log, buf)
    # an empty log writes fine, but reading it back is not a success: zero events is an error that says so
    with pytest.raises(IngestError) as exc:
        read_xes(buf.getvalue())
    assert str(exc.value) == "<upload>: no events could be loaded: it holds no event rows"
