"""The fast XES scan: the bytes of a file in the shape XES writers produce, read with numpy and Arrow.

OpenXES, ProM, pm4py and this project write the traces of a log as
``<trace>``, ``<event>``, ``</event>``, ``</trace>`` and self-closing
attributes ``<string key="..." value="..."/>`` (one of the six simple types),
separated by whitespace. :func:`scan_bytes` reads such a file without a Python
step per element: every ``<`` after the log's header is classified at once by
comparing the bytes that follow it with those few token shapes, keys and
values are cut out of the one byte buffer as Arrow arrays (by the positions of
their quotes: a ``"``-quoted XML attribute value holds no ``"`` and no ``<``),
and the nesting is a running sum of opened minus closed elements.

It is exact, never a guess: it returns ``None`` (and the caller uses the
streaming lxml reader, :func:`processmining.xes.read._scan`) for anything
else — a DOCTYPE, a comment, CDATA or processing instruction among the
traces, a prefix or namespace declaration on a trace element, attributes in
another order or quoting, nested or container attributes, an element in a
place XES does not allow it, an encoding other than UTF-8, lone CR line ends.
Well-formedness is still checked by libxml2 (the same hardened options as
the streaming reader, in a thread that runs while the bytes are scanned:
libxml2 releases the GIL); when it fails, the caller re-reads with the
streaming reader, which raises its usual error with the line. So both paths
give the same log, the same problems and the same messages - with one
deliberate difference: past line 65,535 libxml2 no longer knows an element's
own line and lxml reports the line of its first child (for a pretty-printed
``<event>``, the line after it); the byte scan counts newlines and names the
``<event>``'s own line.
"""

from __future__ import annotations

import itertools
import queue
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from lxml import etree

from .. import safe_input
from ..memory import release_freed_memory
from ..model import ProgressFn, no_progress
from .values import Scan

__all__ = ["scan_bytes", "Validation"]

#: the six simple attribute types, in the order of their codes below
_TYPES = ("string", "date", "int", "float", "boolean", "id")
# token codes: 0-5 the attribute types, then the structural tags
_TRACE, _END_TRACE, _EVENT, _END_EVENT, _END_LOG, _OTHER = 6, 7, 8, 9, 10, 11
_FIXED = ((b"<trace>", _TRACE), (b"</trace>", _END_TRACE), (b"<event>", _EVENT), (b"</event>", _END_EVENT),
          (b"</log>", _END_LOG))
_ATTR_HEADS = tuple((f'<{t} key="'.encode(), code) for code, t in enumerate(_TYPES))
_VALUE_SEP = b'" value="'
_ATTR_ENDS = (b'"/>', b'" />')  # OpenXES writes the first, pm4py the second

#: the markup allowed before the first <trace>: tags (group 1: "/" of an end tag, group 2: "/" of an
#: empty element), comments and processing instructions (group 3); group 4: any other "<" (DOCTYPE,
#: CDATA, a comment that does not end before the first <trace>, ...)
_HEAD_TOKEN = re.compile(
    rb"""<(/?)[^\s/>!?][^\s/>]*(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>
    | (<!--.*?-->|<\?.*?\?>)
    | (<)""",
    re.S | re.X,
)
_XML_DECL = re.compile(rb"(?:\xef\xbb\xbf)?<\?xml\s[^>]*?\bencoding\s*=\s*[\"']([^\"']*)[\"']")
_OTHER_TRACE_OR_EVENT = re.compile(rb"<(?:[^\s/>!?]*:)?(?:trace|event)[\s/>]")
_CHAR_REF = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_LABEL = "reading XES"
#: feed size for the libxml2 check: one feed of a big buffer hits its buffer limit
_FEED = 1 << 18
#: bytes of XML scanned at a time (a chunk ends after a ``</trace>``; a longer trace is a chunk of its own):
#: the scan's working arrays take a few times this, whatever the size of the file
CHUNK_BYTES = 1 << 20
#: chunks scanned between two hand-backs of freed memory (each costs about 1 ms and the pages fault in again)
RELEASE_EVERY = 4


class _NoTarget:
    """A parser target without callbacks: libxml2 checks the document and builds nothing."""

    def close(self) -> None:
        return None


