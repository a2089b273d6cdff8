"""Exact element and sequence-flow traversal counts (``ConformanceResult.element_counts`` / ``flow_counts``).

Small BPMN models built in code, one per routing construct, with small logs
whose counts are worked out by hand; then the Salesforce demo, checked
against counts derived independently from the log.
"""

from __future__ import annotations

import pandas as pd
import pytest

from processmining.bpmn import read_bpmn
from processmining.conformance import conform
from processmining.conformance.alignment import CompiledNet
from processmining.conformance.traversal import model_run
from processmining.model import ACTIVITY, CASE, EventLog

NS = 'xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"'
S = '<startEvent id="s"/>'
E = '<endEvent id="e"/>'


def bpmn(body: str, flows: str) -> bytes:
    """One process; ``flows``: 'a>b:fid c>d?' (default id ``<src>_<tgt>``, ``?`` = has a condition)."""
    parts = []
    for spec in flows.split():
        cond = spec.endswith("?")
        spec = spec.rstrip("?")
        fid = None
        if ":" in spec:
            spec, fid = spec.split(":")
        src, tgt = spec.split(">")
        inner = "<conditionExpression>x</conditionExpression>" if cond else ""
        parts.append(f'<sequenceFlow id="{fid or f"{src}_{tgt}"}" sourceRef="{src}" targetRef="{tgt}">{inner}'
                     "</sequenceFlow>")
    return (f'<?xml version="1.0"?><definitions {NS} id="d"><process id="P">{body}{"".join(parts)}</process>'
            "</definitions>").encode()


def tasks(*names: str) -> str:
    return "".join(f'<task id="{n}" name="{n}"/>' for n in names)


def log_of(variants: dict[str, tuple[int, str]]) -> EventLog:
    """``{prefix: (number of cases, 'A B C')}`` -> a log with that many cases per trace."""
    rows = []
    for prefix, (n, trace) in variants.items():
        for k in range(n):
            for j, act in enumerate(trace.split()):
                rows.append({CASE: f"{prefix}{k}", ACTIVITY: act,
                             "time:timestamp": pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(hours=j)})
    return EventLog.from_frame(pd.DataFrame(rows))


XOR = (S + tasks("A", "B", "C", "D") + '<exclusiveGateway id="x1"/><exclusiveGateway id="x2"/>' + E,
       "s>A A>x1 x1>B x1>C B>x2 C>x2 x2>D D>e")


def test_xor_split_counts_each_branch_and_the_skipped_task():
    log = log_of({
        "b": (3, "A B D"),    # upper branch
        "c": (2, "A C D"),    # lower branch
        "x": (1, "A B X D"),  # X is unknown: a log move, not in the model's counts
        "m": (1, "A C"),      # D missing: a model move, the model run still goes through D to the end
    })
    r = conform(log, read_bpmn(bpmn(*XOR)), running="none", processes=1, precision=False)
    assert r.element_counts == {"s": 7, "A": 7, "x1": 7, "B": 4, "C": 3, "x2": 7, "D": 7, "e": 7}
    assert r.flow_counts == {"s_A": 7, "A_x1": 7, "x1_B": 4, "x1_C": 3, "B_x2": 4, "C_x2": 3, "x2_D": 7,
                             "D_e": 7}
    assert r.untraced_cases == 0


def test_running_case_counts_what_happened_so_far():
    # 'A B' stops after B (B is no end activity, so it is running): its token has passed the merge
    # x2 (a merge passes a token on at once, and the net does it together with B) and waits in front
    # of D; D and the end event have not happened yet
    r = conform(log_of({"r": (2, "A B"), "f": (1, "A C D")}), read_bpmn(bpmn(*XOR)), processes=1, precision=False)
    assert r.element_counts == {"s": 3, "A": 3, "x1": 3, "B": 2, "C": 1, "x2": 3, "D": 1, "e": 1}
    assert r.flow_counts == {"s_A": 3, "A_x1": 3, "x1_B": 2, "x1_C": 1, "B_x2": 2, "C_x2": 1, "x2_D": 3, "D_e": 1}


def test_and_split_counts_one_synchronisation_per_case():
    model = read_bpmn(bpmn(S + tasks("A", "B", "C", "D") + '<parallelGateway id="p1"/><parallelGateway id="p2"/>' + E,
                           "s>A A>p1 p1>B p1>C B>p2 C>p2 p2>D D>e"))
    r = conform(log_of({"bc": (2, "A B C D"), "cb": (1, "A C B D")}), model, running="none", processes=1,
                precision=False)
    # both branches in every case; each gateway fires once per case, not once per branch
    assert r.element_counts == {"s": 3, "A": 3, "p1": 3, "B": 3, "C": 3, "p2": 3, "D": 3, "e": 3}
    assert r.flow_counts == {"s_A": 3, "A_p1": 3, "p1_B": 3, "p1_C": 3, "B_p2": 3, "C_p2": 3, "p2_D": 3, "D_e": 3}


