"""Auditor-grade exports: CSV, XLSX and JSON, each carrying its :class:`Provenance`.

One entry point, :func:`write_tables`, writes named tables (deviation lists,
summaries, variant tables, quality findings ...) to a file or a binary stream;
:func:`to_bytes` returns the same bytes for the app's download buttons.

What every format guarantees:

* **Provenance** travels with the data: an XLSX gets a ``provenance`` sheet, a
  JSON document a top-level ``"provenance"`` object, a CSV a sidecar file
  ``<name>.provenance.json`` (a ZIP -- ``fmt="zip"`` -- bundles all CSVs and
  ``provenance.json`` into one download).
* **Formula injection is neutralised** (OWASP "CSV injection"): a text cell that
  starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written
  as text. CSV: prefixed with ``'`` (the value is otherwise unchanged); XLSX:
  stored as a string cell, never a formula, and *not* prefixed, so the value
  survives byte for byte. JSON is data, not a spreadsheet, and stays verbatim.
* CSV is RFC 4180: UTF-8, CRLF line ends, fields with quotes/CR/LF quoted.
* Timestamps are written in UTC: ISO 8601 text in CSV and JSON, real date
  cells (``yyyy-mm-dd hh:mm:ss``, UTC) in XLSX.
* A table value may also be a plain mapping (e.g. a summary dict): JSON keeps
  it as an object, CSV/XLSX flatten it to ``key, value`` rows
  (``share_by_kind.missing``).

>>> import io, pandas as pd
>>> buf = io.BytesIO()
>>> _ = write_tables({"deviations": pd.DataFrame({"activity": ["=HYPERLINK(1)"]})}, buf, fmt="csv")
>>> buf.getvalue().decode()
"activity\\r\\n'=HYPERLINK(1)\\r\\n"
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import zipfile
from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any, BinaryIO, Literal

import numpy as np
import pandas as pd

from .model import Provenance
from .pseudonyms import Pseudonymizer, pseudonym

__all__ = ["FORMATS", "Pseudonymizer", "as_frame", "infer_format", "is_formula_like", "neutralise_csv_cell",
           "pseudonym", "pseudonymize", "pseudonymize_table", "to_bytes", "write_tables"]

ExportFormat = Literal["csv", "xlsx", "json", "jsonl", "parquet", "zip"]
FORMATS: tuple[str, ...] = ("csv", "xlsx", "json", "jsonl", "parquet", "zip")

#: first characters that make a spreadsheet treat a cell as a formula (or strip/shift it)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Excel's row limit including the header row
XLSX_MAX_ROWS = 1_048_576
#: characters XML 1.0 (and so XLSX) cannot store
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


# ------------------------------------------------------------ cell neutralisation
def is_formula_like(value: object) -> bool:
    """True for text a spreadsheet would evaluate or mangle (``=1+1``, ``@SUM``, ``-2+3``, tab/CR first)."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def neutralise_csv_cell(value: object) -> object:
    """``'`` in front of formula-like text (BAD_INPUTS item 29); everything else unchanged.

    >>> neutralise_csv_cell("=cmd|' /C calc'!A0"), neutralise_csv_cell("Approve quote"), neutralise_csv_cell(-3)
    ("'=cmd|' /C calc'!A0", 'Approve quote', -3)
    """
    return "'" + value if is_formula_like(value) else value  # type: ignore[operator]


