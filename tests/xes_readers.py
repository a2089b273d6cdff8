"""Run a test through both XES readers: the streaming lxml reader and the byte scan.

``processmining.xes.read_xes`` scans files of the common shape with
:mod:`processmining.xes.lexer` (above ``FAST_SCAN_MIN_BYTES``) and everything
else with the streaming reader; both must give the same log, problems and
messages. A module that uses the ``xes_reader`` fixture (``pytestmark =
pytest.mark.usefixtures("xes_reader")``) runs each test twice, with the
threshold at 0 (byte scan whenever the shape allows) and out of reach
(streaming only). ``xes_reader.byte_scans`` records, per ``read_xes`` call,
whether the byte scan produced the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from processmining.xes import read as xes_read


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
    return reader