def test_gateway_loop_counts_every_iteration():
    # m merges the entry and the way back, x decides: again (x>m) or on to C
    model = read_bpmn(bpmn(S + tasks("A", "B", "C") + '<exclusiveGateway id="m"/><exclusiveGateway id="x"/>' + E,
                           "s>A A>m m>B B>x x>m:back x>C C>e"))
    r = conform(log_of({"once": (2, "A B C"), "thrice": (1, "A B B B C")}), model, running="none", processes=1,
                precision=False)
    # B: 2 cases x 1 + 1 case x 3 = 5 executions; the way back taken 2 times (both in the 'thrice' case)
    assert r.element_counts == {"s": 3, "A": 3, "m": 5, "B": 5, "x": 5, "C": 3, "e": 3}
    assert r.flow_counts == {"s_A": 3, "A_m": 3, "m_B": 5, "B_x": 5, "back": 2, "x_C": 3, "C_e": 3}


def test_loop_marker_counts_executions_and_flows_once_per_activation():
    loop = '<task id="L" name="L"><standardLoopCharacteristics/></task>'
    r = conform(log_of({"one": (1, "A L C"), "three": (2, "A L L L C")}),
                read_bpmn(bpmn(S + tasks("A", "C") + loop + E, "s>A A>L L>C C>e")), running="none", processes=1,
                precision=False)
    assert r.element_counts == {"s": 3, "A": 3, "L": 7, "C": 3, "e": 3}  # 1 + 2 x 3 executions of L
    assert r.flow_counts == {"s_A": 3, "A_L": 3, "L_C": 3, "C_e": 3}


def test_or_split_counts_the_branches_taken():
    model = read_bpmn(bpmn(S + tasks("A", "B", "C", "D") + '<inclusiveGateway id="o1"/><inclusiveGateway id="o2"/>' + E,
                           "s>A A>o1 o1>B? o1>C? B>o2 C>o2 o2>D D>e"))
    r = conform(log_of({"b": (2, "A B D"), "c": (1, "A C D"), "bc": (3, "A B C D")}), model, running="none",
                processes=1, precision=False)
    # B in 2 + 3 cases, C in 1 + 3; the split and the paired join fire once per case
    assert r.element_counts == {"s": 6, "A": 6, "o1": 6, "B": 5, "C": 4, "o2": 6, "D": 6, "e": 6}
    assert r.flow_counts == {"s_A": 6, "A_o1": 6, "o1_B": 5, "o1_C": 4, "B_o2": 5, "C_o2": 4, "o2_D": 6, "D_e": 6}


SUB = ('<subProcess id="sp" name="sp"{loop}><startEvent id="ss"/><task id="B" name="B"/><endEvent id="se"/>'
       '<sequenceFlow id="i1" sourceRef="ss" targetRef="B"/><sequenceFlow id="i2" sourceRef="B" targetRef="se"/>'
       "</subProcess>")


def test_sub_process_counts_inner_flows_and_each_loop_round():
    flows = "s>A A>sp sp>C C>e"
    r = conform(log_of({"a": (2, "A B C")}), read_bpmn(bpmn(S + tasks("A", "C") + SUB.format(loop="") + E, flows)),
                running="none", processes=1, precision=False)
    assert r.element_counts == {"s": 2, "A": 2, "sp": 2, "ss": 2, "B": 2, "se": 2, "C": 2, "e": 2}
    assert r.flow_counts == {"s_A": 2, "A_sp": 2, "i1": 2, "i2": 2, "sp_C": 2, "C_e": 2}
    # a loop marker on the sub-process: its body (and the sub-process) once per round, its own flows once
    looped = SUB.format(loop="").replace('name="sp">', 'name="sp"><standardLoopCharacteristics/>')
    r = conform(log_of({"a": (1, "A B B C")}), read_bpmn(bpmn(S + tasks("A", "C") + looped + E, flows)),
                running="none", processes=1, precision=False)
    assert r.element_counts == {"s": 1, "A": 1, "sp": 2, "ss": 2, "B": 2, "se": 2, "C": 1, "e": 1}
    assert r.flow_counts == {"s_A": 1, "A_sp": 1, "i1": 2, "i2": 2, "sp_C": 1, "C_e": 1}


@pytest.mark.parametrize(("cancel", "interrupted", "b_runs"), [("true", "A D", 2), ("false", "A D B C", 3)])
def test_boundary_event_path_is_counted(cancel, interrupted, b_runs):
    body = (S + tasks("A", "B", "C", "D") + E + '<endEvent id="e2"/>'
            f'<boundaryEvent id="be" attachedToRef="B" cancelActivity="{cancel}"><timerEventDefinition/></boundaryEvent>')
    r = conform(log_of({"n": (2, "A B C"), "i": (1, interrupted)}),
                read_bpmn(bpmn(body, "s>A A>B B>C C>e be>D D>e2")), running="none", processes=1, precision=False)
    assert r.summary["fitting_cases"] == 3
    # the timer fired once; interrupting: B never completed in that case, non-interrupting: it still did
    assert r.element_counts == {"s": 3, "A": 3, "B": b_runs, "be": 1, "D": 1, "e2": 1, "C": b_runs, "e": b_runs}
    assert r.flow_counts == {"s_A": 3, "A_B": 3, "B_C": b_runs, "C_e": b_runs, "be_D": 1, "D_e2": 1}


