"""Items 12-21 of shared/BAD_INPUTS.md for CSV / XLSX / JSON, plus URLs, size limits and XLSX zip bombs.

Each test builds the smallest file that shows the problem and asserts the
exact message or the exact quarantined rows.
"""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest

from processmining.errors import IngestError, UnsafeInputError
from processmining.ingest import read_log, read_table
from processmining.model import ACTIVITY, CASE, TIMESTAMP, ColumnMapping

MAP = ColumnMapping(case="case", activity="activity", timestamp="time")


def read(text: str | bytes, name: str = "log.csv", **kw):
    data = text.encode() if isinstance(text, str) else text
    return read_log(data, name=name, mapping=kw.pop("mapping", MAP), **kw)


def quarantined(log) -> list[tuple[int, str]]:
    return [(q.row, q.reason) for q in log.report.quarantined]


# 12 --------------------------------------------------------------------------------------------
def test_12_blank_case_and_activity_are_quarantined_by_line():
    log = read("case,activity,time\n"
               "1,Open,2024-03-01 09:00\n"
               ",Open,2024-03-01 09:05\n"      # line 3: blank case id
               "1,   ,2024-03-01 09:10\n"      # line 4: activity only blanks
               "2,Open,2024-03-01 09:15\n")
    assert quarantined(log) == [(3, "missing case id"), (4, "missing activity")]
    r = log.report
    assert (r.rows_read, r.events, r.cases) == (4, 2, 2)
    assert r.quarantined[0].column == "case"


# 13 --------------------------------------------------------------------------------------------
def test_13_one_impossible_timestamp_quarantines_only_that_row():
    log = read("case,activity,time\n"
               "1,Open,2024-02-28T10:00:00Z\n"
               "1,Work,2024-02-31T10:00:00Z\n"  # line 3: no 31 February
               "1,Done,garbage\n"              # line 4: not a date at all
               "1,Closed,2024-03-01T10:00:00Z\n")
    assert quarantined(log) == [(3, "impossible date or time: '2024-02-31T10:00:00Z'"),
                                (4, "not a recognised date/time: 'garbage'")]
    assert log.report.quarantined[0].value == "2024-02-31T10:00:00Z"
    # the column is still parsed as dates
    assert log.df[TIMESTAMP].dt.strftime("%Y-%m-%d").tolist() == ["2024-02-28", "2024-03-01"]


# 14 --------------------------------------------------------------------------------------------
def test_14_ambiguous_day_month_requires_a_choice():
    text = "case,activity,time\n1,Open,03/04/2024\n1,Done,05/04/2024\n"
    with pytest.raises(IngestError) as exc:
        read(text)
    assert str(exc.value) == (
        "log.csv, line 2, column 'time': ambiguous date '03/04/2024': it can be 3 April (day-first) or "
        "4 March (month-first) and no value in the column decides it; pass --dayfirst or --monthfirst")
    day = read(text, dayfirst=True)
    month = read(text, dayfirst=False)
    assert day.df[TIMESTAMP].dt.strftime("%Y-%m-%d").tolist() == ["2024-04-03", "2024-04-05"]
    assert month.df[TIMESTAMP].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-04", "2024-05-04"]


def test_14_one_value_over_12_decides_and_the_report_says_so():
    log = read("case,activity,time\n1,Open,03/04/2024\n1,Done,13/04/2024\n")
    assert log.df[TIMESTAMP].dt.strftime("%Y-%m-%d").tolist() == ["2024-04-03", "2024-04-13"]
    assert "column 'time': dates read day-first (DD/MM/YYYY), inferred from '13/04/2024' on line 3" \
        in log.report.warnings


def test_14_contradicting_values_are_refused():
    with pytest.raises(IngestError, match=r"day-first in some rows \('13/04/2024', line 2\) and month-first in "
                                          r"others \('04/13/2024', line 3\)"):
        read("case,activity,time\n1,Open,13/04/2024\n1,Done,04/13/2024\n")


# 15 / 16 ---------------------------------------------------------------------------------------
def test_15_16_non_timestamp_columns_and_ids_stay_as_written():
    log = read("case,activity,time,note\n"
               "007,Open,2024-03-01 09:00,2024-01\n"
               "7,Open,2024-03-01 09:00,May\n"
               "7.0,Open,2024-03-01 09:00,1/2\n")
    assert sorted(log.df[CASE]) == ["007", "7", "7.0"]  # three cases
    assert log.n_cases == 3
    assert sorted(log.df["note"]) == ["1/2", "2024-01", "May"]


# 17 --------------------------------------------------------------------------------------------
def test_17_excel_serial_date():
    log = read("case,activity,time\n1,Open,45383.5\n")
    assert str(log.df[TIMESTAMP].iloc[0]) == "2024-04-01 12:00:00+00:00"


