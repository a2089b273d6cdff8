"""Language tests for the BPMN -> Petri net conversion.

Each construct gets a small model built in code, traces that must fit and
traces that must not, replayed with pm4py's alignments on the converted net
(trace fitness 1.0 = fits).
"""

from __future__ import annotations

import pandas as pd
import pytest

from processmining.bpmn import check_soundness, read_bpmn, to_petri_net
from processmining.errors import BpmnError

NS = 'xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"'


def bpmn(body: str, flows: str, *, extra: str = "", pid: str = "P") -> bytes:
    """A definitions document with one process. ``flows``: 'a>b a>c:fid c>d?' (``?`` = has a condition)."""
    parts = []
    for i, spec in enumerate(flows.split()):
        cond = spec.endswith("?")
        spec = spec.rstrip("?")
        fid = f"f{i}"
        if ":" in spec:
            spec, fid = spec.split(":")
        src, tgt = spec.split(">")
        inner = "<conditionExpression>x</conditionExpression>" if cond else ""
        parts.append(f'<sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{tgt}">{inner}</sequenceFlow>')
    return (
        f'<?xml version="1.0"?><definitions {NS} id="d"><process id="{pid}">{body}{"".join(parts)}</process>'
        f"{extra}</definitions>"
    ).encode()


def t(*names: str, kind: str = "task") -> str:
    return "".join(f'<{kind} id="{n}" name="{n}"/>' for n in names)


S = '<startEvent id="s"/>'
E = '<endEvent id="e"/>'


def fitness(conv, traces: list[str]) -> list[float]:
    """Alignment fitness of each trace ('A B C' = activities A, B, C) against the converted net."""
    import pm4py

    rows = []
    for i, trace in enumerate(traces):
        for j, act in enumerate(trace.split()):
            rows.append({"case:concept:name": f"c{i}", "concept:name": act,
                         "time:timestamp": pd.Timestamp("2024-01-01") + pd.Timedelta(minutes=j)})
    df = pd.DataFrame(rows)
    empty = [i for i, tr in enumerate(traces) if not tr.split()]
    assert not empty, "empty traces are not built here"
    res = pm4py.conformance_diagnostics_alignments(df, conv.net, conv.initial_marking, conv.final_marking,
                                                   return_diagnostics_dataframe=False)
    # pm4py returns one alignment per case, in case order of first appearance
    return [r["fitness"] for r in res]


def check(xml: bytes, fit: list[str], unfit: list[str]) -> object:
    conv = to_petri_net(read_bpmn(xml))
    got = fitness(conv, fit + unfit)
    assert got[: len(fit)] == [1.0] * len(fit), dict(zip(fit, got[: len(fit)], strict=True))
    bad = {tr: f for tr, f in zip(unfit, got[len(fit):], strict=True) if f == 1.0}
    assert not bad, f"traces fit that must not: {bad}"
    assert check_soundness(conv).sound is True
    return conv


def test_all_task_types_are_visible_steps():
    kinds = ["userTask", "serviceTask", "manualTask", "sendTask", "receiveTask", "scriptTask", "businessRuleTask"]
    body = S + "".join(f'<{k} id="T{i}" name="{k}"/>' for i, k in enumerate(kinds)) + E
    flows = " ".join(["s>T0"] + [f"T{i}>T{i + 1}" for i in range(len(kinds) - 1)] + [f"T{len(kinds) - 1}>e"])
    conv = check(bpmn(body, flows), [" ".join(kinds)], [" ".join(kinds[:-1]), " ".join([kinds[1], kinds[0], *kinds[2:]])])
    assert sorted(conv.activities) == sorted(kinds)
    # no silent transition is left for a plain sequence
    assert sum(1 for tr in conv.net.transitions if tr.label is None) == 0


def test_typed_events_are_silent():
    body = (
        '<startEvent id="s"><messageEventDefinition/></startEvent>' + t("A")
        + '<intermediateCatchEvent id="tm"><timerEventDefinition/></intermediateCatchEvent>'
        + '<intermediateThrowEvent id="sg"><signalEventDefinition/></intermediateThrowEvent>' + t("B")
        + '<endEvent id="e"><messageEventDefinition/></endEvent>'
    )
    check(bpmn(body, "s>A A>tm tm>sg sg>B B>e"), ["A B"], ["A", "B A"])


