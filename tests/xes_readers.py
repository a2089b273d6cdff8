"""Run a test through both XES readers: the streaming lxml reader and the byte scan.

``processmining.xes.read_xes`` scans files of the common shape with
:mod:`processmining.xes.lexer` (above ``FAST_SCAN_MIN_BYTES``) and everything
else with the streaming reader; both must give the same log, problems and
messages. A module that uses the ``xes_reader`` fixture (``pytestmark =
pytest.mark.usefixtures("xes_reader")``) runs each test twice, with the
threshold at 0 (byte scan whenever the shape allows; with chunks of
``CHUNK_BYTES_IN_TESTS`` bytes, so that chunk boundaries fall inside every
test document) and out of reach (streaming only). ``xes_reader.byte_scans``
records, per byte scan tried (of bytes in memory, or of a file as it is read:
:func:`processmining.xes.lexer.scan_stream`), whether it produced the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from processmining.xes import lexer
from processmining.xes import read as xes_read

#: chunk size of the byte scan in the tests: a chunk ends after a </trace>, so most tests get several
CHUNK_BYTES_IN_TESTS = 256


@dataclass
class Reader:
    name: str
    byte_scans: list[bool] = field(default_factory=list)


@pytest.fixture(params=["streaming", "byte scan"])
def xes_reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Reader:
    reader = Reader(request.param)
    monkeypatch.setattr(xes_read, "FAST_SCAN_MIN_BYTES", 0 if reader.name == "byte scan" else 1 << 62)
    scan_bytes = xes_read.scan_bytes

    def recording(data: bytes, namespace: str | None, progress=None):  # noqa: ANN001, ANN202
        result = scan_bytes(data, namespace, *([progress] if progress else []))
        reader.byte_scans.append(result is not None)
        return result

    monkeypatch.setattr(xes_read, "scan_bytes", recording)
    scan_stream = xes_read.scan_stream

    def recording_stream(head: bytes, rest, namespace: str | None, progress=None):  # noqa: ANN001, ANN202
        result = scan_stream(head, rest, namespace, *([progress] if progress else []))
        reader.byte_scans.append(result is not None)
        return result

    monkeypatch.setattr(xes_read, "scan_stream", recording_stream)
    if reader.name == "byte scan":
        monkeypatch.setattr(lexer, "CHUNK_BYTES", CHUNK_BYTES_IN_TESTS)
    return reader
