"""KPI table: exact figures, targets and status on small logs built here; the kpis command."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from processmining.cli import app
from processmining.errors import AnalysisError
from processmining.model import ACTIVITY, CASE, RESOURCE, TIMESTAMP, EventLog
from processmining.performance import handover_counts
from processmining.performance.calendar import calendar_from_dict
from processmining.report.kpis import kpi_settings, kpi_table, status

H = 3600.0


def tickets() -> EventLog:
    rows = [
        # t1: answered after 1 h, resolved after 24 h; u1 -> u2 -> u1: 2 handovers
        ("t1", "Open", "2024-01-08 09:00", "u1"), ("t1", "1st Line Support", "2024-01-08 10:00", "u2"),
        ("t1", "Resolved", "2024-01-09 09:00", "u2"), ("t1", "Closed", "2024-01-09 10:00", "u1"),
        # t2: opened Friday 16:00, answered Monday 10:00 (66 h, 2 working hours); reopened; 5 handovers
        ("t2", "Open", "2024-01-05 16:00", "u1"), ("t2", "1st Line Support", "2024-01-08 10:00", "u2"),
        ("t2", "Resolved", "2024-01-08 12:00", "u3"), ("t2", "1st Line Support", "2024-01-08 13:00", "u2"),
        ("t2", "Resolved", "2024-01-08 14:00", "u3"), ("t2", "Closed", "2024-01-08 15:00", "u1"),
        # t3: answered after 4 h, still open
        ("t3", "Open", "2024-01-09 09:00", "u1"), ("t3", "1st Line Support", "2024-01-09 13:00", "u2"),
        # t4: one person does everything: 0 handovers; answered after 30 min, resolved after 24.5 h
        ("t4", "Open", "2024-01-10 09:00", "u1"), ("t4", "1st Line Support", "2024-01-10 09:30", "u1"),
        ("t4", "Resolved", "2024-01-11 09:30", "u1"), ("t4", "Closed", "2024-01-12 09:30", "u1"),
    ]
    df = pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP, RESOURCE])
    df[TIMESTAMP] = pd.to_datetime(df[TIMESTAMP], utc=True)
    return EventLog.from_frame(df, name="tickets.csv")


def deals() -> EventLog:
    rows = [("d1", "Prospecting", "2024-01-01"), ("d1", "Qualification", "2024-01-03"), ("d1", "Closed Won", "2024-01-10"),
            ("d2", "Prospecting", "2024-01-01"), ("d2", "Closed Lost", "2024-01-05"),
            ("d3", "Prospecting", "2024-01-02"), ("d3", "Qualification", "2024-01-04")]
    df = pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP])
    df[TIMESTAMP] = pd.to_datetime(df[TIMESTAMP], utc=True)
    return EventLog.from_frame(df, name="deals.csv")


def row(table: pd.DataFrame, kpi: str, stage: str | None = None) -> pd.Series:
    sel = table[(table["kpi"] == kpi) & ((table["stage"] == stage) if stage else True)]
    assert len(sel) == 1, (kpi, stage, table)
    return sel.iloc[0]


def test_ticket_kpis_exact() -> None:
    t = kpi_table(tickets(), preset="jira-changelog")
    assert row(t, "first_response")[["actual", "cases", "status"]].tolist() == [2.5 * H, 4, "ok"]
    assert row(t, "resolution")[["actual", "cases", "status"]].tolist() == [24.5 * H, 3, "ok"]
    r = row(t, "reopen_rate")
    assert (r["actual"], r["cases"], r["status"]) == (pytest.approx(1 / 3), 3, "breach")
    h = row(t, "handover_share")
    assert (h["actual"], h["cases"], h["stage"], h["status"]) == (0.25, 4, ">3", "breach")
    assert row(t, "cycle_time")[["actual", "status"]].tolist() == [36.75 * H, "n/a"]
    assert handover_counts(tickets()).to_dict() == {"t1": 2, "t2": 5, "t3": 1, "t4": 0}


def test_handover_counts_skip_events_without_a_value_and_take_an_attribute() -> None:
    rows = [  # h1: u1, (none), u1 -> no handover; u2 -> 1; h2: u1 -> (none) -> u2 = 1; h3: only blanks = 0
        ("h1", "A", "2024-01-01 09:00", "u1", "g1"), ("h1", "B", "2024-01-01 10:00", None, "g1"),
        ("h1", "C", "2024-01-01 11:00", "u1", "g2"), ("h1", "D", "2024-01-01 12:00", "u2", "g2"),
        ("h2", "A", "2024-01-02 09:00", "u1", "g1"), ("h2", "B", "2024-01-02 10:00", None, "g1"),
        ("h2", "C", "2024-01-02 11:00", "u2", "g1"),
        ("h3", "A", "2024-01-03 09:00", None, None),
    ]
    df = pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP, RESOURCE, "org:group"])
    df[TIMESTAMP] = pd.to_datetime(df[TIMESTAMP], utc=True)
    log = EventLog.from_frame(df, name="h.csv")
    assert handover_counts(log).to_dict() == {"h1": 1, "h2": 1, "h3": 0}
    assert handover_counts(log, attribute="org:group").to_dict() == {"h1": 1, "h2": 0, "h3": 0}
    with pytest.raises(AnalysisError, match="column 'team' not in the log"):
        handover_counts(log, attribute="team")


def test_first_response_in_working_time() -> None:
    cal = calendar_from_dict({"hours": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}})
    t = kpi_table(tickets(), preset="jira-changelog", calendar=cal)
    # working hours: t1 1 h, t2 2 h (Fri 16-17, Mon 9-10), t3 4 h, t4 0.5 h -> median 1.5 h
    assert row(t, "first_response")["actual"] == 1.5 * H
    # resolution: t1 8 h (Mon 09-17), t2 4 h (Fri 16-17 + Mon 09-12), t4 8.5 h (Wed 09-17 + Thu 09-09:30)
    assert row(t, "resolution")["actual"] == 8 * H


def test_sales_kpis_exact() -> None:
    t = kpi_table(deals(), preset="salesforce-field-history")
    assert row(t, "win_rate")[["actual", "cases", "status"]].tolist() == [0.5, 2, "ok"]
    assert row(t, "sales_cycle")[["actual", "cases", "status"]].tolist() == [9 * 86400.0, 1, "ok"]
    # time in stage from the stage SLA: Prospecting stays 2 d, 4 d, 2 d; Qualification 7 d (d3 still there)
    assert row(t, "time_in_stage", "Prospecting")[["actual", "cases"]].tolist() == [2 * 86400.0, 3]
    assert row(t, "time_in_stage", "Qualification")[["actual", "cases"]].tolist() == [7 * 86400.0, 2]
    strict = kpi_settings("salesforce-field-history", {"targets": {"win_rate": {"target": 0.7, "warning": 0.6}}})
    assert row(kpi_table(deals(), settings=strict), "win_rate")["status"] == "breach"


def test_status_and_settings() -> None:
    assert status(0.4, 0.45, 0.35, "min") == "warning"
    assert status(0.3, 0.45, 0.35, "min") == "breach"
    assert status(10.0, 8.0, None, "max") == "warning"  # default warning 25 % beyond: 10 <= 10
    assert status(10.1, 8.0, None, "max") == "breach"
    with pytest.raises(AnalysisError, match="unknown KPI 'speed'"):
        kpi_settings(None, {"targets": {"speed": 1}})


def test_kpis_cli(tmp_path) -> None:
    path = tmp_path / "tickets.csv"
    tickets().df[[CASE, ACTIVITY, TIMESTAMP, RESOURCE]].to_csv(path, index=False)
    targets = tmp_path / "targets.yaml"
    targets.write_text("first_response: start->1st Line Support\nreopen: Resolved\n"
                       "targets:\n  first_response: {target: 2h, warning: 3h}\n  reopen_rate: {target: 0.5}\n",
                       encoding="utf-8")
    res = CliRunner().invoke(app, ["kpis", str(path), "--targets", str(targets), "-q", "-o", str(tmp_path / "k.csv")])
    assert res.exit_code == 0, res.output
    k = pd.read_csv(tmp_path / "k.csv")
    assert k.set_index("kpi").loc["first_response", "status"] == "warning"  # 2.5 h: above 2 h, within 3 h
    assert k.set_index("kpi").loc["reopen_rate", "status"] == "ok"
    cal = tmp_path / "hours.yaml"
    cal.write_text("timezone: UTC\nhours: {mon: [09:00-17:00], tue: [09:00-17:00], wed: [09:00-17:00], "
                   "thu: [09:00-17:00], fri: [09:00-17:00]}\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["kpis", str(path), "--targets", str(targets), "--calendar", str(cal), "-q",
                                   "-o", str(tmp_path / "kc.csv")])
    assert res.exit_code == 0, res.output
    kc = pd.read_csv(tmp_path / "kc.csv").set_index("kpi")
    assert kc.loc["first_response", ["actual", "status"]].tolist() == [1.5 * H, "ok"]  # in working hours


def test_handover_kpi_finding_lists_the_cases_over_the_limit() -> None:
    from processmining.report.build import build_report

    rep = build_report(tickets(), preset="jira-changelog", idle="30d", slas=["Open->1st Line Support<=4h"])
    [f] = [f for f in rep.findings if f.type == "kpi" and f.title_params["kpi"][1] == "handover_share"]
    # t2 is handed over 5 times, more than the limit of 3: 1 of 4 cases (25 %, target 10 %)
    assert (f.case_ids, f.share, f.case_based) == (["t2"], 0.25, True)
    assert rep.tables["finding_cases"].query("finding == @f.id")["case"].tolist() == ["t2"]


def test_a_preset_sla_on_a_missing_column_is_skipped_not_fatal() -> None:
    from processmining.report.build import build_report

    # the Jira preset's "Open->Resolved<=5d if priority=High" on a log without priority
    rep = build_report(tickets(), preset="jira-changelog", idle="30d")
    assert any("priority=High" in s for s in rep.facts["skipped_slas"])
    assert all("priority" not in s for s in rep.tables["sla_summary"]["target"])


def test_a_log_without_a_preset_gets_no_default_target(tmp_path) -> None:
    # before: "handover_share [>3]: 25.0% (target 10.0%) breach" on any log (reviewing, bpic2013, running-example)
    t = kpi_table(tickets(), settings=kpi_settings(None))
    h = row(t, "handover_share")
    assert h[["actual", "target", "status"]].tolist() == [0.25, None, "n/a"]
    path = tmp_path / "tickets.csv"
    tickets().df[[CASE, ACTIVITY, TIMESTAMP, RESOURCE]].to_csv(path, index=False)
    res = CliRunner().invoke(app, ["kpis", str(path)])
    assert res.exit_code == 0, res.output
    assert "handover_share [>3]: 25.0% no target · 4 cases\n" in res.output
    assert "breach" not in res.output


def test_kpis_on_an_order_only_log_show_what_needs_no_times(tmp_path) -> None:
    log = tickets()
    df = log.df.assign(**{TIMESTAMP: pd.Series(pd.NaT, index=log.df.index, dtype="datetime64[ns, UTC]")})
    order_only = EventLog.from_frame(df.drop(columns=["@@index"]), name="order-only")
    assert not order_only.has_timestamps
    # before: "error: ... case durations needs times"
    t = kpi_table(order_only, preset="jira-changelog")
    assert t["kpi"].tolist() == ["reopen_rate", "handover_share"]
    assert row(t, "handover_share")[["actual", "cases", "status"]].tolist() == [0.25, 4, "breach"]
    assert t.attrs["needs_times"] == ["cycle_time", "first_response", "resolution"]
