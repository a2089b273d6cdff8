"""The Report and Compare pages through AppTest on a small log built in code."""

from __future__ import annotations

import pandas as pd

from app_pages import _state as app_state
from processmining.model import ACTIVITY, CASE, RESOURCE, TIMESTAMP, EventLog
from tests.test_app import app_with


def table(at, column: str) -> pd.DataFrame:
    """The shown table that has ``column``."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def tickets() -> EventLog:
    """24 tickets over three months; the February ones wait 3 days for first support (c08-c15)."""
    rows = []
    for i in range(24):
        t = pd.Timestamp("2024-01-03", tz="UTC") + pd.Timedelta(days=3 * i)
        wait = pd.Timedelta(days=3) if 8 <= i < 16 else pd.Timedelta(hours=2)
        team = "blue" if i % 2 else "green"
        for act, dt in (("Open", pd.Timedelta(0)), ("1st Line Support", wait), ("Resolved", wait + pd.Timedelta(hours=5)),
                        ("Closed", wait + pd.Timedelta(days=1))):
            rows.append((f"T{i:02d}", act, t + dt, f"agent{i % 3}", team))
    return EventLog.from_frame(pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP, RESOURCE, "case:team"]),
                               name="tickets.csv")


def test_report_page_builds_and_offers_downloads() -> None:
    at = app_with(tickets()).run()
    at.switch_page("app_pages/report.py").run()
    assert not at.exception
    assert at.info[0].value.startswith("Press **Build the report**")
    at.text_area(key="keep_rp_slas").set_value("Open->1st Line Support<=1d").run()
    at.button(key="rp_build").click().run()
    assert not at.exception
    assert at.success[0].value.endswith("on 24 cases.")
    findings = table(at, "finding")
    sla = findings[findings["type"] == "sla_breach"].iloc[0]
    assert sla["cases"] == 8  # the February tickets
    # every finding names its evidence: the first five cases and the annex sheet with all of them
    assert sla["example cases"] == "T08, T09, T10, T11, T12" and sla["full list (annex sheet)"] == "finding_cases"
    labels = [b.label for b in at.get("download_button")]
    assert "Download HTML" in labels and "Download the evidence annex (XLSX)" in labels
    at.selectbox(key="rp_why").set_value(sla["finding"]).run()
    why = table(at, "lift_low")
    assert why.iloc[0]["attribute"] == "case start month" and why.iloc[0]["value"] == "2024-02"
    at.selectbox(key="keep_rp_lang").set_value("pl").run()
    assert not at.exception


def test_compare_page_periods_and_segments() -> None:
    at = app_with(tickets()).run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception
    k = table(at, "metric").set_index("metric")
    assert k.loc["cases", "a"] + k.loc["cases", "b"] == 24
    at.radio(key="keep_cmp_mode").set_value("Two segments").run()
    assert not at.exception
    at.selectbox(key="keep_cmp_col").set_value("case:team").run()
    k = table(at, "metric").set_index("metric")
    assert (k.loc["cases", "a"], k.loc["cases", "b"]) == (12.0, 12.0)
    assert app_state.DEMO_TRIED  # the session never loaded the demo log


def test_compare_and_report_pages_measure_in_the_sessions_calendar() -> None:
    """A calendar uploaded once (kept in the session) makes the Compare page's SLA figures working time, as the
    CLI's --calendar does (the February tickets wait 3 calendar days, mostly outside office hours); removing it
    goes back to calendar time."""
    from app_pages._calendar import KEY
    from processmining.performance.calendar import load_calendar

    week = "".join(f"  {d}: ['09:00-17:00']\n" for d in ("mon", "tue", "wed", "thu", "fri"))
    cal = load_calendar(("timezone: UTC\nhours:\n" + week).encode(), name="office.yaml")
    assert (cal.name, cal.describe()["hours"]["fri"]) == ("office.yaml", ["09:00-17:00"])
    sla = "sla_breach_share:Open->1st Line Support<=12h"
    at = app_with(tickets()).run()
    at.switch_page("app_pages/compare.py").run()
    at.text_input(key="keep_cmp_sla").set_value("Open->1st Line Support<=12h").run()
    plain = table(at, "metric").set_index("metric")
    assert plain.loc[sla, "measured_in"] == "calendar time"
    at.session_state[KEY] = (cal, "sha-of-office")
    at.run()
    assert not at.exception
    assert any("Working time by **office.yaml**" in c.value for c in at.caption)
    worked = table(at, "metric").set_index("metric")
    assert worked.loc[sla, "measured_in"] == "working time (office.yaml)"
    # a third of each period's tickets is late in calendar time; in office hours 1/6 and 1/4
    assert plain.loc[sla, ["a", "b"]].tolist() == [1 / 3, 1 / 3]
    assert worked.loc[sla, ["a", "b"]].tolist() == [1 / 6, 1 / 4]
    at.button(key="calendar_remove").click().run()
    assert table(at, "metric").set_index("metric").loc[sla, "measured_in"] == "calendar time"
    at.session_state[KEY] = (cal, "sha-of-office")
    at.switch_page("app_pages/bottlenecks.py").run()
    at.text_area(key="keep_bn_slas").set_value("Open->1st Line Support<=12h").run()
    assert not at.exception
    cells = {str(v) for d in at.dataframe for v in d.value.to_numpy().ravel()}
    assert "working time (office.yaml)" in cells
    # 8 of the 24 tickets are late in calendar time (a third of each period, above); 5 in office hours
    assert [m.value for m in at.markdown if "breaches" in m.value] == ["**5 breaches** in 5 cases"]
    at.switch_page("app_pages/report.py").run()
    assert not at.exception