class Validation:
    """libxml2's well-formedness check, run in a thread (libxml2 does not hold the GIL).

    Of ``data`` when given; else of the pieces passed to :meth:`feed`, in order
    (a few are queued: the check keeps pace with the scan, not the whole file).
    """

    def __init__(self, data: bytes | None = None) -> None:
        self._queue: queue.Queue[bytes | None] | None = None if data is not None else queue.Queue(maxsize=1)
        self._ok = False
        self._thread = threading.Thread(target=self._run, args=(data,), name="xes-check", daemon=True)
        self._thread.start()

    def _pieces(self, data: bytes | None) -> Iterator[bytes]:
        if data is not None:
            yield from (data[start : start + _FEED] for start in range(0, len(data), _FEED))
            return
        assert self._queue is not None
        while (piece := self._queue.get()) is not None:
            yield from (piece[start : start + _FEED] for start in range(0, len(piece), _FEED))

    def _run(self, data: bytes | None) -> None:
        parser = etree.XMLParser(target=_NoTarget(), **safe_input.xml_parser_options())
        pieces = self._pieces(data)
        try:
            for piece in pieces:
                parser.feed(piece)
            parser.close()
        except (etree.LxmlError, TypeError, ValueError):
            for _ in pieces:  # not well-formed: take the rest without parsing it, so no feed() waits
                pass
            return
        self._ok = True

    def feed(self, piece: bytes) -> None:
        """The next bytes of the document (without ``data``)."""
        assert self._queue is not None
        self._queue.put(piece)

    def ok(self) -> bool:
        """Wait for the check (the document ends here); whether libxml2 found it well-formed."""
        if self._queue is not None:
            self._queue.put(None)
        self._thread.join()
        return self._ok


def _header_end(data: bytes) -> int | None:
    """Offset of the first ``<trace>`` directly under the root, or None when the header is not plain."""
    if b"\x00" in data[:4096]:  # UTF-16 / UTF-32
        return None
    decl = _XML_DECL.match(data)
    if decl and decl.group(1).lower() not in (b"utf-8", b"utf8"):
        return None
    start = data.find(b"<trace>")
    if start < 0:
        return None
    head = data[:start]
    if _OTHER_TRACE_OR_EVENT.search(head):  # an event or a trace of another shape before it: the slow path
        return None
    counts = Counter((close, empty, bool(other), bool(odd)) for close, empty, other, odd in _HEAD_TOKEN.findall(head))
    opened = counts[(b"", b"", False, False)]
    closed = counts[(b"/", b"", False, False)]
    odd = sum(n for (_, _, _, is_odd), n in counts.items() if is_odd)
    # only the root is open at the first <trace>: it stands directly under <log>, outside any comment
    return start if not odd and opened - closed == 1 else None


class _Words:
    """The 8 bytes that start at given offsets of ``data``, as little-endian integers (one gather each)."""

    def __init__(self, data: bytes) -> None:
        n = len(data)
        self._n = n
        self._tail_start = max(n - 16, 0)
        # unaligned overlapping view: element i = bytes i .. i+7
        self._view = (np.ndarray(shape=(n - 7,), dtype="<u8", buffer=data, strides=(1,)) if n >= 8
                      else np.zeros(0, dtype="<u8"))
        tail = bytes(data[self._tail_start :]) + bytes(24)
        self._tail = np.ndarray(shape=(len(tail) - 7,), dtype="<u8", buffer=tail, strides=(1,))

    def at(self, pos: np.ndarray) -> np.ndarray:
        """The words at ``pos`` (ascending offsets)."""
        inner = int(np.searchsorted(pos, self._tail_start))  # the last 16 bytes: from a zero-padded copy
        out = np.empty(len(pos), dtype="<u8")
        out[:inner] = self._view[pos[:inner]]
        out[inner:] = self._tail[np.minimum(pos[inner:] - self._tail_start, len(self._tail) - 1)]
        return out


