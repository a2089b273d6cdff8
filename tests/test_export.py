"""Exports: formula injection (BAD_INPUTS item 29), provenance, pseudonymisation, golden files."""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from processmining.export import (
    XLSX_MAX_ROWS,
    neutralise_csv_cell,
    pseudonym,
    pseudonymize,
    to_bytes,
    write_tables,
)
from processmining.model import DEVIATION_COLUMNS, Provenance

GOLDEN = Path(__file__).parent / "golden" / "export"

# Every formula trigger of item 29, plus values that must pass unchanged.
RISKY = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR", "=HYPERLINK(\"http://x\",\"y\")"]
SAFE = ["Send quote", "Approve quote", "a=b", "x-1", ""]


def _provenance() -> Provenance:
    # fixed time and version so the golden files are stable
    return Provenance(
        inputs={"log": "orders.csv sha256:" + "a" * 64, "model": "lead_to_order.bpmn sha256:" + "b" * 64},
        parameters={"mode": "alignments", "variant_timeout_s": 10.0, "rules": "lead_to_order.rules.yaml"},
        tool_version="1.2.3",
        python="3.11.7",
        created_at="2024-05-01T12:00:00+00:00",
    )


def _deviations() -> pd.DataFrame:
    rows = [
        # an unexpected move whose activity label came from the log with a formula in it
        dict(case_id="006A", kind="unexpected", activity="=cmd|' /C calc'!A0", rule_id=None,
             bpmn_element_id=None, expected=None, observed="=cmd|' /C calc'!A0",
             timestamp=pd.Timestamp("2024-03-01 09:15:02", tz="UTC"), resource="@admin", severity="medium",
             message="=cmd|' /C calc'!A0 happened, but the model does not allow it there", evidence="3",
             accepted=False, accepted_reason=None),
        # a rule violation: plain text must survive unchanged
        dict(case_id="006B", kind="rule", activity="Discount Approval", rule_id="sod-quote",
             bpmn_element_id="Task_Approval", expected=None, observed=None,
             timestamp=pd.Timestamp("2024-03-02 10:00:00", tz="UTC"), resource="005X", severity="high",
             message="Proposal/Price Quote and Discount Approval were both done by 005X", evidence="7 9",
             accepted=True, accepted_reason="known exception, ticket AUD-4"),
    ]
    return pd.DataFrame(rows, columns=list(DEVIATION_COLUMNS))


def test_csv_cells_neutralised_and_values_survive():
    frame = pd.DataFrame({"v": RISKY + SAFE, "n": range(len(RISKY) + len(SAFE))})
    text = to_bytes({"t": frame}, fmt="csv").decode()
    back = pd.read_csv(io.StringIO(text), keep_default_na=False)
    # every risky cell starts with a quote and is otherwise the original text
    assert back["v"].tolist()[: len(RISKY)] == ["'" + v for v in RISKY]
    assert back["v"].tolist()[len(RISKY):] == SAFE
    # numbers are not text: negative numbers stay numbers
    assert neutralise_csv_cell(-5) == -5
    assert back["n"].tolist() == list(range(len(RISKY) + len(SAFE)))


def test_xlsx_stores_strings_never_formulas(tmp_path):
    frame = pd.DataFrame({"v": RISKY + SAFE})
    out = tmp_path / "d.xlsx"
    write_tables({"deviations": frame}, out, provenance=_provenance())
    # the raw sheet XML has no <f> (formula) element at all
    with zipfile.ZipFile(out) as zf:
        sheet_xml = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["deviations", "provenance"]
    cells = [c for (c,) in wb["deviations"].iter_rows(min_row=2, max_col=1)]
    assert [c.data_type for c in cells if c.value is not None] == ["s"] * (len(RISKY) + len(SAFE) - 1)
    # values intact, no quote prefix in XLSX; a CR is stored as the OOXML escape _x000D_, which Excel
    # decodes (openpyxl does not, for inline strings); the final "" row is blank and not stored at all
    decoded = [re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m.group(1), 16)), c.value) for c in cells]
    assert decoded == RISKY + SAFE[:-1]