def neutralise_arrow(arr: Any) -> Any:
    """The Arrow string array with ``'`` in front of every formula-like value (the CSV rule, vectorised)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    risky = pc.match_substring_regex(arr, FORMULA_PATTERN).fill_null(False)
    if not pc.any(risky).as_py():
        return arr
    return pc.if_else(risky, pc.binary_join_element_wise(pa.scalar("'"), arr, ""), arr)


#: the same triggers as :data:`FORMULA_TRIGGERS`, as a regular expression
FORMULA_PATTERN = "^[=+\\-@\t\r]"


# ------------------------------------------------------------ pseudonymisation
def pseudonymize(
    frame: pd.DataFrame,
    *,
    key: str | bytes,
    columns: Mapping[str, str],
) -> pd.DataFrame:
    """A copy of ``frame`` with the given columns replaced by keyed hashes.

    ``columns`` maps a column name to a pseudonym prefix, e.g.
    ``{"case_id": "case-", "resource": "res-"}``. Missing values stay missing;
    absent columns are ignored. Each distinct value is hashed once (vectorised
    over the categories). The mapping is never returned or written anywhere.
    """
    if not key:
        raise ValueError("pseudonymisation needs a non-empty key")
    out = frame.copy()
    for col, prefix in columns.items():
        if col not in out.columns:
            continue
        values = out[col]
        mask = values.notna()
        if not mask.any():
            continue
        codes, uniques = pd.factorize(values[mask].astype(str))
        hashed = np.array([pseudonym(u, key, prefix=prefix) for u in uniques], dtype=object)
        new = pd.Series(pd.NA, index=out.index, dtype="object")
        new[mask] = hashed[codes]
        out[col] = new.astype("string")
    return out


def pseudonymize_text(text: str, *, key: str | bytes, values: Mapping[str, str]) -> str:
    """Replace each original value (a key of ``values``, mapped to a prefix) standing as a token in ``text``."""
    p = Pseudonymizer(key=key, names={v: pseudonym(v, key, prefix=pre) for v, pre in values.items() if v},
                      max_tokens=12)
    return p.text(text)


def pseudonymize_table(
    frame: pd.DataFrame,
    *,
    key: str | bytes,
    case_column: str = "case_id",
    resource_column: str = "resource",
    text_columns: Iterable[str] | None = None,  # noqa: ARG001 - every text column is covered now
    pseudonymizer: Pseudonymizer | None = None,
) -> pd.DataFrame:
    """Pseudonymise a deviation-shaped table: case ids (``case-…``) and resources (``res-…``).

    Case ids and resource names of **any length** quoted inside any text
    column (e.g. "... were both done by al") are replaced by the same
    pseudonyms wherever they stand as a token. Pass ``pseudonymizer`` (built
    from the whole log with :meth:`Pseudonymizer.from_log`) to cover names
    that are not in this table's id columns too.
    """
    p = pseudonymizer
    if p is None:
        cases = frame[case_column].dropna().unique() if case_column in frame.columns else ()
        res = frame[resource_column].dropna().unique() if resource_column in frame.columns else ()
        p = Pseudonymizer.from_names(key=key, cases=cases, resources=res)
    return p.frame(frame)


# ------------------------------------------------------------ table preparation
#: columns that are internal to the event log and never written to a user-facing table
INTERNAL_PREFIX = "@@"
#: rows per chunk when streaming CSV / JSON Lines (bounded memory)
_CHUNK = 100_000


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for k, v in mapping.items():
        name = f"{prefix}{k}"
        if isinstance(v, Mapping):
            yield from _flatten(v, name + ".")
        elif isinstance(v, (list, tuple)):
            yield name, json.dumps(_jsonable(v), ensure_ascii=False)
        else:
            yield name, v


def as_frame(table: pd.DataFrame | Mapping[str, Any]) -> pd.DataFrame:
    """A table as a DataFrame without internal ``@@`` columns; a mapping becomes ``key, value`` rows."""
    if isinstance(table, pd.DataFrame):
        internal = [c for c in table.columns if isinstance(c, str) and c.startswith(INTERNAL_PREFIX)]
        return table.drop(columns=internal) if internal else table
    if isinstance(table, Mapping):
        rows = list(_flatten(table))
        return pd.DataFrame({"key": [k for k, _ in rows], "value": pd.Series([v for _, v in rows], dtype=object)})
    raise TypeError(f"a table must be a pandas DataFrame or a mapping, got {type(table).__name__}")


def _provenance_frame(provenance: Provenance) -> pd.DataFrame:
    return as_frame(provenance.to_dict())


def _jsonable(value: Any) -> Any:
    """Plain JSON values: timestamps → ISO 8601 UTC, NaN/NA → null, numpy → python."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return _iso(value)
    if isinstance(value, (dt.date,)):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return value.total_seconds()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA:
        return None
    return value


def _iso(ts: pd.Timestamp | dt.datetime) -> str:
    ts = pd.Timestamp(ts)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC")
        frac = f".{ts.microsecond:06d}" if ts.microsecond else ""
        if ts.nanosecond:
            frac = f".{ts.microsecond:06d}{ts.nanosecond:03d}"
        return ts.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"
    return ts.isoformat()