def test_exclusive_gateway():
    body = S + t("A", "B", "C", "D") + '<exclusiveGateway id="x1"/><exclusiveGateway id="x2"/>' + E
    check(bpmn(body, "s>A A>x1 x1>B x1>C B>x2 C>x2 x2>D D>e"), ["A B D", "A C D"], ["A B C D", "A D"])


def test_parallel_gateway():
    body = S + t("A", "B", "C", "D") + '<parallelGateway id="p1"/><parallelGateway id="p2"/>' + E
    check(bpmn(body, "s>A A>p1 p1>B p1>C B>p2 C>p2 p2>D D>e"), ["A B C D", "A C B D"], ["A B D", "A C D"])


def test_inclusive_gateway_never_skips_all_branches():
    # BAD_INPUTS 22: 'A D' skips every OR branch; plain pm4py scores it 1.0
    body = S + t("A", "B", "C", "D") + '<inclusiveGateway id="o1"/><inclusiveGateway id="o2"/>' + E
    check(
        bpmn(body, "s>A A>o1 o1>B? o1>C? B>o2 C>o2 o2>D D>e"),
        ["A B D", "A C D", "A B C D", "A C B D"],
        ["A D", "A B B D", "A B C C D"],
    )


def test_inclusive_default_flow_only_alone():
    # the default flow (C) is taken only when no condition holds: never together with B
    body = S + t("A", "B", "C", "D") + '<inclusiveGateway id="o1" default="fd"/><inclusiveGateway id="o2"/>' + E
    check(bpmn(body, "s>A A>o1 o1>B? o1>C:fd B>o2 C>o2 o2>D D>e"), ["A B D", "A C D"], ["A B C D", "A D"])


def test_inclusive_join_with_too_many_incoming_flows_is_refused_by_name():
    # an OR-join without a split is expanded per subset of its incoming flows: more than 8 is refused
    names = [f"T{i}" for i in range(9)]
    body = S + t(*names) + '<parallelGateway id="p1"/><inclusiveGateway id="oj" name="Merge"/>' + E
    flows = " ".join(["s>p1", *(f"p1>{n}" for n in names), *(f"{n}>oj" for n in names), "oj>e"])
    model = read_bpmn(bpmn(body, flows))
    assert model.report.problems == ["inclusiveGateway 'Merge' (id oj): inclusive join with 9 incoming flows (more "
                                     "than 8) is too large to expand: split it into smaller joins"]
    with pytest.raises(BpmnError, match=r"inclusiveGateway 'Merge' \(id oj\)"):
        to_petri_net(model)


def test_event_based_gateway_is_an_exclusive_choice():
    body = (S + t("A", "B", "C") + '<eventBasedGateway id="eb"/>'
            '<intermediateCatchEvent id="m"><messageEventDefinition/></intermediateCatchEvent>'
            '<intermediateCatchEvent id="tm"><timerEventDefinition/></intermediateCatchEvent>'
            '<exclusiveGateway id="x"/>' + E)
    check(bpmn(body, "s>A A>eb eb>m eb>tm m>B tm>C B>x C>x x>e"), ["A B", "A C"], ["A B C", "A"])


def test_implicit_split_and_uncontrolled_merge():
    # A has two outgoing flows (parallel split); D has two incoming flows (no gateway: runs once per token)
    body = S + t("A", "B", "C", "D") + E
    check(bpmn(body, "s>A A>B A>C B>D C>D D>e"), ["A B C D D", "A B D C D"], ["A B C D", "A B D"])


def test_implicit_split_joined_by_parallel_gateway():
    body = S + t("A", "B", "C", "D") + '<parallelGateway id="j"/>' + E
    check(bpmn(body, "s>A A>B A>C B>j C>j j>D D>e"), ["A B C D", "A C B D"], ["A B D", "A B C D D"])