def _xlsx(rows: list[list], formula: tuple[str, str] | None = None) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    for r in rows:
        ws.append(r)
    if formula:
        ws[formula[0]] = formula[1]
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_17_xlsx_serial_numbers_ids_and_text_cells():
    import datetime as dt

    data = _xlsx([["case", "activity", "time", "owner"],
                  ["007", "Open", 45383.5, "May"],          # text id, Excel serial as a plain number
                  [7, "Done", dt.datetime(2024, 4, 2, 8, 30), "June"]])  # numeric id, a real date cell
    log = read_log(data, name="log.xlsx", mapping=ColumnMapping(case="case", activity="activity", timestamp="time",
                                                                resource="owner"))
    assert sorted(log.df[CASE]) == ["007", "7"]
    assert log.df[TIMESTAMP].astype(str).tolist() == ["2024-04-01 12:00:00+00:00", "2024-04-02 08:30:00+00:00"]
    assert log.df["@@source_row"].tolist() == [2, 3]
    assert sorted(log.df["org:resource"]) == ["June", "May"]


# 18 --------------------------------------------------------------------------------------------
def test_18_xlsx_formula_without_cached_value_names_the_cell():
    rows = [["case", "activity", "time"]] + [[str(i), "Open", "2024-03-01 09:00"] for i in range(1, 7)]
    data = _xlsx(rows, formula=("C7", "=C6+1"))
    with pytest.raises(IngestError) as exc:
        read_log(data, name="export.xlsx", mapping=MAP)
    assert str(exc.value) == (
        "export.xlsx: cell Sheet1!C7 holds the formula '=C6+1' without a cached value; open and save the workbook "
        "in Excel (or LibreOffice) so values are stored, then retry")


def test_xlsx_unknown_sheet_is_named():
    data = _xlsx([["case", "activity", "time"], ["1", "A", "2024-03-01"]])
    with pytest.raises(IngestError, match=r"no sheet 'Deals'; the workbook has \['Sheet1'\]"):
        read_log(data, name="e.xlsx", sheet="Deals", mapping=MAP)


def test_xlsx_zip_bomb_is_refused_before_opening():
    # a worksheet member that expands 1000x: refused from the zip directory, never decompressed by openpyxl
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (20 * 1024 * 1024) + b"/>")
    with pytest.raises(UnsafeInputError, match=r"bomb.xlsx: XLSX member xl/worksheets/sheet1.xml expands \d+× "
                                               r"\(20 MB\); refusing a possible zip bomb"):
        read_log(buf.getvalue(), name="bomb.xlsx")


# 19 --------------------------------------------------------------------------------------------
def test_19_empty_and_header_only_files():
    with pytest.raises(IngestError) as exc:
        read("")
    assert str(exc.value) == "log.csv: the file is empty"
    with pytest.raises(IngestError) as exc:
        read("case,activity,time\n")
    assert str(exc.value) == "log.csv: the file has a header row (3 columns) but no data rows"


def test_19_semicolon_delimiter_is_detected_and_reported():
    log = read("case;activity;time\n1;Open;2024-03-01 09:00\n1;Done;2024-03-02 09:00\n")
    assert log.n_events == 2
    assert "delimiter ';' detected (not a comma)" in log.report.warnings


def test_19_latin1_is_decoded_and_flagged():
    data = "case,activity,time\n1,Prüfung,2024-03-01 09:00\n2,Clôture,2024-03-01 09:00\n".encode("latin-1")
    log = read(data)
    assert sorted(log.df[ACTIVITY]) == ["Clôture", "Prüfung"]
    assert "file is not UTF-8 (first non-UTF-8 byte on line 2); decoded as Windows-1252" in log.report.warnings


def test_19_ragged_rows_are_quarantined_with_their_line():
    log = read("case,activity,time\n"
               "1,Open,2024-03-01 09:00\n"
               "1,Work\n"                              # line 3: too few fields
               "1,Done,2024-03-03 09:00,surplus\n"     # line 4: too many
               "1,Closed,2024-03-04 09:00\n")
    assert quarantined(log) == [(3, "row has 2 fields, the header has 3"), (4, "row has 4 fields, the header has 3")]
    assert (log.report.rows_read, log.report.events) == (4, 2)


def test_19_wrong_delimiter_everywhere_is_an_error_with_the_line():
    with pytest.raises(IngestError, match=r"log.csv, line 3: most rows do not match the header"):
        # one row fits, then 20 rows with a fourth field: more bad rows than good ones is a layout problem
        read("case,activity,time\n1,Open,2024-03-01 09:00\n"
             + "\n".join(f"{i},A,2024-03-01,x" for i in range(20)) + "\n")


def test_multiline_quoted_values_keep_exact_line_numbers():
    log = read('case,activity,time\n1,"Open\nwith a note",2024-03-01 09:00\n,Done,2024-03-02 09:00\n')
    assert quarantined(log) == [(4, "missing case id")]
    assert log.df[ACTIVITY].tolist() == ["Open\nwith a note"]