def test_xlsx_has_deviations_summary_provenance_sheets(tmp_path):
    out = tmp_path / "audit.xlsx"
    summary = {"fitness": 0.97, "cases": 2, "share_by_kind": {"rule": 0.5}}
    write_tables({"deviations": _deviations(), "summary": summary}, out, provenance=_provenance())
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["deviations", "summary", "provenance"]
    summary_rows = list(wb["summary"].iter_rows(values_only=True))
    assert summary_rows == [("key", "value"), ("fitness", 0.97), ("cases", 2), ("share_by_kind.rule", 0.5)]
    prov = dict(list(wb["provenance"].iter_rows(values_only=True))[1:])
    assert prov["inputs.log"] == "orders.csv sha256:" + "a" * 64
    assert prov["parameters.variant_timeout_s"] == 10.0
    assert prov["tool_version"] == "1.2.3"
    assert prov["created_at"] == "2024-05-01T12:00:00+00:00"
    dev = list(wb["deviations"].iter_rows(values_only=True))
    assert dev[0] == DEVIATION_COLUMNS
    # timestamps are real date cells in UTC
    assert dev[1][DEVIATION_COLUMNS.index("timestamp")] == pd.Timestamp("2024-03-01 09:15:02").to_pydatetime()
    assert dev[2][DEVIATION_COLUMNS.index("accepted")] is True


def test_csv_golden_and_sidecars(tmp_path):
    out = tmp_path / "deviations.csv"
    written = write_tables({"deviations": _deviations(), "summary": {"fitness": 0.5}}, out,
                           provenance=_provenance())
    assert [p.name for p in written] == ["deviations.csv", "deviations.summary.csv", "deviations.provenance.json"]
    _golden("deviations.csv", out.read_bytes())
    assert (tmp_path / "deviations.summary.csv").read_bytes() == b"key,value\r\nfitness,0.5\r\n"
    prov = json.loads((tmp_path / "deviations.provenance.json").read_text())
    assert prov["inputs"]["model"] == "lead_to_order.bpmn sha256:" + "b" * 64


def test_json_golden_keeps_values_verbatim():
    data = to_bytes({"deviations": _deviations(), "summary": {"fitness": 0.5, "precision": None}},
                    fmt="json", provenance=_provenance())
    _golden("deviations.json", data)
    doc = json.loads(data)
    assert list(doc) == ["provenance", "deviations", "summary"]
    assert doc["deviations"][0]["activity"] == "=cmd|' /C calc'!A0"  # JSON is data: no prefix
    assert doc["deviations"][0]["timestamp"] == "2024-03-01T09:15:02Z"
    assert doc["deviations"][0]["rule_id"] is None


def test_zip_bundles_tables_and_provenance():
    data = to_bytes({"deviations": _deviations(), "summary": {"fitness": 0.5}}, fmt="zip", provenance=_provenance())
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == ["deviations.csv", "provenance.json", "summary.csv"]
        assert zf.read("deviations.csv") == to_bytes({"d": _deviations()}, fmt="csv")


def test_pseudonymize_is_keyed_stable_and_keeps_missing():
    frame = pd.DataFrame({"case_id": ["A", "B", "A"], "resource": ["alice", None, "bob"], "kind": ["x"] * 3})
    out = pseudonymize(frame, key="k1", columns={"case_id": "case-", "resource": "res-"})
    assert out["case_id"].tolist()[0] == out["case_id"].tolist()[2] == pseudonym("A", "k1", prefix="case-")
    assert out["case_id"].nunique() == 2
    assert out["resource"].isna().tolist() == [False, True, False]
    assert out["kind"].tolist() == ["x"] * 3  # other columns untouched
    assert "alice" not in out.to_csv()
    # another key gives other pseudonyms; the input is not mutated
    other = pseudonymize(frame, key="k2", columns={"case_id": "case-"})
    assert other["case_id"][0] != out["case_id"][0]
    assert frame["case_id"].tolist() == ["A", "B", "A"]
    assert len(pseudonym("A", "k1")) == 16
    with pytest.raises(ValueError, match="non-empty key"):
        pseudonymize(frame, key="", columns={"case_id": ""})


def test_format_errors_and_inference(tmp_path):
    with pytest.raises(ValueError, match="cannot tell the export format"):
        write_tables({"t": pd.DataFrame({"a": [1]})}, tmp_path / "x.txt")
    with pytest.raises(ValueError, match="give fmt="):
        write_tables({"t": pd.DataFrame({"a": [1]})}, io.BytesIO())
    with pytest.raises(ValueError, match="nothing to export"):
        to_bytes({}, fmt="json")