def _iso_column(s: pd.Series) -> pd.Series:
    """A datetime column as ISO 8601 text (UTC ``Z`` for aware values), vectorised.

    Whole seconds have no fraction, others six digits, nine when the value has nanoseconds (never truncated).
    """
    aware = isinstance(s.dtype, pd.DatetimeTZDtype)
    naive = s.dt.tz_convert("UTC").dt.tz_localize(None) if aware else s
    values = np.asarray(naive.to_numpy())
    unit = np.datetime_data(values.dtype)[0]
    per_s = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}.get(unit, 1)
    ints = values.view("i8")
    nat = np.isnat(values)
    text = np.datetime_as_string(values, unit="s")
    if per_s > 1:
        frac = np.where(nat, 0, ints % per_s)
        if frac.any():
            text = np.where(frac == 0, text, np.datetime_as_string(values, unit="us"))
            if unit == "ns" and (frac % 1000).any():
                text = np.where(frac % 1000 == 0, text, np.datetime_as_string(values, unit="ns"))
    out = pd.Series(np.char.add(text.astype(str), "Z") if aware else text.astype(str), index=s.index, dtype=object)
    out[nat] = None
    return out


def _neutralise(s: pd.Series) -> pd.Series:
    """Text cells that start with a formula trigger get a leading ``'`` (vectorised); other values unchanged."""
    if isinstance(s.dtype, pd.StringDtype):
        risky = s.str.startswith(FORMULA_TRIGGERS).fillna(False).astype(bool)
        return s.where(~risky, "'" + s) if risky.any() else s
    as_obj = s.astype(object)
    is_str = np.fromiter((isinstance(v, str) for v in as_obj.to_numpy()), dtype=bool, count=len(as_obj))
    if not is_str.any():
        return as_obj
    text = pd.Series(as_obj.to_numpy()[is_str].astype(str))
    risky = np.zeros(len(as_obj), dtype=bool)
    risky[is_str] = text.str.startswith(FORMULA_TRIGGERS).to_numpy(dtype=bool)
    other = as_obj.notna().to_numpy() & ~is_str
    if risky.any() or other.any():
        as_obj = as_obj.copy()
        if risky.any():
            as_obj[risky] = "'" + as_obj[risky].astype(str)
        if other.any():  # lists / dicts / timestamps inside object columns: JSON or ISO text, never a repr
            as_obj[other] = as_obj[other].map(_cell_text)
    return as_obj


def _text_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """CSV-ready copy: datetimes as ISO text, formula-like text (values and header) neutralised."""
    cols: dict[str, pd.Series] = {}
    for col in frame.columns:
        s = frame[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s.dtype):
            cols[col] = _iso_column(s)
        elif s.dtype == object or isinstance(s.dtype, pd.StringDtype):
            cols[col] = _neutralise(s)
        else:
            cols[col] = s
    out = pd.DataFrame(cols, index=frame.index)
    out.columns = [neutralise_csv_cell(str(c)) for c in frame.columns]
    return out


def _cell_text(value: Any) -> Any:
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return _iso(value)
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        return json.dumps(_jsonable(value), ensure_ascii=False)
    return value


# ------------------------------------------------------------ writers (each streams into a binary file)
def _write_csv(frame: pd.DataFrame, fh: BinaryIO) -> None:
    for start in range(0, max(len(frame), 1), _CHUNK):
        part = _text_columns(frame.iloc[start : start + _CHUNK])
        text = part.to_csv(index=False, header=start == 0, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        fh.write(text.encode("utf-8"))


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    _write_csv(frame, buf)
    return buf.getvalue()


def _json_column(s: pd.Series) -> list[Any]:
    """A column as plain JSON values, vectorised per dtype (the per-value fallback only for object columns)."""
    if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s.dtype):
        return _iso_column(s).tolist()
    if isinstance(s.dtype, pd.StringDtype):
        return s.astype(object).where(s.notna(), None).tolist()
    if pd.api.types.is_float_dtype(s.dtype):
        v = s.to_numpy(dtype="float64", na_value=np.nan)
        return [None if not math.isfinite(x) else x for x in v.tolist()]
    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_integer_dtype(s.dtype):
        return s.astype(object).where(s.notna(), None).tolist()
    return [_jsonable(v) for v in s.tolist()]


def _json_records(frame: pd.DataFrame) -> Iterable[str]:
    """One compact JSON object per row (C encoder), streamed in chunks."""
    names = [str(c) for c in frame.columns]
    enc = json.JSONEncoder(ensure_ascii=False, allow_nan=False)
    for start in range(0, len(frame), _CHUNK):
        part = frame.iloc[start : start + _CHUNK]
        columns = [_json_column(part[c]) for c in part.columns]
        for row in zip(*columns, strict=True):
            yield enc.encode(dict(zip(names, row, strict=True)))