def test_token_replay_mode_gives_no_counts():
    r = conform(log_of({"b": (1, "A B D")}), read_bpmn(bpmn(*XOR)), mode="token_replay", running="none",
                precision=False)
    assert (r.element_counts, r.flow_counts) == ({}, {})


def test_model_run_puts_the_silent_steps_back_in_order():
    # t0: visible A; then a choice of two silent steps, only one of which reaches the final place
    net = CompiledNet.from_arcs(places=4, transitions=[
        ("a", "A", ((0, 1),), ((1, 1),)),
        ("dead_end", None, ((1, 1),), ((2, 1),)),
        ("to_end", None, ((1, 1),), ((3, 1),)),
    ], initial={0: 1}, final={3: 1})
    assert model_run(net, [0]) == [0, 2]
    assert model_run(net, [0], prefix=True) == [0]
    assert model_run(net, [0, 0]) is None


# ------------------------------------------------------------------ the Salesforce demo
@pytest.fixture(scope="module")
def demo(repo_root):
    from processmining.ingest import read_log

    log = read_log(repo_root / "eventlogs" / "salesforce_opportunity_field_history.csv",
                   preset="salesforce-field-history")
    model = read_bpmn(repo_root / "bpmn_models" / "lead_to_order.bpmn")
    return log, model, conform(log, model, processes=1, precision=False)


def test_demo_counts_are_consistent_and_complete(demo):
    log, model, r = demo
    f, e = r.flow_counts, r.element_counts
    assert r.untraced_cases == 0
    assert e["Start_Lead"] == f["Flow_01"] == log.df[CASE].nunique() == 2000
    # every exclusive gateway passes on exactly the tokens it fired for, and a merge collects its inputs
    for gw in ("Gw_Qualified", "Gw_NeedConfirmed", "Gw_Interested", "Gw_Discount", "Gw_Outcome"):
        assert e[gw] == sum(n for fid, n in f.items() if model.flows[fid].source == gw), gw
    for gw in ("Gw_QuoteMerge", "Gw_DiscountMerge", "Gw_LostMerge"):
        assert e[gw] == sum(n for fid, n in f.items() if model.flows[fid].target == gw), gw
    # each flow from a gateway to a task is that task's executions (no loops back into a single task)
    assert f["Flow_13"] == e["Task_DiscountApproval"] == 500
    assert f["Flow_23"] == e["Task_ClosedLost"] == 882
    assert f["Flow_20"] == 222  # back from the outcome to a new quote
    assert set(f) == set(model.flows)  # every flow of this model is used by some case


def test_demo_flows_match_the_log_on_fitting_cases(demo):
    log, model, r = demo
    fitting = r.variants[r.variants.fitting & ~r.variants.running]
    keep = set(fitting.variant)
    df = log.df
    traces = df.groupby(CASE, sort=False)[ACTIVITY].agg(" → ".join)
    cases = traces[traces.isin(keep)].index
    sub = df[df[CASE].isin(cases)]
    rf = conform(log.with_frame(sub, step="fitting cases"), model, running="none", processes=1,
                 precision=False)
    f = rf.flow_counts
    per_act = sub.groupby(ACTIVITY)[CASE].agg(["size", "nunique"])
    n = len(cases)
    assert rf.summary["fitting_cases"] == n == 1614
    # the flow into Discount Approval: every Discount Approval of the fitting cases (368 cases, some of them
    # approved twice after a second quote); a flow counts traversals, not cases
    assert f["Flow_13"] == per_act.loc["Discount Approval", "size"] == 432
    assert per_act.loc["Discount Approval", "nunique"] == 368
    assert f["Flow_18"] == per_act.loc["Closed Won", "nunique"]  # outcome -> Closed Won
    assert f["Flow_24"] == per_act.loc["Closed Lost", "nunique"]  # Closed Lost -> end
    # a second (third, ...) quote in a case is one more pass over the way back
    assert f["Flow_20"] == per_act.loc["Proposal/Price Quote", "size"] - per_act.loc["Proposal/Price Quote", "nunique"]
    # no discount approval: negotiations entered without it
    assert f["Flow_14"] == per_act.loc["Negotiation/Review", "size"] - per_act.loc["Discount Approval", "size"]
    assert f["Flow_01"] == n


def test_app_overlays_label_every_flow_with_its_count(demo):
    from app_pages._conformance_view import element_counts_table, flow_overlays

    _log, model, r = demo
    overlays = flow_overlays(model, r.flow_counts)
    assert set(overlays) == set(model.flows)
    assert overlays["Flow_13"].label == "500"  # into Discount Approval
    assert overlays["Flow_01"].label == "2,000" and overlays["Flow_01"].stroke_width == 6.0  # the widest
    table = element_counts_table(model, r.element_counts).set_index("element")
    assert table.loc["Gw_Discount", "executions"] == 1434 and table.loc["Gw_Discount", "type"] == "exclusiveGateway"
    assert flow_overlays(model, {}) == {}  # token replay: no counts, plain flows
