"""A streaming XLSX writer that builds each sheet's XML column by column (Arrow), not cell by cell.

Per-cell writers (xlsxwriter in ``constant_memory`` mode, openpyxl write-only)
spend ~10 µs of Python per cell: 40 s of CPU for a 262k-row, 14-column
deviation list. Here every column of a chunk of rows becomes one Arrow array of
``<c>`` elements, a chunk's rows are one join, and the bytes go straight into
the ZIP member: a few seconds, memory bounded by one chunk.

What the file guarantees:

* text is always an inline string cell (``t="inlineStr"``), never a formula,
  and never prefixed: the value survives byte for byte (CR as the OOXML
  escape ``_x000D_``, a literal ``_xHHHH_`` escaped as ``_x005F_xHHHH_``, as
  Excel and xlsxwriter write them); characters XML 1.0 cannot hold become
  U+FFFD; text past Excel's 32,767 characters is cut and counted on a
  ``notes`` sheet;
* timestamps are real date cells (serial days, UTC, ``yyyy-mm-dd hh:mm:ss``);
  numbers and booleans are typed cells; a missing value or ``""`` is no cell;
* one sheet per table, split into ``name (2)`` ... past 1,048,576 rows; the
  header row is bold.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from collections.abc import Mapping
from typing import Any, BinaryIO
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pandas as pd

from ..model import Provenance
from .cells import arrow_strings, as_frame, is_datetime, is_missing, jsonable
from .writers import join, write_joined

#: Excel's row limit including the header row
XLSX_MAX_ROWS = 1_048_576
#: Excel's longest text cell
XLSX_MAX_TEXT = 32_767
#: rows per chunk of sheet XML (a chunk's cells are ~60 bytes each: memory stays bounded)
CHUNK_ROWS = 8_192
#: characters XML 1.0 cannot store (replaced by U+FFFD)
XML_ILLEGAL = "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"

_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "ns")
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
#: cell styles (``s=``): 1 = date, 2 = bold header
_STYLES = (
    f'{_HEAD}<styleSheet xmlns="{_MAIN}"><numFmts count="1"><numFmt numFmtId="164" '
    'formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill '
    'patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1">'
    '<border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" '
    'fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" '
    'borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs><cellStyles count="1">'
    '<cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)


def _xml_text(arr: Any) -> tuple[Any, int]:
    """Arrow text escaped for an inline string (see the module notes); and how many cells were cut."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = arr if pa.types.is_large_string(arr.type) else arr.cast(pa.large_string())
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)  # "" is no cell, like a missing value
    too_long = pc.greater(pc.utf8_length(arr), XLSX_MAX_TEXT)
    cut = pc.sum(too_long).as_py() or 0
    if cut:
        arr = pc.if_else(too_long, pc.utf8_slice_codeunits(arr, 0, XLSX_MAX_TEXT), arr)
    if pc.any(pc.match_substring(arr, "_x")).as_py():
        arr = pc.replace_substring_regex(arr, "(_x[0-9a-fA-F]{4}_)", "_x005F\\1")
    if pc.any(pc.match_substring_regex(arr, XML_ILLEGAL)).as_py():
        arr = pc.replace_substring_regex(arr, XML_ILLEGAL, "\ufffd")
    if pc.any(pc.match_substring(arr, "\r")).as_py():
        arr = pc.replace_substring(arr, "\r", "_x000D_")  # XML parsers read a raw CR as LF
    if pc.any(pc.match_substring_regex(arr, "[&<>]")).as_py():
        arr = pc.replace_substring(pc.replace_substring(pc.replace_substring(arr, "&", "&amp;"), "<", "&lt;"),
                                   ">", "&gt;")
    return arr, cut


