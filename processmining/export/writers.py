"""The text and columnar writers: CSV, JSON, JSON Lines, Parquet and a ZIP of CSVs.

Each streams into a binary file in chunks of rows (memory stays bounded by one
chunk), and builds a chunk's text column by column in Arrow: one join per
chunk, no Python loop over rows.
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from collections.abc import Mapping
from typing import Any, BinaryIO

import pandas as pd

from ..model import Provenance
from .cells import (
    arrow_strings,
    as_frame,
    bool_text,
    cell_text,
    float_text,
    integer_text,
    is_datetime,
    is_missing,
    iso_arrow,
    jsonable,
    neutralise_arrow,
    neutralise_csv_cell,
)

#: rows per chunk when streaming (bounded memory)
CHUNK_ROWS = 8_192
#: rows of a chunk joined into one piece of text at a time (its cells are built for the whole chunk)
JOIN_ROWS = 1_024


def _value_bytes(arr: Any) -> Any:
    """The UTF-8 bytes of an Arrow string array's values, a zero-copy view (only the slice's own range).

    A slice of a column (a chunk of rows) shares the whole column's data buffer: its values are the range between
    its first and last offset, not the buffer.
    """
    import numpy as np
    import pyarrow as pa

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not len(arr):
        return memoryview(b"")
    _, offsets, data = arr.buffers()
    if data is None:
        return memoryview(b"")
    width = 8 if pa.types.is_large_string(arr.type) else 4
    ends = np.frombuffer(offsets, dtype=np.int64 if width == 8 else np.int32, count=len(arr) + 1,
                         offset=arr.offset * width)
    return memoryview(data)[int(ends[0]):int(ends[-1])]


def write_text(arr: Any, fh: BinaryIO) -> None:
    """The concatenated UTF-8 bytes of an Arrow string array, written without a copy per value."""
    raw = _value_bytes(arr)
    if raw.nbytes:
        fh.write(raw)


def write_joined(parts: list[Any], fh: BinaryIO) -> None:
    """``join(*parts)`` written :data:`JOIN_ROWS` rows at a time: the chunk's text is never whole in memory.

    ``parts`` are Arrow text arrays of one length (no nulls) and plain strings; the bytes are those of one join.
    """
    n = next((len(p) for p in parts if not isinstance(p, str)), 0)
    for lo in range(0, n, JOIN_ROWS):
        write_text(join(*[p if isinstance(p, str) else p.slice(lo, JOIN_ROWS) for p in parts]), fh)


def _large(arr: Any) -> Any:
    import pyarrow as pa

    return arr if pa.types.is_large_string(arr.type) else arr.cast(pa.large_string())


def join(*parts: Any) -> Any:
    """Element-wise concatenation of Arrow text arrays and plain strings (a null part gives null)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    args = [pa.scalar(p, pa.large_string()) if isinstance(p, str) else _large(p) for p in parts]
    return pc.binary_join_element_wise(*args, pa.scalar("", pa.large_string()))


# ------------------------------------------------------------ CSV
def csv_text(s: pd.Series) -> Any:
    """One column as Arrow text for CSV (null = empty cell): ISO timestamps, formula-like text neutralised."""
    import pyarrow as pa

    if is_datetime(s):
        return iso_arrow(s)
    if pd.api.types.is_bool_dtype(s.dtype):
        return bool_text(s, "True", "False")
    if pd.api.types.is_integer_dtype(s.dtype):
        return integer_text(s)
    if pd.api.types.is_float_dtype(s.dtype):
        return float_text(s, keep_inf=True)
    arr = arrow_strings(s)
    if arr is not None:
        return neutralise_arrow(arr)
    return pa.array([None if is_missing(v) else (neutralise_csv_cell(v) if isinstance(v, str) else
                                                  str(cell_text(v))) for v in s.tolist()], type=pa.string())


def _any_byte(arr: Any, chars: bytes) -> bool:
    """Whether any value of the text array holds one of the ASCII ``chars`` (one scan of its values' bytes)."""
    raw = _value_bytes(arr).tobytes()  # a copy of this chunk's values, then memchr per character: faster than a regex
    return any(bytes([c]) in raw for c in chars)


