"""ETC precision on our compiled net over the variants' prefix tree equals pm4py's, token- and alignment-based."""

from __future__ import annotations

import pytest

from processmining.bpmn import read_bpmn
from processmining.conformance import align_etc_precision, conform, etc_precision, reference_net
from processmining.conformance.alignment import CompiledNet
from processmining.conformance.variants import log_variants
from processmining.ingest import read_log

PAIRS = {
    # real model/log pair, and the three demo pairs (the hubspot deals never reach the model's tasks: precision 0)
    "running-example": ("real/running-example.xes", "real/running-example.bpmn", None),
    "salesforce": ("eventlogs/salesforce_opportunity_field_history.csv", "bpmn_models/lead_to_order.bpmn",
                   "salesforce-field-history"),
    "hubspot": ("eventlogs/hubspot_deals.csv", "bpmn_models/opportunity_pipeline.bpmn", "hubspot-deals"),
    "jira": ("eventlogs/jira_changelog.json", "bpmn_models/it_support_ticket.bpmn", "jira-changelog"),
}


def _pair(name, shared_datasets, repo_root):
    log_path, model_path, preset = PAIRS[name]
    base = lambda p: (shared_datasets / p) if p.startswith("real/") else (repo_root / p)  # noqa: E731
    log = read_log(base(log_path), preset=preset)
    return log, read_bpmn(base(model_path))


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_precision_equals_pm4py_on_the_real_and_demo_pairs(name, shared_datasets, repo_root):
    import pm4py

    log, model = _pair(name, shared_datasets, repo_root)
    ref = reference_net(model, log.activities)
    net, im, fm = ref.pm4py_net  # the very net pm4py replays: same transitions, same names
    plog = log.to_pm4py()
    v = log_variants(log)
    assert etc_precision(ref.net, v.traces, v.counts) == pm4py.precision_token_based_replay(plog, net, im, fm)
    assert align_etc_precision(ref.net, v.traces, v.counts) == pm4py.precision_alignments(plog, net, im, fm)


def test_conform_reports_the_precision_it_was_asked_for(shared_datasets, repo_root):
    log, model = _pair("running-example", shared_datasets, repo_root)
    ref = reference_net(model, log.activities)
    v = log_variants(log)
    token = conform(log, ref, processes=1).summary
    aligned = conform(log, ref, processes=1, precision="alignments").summary
    assert (token["precision"], token["precision_method"]) == (
        etc_precision(ref.net, v.traces, v.counts),
        "pm4py ETC precision (token-based replay), precision_token_based_replay")
    assert (aligned["precision"], aligned["precision_method"]) == (
        align_etc_precision(ref.net, v.traces, v.counts), "pm4py align-ETC precision, precision_alignments")
    assert conform(log, ref, processes=1, precision=False).summary["precision"] is None


def test_prefix_tree_counts_every_prefix_once_weighted_by_cases():
    # A then (B | C) then D; the log never does C: after A one of two offered activities escapes
    net = CompiledNet.from_arcs(places=4, transitions=[
        ("a", "A", ((0, 1),), ((1, 1),)), ("b", "B", ((1, 1),), ((2, 1),)), ("c", "C", ((1, 1),), ((2, 1),)),
        ("d", "D", ((2, 1),), ((3, 1),))], initial={0: 1}, final={3: 1})
    import numpy as np

    traces, counts = [("A", "B", "D"), ("A", "B")], np.array([3, 1])
    # empty prefix: 4 cases x {A} (no escape); "A": 4 cases x {B, C}, C escapes; "A B": 3 cases go on, x {D}
    expected = 1 - (4 * 1) / (4 * 1 + 4 * 2 + 3 * 1)
    assert etc_precision(net, traces, counts) == pytest.approx(expected, abs=1e-15)
    assert align_etc_precision(net, traces, counts) == pytest.approx(expected, abs=1e-15)
    # an event the model cannot do: token replay skips it (after "A X" the model still offers B, C; C
    # escapes), align-ETC leaves "A X" and "A X B" out; after "A" both B and C escape (the log does X)
    traces, counts = [("A", "X", "B", "D")], np.array([1])
    assert etc_precision(net, traces, counts) == pytest.approx(1 - (0 + 2 + 1 + 0) / (1 + 2 + 2 + 1), abs=1e-15)
    assert align_etc_precision(net, traces, counts) == pytest.approx(1 - (0 + 2) / (1 + 2), abs=1e-15)