def _value_cell(value: Any, ref: str) -> str:
    """One cell of a mixed (object) column: a number, a boolean, a date or text (JSON for containers)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return "" if isinstance(value, float) and not np.isfinite(value) else f'<c r="{ref}"><v>{value!r}</v></c>'
    if isinstance(value, (pd.Timestamp, dt.datetime, np.datetime64)):
        ts = pd.Timestamp(value)
        ts = ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo else ts
        days = float((np.datetime64(ts.as_unit("ns").asm8) - _EXCEL_EPOCH).astype("int64") / 86_400e9)
        return f'<c r="{ref}" s="1"><v>{days!r}</v></c>'
    if isinstance(value, str):
        text = value
    elif isinstance(value, (list, tuple, dict, set, frozenset)):
        text = json.dumps(jsonable(value), ensure_ascii=False)
    else:
        text = str(value)
    if not text:
        return ""
    text = re.sub(XML_ILLEGAL, "\ufffd", re.sub("(_x[0-9a-fA-F]{4}_)", r"_x005F\1", text[:XLSX_MAX_TEXT]))
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(text.replace(chr(13), "_x000D_"))}' \
           f'</t></is></c>'


def _cells(s: pd.Series, letter: str, rows: Any) -> tuple[Any, int]:
    """One column of a chunk as ``<c>`` elements (empty text where there is no cell); cells cut."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def cell(attrs: str, inner: Any, close: str) -> Any:
        return join(f'<c r="{letter}', rows, attrs, inner, close)

    def numbers(values: np.ndarray) -> Any:  # shortest round-trip text; NaN / inf: no cell
        return pa.array(values, mask=~np.isfinite(values)).cast(pa.large_string())

    cut = 0
    if is_datetime(s):
        naive = s.dt.tz_convert("UTC").dt.tz_localize(None) if isinstance(s.dtype, pd.DatetimeTZDtype) else s
        v = naive.to_numpy(dtype="datetime64[ns]")
        days = (v - _EXCEL_EPOCH).astype("timedelta64[ns]").astype("int64") / 86_400e9
        out = cell('" s="1"><v>', numbers(np.where(np.isnat(v), np.nan, days)), "</v></c>")
    elif pd.api.types.is_bool_dtype(s.dtype):
        arr = pa.array(s.array) if pd.api.types.is_extension_array_dtype(s.dtype) else pa.array(s.to_numpy())
        out = cell('" t="b"><v>', pc.if_else(arr.cast(pa.bool_()), "1", "0"), "</v></c>")
    elif pd.api.types.is_numeric_dtype(s.dtype):
        out = cell('"><v>', numbers(s.to_numpy(dtype="float64", na_value=np.nan)), "</v></c>")
    else:
        arr = arrow_strings(s)
        if arr is None:  # mixed values: one small Python step per cell
            refs = [f"{letter}{r}" for r in rows.to_pylist()]
            return pa.array([("" if is_missing(v) else _value_cell(v, ref)) for v, ref in zip(s.tolist(), refs,
                                                                                                strict=True)],
                            type=pa.large_string()), sum(isinstance(v, str) and len(v) > XLSX_MAX_TEXT
                                                         for v in s.tolist())
        text, cut = _xml_text(arr)
        out = cell('" t="inlineStr"><is><t xml:space="preserve">', text, "</t></is></c>")
    return out.fill_null(""), cut