def test_embedded_subprocess_is_flattened():
    sub = '<subProcess id="sp" name="Sub"><startEvent id="ss"/>' + t("B", "C") + '<endEvent id="se"/>' \
          '<sequenceFlow id="g1" sourceRef="ss" targetRef="B"/><sequenceFlow id="g2" sourceRef="B" targetRef="C"/>' \
          '<sequenceFlow id="g3" sourceRef="C" targetRef="se"/></subProcess>'
    conv = check(bpmn(S + t("A", "D") + sub + E, "s>A A>sp sp>D D>e"), ["A B C D"], ["A B D", "A D", "A C B D"])
    assert {conv.transition_element[tr.name] for tr in conv.net.transitions if tr.label == "B"} == {"B"}


def test_subprocess_with_parallel_branches_waits_for_both_ends():
    # two end events inside: the sub-process completes only when both branches ended
    sub = ('<subProcess id="sp"><startEvent id="ss"/><parallelGateway id="pf"/>' + t("B", "C")
           + '<endEvent id="e1"/><endEvent id="e2"/>'
           '<sequenceFlow id="g1" sourceRef="ss" targetRef="pf"/><sequenceFlow id="g2" sourceRef="pf" targetRef="B"/>'
           '<sequenceFlow id="g3" sourceRef="pf" targetRef="C"/><sequenceFlow id="g4" sourceRef="B" targetRef="e1"/>'
           '<sequenceFlow id="g5" sourceRef="C" targetRef="e2"/></subProcess>')
    check(bpmn(S + t("A", "D") + sub + E, "s>A A>sp sp>D D>e"), ["A B C D", "A C B D"], ["A B D", "A B D C"])


def test_interrupting_boundary_on_task_is_an_alternative_path():
    body = (S + t("A", "B", "D", "X") + '<boundaryEvent id="b" attachedToRef="B"><timerEventDefinition/>'
            '</boundaryEvent><exclusiveGateway id="x"/>' + E)
    check(bpmn(body, "s>A A>B B>x b>X X>x x>D D>e"), ["A B D", "A X D"], ["A B X D", "A D"])


def test_interrupting_boundary_on_subprocess_cancels_in_any_state():
    # pm4py scores these 0.5 (BAD_INPUTS 23); the interrupt may come before B, between B and C, not after C
    sub = '<subProcess id="sp"><startEvent id="ss"/>' + t("B", "C") + '<endEvent id="se"/>' \
          '<sequenceFlow id="g1" sourceRef="ss" targetRef="B"/><sequenceFlow id="g2" sourceRef="B" targetRef="C"/>' \
          '<sequenceFlow id="g3" sourceRef="C" targetRef="se"/></subProcess>'
    body = (S + t("A", "D", "X") + sub + '<boundaryEvent id="b" attachedToRef="sp"><errorEventDefinition/>'
            '</boundaryEvent><exclusiveGateway id="x"/>' + E)
    check(bpmn(body, "s>A A>sp sp>x b>X X>x x>D D>e"), ["A B C D", "A X D", "A B X D"], ["A B C X D", "A C X D"])


def test_non_interrupting_boundary_adds_one_parallel_path():
    body = (S + t("A", "B", "D", "N") + '<boundaryEvent id="b" attachedToRef="B" cancelActivity="false">'
            '<messageEventDefinition/></boundaryEvent><endEvent id="e2"/>' + E)
    check(bpmn(body, "s>A A>B B>D D>e b>N N>e2"), ["A B D", "A N B D", "A B N D", "A B D N"],
          ["A N D", "A N N B D", "N A B D"])


def test_loop_marker_on_task():
    loop = '<task id="B" name="B"><standardLoopCharacteristics/></task>'
    check(bpmn(S + t("A", "C") + loop + E, "s>A A>B B>C C>e"), ["A B C", "A B B B C"], ["A C", "A B C B"])


def test_loop_marker_test_before_allows_zero_iterations():
    loop = '<task id="B" name="B"><standardLoopCharacteristics testBefore="true"/></task>'
    check(bpmn(S + t("A", "C") + loop + E, "s>A A>B B>C C>e"), ["A C", "A B C", "A B B C"], ["A B"])


def test_multi_instance_with_and_without_cardinality():
    mi = '<task id="B" name="B"><multiInstanceLoopCharacteristics/></task>'
    check(bpmn(S + t("A", "C") + mi + E, "s>A A>B B>C C>e"), ["A B C", "A B B B C"], ["A C"])
    mi3 = ('<task id="B" name="B"><multiInstanceLoopCharacteristics isSequential="true">'
           '<loopCardinality>3</loopCardinality></multiInstanceLoopCharacteristics></task>')
    check(bpmn(S + t("A", "C") + mi3 + E, "s>A A>B B>C C>e"), ["A B B B C"], ["A B C", "A B B C", "A B B B B C"])


