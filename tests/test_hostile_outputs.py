"""Outputs and security, round 2 (issue 11): nothing written that the user did not name, nothing half-written,
no formula and no internal column in a user-facing table, pseudonyms for names of any length, YAML bombs,
and the CLI's former "internal error" exits."""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from processmining.cli import app
from processmining.errors import OutputError, RuleError, UnsafeInputError
from processmining.export import Pseudonymizer, pseudonym, to_bytes, write_tables
from processmining.ingest import read_log, write_log
from processmining.rules import load_rules
from processmining.safe_input import atomic_output, check_output_path, load_yaml, tracking_inputs

LOG = "case,activity,time,who\n1,Open,2024-03-01 09:00,al\n1,Close,2024-03-02 10:00,Bo Li\n2,Open,2024-03-03 09:00,al\n"
BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
<process id="p" isExecutable="false"><startEvent id="s"/><task id="t1" name="Open"/><task id="t2" name="Close"/>
<endEvent id="e"/><sequenceFlow id="f1" sourceRef="s" targetRef="t1"/><sequenceFlow id="f2" sourceRef="t1" targetRef="t2"/>
<sequenceFlow id="f3" sourceRef="t2" targetRef="e"/></process></definitions>
"""


def _run(args: list[str]):  # noqa: ANN202
    return CliRunner().invoke(app, args)


@pytest.fixture()
def files(tmp_path: Path) -> Path:
    (tmp_path / "log.csv").write_text(LOG)
    (tmp_path / "m.bpmn").write_text(BPMN)
    return tmp_path


# ------------------------------------------------------------------ output over input
@pytest.mark.parametrize("flag", ["-o", "--report"])
def test_convert_refuses_to_overwrite_its_input(files, flag):
    log = files / "log.csv"
    before = log.read_bytes()
    args = ["convert", str(log), "-o", str(files / "out.csv")] if flag == "--report" else ["convert", str(log)]
    res = _run([*args, flag, str(log)])
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines()[-1] == f"error: {log}: is one of the inputs; refusing to overwrite it " \
                                                  "(choose another output name)"
    assert log.read_bytes() == before


def test_an_input_reached_through_a_symlink_or_hard_link_is_protected(files):
    log = files / "log.csv"
    (files / "link.csv").symlink_to(log)
    os.link(log, files / "hard.csv")
    for out in ("link.csv", "hard.csv"):
        res = _run(["convert", str(log), "-o", str(files / out)])
        assert res.exit_code == 2 and "is one of the inputs" in res.stderr
    assert log.read_text() == LOG


def test_quality_fixed_log_and_conform_summary_cannot_overwrite_inputs(files):
    log, model = files / "log.csv", files / "m.bpmn"
    res = _run(["quality", str(log), "--fixed-log", str(log), "-q"])
    assert (res.exit_code, "is one of the inputs" in res.stderr) == (2, True)
    res = _run(["conform", str(log), str(model), "-o", str(files / "d.csv"), "--summary", str(model), "-q"])
    assert (res.exit_code, "is one of the inputs" in res.stderr) == (2, True)
    assert model.read_text() == BPMN and log.read_text() == LOG


def test_two_outputs_on_one_file_are_refused(files):
    res = _run(["convert", str(files / "log.csv"), "-o", str(files / "x.csv"), "--report", str(files / "x.csv")])
    assert res.exit_code == 2
    assert res.stderr.strip().endswith("is given for both --output and --report; choose two different files")


def test_missing_folder_and_symlink_loop_are_one_line_messages(files):
    res = _run(["convert", str(files / "log.csv"), "-o", str(files / "nope" / "o.csv")])
    assert (res.exit_code, res.stderr.strip()) == (
        2, f"error: {files / 'nope' / 'o.csv'}: the folder {str(files / 'nope')!r} does not exist; create it first")
    (files / "loop.csv").symlink_to(files / "loop.csv")
    res = _run(["convert", str(files / "log.csv"), "-o", str(files / "loop.csv")])
    assert (res.exit_code, res.stderr.strip()) == (2, f"error: {files / 'loop.csv'}: cannot write here: symbolic "
                                                      "link loop")


def test_library_writers_refuse_files_read_in_the_same_block(files):
    log_path = files / "log.csv"
    with tracking_inputs():
        log = read_log(log_path)
        with pytest.raises(OutputError, match="is one of the inputs"):
            write_log(log, log_path)
        with pytest.raises(OutputError, match="is one of the inputs"):
            write_tables({"t": log.df}, log_path, fmt="csv")
    assert check_output_path(files / "new.csv") == files / "new.csv"
    with pytest.raises(OutputError, match="is a folder"):
        check_output_path(files)


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(files):
    target = files / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert sorted(p.name for p in files.iterdir()) == ["log.csv", "m.bpmn", "out.csv"]
    # a successful write keeps the permissions of the file it replaces
    target.chmod(0o640)
    write_tables({"t": pd.DataFrame({"a": [1]})}, target)
    assert (target.read_bytes(), oct(target.stat().st_mode & 0o777)) == (b"a\r\n1\r\n", "0o640")


# ------------------------------------------------------------------ formulas and internal columns
def test_every_table_writer_neutralises_values_and_headers_and_leaves_out_internal_columns(files):
    frame = pd.DataFrame({"=cmd|' /C calc'!A0": ["=1+1", "ok"], "@@index": [0, 1], "@@source_row": [2, 3],
                          "v": ["-2+3", "@SUM(A1)"]})
    csv_text = to_bytes({"t": frame}, fmt="csv").decode()
    assert csv_text == "'=cmd|' /C calc'!A0,v\r\n'=1+1,'-2+3\r\nok,'@SUM(A1)\r\n"
    wb = openpyxl.load_workbook(io.BytesIO(to_bytes({"t": frame}, fmt="xlsx")))
    rows = [[c.value for c in r] for r in wb["t"].iter_rows()]
    assert rows == [["=cmd|' /C calc'!A0", "v"], ["=1+1", "-2+3"], ["ok", "@SUM(A1)"]]
    assert {c.data_type for r in wb["t"].iter_rows() for c in r} == {"s"}
    doc = json.loads(to_bytes({"t": frame}, fmt="json"))
    assert list(doc["t"][0]) == ["=cmd|' /C calc'!A0", "v"]
    lines = to_bytes({"t": frame}, fmt="jsonl").decode().splitlines()
    assert [json.loads(x) for x in lines] == [{"=cmd|' /C calc'!A0": "=1+1", "v": "-2+3"},
                                              {"=cmd|' /C calc'!A0": "ok", "v": "@SUM(A1)"}]
    parquet = pd.read_parquet(io.BytesIO(to_bytes({"t": frame}, fmt="parquet")))
    assert list(parquet.columns) == ["=cmd|' /C calc'!A0", "v"]


def test_convert_to_csv_and_quality_fixed_log_write_no_internal_columns_and_no_formulas(files):
    (files / "evil.csv").write_text("case,activity,time\n1,=HYPERLINK(\"x\"),2024-03-01 09:00\n1,Close,2024-03-02\n")
    assert _run(["convert", str(files / "evil.csv"), "-o", str(files / "o.csv")]).exit_code == 0
    text = (files / "o.csv").read_text()
    assert text.splitlines()[0] == '"case:concept:name","concept:name","time:timestamp"'
    assert "\"'=HYPERLINK(\"\"x\"\")\"" in text
    for suffix in (".csv", ".xlsx", ".json"):
        out = files / f"fixed{suffix}"
        res = _run(["quality", str(files / "evil.csv"), "--fixed-log", str(out), "-q"])
        assert res.exit_code == 0, res.stderr
        body = out.read_bytes() if suffix != ".xlsx" else zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml")
        assert b"@@index" not in body and b"@@source_row" not in body, suffix


def test_parquet_export_carries_provenance_in_its_metadata(files):
    import pyarrow.parquet as pq

    from processmining.model import Provenance

    prov = Provenance(inputs={"log": "x sha256:1"}, parameters={}, tool_version="1", python="3", created_at="t")
    written = write_tables({"deviations": pd.DataFrame({"a": [1, 2]}), "summary": {"fitness": 0.5}},
                           files / "d.parquet", provenance=prov)
    assert [p.name for p in written] == ["d.parquet", "d.summary.parquet", "d.provenance.json"]
    meta = pq.read_schema(files / "d.parquet").metadata[b"processmining.provenance"]
    assert json.loads(meta)["inputs"] == {"log": "x sha256:1"}
    assert pd.read_parquet(files / "d.summary.parquet").to_dict("list") == {"key": ["fitness"], "value": ["0.5"]}


# ------------------------------------------------------------------ pseudonymisation
def test_pseudonyms_cover_names_of_any_length_inside_text_but_not_inside_words():
    p = Pseudonymizer.from_names(key="k", cases=["7", "A-1"], resources=["al", "Bo Li", "x"])
    text = "Quote and Approve were both done by al (also by Bo Li); case 7 and A-1 by x, not by xavier"
    assert p.text(text) == (f"Quote and Approve were both done by {pseudonym('al', 'k', prefix='res-')} (also by "
                            f"{pseudonym('Bo Li', 'k', prefix='res-')}); case {pseudonym('7', 'k', prefix='case-')} "
                            f"and {pseudonym('A-1', 'k', prefix='case-')} by {pseudonym('x', 'k', prefix='res-')}, "
                            "not by xavier")


def test_bare_number_names_are_replaced_in_text_only_where_they_stand_for_an_id():
    p = Pseudonymizer.from_names(key="k", cases=["3", "65533"], resources=["561"])
    case3, res561 = pseudonym("3", "k", prefix="case-"), pseudonym("561", "k", prefix="res-")
    assert p.text("3 cases of 6 (50.0 %) took 561 events") == "3 cases of 6 (50.0 %) took 561 events"
    assert p.text("case 3 was closed by 561; 65,533 events") == f"case {case3} was closed by {res561}; 65,533 events"
    assert p.text("Ticket #3") == f"Ticket #{case3}"
    assert p.text("3") == case3  # a whole value that is the id


def test_conform_pseudonymises_every_output_file(files):
    (files / "p.csv").write_text("case,activity,time,who\nK1,Open,2024-03-01 09:00,al\nK1,Open,2024-03-02 10:00,al\n"
                                 "K2,Close,2024-03-03 09:00,Bo Li\n")
    out, summary = files / "d.xlsx", files / "s.json"
    res = _run(["conform", str(files / "p.csv"), str(files / "m.bpmn"), "--resource", "who", "--case", "case",
                "--activity", "activity", "--timestamp", "time", "-o", str(out), "--summary", str(summary),
                "--pseudonymize", "secret", "-q"])
    assert res.exit_code == 0, res.stderr
    wb = openpyxl.load_workbook(out)
    cells = [str(c.value) for ws in wb.worksheets if ws.title != "provenance" for r in ws.iter_rows() for c in r
             if c.value is not None]
    words = {w for c in cells for w in c.replace("(", " ").replace(")", " ").replace(",", " ").split()}
    assert not ({"al", "Bo", "Li", "K1", "K2"} & words)
    assert pseudonym("K2", "secret", prefix="case-") in " ".join(cells)
    assert "K1" not in summary.read_text() and "K2" not in summary.read_text()


# ------------------------------------------------------------------ YAML bombs
BOMB = (b"a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        b"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
        b"f: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\nrules: []\n")


def test_yaml_alias_bomb_is_refused_at_once():
    started = time.perf_counter()
    with pytest.raises(UnsafeInputError) as exc:
        load_rules(BOMB, name="r.yaml")
    assert str(exc.value) == ("r.yaml: YAML expands to more than 200,000 values through its aliases; refusing a "
                              "possible alias bomb")
    assert time.perf_counter() - started < 5  # generous: the point is "not minutes"


def test_yaml_limits_on_aliases_depth_and_size():
    many = b"a: &a 1\nb: [" + b",".join([b"*a"] * 101) + b"]\n"
    with pytest.raises(UnsafeInputError, match="more than 100 aliases"):
        load_yaml(many, "m.yaml")
    with pytest.raises(UnsafeInputError, match="nested deeper than 100 levels"):
        load_yaml(b"[" * 101 + b"]" * 101, "d.yaml")
    with pytest.raises(UnsafeInputError, match="over the 2 MB limit"):
        load_yaml(b"a: " + b"x" * (3 * 1024**2), "big.yaml")
    doc, root = load_yaml(b"rules:\n  - id: a\n", "ok.yaml")
    assert doc == {"rules": [{"id": "a"}]} and root.start_mark.line == 0


# ------------------------------------------------------------------ former internal errors in the CLI
def test_sla_rule_before_any_case_reached_the_target(files):
    (files / "open.csv").write_text("case,activity,time\n1,Open,2024-03-01 09:00\n2,Open,2024-03-03 09:00\n")
    (files / "r.yaml").write_text("rules:\n  - id: sla\n    type: max_duration\n    from: Open\n    to: Close\n"
                                  "    limit: 2d\n")
    res = _run(["conform", str(files / "open.csv"), str(files / "m.bpmn"), "--rules", str(files / "r.yaml"),
                "-o", str(files / "d.csv"), "-q"])
    assert res.exit_code == 0, res.stderr
    assert "sla" not in (files / "d.csv").read_text()
    res = _run(["bottlenecks", str(files / "open.csv"), "-q"])
    assert res.exit_code == 0, res.stderr


@pytest.mark.parametrize("rules,message", [
    ("rules:\n  - id: idle\n    type: max_idle\n    limit: 30d\n    as_of: 1500-01-01\n",
     "r.yaml, line 2: rule 'idle': as_of '1500-01-01' is outside the dates this tool holds (1677-09-22 to 2262-04-11)"),
    ("rules:\n  - id: idle\n    type: max_idle\n    limit: 999999999d\n",
     "r.yaml, line 2: rule 'idle': limit '999999999d' is longer than the ~292 years a duration can hold"),
])
def test_limits_and_as_of_outside_the_time_range(files, rules, message):
    (files / "r.yaml").write_text(rules)
    with pytest.raises(RuleError) as exc:
        load_rules(files / "r.yaml")
    assert str(exc.value) == message
    res = _run(["quality", str(files / "log.csv"), "--now", "1500-01-01", "-q"])
    assert (res.exit_code, res.stderr.strip()) == (2, "error: --now '1500-01-01' is outside the dates this tool "
                                                      "holds (1677-09-22 to 2262-04-11)")
