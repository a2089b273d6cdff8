"""``processmining discover`` and ``processmining bottlenecks`` through the real entry point."""

from __future__ import annotations

import json

import pytest
from lxml import etree
from typer.testing import CliRunner

import processmining.cli

CSV = """ticket,status,changed,agent,priority
t1,Open,2024-01-01 08:00,desk,High
t1,L1,2024-01-01 09:00,ann,High
t1,L2,2024-01-01 10:00,bob,High
t1,L1,2024-01-01 12:00,ann,High
t1,Resolved,2024-01-03 10:00,ann,High
t2,Open,2024-01-01 08:00,desk,Low
t2,L1,2024-01-01 14:00,cid,Low
t2,Resolved,2024-01-01 16:00,cid,Low
t3,Open,2024-01-02 08:00,desk,Low
"""
MAPPING = ["--case", "ticket", "--activity", "status", "--timestamp", "changed", "--resource", "agent"]


@pytest.fixture
def log_csv(tmp_path):
    p = tmp_path / "tickets.csv"
    p.write_text(CSV, encoding="utf-8")
    return p


def run(*args):
    return CliRunner().invoke(processmining.cli.app, [str(a) for a in args])


@pytest.mark.parametrize("suffix", [".svg", ".png", ".dot"])
def test_discover_writes_a_map(log_csv, tmp_path, suffix):
    out = tmp_path / f"map{suffix}"
    res = run("discover", log_csv, "-o", out, *MAPPING)
    assert res.exit_code == 0, res.output
    data = out.read_bytes()
    assert {".svg": data.startswith(b"<svg"), ".png": data[:4] == b"\x89PNG",
            ".dot": data.startswith(b"digraph")}[suffix]
    assert f"wrote {out}: 4 of 4 activities" in res.output


def test_discover_with_filters_and_performance(log_csv, tmp_path):
    out = tmp_path / "map.dot"
    res = run("discover", log_csv, "-o", out, "--metric", "performance", "--contains", "Resolved",
              "--directly-follows", "Open->L1", "--within", "2h", *MAPPING)
    assert res.exit_code == 0, res.output
    assert "filter: cases where Open is directly followed by L1 within 2h" in res.output
    dot = out.read_text()
    assert "1 cases, 5 events" in dot  # only t1 picks up within 2 h
    assert 'label=" 1.9 d "' in dot   # L1 -> Resolved waits 46 h


def test_discover_bpmn(log_csv, tmp_path):
    out = tmp_path / "model.bpmn"
    res = run("discover", log_csv, "-o", out, "--noise", "0", *MAPPING)
    assert res.exit_code == 0, res.output
    root = etree.fromstring(out.read_bytes())
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    assert sorted(t.get("name") for t in root.iterfind(".//bpmn:task", ns)) == ["L1", "L2", "Open", "Resolved"]


def test_bottlenecks_json_report(log_csv, tmp_path):
    out = tmp_path / "report.json"
    res = run("bottlenecks", log_csv, "-o", out, "--sla", "Open->L1<=4h", "--sla", "Open->Resolved<=1d if priority=High",
              "--idle", "1d", "--final", "Resolved", "--stages", "Open,L1,L2,Resolved", *MAPPING)
    assert res.exit_code == 0, res.output
    assert "SLA Open->L1<=4h: 2 of 3 cases breached (1 late, 1 still open, 0 ended without the target)" in res.output
    assert "SLA Open->Resolved<=1d if priority=High: 1 of 1 cases breached (1 late, 0 still open, 0 ended without the target)" in res.output
    doc = json.loads(out.read_text())
    assert doc["provenance"]["parameters"]["sla"] == ["Open->L1<=4h", "Open->Resolved<=1d if priority=High"]
    breaches = doc["sla_breaches"]
    assert sorted((b["target"], b["case"], b["status"]) for b in breaches) == [
        ("Open->L1<=4h", "t2", "late"), ("Open->L1<=4h", "t3", "open"), ("Open->Resolved<=1d if priority=High", "t1", "late")]
    assert [m["case"] for m in doc["backward_moves"]] == ["t1"]
    assert [s["case"] for s in doc["stuck_cases"]] == ["t3"]  # t2 is resolved: finished, never stuck


def test_bottlenecks_xlsx_has_one_sheet_per_table(log_csv, tmp_path):
    import openpyxl

    out = tmp_path / "report.xlsx"
    res = run("bottlenecks", log_csv, "-o", out, "--quiet", *MAPPING)
    assert res.exit_code == 0, res.output
    sheets = openpyxl.load_workbook(out, read_only=True).sheetnames
    assert {"bottlenecks", "arcs", "rework", "provenance"} <= set(sheets)


@pytest.mark.parametrize(("args", "message"), [
    (["bottlenecks", "--sla", "Open->L1 within 4h"], "cannot read SLA 'Open->L1 within 4h'"),
    (["bottlenecks", "--sla", "Open->L9<=4h"], "activity 'L9' does not occur in the log"),
    (["discover", "-o", "map.pdf"], "cannot write 'map.pdf': use one of .svg, .png, .dot, .gv, .bpmn"),
    (["discover", "-o", "map.svg", "--contains", "Resolvd"], "did you mean 'Resolved'?"),
    (["discover", "-o", "map.svg", "--follows", "Open"], "--follows 'Open': expected \"A->B\""),
    (["discover", "-o", "map.svg", "--max-duration", "1s", "--min-duration", "1h"], "no case is left after the filters"),
])
def test_known_errors_are_one_line_and_exit_2(log_csv, tmp_path, args, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = run(args[0], log_csv, *args[1:], *MAPPING)
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert "Traceback" not in res.output


def test_bottlenecks_explains_open_breaches_without_final(log_csv, tmp_path):
    # Without --final a case that never reached the target looks "still open"; the CLI says how to fix that.
    res = run("bottlenecks", log_csv, "--sla", "Open->L1<=4h", *MAPPING)
    assert res.exit_code == 0, res.output
    assert "SLA Open->L1<=4h: 2 of 3 cases breached (1 late, 1 still open)" in res.output
    assert "--final" in res.output


def test_bottlenecks_pseudonymized_tables_name_nobody(log_csv, tmp_path):
    # t1 breaches the SLA; its id and the agents (three-letter names) are replaced by keyed pseudonyms
    from processmining.pseudonyms import pseudonym

    out = tmp_path / "bn.json"
    res = run("bottlenecks", log_csv, "-o", out, "--sla", "Open->L1<=4h", "--pseudonymize", "k3y", "-q", *MAPPING)
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    assert pseudonym("t2", "k3y", prefix="case-") in text  # t2 waited 6 h for L1
    for name in ('"t1"', '"t2"', '"ann"', '"bob"', '"cid"'):
        assert name not in text, name
