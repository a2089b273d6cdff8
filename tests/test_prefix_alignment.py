"""Prefix alignments of running cases on large (unexplored) nets: the open-end marking-equation search.

Definition (pm4py has no prefix alignment to compare with): a prefix alignment
consumes every event of the running case and stops in any marking from which
the final marking is still reachable; it costs the moves it makes (sync 0, log
and visible model moves 10,000, silent 1) and nothing for what has not
happened yet. The explored explicit search (``align(..., prefix=True)`` on a
small state space) uses the same definition, so both must give equal costs.
"""

from __future__ import annotations

import random

import pytest

from processmining.conformance.alignment import align, uses_equation
from processmining.conformance.net import CompiledNet
from processmining.conformance.prefix import align_prefix, can_finish


def _net() -> CompiledNet:
    # start -> (A || B, B skippable silently) -> C; or X into a place nothing leaves (a dead end)
    return CompiledNet.from_arcs(places=8, transitions=[
        ("split", None, ((0, 1),), ((1, 1), (2, 1))),
        ("a", "A", ((1, 1),), ((3, 1),)),
        ("b", "B", ((2, 1),), ((4, 1),)),
        ("skip_b", None, ((2, 1),), ((4, 1),)),
        ("join", None, ((3, 1), (4, 1)), ((5, 1),)),
        ("c", "C", ((5, 1),), ((6, 1),)),
        ("x", "X", ((0, 1),), ((7, 1),)),
    ], initial={0: 1}, final={6: 1})


@pytest.mark.parametrize(("trace", "cost", "moves"), [
    ((), 0, []),                                         # nothing happened yet: nothing is owed
    (("A",), 1, [("sync", "A")]),                        # the silent split, then A
    (("B", "A"), 1, [("sync", "B"), ("sync", "A")]),     # concurrency: either order
    (("A", "C"), 3, [("sync", "A"), ("sync", "C")]),     # split, skip B, join: all silent
    (("C",), 10_000, [("log", "C")]),                    # one log move beats model move A + 3 silent (10,003)
    (("C", "A"), 10_001, [("log", "C"), ("sync", "A")]),
    (("A", "Z"), 10_001, [("sync", "A"), ("log", "Z")]),  # Z: not in the model
    (("A", "B", "B"), 10_001, [("log", "B"), ("sync", "A"), ("sync", "B")]),  # either B may be the log move
    (("X",), 10_000, [("log", "X")]),                    # X leads where the end cannot be reached: a log move
    (("X", "A"), 10_001, [("log", "X"), ("sync", "A")]),
])
def test_prefix_alignment_costs_on_an_unexplored_net(trace, cost, moves):
    net = _net()
    assert uses_equation(net)  # never explored: align() hands running cases to prefix.align_prefix
    res = align(net, trace, prefix=True)
    assert res.cost == cost
    assert sorted((m.kind, m.label) for m in res.moves) == sorted(moves)
    # the kept run fires the model's part of the alignment from the initial marking to a marking that can finish
    m = net.initial
    for t in res.run:
        m = dict(net.successors(m))[t]
    assert can_finish(net, m) and m != (0,) * 7 + (1,)


def test_the_end_marking_must_still_reach_the_final_one():
    net = _net()
    dead = (0,) * 7 + (1,)  # after X
    assert not can_finish(net, dead)
    assert can_finish(net, net.initial)
    assert can_finish(net, (0, 0, 0, 1, 1, 0, 0, 0))  # A done and B skipped: the join and C still can fire


def test_same_costs_as_the_explored_search_on_random_running_cases():
    rng = random.Random(5)
    alphabet = ["A", "B", "C", "X", "Z"]
    traces = {tuple(rng.choice(alphabet) for _ in range(rng.randint(0, 6))) for _ in range(120)}
    explored = _net()
    assert explored.explore() and not uses_equation(explored)
    fresh = _net()  # one unexplored net for all traces: its LP memo is shared, as across a log's variants
    for trace in sorted(traces):
        want = align(explored, trace, prefix=True)
        got = align_prefix(fresh, trace)
        assert (trace, got.cost) == (trace, want.cost)


def test_a_missing_activity_in_one_trace_does_not_change_another_traces_bound():
    # the LP memo is keyed by marking and model-activity counts: events the model lacks are counted apart
    net = _net()
    assert align_prefix(net, ("Z", "A")).cost == 10_001
    assert align_prefix(net, ("A",)).cost == 1
    assert align_prefix(net, ("Z", "Z", "A")).cost == 20_001


def test_same_costs_as_the_explored_search_on_a22_running_prefixes(shared_datasets):
    import pm4py

    syn = shared_datasets / "synthetic"
    pn = pm4py.read_pnml(str(syn / "a22.pnml"))
    log = pm4py.read_xes(str(syn / "a22f0n50.xes.gz"), return_legacy_log_object=True)
    variants = list(dict.fromkeys(tuple(e["concept:name"] for e in t) for t in log))[:40]
    explored, fresh = CompiledNet.from_pm4py(*pn), CompiledNet.from_pm4py(*pn)
    assert explored.explore() and uses_equation(fresh)
    costs = []
    for v in variants:
        prefix = v[: max(1, len(v) // 2)]  # a running case: the first half of a noisy trace
        want, got = align(explored, prefix, prefix=True), align(fresh, prefix, prefix=True)
        assert got.cost == want.cost, prefix
        costs.append(got.cost)
    assert sum(c >= 10_000 for c in costs) >= 10  # noisy prefixes: the deviating case is exercised, not only fits