def _csv_quote(arr: Any) -> Any:
    """RFC 4180 minimal quoting (like ``csv.QUOTE_MINIMAL``): quote fields with a comma, quote, CR or LF."""
    import pyarrow.compute as pc

    arr = _large(arr).fill_null("")
    if not _any_byte(arr, b',"\r\n'):
        return arr
    needs = pc.match_substring_regex(arr, '[,"\r\n]')
    if not pc.any(needs).as_py():
        return arr
    quoted = join('"', pc.replace_substring(arr, '"', '""'), '"')
    return pc.if_else(needs, quoted, arr)


def per_distinct(arr: Any, fn: Any) -> Any:
    """``fn`` (a text array -> text array, null stays null) applied once per distinct value when values repeat.

    Deviation lists repeat their kinds, activities, messages and element ids
    thousands of times: the text work is done on the distinct values and
    spread back with one ``take``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(arr) < 4_096:
        return fn(arr)
    enc = pc.dictionary_encode(arr)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    if len(enc.dictionary) * 4 > len(arr):
        return fn(arr)
    return fn(enc.dictionary).take(enc.indices)


def _csv_cells(s: pd.Series) -> Any:
    """One column as its final CSV cell text (neutralised, quoted; missing = empty)."""
    arr = arrow_strings(s) if not (is_datetime(s) or pd.api.types.is_bool_dtype(s.dtype)
                                   or pd.api.types.is_numeric_dtype(s.dtype)) else None
    if arr is None:
        return _csv_quote(csv_text(s))
    return per_distinct(arr, lambda a: _csv_quote(neutralise_arrow(a))).fill_null("")


def write_csv(frame: pd.DataFrame, fh: BinaryIO) -> None:
    """UTF-8, CRLF, minimal quoting; formula-like text cells and headers neutralised."""
    import pyarrow as pa

    header = [_csv_quote(pa.array([str(neutralise_csv_cell(str(c)))]))[0].as_py() for c in frame.columns]
    fh.write(",".join(header).encode("utf-8") + b"\r\n")
    for start in range(0, len(frame), CHUNK_ROWS):
        part = frame.iloc[start : start + CHUNK_ROWS]
        if not len(part.columns):
            fh.write(b"\r\n" * len(part))
            continue
        cols = [_csv_cells(part[c]) for c in part.columns]
        parts: list[Any] = [cols[0]]
        for col in cols[1:]:
            parts += [",", col]
        write_joined([*parts, "\r\n"], fh)


# ------------------------------------------------------------ JSON
def _json_strings(arr: Any) -> Any:
    """JSON string literals of an Arrow text array (nulls stay null), the escaping of ``json.dumps``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = _large(arr)
    if pc.any(pc.match_substring_regex(arr, "[\x00-\x1f]")).as_py():  # rare: the encoder escapes control chars
        return pa.array([None if v is None else json.dumps(v, ensure_ascii=False) for v in arr.to_pylist()],
                        type=pa.large_string())
    if pc.any(pc.match_substring_regex(arr, '["\\\\]')).as_py():
        arr = pc.replace_substring(pc.replace_substring(arr, "\\", "\\\\"), '"', '\\"')
    return join('"', arr, '"')


def json_text(s: pd.Series) -> Any:
    """One column as JSON value literals (``null`` for missing values), as ``json.dumps`` writes them."""
    import pyarrow as pa

    if is_datetime(s):
        out = _json_strings(iso_arrow(s))
    elif pd.api.types.is_bool_dtype(s.dtype):
        out = bool_text(s, "true", "false")
    elif pd.api.types.is_integer_dtype(s.dtype):
        out = integer_text(s)
    elif pd.api.types.is_float_dtype(s.dtype):
        out = float_text(s, keep_inf=False)
    else:
        arr = arrow_strings(s)
        out = _json_strings(arr) if arr is not None else pa.array(
            [json.dumps(jsonable(v), ensure_ascii=False, allow_nan=False) for v in s.tolist()], type=pa.string())
    return _large(out).fill_null("null")


