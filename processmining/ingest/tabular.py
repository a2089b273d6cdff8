"""Reading CSV / TSV / XLSX / Parquet / flat JSON as a table of text.

Every cell is read as text (``007`` stays ``007``, ``May`` stays ``May``);
blank cells are NA. Each table row carries the line (CSV), spreadsheet row
(XLSX) or 1-based record index (Parquet, JSON) it came from, so every
message and every quarantined row can point at it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..errors import IngestError
from ..safe_input import MAX_INPUT_BYTES, InputBytes, read_bytes, refuse_url

_DELIMITERS = (",", ";", "\t", "|")


@dataclass
class Table:
    """A table of text cells plus where each row came from.

    ``frame`` has one ``str`` column per input column (NA = blank cell);
    ``rows`` holds the source line / row / record number of each frame row.
    """

    frame: pd.DataFrame
    rows: np.ndarray
    source: str
    sha256: str
    kind: str
    warnings: list[str] = field(default_factory=list)
    #: quarantined rows found while reading (ragged lines): (line, reason)
    bad_rows: list[tuple[int, str]] = field(default_factory=list)
    #: input items deliberately not turned into rows (nested JSON), by reason
    pre_filtered: dict[str, int] = field(default_factory=dict)

    def textual(self) -> Table:
        """This table with every cell as text (typed Parquet columns rendered by :func:`text_of`)."""
        typed = [c for c in self.frame.columns if is_typed(self.frame[c].dtype)]
        if not typed:
            return self
        frame = self.frame.copy(deep=False)
        for c in typed:
            frame[c] = text_of(frame[c])
        return replace(self, frame=frame)


def sniff_kind(data: InputBytes) -> str:
    """The format of an input: ``csv``, ``xlsx``, ``parquet``, ``json`` or ``xes``, from content then name."""
    return sniff_head(data.data[:4096], data.name)


def sniff_head(head: bytes, name: str) -> str:
    """:func:`sniff_kind` from the first (decompressed) bytes of an input and its name."""
    head, label = head[:4096], name
    name = name.lower().removesuffix(".gz")
    if head[:4] == b"PAR1":
        return "parquet"
    if head[:4] == b"PK\x03\x04":
        return "xlsx"
    if head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise IngestError("this is a legacy Excel 97-2003 (.xls) workbook; save it as .xlsx or CSV and retry",
                          source=label)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if name.endswith(".xes") or stripped[:5] == b"<?xml" or stripped[:4] == b"<log":
        return "xes"
    if name.endswith(".json") or stripped[:1] in (b"{", b"["):
        return "json"
    return "csv"


# ------------------------------------------------------------------ CSV
def _decode(raw: bytes, source: str, warnings: list[str]) -> str:
    if raw[:3] == b"\xef\xbb\xbf":
        raw = raw[3:]
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        warnings.append("file is UTF-16; decoded")
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        try:
            text = raw.decode("cp1252")
            enc = "Windows-1252"
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
            enc = "ISO-8859-1 (latin-1)"
        warnings.append(f"file is not UTF-8 (first non-UTF-8 byte on line {line}); decoded as {enc}")
        return text


def sniff_delimiter(header: str, name: str) -> str:
    """The delimiter that splits the header into the most fields (quotes respected)."""
    if name.lower().removesuffix(".gz").endswith(".tsv"):
        return "\t"
    best, best_n = ",", 1
    for d in _DELIMITERS:
        n = len(next(csv.reader([header], delimiter=d), []))
        if n > best_n:
            best, best_n = d, n
    return best


def _dedupe(names: list[str], source: str) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        n = n.strip() or f"column_{i + 1}"
        if n in seen:
            seen[n] += 1
            n = f"{n}.{seen[n]}"
        seen.setdefault(n, 0)
        out.append(n)
    return out


def _utf8_body(raw: bytes) -> bytes | None:
    """The bytes without a UTF-8 BOM if they are plain UTF-8 (checked by decoding), else None."""
    body = raw[3:] if raw[:3] == b"\xef\xbb\xbf" else raw
    if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return None
    if body.isascii():  # ASCII is UTF-8; checked without decoding a copy
        return body
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return body


def read_csv_text(data: InputBytes) -> Table:
    """Read delimited text; ragged lines are returned as ``bad_rows`` with their line number."""
    warnings: list[str] = []
    body = _utf8_body(data.data)
    if body is None:  # UTF-16 or a legacy code page: decode (with a warning) and re-encode once
        body = _decode(data.data, data.name, warnings).encode("utf-8")
    if not body[: 1 << 16].strip() and not body.strip():
        raise IngestError("the file is empty", source=data.name)
    if b"\n" not in body and b"\r" in body.rstrip(b"\r"):  # classic Mac OS line ends (CR only)
        body = body.replace(b"\r", b"\n")
        warnings.append("lines end with CR only (classic Mac OS); read as line ends")
    end = body.find(b"\n")
    header = (body if end == -1 else body[:end]).decode("utf-8").rstrip("\r")
    delim = sniff_delimiter(header, data.name)
    if delim != "," and not data.name.lower().endswith((".tsv", ".tsv.gz")):
        warnings.append(f"delimiter {delim!r} detected (not a comma)")
    names = _dedupe(next(csv.reader([header], delimiter=delim)), data.name)
    frame, rows, bad = _read_fast(body, names, delim)
    if frame is None:
        frame, rows, bad = _read_exact(body.decode("utf-8"), names, delim)
    if len(frame) == 0 and not bad:
        raise IngestError(f"the file has a header row ({len(names)} columns) but no data rows", source=data.name)
    if bad and len(bad) > max(10, len(frame)):
        line, reason = bad[0]
        raise IngestError(f"most rows do not match the header ({reason}); is the delimiter {delim!r} right?",
                          source=data.name, line=line)
    return Table(frame, rows, data.name, data.sha256, "csv", warnings, bad)


def _line_layout(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    nl = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [len(buf)]))
    return nl, starts, ends


def _no_blank_lines(body: bytes) -> bool:
    """Whether no line but the empty one after a final line end is blank (empty or only CR)."""
    return not (body.startswith((b"\n", b"\r\n")) or b"\n\n" in body or b"\n\r\n" in body
                or body.endswith(b"\n\r") or body == b"\r")


def _has_quoted_newline(buf: np.ndarray, nl: np.ndarray) -> bool:
    """A line with an odd number of quote characters means a quoted value spans lines."""
    quotes = np.flatnonzero(buf == 34)
    if len(quotes) == 0:
        return False
    per_line = np.bincount(np.searchsorted(nl, quotes), minlength=len(nl) + 1)
    return bool((per_line % 2).any())


def _read_fast(body: bytes, names: list[str], delim: str) -> tuple[pd.DataFrame | None, np.ndarray, list]:
    """pyarrow's multithreaded reader; gives up (None) when line numbers would be uncertain."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    quoted = b'"' in body
    # without quotes and CRs, a blank line is skipped by the reader, so data row k is on line k + 1 exactly when
    # the reader returns one row per line after the header (checked below); with CRs, when no line is blank
    simple = not quoted and not body.startswith((b"\n", b"\r")) and (b"\r" not in body or _no_blank_lines(body))
    if not simple:
        buf = np.frombuffer(body, dtype=np.uint8)
        nl, starts, ends = _line_layout(buf)
        if quoted and _has_quoted_newline(buf, nl):
            return None, np.empty(0, dtype=np.int64), []
    ragged: list[int] = []

    def on_bad(row) -> str:  # noqa: ANN001 - pyarrow's InvalidRow
        ragged.append(1)
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(body),  # zero-copy slices of the bytes; a Python file object copies every block
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delim, invalid_row_handler=on_bad),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.large_string() for n in names},
                                                 strings_can_be_null=True, quoted_strings_can_be_null=True,
                                                 null_values=[""]),
        )
    except pa.ArrowInvalid:
        return None, np.empty(0, dtype=np.int64), []
    if ragged:
        return None, np.empty(0, dtype=np.int64), []
    # line numbers of the non-blank lines after the header, vectorised
    n_lines = body.count(b"\n") + 1 - body.endswith(b"\n") if simple else 0
    if simple and n_lines - 1 != table.num_rows:  # some line was blank: number the lines by a byte scan
        simple = False
        buf = np.frombuffer(body, dtype=np.uint8)
        nl, starts, ends = _line_layout(buf)
    if simple:
        data_lines = np.arange(2, n_lines + 1, dtype=np.int64)
    else:
        lengths = ends - starts
        cr = (lengths > 0) & (buf[np.clip(ends - 1, 0, max(len(buf) - 1, 0))] == 13)
        nonblank = np.flatnonzero((lengths - cr) > 0) + 1
        data_lines = nonblank[1:]
    if len(data_lines) != table.num_rows:
        return None, np.empty(0, dtype=np.int64), []
    frame = table.to_pandas(types_mapper={pa.large_string(): pd.StringDtype("pyarrow")}.get)
    return frame, data_lines.astype(np.int64), []