def test_loop_marker_on_subprocess_repeats_its_body():
    sub = '<subProcess id="sp"><standardLoopCharacteristics/><startEvent id="ss"/>' + t("B", "C") + \
          '<endEvent id="se"/><sequenceFlow id="g1" sourceRef="ss" targetRef="B"/>' \
          '<sequenceFlow id="g2" sourceRef="B" targetRef="C"/><sequenceFlow id="g3" sourceRef="C" targetRef="se"/>' \
          '</subProcess>'
    check(bpmn(S + t("A", "D") + sub + E, "s>A A>sp sp>D D>e"), ["A B C D", "A B C B C D"], ["A B B C D", "A D"])


def test_call_activity_is_inlined_from_the_same_file():
    called = ('<process id="Q"><startEvent id="qs"/><task id="X" name="X"/><task id="Y" name="Y"/><endEvent id="qe"/>'
              '<sequenceFlow id="q1" sourceRef="qs" targetRef="X"/><sequenceFlow id="q2" sourceRef="X" targetRef="Y"/>'
              '<sequenceFlow id="q3" sourceRef="Y" targetRef="qe"/></process>')
    body = S + t("A", "B") + '<callActivity id="ca" name="Check" calledElement="Q"/>' + E
    xml = bpmn(body, "s>A A>ca ca>B B>e", extra=called)
    model = read_bpmn(xml)
    assert model.process_id == "P"  # P has 3 activities, Q has 2
    conv = check(xml, ["A X Y B"], ["A B", "A X B"])
    # inlined steps are drawn on the call activity of the chosen process
    assert {conv.transition_element[tr.name] for tr in conv.net.transitions if tr.label == "X"} == {"ca"}


def test_terminate_end_exact_without_concurrency():
    body = S + t("A", "B") + '<exclusiveGateway id="x"/><endEvent id="te"><terminateEventDefinition/></endEvent>' + E
    xml = bpmn(body, "s>A A>x x>te x>B B>e")
    model = read_bpmn(xml)
    status = {e.id: e.status for e in model.report.elements}
    assert status["te"] == "mapped"
    check(xml, ["A", "A B"], ["B", "A B B"])


def test_terminate_end_with_concurrent_branch_is_reported_approximated():
    body = S + t("A", "B", "C") + '<parallelGateway id="p"/><endEvent id="te"><terminateEventDefinition/></endEvent>' + E
    model = read_bpmn(bpmn(body, "s>A A>p p>B p>C B>te C>e"))
    entry = next(e for e in model.report.elements if e.id == "te")
    assert entry.status == "approximated"
    assert "other branches may still be active" in entry.detail
    assert any("te" in a for a in model.report.approximations)


def test_missing_start_and_end_events():
    # no start event: the node without incoming flow starts; no end event: C ends the process
    xml = bpmn(t("A", "B", "C"), "A>B B>C")
    model = read_bpmn(xml)
    assert model.report.usable
    assert any("no start event" in w for w in model.report.warnings)
    assert any("no end event" in w for w in model.report.warnings)
    check(xml, ["A B C"], ["A B", "B C"])


def test_unnamed_task_is_silent_and_listed():
    xml = bpmn(S + t("A") + '<task id="u"/>' + t("B") + E, "s>A A>u u>B B>e")
    model = read_bpmn(xml)
    assert model.report.unnamed_tasks == ["task (id u)"]
    check(xml, ["A B"], ["A"])


def test_xor_structures_leave_no_needless_silent_transitions():
    # a choice between two tasks followed by a merge needs no silent transition at all
    body = S + t("A", "B", "C", "D") + '<exclusiveGateway id="x1"/><exclusiveGateway id="x2"/>' + E
    conv = to_petri_net(read_bpmn(bpmn(body, "s>A A>x1 x1>B x1>C B>x2 C>x2 x2>D D>e")))
    assert sum(1 for tr in conv.net.transitions if tr.label is None) == 0
    assert len(conv.net.transitions) == 4
    # every transition, silent or not, maps to an element of the model
    assert set(conv.transition_element.values()) <= {"s", "A", "B", "C", "D", "x1", "x2", "e"}


