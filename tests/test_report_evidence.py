"""Every finding of the report lists its evidence: cases (count, share, examples, the annex sheet
finding_cases) or, for a finding about accounts / activities / attributes / columns, those (sheet
finding_items). The ids equal what the CLI analyses give on the same inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from processmining.cli import app
from tests.test_report import ANALYSIS, MAPPING, MODEL, deals_frame

REPO = Path(__file__).resolve().parent.parent
#: the deals log: 41 won (c00-c39, c60), 15 lost (c40-c54), 5 open; won deals last 12 days, eve's c00-c09 46
TARGETS = """won: ["Closed Won", "Order Booked"]
lost: Closed Lost
targets:
  win_rate: {target: 0.95}
  sales_cycle: {target: 10d, warning: 11d}
"""


def _sheets(path: Path) -> dict[str, pd.DataFrame]:
    return pd.read_excel(path, sheet_name=None, dtype={"case": str, "case_id": str, "item": str})


def _cases(sheets: dict[str, pd.DataFrame], finding: str) -> list[str]:
    fc = sheets["finding_cases"]
    return sorted(fc.loc[fc["finding"] == finding, "case"])


def _items(sheets: dict[str, pd.DataFrame], finding: str) -> list[str]:
    fi = sheets["finding_items"]
    return fi.loc[fi["finding"] == finding, "item"].tolist()


@pytest.fixture(scope="module")
def deals(tmp_path_factory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("evidence")
    csv = tmp / "deals.csv"
    deals_frame().to_csv(csv, index=False)
    targets = tmp / "targets.yaml"
    targets.write_text(TARGETS, encoding="utf-8")
    runner = CliRunner()
    html = tmp / "audit.html"
    res = runner.invoke(app, ["report", str(csv), *MAPPING, *ANALYSIS, "--model", str(MODEL), "--targets",
                              str(targets), "-o", str(html)])
    assert res.exit_code == 0, res.output
    kpis = tmp / "kpis.xlsx"
    res2 = runner.invoke(app, ["kpis", str(csv), *MAPPING, "--targets", str(targets), "-o", str(kpis), "-q"])
    assert res2.exit_code == 0, res2.output
    return {"sheets": _sheets(tmp / "audit_evidence.xlsx"), "html": html.read_text(encoding="utf-8"),
            "kpi_cases": pd.read_excel(kpis, sheet_name="kpi_cases", dtype={"case": str}), "output": res.output}


def test_every_finding_lists_cases_or_the_items_it_is_about(deals) -> None:
    sheets = deals["sheets"]
    findings = sheets["findings"]
    assert len(findings) >= 8
    for row in findings.itertuples():
        cases, items = _cases(sheets, row.finding), _items(sheets, row.finding)
        assert len(cases) == row.cases and len(items) == row.items, row.finding
        assert cases or items, (row.finding, row.type)  # nothing without its evidence list
        for example in cases[:5]:  # the report shows the first five of the annex list
            assert example in deals["html"], (row.finding, example)


def test_kpi_breaches_list_the_cases_beyond_the_target_as_the_kpis_command(deals) -> None:
    sheets, cli = deals["sheets"], deals["kpi_cases"]
    f = sheets["findings"].set_index("title:kpi")
    lost = [f"c{i}" for i in range(40, 55)]
    won = sorted([f"c{i:02d}" for i in range(40)] + ["c60"])
    # win rate 41 / 56 = 73 % against 95 %: the evidence is the 15 lost deals
    assert _cases(sheets, f.loc["win_rate", "finding"]) == lost
    assert sorted(cli.loc[cli["kpi"] == "win_rate", "case"]) == lost
    # median sales cycle 12 d against 10 d: every won deal took longer than 10 days
    assert _cases(sheets, f.loc["sales_cycle", "finding"]) == won
    assert sorted(cli.loc[cli["kpi"] == "sales_cycle", "case"]) == won
    assert f.loc["win_rate", "cases"] == 15 and round(f.loc["win_rate", "share"], 6) == round(15 / 61, 6)


def test_the_cli_summary_names_the_unit_of_findings_without_cases() -> None:
    from processmining.report.findings import Finding

    f = Finding(type="people_spof", section="people", severity="low", severity_rule="sev.quality",
                severity_params={}, title_params={}, case_ids=[], share=0.0, evidence_sheet="quality",
                case_based=False, items=["Approve (ann)", "Book (bob)"], item_unit="activities")
    assert f.record()["items"] == 2 and f.record()["item_unit"] == "activities"
    assert f.example_items == ["Approve (ann)", "Book (bob)"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict[str, object]:
    """The bundled Jira demo export with tight KPI targets, so that each KPI finding has a case list."""
    from processmining.ingest import read_log
    from processmining.report.build import build_report

    tmp = tmp_path_factory.mktemp("demo")
    path = REPO / "eventlogs" / "jira_changelog.json"
    targets = {"targets": {"first_response": {"target": "30min"}, "resolution": {"target": "12h"},
                           "reopen_rate": {"target": 0.01}, "handover_share": {"target": 0.005}}}
    (tmp / "t.yaml").write_text(json.dumps(targets), encoding="utf-8")  # JSON is YAML
    log = read_log(path)
    rep = build_report(log, kpi_overrides=targets)
    runner = CliRunner()
    out = {}
    for name, args in {"kpis": ["kpis", str(path), "--targets", str(tmp / "t.yaml"), "-o", str(tmp / "k.xlsx")],
                       "quality": ["quality", str(path), "-o", str(tmp / "q.json")],
                       "bottlenecks": ["bottlenecks", str(path), *[x for s in rep.facts["slas"] for x in ("--sla", s)],
                                       *([] if rep.facts["ends_inferred"] else
                                         [x for e in rep.facts["ends"] for x in ("--final", e)]),
                                       "--idle", rep.facts["idle"], "-o", str(tmp / "b.xlsx")]}.items():
        res = runner.invoke(app, [*args, "-q"])
        assert res.exit_code == 0, (name, res.output)
    out["kpi_cases"] = pd.read_excel(tmp / "k.xlsx", sheet_name="kpi_cases", dtype={"case": str})
    out["quality"] = json.loads((tmp / "q.json").read_text(encoding="utf-8"))
    out["bottlenecks"] = pd.read_excel(tmp / "b.xlsx", sheet_name=None, dtype={"case": str})
    return {"rep": rep, "log": log, **out}


def test_demo_every_finding_has_its_evidence_list(demo) -> None:
    rep = demo["rep"]
    types = {f.type for f in rep.findings}
    assert {"kpi", "sla_breach", "stuck", "people_left", "people_bots", "quality"} <= types
    for f in rep.findings:
        assert f.case_ids or f.items, (f.id, f.type)
        assert f.examples == sorted(f.case_ids)[:5] and f.example_items == f.items[:5]
    fc, fi = rep.tables["finding_cases"], rep.tables["finding_items"]
    assert len(fc) == sum(f.cases for f in rep.findings) and len(fi) == sum(len(f.items) for f in rep.findings)


def test_demo_kpi_cases_equal_the_kpis_command(demo) -> None:
    rep, cli = demo["rep"], demo["kpi_cases"]
    kpi = [f for f in rep.findings if f.type == "kpi"]
    assert {f.title_params["kpi"][1] for f in kpi} == {"first_response", "resolution", "reopen_rate", "handover_share"}
    for f in kpi:
        name = f.title_params["kpi"][1]
        assert f.case_ids == sorted(cli.loc[cli["kpi"] == name, "case"]), name
        assert f.cases > 0
    sizes = {f.title_params["kpi"][1]: f.cases for f in kpi}
    # handovers: the 2.1 % of 1,500 tickets handed over more than 3 times (the KPI table's actual)
    table = rep.tables["kpis"].set_index("kpi")
    assert sizes["handover_share"] == round(table.loc["handover_share", "actual"] * 1500)
    assert sizes["handover_share"] == 32


def test_demo_sla_and_stuck_cases_equal_the_bottlenecks_command(demo) -> None:
    rep, b = demo["rep"], demo["bottlenecks"]
    sla = [f for f in rep.findings if f.type == "sla_breach"]
    breaches = b["sla_breaches"]
    assert len(sla) == 2
    for f in sla:
        target = f.title_params["sla"][1]
        assert f.case_ids == sorted(set(breaches.loc[breaches["target"] == target, "case"])), target
    stuck = next(f for f in rep.findings if f.type == "stuck")
    assert stuck.case_ids == sorted(b["stuck_cases"]["case"])


def test_demo_accounts_labels_attributes_and_columns_equal_the_quality_command(demo) -> None:
    from processmining.quality import audit

    rep, q = demo["rep"], demo["quality"]
    by_check = {}
    for f in q["findings"]:
        by_check.setdefault(f["check"], f)
    checks = {f.title_params["check"][1]: f for f in rep.findings if "check" in f.title_params}
    assert checks["returning_accounts"].items == by_check["returning_accounts"]["details"]["accounts"] == [
        "Hannes Lund", "Zoe Ibrahim"]
    assert checks["system_accounts"].items == ["Automation for Jira"]
    assert checks["synonymous_labels"].items == [f"{a} → {b}" for a, b in
                                                 by_check["synonymous_labels"]["details"]["mapping"].items()]
    assert checks["mixed_offsets"].items == ["created: 6"] and checks["mixed_offsets"].item_unit == "columns"
    incomplete = sorted(a for a, c in by_check["attribute_completeness"]["details"]["completeness"].items() if c < 1)
    assert sorted(checks["attribute_completeness"].items) == incomplete and len(incomplete) == 3
    # the cases of each case-based quality finding are the check's own case list (what `quality` counts)
    lib = {f.check: f for f in audit(demo["log"]).findings}
    for check, f in checks.items():
        if check in lib:
            assert f.case_ids == sorted(lib[check].case_ids), check
            assert f.cases == by_check[check]["cases_affected"], check