def _read_exact(text: str, names: list[str], delim: str) -> tuple[pd.DataFrame, np.ndarray, list]:
    """Python's csv module: exact line numbers for multi-line values and ragged rows."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    next(reader, None)
    width = len(names)
    records: list[list[str]] = []
    lines: list[int] = []
    bad: list[tuple[int, str]] = []
    start = reader.line_num + 1
    try:
        for rec in reader:
            if not rec or (len(rec) == 1 and not rec[0].strip()):
                start = reader.line_num + 1
                continue
            if len(rec) != width:
                bad.append((start, f"row has {len(rec)} fields, the header has {width}"))
            else:
                records.append(rec)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise IngestError(f"malformed CSV: {exc}", line=reader.line_num) from None
    frame = pd.DataFrame(records, columns=names, dtype=pd.StringDtype("pyarrow")) if records else \
        pd.DataFrame({n: pd.Series([], dtype=pd.StringDtype("pyarrow")) for n in names})
    frame = frame.replace("", pd.NA)
    return frame, np.asarray(lines, dtype=np.int64), bad


# ------------------------------------------------------------------ Parquet / JSON
def is_times(dtype: object) -> bool:
    """Whether a column holds timestamps (numpy datetime64 or a time-zone-aware pandas dtype)."""
    return isinstance(dtype, pd.DatetimeTZDtype) or (isinstance(dtype, np.dtype) and dtype.kind == "M")


def _deferred(arrow_type) -> bool:  # noqa: ANN001 - a pyarrow DataType
    """Types kept typed until the log's order is known (cast to text after the gather: fewer bytes to move)."""
    import pyarrow as pa

    return (pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type) or pa.types.is_boolean(arrow_type)
            or pa.types.is_date(arrow_type))


