"""The certified fitting plan: an LP (the extended marking equation of fitting runs, one split point per group of
events, groups halved where the plan fails) whose integral, orderable solution is a fitting alignment of the LP's
own cost, hence optimal.

The costs are checked against the explicit search over the explored state space (an independent optimum,
itself checked against pm4py in test_alignment_equation.py) and against pm4py on real logs.
"""

from __future__ import annotations

import itertools

import pytest

from processmining.conformance.alignment import align, uses_equation
from processmining.conformance.equation import align_equation, equation_of
from processmining.conformance.net import CompiledNet
from processmining.conformance.splitpoints import _plan_lp, fitting_run


def _loop_of_two_branches() -> CompiledNet:
    # start ; loop( split ; (X | skip) || (Y | skip) ; join ) ; exit ; Z -- every iteration costs split, two
    # branch ends and join, and one more silent step back or out: the shape of the inductive miner's loops
    return CompiledNet.from_arcs(places=9, transitions=[
        ("start", None, ((0, 1),), ((1, 1),)),
        ("split", None, ((1, 1),), ((2, 1), (3, 1))),
        ("x", "X", ((2, 1),), ((4, 1),)),
        ("skip_x", None, ((2, 1),), ((4, 1),)),
        ("y", "Y", ((3, 1),), ((5, 1),)),
        ("skip_y", None, ((3, 1),), ((5, 1),)),
        ("join", None, ((4, 1), (5, 1)), ((6, 1),)),
        ("back", None, ((6, 1),), ((1, 1),)),
        ("exit", None, ((6, 1),), ((7, 1),)),
        ("z", "Z", ((7, 1),), ((8, 1),)),
    ], initial={0: 1}, final={8: 1})


def test_the_plan_counts_the_loop_iterations_the_plain_marking_equation_pairs_up():
    net = _loop_of_two_branches()
    me = equation_of(net)
    trace = ("X", "X", "Y", "Y", "Z")
    plain, _ = me.solve(net.initial, me.counts(trace)[0], len(trace))
    cost, run, positions = fitting_run(me, trace)
    # the plain equation puts X and Y in the same iteration twice (start, 2 x (split, join), back, exit = 7);
    # in order they need three iterations, (X, skip Y), (X, Y), (skip X, Y): start, 3 x (split, join),
    # 2 skips, 2 x back, exit = 12
    assert (plain, cost) == (7, 12)
    names = [net.names[t] for t in run]
    assert [names[j] for j in positions] == ["x", "x", "y", "y", "z"]
    assert names.count("split") == names.count("join") == 3 and names.count("back") == 2
    m = net.initial  # the run is a firing sequence from the initial to the final marking
    for t in run:
        m = dict(net.successors(m))[t]
    assert m == net.final


def test_the_plan_costs_equal_the_explored_search_on_every_short_trace():
    net = _loop_of_two_branches()
    me = equation_of(net)
    explored = _loop_of_two_branches()
    explored.explore()
    assert not uses_equation(explored)
    costs = {}
    for k in range(1, 5):
        for body in itertools.product("XY", repeat=k):
            trace = (*body, "Z")
            found = fitting_run(me, trace)
            assert found is not None, trace  # all of them fit
            assert found[0] == align(explored, trace).cost, trace
            costs[trace] = found[0]
    assert len(costs) == 30
    assert (costs[("X", "Z")], costs[("X", "Y", "Z")], costs[("X", "X", "X", "X", "Z")]) == (5, 4, 17)


def test_a_coarse_plan_that_cannot_be_ordered_is_cut_until_it_can():
    net = _loop_of_two_branches()
    me = equation_of(net)
    trace = ("X", "X", "Y", "Y", "Z")
    # one group (one split point, at event 0): the events after it are counted in no order, so X and Y pair up
    # in two iterations as in the plain equation (7); with a split point per event the bound is the optimum
    bounds = [_plan_lp(me, trace, starts, None)[0] for starts in ([0], [0, 3], [0, 1, 2, 3, 4])]
    assert bounds == [7, 7, 12]
    # the coarse plan of 7 is not a run: its groups are halved until the plan is certified at 12
    assert fitting_run(me, trace, group=8)[0] == fitting_run(me, trace, group=1)[0] == 12


def test_grouped_plans_equal_the_explored_search_on_long_traces():
    import random

    net = _loop_of_two_branches()
    me = equation_of(net)
    explored = _loop_of_two_branches()
    explored.explore()
    rng = random.Random(5)
    traces = [(*rng.choices("XY", k=rng.randint(8, 30)), "Z") for _ in range(25)]
    expected = [align(explored, t).cost for t in traces]
    for group in (2, 3, 8, 16):  # each is certified, at the optimum of the search
        assert [fitting_run(me, t, group=group)[0] for t in traces] == expected, group
    assert min(expected) >= 13 and max(expected) < 10_000


@pytest.mark.parametrize("trace", [("Z", "X"), ("X", "W", "Z"), ("X",), ()])
def test_no_plan_for_traces_that_do_not_fit_and_the_search_still_finds_the_optimum(trace):
    net = _loop_of_two_branches()
    assert fitting_run(equation_of(net), trace) is None
    explored = _loop_of_two_branches()
    explored.explore()
    assert align(net, trace).cost == align(explored, trace).cost >= 10_000


