"""Bad and hostile XES inputs: items 1-11 of ../shared/BAD_INPUTS.md, with their exact messages."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest
from xes_readers import xes_reader  # noqa: F401  (the fixture: each test runs through both readers)

from processmining.errors import IngestError, UnsafeInputError
from processmining.model import ACTIVITY, CASE, TIMESTAMP
from processmining.xes import read_xes

pytestmark = pytest.mark.usefixtures("xes_reader")

DECL = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def event(activity: str, ts: str = "2024-01-01T10:00:00+00:00", extra: str = "") -> str:
    return (
        f'<event><string key="concept:name" value="{activity}"/>'
        f'<date key="time:timestamp" value="{ts}"/>{extra}</event>'
    )


def trace(case: str, *events: str) -> str:
    return f'<trace><string key="concept:name" value="{case}"/>' + "".join(events) + "</trace>\n"


def xes(*traces: str) -> bytes:
    return DECL + b'<log xmlns="http://www.xes-standard.org/">\n' + "".join(traces).encode() + b"</log>\n"


# ---------------------------------------------------------------- 1-3 entities and DTDs
def test_external_entity_is_refused_with_its_line_and_the_file_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-HOSTNAME")
    doc = DECL + (
        f'<!DOCTYPE log [\n<!ENTITY x SYSTEM "file://{secret}">\n]>\n'
        '<log><trace><string key="concept:name" value="&x;"/></trace></log>'
    ).encode()
    with pytest.raises(UnsafeInputError) as err:
        read_xes(doc, name="xxe.xes")
    assert str(err.value) == (
        "xxe.xes, line 2: XML entity declarations are refused (possible entity-expansion or "
        "external-entity attack); remove the DOCTYPE"
    )
    assert "TOP-SECRET" not in str(err.value)


def test_hostname_entity_from_bad_inputs_list_is_refused() -> None:
    doc = DECL + b'<!DOCTYPE log [<!ENTITY x SYSTEM "file:///etc/hostname">]>\n<log>&x;</log>'
    with pytest.raises(UnsafeInputError, match=r"^h\.xes, line 2: XML entity declarations are refused"):
        read_xes(doc, name="h.xes")


def test_external_dtd_over_http_is_refused_without_network() -> None:
    doc = DECL + b'<!DOCTYPE log SYSTEM "http://127.0.0.1:9/xes.dtd">\n<log/>'
    with pytest.raises(UnsafeInputError) as err:
        read_xes(doc, name="dtd.xes")
    assert str(err.value) == (
        "dtd.xes, line 2: external DTD references are refused (no file or network access); remove the DOCTYPE"
    )


def test_parameter_entity_over_http_is_refused() -> None:
    doc = DECL + b'<!DOCTYPE log [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>\n<log/>'
    with pytest.raises(UnsafeInputError, match=r"^pe\.xes, line 2: XML entity declarations are refused"):
        read_xes(doc, name="pe.xes")


def test_billion_laughs_is_refused() -> None:
    lol = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    doc = DECL + ("<!DOCTYPE log [\n" + "\n".join(lol) + "\n]>\n<log>&lol9;</log>").encode()
    with pytest.raises(UnsafeInputError, match=r"^bomb\.xes, line 2: XML entity declarations are refused"):
        read_xes(doc, name="bomb.xes")


# ---------------------------------------------------------------- 4 decompression bombs
def test_gzip_expanding_past_the_limit_is_refused() -> None:
    # 10 MB of zeros compresses to ~10 kB; a 1 MB limit keeps the test fast.
    bomb = gzip.compress(DECL + b"<log>" + b"\0" * 10_000_000, compresslevel=9)
    with pytest.raises(UnsafeInputError) as err:
        read_xes(bomb, name="bomb.xes.gz", max_bytes=1024**2)
    assert str(err.value) == (
        "bomb.xes.gz: decompressed size exceeds limit (1 MB); refusing a possible decompression bomb"
    )


def test_real_one_gigabyte_gzip_bomb_file_is_refused(tmp_path: Path) -> None:
    # A ~1 MB file that expands to 1 GiB: one gzip member of 16 MiB zeros, written 64 times
    # (gzip readers concatenate members), so building it never holds or deflates 1 GiB.
    path = tmp_path / "bomb.xes.gz"
    member = gzip.compress(bytes(16 * 1024**2), compresslevel=9)
    with open(path, "wb") as fh:
        for _ in range(64):
            fh.write(member)
    assert path.stat().st_size < 1_100_000
    assert len(gzip.decompress(member)) * 64 == 1024**3
    with pytest.raises(UnsafeInputError, match=r"^bomb\.xes\.gz: decompressed size exceeds limit \(64 MB\)"):
        read_xes(path, max_bytes=64 * 1024**2)


# ---------------------------------------------------------------- 5-7 structure
def test_nesting_deeper_than_the_limit_is_refused_with_the_line() -> None:
    doc = DECL + b"<log>\n<trace>\n" + b'<string key="a" value="b">' * 300 + b"</string>" * 300 + b"</trace></log>"
    with pytest.raises(IngestError) as err:
        read_xes(doc, name="deep.xes")
    # line 4 holds the 300 nested attributes (1: declaration, 2: <log>, 3: <trace>)
    assert str(err.value) == (
        "deep.xes, line 4: not well-formed XML: elements are nested deeper than 256 levels "
        "(refused to protect memory) (column 6630)"
    )


def test_truncated_xes_is_refused_whole_with_the_line() -> None:
    full = xes(trace("c1", event("A"), event("B")), trace("c2", event("A")))
    truncated = full[: full.index(b"c2") + 20]
    with pytest.raises(IngestError) as err:
        read_xes(truncated, name="cut.xes")
    assert str(err.value).startswith(
        "cut.xes, line 4: not well-formed XML: the file ends early (truncated?); no partial log is returned"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # well-formed HTML (XHTML-ish): the root element is found and named
        (b"<!DOCTYPE html>\n<html><body>Sign in</body></html>", "page.xes, line 2: root <html>, expected <log>"),
        # typical real HTML is not XML at all: still named by its first tag
        (b'<!DOCTYPE html>\n<html lang=en><meta charset="utf-8"></html>', "page.xes: root <html>, expected <log>"),
        (b'{"traces": []}', "page.xes: this is JSON, not XES; expected an XML document with root <log>"),
        (b"[1, 2]", "page.xes: this is JSON, not XES; expected an XML document with root <log>"),
        (b"", "page.xes: the file is empty; expected an XES document with root <log>"),
        (b"  \n\t", "page.xes: the file is empty; expected an XES document with root <log>"),
        (DECL + b"<bpmn:definitions xmlns:bpmn='x'/>", "page.xes, line 2: root <definitions>, expected <log>"),
    ],
)
def test_html_json_and_empty_files_get_specific_messages(content: bytes, message: str) -> None:
    with pytest.raises(IngestError) as err:
        read_xes(content, name="page.xes")
    assert str(err.value) == message


def test_empty_file_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "empty.xes"
    path.write_bytes(b"")
    with pytest.raises(IngestError, match=r"^empty\.xes: the file is empty"):
        read_xes(path)


def test_event_outside_a_trace_is_refused_with_the_line() -> None:
    doc = xes(event("A"), trace("c1", event("B")))
    with pytest.raises(IngestError) as err:
        read_xes(doc, name="stray.xes")
    assert str(err.value) == "stray.xes, line 3: <event> outside any <trace>; not valid XES"


# ---------------------------------------------------------------- 8 URLs
@pytest.mark.parametrize("url", ["http://127.0.0.1:9/log.xes", "https://example.invalid/log.xes.gz"])
def test_url_paths_are_refused(url: str) -> None:
    with pytest.raises(UnsafeInputError) as err:
        read_xes(url)
    assert str(err.value) == (
        f"{url}: URLs are not read: processmining never makes network requests. "
        "Download the file and pass its local path."
    )


# ---------------------------------------------------------------- 9 encodings
def test_iso_8859_1_declared_encoding_is_decoded() -> None:
    doc = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<log>'
        + trace("Café-1", event("Prüfung"))
        + "</log>"
    ).encode("latin-1")
    log = read_xes(doc, name="latin.xes")
    assert log.df[CASE].tolist() == ["Café-1"]
    assert log.df[ACTIVITY].tolist() == ["Prüfung"]


def test_utf16_document_with_bom_is_decoded() -> None:
    doc = ('<?xml version="1.0" encoding="UTF-16"?>\n<log>' + trace("Ω-7", event("Qualification €")) + "</log>")
    log = read_xes(doc.encode("utf-16"), name="u16.xes")
    assert log.df[CASE].tolist() == ["Ω-7"]
    assert log.df[ACTIVITY].tolist() == ["Qualification €"]


def test_invalid_utf8_bytes_are_reported_with_line_and_column() -> None:
    doc = DECL + b'<log>\n<trace>\n<string key="concept:name" value="caf\xe9"/>\n</trace></log>'
    with pytest.raises(IngestError) as err:
        read_xes(doc, name="bad.xes")
    assert str(err.value) == "bad.xes, line 4: not well-formed XML: Invalid bytes in character encoding (column 38)"


def test_character_references_are_decoded() -> None:
    doc = xes(trace("R&amp;D-1", event("Caf&#233; &lt;review&gt;"), event("&quot;Quote&quot; &amp; &#x4E2D;")))
    log = read_xes(doc, name="refs.xes")
    assert log.df[CASE].unique().tolist() == ["R&D-1"]
    assert log.df[ACTIVITY].tolist() == ["Café <review>", '"Quote" & 中']


# ---------------------------------------------------------------- 10 duplicate ids, empty traces
def test_duplicate_trace_ids_are_kept_apart_and_empty_traces_reported() -> None:
    doc = xes(
        trace("A", event("Open"), event("Close", "2024-01-02T00:00:00Z")),
        trace("B"),  # empty: reported, not a case
        trace("A", event("Open", "2024-02-01T00:00:00Z")),  # duplicate id: separate case A#2
        trace("A#2", event("Open")),  # an existing id that the suffix must not collide with
        trace("A", event("Reopen")),  # third A
        trace("C", event("Open")),
    )
    log = read_xes(doc, name="dups.xes")
    report = log.report
    assert sorted(log.df[CASE].unique()) == ["A", "A#2", "A#3", "A#4", "C"]
    assert log.df.groupby(CASE).size().to_dict() == {"A": 2, "A#2": 1, "A#3": 1, "A#4": 1, "C": 1}
    # the original "A#2" trace keeps its own id; the repeats of "A" skip it
    assert log.df.loc[log.df[CASE] == "A#3", TIMESTAMP].iloc[0] == pd.Timestamp("2024-02-01", tz="UTC")
    assert report.warnings == [
        "1 trace ids occur more than once (2 extra traces): 'A'; they were NOT merged: each repeat is a "
        "separate case with the suffix #2, #3, ... (e.g. 'A#3')",
        "1 empty traces (no <event>) are not in the log: trace 'B'",
    ]
    # traces in (6) = traces out (5 cases) + flagged (1 empty)
    assert report.cases + 1 == 6
    assert report.rows_read == 6 and report.events == 6
    report.check_balance()


# ---------------------------------------------------------------- 11 unreadable values
def test_unparseable_timestamp_quarantines_that_event_with_trace_id_and_index() -> None:
    doc = xes(trace("T1", event("Open"), event("Work", "2024-02-30T10:00:00Z"), event("Close", "garbage")))
    log = read_xes(doc, name="dates.xes")
    assert log.df[ACTIVITY].tolist() == ["Open"]
    assert [q.to_dict() for q in log.report.quarantined] == [
        {
            "row": 2,
            "reason": "trace 'T1', event 2 (line 3): time:timestamp '2024-02-30T10:00:00Z' is not a valid xs:dateTime",
            "column": "time:timestamp",
            "value": "2024-02-30T10:00:00Z",
        },
        {
            "row": 3,
            "reason": "trace 'T1', event 3 (line 3): time:timestamp 'garbage' is not a valid xs:dateTime",
            "column": "time:timestamp",
            "value": "garbage",
        },
    ]
    log.report.check_balance()


def test_unparseable_float_and_date_attributes_keep_raw_text_and_are_warned() -> None:
    doc = xes(
        trace(
            "T1",
            event("Quote", extra='<float key="Amount" value="1200.5"/><date key="due" value="2024-03-01T00:00:00Z"/>'),
            event("Quote", extra='<float key="Amount" value="12,5"/><date key="due" value="next week"/>'),
        )
    )
    log = read_xes(doc, name="vals.xes")
    df = log.df
    assert str(df["Amount"].dtype) == "Float64" and str(df["due"].dtype).startswith("datetime64")
    assert df["Amount"].iloc[0] == 1200.5 and pd.isna(df["Amount"].iloc[1])
    assert df["Amount (raw)"].tolist() == [None, "12,5"] or df["Amount (raw)"].isna().tolist() == [True, False]
    assert df["Amount (raw)"].iloc[1] == "12,5" and df["due (raw)"].iloc[1] == "next week"
    assert log.report.warnings == [
        "1 values of float attribute 'Amount' are not a valid float and are kept as text in column "
        "'Amount (raw)': trace 'T1', event 2: '12,5'",
        "1 values of date attribute 'due' are not a valid date and are kept as text in column "
        "'due (raw)': trace 'T1', event 2: 'next week'",
    ]
    assert log.n_events == 2 and not log.report.quarantined


def test_events_without_timestamp_or_activity_and_traces_without_id_are_quarantined() -> None:
    doc = xes(
        trace(
            "T1",
            event("Open"),
            '<event><string key="concept:name" value="No time"/></event>',  # no time:timestamp
            '<event><date key="time:timestamp" value="2024-01-03T00:00:00Z"/></event>',  # no concept:name
        ),
        "<trace>" + event("Orphan") + "</trace>\n",  # trace without concept:name: no case id
    )
    log = read_xes(doc, name="missing.xes")
    assert log.df[ACTIVITY].tolist() == ["Open"]
    assert [(q.row, q.reason) for q in log.report.quarantined] == [
        (2, "trace 'T1', event 2 (line 3): the event has no time:timestamp"),
        (3, "trace 'T1', event 3 (line 3): the event has no concept:name (activity)"),
        (4, "trace #2 (no concept:name), event 1 (line 4): the trace has no concept:name (case id)"),
    ]
    assert log.report.warnings == [
        "1 traces lost every event to quarantine and are not in the log: trace #2 (no concept:name)"
    ]
    assert (log.report.rows_read, log.report.events, log.report.cases) == (4, 1, 1)
    log.report.check_balance()
