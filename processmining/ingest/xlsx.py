"""Reading one sheet of an XLSX workbook as a table of text, without losing or inventing cells.

openpyxl (read-only) reads the values; one hardened pass over the sheet XML
finds what openpyxl cannot tell (formulas without a cached value of every
kind, date serial 60). Zip bombs and XML entity declarations in any member are
refused first.
"""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pandas as pd

from ..errors import IngestError, UnsafeInputError
from ..safe_input import InputBytes, check_xml_prolog
from .tabular import Table, _dedupe

#: XLSX members are decompressed by openpyxl; refuse workbooks that would expand beyond this.
MAX_XLSX_UNCOMPRESSED = 1024**3
MAX_XLSX_RATIO = 200


def _check_zip(raw: bytes, source: str) -> bool:
    """Refuse zip bombs and XML entity declarations in any member; return whether a worksheet holds a formula."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile as exc:
        raise IngestError(f"not a valid XLSX (zip) file: {exc}", source=source) from None
    total = 0
    for info in zf.infolist():
        total += info.file_size
        if info.file_size > 10 * 1024**2 and info.compress_size and info.file_size / info.compress_size > MAX_XLSX_RATIO:
            raise UnsafeInputError(
                f"XLSX member {info.filename} expands {info.file_size / info.compress_size:.0f}× "
                f"({info.file_size / 1024**2:.0f} MB); refusing a possible zip bomb", source=source)
    if total > MAX_XLSX_UNCOMPRESSED:
        raise UnsafeInputError(
            f"XLSX expands to {total / 1024**2:.0f} MB, over the {MAX_XLSX_UNCOMPRESSED / 1024**2:.0f} MB limit; "
            "refusing a possible zip bomb", source=source)
    has_formulas = False
    for info in zf.infolist():
        if not info.filename.endswith((".xml", ".rels", ".vml")):
            continue
        with zf.open(info) as fh:  # entity declarations can only sit in the prolog
            check_xml_prolog(fh.read(64 * 1024), f"{source} ({info.filename})")
        if not has_formulas and info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
            body = zf.read(info)
            has_formulas = b"<f>" in body or b"<f " in body or b":f>" in body or b":f " in body
    return has_formulas


def _cell_text(v: object) -> str | None:
    import datetime as dt

    if v is None:
        return None
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    s = str(v)
    return s if s.strip() else None


def read_xlsx(data: InputBytes, *, sheet: str | None = None) -> Table:
    """Read one sheet of an XLSX workbook as text: ``sheet``, or the first *visible* sheet.

    Every row and column that holds data is read (a stale ``<dimension>``
    element is ignored); the report says which sheet was read and why. A
    formula cell without a cached value (plain, shared, array or data-table)
    is refused, naming the cell; a date cell with serial 60 (29 February
    1900, which Excel's leap-year bug invented) is quarantined with its row;
    ids written as numbers in some cells and as text in others are reported.
    """
    import openpyxl

    has_formulas = _check_zip(data.data, data.name)
    try:
        return _read_xlsx(openpyxl, data, sheet, has_formulas)
    except IngestError:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl / lxml on a malformed part of an untrusted file
        raise IngestError(f"the workbook is malformed and cannot be read ({type(exc).__name__}: "
                          f"{str(exc)[:200]})", source=data.name) from None


def _pick_sheet(wb: object, sheet: str | None, source: str, warnings: list[str]) -> object:
    names = wb.sheetnames  # type: ignore[attr-defined]
    if sheet is not None:
        if sheet not in names:
            raise IngestError(f"no sheet {sheet!r}; the workbook has {names}", source=source)
        return wb[sheet]  # type: ignore[index]
    states = {n: getattr(wb[n], "sheet_state", "visible") for n in names}  # type: ignore[index]
    visible = [n for n in names if states[n] == "visible"]
    if not visible:
        raise IngestError(f"every sheet is hidden ({names}); pass --sheet to choose one", source=source)
    chosen = visible[0]
    if len(names) > 1:
        hidden = [n for n in names[: names.index(chosen)] if states[n] != "visible"]
        why = (f"the first visible sheet; {', '.join(map(repr, hidden))} before it "
               f"{'is' if len(hidden) == 1 else 'are'} hidden") if hidden else "the first sheet"
        warnings.append(f"read sheet {chosen!r} ({why}) of {len(names)} sheets: "
                        f"{', '.join(map(repr, names))}; pass --sheet to choose another")
    return wb[chosen]  # type: ignore[index]


def _read_xlsx(openpyxl: object, data: InputBytes, sheet: str | None, has_formulas: bool) -> Table:
    import datetime as dt

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data.data), read_only=True, data_only=True)  # type: ignore[attr-defined]
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise IngestError(f"cannot open XLSX workbook: {exc}", source=data.name) from None
    warnings: list[str] = []
    ws = _pick_sheet(wb, sheet, data.name, warnings)
    title = ws.title
    part = getattr(ws, "_worksheet_path", None)
    ws.reset_dimensions()  # a stale <dimension ref="A1:B3"> would cut rows and columns (read-only mode trusts it)
    it = ws.iter_rows(values_only=True)
    header = None
    header_row = 0
    for i, row in enumerate(it, start=1):
        if any(c is not None and str(c).strip() for c in row):
            header, header_row = row, i
            break
    if header is None:
        wb.close()
        raise IngestError(f"sheet {title!r} is empty", source=data.name)
    while header and (header[-1] is None or not str(header[-1]).strip()):
        header = header[:-1]
    names = _dedupe([_cell_text(c) or "" for c in header], data.name)
    width = len(names)
    records: list[list[str | None]] = []
    lines: list[int] = []
    numeric_text: list[set[str]] = [set() for _ in range(width)]
    typed_text: list[set[str]] = [set() for _ in range(width)]
    suspect_dates: set[tuple[int, str]] = set()  # (row, column letters) of date cells read as 1900-02-28
    wider = 0
    for i, row in enumerate(it, start=header_row + 1):
        cells = []
        for j, c in enumerate(row[:width]):
            t = _cell_text(c)
            cells.append(t)
            if t is None:
                continue
            if isinstance(c, (int, float)) and not isinstance(c, bool):
                numeric_text[j].add(t)
            elif isinstance(c, str):
                typed_text[j].add(t)
            elif isinstance(c, dt.datetime) and c.year == 1900 and c.month == 2 and c.day == 28:
                from openpyxl.utils import get_column_letter

                suspect_dates.add((i, get_column_letter(j + 1)))
        if len(row) > width and any(c is not None and str(c).strip() for c in row[width:]):
            wider += 1
        if not any(c is not None for c in cells):
            continue
        cells += [None] * (width - len(cells))
        records.append(cells)
        lines.append(i)
    wb.close()
    if not records:
        raise IngestError(f"sheet {title!r} has a header row but no data rows", source=data.name)
    if wider:
        warnings.append(f"{wider:,} rows of sheet {title!r} have values right of the last header column; "
                        "those cells have no column name and are not read")
    for j, name in enumerate(names):
        both = numeric_text[j] & typed_text[j]
        if both:
            warnings.append(f"column {name!r}: {len(both):,} values occur both as number cells and as text cells "
                            f"(e.g. {sorted(both)[0]!r}) and are read as the same value")
    bad_rows: list[tuple[int, str]] = []
    if (has_formulas or suspect_dates) and part:
        bad_rows = _scan_sheet_xml(data, part, title, suspect_dates)
    if bad_rows:
        drop = {line for line, _ in bad_rows}
        keep = [k for k, line in enumerate(lines) if line not in drop]
        records = [records[k] for k in keep]
        lines = [lines[k] for k in keep]
    frame = pd.DataFrame(records, columns=names).astype(pd.StringDtype("pyarrow")) if records else \
        pd.DataFrame({n: pd.Series([], dtype=pd.StringDtype("pyarrow")) for n in names})
    return Table(frame, np.asarray(lines, dtype=np.int64), data.name, data.sha256, "xlsx", warnings, bad_rows)


_CELL_REF = re.compile(r"^([A-Z]+)(\d+)$")


def _scan_sheet_xml(data: InputBytes, part: str, title: str, suspect: set[tuple[int, str]]) -> list[tuple[int, str]]:
    """One pass over the sheet XML: refuse formulas without a cached value (every kind), find date serial 60.

    Returns the rows to quarantine (line, reason) for serial-60 dates.
    """
    from lxml import etree

    from ..safe_input import xml_parser_options

    bad: list[tuple[int, str]] = []
    with zipfile.ZipFile(io.BytesIO(data.data)) as zf, zf.open(part) as fh:
        for _, cell in etree.iterparse(fh, events=("end",), tag="{*}c", **xml_parser_options()):
            f = v = None
            for child in cell:
                local = etree.QName(child).localname
                if local == "f":
                    f = child
                elif local == "v":
                    v = child
            ref = cell.get("r") or "?"
            if f is not None and (v is None or not (v.text or "").strip()) and cell.get("t") != "inlineStr":
                kind = f.get("t") or "normal"
                shown = (f.text or "").strip()
                what = {"array": "the array formula", "shared": "the shared formula",
                        "dataTable": "the data-table formula"}.get(kind, "the formula")
                formula = f" {'=' + shown!r}" if shown else (f" (range {f.get('ref')})" if f.get("ref") else "")
                raise IngestError(
                    f"cell {title}!{ref} holds {what}{formula} without a cached value; open and save the workbook "
                    "in Excel (or LibreOffice) so values are stored, then retry", source=data.name)
            m = _CELL_REF.match(ref)
            if suspect and v is not None and m and (int(m.group(2)), m.group(1)) in suspect:
                try:
                    serial = float(v.text or "")
                except ValueError:
                    serial = -1.0
                if 60 <= serial < 61:
                    bad.append((int(m.group(2)), f"cell {ref}: Excel date serial {v.text} is 29 February 1900, a "
                                                 "day that does not exist (Excel's 1900 leap-year bug)"))
            cell.clear()
    return bad