def test_the_public_aligner_returns_the_plan_with_its_moves_and_run():
    net = _loop_of_two_branches()  # not explored: the marking-equation side of align
    res = align(net, ("Y", "X", "Z"))
    assert res.cost == 4  # start, split, join, exit: X and Y share one iteration, nothing skipped
    assert [(m.kind, m.label, m.position, m.transition) for m in res.moves] == [
        ("sync", "Y", 0, "y"), ("sync", "X", 1, "x"), ("sync", "Z", 2, "z")]
    assert [net.names[t] for t in res.run] == ["start", "split", "y", "x", "join", "exit", "z"]


@pytest.fixture(scope="module")
def bpic2013(shared_datasets):
    import pm4py
    from pm4py.objects.log.obj import Event, EventLog, Trace

    from processmining.conformance.variants import log_variants
    from processmining.ingest import read_log

    # one trace per variant, read with our reader (pm4py's parse of the whole log takes minutes under load);
    # both sides align against the inductive net of these variants
    traces = sorted(log_variants(read_log(shared_datasets / "real" / "bpic2013_incidents.xes.gz")).traces,
                    key=lambda t: (len(t), t))
    plog = EventLog([Trace([Event({"concept:name": a}) for a in t]) for t in traces])
    return pm4py.discover_petri_net_inductive(plog), traces


@pytest.mark.slow
def test_plan_costs_equal_pm4py_on_bpic2013_against_its_inductive_net(bpic2013):
    from pm4py.algo.conformance.alignments.petri_net import algorithm as alignments
    from pm4py.objects.log.obj import Event, EventLog, Trace

    (net, im, fm), traces = bpic2013
    sample = traces[::150]  # 11 of the 1,511 variants, 1 to 34 events
    plog = EventLog([Trace([Event({"concept:name": a}) for a in t]) for t in sample])
    expected = [a["cost"] for a in alignments.apply_log(plog, net, im, fm, parameters={"show_progress_bar": False})]
    compiled = CompiledNet.from_pm4py(net, im, fm)
    me = equation_of(compiled)
    plans = [fitting_run(me, t) for t in sample]
    # every variant of this log fits the inductive net: each one is planned and certified
    assert [p[0] for p in plans] == expected
    assert len(expected) == 11 and max(expected) < 10_000
    assert [align_equation(compiled, t)[2] for t in sample[:4]] == expected[:4]  # and the search agrees


def test_the_plan_keeps_to_the_deadline():
    import time

    net = _loop_of_two_branches()
    me = equation_of(net)
    assert fitting_run(me, ("X", "Z"), deadline=time.perf_counter() - 1) is None  # no time left: no LP
    assert fitting_run(me, ("X", "Z"), deadline=time.perf_counter() + 60)[0] == 5


@pytest.mark.slow
def test_grouped_plans_equal_the_plan_split_at_every_event_on_long_sepsis_variants(shared_datasets):
    import pm4py
    from pm4py.objects.log.obj import Event, EventLog, Trace

    from processmining.conformance.variants import log_variants
    from processmining.ingest import read_log

    traces = sorted(log_variants(read_log(shared_datasets / "real" / "sepsis_1t_per_variant.xes.gz")).traces,
                    key=lambda t: (len(t), t))
    plog = EventLog([Trace([Event({"concept:name": a}) for a in t]) for t in traces])
    compiled = CompiledNet.from_pm4py(*pm4py.discover_petri_net_inductive(plog))
    me = equation_of(compiled)
    long = [t for t in traces if 50 < len(t) <= 100]  # long runs of one activity: the groups differ most there
    grouped = [fitting_run(me, t) for t in long]
    per_event = [fitting_run(me, t, group=1) for t in long]
    # both are certificates (a run at the LP's bound): every one is found, at the same cost
    assert len(long) == 9 and None not in grouped and None not in per_event
    assert [g[0] for g in grouped] == [p[0] for p in per_event]
    assert min(g[0] for g in grouped) > 20 and max(g[0] for g in grouped) < 10_000
    for t, (_cost, run, positions) in zip(long, grouped, strict=True):  # each grouped plan is a fitting run of t
        m = compiled.initial
        for j in run:
            m = dict(compiled.successors(m))[j]
        assert m == compiled.final and [compiled.labels[run[j]] for j in positions] == list(t)


