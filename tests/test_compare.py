"""Comparison of periods and segments, map difference, variant changes, trends: exact numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from processmining.cli import app
from processmining.errors import AnalysisError
from processmining.model import ACTIVITY, CASE, TIMESTAMP, EventLog
from processmining.report.compare import (
    change_points,
    compare_logs,
    difference_dot,
    split_period,
    split_segment,
    svg_from_dot,
    trend,
)

DAY = 86400.0


def two_periods() -> EventLog:
    """January: 4 cases A→B→C in 2 days (team X). February: 3 cases A→B→C in 4 days and one A→C in 1 day (team Y)."""
    rows = []
    for i in range(4):
        t = pd.Timestamp("2024-01-02", tz="UTC") + pd.Timedelta(days=i)
        rows += [(f"j{i}", "A", t, "X"), (f"j{i}", "B", t + pd.Timedelta(days=1), "X"), (f"j{i}", "C", t + pd.Timedelta(days=2), "X")]
    for i in range(3):
        t = pd.Timestamp("2024-02-02", tz="UTC") + pd.Timedelta(days=i)
        rows += [(f"f{i}", "A", t, "Y"), (f"f{i}", "B", t + pd.Timedelta(days=2), "Y"), (f"f{i}", "C", t + pd.Timedelta(days=4), "Y")]
    t = pd.Timestamp("2024-02-10", tz="UTC")
    rows += [("f3", "A", t, "Y"), ("f3", "C", t + pd.Timedelta(days=1), "Y")]
    return EventLog.from_frame(pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP, "case:team"]), name="periods.csv")


def test_period_comparison_exact() -> None:
    log = two_periods()
    a, b = split_period(log, "2024-02-01")
    assert (a.n_cases, b.n_cases) == (4, 4)
    cmp = compare_logs(a, b, labels=("Jan", "Feb"), slas=["A->C<=3d"], deviating={"f3"})
    k = cmp.kpis.set_index("metric")
    assert k.loc["cases", ["a", "b", "delta"]].tolist() == [4.0, 4.0, 0.0]
    assert k.loc["median_cycle_s", ["a", "b", "delta", "relative"]].tolist() == [2 * DAY, 4 * DAY, 2 * DAY, 1.0]
    assert k.loc["sla_breach_share:A->C<=3d", ["a", "b"]].tolist() == [0.0, 0.75]
    assert k.loc["conformance_rate", ["a", "b"]].tolist() == [1.0, 0.75]
    arcs = cmp.arcs.set_index(["source", "target"])
    assert arcs.loc[("A", "B"), ["frequency_a", "frequency_b", "per_case_a", "per_case_b", "change"]].tolist() == \
        [4, 3, 1.0, 0.75, "down"]
    assert arcs.loc[("A", "C"), ["frequency_a", "frequency_b", "change"]].tolist() == [0, 1, "new"]
    assert arcs.loc[("A", "B"), "delta_wait_s"] == DAY  # median wait 1 d -> 2 d
    assert cmp.variants.values.tolist() == [["appeared", "A → C", 1]]
    svg = svg_from_dot(difference_dot(cmp.arcs))
    assert svg.startswith("<svg") and svg.count("<g id=\"edge") == 3  # A→B, B→C, A→C


def test_segment_split() -> None:
    a, b = split_segment(two_periods(), "team", ["X"])
    assert (a.n_cases, b.n_cases) == (4, 4)
    assert sorted(a.df[CASE].unique()) == ["j0", "j1", "j2", "j3"]
    with pytest.raises(AnalysisError, match="outside the log's period"):
        split_period(two_periods(), "2025-01-01")


def test_trend_and_change_points() -> None:
    tr = trend(two_periods(), slas=["A->C<=3d"], deviating={"f3"})
    assert tr["period"].tolist() == ["2024-01", "2024-02"]
    assert tr["cases"].tolist() == [4, 4]
    assert tr["median_cycle_s"].tolist() == [2 * DAY, 4 * DAY]
    assert tr["sla_breach_share"].tolist() == [0.0, 0.75]
    assert tr["conformance_rate"].tolist() == [1.0, 0.75]
    assert change_points(np.array([1, 1, 1, 1, 5, 5, 5, 5], dtype=float)) == [4]
    assert change_points(np.array([1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 1.0, 1.1])) == []
    assert change_points(np.array([1, 1, 1, 5, 5, 5, 9, 9, 9], dtype=float)) == [3, 6]


def test_compare_cli(tmp_path) -> None:
    path = tmp_path / "periods.csv"
    two_periods().df[[CASE, ACTIVITY, TIMESTAMP, "case:team"]].rename(columns={"case:team": "team"}).to_csv(path, index=False)
    out, svg = tmp_path / "cmp.xlsx", tmp_path / "diff.svg"
    res = CliRunner().invoke(app, ["compare", str(path), "--split", "2024-02-01", "--sla", "A->C<=3d",
                                   "-o", str(out), "--diff-map", str(svg)])
    assert res.exit_code == 0, res.output
    assert "A = < 2024-02-01 (4 cases) · B = >= 2024-02-01 (4 cases)" in res.output
    assert "variants: 1 appeared, 0 vanished" in res.output
    # durations on screen by THE duration formatter (before: "median_cycle_s  1.728e+05  3.456e+05  Δ +1.728e+05")
    assert "  median_cycle                                   2.0 days       4.0 days  Δ +2.0 days\n" in res.output
    assert "  sla_breach_share:A->C<=3d                          0.0%          75.0%  Δ +75.0 pp\n" in res.output
    k = pd.read_excel(out, sheet_name="kpis").set_index("metric")
    assert k.loc["median_cycle_s", "b"] == 4 * DAY  # files keep seconds, with the unit named
    assert k["unit"].to_dict() == {"cases": "cases", "median_cycle_s": "seconds", "sla_breach_share:A->C<=3d": "share"}
    assert svg.read_text(encoding="utf-8").startswith("<svg")
    res = CliRunner().invoke(app, ["compare", str(path)])
    assert res.exit_code == 2 and "give either --split DATE or --segment COLUMN --a VALUE" in res.output


HOUR = 3600.0


def office_hours_log() -> EventLog:
    """Two tickets a period; Mon-Fri 09-17 UTC is the office calendar.

    a1 is opened on Friday 16:00 and answered on Monday 10:00 (66 h, 2 working hours), a2 on a Tuesday in 3 h;
    b1 opened Friday 15:00, answered Monday 09:30 (66.5 h, 2.5 working hours); b2 answered after 5 h (late in both).
    """
    rows = [("a1", "Open", "2024-01-05T16:00"), ("a1", "Answer", "2024-01-08T10:00"), ("a1", "Closed", "2024-01-08T12:00"),
            ("a2", "Open", "2024-01-09T09:00"), ("a2", "Answer", "2024-01-09T12:00"), ("a2", "Closed", "2024-01-10T09:00"),
            ("b1", "Open", "2024-02-02T15:00"), ("b1", "Answer", "2024-02-05T09:30"), ("b1", "Closed", "2024-02-05T11:30"),
            ("b2", "Open", "2024-02-06T09:00"), ("b2", "Answer", "2024-02-06T14:00"), ("b2", "Closed", "2024-02-06T16:00")]
    df = pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP])
    df[TIMESTAMP] = pd.to_datetime(df[TIMESTAMP], utc=True)
    return EventLog.from_frame(df, name="tickets.csv")


def test_compare_kpis_in_working_time_with_a_calendar() -> None:
    from processmining.performance.calendar import calendar_from_dict
    from processmining.report.kpis import kpi_settings

    cal = calendar_from_dict({"hours": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}},
                             name="office.yaml")
    settings = kpi_settings(None, {"first_response": "start->Answer", "resolution": "start->Closed"})
    a, b = split_period(office_hours_log(), "2024-02-01")
    sla = "Open->Answer<=4h"
    plain = compare_logs(a, b, slas=[sla], settings=settings).kpis.set_index("metric")
    worked = compare_logs(a, b, slas=[sla], settings=settings, calendar=cal).kpis.set_index("metric")
    # calendar time: the weekend counts; a1 and b1 are late
    assert plain.loc[f"sla_breach_share:{sla}", ["a", "b"]].tolist() == [0.5, 1.0]
    assert plain.loc["first_response", ["a", "b"]].tolist() == [34.5 * HOUR, 35.75 * HOUR]
    assert plain.loc["resolution", ["a", "b"]].tolist() == [46 * HOUR, 37.75 * HOUR]
    # working time: a1 waited 2 h and b1 2.5 h, so only b2 (5 h) is late
    assert worked.loc[f"sla_breach_share:{sla}", ["a", "b", "delta"]].tolist() == [0.0, 0.5, 0.5]
    assert worked.loc["first_response", ["a", "b"]].tolist() == [2.5 * HOUR, 3.75 * HOUR]
    assert worked.loc["resolution", ["a", "b"]].tolist() == [6 * HOUR, 5.75 * HOUR]  # (4 h, 8 h) and (4.5 h, 7 h)
    # the cycle time stays calendar time, as in the report's KPI table; each row says its clock
    assert worked.loc["median_cycle_s", ["a", "b"]].tolist() == [46 * HOUR, 37.75 * HOUR]
    assert worked["measured_in"].to_dict() == {
        "cases": "-", "median_cycle_s": "calendar time", "first_response": "working time (office.yaml)",
        "resolution": "working time (office.yaml)", f"sla_breach_share:{sla}": "working time (office.yaml)"}
    assert plain.loc["first_response", "measured_in"] == "calendar time"


def test_compare_cli_with_a_calendar(tmp_path) -> None:
    path, cal, out = tmp_path / "tickets.csv", tmp_path / "office.yaml", tmp_path / "cmp.json"
    office_hours_log().df[[CASE, ACTIVITY, TIMESTAMP]].to_csv(path, index=False)
    cal.write_text("timezone: UTC\nhours:\n" + "".join(f"  {d}: ['09:00-17:00']\n" for d in ("mon", "tue", "wed", "thu",
                                                                                            "fri")), encoding="utf-8")
    res = CliRunner().invoke(app, ["compare", str(path), "--split", "2024-02-01", "--sla", "Open->Answer<=4h",
                                   "--calendar", str(cal), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "sla_breach_share:Open->Answer<=4h" in res.output and "(working time (office.yaml))" in res.output
    import json

    doc = json.loads(out.read_text(encoding="utf-8"))
    rows = {r["metric"]: r for r in doc["kpis"]}
    assert (rows["sla_breach_share:Open->Answer<=4h"]["a"], rows["sla_breach_share:Open->Answer<=4h"]["b"]) == (0.0, 0.5)
    # the trend measures the SLA on the same working-time clock: January none late, February one of two
    assert [r["sla_breach_share"] for r in doc["trend"]] == [0.0, 0.5]
