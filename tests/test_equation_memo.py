"""The marking-equation LP memo is shared by every variant of a log: a trace's events of activities the model
lacks must not leak into another trace's bound (they were counted inside the memoised value once)."""

from __future__ import annotations

from processmining.conformance.equation import align_equation
from processmining.conformance.net import CompiledNet


def _net() -> CompiledNet:
    # start -> (A || B, B skippable silently) -> C
    return CompiledNet.from_arcs(places=7, transitions=[
        ("split", None, ((0, 1),), ((1, 1), (2, 1))),
        ("a", "A", ((1, 1),), ((3, 1),)),
        ("b", "B", ((2, 1),), ((4, 1),)),
        ("skip_b", None, ((2, 1),), ((4, 1),)),
        ("join", None, ((3, 1), (4, 1)), ((5, 1),)),
        ("c", "C", ((5, 1),), ((6, 1),)),
    ], initial={0: 1}, final={6: 1})


def test_costs_do_not_depend_on_which_variant_was_aligned_first():
    net = _net()  # one net, as conform aligns every variant against it
    # Z is not in the model: two log moves, plus split, skip B, join (3 silent)
    assert align_equation(net, ("Z", "Z", "A", "C"))[2] == 20_003
    # the same model-activity counts (one A, one C) with no Z: silent moves only (it read 20,003 before the fix)
    assert align_equation(net, ("A", "C"))[2] == 3
    assert align_equation(net, ("Z", "A", "C"))[2] == 10_003
    assert align_equation(_net(), ("A", "C"))[2] == 3