def _write_json(tables: Mapping[str, pd.DataFrame | Mapping[str, Any]], provenance: Provenance | None,
                fh: BinaryIO) -> None:
    """``{"provenance": {...}, "<table>": [records, one per line] | {object}}``, streamed."""
    fh.write(b"{")
    first = True
    items: list[tuple[str, Any]] = []
    if provenance is not None:
        items.append(("provenance", provenance.to_dict()))
    items += list(tables.items())
    for name, table in items:
        fh.write((b"\n  " if first else b",\n  ") + json.dumps(str(name), ensure_ascii=False).encode() + b": ")
        first = False
        if isinstance(table, pd.DataFrame):
            frame = as_frame(table)
            fh.write(b"[")
            sep = b"\n    "
            for rec in _json_records(frame):
                fh.write(sep + rec.encode("utf-8"))
                sep = b",\n    "
            fh.write(b"\n  ]" if len(frame) else b"]")
        else:
            text = json.dumps(_jsonable(table), ensure_ascii=False, indent=2, allow_nan=False)
            fh.write(text.replace("\n", "\n  ").encode("utf-8"))
    fh.write(b"\n}\n")


def _write_jsonl(frame: pd.DataFrame, fh: BinaryIO) -> None:
    for rec in _json_records(as_frame(frame)):
        fh.write(rec.encode("utf-8") + b"\n")


def _write_parquet(frame: pd.DataFrame, fh: BinaryIO, provenance: Provenance | None) -> None:
    """Parquet (typed, verbatim: not a spreadsheet); provenance in the file's key-value metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = as_frame(frame)
    cols = {}
    for c in frame.columns:
        s = frame[c]
        if s.dtype == object:  # mixed summary values, lists: text (JSON for containers)
            s = s.map(lambda v: None if v is None or v is pd.NA or (isinstance(v, float) and not math.isfinite(v))
                      else (v if isinstance(v, str) else json.dumps(_jsonable(v), ensure_ascii=False)))
            s = s.astype("string")
        cols[str(c)] = s
    table = pa.Table.from_pandas(pd.DataFrame(cols), preserve_index=False)
    meta = dict(table.schema.metadata or {})
    if provenance is not None:
        meta[b"processmining.provenance"] = json.dumps(_jsonable(provenance.to_dict()), ensure_ascii=False).encode()
    pq.write_table(table.replace_schema_metadata(meta), fh)


def _sheet_title(name: str, used: set[str]) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "sheet"
    base, n = title, 2
    while title.lower() in used:
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(title.lower())
    return title


_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "ns")
#: Excel's longest text cell
XLSX_MAX_TEXT = 32_767


def _xlsx_column(s: pd.Series) -> tuple[str, list[Any]]:
    """(kind, values) for one column: ``date`` (Excel serial days, UTC), ``number``, ``bool`` or ``text``."""
    if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s.dtype):
        naive = s.dt.tz_convert("UTC").dt.tz_localize(None) if isinstance(s.dtype, pd.DatetimeTZDtype) else s
        v = naive.to_numpy(dtype="datetime64[ns]")
        days = (v - _EXCEL_EPOCH).astype("timedelta64[ns]").astype("int64") / 86_400e9
        return "date", [None if nat else d for d, nat in zip(days.tolist(), np.isnat(v).tolist(), strict=True)]
    if pd.api.types.is_bool_dtype(s.dtype):
        return "bool", s.astype(object).where(s.notna(), None).tolist()
    if pd.api.types.is_numeric_dtype(s.dtype):
        v = s.to_numpy(dtype="float64", na_value=np.nan)
        return "number", [None if not math.isfinite(x) else x for x in v.tolist()]
    values = []
    for raw in s.astype(object).tolist():
        values.append(raw if isinstance(raw, str) else _xlsx_scalar(raw))
    return "text", values


def _xlsx_scalar(value: Any) -> Any:
    """A value of a text/object column: None, a number, a bool, a datetime or text (JSON for containers)."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        ts = pd.Timestamp(value)
        return ts.tz_convert("UTC").tz_localize(None).to_pydatetime() if ts.tzinfo else ts.to_pydatetime()
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        return json.dumps(_jsonable(value), ensure_ascii=False)
    return str(value)