def _positions(arr: np.ndarray, byte: bytes, start: int = 0, block: int = 1 << 23) -> np.ndarray:
    """Offsets of ``byte`` in ``arr[start:]``, found block by block (no mask as large as the file)."""
    code = byte[0]
    found = [np.flatnonzero(arr[lo : lo + block] == code) + lo for lo in range(start, len(arr), block)]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _matches(pattern: bytes, first: np.ndarray, second: np.ndarray | None = None) -> np.ndarray:
    """Whether ``pattern`` (up to 16 bytes) stands where the words ``first`` (and ``second``, 8 bytes on) start."""
    ok = np.ones(len(first), dtype=bool)
    for part, word in ((pattern[:8], first), (pattern[8:16], second)):
        if not part:
            continue
        value, mask = int.from_bytes(part, "little"), (1 << (8 * len(part))) - 1
        ok &= ((word if mask == (1 << 64) - 1 else word & np.uint64(mask)) == np.uint64(value))
    return ok


def _slices(buf: pa.Buffer, starts: np.ndarray, stops: np.ndarray) -> pa.Array:
    """``data[starts[i]:stops[i]]`` for ordered, non-overlapping slices, as one Arrow binary array (C copies)."""
    n = len(starts)
    if n == 0:
        return pa.array([], type=pa.large_binary())
    offsets = np.empty(2 * n, dtype=np.int64)
    offsets[0::2], offsets[1::2] = starts, stops
    # elements 0, 2, 4, ... are the slices; 1, 3, ... the bytes between them
    spans = pa.LargeBinaryArray.from_buffers(pa.large_binary(), 2 * n - 1, [None, pa.py_buffer(offsets), buf])
    return spans.take(pa.array(np.arange(0, 2 * n, 2, dtype=np.int64)))


def _unescape(text: str) -> str:
    return _CHAR_REF.sub(lambda m: _NAMED.get(m.group(1)) or chr(int(m.group(1)[2:], 16) if m.group(1)[1] == "x"
                                                                  else int(m.group(1)[1:])), text)


