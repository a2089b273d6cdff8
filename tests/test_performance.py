"""Performance and bottlenecks: hand-built logs pin the numbers; the demo ground truth pins the planted cases."""

from __future__ import annotations

import json
import math

import networkx as nx
import pandas as pd
import pytest

from processmining import performance as P
from processmining.errors import AnalysisError
from processmining.model import ACTIVITY, CASE, RESOURCE, START_TIMESTAMP, TIMESTAMP, EventLog
from processmining.performance import bottlenecks as B
from processmining.performance import handover as HO
from processmining.status import case_status

H = 3600.0
D = 86400.0


def make_log(rows, columns=(CASE, ACTIVITY, TIMESTAMP, RESOURCE), **extra) -> EventLog:
    df = pd.DataFrame(rows, columns=list(columns))
    for col in (TIMESTAMP, START_TIMESTAMP):
        if col in df.columns:
            df[col] = pd.to_datetime(df[col], utc=True)
    for k, v in extra.items():
        df[k] = v
    return EventLog.from_frame(df)


def support_log() -> EventLog:
    # t1: Open -> L1 after 1 h, escalated, bounced back and forth (ping-pong L1/L2 twice), resolved.
    # t2: Open -> L1 after 6 h (breaches a 4 h first-response target), resolved.
    # t3: Open, never picked up: still open at the log end (t1's last event, day 3 10:00).
    rows = [
        ("t1", "Open", "2024-01-01T08:00Z", "desk"), ("t1", "L1", "2024-01-01T09:00Z", "ann"),
        ("t1", "L2", "2024-01-01T10:00Z", "bob"), ("t1", "L1", "2024-01-01T12:00Z", "ann"),
        ("t1", "L2", "2024-01-01T13:00Z", "bob"), ("t1", "L1", "2024-01-01T14:00Z", "ann"),
        ("t1", "Resolved", "2024-01-03T10:00Z", "ann"),
        ("t2", "Open", "2024-01-01T08:00Z", "desk"), ("t2", "L1", "2024-01-01T14:00Z", "cid"),
        ("t2", "Resolved", "2024-01-01T16:00Z", "cid"),
        ("t3", "Open", "2024-01-02T08:00Z", "desk"),
    ]
    return make_log(rows)


# ------------------------------------------------------------------ durations and notes
def test_parse_duration():
    assert P.parse_duration("4h") == 4 * H
    assert P.parse_duration("1d 12h") == 1.5 * D
    assert P.parse_duration("45min") == 2700.0
    assert P.parse_duration("2w") == 14 * D
    assert P.parse_duration(90) == 90.0
    assert P.parse_duration(pd.Timedelta(hours=1)) == H
    with pytest.raises(AnalysisError, match="'tomorrow' is not a duration"):
        P.parse_duration("tomorrow")
    with pytest.raises(AnalysisError, match="non-negative"):
        P.parse_duration(-5)


def test_to_timestamps_rounds_to_the_nanosecond_and_keeps_nan_as_nat():
    import numpy as np

    got = P.to_timestamps(np.array([0.0, np.nan, 1.5, 1_700_000_000.25]))
    assert got.dtype == "datetime64[ns, UTC]"
    assert got.tolist()[0] == pd.Timestamp(0, tz="UTC")
    assert pd.isna(got.iloc[1])
    assert got.iloc[2] == pd.Timestamp(1_500_000_000, unit="ns", tz="UTC")
    # seconds as float hold about 0.2 µs at today's dates: 1.7e18 ns is the nearest double to 1_700_000_000.25e9
    assert got.iloc[3] == pd.Timestamp(1_700_000_000_249_999_872, unit="ns", tz="UTC")
    assert P.to_timestamps(np.array([np.nan])).isna().all()  # no time at all (an order-only log's last times)
    with pytest.raises(AnalysisError, match="outside the years 1677-2262"):
        P.to_timestamps(np.array([1e11]))  # year 5138
    with pytest.raises(AnalysisError, match="outside the years 1677-2262"):
        P.to_timestamps(np.array([np.inf]))


def test_timing_note_depends_on_start_times():
    assert "only waiting times between completions are known" in P.timing_note(support_log())