def _write_xlsx(tables: Mapping[str, pd.DataFrame | Mapping[str, Any]], provenance: Provenance | None,
                fh: BinaryIO) -> None:
    """A streaming workbook (xlsxwriter ``constant_memory``): one sheet per table, text never a formula."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(fh, {"constant_memory": True, "strings_to_formulas": False,
                                  "strings_to_numbers": False, "strings_to_urls": False, "nan_inf_to_errors": False,
                                  "in_memory": False})
    bold = wb.add_format({"bold": True})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    used: set[str] = set()
    sheets = [(name, as_frame(t)) for name, t in tables.items()]
    if provenance is not None:
        sheets.append(("provenance", _provenance_frame(provenance)))
    per_sheet = XLSX_MAX_ROWS - 1
    long_text = 0
    for name, frame in sheets:
        columns = [_xlsx_column(frame[c]) for c in frame.columns]
        header = [_XML_ILLEGAL.sub("\N{REPLACEMENT CHARACTER}", str(c)) for c in frame.columns]
        for start in range(0, max(len(frame), 1), per_sheet):
            ws = wb.add_worksheet(_sheet_title(name, used))
            for j, h in enumerate(header):
                ws.write_string(0, j, h, bold)
            stop = min(start + per_sheet, len(frame))
            writers = []
            for j, (kind, values) in enumerate(columns):
                writers.append((j, kind, values))
            for r in range(start, stop):
                row = r - start + 1
                for j, kind, values in writers:
                    v = values[r]
                    if v is None:
                        continue
                    if kind == "date":
                        ws.write_number(row, j, v, date_fmt)
                    elif kind == "number":
                        ws.write_number(row, j, v)
                    elif isinstance(v, str):
                        if _XML_ILLEGAL.search(v):
                            v = _XML_ILLEGAL.sub("\N{REPLACEMENT CHARACTER}", v)
                        if len(v) > XLSX_MAX_TEXT:
                            long_text += 1
                        if v:
                            ws.write_string(row, j, v)  # always a text cell, never a formula
                    elif isinstance(v, bool):
                        ws.write_boolean(row, j, v)
                    elif isinstance(v, (int, float)):
                        ws.write_number(row, j, v)
                    elif isinstance(v, dt.datetime):
                        ws.write_datetime(row, j, v, date_fmt)
    if long_text:  # Excel cannot hold them: say so in the file instead of cutting silently
        ws = wb.add_worksheet(_sheet_title("notes", used))
        ws.write_string(0, 0, f"{long_text:,} text cells were longer than Excel's {XLSX_MAX_TEXT:,} characters "
                              "and are cut there; use the CSV, JSON or Parquet export for the full text")
    wb.close()


def _write_zip(tables: Mapping[str, pd.DataFrame | Mapping[str, Any]], provenance: Provenance | None,
               fh: BinaryIO) -> None:
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, table in tables.items():
            with zf.open(f"{_safe_stem(name)}.csv", "w", force_zip64=True) as member:
                _write_csv(as_frame(table), member)  # type: ignore[arg-type]
        if provenance is not None:
            zf.writestr("provenance.json", _provenance_json(provenance))


def _provenance_json(provenance: Provenance) -> bytes:
    return (json.dumps(_jsonable(provenance.to_dict()), ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _safe_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "table"


# ------------------------------------------------------------ public API
def infer_format(dest: str | PathLike[str]) -> ExportFormat:
    """The export format from a file name: ``.csv``, ``.xlsx``, ``.json``, ``.jsonl``, ``.parquet`` or ``.zip``."""
    suffix = Path(dest).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(f"cannot tell the export format of {str(dest)!r}: use a "
                         + ", ".join(f".{f}" for f in FORMATS[:-1]) + f" or .{FORMATS[-1]} name")
    return suffix  # type: ignore[return-value]


def _pseudonymised(tables: Mapping[str, Any], pseudonymizer: Pseudonymizer | None) -> Mapping[str, Any]:
    if pseudonymizer is None:
        return tables
    return {pseudonymizer.text(str(k)): pseudonymizer.mapping(as_frame(v) if isinstance(v, pd.DataFrame) else v)
            for k, v in tables.items()}


def _write_one(tables: Mapping[str, Any], fmt: str, provenance: Provenance | None, fh: BinaryIO) -> None:
    """The first table (csv, jsonl, parquet) or all tables (json, xlsx, zip) into ``fh``."""
    first = as_frame(next(iter(tables.values())))
    if fmt == "csv":
        _write_csv(first, fh)
    elif fmt == "jsonl":
        _write_jsonl(first, fh)
    elif fmt == "parquet":
        _write_parquet(first, fh, provenance)
    elif fmt == "json":
        _write_json(tables, provenance, fh)
    elif fmt == "xlsx":
        _write_xlsx(tables, provenance, fh)
    elif fmt == "zip":
        _write_zip(tables, provenance, fh)
    else:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")


def to_bytes(
    tables: Mapping[str, pd.DataFrame | Mapping[str, Any]],
    *,
    fmt: ExportFormat,
    provenance: Provenance | None = None,
    pseudonymizer: Pseudonymizer | None = None,
) -> bytes:
    """The bytes of an export, e.g. for ``st.download_button``.

    ``fmt="csv"`` / ``"jsonl"`` / ``"parquet"`` hold only the first table
    (Parquet carries the provenance in its metadata; for CSV offer ``"zip"``
    -- all tables as CSV plus ``provenance.json`` -- or ``"xlsx"``/``"json"``
    when provenance must travel in the same file). With ``pseudonymizer``
    every table, header and nested value is pseudonymised.

    >>> import pandas as pd
    >>> to_bytes({"t": pd.DataFrame({"a": [1]})}, fmt="json")[:1]
    b'{'
    """
    if not tables:
        raise ValueError("nothing to export: no tables given")
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    buf = io.BytesIO()
    _write_one(_pseudonymised(tables, pseudonymizer), fmt, provenance, buf)
    return buf.getvalue()


def write_tables(
    tables: Mapping[str, pd.DataFrame | Mapping[str, Any]],
    dest: str | PathLike[str] | BinaryIO,
    *,
    fmt: ExportFormat | None = None,
    provenance: Provenance | None = None,
    pseudonymizer: Pseudonymizer | None = None,
) -> list[Path]:
    """Write named tables to ``dest`` (a path or a binary stream); returns the files written.

    * ``xlsx``: one sheet per table (split into ``name (2)`` ... past Excel's
      1,048,576 rows) plus a ``provenance`` sheet; written streaming.
    * ``json``: ``{"provenance": {...}, "<table>": [records] | {object}, ...}``.
    * ``csv`` / ``jsonl`` / ``parquet`` to a path: the first table in ``dest``,
      every further table in ``<stem>.<table>.<ext>`` beside it, provenance in
      ``<stem>.provenance.json`` (Parquet also in its metadata). To a stream:
      the first table only (use ``zip`` to bundle everything).
    * ``zip``: every table as CSV and ``provenance.json``.

    Every file is written to a temporary name and renamed when complete, so
    a failure never leaves half a file; a path that is one of the inputs of
    the running command, a missing folder or a symlink loop is refused
    (:class:`~processmining.errors.OutputError`). Internal ``@@`` columns are
    never written. The format comes from ``fmt`` or the file extension.

    >>> import pandas as pd, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> [p.name for p in write_tables({"deviations": pd.DataFrame({"a": [1]}), "summary": {"fitness": 1.0}},
    ...                               d / "out.csv")]
    ['out.csv', 'out.summary.csv']
    """
    from .safe_input import atomic_output, check_output_path

    is_path = isinstance(dest, (str, PathLike))
    if fmt is None:
        if not is_path:
            raise ValueError("give fmt= when writing to a stream")
        fmt = infer_format(dest)  # type: ignore[arg-type]
    if not tables:
        raise ValueError("nothing to export: no tables given")
    tables = _pseudonymised(tables, pseudonymizer)
    if not is_path:
        _write_one(tables, fmt, provenance, dest)  # type: ignore[arg-type]
        return []
    path = Path(dest)  # type: ignore[arg-type]
    if fmt not in ("csv", "jsonl", "parquet"):
        with atomic_output(path) as tmp, open(tmp, "wb") as fh:
            _write_one(tables, fmt, provenance, fh)
        return [path]
    items = list(tables.items())
    plan = [(path, {items[0][0]: items[0][1]})]
    plan += [(path.with_name(f"{path.stem}.{_safe_stem(name)}.{fmt}"), {name: table}) for name, table in items[1:]]
    side = path.with_name(f"{path.stem}.provenance.json") if provenance is not None else None
    for target, _ in plan:  # refuse before writing anything
        check_output_path(target)
    if side is not None:
        check_output_path(side)
    written = []
    for target, part in plan:
        with atomic_output(target) as tmp, open(tmp, "wb") as fh:
            _write_one(part, fmt, provenance, fh)
        written.append(target)
    if side is not None:
        with atomic_output(side) as tmp:
            tmp.write_bytes(_provenance_json(provenance))  # type: ignore[arg-type]
        written.append(side)
    return written
