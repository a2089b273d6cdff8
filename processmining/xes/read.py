"""XES import and export: hardened, streaming, lossless.

:func:`read_xes` turns an IEEE XES file (``.xes`` or ``.xes.gz``) into an
:class:`~processmining.model.EventLog`; :func:`write_xes` writes one back.

Reading goes through :mod:`processmining.safe_input` (no URLs, bounded
gunzip, DOCTYPE entities refused, lxml without entity resolution, DTDs or
network) and streams with ``etree.iterparse``: one ``<trace>`` at a time is
held in memory, attribute values are collected as Python lists per
``(key, type)`` and typed in one vectorised step at the end.

Mapping to columns (the pm4py names):

* trace ``concept:name`` → ``case:concept:name``; other trace attributes →
  ``case:<key>`` columns;
* event attributes → one column per key, typed by the XES element:
  ``string``/``id`` → ``string``, ``int`` → ``Int64``, ``float`` →
  ``Float64``, ``boolean`` → ``boolean``, ``date`` → ``datetime64[UTC]``;
  a key written with different types in different events becomes a text
  column (warned);
* nested (meta-)attributes are flattened to ``<parent>/<child>`` columns,
  ``<list>`` and ``<container>`` values are kept as JSON text (warned);
* ``<extension>``, ``<global>``, ``<classifier>`` and log-level attributes
  are read and ignored.

Nothing is dropped silently: events without a case id, ``concept:name`` or a
readable ``time:timestamp`` are quarantined with their trace id and event
index; duplicate trace ids are kept as separate cases (``id#2``, ...) and
listed; empty traces are listed; unreadable non-timestamp values keep their
raw text in a ``<key> (raw)`` column and are listed in the warnings.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from typing import Any

from lxml import etree

from .. import safe_input
from ..errors import IngestError
from ..memory import release_freed_memory
from ..model import EventLog, ProgressFn, no_progress
from .assemble import assemble
from .lexer import scan_bytes, scan_stream
from .source import Declined, FileStream
from .values import CONTAINER_TYPES, Scan, local_name

__all__ = ["read_xes"]

#: below this many bytes of XML the streaming reader is as fast as the byte scan (:mod:`.lexer`)
FAST_SCAN_MIN_BYTES = 1024**2
#: the streamed read looks for the first <trace> in this many bytes (else the file is read whole)
_MAX_HEAD_BYTES = 64 * 1024**2
#: events between two progress calls
_PROGRESS_EVERY = 4096


# ======================================================================= reading
def _container_value(elem: etree._Element) -> Any:
    """A ``<list>``/``<container>`` (or nested attribute) as plain JSON-able data."""
    kind = local_name(elem.tag)
    children = list(elem)
    if kind == "list" and len(children) == 1 and local_name(children[0].tag) == "values":
        children = list(children[0])
    items = []
    for child in children:
        if local_name(child.tag) in CONTAINER_TYPES:
            items.append((child.get("key"), _container_value(child)))
        else:
            items.append((child.get("key"), child.get("value")))
    if kind == "list":
        return [v for _, v in items]
    return {str(k): v for k, v in items}


def _slot(store: dict, order: list, tag: str, key: str | None) -> tuple[list[int], list[str | None]]:
    """The (rows, values) lists of one (tag, key), created on first use."""
    by_key = store.setdefault(tag, {})
    slot = by_key.get(key)
    if slot is None:
        slot = by_key[key] = ([], [])
        order.append((tag, key))
    return slot


def _nested(attr: etree._Element, key: str, row: int, store: dict, order: list, scan: Scan) -> None:
    """Slow path for an attribute with child elements (rare): list/container or meta-attributes."""
    tag = attr.tag
    if local_name(tag) in CONTAINER_TYPES:
        text = json.dumps(_container_value(attr), ensure_ascii=False)
        rows, vals = _slot(store, order, tag, key)
        rows.append(row)
        vals.append(text)
        scan.flattened[f"<{local_name(tag)}> attribute {key!r} kept as JSON text"] = (
            scan.flattened.get(f"<{local_name(tag)}> attribute {key!r} kept as JSON text", 0) + 1
        )
        return
    rows, vals = _slot(store, order, tag, key)
    rows.append(row)
    vals.append(attr.get("value"))
    for child in attr:
        child_key = f"{key}/{child.get('key')}"
        msg = f"nested attribute under {key!r} flattened into column {child_key!r}"
        scan.flattened[msg] = scan.flattened.get(msg, 0) + 1
        _nested(child, child_key, row, store, order, scan)


def _syntax_error(exc: etree.XMLSyntaxError, label: str, data: bytes) -> IngestError:
    line, col = exc.position if exc.position else (None, None)
    msg = re.sub(r", line \d+, column \d+$", "", exc.msg or str(exc))
    if not line:  # iterparse may end with a summary at line 0 ("no element found"); the cause is the last
        # entry of its log (which may still hold errors of earlier documents)
        cause = next((e for e in reversed(exc.error_log) if e.line), None)
        if cause is not None:
            line, col, msg = cause.line, cause.column, cause.message
    if "Excessive depth" in msg:
        msg = "elements are nested deeper than 256 levels (refused to protect memory)"
    elif line is not None and _at_end(data, line, col):
        msg = f"the file ends early (truncated?); no partial log is returned: {msg}"
    return IngestError(
        f"not well-formed XML: {msg}" + (f" (column {col})" if col else ""),
        source=label,
        line=line,
    )


def _at_end(data: bytes, line: int, col: int | None) -> bool:
    """Whether a syntax error sits where the data stops (a truncated file)."""
    body = data.rstrip()
    if line < body.count(b"\n") + 1:
        return False
    last = body.rpartition(b"\n")[2].decode("utf-8", "replace")
    return col is None or col >= len(last)


_FIRST_TAG = re.compile(rb"<\s*([A-Za-z_][\w:.-]*)")


def _check_not_xml(data: bytes, label: str) -> None:
    """Refuse empty files and JSON with their own messages."""
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise IngestError("the file is empty; expected an XES document with root <log>", source=label)
    if stripped[:1] in (b"{", b"["):
        raise IngestError("this is JSON, not XES; expected an XML document with root <log>", source=label)


def _check_root(data: bytes, label: str) -> str | None:
    """Parse up to the first element and refuse a root other than <log> (e.g. HTML); the root's namespace."""
    source = io.BytesIO(data)
    parser = etree.iterparse(source, events=("start",), **safe_input.xml_parser_options())
    try:
        _, root = next(iter(parser))
    except StopIteration:
        raise IngestError("no XML element found; expected an XES document with root <log>", source=label) from None
    except etree.XMLSyntaxError as exc:
        # A broken document whose first tag is visibly not <log> (e.g. HTML): say so.
        head = data[:65536]
        head = re.sub(rb"<\?.*?\?>|<!--.*?-->|<![^>]*>", b"", head, flags=re.S)
        found = _FIRST_TAG.search(head)
        if found and found.group(1).decode("latin-1").rpartition(":")[2].lower() != "log":
            name = found.group(1).decode("latin-1")
            raise IngestError(f"root <{name}>, expected <log>", source=label) from None
        raise _syntax_error(exc, label, data) from None
    finally:  # the parser and its tree are reference cycles (freed by the next gc): closed, the source lets go of data
        source.close()
    local = local_name(root.tag)
    if local != "log":
        raise IngestError(f"root <{local}>, expected <log>", source=label, line=root.sourceline)
    return etree.QName(root).namespace