def is_typed(dtype: object) -> bool:
    """Whether a :class:`Table` column is typed (Parquet, ``read_parquet(typed=True)``) rather than text."""
    return is_times(dtype) or isinstance(dtype, pd.ArrowDtype)


def timestamp_text(values: pd.Series) -> pd.Series:
    """A timestamp column as the text a Parquet timestamp is read as: ISO 8601, ``+00:00`` for instants.

    Microseconds (nanoseconds when some value has them); instants in UTC;
    NaT is NA. This is what a typed timestamp column that is not an event
    time becomes (an attribute), and what a bad value is quoted as.
    """
    aware = isinstance(values.dtype, pd.DatetimeTZDtype)
    naive = np.asarray(values.dt.tz_convert("UTC").dt.tz_localize(None) if aware else values)
    unit = np.datetime_data(naive.dtype)[0]
    if unit == "ns" and (naive[~np.isnat(naive)].view("i8") % 1000).any():
        shown = "ns"
    else:
        shown = "us"
        naive = naive.astype("datetime64[us]") if unit in ("ns", "ps", "fs", "as") else naive
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(np.datetime_as_string(naive, unit=shown), type=pa.large_string())
    if aware:  # an instant: keep it one (as UTC)
        text = pc.binary_join_element_wise(text, pa.scalar("+00:00", pa.large_string()),
                                              pa.scalar("", pa.large_string()))
    text = pc.if_else(pa.array(np.isnat(naive)), pa.scalar(None, pa.large_string()), text)
    return pd.Series(pd.arrays.ArrowStringArray(text), index=values.index, dtype=pd.StringDtype("pyarrow"))