def _pm4py_net(places: int, transitions, initial: dict[int, int], final: dict[int, int]):
    from pm4py.objects.petri_net.obj import Marking, PetriNet
    from pm4py.objects.petri_net.utils.petri_utils import add_arc_from_to

    net = PetriNet("n")
    ps = [PetriNet.Place(f"p{i:02d}") for i in range(places)]
    for p in ps:
        net.places.add(p)
    for name, label, pre, post in transitions:
        t = PetriNet.Transition(name, label)
        net.transitions.add(t)
        for p, w in pre:
            add_arc_from_to(ps[p], t, net, weight=w)
        for p, w in post:
            add_arc_from_to(t, ps[p], net, weight=w)
    return net, Marking({ps[p]: n for p, n in initial.items()}), Marking({ps[p]: n for p, n in final.items()})


def test_align_precision_walks_only_the_silent_steps_that_lead_to_the_next_event():
    # A forks into B on one branch and a silent loop (in / back / out) on the other; C joins them. Before B
    # the loop's silent steps are of no use: they put no token where B (or a step towards B) needs one, so
    # they can as well happen after B. The layer after "A B" is the one marking right after B (cost 0), not
    # also the two the loop adds at cost 1 -- and the precision is still pm4py's precision_alignments.
    import numpy as np
    import pm4py

    arcs = [("a", "A", ((0, 1),), ((1, 1), (2, 1))), ("b", "B", ((1, 1),), ((3, 1),)),
            ("t_in", None, ((2, 1),), ((4, 1),)), ("t_back", None, ((4, 1),), ((2, 1),)),
            ("t_out", None, ((2, 1),), ((5, 1),)), ("c", "C", ((3, 1), (5, 1)), ((6, 1),)),
            ("d", "D", ((4, 1),), ((4, 1),))]
    pm_net, im, fm = _pm4py_net(7, arcs, {0: 1}, {6: 1})
    net = CompiledNet.from_pm4py(pm_net, im, fm)
    after_a = net.sync_layer({net.initial: 0}, "A")
    assert list(after_a.values()) == [0]
    after_b = net.sync_layer(after_a, "B")
    places = [f"p{i:02d}" for i in range(7)]  # from_pm4py orders places by name
    assert [(tuple(places[i] for i, n in enumerate(m) if n), g) for m, g in after_b.items()] == [(("p02", "p03"), 0)]
    # a walk over every silent step finds the loop's markings too, at cost 1
    full = {}
    for x, d in net.silent_closure(next(iter(after_a))).items():
        for t, x2 in net.successors(x):
            if net.labels[t] == "B":
                full[x2] = min(d, full.get(x2, d))
    assert sorted(full.values()) == [0, 1, 1]
    traces = [("A", "B", "C"), ("A", "D", "B", "C"), ("A", "B", "D", "D", "C")]
    counts = np.array([5, 2, 1])
    rows = [(f"c{i}-{k}", a) for i, (t, n) in enumerate(zip(traces, counts, strict=True)) for k in range(n) for a in t]
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["case:concept:name", "concept:name"])
    frame["time:timestamp"] = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(range(len(frame)), unit="s")
    expected = pm4py.precision_alignments(pm4py.convert_to_event_log(frame), pm_net, im, fm)
    assert align_etc_precision(net, traces, counts) == expected
    # by hand: activated 8 + 16 + 12 + 4 + 4 + 2 + 2 over the prefixes "", A, AB, AD, ADB, ABD, ABDD; escaping
    # D after AD and after ADB (2 cases each), C after ABD, D after ABDD: 1 - 6 / 48
    assert expected == 1 - 6 / 48