def _scan(data: bytes, label: str, progress: ProgressFn) -> Scan:
    """One streaming pass: collect raw attribute texts per (type, key)."""
    scan = Scan()
    ev_trace: list[int] = []
    ev_line: list[int] = []
    scan.ev_trace, scan.event_line = ev_trace, ev_line.__getitem__
    ev_values, tr_values = scan.ev_values, scan.tr_values
    locals_: dict[str, str] = {}
    total = len(data)
    source = io.BytesIO(data)
    root = None
    n_ev = 0
    next_progress = _PROGRESS_EVERY
    n_traces = 0
    parser = etree.iterparse(
        source, events=("start", "end"), tag=("{*}log", "{*}trace"), **safe_input.xml_parser_options()
    )
    try:
        for action, elem in parser:
            if action == "start":
                if root is None:
                    root = elem
                elif elem.getparent() is not root or local_name(elem.tag) != "trace":
                    where = local_name(elem.getparent().tag) if elem.getparent() is not None else "document"
                    raise IngestError(
                        f"<{local_name(elem.tag)}> inside <{where}>; XES allows it only directly under <log>",
                        source=label,
                        line=elem.sourceline,
                    )
                continue
            if elem is root:
                _refuse_stray_events(list(root), label)
                break
            ti = n_traces
            n_traces += 1
            for child in elem:
                ctag = child.tag
                loc = locals_.get(ctag)
                if loc is None:
                    loc = locals_[ctag] = local_name(ctag)
                if loc == "event":
                    ev_trace.append(ti)
                    ev_line.append(child.sourceline)
                    for attr in child:
                        key = attr.get("key")
                        if key is None and local_name(attr.tag) == "event":
                            raise IngestError("<event> inside <event>; XES allows events only directly under "
                                              "<trace> (the file is refused rather than losing the inner event)",
                                              source=label, line=attr.sourceline)
                        if len(attr):
                            _nested(attr, key, n_ev, ev_values, scan.ev_order, scan)
                            continue
                        by_key = ev_values.get(attr.tag)
                        slot = None if by_key is None else by_key.get(key)
                        if slot is None:
                            slot = _slot(ev_values, scan.ev_order, attr.tag, key)
                        slot[0].append(n_ev)
                        slot[1].append(attr.get("value"))
                    n_ev += 1
                else:
                    key = child.get("key")
                    if len(child):
                        _nested(child, key, ti, tr_values, scan.tr_order, scan)
                    else:
                        rows, vals = _slot(tr_values, scan.tr_order, ctag, key)
                        rows.append(ti)
                        vals.append(child.get("value"))
            elem.clear()
            previous = elem.getprevious()
            if previous is not None:
                _refuse_stray_events(list(root)[: root.index(elem)], label)
                while elem.getprevious() is not None:
                    del root[0]
            if n_ev >= next_progress:
                progress(source.tell(), total, "reading XES")
                next_progress = n_ev + _PROGRESS_EVERY
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc, label, data) from None
    scan.n_events, scan.n_traces = n_ev, n_traces
    progress(total, total, "reading XES")
    return scan


