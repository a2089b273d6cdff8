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
import hashlib
import hmac
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

ExportFormat = Literal["csv", "xlsx", "json", "zip"]
FORMATS: tuple[str, ...] = ("csv", "xlsx", "json", "zip")

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


# ------------------------------------------------------------ pseudonymisation
def pseudonym(value: str, key: str | bytes, *, prefix: str = "") -> str:
    """A keyed hash of ``value`` (HMAC-SHA256, first 16 hex digits): same key + value → same pseudonym.

    Without the key the original cannot be recovered or confirmed by guessing.

    >>> pseudonym("005Hs000001AaBbIAK", "secret") == pseudonym("005Hs000001AaBbIAK", "secret")
    True
    """
    k = key.encode() if isinstance(key, str) else key
    return prefix + hmac.new(k, value.encode(), hashlib.sha256).hexdigest()[:16]


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
    """Replace each original value (a key of ``values``) in free text by its pseudonym prefix + hash.

    Used for deviation messages that quote a resource or case id.
    """
    for original in sorted(values, key=len, reverse=True):
        if original and original in text:
            text = text.replace(original, pseudonym(original, key, prefix=values[original]))
    return text


def pseudonymize_table(
    frame: pd.DataFrame,
    *,
    key: str | bytes,
    case_column: str = "case_id",
    resource_column: str = "resource",
    text_columns: Iterable[str] = ("message", "observed", "expected"),
) -> pd.DataFrame:
    """Pseudonymise a deviation-shaped table: case ids (``case-…``) and resources (``res-…``).

    Case ids and resource names quoted inside the text columns (e.g. "... were
    both done by 005X") are replaced by the same pseudonyms, so nothing of
    the original identities is left in the export.
    """
    values: dict[str, str] = {}
    for col, prefix in ((resource_column, "res-"), (case_column, "case-")):
        if col in frame.columns:
            for v in frame[col].dropna().astype(str).unique():
                if len(v) >= 3:  # very short values would hit ordinary words
                    values.setdefault(v, prefix)
    out = pseudonymize(frame, key=key, columns={case_column: "case-", resource_column: "res-"})
    if values:
        for col in text_columns:
            if col in out.columns:
                texts = out[col]
                mask = texts.notna()
                uniques = texts[mask].astype(str).unique()
                repl = {t: pseudonymize_text(t, key=key, values=values) for t in uniques}
                out.loc[mask, col] = texts[mask].astype(str).map(repl)
    return out


# ------------------------------------------------------------ table preparation
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
    """A table as a DataFrame; a mapping becomes ``key, value`` rows with dotted keys."""
    if isinstance(table, pd.DataFrame):
        return table
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
        return ts.strftime("%Y-%m-%dT%H:%M:%S") + (f".{ts.microsecond:06d}" if ts.microsecond else "") + "Z"
    return ts.isoformat()


def _text_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """CSV-ready copy: datetimes as ISO text, formula-like text neutralised (vectorised per column)."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            utc = s.dt.tz_convert("UTC")
            out[col] = utc.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ").str.replace(r"\.000000Z$", "Z", regex=True)
        elif pd.api.types.is_datetime64_dtype(s.dtype):
            out[col] = s.dt.strftime("%Y-%m-%dT%H:%M:%S")
        elif s.dtype == object or isinstance(s.dtype, pd.StringDtype):
            as_obj = s.astype(object)
            is_str = as_obj.map(lambda v: isinstance(v, str)) if s.dtype == object else s.notna()
            text = as_obj.where(is_str, "").astype(str)
            risky = is_str & text.str.startswith(FORMULA_TRIGGERS)
            if risky.any():
                as_obj = as_obj.copy()
                as_obj[risky] = "'" + text[risky]
            # lists / dicts / timestamps inside object columns: JSON or ISO text, never a Python repr
            other = as_obj.notna() & ~is_str
            if other.any():
                as_obj[other] = as_obj[other].map(_cell_text)
            out[col] = as_obj
    return out


def _cell_text(value: Any) -> Any:
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return _iso(value)
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        return json.dumps(_jsonable(value), ensure_ascii=False)
    return value


# ------------------------------------------------------------ writers
def _csv_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    _text_columns(frame).to_csv(buf, index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    return buf.getvalue().encode("utf-8")


def _json_bytes(tables: Mapping[str, pd.DataFrame | Mapping[str, Any]], provenance: Provenance | None) -> bytes:
    doc: dict[str, Any] = {}
    if provenance is not None:
        doc["provenance"] = _jsonable(provenance.to_dict())
    for name, table in tables.items():
        if isinstance(table, pd.DataFrame):
            cols = list(table.columns)
            records = [dict(zip(cols, row, strict=True)) for row in table.itertuples(index=False, name=None)]
            doc[name] = _jsonable(records)
        else:
            doc[name] = _jsonable(table)
    return (json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False) + "\n").encode("utf-8")


def _xlsx_value(value: Any) -> tuple[Any, str | None]:
    """A cell value openpyxl can store, and a forced data type (``"s"`` for text)."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None, None
    if isinstance(value, float) and not math.isfinite(value):
        return None, None
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        ts = pd.Timestamp(value)
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        return ts.to_pydatetime(), None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, int, float, dt.date)):
        return value, None
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        value = json.dumps(_jsonable(value), ensure_ascii=False)
    text = _XML_ILLEGAL.sub("\N{REPLACEMENT CHARACTER}", str(value))
    return text, "s"


def _sheet_title(name: str, used: set[str]) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "sheet"
    base, n = title, 2
    while title.lower() in used:
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(title.lower())
    return title