def test_activity_performance_waiting_and_processing():
    # with start times: A 09-10 (1 h), B starts 11 (waited 1 h after A), completes 13 (2 h)
    log = make_log([("c", "A", "2024-01-01T09:00Z", "2024-01-01T10:00Z"),
                    ("c", "B", "2024-01-01T11:00Z", "2024-01-01T13:00Z")],
                   columns=(CASE, ACTIVITY, START_TIMESTAMP, TIMESTAMP))
    ap = P.activity_performance(log)
    assert ap.loc["A", "processing_mean_s"] == H
    assert ap.loc["B", "processing_mean_s"] == 2 * H
    assert ap.loc["B", "wait_before_mean_s"] == H
    assert math.isnan(ap.loc["A", "wait_before_mean_s"])  # first event of the case
    # without start times: the gap between completions only
    ap2 = P.activity_performance(support_log())
    assert ap2.loc["Resolved", "wait_before_total_s"] == (44 + 2) * H
    assert ap2.loc["L1", "events"] == 4 and ap2.loc["L1", "cases"] == 2
    assert ap2["processing_mean_s"].isna().all()


def test_case_durations_and_distribution():
    cd = P.case_durations(support_log()).set_index("case")
    assert cd.loc["t1", "duration_s"] == 50 * H
    assert cd.loc["t2", "duration_s"] == 8 * H
    assert cd.loc["t3", "duration_s"] == 0.0
    assert cd.loc["t1", "events"] == 7
    stats = P.case_duration_stats(support_log())
    assert stats["count"] == 3 and stats["median"] == 8 * H and stats["max"] == 50 * H


def test_throughput_time_first_a_to_first_b_after_it():
    tt = P.throughput_time(support_log(), "Open", "Resolved").set_index("case")
    assert tt["duration_s"].to_dict() == {"t1": 50 * H, "t2": 8 * H}
    tt2 = P.throughput_time(support_log(), "L2", "L1").set_index("case")
    assert tt2["duration_s"].to_dict() == {"t1": 2 * H}  # first L2 (10:00) to the next L1 (12:00)


# ------------------------------------------------------------------ SLA
def test_sla_breaches_late_and_open():
    breaches, summary = B.sla_breaches(support_log(), ["Open->L1<=4h"])
    assert breaches[["case", "status"]].values.tolist() == [["t3", "open"], ["t2", "late"]]
    t2 = breaches.set_index("case").loc["t2"]
    assert t2["duration_s"] == 6 * H and t2["excess_s"] == 2 * H and t2["limit_s"] == 4 * H
    t3 = breaches.set_index("case").loc["t3"]
    assert t3["duration_s"] == 26 * H  # 2 Jan 08:00 to the log end, 3 Jan 10:00
    assert pd.isna(t3["to_time"])
    row = summary.iloc[0]
    assert (row["measured"], row["met"], row["late"], row["open_breached"]) == (3, 1, 1, 1)


def test_sla_stage_target_and_case_start_and_condition():
    log = support_log()
    # time in L2 (to the next event): t1 stays 2 h and 1 h; the longest stay is reported
    b, _ = B.sla_breaches(log, ["L2<=90min"])
    assert b[["case", "duration_s"]].values.tolist() == [["t1", 2 * H]]
    b, _ = B.sla_breaches(log, ["start->Resolved<=1d"], as_of="2024-01-02T08:00Z")
    assert sorted(b["case"]) == ["t1"] and b.iloc[0]["status"] == "late"
    prio = make_log([("x", "Open", "2024-01-01T00:00Z", "a"), ("x", "Done", "2024-01-09T00:00Z", "a"),
                     ("y", "Open", "2024-01-01T00:00Z", "a"), ("y", "Done", "2024-01-09T00:00Z", "a")],
                    **{"case:priority": ["High", "High", "Low", "Low"]})
    b, s = B.sla_breaches(prio, ["Open->Done<=5d if priority=High"])
    assert b["case"].tolist() == ["x"] and s.iloc[0]["measured"] == 1


def test_sla_final_activities_are_not_open_breaches():
    # the deal was lost before any quote: finished, so "not reached", not an open breach
    log = make_log([("d1", "Prospecting", "2024-01-01T00:00Z", "r"), ("d1", "Closed Lost", "2024-01-05T00:00Z", "r"),
                    ("d2", "Prospecting", "2024-01-01T00:00Z", "r"), ("d2", "Quote", "2024-03-01T00:00Z", "r")])
    b, s = B.sla_breaches(log, ["Prospecting->Quote<=30d"], final_activities=["Closed Lost"])
    assert b["case"].tolist() == ["d2"]
    assert s.iloc[0][["late", "open_breached", "not_reached"]].tolist() == [1, 0, 1]