def _refuse_stray_events(siblings: list, label: str) -> None:
    for el in siblings:
        if isinstance(el.tag, str) and local_name(el.tag) == "event":
            raise IngestError("<event> outside any <trace>; not valid XES", source=label, line=el.sourceline)


def read_xes(
    source: str | os.PathLike | bytes | safe_input.InputBytes,
    *,
    name: str | None = None,
    progress: ProgressFn = no_progress,
    max_bytes: int = safe_input.MAX_INPUT_BYTES,
) -> EventLog:
    """Read an XES event log (``.xes`` or ``.xes.gz``, gzip detected by content) safely.

    Returns an :class:`EventLog` with one row per usable ``<event>``: columns
    ``case:concept:name``, ``concept:name``, ``time:timestamp`` (UTC),
    ``org:resource`` and ``lifecycle:transition`` when present, every other
    event attribute with its XES type, trace attributes as ``case:<key>``,
    plus ``@@index`` (0-based input order) and ``@@source_row`` (1-based
    position of the ``<event>`` element in the file). ``log.report`` is an
    :class:`IngestReport` with shape ``"xes"`` in which ``rows_read`` counts
    ``<event>`` elements and every event not in the log is quarantined with
    its trace id and event index.

    Raises :class:`~processmining.errors.IngestError` (or its subclass
    ``UnsafeInputError``) naming the file and line when the document cannot
    be used at all: URL paths, entity declarations, decompression bombs,
    malformed or truncated XML, a root other than ``<log>``.

    >>> log = read_xes("running-example.xes")          # doctest: +SKIP
    >>> log.n_events, log.n_cases                      # doctest: +SKIP
    (42, 6)

    ``source`` may also be the :class:`~processmining.safe_input.InputBytes`
    a caller has already read (so a sniffing reader does not read twice).
    """
    if isinstance(source, (str, os.PathLike)) and (log := _read_streamed(source, name, progress, max_bytes)):
        return log
    if isinstance(source, safe_input.InputBytes):
        blob = source
    else:
        blob = safe_input.read_bytes(source, name=name, max_bytes=max_bytes)
    label = blob.name
    data = blob.data
    release_freed_memory()  # e.g. what decompressing the file left
    _check_not_xml(data, label)
    safe_input.check_xml_prolog(data, label)
    namespace = _check_root(data, label)
    scan = scan_bytes(data, namespace, progress) if len(data) >= FAST_SCAN_MIN_BYTES else None
    if scan is None:  # not in the common shape, or not well-formed: the streaming reader (and its messages)
        scan = _scan(data, label, progress)
    else:
        progress(len(data), len(data), "reading XES")
    release_freed_memory()  # the scan's working arrays
    return assemble(scan, label, blob.sha256)