def test_ordering_a_segment_does_not_interleave_concurrent_silent_steps(monkeypatch):
    from processmining.conformance import splitpoints

    # split into 12 branches of one silent step each, next to a loop whose token must go round twice:
    # enter, back, enter, exit. The depth-first order tries exit before back (transition order), a dead end
    # found only after the loop; interleaving the 12 branch steps around it meant 2^12 states to rule out
    k = 12
    p_in, p_body, p_out, done0 = 1, 2, 3, 4
    transitions = [("a_split", None, ((0, 1),), tuple((done0 + 2 * i, 1) for i in range(k)) + ((p_in, 1),)),
                   ("b_enter", None, ((p_in, 1),), ((p_body, 1),)),
                   ("c_exit", None, ((p_body, 1),), ((p_out, 1),)),
                   ("d_back", None, ((p_body, 1),), ((p_in, 1),))]
    transitions += [(f"e_step{i:02d}", None, ((done0 + 2 * i, 1),), ((done0 + 2 * i + 1, 1),)) for i in range(k)]
    net = CompiledNet.from_arcs(places=done0 + 2 * k, transitions=transitions, initial={0: 1},
                                final={p_out: 1, **{done0 + 2 * i + 1: 1 for i in range(k)}})
    need = {0: 1, 1: 2, 2: 1, 3: 1, **{4 + i: 1 for i in range(k)}}
    monkeypatch.setattr(splitpoints, "ORDER_BUDGET", 200)  # far fewer tries than the interleavings
    order = splitpoints._order(net, net.initial, need)
    assert order is not None and sorted(order) == sorted(t for t, c in need.items() for _ in range(c))
    names = [net.names[t] for t in order if net.names[t] in ("b_enter", "c_exit", "d_back")]
    assert names == ["b_enter", "d_back", "b_enter", "c_exit"]
    m = net.initial
    for t in order:
        m = dict(net.successors(m))[t]
    assert m == net.final


def test_the_first_plan_groups_runs_of_one_activity():
    from processmining.conformance.splitpoints import _runs

    trace = ("A", "A", "A", "B", "C", "C", "A", "A", "A", "A", "A")
    assert _runs(trace, 16) == [0, 3, 4, 6]
    assert _runs(trace, 2) == [0, 2, 3, 4, 6, 8, 10]
    assert _runs(trace, 1) == list(range(len(trace)))


def _is_run_of(net: CompiledNet, run: list[int], trace: tuple[str, ...]) -> bool:
    m = net.initial
    for t in run:
        m = dict(net.successors(m)).get(t)
        if m is None:
            return False
    return m == net.final and [net.labels[t] for t in run if net.labels[t] is not None] == list(trace)


def test_the_repair_finds_a_run_at_the_bound_and_none_below_it():
    from processmining.conformance.splitpoints import _repair

    net = _loop_of_two_branches()
    me = equation_of(net)
    trace = ("X", "X", "Y", "Y", "Z")
    starts = list(range(len(trace)))
    # from the very start (segment 0, the initial marking, nothing real yet): a run of the optimum, 12
    run = _repair(me, trace, 12, starts, [], (0, net.initial, 0), None)
    assert _is_run_of(net, run, trace) and sum(1 for t in run if net.labels[t] is None) == 12
    assert [net.names[t] for t in run].count("back") == 2
    # below the optimum there is no run: every way on is pruned by its LP bound
    assert _repair(me, trace, 11, starts, [], (0, net.initial, 0), None) is None


def test_a_plan_that_cannot_be_ordered_at_every_split_point_is_repaired(monkeypatch):
    from processmining.conformance import splitpoints

    net = _loop_of_two_branches()
    me = equation_of(net)
    trace = ("X", "X", "Y", "Y", "Z")
    real_order = splitpoints._order
    calls = []

    def refuse_the_plans_third_segment(net_, m, need, events=()):  # noqa: ANN001, ANN202
        calls.append(len(calls))
        return None if len(calls) == 3 else real_order(net_, m, need, events)

    # the LP's plan, split at every event, is refused at its third segment (as a loop that borrows a token
    # is): no split point is left to add, so the repair searches on from the real marking before it
    monkeypatch.setattr(splitpoints, "_order", refuse_the_plans_third_segment)
    repaired = []
    real_repair = splitpoints._repair
    monkeypatch.setattr(splitpoints, "_repair", lambda *a: repaired.append((a[5][0], a[4][:a[5][2]])) or real_repair(*a))
    cost, run, positions = fitting_run(me, trace, group=1)  # a split point per event from the first LP
    assert cost == 12 and _is_run_of(net, run, trace)
    assert [net.labels[run[j]] for j in positions] == list(trace)
    # the search began at segment 2, keeping the plan's first two segments (up to the second X) as they were
    [(segment, kept)] = repaired
    assert segment == 2 and run[:len(kept)] == kept
    assert [net.labels[t] for t in kept if net.labels[t] is not None] == ["X", "X"]


def test_the_split_equation_stops_at_its_deadline():
    import time

    from processmining.conformance.splitpoints import OutOfTime, SplitEquation

    net = _loop_of_two_branches()
    me = equation_of(net)
    trace = ("X", "X", "Y", "Y", "Z")
    eme = SplitEquation(me, trace, [1, 2, 3], deadline=time.perf_counter() - 1)
    with pytest.raises(OutOfTime):
        eme.solve(net.initial, 0)
    assert SplitEquation(me, trace, [1, 2, 3]).solve(net.initial, 0)[0] == 12
    # the search gives up (None) instead of taking a state whose LP was cut short for infeasible
    assert align_equation(net, trace, deadline=time.perf_counter() - 1) is None