@pytest.mark.parametrize(("text", "message"), [
    ("Open->L1 4h", "cannot read SLA"),
    ("->L1<=4h", "an activity is missing"),
    ("Open->L1<=soon", "'soon' is not a duration"),
])
def test_sla_parse_errors(text, message):
    with pytest.raises(AnalysisError, match=message):
        B.parse_sla(text)


def test_sla_unknown_activity():
    with pytest.raises(AnalysisError, match="SLA 'Open->L9<=4h': activity 'L9' does not occur"):
        B.sla_breaches(support_log(), ["Open->L9<=4h"])


# ------------------------------------------------------------------ stuck, rework, backward, funnel
def test_stuck_cases():
    # t2 is idle 42 h but resolved: finished, so never stuck; t3 idle 26 h and never resolved: stuck
    st = P.stuck_cases(support_log(), idle="1d", end_activities=["Resolved"])
    assert st["case"].tolist() == ["t3"]
    t3 = st.set_index("case").loc["t3"]
    assert t3["idle_s"] == 26 * H and t3["status"] == "stuck" and t3["last_activity"] == "Open"
    assert st.attrs["counts"] == {"finished": 2, "stuck": 1}
    # the boundary: exactly at the limit is not over it, one second more is
    assert P.stuck_cases(support_log(), idle=26 * H, end_activities=["Resolved"]).empty
    assert P.stuck_cases(support_log(), idle=26 * H - 1, end_activities=["Resolved"])["case"].tolist() == ["t3"]
    with pytest.raises(AnalysisError, match="idle"):
        P.stuck_cases(support_log())


def test_rework_counts_repeats():
    rw = P.rework(support_log())
    assert rw.loc["L1", "cases_with_rework"] == 1 and rw.loc["L1", "extra_executions"] == 2
    assert rw.loc["L2", "extra_executions"] == 1
    assert rw.loc["L1", "share_of_cases"] == 0.5
    per_case = P.rework(support_log(), level="case")
    assert per_case.values.tolist() == [["t1", "L1", 3], ["t1", "L2", 2]]


def test_backward_moves_with_allowed_loop():
    order = ["Open", "L1", "L2", "Resolved"]
    moves = P.backward_moves(support_log(), order)
    assert moves[["case", "from_stage", "to_stage", "steps_back"]].values.tolist() == [
        ["t1", "L2", "L1", 1], ["t1", "L2", "L1", 1]]
    assert moves["resource"].tolist() == ["ann", "ann"]
    assert P.backward_moves(support_log(), order, allowed=[("L2", "L1")]).empty


def test_funnel_reached_conversion_and_drop_out():
    # d1 won; d2 lost after B; d3 lost after A; d4 skipped B but reached C (counts as reaching B)
    rows = []
    for case, acts in {"d1": ["A", "B", "C", "Won"], "d2": ["A", "B", "Lost"], "d3": ["A", "Lost"],
                       "d4": ["A", "C", "Won"]}.items():
        rows += [(case, a, f"2024-01-0{i + 1}T00:00Z", "r") for i, a in enumerate(acts)]
    fu = P.funnel(make_log(rows), ["A", "B", "C", "Won"], lost="Lost")
    assert fu["reached"].tolist() == [4, 3, 2, 2]
    assert fu["visited"].tolist() == [4, 2, 2, 2]
    assert fu["conversion"].tolist() == [1.0, 0.75, 2 / 3, 1.0]
    assert fu["lost_here"].tolist() == [1, 1, 0, 0]
    assert fu.attrs["lost_cases"] == 2
    lc = P.lost_cases(make_log(rows), ["A", "B", "C", "Won"], lost="Lost").set_index("case")
    assert lc["drop_out_stage"].to_dict() == {"d2": "B", "d3": "A"}