def _read_streamed(path: str | os.PathLike, name: str | None, progress: ProgressFn, max_bytes: int) -> EventLog | None:
    """A local file in the common shape, byte-scanned as it is read and gunzipped; None for any other file.

    The decompressed XML is never in memory at once (a few chunks of it are).
    None - the file is then read whole by :func:`read_xes` - for what this
    path does not handle plainly: no regular file, over ``max_bytes``,
    corrupt gzip data (:mod:`.source`), a header other than the plain one,
    a file below ``FAST_SCAN_MIN_BYTES``, not the common shape, or not
    well-formed. So every problem gets the same message as before.
    """
    if max_bytes < FAST_SCAN_MIN_BYTES:  # no file is read by the byte scan
        return None
    try:
        stream = FileStream(path, max_bytes)
    except Declined:
        return None
    label = safe_input.display_name(path, name)
    with stream:
        pieces = stream.pieces()
        try:
            parts: list[bytes] = []
            size, found = 0, False
            for piece in pieces:  # up to the first <trace>, and at least FAST_SCAN_MIN_BYTES
                found = found or b"<trace>" in (parts[-1][-8:] if parts else b"") + piece
                parts.append(piece)
                size += len(piece)
                if (found and size >= FAST_SCAN_MIN_BYTES) or size > _MAX_HEAD_BYTES:
                    break
            else:
                return None  # a small file: the streaming reader reads it as fast
            if not found:
                return None
            head = b"".join(parts)
            del parts, piece
            try:
                _check_not_xml(head, label)
                safe_input.check_xml_prolog(head, label)  # the prolog ends before the first <trace>
                namespace = _check_root(head, label)
            except IngestError:
                return None
            parts = [head]
            del head  # handed over: scan_stream lets it go with its first chunk
            scan = scan_stream(parts.pop(), pieces, namespace, lambda: progress(stream.done, stream.size, "reading XES"),
                               lambda: _reread(path, max_bytes, stream.sha256(), label))
        except Declined:
            return None
        if scan is None:
            return None
        progress(stream.size, stream.size, "reading XES")
        release_freed_memory()  # the chunks' working arrays
        return assemble(scan, label, stream.sha256())


def _reread(path: str | os.PathLike, max_bytes: int, sha256: str, label: str) -> Iterator[bytes]:
    """The file's XML pieces once more (to count lines for the report), refused if the file has changed."""
    changed = IngestError("the file changed while it was read; read it again", source=label)
    try:
        with FileStream(path, max_bytes) as again:
            yield from again.pieces()
            if again.sha256() != sha256:
                raise changed
    except Declined:
        raise changed from None