def test_label_map_renames_visible_transitions():
    conv = to_petri_net(read_bpmn(bpmn(S + t("Approve") + E, "s>Approve Approve>e")), label_map={"Approve": "approve"})
    assert conv.activities == ["approve"]


def test_error_end_inside_subprocess_leaves_through_the_error_boundary():
    # the error end must not complete the sub-process normally: after B and the error, X follows, never D alone
    sub = ('<subProcess id="sp"><startEvent id="ss"/>' + t("B", "C") + '<exclusiveGateway id="xs"/>'
           '<endEvent id="se"/><endEvent id="ee"><errorEventDefinition/></endEvent>'
           '<sequenceFlow id="g1" sourceRef="ss" targetRef="B"/><sequenceFlow id="g2" sourceRef="B" targetRef="xs"/>'
           '<sequenceFlow id="g3" sourceRef="xs" targetRef="C"/><sequenceFlow id="g4" sourceRef="C" targetRef="se"/>'
           '<sequenceFlow id="g5" sourceRef="xs" targetRef="ee"/></subProcess>')
    body = (S + t("A", "D", "X") + sub + '<boundaryEvent id="b" attachedToRef="sp"><errorEventDefinition/>'
            '</boundaryEvent><endEvent id="e2"/>' + E)
    xml = bpmn(body, "s>A A>sp sp>D D>e b>X X>e2")
    check(xml, ["A B C D", "A B X"], ["A B D", "A B C X D"])
    status = {e.id: e.detail for e in read_bpmn(xml).report.elements}
    assert status["ee"] == "error end event: caught by the error boundary event of sp"


def test_one_visible_transition_per_task_so_token_replay_works():
    # pm4py's token replay looks transitions up by label: loops and counters must not duplicate tasks
    loop = '<task id="B" name="B"><standardLoopCharacteristics/></task>'
    mi = ('<task id="C" name="C"><multiInstanceLoopCharacteristics><loopCardinality>2</loopCardinality>'
          '</multiInstanceLoopCharacteristics></task>')
    xml = bpmn(S + t("A") + loop + mi + E, "s>A A>B B>C C>e")
    conv = check(xml, ["A B C C", "A B B B C C"], ["A B C", "A B C C C", "A C C"])
    labels = [tr.label for tr in conv.net.transitions if tr.label is not None]
    assert sorted(labels) == ["A", "B", "C"]
    import pm4py

    rows = [{"case:concept:name": "c", "concept:name": a, "time:timestamp": pd.Timestamp("2024-01-01") + pd.Timedelta(minutes=i)}
            for i, a in enumerate(["A", "B", "B", "C", "C"])]
    replay = pm4py.fitness_token_based_replay(pd.DataFrame(rows), conv.net, conv.initial_marking, conv.final_marking)
    assert replay["perc_fit_traces"] == 100.0


def test_alignments_only_net_has_fewer_silent_steps_and_the_same_language():
    # optional skips of tasks: the default keeps one transition per task, alignments_only copies tasks instead
    body = (S + t("A", "B", "C", "D") + '<exclusiveGateway id="x1"/><exclusiveGateway id="x2"/>'
            '<exclusiveGateway id="x3"/><exclusiveGateway id="x4"/>' + E)
    xml = bpmn(body, "s>A A>x1 x1>B x1>x2 B>x2 x2>x3 x3>C x3>x4 C>x4 x4>D D>e")
    model = read_bpmn(xml)
    default = to_petri_net(model)
    fast = to_petri_net(model, alignments_only=True)
    silent = [sum(1 for tr in c.net.transitions if tr.label is None) for c in (default, fast)]
    assert silent[1] < silent[0]
    assert sorted(tr.label for tr in default.net.transitions if tr.label) == ["A", "B", "C", "D"]
    traces = ["A B C D", "A D", "A B D", "A C D", "A C B D", "B D", "A B C"]
    assert fitness(default, traces) == fitness(fast, traces)
    assert fitness(fast, traces)[:4] == [1.0] * 4