def test_xlsx_illegal_control_characters_do_not_break_the_file(tmp_path):
    # \x0b (vertical tab) cannot be stored in XML; the file must still open
    out = tmp_path / "x.xlsx"
    write_tables({"t": pd.DataFrame({"v": ["a\x0bb", "ok"]})}, out)
    values = [r[0] for r in openpyxl.load_workbook(out)["t"].iter_rows(min_row=2, values_only=True)]
    assert values == ["a\ufffdb", "ok"]
    assert XLSX_MAX_ROWS == 1_048_576


def _golden(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert data == path.read_bytes(), f"{name} differs from the golden file (UPDATE_GOLDEN=1 to accept)"


# ------------------------------------------------------------------ the column-wise writers
def test_xlsx_cells_are_typed_and_literal_escapes_and_markup_survive(tmp_path):
    frame = pd.DataFrame({
        # a literal OOXML escape must not turn into "A" in Excel; markup characters are escaped XML
        "text": ["_x0041_", "a<b>&c", "  padded  ", None],
        "n": [1.5, float("nan"), float("inf"), 3.0],  # NaN / inf: no cell
        "flag": [True, False, True, False],
        "when": pd.to_datetime(["2024-03-01 09:15:02", None, "1999-12-31 23:59:59", "2024-01-01 00:00:00"]).tz_localize(
            "UTC"),
    })
    out = tmp_path / "typed.xlsx"
    write_tables({"t": frame}, out)
    sheet_xml = zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml").decode()
    assert '<c r="A2" t="inlineStr"><is><t xml:space="preserve">_x005F_x0041_</t></is></c>' in sheet_xml
    assert "a&lt;b&gt;&amp;c" in sheet_xml
    rows = list(openpyxl.load_workbook(out)["t"].iter_rows(values_only=True))
    assert rows[0] == ("text", "n", "flag", "when")
    assert rows[1:] == [
        ("_x005F_x0041_", 1.5, True, pd.Timestamp("2024-03-01 09:15:02").to_pydatetime()),
        ("a<b>&c", None, False, None),
        ("  padded  ", None, True, pd.Timestamp("1999-12-31 23:59:59").to_pydatetime()),
        (None, 3, False, pd.Timestamp("2024-01-01").to_pydatetime()),
    ]
    # Excel's decoding rule (_x005F_ is a literal "_") gives back the original text
    assert re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m.group(1), 16)), rows[1][0]) == "_x0041_"