# ------------------------------------------------------------------ ping-pong and handovers
def test_ping_pong_between_lines_and_people():
    pp = HO.ping_pong(support_log())
    # L1 L2 L1 L2 L1: L1->L2->L1 twice, L2->L1->L2 once
    assert pp.values.tolist() == [["L1", "L2", 2, 1], ["L2", "L1", 1, 1]]
    by_people = HO.ping_pong(support_log(), attribute=RESOURCE)
    assert by_people.values.tolist() == [["ann", "bob", 2, 1], ["bob", "ann", 1, 1]]
    assert HO.ping_pong(support_log(), ignore=["L2"]).empty  # L1 L1 L1 merge into one


def test_handovers_and_network():
    ho = HO.handovers(support_log()).set_index(["source", "target"])
    assert ho.loc[("ann", "bob"), "handovers"] == 2
    assert ho.loc[("bob", "ann"), "median_delay_s"] == 1.5 * H  # 2 h and 1 h
    assert ho.loc[("desk", "ann"), "cases"] == 1
    g = HO.handover_network(support_log())
    assert isinstance(g, nx.DiGraph)
    assert g.edges["desk", "cid"]["median_delay_s"] == 6 * H
    assert g.nodes["ann"]["events"] == 4
    assert ("cid", "cid") not in g.edges  # same resource twice in a row is no handover


def test_workload_per_period():
    wl = HO.workload(support_log(), freq="D")
    assert wl.loc["ann"].tolist() == [3, 0, 1]
    assert list(wl.index[:1]) == ["ann"]
    with pytest.raises(AnalysisError, match="freq"):
        HO.workload(support_log(), freq="fortnight")


# ------------------------------------------------------------------ ranking
def test_bottleneck_ranking_shares():
    rank = B.bottleneck_ranking(support_log())
    arcs = rank[rank["kind"] == "arc"]
    assert arcs["share"].sum() == pytest.approx(1.0)
    top = rank.iloc[0]
    assert (top["kind"], top["name"]) in {("arc", "L1 → Resolved"), ("waiting before", "Resolved")}
    assert top["total_s"] == 46 * H  # 44 h in t1, 2 h in t2
    assert top["share"] == pytest.approx(46 / 58)  # of 58 h of waiting in total (t1: 50 h, t2: 8 h)


# ------------------------------------------------------------------ demo ground truth
@pytest.fixture(scope="module")
def truth(repo_root):
    path = repo_root / "eventlogs" / "ground_truth.json"
    if not path.exists():
        pytest.skip("eventlogs/ground_truth.json not generated yet")
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def salesforce(repo_root, truth):
    from processmining.ingest import read_log

    return read_log(repo_root / "eventlogs" / "salesforce_opportunity_field_history.csv",
                    preset="salesforce-field-history")


@pytest.fixture(scope="module")
def jira(repo_root, truth):
    from processmining.ingest import read_log

    return read_log(repo_root / "eventlogs" / "jira_changelog.json", preset="jira-changelog")


def test_demo_salesforce_sla_backward_stuck_funnel(salesforce, truth):
    sf = truth["logs"]["salesforce"]
    planted = sf["planted"]
    b, _ = B.sla_breaches(salesforce, ["Prospecting->Proposal/Price Quote<=30d"], as_of=truth["export_time"],
                          final_activities=["Closed Lost"])
    # at the export time exactly the cases over the limit (planted, and the near-limit ones 1 s / 1 min / 5 min over)
    limits = sf["limits"]
    assert sorted(b.loc[b["status"] == "late", "case"]) == limits["quote-within-30d"]["late"]
    assert set(planted["sla_breach"]["cases"]) < set(limits["quote-within-30d"]["late"])
    moves = P.backward_moves(salesforce, sf["activities"], allowed=[("Negotiation/Review", "Proposal/Price Quote")])
    assert sorted(moves["case"].unique()) == sorted(planted["backward_move"]["cases"])
    ends = ["Closed Won", "Closed Lost", "Order Booked"]
    stuck = P.stuck_cases(salesforce, idle="60d", end_activities=ends, as_of=truth["export_time"])
    assert sorted(stuck["case"]) == limits["stuck-60d"]["stuck"]  # planted + open deals idle > 60 d by chance
    assert set(planted["stuck_open"]["cases"]) < set(stuck["case"])
    status = case_status(salesforce, end_activities=ends, as_of=truth["export_time"])
    assert sorted(status.loc[status["status"] != "finished", "case"]) == sorted(sf["open_cases"])
    stages = ["Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review",
              "Closed Won", "Order Booked"]
    fu = P.funnel(salesforce, stages, lost="Closed Lost").set_index("stage")
    assert fu.attrs["lost_cases"] == sf["outcomes"]["lost"]
    lost = P.lost_cases(salesforce, stages, lost="Closed Lost")
    for stage, ids in sf["lost_after"].items():
        assert fu.loc[stage, "lost_here"] == len(ids)
        assert sorted(lost.loc[lost["drop_out_stage"] == stage, "case"]) == sorted(ids)


