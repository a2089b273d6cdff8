"""``processmining bottlenecks --calendar``: SLA breaches in working time, through the report's working_sla_breaches."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from processmining.cli import app
from processmining.model import ACTIVITY, CASE, TIMESTAMP
from processmining.performance.calendar import calendar_from_dict, working_sla_breaches

CALENDAR = """timezone: UTC
hours:
  mon: ["09:00-17:00"]
  tue: ["09:00-17:00"]
  wed: ["09:00-17:00"]
  thu: ["09:00-17:00"]
  fri: ["09:00-17:00"]
"""
# SLA A->B<=4h; 2024-01-05 is a Friday
ROWS = [
    ("c1", "A", "2024-01-05 16:00"), ("c1", "B", "2024-01-08 10:00"),  # 66 h calendar, 2 h working: met in working time
    ("c2", "A", "2024-01-08 09:00"), ("c2", "B", "2024-01-08 15:00"),  # 6 h both ways: late in both
    ("c3", "A", "2024-01-09 16:00"), ("c3", "B", "2024-01-10 11:00"),  # 19 h calendar, 3 h working: met in working
]


def _files(tmp_path):
    log = tmp_path / "log.csv"
    pd.DataFrame(ROWS, columns=[CASE, ACTIVITY, TIMESTAMP]).to_csv(log, index=False)
    cal = tmp_path / "office.yaml"
    cal.write_text(CALENDAR, encoding="utf-8")
    return log, cal


def test_calendar_time_and_working_time_differ(tmp_path) -> None:
    log, cal = _files(tmp_path)
    plain = CliRunner().invoke(app, ["bottlenecks", str(log), "--sla", "A->B<=4h"])
    assert plain.exit_code == 0, plain.output
    assert "SLA A->B<=4h: 3 of 3 cases breached (3 late, 0 still open)" in plain.output.splitlines()
    out = tmp_path / "bn.json"
    res = CliRunner().invoke(app, ["bottlenecks", str(log), "--sla", "A->B<=4h", "--calendar", str(cal), "-o", str(out)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert "SLA A->B<=4h: 1 of 3 cases breached (1 late, 0 still open)" in lines
    assert ("SLA breaches are measured in working time (calendar office.yaml, UTC); the ranking, case durations and "
            "idle times are calendar time") in lines
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [(r["case"], r["duration_s"], r["excess_s"], r["measured_in"]) for r in doc["sla_breaches"]] == [
        ("c2", 21600.0, 7200.0, "working time (office.yaml)")]


def test_the_cli_gives_the_numbers_of_the_one_working_time_function(tmp_path) -> None:
    """The CLI's sheets are those of working_sla_breaches, which the report and the app's Bottlenecks page call."""
    from processmining.ingest import read_log

    log_path, cal_path = _files(tmp_path)
    out = tmp_path / "bn.xlsx"
    res = CliRunner().invoke(app, ["bottlenecks", str(log_path), "--sla", "A->B<=4h", "--calendar", str(cal_path),
                                   "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    summary = pd.read_excel(out, sheet_name="sla_summary")
    assert summary[["target", "measured", "met", "late"]].to_dict("records") == [
        {"target": "A->B<=4h", "measured": 3, "met": 2, "late": 1}]
    log = read_log(log_path)
    _, lib = working_sla_breaches(log, ["A->B<=4h"], calendar_from_dict({"hours": {
        d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}}, name="office.yaml"))
    assert lib[["measured", "met", "late"]].iloc[0].tolist() == [3, 2, 1]
    assert summary["median_s"].tolist() == lib["median_s"].tolist() == [3 * 3600.0]


def test_a_bad_calendar_is_a_message_not_a_traceback(tmp_path) -> None:
    log, _ = _files(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("hours:\n  mon: ['17:00-09:00']\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["bottlenecks", str(log), "--sla", "A->B<=4h", "--calendar", str(bad)])
    assert res.exit_code != 0
    assert "opening hours '17:00-09:00' must be an interval within one day (start < end)" in res.output
    assert "Traceback" not in res.output