def _write_sheet(frame: pd.DataFrame, start: int, stop: int, member: BinaryIO) -> int:
    """Rows ``start:stop`` of ``frame`` (plus the header) as one worksheet XML; returns the cells cut."""
    import pyarrow as pa
    from openpyxl.utils import get_column_letter

    letters = [get_column_letter(j + 1) for j in range(len(frame.columns))]
    last = f"{letters[-1]}{stop - start + 1}" if letters else "A1"
    member.write(f'{_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><dimension ref="A1:{last}"/>'
                 '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft"'
                 ' state="frozen"/></sheetView></sheetViews><sheetData><row r="1">'.encode())
    header = "".join(_value_cell(str(c), f"{letter}1").replace("<c ", '<c s="2" ', 1)
                     for c, letter in zip(frame.columns, letters, strict=True))
    member.write(header.encode("utf-8") + b"</row>")
    cut = 0
    for lo in range(start, stop, CHUNK_ROWS):
        hi = min(lo + CHUNK_ROWS, stop)
        part = frame.iloc[lo:hi]
        rows = pa.array(np.arange(lo - start + 2, hi - start + 2)).cast(pa.large_string())
        pieces: list[Any] = ['<row r="', rows, '">']
        for c, letter in zip(part.columns, letters, strict=True):
            cells, n = _cells(part[c], letter, rows)
            pieces.append(cells)
            cut += n
        write_joined([*pieces, "</row>"], member)
    member.write(b"</sheetData></worksheet>")
    return cut


def sheet_title(name: str, used: set[str]) -> str:
    """A sheet name Excel accepts (31 characters, no ``[]:*?/\\``), unique in the workbook."""
    title = re.sub(r"[\[\]:*?/\\]", "_", name).strip("'")[:31] or "sheet"
    base, n = title, 2
    while title.lower() in used:
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(title.lower())
    return title


def write_xlsx(tables: Mapping[str, pd.DataFrame | Mapping[str, Any]], provenance: Provenance | None,
               fh: BinaryIO) -> None:
    """One sheet per table plus a ``provenance`` sheet (see the module notes), streamed into ``fh``."""
    sheets = [(name, as_frame(t)) for name, t in tables.items()]
    if provenance is not None:
        sheets.append(("provenance", as_frame(provenance.to_dict())))
    per_sheet = XLSX_MAX_ROWS - 1
    used: set[str] = set()
    titles: list[str] = []
    cut = 0
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, frame in sheets:
            for start in range(0, max(len(frame), 1), per_sheet):
                titles.append(sheet_title(name, used))
                with zf.open(f"xl/worksheets/sheet{len(titles)}.xml", "w", force_zip64=True) as member:
                    cut += _write_sheet(frame, start, min(start + per_sheet, len(frame)), member)  # type: ignore
        if cut:  # Excel cannot hold them: say so in the file instead of cutting silently
            titles.append(sheet_title("notes", used))
            note = pd.DataFrame({"note": [f"{cut:,} text cells were longer than Excel's {XLSX_MAX_TEXT:,} characters "
                                          "and are cut there; use the CSV, JSON or Parquet export for the full text"]})
            with zf.open(f"xl/worksheets/sheet{len(titles)}.xml", "w") as member:
                _write_sheet(note, 0, 1, member)  # type: ignore[arg-type]
        _write_package(zf, titles)


def _write_package(zf: zipfile.ZipFile, titles: list[str]) -> None:
    """The workbook, its relationships, styles and content types for sheets ``1..len(titles)``."""
    n = len(titles)
    sheets = "".join(f'<sheet name={quoteattr(t)} sheetId="{i}" r:id="rId{i}"/>' for i, t in enumerate(titles, 1))
    zf.writestr("xl/workbook.xml", f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{sheets}</sheets>'
                                   "</workbook>")
    rels = "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                   for i in range(1, n + 1))
    zf.writestr("xl/_rels/workbook.xml.rels", f'{_HEAD}<Relationships xmlns="{_PKG}">{rels}<Relationship '
                                              f'Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
                                              "</Relationships>")
    zf.writestr("xl/styles.xml", _STYLES)
    zf.writestr("_rels/.rels", f'{_HEAD}<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
                               f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{ct}.worksheet+xml"/>'
                        for i in range(1, n + 1))
    zf.writestr("[Content_Types].xml", f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                                       'content-types"><Default Extension="rels" ContentType="application/'
                                       'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
                                       f'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
                                       f'ContentType="{ct}.sheet.main+xml"/><Override PartName="/xl/styles.xml" '
                                       f'ContentType="{ct}.styles+xml"/>{overrides}</Types>')
