"""The audit report on an order-only log (no timestamps): every part that needs no times, one line per time section."""

from __future__ import annotations

import pandas as pd
import pytest

from processmining.model import ACTIVITY, CASE, TIMESTAMP, EventLog
from processmining.report.i18n import Texts


def order_only_log() -> EventLog:
    # 30 cases A -> B -> C; c00-c09 redo B (A -> B -> B -> C)
    rows = []
    for i in range(30):
        acts = ["A", "B", "B", "C"] if i < 10 else ["A", "B", "C"]
        rows += [(f"c{i:02d}", a) for a in acts]
    df = pd.DataFrame(rows, columns=[CASE, ACTIVITY])
    df[TIMESTAMP] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    return EventLog.from_frame(df, name="order-only.xes")


@pytest.fixture(scope="module")
def built():
    from processmining.report.build import build_report

    return build_report(order_only_log())  # before: "the bottleneck ranking needs times"


def test_report_builds_the_parts_that_need_no_times(built) -> None:
    rep = built
    assert rep.facts["has_timestamps"] is False
    assert (rep.facts["cases"], rep.facts["events"], rep.facts["variants"]) == (30, 100, 2)
    assert rep.tables["variants"]["cases"].tolist() == [20, 10]
    [rework] = [f for f in rep.findings if f.type == "rework"]
    assert (rework.cases, rework.share) == (10, 10 / 30)
    assert rep.tables["bottlenecks"].empty and rep.tables["stuck_cases"].empty
    assert "sla_breaches" not in rep.tables and rep.facts["trend"] is None
    assert rep.facts["kpis_need_times"] == ["cycle_time"]


@pytest.mark.parametrize("lang", ["en", "pl", "ru"])
def test_each_time_section_says_in_one_line_that_times_are_missing(built, lang) -> None:
    from processmining.report.html import render_html

    html = render_html(built, lang=lang)
    tx = Texts(lang)
    for msgid in ("scope.timing_none", "notimes.time", "notimes.sla", "notimes.stuck", "notimes.trend"):
        assert html.count(tx.t(msgid)) == 1, msgid
    assert tx.t("notimes.kpis", kpis=tx.t("kpi.cycle_time")) in html
    assert tx.t("time.intro") not in html and tx.t("scope.timing_single") not in html
    if lang == "en":
        assert "<p class=\"muted\">The log has no timestamps: idle time cannot be measured, so no case is called " \
               "stuck.</p>" in html