def _as_text(raw: pa.Array) -> pa.Array | None:
    """Attribute value bytes as XML gives them: UTF-8, literal whitespace normalised, references decoded."""
    try:
        text = raw.cast(pa.large_string())
    except pa.ArrowInvalid:  # not UTF-8: libxml2 refuses the file and the slow path says where
        return None
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[text.offset : text.offset + len(text) + 1]
    body = np.frombuffer(text.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    hits = np.flatnonzero((body == ord("&")) | (body == ord("\t")) | (body == ord("\n")) | (body == ord("\r")))
    special = np.unique(np.searchsorted(offsets, hits + offsets[0], side="right") - 1)
    if not len(special):
        return text
    fixed = []
    for value in text.take(pa.array(special)).to_pylist():
        # XML: line ends become LF, then each literal tab / LF is a space; a reference stays what it denotes
        value = re.sub(r"[\t\n]", " ", value.replace("\r\n", "\n").replace("\r", "\n"))
        fixed.append(_unescape(value))
    where = np.arange(len(text), dtype=np.int64)
    where[special] = len(text) + np.arange(len(special))
    return pa.concat_arrays([text, pa.array(fixed, type=pa.large_string())]).take(pa.array(where))


def scan_bytes(data: bytes, namespace: str | None, progress: ProgressFn = no_progress) -> Scan | None:
    """Scan an XES document of the common shape; None when it is not of that shape or not well-formed.

    ``namespace`` is the root's default namespace (the tags are reported as
    ``{namespace}string`` like lxml does). ``progress`` is called between the
    steps with an estimate of the bytes done (it may raise to cancel).
    """
    start = _header_end(data)
    if start is None:
        return None
    if not _plain_line_ends(data):
        return None
    check = Validation(data)  # libxml2, on the other core, while the bytes are scanned
    scan = _scan(data, start, namespace, progress)
    return scan if check.ok() and scan is not None else None


def scan_stream(head: bytes, rest: Iterable[bytes], namespace: str | None,
                progress: Callable[[], None] = lambda: None,
                reread: Callable[[], Iterable[bytes]] | None = None) -> Scan | None:
    """:func:`scan_bytes` of a document given as its first bytes and the pieces that follow.

    ``head`` must hold the first ``<trace>`` (all of it). Only a few chunks of
    the document are in memory at a time: each piece goes to libxml2's check
    and to the scan, and is dropped. ``progress`` is called once per chunk.
    ``reread`` gives the document's pieces again: lines are counted from them
    only when an event's line is asked for (without it, the pieces are kept).
    A caller that passes ``head`` without keeping it (``scan_stream(parts.pop(), ...)``) lets it go with the
    first chunk.
    """
    start = _header_end(head)
    if start is None or not _plain_line_ends(head[:start]):
        return None
    check = Validation()
    try:
        check.feed(head[:start])
        into = _Collected(namespace)
        offset = start
        kept: list[bytes] = [head[:start]]
        chunks = _chunks(head[start:], rest)
        del head  # the caller hands it over: its traces are in the first chunk now
        for n_chunks, (chunk, last) in enumerate(chunks, 1):
            progress()
            if not _plain_line_ends(chunk):
                return None
            check.feed(chunk)
            if reread is None:
                kept.append(chunk)
            if not into.add(memoryview(chunk), offset, lambda f: None, last=last):
                return None
            offset += len(chunk)
            del chunk
            if n_chunks % RELEASE_EVERY == 0:  # the last chunks' working arrays, before the next ones are allocated
                release_freed_memory()
    finally:
        well_formed = check.ok()  # also when the scan stopped early (the thread ends either way)
    if not well_formed:
        return None
    return into.scan(lambda positions: line_numbers(reread() if reread is not None else kept, positions))


def line_numbers(pieces: Iterable[bytes], positions: np.ndarray) -> np.ndarray:
    """The 1-based line at each of ``positions`` (ascending byte offsets) of the document read as ``pieces``."""
    out = np.zeros(len(positions), dtype=np.int64)
    offset, newlines = 0, 0
    for piece in pieces:
        at = np.searchsorted(positions, [offset, offset + len(piece)])
        if at[1] > at[0]:
            found = _positions(np.frombuffer(piece, dtype=np.uint8), b"\n")
            out[at[0] : at[1]] = np.searchsorted(found, positions[at[0] : at[1]] - offset) + newlines + 1
            newlines += len(found)
        else:
            newlines += piece.count(b"\n")
        offset += len(piece)
    return out


def _plain_line_ends(data: bytes) -> bool:
    """No lone CR (a CR not followed by LF): with those, lines are counted otherwise."""
    return b"\r" not in data or data.count(b"\r") == data.count(b"\r\n")


def _chunks(first: bytes, rest: Iterable[bytes]) -> Iterator[tuple[bytes, bool]]:
    """The pieces ``first`` + ``rest`` regrouped into chunks that end after a ``</trace>``; (chunk, is last)."""
    # no name in this frame keeps a piece, the joined pieces or a chunk while the chunk is scanned: each
    # is freed as soon as it is used
    parts, size = [first], len(first)
    del first
    for piece in rest:
        parts.append(piece)
        size += len(piece)
        del piece
        if size >= CHUNK_BYTES:
            joined = [b"".join(parts)]
            parts.clear()
            cut = joined[0].rfind(b"</trace>")
            if cut < 0:  # one trace longer than a chunk: wait for its end
                parts, size = joined, len(joined[0])
                continue
            cut += len(b"</trace>")
            parts, size = [joined[0][cut:]], len(joined[0]) - cut
            yield joined.pop()[:cut], False
    yield b"".join(parts), True


def _chunk_end(data: bytes, pos: int) -> int:
    """Where the chunk from ``pos`` ends: after the last ``</trace>`` within ``CHUNK_BYTES`` (or the next one)."""
    if len(data) - pos <= CHUNK_BYTES:
        return len(data)
    cut = data.rfind(b"</trace>", pos, pos + CHUNK_BYTES)
    if cut < 0:  # one trace longer than a chunk: it is a chunk of its own
        cut = data.find(b"</trace>", pos + CHUNK_BYTES)
    return len(data) if cut < 0 else cut + len(b"</trace>")


def _scan(data: bytes, start: int, namespace: str | None, progress: ProgressFn = no_progress) -> Scan | None:
    """The vectorised scan of the traces, from the first ``<trace>`` at ``start``, chunk by chunk.

    Each chunk ends after a ``</trace>``, so no token straddles two chunks; the
    working arrays (token and quote positions, keys, the words at each ``<``)
    exist for one chunk at a time, and only the values, grouped per
    (type, key), are kept.
    """
    total = len(data)
    view = memoryview(data)
    into = _Collected(namespace)
    pos = start
    while pos < total:
        stop = _chunk_end(data, pos)
        if not into.add(view[pos:stop], pos,
                        lambda f, a=pos, b=stop: progress(a + int((b - a) * f), total, _LABEL), last=stop == total):
            return None
        pos = stop
    return into.scan(lambda positions: line_numbers([data], positions))


class _Collected:
    """What the chunks scanned so far hold: values per (tag, key), rows numbered across chunks."""

    def __init__(self, namespace: str | None) -> None:
        self.prefix = f"{{{namespace}}}" if namespace else ""
        self.n_events = self.n_traces = 0
        self.ev_trace: list[np.ndarray] = []
        self.ev_pos: list[np.ndarray] = []  # byte offset of each <event> in the document
        #: tag -> key -> (rows chunks, texts chunks), and the (tag, key) order of first appearance
        self.stores: tuple[dict, dict] = ({}, {})
        self.orders: tuple[list, list] = ([], [])

    def add(self, chunk: memoryview, offset: int, progress: Callable[[float], None], *, last: bool) -> bool:
        """Scan one chunk (from byte ``offset`` of the document to after a ``</trace>``, or to the document's
        end); False: not the shape."""
        progress(0.0)
        arr = np.frombuffer(chunk, dtype=np.uint8)
        words = _Words(chunk)
        lt = _positions(arr, b"<")
        kind = np.full(len(lt), _OTHER, dtype=np.int8)
        first, second = words.at(lt), words.at(lt + 8)  # the 16 bytes from each '<'
        for pattern, code in _FIXED + _ATTR_HEADS:
            kind[_matches(pattern, first, second)] = code
        del first, second
        ends = np.flatnonzero(kind == _END_LOG)
        if last != bool(len(ends)):  # </log> only (and always) in the last chunk
            return False
        n_tok = int(ends[0]) if last else len(kind)  # tokens after the root's end tag are libxml2's business
        kind, lt = kind[:n_tok], lt[:n_tok]
        if (kind == _OTHER).any():
            return False
        delta = ((kind == _TRACE) | (kind == _EVENT)).astype(np.int8) - ((kind == _END_TRACE) | (kind == _END_EVENT))
        depth = np.cumsum(delta, dtype=np.int64) + 1 - delta  # depth before each token; 1 = directly in <log>
        is_attr = kind < len(_TYPES)
        expected = ((_TRACE, 1), (_END_TRACE, 2), (_EVENT, 2), (_END_EVENT, 3))
        if any(((kind == code) & (depth != d)).any() for code, d in expected) or (is_attr & (depth < 2)).any() \
                or delta.sum(dtype=np.int64) != 0:  # traces and events elsewhere, log attributes after the
            return False  # traces, unclosed tags (each chunk ends after a whole trace)
        # ---- attributes: key from after `key="` to the next quote, then `" value="`, the value, `"/>`
        a_pos = lt[is_attr]
        a_kind = kind[is_attr]
        head_len = np.array([len(p) for p, _ in _ATTR_HEADS], dtype=np.int64)
        key_start = a_pos + head_len[a_kind]
        quotes = _positions(arr, b'"')
        qi = np.searchsorted(quotes, key_start)
        if len(qi) and qi[-1] + 2 >= len(quotes):
            return False
        key_end = quotes[qi]
        value_start = key_end + len(_VALUE_SEP)
        value_end = quotes[qi + 2]
        ok_quotes = (quotes[qi + 1] == value_start - 1).all()
        del quotes, qi
        tail = words.at(value_end)
        if not (ok_quotes and _matches(_VALUE_SEP, words.at(key_end), words.at(key_end + 8)).all()
                and (_matches(_ATTR_ENDS[0], tail) | _matches(_ATTR_ENDS[1], tail)).all()):
            return False
        del tail, words
        buf = pa.py_buffer(chunk)
        progress(0.5)
        keys = _as_text(_slices(buf, key_start, key_end))
        values = _as_text(_slices(buf, value_start, value_end))
        if keys is None or values is None:
            return False
        del key_start, key_end, value_start, value_end
        # ---- rows: each attribute belongs to the event (depth 3) or trace (depth 2) it stands in
        is_trace, is_event = kind == _TRACE, kind == _EVENT
        trace_no = np.cumsum(is_trace, dtype=np.int64) - 1 + self.n_traces
        event_no = np.cumsum(is_event, dtype=np.int64) - 1 + self.n_events
        on_event = depth[is_attr] == 3
        # int32 while rows fit (they are kept until the log is built): half the memory
        a_row = np.where(on_event, event_no[is_attr], trace_no[is_attr]).astype(
            np.int32 if self.n_events + len(kind) < 2**31 else np.int64)
        event_pos = lt[is_event]
        self.ev_trace.append(trace_no[is_event])
        self.ev_pos.append(event_pos + offset)
        del trace_no, event_no, lt, kind, depth
        self.n_events += len(event_pos)
        self.n_traces += int(is_trace.sum())
        key_codes = pc.dictionary_encode(keys)
        key_names = key_codes.dictionary.to_pylist()
        progress(0.75)
        n_codes = len(key_names) * len(_TYPES)
        # small ints: a radix sort
        slot_code = (key_codes.indices.to_numpy().astype(np.int32) * len(_TYPES) + a_kind).astype(
            np.int16 if n_codes < 2**15 else np.int32)
        del key_codes, keys
        for level, store, order in ((on_event, self.stores[0], self.orders[0]),
                                    (~on_event, self.stores[1], self.orders[1])):
            sel = np.flatnonzero(level)
            if not len(sel):
                continue
            by_slot = sel[np.argsort(slot_code[sel], kind="stable")]  # grouped by slot, file order within each
            codes = slot_code[by_slot]
            starts = np.flatnonzero(np.concatenate(([True], codes[1:] != codes[:-1])))
            stops = np.append(starts[1:], len(by_slot))
            rows = a_row[by_slot]
            for g in np.argsort(by_slot[starts], kind="stable"):  # slots in order of first appearance
                code, lo, hi = int(codes[starts[g]]), int(starts[g]), int(stops[g])
                tag, key = self.prefix + _TYPES[code % len(_TYPES)], key_names[code // len(_TYPES)]
                slot = store.setdefault(tag, {}).get(key)
                if slot is None:
                    slot = store[tag][key] = ([], [])
                    order.append((tag, key))
                slot[0].append(_rows(rows[lo:hi]))
                # a take of its own: each column's texts are freed on their own once the log holds the column
                slot[1].append(values.take(pa.array(by_slot[lo:hi])))
        return True

    def scan(self, line_numbers: Callable[[np.ndarray], np.ndarray]) -> Scan:
        """The collected values as one :class:`Scan` (rows as one array, texts as one chunked array per slot).

        ``line_numbers`` gives the 1-based lines of ascending byte offsets of the document: it is called once,
        the first time an event's line is asked for (for the events the report names).
        """
        scan = Scan(n_events=self.n_events, n_traces=self.n_traces)
        scan.ev_trace = _joined(self.ev_trace, np.int64)
        positions = _joined(self.ev_pos, np.int64)
        lines: list[np.ndarray] = []

        def event_line(i: int) -> int:
            if not lines:
                lines.append(line_numbers(positions))
            return int(lines[0][i])

        scan.event_line = event_line
        self.ev_trace = self.ev_pos = []
        for store, target in zip(self.stores, (scan.ev_values, scan.tr_values), strict=True):
            for tag, by_key in store.items():
                for key, (rows, texts) in by_key.items():
                    joined = texts[0] if len(texts) == 1 else pa.chunked_array(texts, type=pa.large_string())
                    target.setdefault(tag, {})[key] = (_joined_rows(rows), joined)
            store.clear()
        scan.ev_order, scan.tr_order = self.orders
        return scan


def _rows(rows: np.ndarray) -> np.ndarray | range:
    """The rows of one slot in one chunk (ascending); as a ``range`` when they are consecutive (the common case:
    an attribute every event has), which holds no array until the log is built."""
    if len(rows) and int(rows[-1]) - int(rows[0]) == len(rows) - 1:
        return range(int(rows[0]), int(rows[-1]) + 1)
    return rows


def _joined_rows(parts: list[np.ndarray | range]) -> np.ndarray | range:
    """One slot's rows of every chunk: one ``range`` when each chunk's are a range that goes on from the last."""
    if all(isinstance(p, range) for p in parts) and all(a.stop == b.start for a, b in itertools.pairwise(parts)):
        return range(parts[0].start, parts[-1].stop)
    return np.concatenate([np.asarray(p, dtype=np.int64) if isinstance(p, range) else p for p in parts])


def _joined(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)