def test_xlsx_cuts_text_past_excels_limit_and_says_so_on_a_notes_sheet(tmp_path):
    out = tmp_path / "long.xlsx"
    write_tables({"t": pd.DataFrame({"v": ["x" * 40_000, "short"]})}, out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["t", "notes"]
    assert [len(r[0]) for r in wb["t"].iter_rows(min_row=2, values_only=True)] == [32_767, 5]
    assert wb["notes"]["A2"].value == ("1 text cells were longer than Excel's 32,767 characters and are cut there; "
                                       "use the CSV, JSON or Parquet export for the full text")


def test_csv_and_json_write_timestamps_numbers_and_escapes_exactly():
    frame = pd.DataFrame({
        "ns": pd.to_datetime(["2024-01-01 00:00:00.123456789", "1960-05-05 23:59:59.5", None],
                             format="ISO8601").tz_localize("UTC"),
        "naive": pd.to_datetime(["2024-01-01 00:00:01", "1899-12-31 01:02:03.000001", None], format="ISO8601"),
        "f": [2.0, float("nan"), 1e-7],
        "s": ['say "hi"\\', "tab\there", "ctl\x01"],
        "cat": pd.Categorical(["=1+1", "ok", None]),  # a categorical label column is neutralised too
    })
    csv_lines = to_bytes({"t": frame}, fmt="csv").decode().split("\r\n")
    assert csv_lines == [
        "ns,naive,f,s,cat",
        '2024-01-01T00:00:00.123456789Z,2024-01-01T00:00:01,2.0,"say ""hi""\\",\'=1+1',
        "1960-05-05T23:59:59.500000Z,1899-12-31T01:02:03.000001,,tab\there,ok",
        ",,1e-07,ctl\x01,",
        "",
    ]
    records = to_bytes({"t": frame}, fmt="jsonl").decode().splitlines()
    expected = [
        {"ns": "2024-01-01T00:00:00.123456789Z", "naive": "2024-01-01T00:00:01", "f": 2.0, "s": 'say "hi"\\',
         "cat": "=1+1"},
        {"ns": "1960-05-05T23:59:59.500000Z", "naive": "1899-12-31T01:02:03.000001", "f": None, "s": "tab\there",
         "cat": "ok"},
        {"ns": None, "naive": None, "f": 1e-7, "s": "ctl\x01", "cat": None},
    ]
    # the same text Python's own encoder writes, record by record
    assert records == [json.dumps(r, ensure_ascii=False) for r in expected]


def test_chunked_writers_give_the_bytes_of_one_chunk(monkeypatch, tmp_path):
    # rows are written in chunks (memory stays bounded): 7 rows in chunks of 3 give the file of one chunk
    from processmining.export import writers, xlsx

    frame = pd.DataFrame({"case_id": [f"c{i}" for i in range(7)], "n": range(7),
                          "note": ["=1+1", "a,b", None, 'say "hi"', "x", "", "y"],
                          "timestamp": pd.date_range("2024-01-01", periods=7, freq="h", tz="UTC")})
    out = {}
    # chunks of 3 rows joined 2 rows at a time, chunks of 3 joined whole, one chunk joined whole
    for rows, join_rows in ((3, 2), (3, 1_000), (1_000, 1_000)):
        monkeypatch.setattr(writers, "CHUNK_ROWS", rows)
        monkeypatch.setattr(xlsx, "CHUNK_ROWS", rows)
        monkeypatch.setattr(writers, "JOIN_ROWS", join_rows)
        got = {fmt: to_bytes({"t": frame}, fmt=fmt) for fmt in ("csv", "jsonl", "json")}
        write_tables({"t": frame}, tmp_path / f"t{rows}.xlsx")
        with zipfile.ZipFile(tmp_path / f"t{rows}.xlsx") as zf:
            got["xlsx"] = zf.read("xl/worksheets/sheet1.xml")
        out[rows if join_rows == 1_000 else 2] = got
    assert out[2] == out[3] == out[1_000]
    assert out[3]["csv"].split(b"\r\n")[1:4] == [b"c0,0,'=1+1,2024-01-01T00:00:00Z", b'c1,1,"a,b",2024-01-01T01:00:00Z',
                                                  b"c2,2,,2024-01-01T02:00:00Z"]
    assert out[3]["jsonl"].splitlines()[3] == (b'{"case_id": "c3", "n": 3, "note": "say \\"hi\\"", '
                                               b'"timestamp": "2024-01-01T03:00:00Z"}')


def test_a_chunk_is_scanned_for_csv_quotes_by_its_own_rows_only():
    # a chunk of rows is a slice that shares the whole column's data buffer: only row 0 holds a comma, so the
    # slice of rows 1.. needs no quoting (and its scan reads its own bytes, not the column's)
    import pyarrow as pa

    from processmining.export.writers import _any_byte, _value_bytes

    arr = pa.array(["a,b", "c", "d", None, "e"])
    assert _any_byte(arr, b",") is True
    assert _any_byte(arr.slice(1), b",") is False
    assert bytes(_value_bytes(arr.slice(1, 2))) == b"cd"
    assert bytes(_value_bytes(arr.slice(3, 1))) == b""


def test_system_arrow_pool_is_restored_when_the_last_user_leaves():
    # the export's chunks allocate from malloc; nested (and concurrent) users restore the pool only at the end
    import pyarrow as pa

    from processmining.memory import system_arrow_pool

    before = pa.default_memory_pool().backend_name
    with system_arrow_pool():
        assert pa.default_memory_pool().backend_name == "system"
        with system_arrow_pool():
            assert pa.default_memory_pool().backend_name == "system"
        assert pa.default_memory_pool().backend_name == "system"
    assert pa.default_memory_pool().backend_name == before

    @system_arrow_pool()
    def inside() -> str:
        return pa.default_memory_pool().backend_name

    assert inside() == "system"
    assert pa.default_memory_pool().backend_name == before