def json_records(frame: pd.DataFrame, start: int, stop: int, prefix: str = "") -> Any:
    """Rows ``start:stop`` as compact JSON objects (``{"a": 1, "b": "x"}``), each after ``prefix``."""
    return join(*_json_pieces(frame, start, stop, prefix))


def _json_pieces(frame: pd.DataFrame, start: int, stop: int, prefix: str) -> list[Any]:
    """The parts whose join is :func:`json_records`: each column's value literals between the keys."""
    import pyarrow as pa

    part = frame.iloc[start:stop]
    names = [json.dumps(str(c), ensure_ascii=False) for c in part.columns]
    pieces: list[Any] = []
    for i, c in enumerate(part.columns):
        pieces += [(prefix + "{" if i == 0 else ", ") + names[i] + ": ", json_text(part[c])]
    if not pieces:
        return [pa.array([prefix + "{}"] * len(part), type=pa.large_string())]
    return [*pieces, "}"]


def write_json(tables: Mapping[str, pd.DataFrame | Mapping[str, Any]], provenance: Provenance | None,
               fh: BinaryIO) -> None:
    """``{"provenance": {...}, "<table>": [records, one per line] | {object}}``, streamed."""
    fh.write(b"{")
    items: list[tuple[str, Any]] = [("provenance", provenance.to_dict())] if provenance is not None else []
    items += list(tables.items())
    for n, (name, table) in enumerate(items):
        fh.write((b"\n  " if n == 0 else b",\n  ") + json.dumps(str(name), ensure_ascii=False).encode() + b": ")
        if isinstance(table, pd.DataFrame):
            frame = as_frame(table)
            fh.write(b"[")
            for start in range(0, len(frame), CHUNK_ROWS):
                stop = start + CHUNK_ROWS
                if start == 0:  # the first record has no comma before it
                    write_text(json_records(frame, 0, 1, "\n    "), fh)
                    start = 1
                write_joined(_json_pieces(frame, start, stop, ",\n    "), fh)
            fh.write(b"\n  ]" if len(frame) else b"]")
        else:
            text = json.dumps(jsonable(table), ensure_ascii=False, indent=2, allow_nan=False)
            fh.write(text.replace("\n", "\n  ").encode("utf-8"))
    fh.write(b"\n}\n")


def write_jsonl(frame: pd.DataFrame, fh: BinaryIO) -> None:
    """One JSON object per line (JSON Lines), verbatim values."""

    frame = as_frame(frame)
    for start in range(0, len(frame), CHUNK_ROWS):
        write_joined([*_json_pieces(frame, start, start + CHUNK_ROWS, ""), "\n"], fh)


def provenance_json(provenance: Provenance) -> bytes:
    return (json.dumps(jsonable(provenance.to_dict()), ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# ------------------------------------------------------------ Parquet, ZIP
def write_parquet(frame: pd.DataFrame, fh: BinaryIO, provenance: Provenance | None) -> None:
    """Parquet (typed, verbatim: not a spreadsheet); provenance in the file's key-value metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = as_frame(frame)
    cols = {}
    for c in frame.columns:
        s = frame[c]
        if s.dtype == object:  # mixed summary values, lists: text (JSON for containers)
            s = s.map(lambda v: None if v is None or v is pd.NA or (isinstance(v, float) and not math.isfinite(v))
                      else (v if isinstance(v, str) else json.dumps(jsonable(v), ensure_ascii=False)))
            s = s.astype("string")
        cols[str(c)] = s
    table = pa.Table.from_pandas(pd.DataFrame(cols), preserve_index=False)
    meta = dict(table.schema.metadata or {})
    if provenance is not None:
        meta[b"processmining.provenance"] = json.dumps(jsonable(provenance.to_dict()), ensure_ascii=False).encode()
    pq.write_table(table.replace_schema_metadata(meta), fh)


def safe_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "table"


def write_zip(tables: Mapping[str, pd.DataFrame | Mapping[str, Any]], provenance: Provenance | None,
              fh: BinaryIO) -> None:
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, table in tables.items():
            with zf.open(f"{safe_stem(name)}.csv", "w", force_zip64=True) as member:
                write_csv(as_frame(table), member)  # type: ignore[arg-type]
        if provenance is not None:
            zf.writestr("provenance.json", provenance_json(provenance))
