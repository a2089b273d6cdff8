"""A local XES file is byte-scanned as it is read and gunzipped (processmining.xes.source, lexer.scan_stream):
the same log, report and messages as reading its bytes, and whatever the stream does not handle is read whole."""

from __future__ import annotations

import gzip
import os
import threading
from pathlib import Path

import pandas as pd
import pytest

from processmining.errors import IngestError, UnsafeInputError
from processmining.xes import lexer, read_xes, source
from processmining.xes import read as xes_read
from processmining.xes.lexer import _chunks

NS = "http://www.xes-standard.org/"


def _doc(n_traces: int = 40) -> bytes:
    """A log in the writers' shape with what the report must name: a repeated trace id, an empty trace,
    an unreadable timestamp (quarantined with its line) and an unreadable int (kept as text, listed)."""
    traces = []
    for t in range(n_traces):
        case = "T1" if t == 7 else f"T{t}"  # T1 twice
        events = "" if t == 3 else "".join(
            f'\t\t<event>\n\t\t\t<string key="concept:name" value="A{e}"/>\n'
            f'\t\t\t<date key="time:timestamp" value="'
            f'{"not a date" if (t, e) == (11, 1) else f"2024-01-{t % 28 + 1:02d}T10:0{e}:00+01:00"}"/>\n'
            f'\t\t\t<int key="n" value="{"x7" if (t, e) == (20, 0) else e}"/>\n\t\t</event>\n' for e in range(3))
        traces.append(f'\t<trace>\n\t\t<string key="concept:name" value="{case}"/>\n{events}\t</trace>\n')
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0" xmlns="{NS}">\n'
            '\t<string key="concept:name" value="log"/>\n' + "".join(traces) + "</log>\n").encode()


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Byte scan for any size, 300-byte chunks from 100-byte pieces; returns what each scan_stream gave."""
    monkeypatch.setattr(xes_read, "FAST_SCAN_MIN_BYTES", 0)
    monkeypatch.setattr(lexer, "CHUNK_BYTES", 300)
    monkeypatch.setattr(source, "PIECE_BYTES", 100)
    streamed: list[bool] = []
    scan_stream = xes_read.scan_stream

    def recording(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        scan = scan_stream(*args, **kwargs)
        streamed.append(scan is not None)
        return scan

    monkeypatch.setattr(xes_read, "scan_stream", recording)
    return streamed


def _same(a, b) -> None:  # noqa: ANN001
    pd.testing.assert_frame_equal(a.df, b.df)
    assert (a.report.warnings, a.report.quarantined, a.report.sha256, a.report.cases, a.report.rows_read) == \
        (b.report.warnings, b.report.quarantined, b.report.sha256, b.report.cases, b.report.rows_read)


@pytest.mark.parametrize("members", [1, 3])
def test_a_streamed_file_gives_the_log_and_report_of_its_bytes(tmp_path: Path, small_pieces: list[bool],
                                                                members: int) -> None:
    doc = _doc()
    cut = [0, *(len(doc) * k // members for k in range(1, members)), len(doc)]  # gzip members one after another
    path = tmp_path / "log.xes.gz"
    path.write_bytes(b"".join(gzip.compress(doc[a:b]) for a, b in zip(cut, cut[1:], strict=False)))
    streamed = read_xes(path)
    assert small_pieces == [True]
    in_memory = read_xes(path.read_bytes(), name="log.xes.gz")
    _same(streamed, in_memory)
    xes_read.FAST_SCAN_MIN_BYTES = 1 << 62  # the streaming lxml reader (monkeypatch restores it)
    _same(streamed, read_xes(path.read_bytes(), name="log.xes.gz"))
    # what the report says, exactly
    assert streamed.n_events == 39 * 3 - 1 and streamed.n_cases == 39  # 40 traces, one empty
    assert streamed.report.quarantined[0].reason == ("trace 'T11', event 2 (line 194): time:timestamp "
                                                     "'not a date' is not a valid xs:dateTime")
    assert streamed.report.warnings == [
        "1 trace ids occur more than once (1 extra traces): 'T1'; they were NOT merged: each repeat is a separate "
        "case with the suffix #2, #3, ... (e.g. 'T1#2')",
        "1 time:timestamp values have no UTC offset; read as UTC",
        "1 values of int attribute 'n' are not a valid int and are kept as text in column 'n (raw)': "
        "trace 'T20', event 1: 'x7'",
        "1 empty traces (no <event>) are not in the log: trace 'T3'"]


def test_a_plain_file_is_streamed_too(tmp_path: Path, small_pieces: list[bool]) -> None:
    path = tmp_path / "log.xes"
    path.write_bytes(_doc(5))
    _same(read_xes(path), read_xes(path.read_bytes(), name="log.xes"))
    assert small_pieces == [True]


def _truncated_gzip(doc: bytes) -> bytes:
    return gzip.compress(doc)[:-40]


#: files the stream hands over: (file bytes, max_bytes, the message read_xes gives for those bytes in memory)
DECLINED = {
    "truncated gzip": (lambda: _truncated_gzip(_doc()), None),
    "decompression bomb": (lambda: gzip.compress(_doc(400)), 64 * 1024),
    "not well-formed": (lambda: gzip.compress(_doc().replace(b'value="A1"', b'value="&nope;"', 1)), None),
    "not gzip after a member": (lambda: gzip.compress(_doc()) + b"trailing garbage", None),
}


@pytest.mark.parametrize("case", sorted(DECLINED))
def test_what_the_stream_does_not_handle_is_read_whole_with_the_usual_message(
        tmp_path: Path, small_pieces: list[bool], case: str) -> None:
    make, max_bytes = DECLINED[case]
    path = tmp_path / "bad.xes.gz"
    path.write_bytes(make())
    limit = {"max_bytes": max_bytes} if max_bytes else {}
    with pytest.raises(IngestError) as in_memory:
        read_xes(path.read_bytes(), name="bad.xes.gz", **limit)
    with pytest.raises(IngestError) as streamed:
        read_xes(path, **limit)
    assert str(streamed.value) == str(in_memory.value)
    assert type(streamed.value) is type(in_memory.value)
    assert small_pieces in ([], [False])  # declined by the stream, or scanned and found not well-formed
    if case == "decompression bomb":
        assert isinstance(streamed.value, UnsafeInputError) and "decompressed size exceeds limit" in str(streamed.value)


def test_progress_is_counted_in_file_bytes_and_a_cancel_ends_the_check_thread(
        tmp_path: Path, small_pieces: list[bool]) -> None:
    path = tmp_path / "log.xes.gz"
    path.write_bytes(gzip.compress(_doc()))
    calls: list[tuple[int, int]] = []
    read_xes(path, progress=lambda done, total, label: calls.append((done, total)))
    size = path.stat().st_size
    assert calls[-1] == (size, size) and len(calls) > 3 and all(total == size for _, total in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)

    class Cancelled(Exception):
        pass

    def cancel(done: int, total: int, label: str) -> None:
        if done > 0:
            raise Cancelled

    with pytest.raises(Cancelled):
        read_xes(path, progress=cancel)
    assert not [t for t in threading.enumerate() if t.name == "xes-check"]


def test_chunks_end_after_a_trace_and_hold_every_byte_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexer, "CHUNK_BYTES", 1000)  # each trace here is ~530 bytes
    doc = _doc(10)
    body = doc[doc.index(b"<trace>"):]
    pieces = [body[i : i + 70] for i in range(0, len(body), 70)]
    chunks = list(_chunks(pieces[0], pieces[1:]))
    assert b"".join(c for c, _ in chunks) == body
    assert [last for _, last in chunks] == [False] * (len(chunks) - 1) + [True]
    assert all(c.endswith(b"</trace>") for c, _ in chunks[:-1]) and chunks[-1][0].endswith(b"</log>\n")
    # a chunk is cut at the last </trace> once CHUNK_BYTES are there: under CHUNK_BYTES + one piece
    assert len(chunks) > 3 and max(len(c) for c, _ in chunks) < 1000 + 70


def test_a_file_that_changes_before_its_lines_are_counted_is_refused(tmp_path: Path, small_pieces: list[bool]) -> None:
    # lines are counted from a second read, only for the events the report names (here the bad timestamp);
    # the file is replaced between the two reads (once the first has read all of it)
    path = tmp_path / "log.xes.gz"
    path.write_bytes(gzip.compress(_doc()))

    def rewrite(done: int, total: int, label: str) -> None:
        if done == total and not (tmp_path / "new.gz").exists():  # a new file under the old name
            (tmp_path / "new.gz").write_bytes(gzip.compress(_doc().replace(b"<trace>", b"<trace>\n")))
            os.replace(tmp_path / "new.gz", path)
            (tmp_path / "new.gz").write_bytes(b"")

    with pytest.raises(IngestError) as err:
        read_xes(path, progress=rewrite)
    assert str(err.value) == "log.xes.gz: the file changed while it was read; read it again"


def test_read_log_streams_a_local_xes_file_and_reads_anything_else_whole(tmp_path: Path, monkeypatch) -> None:
    """``read_log`` on a local ``.xes``/``.xes.gz`` path goes to the streaming reader (the whole file is never
    read into memory by ``read_bytes``); bytes, other formats and a mislabelled file still go the bytes way."""
    import processmining.ingest as ingest

    plain, packed = tmp_path / "log.xes", tmp_path / "log.xes.gz"
    plain.write_bytes(_doc())
    packed.write_bytes(gzip.compress(_doc()))
    csv = tmp_path / "log.csv"
    csv.write_text("case,activity,time\n1,A,2024-01-01 10:00\n", encoding="utf-8")
    whole = ingest.read_log(_doc(), name="log.xes", lifecycle="events")

    def refuse(*args, **kwargs):
        raise AssertionError("read whole")

    monkeypatch.setattr(ingest, "read_bytes", refuse)
    for path in (plain, packed):
        got = ingest.read_log(path, lifecycle="events")
        pd.testing.assert_frame_equal(got.df, whole.df)
        assert (got.n_events, got.n_cases) == (whole.n_events, whole.n_cases) == (116, 39)
        assert got.report.source == path.name and got.report.rows_read == whole.report.rows_read == 117
        assert got.report.warnings == whole.report.warnings
        assert got.report.quarantined == whole.report.quarantined and [q.row for q in got.report.quarantined] == [32]
    for other in (csv, _doc()):
        with pytest.raises(AssertionError, match="read whole"):
            ingest.read_log(other)
    assert not ingest._local_xes(tmp_path / "missing.xes", 1 << 20)
    (tmp_path / "bad.xes.gz").write_bytes(b"\x1f\x8bnot gzip at all")
    assert not ingest._local_xes(tmp_path / "bad.xes.gz", 1 << 20)


def test_a_fifo_is_not_opened_by_the_stream(tmp_path: Path) -> None:
    """Opening a FIFO with no writer waits forever: the stream declines it from its stat, so ``read_log``
    sends it to ``read_bytes`` (which reads pipes with its usual cap)."""
    import processmining.ingest as ingest

    fifo = tmp_path / "log.xes"
    os.mkfifo(fifo)
    answer: list[object] = []
    worker = threading.Thread(target=lambda: answer.append(ingest._local_xes(fifo, 1 << 20)), daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert answer == [False]
    with pytest.raises(source.Declined):
        source.FileStream(fifo, 1 << 20)