def test_precision_needs_no_per_case_work(shared_datasets):
    # one step per distinct prefix, whatever the number of cases; the prefix tree is walked, never built
    import numpy as np

    from processmining.conformance.precision import _prefix_sums

    log = read_log(shared_datasets / "real" / "running-example.xes")
    v = log_variants(log)
    fired: list[tuple[str, ...]] = []

    def fire(state, a):
        fired.append(state + (a,))
        return state + (a,)

    _prefix_sums(v.traces, v.counts, (), fire, lambda s: set(), None, lambda *a: None)
    distinct = {t[:i] for t in v.traces for i in range(1, len(t) + 1)}
    assert sorted(fired) == sorted(distinct) and len(fired) == len(distinct)
    # "a" is continued by all 6 cases (next b or c), "ab" by 3 (next d), "ac" and "abd" by none
    counted: list[str] = []

    def activated(s):
        counted.append(s)
        return {"a": {"b", "c", "x"}, "ab": {"d", "e"}}[s]

    sums = _prefix_sums([("a", "b"), ("a", "c"), ("a", "b", "d")], np.array([2, 1, 3]), "",
                        lambda s, a: s + a, activated, None, lambda *a: None)
    assert sums == (3 * 6 + 2 * 3, 1 * 6 + 1 * 3) and sorted(counted) == ["a", "ab"]


def _sample_log(log, v, chosen):
    keep = {str(c) for c, k in zip(v.case_ids, v.case_variant, strict=True) if k in chosen}
    return log.with_frame(log.df[log.df["case:concept:name"].astype(str).isin(keep)], step="sample of variants")


@pytest.mark.slow
def test_token_precision_equals_pm4py_where_its_replay_gives_up_on_receipt(shared_datasets):
    # receipt's BPMN has many silent steps: on some prefixes pm4py's token-replay heuristic finds no silent
    # route although one exists (those prefixes are left out). We replay as pm4py does, so the values are
    # identical; the cheapest-route replay gives a different value on exactly those variants.
    import numpy as np
    import pm4py

    real = shared_datasets / "real"
    log = read_log(real / "receipt.xes.gz")
    ref = reference_net(read_bpmn(real / "receipt.bpmn"), log.activities)
    v = log_variants(log)

    def one(k, replay):
        return etc_precision(ref.net, [v.traces[k]], np.array([1]), replay=replay)

    diverging = [k for k in range(v.n_variants) if one(k, "pm4py") != one(k, "cheapest")]
    assert len(diverging) == 10
    frequent = sorted(range(v.n_variants), key=lambda k: -v.counts[k])[:5]
    chosen = set(diverging[:6] + frequent)
    sample = _sample_log(log, v, chosen)
    sv = log_variants(sample)
    net, im, fm = ref.pm4py_net
    expected = pm4py.precision_token_based_replay(sample.to_pm4py(), net, im, fm)
    assert etc_precision(ref.net, sv.traces, sv.counts) == expected
    assert etc_precision(ref.net, sv.traces, sv.counts, replay="cheapest") != expected


def test_token_precision_equals_pm4py_on_noisy_a22(shared_datasets):
    import numpy as np
    import pm4py

    syn = shared_datasets / "synthetic"
    net, im, fm = pm4py.read_pnml(str(syn / "a22.pnml"))
    plog = pm4py.read_xes(str(syn / "a22f0n50.xes.gz"), return_legacy_log_object=True)
    from pm4py.objects.log.obj import EventLog

    sample = EventLog(list(plog)[:60])  # 60 of the 1,000 traces, each its own variant
    traces = [tuple(e["concept:name"] for e in t) for t in sample]
    compiled = CompiledNet.from_pm4py(net, im, fm)
    ours = etc_precision(compiled, traces, np.ones(len(traces), dtype=np.int64))
    assert ours == pm4py.precision_token_based_replay(sample, net, im, fm)
    assert 0.6 < ours < 0.7