def text_of(values: pd.Series) -> pd.Series:
    """A column of a :class:`Table` as text: typed timestamps (Parquet) rendered by :func:`timestamp_text`,
    numbers, booleans and dates as Arrow writes them (``2.0`` as ``2``, ``true``)."""
    if is_times(values.dtype):
        return timestamp_text(values)
    if isinstance(values.dtype, pd.ArrowDtype):
        return pd.Series(pd.array(arrow_text(values.array.__arrow_array__()), dtype=pd.StringDtype("pyarrow")),
                         index=values.index)
    return values


def arrow_text(col):  # noqa: ANN001, ANN201 - a pyarrow (chunked) array of any castable type
    """An Arrow column as large_string text, empty cells as null: how a Parquet column becomes text."""
    import pyarrow as pa

    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    if not pa.types.is_large_string(col.type):
        col = col.cast(pa.large_string())
    return _blank_as_null(col)


def _blank_as_null(col):  # noqa: ANN001, ANN202 - a pyarrow string column
    import pyarrow as pa
    import pyarrow.compute as pc

    if col.null_count == len(col) or not pc.any(pc.equal(col, "")).as_py():
        return col
    return pc.if_else(pc.equal(col, ""), pa.scalar(None, col.type), col)


def read_parquet(data: InputBytes, *, typed: bool = False) -> Table:
    """Read a Parquet file; every column as text (timestamps as ISO with offset, see :func:`timestamp_text`).

    With ``typed`` the timestamp columns stay timestamps (``Table.frame``
    holds them as datetime columns; :meth:`Table.textual` renders them): an
    event time is then taken as it is instead of being written out as text
    and parsed again; number, boolean and date columns stay typed too, and
    become text once the log's order is known. The text is the same either
    way (numbers as Arrow writes them, ``2.0`` as ``2``; dictionary
    columns decoded).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(pa.BufferReader(data.data))
        names = file.schema_arrow.names
        n_rows = file.metadata.num_rows
    except (pa.ArrowInvalid, OSError) as exc:
        raise IngestError(f"not a readable Parquet file: {exc}", source=data.name) from None
    if n_rows == 0:
        raise IngestError("the Parquet file has no rows", source=data.name)
    text = pd.StringDtype("pyarrow")
    columns: dict[str, pd.Series] = {}
    pool = pa.default_memory_pool()
    # one column at a time, each converted before the next is read: the reader's page buffers are held for
    # one column only, and a typed column is let go as soon as its text exists
    for i, name in enumerate(names):
        try:
            col = file.read(columns=[name]).column(0) if names.count(name) == 1 else \
                pq.read_table(pa.BufferReader(data.data)).column(i)
        except (pa.ArrowInvalid, OSError) as exc:
            raise IngestError(f"not a readable Parquet file: {exc}", source=data.name) from None
        pool.release_unused()
        if pa.types.is_timestamp(col.type):
            times = col.to_pandas()
            columns[name] = times if typed else timestamp_text(times)
            continue
        if typed and _deferred(col.type):
            columns[name] = pd.Series(pd.arrays.ArrowExtensionArray(col))
            continue
        try:
            as_text = arrow_text(col)
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):  # a list or struct column: no text for it
            raise IngestError(f"column {name!r} holds {col.type} values, which cannot be read as one text per "
                              "cell; flatten it or leave it out of the export", source=data.name) from None
        columns[name] = pd.Series(pd.arrays.ArrowStringArray(as_text), dtype=text)
    del col
    pool.release_unused()
    frame = pd.DataFrame(columns, copy=False)
    return Table(frame, np.arange(1, len(frame) + 1, dtype=np.int64), data.name, data.sha256, "parquet")


class JsonNumber(str):
    """A JSON number kept exactly as written (``7.10`` stays ``7.10``, a 5,000-digit integer stays whole)."""


def load_json(data: InputBytes, warnings: list[str] | None = None, *, exact_numbers: bool = False) -> object:
    """Parse JSON (UTF-8/16); syntax errors name the line and column.

    A key repeated inside one object keeps both values (the later one as
    ``"<key> (2)"``) and is reported in ``warnings``; very deep nesting and
    numbers too large for Python are a clear :class:`IngestError`. With
    ``exact_numbers`` numbers come back as :class:`JsonNumber` text.
    """
    text = _decode(data.data, data.name, [])
    if not text.strip():
        raise IngestError("the file is empty", source=data.name)
    repeated: dict[str, int] = {}

    def pairs(items: list[tuple[str, object]]) -> dict:
        out: dict = {}
        for k, v in items:
            if k in out:
                repeated[k] = repeated.get(k, 0) + 1
                n = 2
                while f"{k} ({n})" in out:
                    n += 1
                k = f"{k} ({n})"
            out[k] = v
        return out

    def number(s: str) -> object:
        if exact_numbers:
            return JsonNumber(s)
        if "." in s or "e" in s or "E" in s:
            f = float(s)
            return f if np.isfinite(f) else JsonNumber(s)
        return int(s) if len(s) <= 4000 else JsonNumber(s)

    try:
        doc = json.loads(text, object_pairs_hook=pairs, parse_int=number, parse_float=number,
                         parse_constant=JsonNumber)
    except json.JSONDecodeError as exc:
        raise IngestError(f"invalid JSON: {exc.msg} (column {exc.colno})", source=data.name, line=exc.lineno) from None
    except RecursionError:
        raise IngestError("JSON is nested too deeply to read (thousands of levels); refusing it",
                          source=data.name) from None
    if repeated and warnings is not None:
        listed = ", ".join(f"{k!r} ({n:,}×)" for k, n in list(repeated.items())[:10])
        warnings.append(f"{sum(repeated.values()):,} JSON objects repeat a key; both values are kept, the later "
                        f"one as '<key> (2)': {listed}")
    return doc


def _scalar_text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    s = str(v)
    return s if s.strip() else None


def json_records(doc: object, source: str) -> list[dict]:
    """The list of records of a flat JSON export: a list, or the first list value of an object."""
    if isinstance(doc, list):
        records = doc
    elif isinstance(doc, dict):
        lists = [v for v in doc.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
        if not lists:
            raise IngestError("JSON object holds no list of records", source=source)
        records = lists[0]
    else:
        raise IngestError("JSON must be a list of records or an object holding one", source=source)
    bad = next((i for i, r in enumerate(records) if not isinstance(r, dict)), None)
    if bad is not None:
        raise IngestError(f"record {bad + 1} is not a JSON object", source=source)
    return records


def _flatten_record(rec: dict, prefix: tuple[str, ...], out: dict[tuple[str, ...], object], depth: int = 0) -> None:
    for k, v in rec.items():
        path = (*prefix, str(k))
        if isinstance(v, dict) and v and depth < 50:
            _flatten_record(v, path, out, depth + 1)
        else:
            out[path] = v


def read_json_table(data: InputBytes, doc: object | None = None) -> Table:
    """A flat JSON export (list of records; nested objects flattened with dots) as text.

    Numbers are kept as written. A flat key ``"a.b"`` next to a nested
    ``{"a": {"b": ...}}`` gives two columns (the second named ``"a.b (2)"``),
    reported; nothing is merged or lost.
    """
    warnings: list[str] = []
    doc = load_json(data, warnings, exact_numbers=True)
    records = json_records(doc, data.name)
    if not records:
        raise IngestError("the JSON holds no records", source=data.name)
    names: dict[tuple[str, ...], str] = {}
    used: set[str] = set()
    clashes: list[str] = []
    flat_rows: list[dict[tuple[str, ...], object]] = []
    for rec in records:
        row: dict[tuple[str, ...], object] = {}
        _flatten_record(rec, (), row)
        for path in row:
            if path not in names:
                name = ".".join(path)
                if name in used:
                    n = 2
                    while f"{name} ({n})" in used:
                        n += 1
                    clashes.append(f"{'.'.join(path)!r} as {name + f' ({n})'!r}")
                    name = f"{name} ({n})"
                names[path] = name
                used.add(name)
        flat_rows.append(row)
    if clashes:
        warnings.append(f"{len(clashes)} JSON keys spell the same column as a nested key (a flat \"a.b\" next to "
                        "a nested a → b); both are kept: " + ", ".join(clashes[:10]))
    frame = pd.DataFrame({name: [_scalar_text(r.get(path)) for r in flat_rows] for path, name in names.items()})
    frame = frame.astype(pd.StringDtype("pyarrow"))
    return Table(frame, np.arange(1, len(frame) + 1, dtype=np.int64), data.name, data.sha256, "json", warnings)


_COLLAPSED_URL = re.compile(r"^(?:https?|ftp|file|s3|gs|sftp):/(?!/)", re.IGNORECASE)


def refuse_url_path(source: str | os.PathLike | bytes) -> None:
    """``Path("https://x/y")`` collapses to ``https:/x/y``; refuse that too (safe_input checks the ``//`` form)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return
    text = os.fspath(source)
    refuse_url(text)
    if _COLLAPSED_URL.match(text):
        refuse_url(re.sub(r"^([A-Za-z]+):/", r"\1://", text))


def read_table(
    source: str | os.PathLike | bytes,
    *,
    name: str | None = None,
    sheet: str | None = None,
    max_bytes: int = MAX_INPUT_BYTES,
) -> Table:
    """Read a CSV / TSV / XLSX / Parquet / JSON file as text, for preview or mapping.

    A JSON changelog (Jira, Zendesk, HubSpot, Pipedrive) comes back flattened
    into its history rows, the columns its preset reads.

    ``table.frame`` holds every cell as text (NA for blank); ``table.rows``
    the line / row number of each frame row; ``table.warnings`` what was
    detected (delimiter, encoding). Raises :class:`IngestError` for files
    that cannot be read (empty, header only, wrong format).

    >>> t = read_table(b"id,stage\\n007,Open\\n", name="x.csv")
    >>> t.frame.iloc[0].tolist(), t.rows.tolist()
    (['007', 'Open'], [2])
    """
    refuse_url_path(source)
    data = read_bytes(source, name=name, max_bytes=max_bytes)
    return read_table_bytes(data, sheet=sheet)


def read_table_bytes(data: InputBytes, *, sheet: str | None = None) -> Table:
    from .xlsx import read_xlsx

    kind = sniff_kind(data)
    if kind == "csv":
        return read_csv_text(data)
    if kind == "xlsx":
        return read_xlsx(data, sheet=sheet)
    if kind == "parquet":
        return read_parquet(data)
    if kind == "json":
        from .nested import detect_nested, flatten_nested

        doc = load_json(data)
        nested = detect_nested(doc)
        # a changelog document previews as its flattened history (one row per field change)
        return flatten_nested(nested, doc, data) if nested else read_json_table(data, doc)
    raise IngestError("this is an XES (XML) file, not a table; use read_log", source=data.name)
