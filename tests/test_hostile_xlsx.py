"""Hostile and odd workbooks (issue 11): every row read, the sheet named, formulas without values refused.

The workbooks are built in code with openpyxl and, where a real export differs
from what openpyxl writes (a stale ``<dimension>``, a shared formula), their
XML is patched the way such files are found in the wild.
"""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest
from openpyxl.worksheet.formula import ArrayFormula

from processmining.errors import IngestError
from processmining.ingest import read_log, read_table
from processmining.model import ACTIVITY, CASE, ColumnMapping

MAP = ColumnMapping(case="case", activity="activity", timestamp="time")
HEADER = ["case", "activity", "time"]
ROWS = [["1", "Open", "2024-03-01 09:00"], ["1", "Close", "2024-03-02 10:00"], ["2", "Open", "2024-03-03 09:00"],
        ["2", "Close", "2024-03-04 09:00"]]


def _book(rows=ROWS, *, header=HEADER, title="Sheet1", extra=None) -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    ws.append(header)
    for r in rows:
        ws.append(r)
    if extra:
        extra(wb, ws)
    return wb


def _bytes(wb: openpyxl.Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _patch(data: bytes, member: str, fix) -> bytes:  # noqa: ANN001
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == member:
                body = fix(body.decode()).encode()
            dst.writestr(info, body)
    return out.getvalue()


def _balanced(log) -> None:  # noqa: ANN001
    r = log.report
    assert r.rows_read == r.events + len(r.quarantined) + r.collapsed_duplicates + sum(r.filtered.values())


# ------------------------------------------------------------------ stale <dimension>
def test_stale_dimension_does_not_truncate_rows_or_columns():
    rows = [[*r, f"note {i}"] for i, r in enumerate(ROWS)]
    data = _bytes(_book(rows, header=[*HEADER, "note"]))
    data = _patch(data, "xl/worksheets/sheet1.xml", lambda x: re.sub(r'<dimension ref="[^"]+"/>',
                                                                      '<dimension ref="A1:B2"/>', x))
    log = read_log(data, name="stale.xlsx", mapping=MAP)
    assert (log.n_events, log.report.rows_read) == (4, 4)
    assert log.df["note"].tolist() == ["note 0", "note 1", "note 2", "note 3"]
    _balanced(log)


def test_values_right_of_the_header_are_reported():
    data = _bytes(_book([[*ROWS[0], "stray"], *ROWS[1:]]))
    log = read_log(data, name="r.xlsx", mapping=MAP)
    assert ("1 rows of sheet 'Sheet1' have values right of the last header column; those cells have no column name "
            "and are not read") in log.report.warnings


# ------------------------------------------------------------------ which sheet
def test_a_hidden_first_sheet_is_skipped_and_the_choice_said():
    def add(wb, ws):  # noqa: ANN001
        ws.sheet_state = "hidden"
        data = wb.create_sheet("Data")
        data.append(HEADER)
        for r in ROWS[:2]:
            data.append(r)

    data = _bytes(_book([["x", "Lookup", "2024-01-01"]], title="Lookup", extra=add))
    log = read_log(data, name="h.xlsx", mapping=MAP)
    assert log.df[ACTIVITY].tolist() == ["Open", "Close"]
    assert log.report.warnings[0] == ("read sheet 'Data' (the first visible sheet; 'Lookup' before it is hidden) of 2 "
                                      "sheets: 'Lookup', 'Data'; pass --sheet to choose another")
    # asked for by name, the hidden sheet is read
    assert read_log(data, name="h.xlsx", mapping=MAP, sheet="Lookup").df[ACTIVITY].tolist() == ["Lookup"]


def test_several_visible_sheets_name_the_one_read():
    data = _bytes(_book(extra=lambda wb, ws: wb.create_sheet("Other").append(["a"])))
    table = read_table(data, name="two.xlsx")
    assert table.warnings == ["read sheet 'Sheet1' (the first sheet) of 2 sheets: 'Sheet1', 'Other'; pass --sheet "
                              "to choose another"]


def test_all_sheets_hidden_is_refused():
    wb = _book()
    wb.create_sheet("B").sheet_state = "hidden"
    # openpyxl will not save a workbook without a visible sheet; some tools do
    data = _patch(_bytes(wb), "xl/workbook.xml", lambda x: x.replace('state="visible"', 'state="hidden"'))
    with pytest.raises(IngestError) as exc:
        read_log(data, name="a.xlsx")
    assert str(exc.value) == "a.xlsx: every sheet is hidden (['Sheet1', 'B']); pass --sheet to choose one"


# ------------------------------------------------------------------ formulas without a cached value
def test_array_formula_without_value_is_refused_naming_the_cell():
    def add(wb, ws):  # noqa: ANN001
        ws["D1"] = "n"
        ws["D2"] = ArrayFormula("D2:D3", "=LEN(A2:A3)")

    with pytest.raises(IngestError) as exc:
        read_log(_bytes(_book(extra=add)), name="arr.xlsx", mapping=MAP)
    assert str(exc.value) == ("arr.xlsx: cell Sheet1!D2 holds the array formula '=LEN(A2:A3)' without a cached value; "
                              "open and save the workbook in Excel (or LibreOffice) so values are stored, then retry")


def test_shared_formula_dependents_without_value_are_refused():
    data = _bytes(_book(extra=lambda wb, ws: (ws.__setitem__("D1", "n"), ws.__setitem__("D2", 1),
                                              ws.__setitem__("D3", 2))))

    def shared(xml: str) -> str:  # D2 anchors a shared formula, D3 uses it; neither has a value
        xml = re.sub(r'<c r="D2"[^>]*>.*?</c>', '<c r="D2"><f t="shared" ref="D2:D3" si="0">A2+1</f></c>', xml)
        return re.sub(r'<c r="D3"[^>]*>.*?</c>', '<c r="D3"><f t="shared" si="0"/></c>', xml)

    data = _patch(data, "xl/worksheets/sheet1.xml", shared)
    with pytest.raises(IngestError) as exc:
        read_log(data, name="sh.xlsx", mapping=MAP)
    assert str(exc.value).startswith("sh.xlsx: cell Sheet1!D2 holds the shared formula '=A2+1' without a cached value")


def test_formula_with_a_cached_value_is_read():
    data = _bytes(_book(extra=lambda wb, ws: (ws.__setitem__("D1", "n"), ws.__setitem__("D2", 5))))
    data = _patch(data, "xl/worksheets/sheet1.xml",
                  lambda x: re.sub(r'<c r="D2"([^>]*)><v>5</v></c>', r'<c r="D2"\1><f>2+3</f><v>5</v></c>', x))
    log = read_log(data, name="ok.xlsx", mapping=MAP)
    assert log.df["n"].dropna().tolist() == ["5"]


# ------------------------------------------------------------------ spreadsheet dates and ids
def test_excel_serial_60_is_quarantined_not_merged_with_28_february():
    def add(wb, ws):  # noqa: ANN001
        ws["C2"] = 59
        ws["C3"] = 60
        ws["C4"] = 61
        for ref in ("C2", "C3", "C4"):
            ws[ref].number_format = "yyyy-mm-dd"

    log = read_log(_bytes(_book(ROWS[:3] + [["3", "Open", "2024-03-05 09:00"]], extra=add)), name="s.xlsx", mapping=MAP)
    got = dict(zip(log.df[CASE] + log.df[ACTIVITY], log.df["time:timestamp"].dt.strftime("%Y-%m-%d"), strict=True))
    assert got == {"1Open": "1900-02-28", "2Open": "1900-03-01", "3Open": "2024-03-05"}
    assert [(q.row, q.reason) for q in log.report.quarantined] == [
        (3, "cell C3: Excel date serial 60 is 29 February 1900, a day that does not exist (Excel's 1900 leap-year bug)")]
    _balanced(log)


def test_numeric_and_text_cells_with_the_same_id_are_reported():
    rows = [[7, "Open", "2024-03-01 09:00"], ["7", "Close", "2024-03-02 10:00"], [7.5, "Open", "2024-03-03 09:00"],
            ["007", "Open", "2024-03-03 09:00"]]
    log = read_log(_bytes(_book(rows)), name="ids.xlsx", mapping=MAP)
    assert sorted(log.df[CASE].unique()) == ["007", "7", "7.5"]
    assert ("column 'case': 1 values occur both as number cells and as text cells (e.g. '7') and are read as the "
            "same value") in log.report.warnings


# ------------------------------------------------------------------ malformed parts
def test_a_malformed_workbook_part_is_a_clear_error():
    data = _patch(_bytes(_book()), "xl/worksheets/sheet1.xml", lambda x: x.replace("</sheetData>", "<row r="))
    with pytest.raises(IngestError) as exc:
        read_log(data, name="bad.xlsx", mapping=MAP)
    assert str(exc.value).startswith("bad.xlsx: the workbook is malformed and cannot be read (")
    data = _patch(_bytes(_book()), "xl/workbook.xml", lambda x: x.replace("<sheets>", "<sheets><junk"))
    with pytest.raises(IngestError) as exc:
        read_log(data, name="bad2.xlsx", mapping=MAP)
    assert str(exc.value).startswith("bad2.xlsx: ")