def test_demo_jira_sla_and_ping_pong(jira, truth):
    planted = truth["logs"]["jira"]["planted"]
    limits = truth["logs"]["jira"]["limits"]
    b, _ = B.sla_breaches(jira, ["Open->1st Line Support<=4h", "Open->Resolved<=5d if priority=High"],
                          as_of=truth["export_time"])
    # at the export time: exactly the tickets over each limit (planted, by chance, and 1 s / 1 min / 5 min over)
    first = set(b.loc[b["target"] == "Open->1st Line Support<=4h", "case"])
    assert first == set(limits["first-response-4h"]["late"]) > set(planted["sla_first_response"]["cases"])
    high = set(b.loc[b["target"] == "Open->Resolved<=5d if priority=High", "case"])
    assert high == set(limits["resolution-high-5d"]["late"]) | set(limits["resolution-high-5d"]["open"])
    assert high > set(planted["sla_resolution_high"]["cases"])
    lines = ["1st Line Support", "2nd Line Support", "3rd Line Support"]
    pp = HO.ping_pong_cases(jira, ignore=["Waiting for Customer"])
    pp = pp[pp["a"].isin(lines) & pp["b"].isin(lines)]
    assert sorted(pp["case"].unique()) == sorted(planted["ping_pong"]["cases"])
    reopened = P.rework(jira, level="case")
    assert set(planted["reopened"]["cases"]) <= set(P.throughput_time(jira, "Resolved", "Reopened")["case"])
    assert not reopened.empty


def test_demo_bottleneck_report_tables(salesforce, truth):
    tables = B.bottleneck_report(
        salesforce, slas=["Prospecting->Proposal/Price Quote<=30d"], idle="60d",
        end_activities=["Closed Won", "Closed Lost", "Order Booked"],
        stage_order=["Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote",
                     "Negotiation/Review", "Closed Won", "Closed Lost"], lost="Closed Lost")
    assert set(tables) == {"summary", "bottlenecks", "activities", "arcs", "case_durations", "rework", "ping_pong",
                           "handovers", "sla_breaches", "sla_summary", "stuck_cases", "backward_moves", "funnel",
                           "case_status"}
    s = tables["sla_summary"].iloc[0]
    # the 40 planted breaches and the 6 near-limit deals quoted 1 s / 1 min / 5 min after the 30 days
    assert s["late"] == len(truth["logs"]["salesforce"]["limits"]["quote-within-30d"]["late"]) == 46
    assert tables["summary"].iloc[0]["cases"] == truth["logs"]["salesforce"]["cases"]
    assert tables["bottlenecks"]["share"].max() <= 1.0


def test_demo_hubspot_funnel_drop_out_and_open_stages(repo_root, truth):
    from processmining.ingest import read_log

    hs = truth["logs"]["hubspot"]
    log = read_log(repo_root / "eventlogs" / "hubspot_deals.csv", preset="hubspot-deals")
    stages = ["Appointment Scheduled", "Qualified To Buy", "Presentation Scheduled", "Decision Maker Bought-In",
              "Contract Sent", "Closed Won"]
    fu = P.funnel(log, stages, lost="Closed Lost").set_index("stage")
    lost = P.lost_cases(log, stages, lost="Closed Lost")
    for stage, ids in hs["lost_after"].items():
        assert fu.loc[stage, "lost_here"] == len(ids)
        assert sorted(lost.loc[lost["drop_out_stage"] == stage, "case"]) == sorted(ids)
    assert fu.loc["Appointment Scheduled", "reached"] == hs["cases"]
    status = case_status(log, end_activities=["Closed Won", "Closed Lost"])
    open_cases = status[status["status"] == "running"]
    for stage, ids in hs["open_at"].items():
        assert sorted(open_cases.loc[open_cases["last_activity"] == stage, "case"]) == sorted(ids)
        if stage in fu.index:  # open cases whose furthest stage is this one
            assert fu.loc[stage, "still_open"] == len(ids)
