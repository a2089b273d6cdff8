"""Reading the BPMN files modelling tools really write: wrong encodings and odd namespace declarations.

Some tools declare one encoding and write bytes of another (Latin-1 names in a
file that says UTF-8), or declare a namespace whose value is not a URI
(``xmlns:x="my namespace"``). The XML parser refuses both; the tools that wrote
the files read them back. :func:`parse_bpmn_xml` repairs exactly these two
faults, says so per line, and parses the repaired bytes through the same
hardened :func:`processmining.safe_input.parse_xml` (entities, DTDs, size and
nesting limits stay refused: nothing is decoded or expanded that the parser
would not have refused anyway).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from lxml import etree

from ..errors import IngestError
from ..safe_input import parse_xml

_DECL = re.compile(rb"""^(\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_LATIN = {"iso-8859-1", "latin-1", "latin1", "iso8859-1", "windows-1252", "cp1252", "us-ascii", "ascii"}
#: at most this many repairs (each one names its line in the report)
MAX_FIXES = 50


def parse_bpmn_xml(data: bytes, source: str) -> tuple[etree._Element, list[str]]:
    """Parse BPMN XML safely; returns the root and the warnings of the repairs made (each names its line)."""
    warnings: list[str] = []
    data = _utf8_declared_latin(data, warnings)
    for _ in range(MAX_FIXES):
        try:
            return parse_xml(data, source, expected_roots=("definitions",)), warnings
        except IngestError as exc:
            fixed = _repair(data, exc, warnings)
            if fixed is None:
                raise
            data = fixed
    return parse_xml(data, source, expected_roots=("definitions",)), warnings


def _declared(data: bytes) -> str:
    m = _DECL.match(data[:400])
    return m.group(2).decode("ascii").lower() if m else "utf-8"


def _utf8_declared_latin(data: bytes, warnings: list[str]) -> bytes:
    """A file that declares Latin-1 but whose non-ASCII bytes are all valid UTF-8 sequences is UTF-8."""
    enc = _declared(data)
    if enc not in _LATIN or data.isascii():
        return data
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    first = next(i for i, b in enumerate(data) if b > 127)
    line = data.count(b"\n", 0, first) + 1
    warnings.append(f"line {line}: the file declares encoding {enc!r} but its non-ASCII "
                    "bytes are UTF-8 (as the tool wrote them): read as UTF-8")
    return _set_utf8(data)


def _set_utf8(data: bytes) -> bytes:
    m = _DECL.match(data[:400])
    if not m:
        return data
    start, end = m.span(2)
    return data[:start] + b"UTF-8" + data[end:]


def _repair(data: bytes, exc: IngestError, warnings: list[str]) -> bytes | None:
    msg = exc.message
    if "Invalid bytes in character encoding" in msg or "not proper UTF-8" in msg:
        return _redecode(data, warnings)
    ns = re.search(r"xmlns(?::([\w.-]+))?: (?:'(.*)' is not a valid URI|Empty XML namespace is not allowed)", msg)
    if ns and exc.line is not None:
        return _fix_namespace(data, exc.line, ns.group(1), warnings)
    return None


def _redecode(data: bytes, warnings: list[str]) -> bytes | None:
    """Decode line by line: lines not valid in the declared encoding are read as Windows-1252."""
    enc = _declared(data)
    if enc not in ("utf-8", "utf8") or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return None
    out: list[str] = []
    bad: list[int] = []
    for no, line in enumerate(data.split(b"\n"), start=1):
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            try:
                out.append(line.decode("cp1252"))
            except UnicodeDecodeError:
                out.append(line.decode("latin-1"))
            bad.append(no)
    if not bad:
        return None
    more = f" (and {len(bad) - 1} more line(s): {', '.join(map(str, bad[1:6]))}{' ...' if len(bad) > 6 else ''})" \
        if len(bad) > 1 else ""
    warnings.append(f"line {bad[0]}: bytes that are not valid {enc.upper()} (the declared encoding){more}: read "
                    "as Windows-1252 (Latin-1), as the tool that wrote the file did")
    return _set_utf8("\n".join(out).encode("utf-8"))


def _fix_namespace(data: bytes, line_no: int, prefix: str | None, warnings: list[str]) -> bytes | None:
    """Replace the value of one namespace declaration that is not a URI by a URN that keeps it readable."""
    lines = data.split(b"\n")
    if not 1 <= line_no <= len(lines):
        return None
    attr = b"xmlns" + (b":" + prefix.encode() if prefix else b"")
    pat = re.compile(rb"(\s" + re.escape(attr) + rb"\s*=\s*)([\"'])(.*?)\2", re.DOTALL)
    # the parser reports the line where the start tag ends; the declaration may sit a few lines above
    for i in range(line_no - 1, max(line_no - 200, 0) - 1, -1):
        m = pat.search(lines[i])
        if m:
            value = m.group(3).decode("utf-8", errors="replace")
            urn = "urn:x-invalid-namespace:" + quote(value, safe="")
            lines[i] = lines[i][: m.start(3)] + urn.encode() + lines[i][m.end(3):]
            warnings.append(f"line {i + 1}: namespace declaration {attr.decode()}={value!r} is not a valid URI: "
                            f"read as {urn!r} (elements in it are vendor extensions and are skipped)")
            return b"\n".join(lines)
    return None