# 20 --------------------------------------------------------------------------------------------
def test_20_duplicate_rows_are_kept_and_counted():
    log = read("case,activity,time\n1,Open,2024-03-01 09:00\n1,Open,2024-03-01 09:00\n1,Done,2024-03-02 09:00\n")
    assert log.n_events == 3
    assert log.report.duplicate_events == 1
    assert "1 events repeat an earlier event exactly (case, activity, timestamp, resource); kept" \
        in log.report.warnings


# 21 --------------------------------------------------------------------------------------------
def test_21_mixed_offsets_are_flagged_and_the_timezone_applies_to_naive_ones():
    log = read("case,activity,time\n1,Open,2024-03-01T10:00:00+01:00\n1,Done,2024-03-01 10:00\n",
               timezone="Europe/Berlin")
    assert log.df[TIMESTAMP].astype(str).tolist() == ["2024-03-01 09:00:00+00:00", "2024-03-01 09:00:00+00:00"]
    assert ("column 'time' mixes 1 timestamps with a UTC offset and 1 without; those without were read as "
            "Europe/Berlin") in log.report.warnings
    assert log.report.timezone == "Europe/Berlin"


def test_unknown_timezone_is_refused():
    with pytest.raises(IngestError, match="unknown time zone 'Mars/Olympus'"):
        read("case,activity,time\n1,A,2024-03-01\n", timezone="Mars/Olympus")


# safety ----------------------------------------------------------------------------------------
def test_url_paths_are_refused_without_a_request():
    with pytest.raises(UnsafeInputError, match="URLs are not read: processmining never makes network requests"):
        read_log("https://example.com/export.csv")


def test_files_over_the_size_limit_are_refused(tmp_path):
    p = tmp_path / "big.csv"
    p.write_text("case,activity,time\n" + "1,A,2024-03-01 09:00\n" * 100)
    with pytest.raises(UnsafeInputError, match=r"big.csv: file is 0 MB, over the 0 MB limit"):
        read_log(p, max_bytes=1000)


def test_gzip_bomb_is_refused():
    bomb = gzip.compress(b"case,activity,time\n" + b"1" * (5 * 1024 * 1024))
    with pytest.raises(UnsafeInputError, match="decompressed size exceeds limit"):
        read_log(bomb, name="log.csv.gz", max_bytes=1024 * 1024)


def test_gzipped_csv_is_read_by_magic_bytes():
    data = gzip.compress(b"case,activity,time\n1,Open,2024-03-01 09:00\n")
    assert read_log(data, name="export.csv", mapping=MAP).n_events == 1


# JSON ------------------------------------------------------------------------------------------
def test_flat_json_records_with_blank_ids():
    data = b'[{"case": "1", "activity": "Open", "time": "2024-03-01T09:00:00Z"},' \
           b' {"case": null, "activity": "Open", "time": "2024-03-01T09:00:00Z"},' \
           b' {"case": 7, "activity": "Done", "time": 1709284502}]'
    log = read(data, name="log.json")
    assert quarantined(log) == [(2, "missing case id")]
    assert sorted(log.df[CASE]) == ["1", "7"]


def test_invalid_json_names_line_and_column():
    with pytest.raises(IngestError) as exc:
        read(b'[{"case": "1",\n "activity": }]', name="log.json")
    assert str(exc.value) == "log.json, line 2: invalid JSON: Expecting value (column 14)"


def test_read_table_preview_keeps_text():
    t = read_table(b"id;stage;when\n007;Open;03/04/2024\n", name="x.csv")
    assert t.frame.iloc[0].tolist() == ["007", "Open", "03/04/2024"]
    assert t.rows.tolist() == [2]
    assert t.warnings == ["delimiter ';' detected (not a comma)"]


def test_every_extra_column_is_kept_even_with_internal_looking_names():
    log = read("case,activity,time,_id,_case,Amount\n1,Open,2024-03-01 09:00,x,y,007\n")
    row = log.df.iloc[0]
    assert (row["_id"], row["_case (input)"], row["Amount"]) == ("x", "y", "007")


def test_xlsx_with_entity_declarations_is_refused():
    # billion laughs inside the shared-strings part of an otherwise valid workbook
    data = _xlsx([["case", "activity", "time"], ["1", "Open", "2024-03-01 09:00"]])
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/workbook.xml":
                body = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n' + body
            zf.writestr(info.filename, body)
    with pytest.raises(UnsafeInputError) as exc:
        read_log(out.getvalue(), name="lol.xlsx", mapping=MAP)
    assert str(exc.value).startswith("lol.xlsx (xl/workbook.xml), line 1: XML entity declarations are refused")


def test_legacy_xls_gets_a_clear_message():
    with pytest.raises(IngestError) as exc:
        read_log(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, name="deals.xls")
    assert str(exc.value) == ("deals.xls: this is a legacy Excel 97-2003 (.xls) workbook; save it as .xlsx or CSV "
                              "and retry")
