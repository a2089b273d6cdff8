"""Business-hours calendars: exact working seconds across weekends, holidays and DST changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from processmining.errors import AnalysisError
from processmining.performance.calendar import calendar_from_dict, load_calendar, working_seconds

WEEK = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


def ts(*values: str) -> list[pd.Timestamp]:
    return [pd.Timestamp(v, tz="UTC") for v in values]


def test_same_day_and_over_a_weekend() -> None:
    cal = calendar_from_dict({"hours": WEEK})
    # 2024-01-05 is a Friday: 16:00 Fri -> 10:00 Mon = 1 h Friday + 1 h Monday
    # 08:00 -> 10:30 on Monday: the first hour is before opening
    # Saturday to Sunday: nothing
    got = working_seconds(cal, ts("2024-01-05 16:00", "2024-01-08 08:00", "2024-01-06 10:00"),
                          ts("2024-01-08 10:00", "2024-01-08 10:30", "2024-01-07 18:00"))
    assert got.tolist() == [7200.0, 5400.0, 0.0]


def test_split_day_and_two_weeks() -> None:
    cal = calendar_from_dict({"hours": {**WEEK, "tue": ["09:00-12:00", "13:00-17:00"]}})
    # Tue 11:00 -> 14:00: 1 h before lunch + 1 h after = 7200
    # Mon 09:00 -> Mon 09:00 two weeks later: 2 x (4 x 8 h + 7 h) = 78 h
    got = working_seconds(cal, ts("2024-01-09 11:00", "2024-01-08 09:00"), ts("2024-01-09 14:00", "2024-01-22 09:00"))
    assert got.tolist() == [7200.0, 78 * 3600.0]


def test_holidays_explicit_and_public() -> None:
    # 2024-12-24 explicit, 2024-12-25/26 are public holidays in Poland; 2024-12-23 is a Monday
    cal = calendar_from_dict({"hours": WEEK, "holidays": ["2024-12-24"], "country": "PL", "timezone": "UTC"})
    got = working_seconds(cal, ts("2024-12-23 16:00"), ts("2024-12-27 10:00"))
    assert got.tolist() == [2 * 3600.0]  # Mon 16-17, Fri 09-10


def test_time_zone_and_dst() -> None:
    # Europe/Warsaw: CET (UTC+1) until 2024-03-31 02:00, then CEST (UTC+2)
    cal = calendar_from_dict({"hours": {d: ["00:00-24:00"] for d in ("sat", "sun", "mon")}, "timezone": "Europe/Warsaw"})
    # the whole of Sunday 31 March in Warsaw is 23 real hours (local midnight to midnight)
    got = working_seconds(cal, ts("2024-03-30 23:00"), ts("2024-03-31 22:00"))
    assert got.tolist() == [23 * 3600.0]
    office = calendar_from_dict({"hours": WEEK, "timezone": "Europe/Warsaw"})
    # Fri 29 March 16:00 local (15:00 UTC) -> Mon 1 April 10:00 local (08:00 UTC): 1 h + 1 h
    got = working_seconds(office, ts("2024-03-29 15:00"), ts("2024-04-01 08:00"))
    assert got.tolist() == [7200.0]
    # autumn: Sunday 27 October 2024 is 25 hours long
    got = working_seconds(cal, ts("2024-10-26 22:00"), ts("2024-10-27 23:00"))
    assert got.tolist() == [25 * 3600.0]


def test_missing_values_and_float_seconds() -> None:
    cal = calendar_from_dict({"hours": WEEK})
    start = pd.Series([pd.Timestamp("2024-01-08 09:00", tz="UTC"), pd.NaT])
    end = pd.Series([pd.Timestamp("2024-01-08 09:30", tz="UTC"), pd.Timestamp("2024-01-08 10:00", tz="UTC")])
    got = working_seconds(cal, start, end)
    assert got[0] == 1800.0 and np.isnan(got[1])
    secs = np.array([pd.Timestamp("2024-01-08 09:00", tz="UTC").value / 1e9])
    assert working_seconds(cal, secs, secs + 3600 * 24).tolist() == [8 * 3600.0]


def test_bad_calendars(tmp_path) -> None:
    with pytest.raises(AnalysisError, match="unknown weekday 'monday2'|unknown weekday"):
        calendar_from_dict({"hours": {"xyz": ["09:00-17:00"]}})
    with pytest.raises(AnalysisError, match="cannot read opening hours 'nine'"):
        calendar_from_dict({"hours": {"mon": ["nine"]}})
    with pytest.raises(AnalysisError, match="unknown time zone 'Mars/Base'"):
        calendar_from_dict({"hours": WEEK, "timezone": "Mars/Base"})
    with pytest.raises(AnalysisError, match="opening hours overlap"):
        calendar_from_dict({"hours": {"mon": ["09:00-12:00", "11:00-17:00"]}})
    path = tmp_path / "cal.yaml"
    path.write_text("timezone: Europe/Warsaw\nhours:\n  mon: ['08:00-16:00']\n", encoding="utf-8")
    cal = load_calendar(path)
    assert cal.timezone == "Europe/Warsaw" and cal.hours == {0: ((8 * 3600, 16 * 3600),)}


def test_sla_in_working_time_through_the_report() -> None:
    """With a calendar the one SLA check (sla_breaches) runs on the working-time clock of the log."""
    from processmining.performance import sla_breaches
    from processmining.performance.calendar import working_time_log
    from processmining.report.build import build_report
    from tests.test_kpis import tickets

    cal = calendar_from_dict({"hours": WEEK}, name="office.yaml")
    log = tickets()
    plain, _ = sla_breaches(log, ["Open->1st Line Support<=3h"])
    assert plain["case"].tolist() == ["t2", "t3"]  # t2 waited over a weekend: 66 h
    worked, _ = sla_breaches(working_time_log(log, cal), ["Open->1st Line Support<=3h"])
    assert worked[["case", "duration_s"]].values.tolist() == [["t3", 4 * 3600.0]]  # t2: 2 working hours
    rep = build_report(log, slas=["Open->1st Line Support<=3h"], calendar=cal, idle="30d")
    assert rep.tables["sla_breaches"]["case"].tolist() == ["t3"]
    assert rep.tables["sla_breaches"]["measured_in"].tolist() == ["working time (office.yaml)"]
    assert rep.provenance.parameters["calendar"]["hours"]["mon"] == ["09:00-17:00"]


def test_calendar_and_targets_files_refuse_a_yaml_alias_bomb(tmp_path):
    # settings files go through the same hardened YAML loader as the rules (nine nested levels of 9 aliases)
    from processmining.errors import UnsafeInputError
    from processmining.report.kpis import load_targets

    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    for load in (load_calendar, load_targets):
        with pytest.raises(UnsafeInputError, match="alias"):
            load(bomb)