def _xlsx_bytes(tables: Mapping[str, pd.DataFrame | Mapping[str, Any]], provenance: Provenance | None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    used: set[str] = set()
    sheets = [(name, as_frame(t)) for name, t in tables.items()]
    if provenance is not None:
        sheets.append(("provenance", _provenance_frame(provenance)))
    bold = Font(bold=True)
    per_sheet = XLSX_MAX_ROWS - 1
    for name, frame in sheets:
        chunks = range(0, max(len(frame), 1), per_sheet)
        for start in chunks:
            ws = wb.create_sheet(_sheet_title(name, used))
            header = []
            for col in frame.columns:
                cell = WriteOnlyCell(ws, value=_XML_ILLEGAL.sub("\N{REPLACEMENT CHARACTER}", str(col)))
                cell.data_type = "s"
                cell.font = bold
                header.append(cell)
            ws.append(header)
            part = frame.iloc[start : start + per_sheet]
            for row in part.itertuples(index=False, name=None):
                cells = []
                for raw in row:
                    value, kind = _xlsx_value(raw)
                    cell = WriteOnlyCell(ws, value=value)
                    if kind == "s":
                        cell.data_type = "s"  # never a formula, whatever the first character
                    elif isinstance(value, dt.datetime):
                        cell.number_format = "yyyy-mm-dd hh:mm:ss"
                    cells.append(cell)
                ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _zip_bytes(tables: Mapping[str, pd.DataFrame | Mapping[str, Any]], provenance: Provenance | None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, table in tables.items():
            zf.writestr(f"{_safe_stem(name)}.csv", _csv_bytes(as_frame(table)))
        if provenance is not None:
            zf.writestr("provenance.json", _provenance_json(provenance))
    return buf.getvalue()


def _provenance_json(provenance: Provenance) -> bytes:
    return (json.dumps(_jsonable(provenance.to_dict()), ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _safe_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "table"


# ------------------------------------------------------------ public API
def infer_format(dest: str | PathLike[str]) -> ExportFormat:
    """The export format from a file name: ``.csv``, ``.xlsx``, ``.json`` or ``.zip``."""
    suffix = Path(dest).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(f"cannot tell the export format of {str(dest)!r}: use a .csv, .xlsx, .json or .zip name")
    return suffix  # type: ignore[return-value]


def to_bytes(
    tables: Mapping[str, pd.DataFrame | Mapping[str, Any]],
    *,
    fmt: ExportFormat,
    provenance: Provenance | None = None,
) -> bytes:
    """The bytes of an export, e.g. for ``st.download_button``.

    ``fmt="csv"`` holds only the first table (CSV has no room for provenance:
    offer ``"zip"`` -- all tables as CSV plus ``provenance.json`` -- or
    ``"xlsx"``/``"json"`` when provenance must travel in the same file).

    >>> import pandas as pd
    >>> to_bytes({"t": pd.DataFrame({"a": [1]})}, fmt="json")[:1]
    b'{'
    """
    if not tables:
        raise ValueError("nothing to export: no tables given")
    if fmt == "csv":
        first = next(iter(tables.values()))
        return _csv_bytes(as_frame(first))
    if fmt == "json":
        return _json_bytes(tables, provenance)
    if fmt == "xlsx":
        return _xlsx_bytes(tables, provenance)
    if fmt == "zip":
        return _zip_bytes(tables, provenance)
    raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")


def write_tables(
    tables: Mapping[str, pd.DataFrame | Mapping[str, Any]],
    dest: str | PathLike[str] | BinaryIO,
    *,
    fmt: ExportFormat | None = None,
    provenance: Provenance | None = None,
) -> list[Path]:
    """Write named tables to ``dest`` (a path or a binary stream); returns the files written.

    * ``xlsx``: one sheet per table (split into ``name (2)`` ... past Excel's
      1,048,576 rows) plus a ``provenance`` sheet.
    * ``json``: ``{"provenance": {...}, "<table>": [records] | {object}, ...}``.
    * ``csv`` to a path: the first table in ``dest``, every further table in
      ``<stem>.<table>.csv`` beside it, provenance in ``<stem>.provenance.json``.
      To a stream: the first table only (use ``zip`` to bundle everything).
    * ``zip``: every table as CSV and ``provenance.json``.

    The format comes from ``fmt`` or, for paths, from the file extension.

    >>> import pandas as pd, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> [p.name for p in write_tables({"deviations": pd.DataFrame({"a": [1]}), "summary": {"fitness": 1.0}},
    ...                               d / "out.csv")]
    ['out.csv', 'out.summary.csv']
    """
    is_path = isinstance(dest, (str, PathLike))
    if fmt is None:
        if not is_path:
            raise ValueError("give fmt= when writing to a stream")
        fmt = infer_format(dest)  # type: ignore[arg-type]
    if not is_path:
        dest.write(to_bytes(tables, fmt=fmt, provenance=provenance))  # type: ignore[union-attr]
        return []
    path = Path(dest)  # type: ignore[arg-type]
    written = [path]
    if fmt != "csv":
        path.write_bytes(to_bytes(tables, fmt=fmt, provenance=provenance))
        return written
    items = list(tables.items())
    if not items:
        raise ValueError("nothing to export: no tables given")
    path.write_bytes(_csv_bytes(as_frame(items[0][1])))
    for name, table in items[1:]:
        extra = path.with_name(f"{path.stem}.{_safe_stem(name)}.csv")
        extra.write_bytes(_csv_bytes(as_frame(table)))
        written.append(extra)
    if provenance is not None:
        side = path.with_name(f"{path.stem}.provenance.json")
        side.write_bytes(_provenance_json(provenance))
        written.append(side)
    return written
