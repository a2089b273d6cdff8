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


def test_precision_needs_no_per_case_work(shared_datasets):
    # one prefix-tree node per distinct prefix, whatever the number of cases
    log = read_log(shared_datasets / "real" / "running-example.xes")
    v = log_variants(log)
    from processmining.conformance.precision import PrefixTree

    tree = PrefixTree.build(v.traces, v.counts.tolist())
    distinct = {t[:i] for t in v.traces for i in range(len(t) + 1)}
    assert len(tree) == len(distinct)
    assert tree.cont[0] == log.n_cases
