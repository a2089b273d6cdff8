"""Process map, simplification, variants and BPMN discovery.

The map must equal pm4py's ``discover_dfg`` / ``discover_performance_dfg`` on
the real logs; small logs built here pin the exact numbers and the ordering rules.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from processmining.discovery import (
    END,
    START,
    discover_bpmn,
    process_map,
    simplify,
    variant_coverage,
    variants,
)
from processmining.model import ACTIVITY, CASE, START_TIMESTAMP, TIMESTAMP, EventLog

H = 3600.0


def make_log(rows: list[tuple[str, str, str]], **extra: list) -> EventLog:
    """rows: (case, activity, ISO time) in input order."""
    df = pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP])
    df[TIMESTAMP] = pd.to_datetime(df[TIMESTAMP], utc=True)
    for k, v in extra.items():
        df[k] = v
    return EventLog.from_frame(df)


def traces_log(traces: dict[str, list[str]], *, step_hours: float = 1.0) -> EventLog:
    rows = []
    base = pd.Timestamp("2024-01-01", tz="UTC")
    for c, acts in traces.items():
        for i, a in enumerate(acts):
            rows.append((c, a, (base + pd.Timedelta(hours=step_hours * i)).isoformat()))
    return make_log(rows)


def pm4py_maps(log: EventLog):
    import pm4py

    df = log.to_pm4py()
    dfg, sa, ea = pm4py.discover_dfg(df.copy())
    perf, _, _ = pm4py.discover_performance_dfg(df.copy())
    return dfg, sa, ea, perf


def assert_same_as_pm4py(log: EventLog) -> None:
    pm = process_map(log)
    dfg, sa, ea, perf = pm4py_maps(log)
    assert pm.dfg() == {k: int(v) for k, v in dfg.items()}
    assert pm.start_activities() == {k: int(v) for k, v in sa.items()}
    assert pm.end_activities() == {k: int(v) for k, v in ea.items()}
    ours = pm.performance_dfg()
    assert ours.keys() == perf.keys()
    for arc, m in perf.items():
        for key, value in m.items():
            assert ours[arc][key] == pytest.approx(value, rel=1e-9, abs=1e-6, nan_ok=True), (arc, key)


# ------------------------------------------------------------------ exact numbers
def test_map_numbers_on_a_hand_built_log():
    # c1 and c2 share A->B; c1 repeats B (self-loop counted once as an arc, cases=1);
    # c3 starts and ends with C so start/end counts differ from activity counts.
    log = make_log([
        ("c1", "A", "2024-01-01T00:00Z"), ("c1", "B", "2024-01-01T02:00Z"), ("c1", "B", "2024-01-01T03:00Z"),
        ("c2", "A", "2024-01-02T00:00Z"), ("c2", "B", "2024-01-02T06:00Z"), ("c2", "C", "2024-01-02T07:00Z"),
        ("c3", "C", "2024-01-03T00:00Z"),
    ])
    pm = process_map(log)
    arcs = pm.arcs.set_index(["source", "target"])
    assert arcs.loc[("A", "B"), "frequency"] == 2
    assert arcs.loc[("A", "B"), "cases"] == 2
    assert arcs.loc[("A", "B"), "wait_mean_s"] == 4 * H  # (2 h + 6 h) / 2
    assert arcs.loc[("A", "B"), "wait_max_s"] == 6 * H
    assert arcs.loc[("A", "B"), "wait_total_s"] == 8 * H
    assert arcs.loc[("B", "B"), "frequency"] == 1
    assert math.isnan(arcs.loc[("B", "B"), "wait_stdev_s"])  # one observation: no stdev, like pm4py
    assert pm.activities.loc["B", "events"] == 3
    assert pm.activities.loc["B", "cases"] == 2
    assert pm.start_activities() == {"A": 2, "C": 1}
    assert pm.end_activities() == {"B": 1, "C": 2}
    assert (pm.n_cases, pm.n_events) == (3, 7)
    assert_same_as_pm4py(log)


def test_equal_timestamps_keep_input_order_like_pm4py():
    # B and C of c1 have the same timestamp: the input order (@@index) decides, B before C.
    # pm4py sorts by (case, start, time) with a stable sort, so it sees the same order.
    log = make_log([
        ("c1", "A", "2024-01-01T00:00Z"), ("c1", "B", "2024-01-01T01:00Z"), ("c1", "C", "2024-01-01T01:00Z"),
        ("c2", "A", "2024-01-01T00:00Z"), ("c2", "C", "2024-01-01T01:00Z"), ("c2", "B", "2024-01-01T01:00Z"),
    ])
    pm = process_map(log)
    assert pm.dfg() == {("A", "B"): 1, ("B", "C"): 1, ("A", "C"): 1, ("C", "B"): 1}
    assert_same_as_pm4py(log)


def test_start_timestamps_order_by_completion_on_purpose():
    # A runs 09:00-12:00 and B 10:00-11:00 (overlapping). pm4py orders by start time (A, B);
    # our EventLog orders by completion (B, A) so that the map, variants and conformance all see
    # one sequence. Waiting time uses the start of the next event, clipped at 0 like pm4py.
    df = pd.DataFrame({
        CASE: ["c1", "c1"], ACTIVITY: ["A", "B"],
        START_TIMESTAMP: pd.to_datetime(["2024-01-01T09:00Z", "2024-01-01T10:00Z"], utc=True),
        TIMESTAMP: pd.to_datetime(["2024-01-01T12:00Z", "2024-01-01T11:00Z"], utc=True),
    })
    log = EventLog.from_frame(df)
    pm = process_map(log)
    assert pm.dfg() == {("B", "A"): 1}
    assert pm.arcs.loc[0, "wait_mean_s"] == 0.0  # A started before B completed
    assert pm.activities.loc["A", "duration_mean_s"] == 3 * H
    import pm4py

    assert dict(pm4py.discover_dfg(log.to_pm4py())[0]) == {("A", "B"): 1}


def test_map_counts_cases_per_activity_and_arc_on_the_hash_path_too():
    # 2,000 cases over 600 activities: 1.2M (case, activity) cells, more than the table of flags takes (8 per
    # event, at least 2**20), so the cases per activity and per arc are counted by hashing. Case i does
    # a{i % 600} then a{(i + 1) % 600}; case c0000 goes back to its first activity (a0 -> a1 -> a0): a0 and
    # the arc a0 -> a1 count it once.
    from collections import Counter

    rows = []
    for i in range(2000):
        acts = [f"a{i % 600:03d}", f"a{(i + 1) % 600:03d}"] + (["a000"] if i == 0 else [])
        rows += [(f"c{i:04d}", a, f"2024-01-01T{j:02d}:00Z") for j, a in enumerate(acts)]
    log = make_log(rows)
    pm = process_map(log)
    seqs: dict[str, list[str]] = {}
    for c, a, _ in rows:
        seqs.setdefault(c, []).append(a)
    act_cases = Counter(a for s in seqs.values() for a in set(s))
    arc_cases = Counter(arc for s in seqs.values() for arc in set(zip(s, s[1:], strict=False)))
    assert pm.activities["cases"].to_dict() == dict(act_cases)
    assert pm.activities.loc["a000", "cases"] == 7  # cases 0, 600, 1200, 1800 start with it; 599, 1199, 1799 end
    assert {(s, t): n for s, t, n in zip(pm.arcs["source"], pm.arcs["target"], pm.arcs["cases"], strict=True)} \
        == dict(arc_cases)
    assert pm.arcs.loc[(pm.arcs["source"] == "a000") & (pm.arcs["target"] == "a001"), "frequency"].item() == 4


def test_distinct_case_pairs_by_flags_and_by_hashing():
    from processmining.codes import case_boundaries, cases_with, distinct_pairs, pair_counts

    # case 0 does key 1 twice and key 0; case 1 keys 1, 2; case 2 key 1
    case, key = np.array([0, 0, 0, 1, 1, 2]), np.array([1, 1, 0, 1, 2, 1])
    assert distinct_pairs(case, key, 3, 3).tolist() == [0, 1, 4, 5, 7]
    assert cases_with(case, key, 3, 3).tolist() == [1, 3, 1]
    assert [a.tolist() for a in pair_counts(case, key, 3, 3)] == [[0, 1, 4, 5, 7], [1, 2, 1, 1, 1]]
    big = 10**6  # 3M cells: past both tables' limits, so these hash
    assert distinct_pairs(case, key, big, 3).tolist() == [0, 1, 1_000_001, 1_000_002, 2_000_001]
    assert cases_with(case, key, big, 3)[:3].tolist() == [1, 3, 1]
    assert [a.tolist() for a in pair_counts(case, key, big, 3)] == [[0, 1, 1_000_001, 1_000_002, 2_000_001],
                                                                    [1, 2, 1, 1, 1]]
    # where a new case begins, by comparing neighbours: Arrow text with empty values, and Python objects
    ids = ["a", "a", None, None, "b", "b", "a"]
    assert case_boundaries(pd.Series(ids, dtype="string[pyarrow]")).tolist() == [True, False, True, False, True,
                                                                                 False, True]
    assert case_boundaries(pd.Series(ids, dtype=object)).tolist() == [True, False, True, False, True, False, True]


def test_map_of_empty_log():
    log = make_log([])
    pm = process_map(log)
    assert (pm.n_cases, pm.n_events, len(pm.arcs)) == (0, 0, 0)


# ------------------------------------------------------------------ real logs
@pytest.mark.parametrize("name", ["running-example.xes", "receipt.xes.gz"])
def test_map_equals_pm4py_on_real_logs(shared_datasets, name):
    import pm4py

    raw = pm4py.read_xes(str(shared_datasets / "real" / name), show_progress_bar=False)
    log = EventLog.from_frame(raw)
    assert_same_as_pm4py(log)
    # and pm4py on its own frame (file order) gives the same map as ours on the sorted log
    dfg, _, _ = pm4py.discover_dfg(raw.copy())
    assert process_map(log).dfg() == {k: int(v) for k, v in dfg.items()}


@pytest.mark.slow
def test_map_equals_pm4py_on_bpic2013(shared_datasets):
    import pm4py

    raw = pm4py.read_xes(str(shared_datasets / "real" / "bpic2013_incidents.xes.gz"), show_progress_bar=False)
    log = EventLog.from_frame(raw)
    assert log.n_events == 65533
    assert_same_as_pm4py(log)


# ------------------------------------------------------------------ simplify
def _connected(pm) -> bool:
    edges = [(s, t) for s, t in zip(pm.arcs["source"], pm.arcs["target"], strict=True)]
    edges += [(START, a) for a, n in pm.activities["starts"].items() if n > 0]
    edges += [(a, END) for a, n in pm.activities["ends"].items() if n > 0]

    def reach(root, fwd):
        seen, stack = {root}, [root]
        while stack:
            x = stack.pop()
            for s, t in edges:
                a, b = (s, t) if fwd else (t, s)
                if a == x and b not in seen:
                    seen.add(b)
                    stack.append(b)
        return seen

    nodes = set(pm.activities.index)
    return nodes <= reach(START, True) and nodes <= reach(END, False)


def test_simplify_full_sliders_keep_everything():
    log = traces_log({"1": ["A", "B", "C"], "2": ["A", "C"], "3": ["A", "B", "B", "C"]})
    full = process_map(log)
    same = simplify(full, activities=1.0, paths=1.0)
    assert same.dfg() == full.dfg()
    assert (same.hidden_activities, same.hidden_arcs, same.connectors) == (0, 0, ())


def test_simplify_puts_back_a_connector_when_a_kept_activity_is_only_reachable_through_a_dropped_one():
    # C is frequent (3 per case) but is only ever reached through X, which is rare.
    traces = {f"b{i}": ["A", "B"] for i in range(10)}
    traces |= {f"x{i}": ["A", "X", "C", "C", "C"] for i in range(3)}
    full = process_map(traces_log(traces))
    small = simplify(full, activities=0.75, paths=0.0)  # keeps A(13), B(10), C(9); drops X(3)
    assert small.connectors == ("X",)
    assert set(small.activities.index) == {"A", "B", "C", "X"}
    assert ("X", "C") in small.dfg() and ("A", "X") in small.dfg()
    assert _connected(small)


def test_simplify_zero_paths_keeps_only_the_strongest_connections():
    # A->B (10) beats A->C (2); with paths=0 each node keeps its strongest in- and out-arc only.
    traces = {f"b{i}": ["A", "B", "D"] for i in range(10)} | {f"c{i}": ["A", "C", "D"] for i in range(2)}
    small = simplify(process_map(traces_log(traces)), activities=1.0, paths=0.0)
    assert small.dfg() == {("A", "B"): 10, ("B", "D"): 10, ("A", "C"): 2, ("C", "D"): 2}
    assert small.hidden_arcs == 0
    assert _connected(small)


@pytest.mark.parametrize("acts", [0.0, 0.2, 0.5, 0.8, 1.0])
@pytest.mark.parametrize("paths", [0.0, 0.1, 0.5, 1.0])
def test_simplify_stays_connected_on_receipt(shared_datasets, acts, paths, receipt_map):
    small = simplify(receipt_map, activities=acts, paths=paths)
    assert _connected(small)
    assert len(small.activities) >= max(1, math.ceil(acts * len(receipt_map.activities) - 1e-9))


@pytest.fixture(scope="module")
def receipt_map(shared_datasets):
    import pm4py

    raw = pm4py.read_xes(str(shared_datasets / "real" / "receipt.xes.gz"), show_progress_bar=False)
    return process_map(EventLog.from_frame(raw))


def test_default_sliders_make_a_40_activity_map_readable():
    rng = np.random.default_rng(7)
    acts = [f"Step {i:02d}" for i in range(40)]
    weights = np.linspace(1, 0.1, 40) ** 1.5
    traces = {}
    for c in range(600):
        n = int(rng.integers(4, 12))
        traces[str(c)] = list(rng.choice(acts, size=n, p=weights / weights.sum()))
    full = process_map(traces_log(traces))
    small = simplify(full)  # the defaults
    assert len(full.activities) == 40
    assert len(small.activities) <= 20 + len(small.connectors)
    assert len(small.arcs) <= 2 * len(small.activities) + 5
    assert _connected(small)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from("ABCDEFG"), min_size=1, max_size=8), min_size=1, max_size=25),
    st.floats(0, 1), st.floats(0, 1),
)
def test_simplify_is_always_connected(traces, acts, paths):
    full = process_map(traces_log({str(i): t for i, t in enumerate(traces)}))
    small = simplify(full, activities=acts, paths=paths)
    assert _connected(small)
    assert set(small.dfg()) <= set(full.dfg())


# ------------------------------------------------------------------ variants
def test_variants_ranked_with_shares_and_durations():
    log = traces_log({"1": ["A", "B"], "2": ["A", "B"], "3": ["A", "C"], "4": ["A", "B"]}, step_hours=2)
    v = variants(log)
    assert list(v["variant"]) == ["V1", "V2"]
    assert v.loc[0, "activities"] == ("A", "B")
    assert list(v["cases"]) == [3, 1]
    assert list(v["share"]) == [0.75, 0.25]
    assert list(v["cumulative_share"]) == [0.75, 1.0]
    assert v.loc[0, "mean_duration_s"] == 2 * H
    assert v.loc[0, "example_case"] == "1"
    assert variant_coverage(log, 1) == 0.75
    assert variant_coverage(log, 10) == 1.0


def test_variant_durations_are_exact_on_whole_seconds(shared_datasets):
    """Mean and median come from the integer nanoseconds: the running example's case 4 took 6 d 0 h 42 min
    (520,920 s), and its variant's median is exactly that (the earlier polars median gave 520920.00000000006)."""
    from processmining.ingest import read_log

    v = variants(read_log(shared_datasets / "real" / "running-example.xes"))
    row = v[v["example_case"] == "4"].iloc[0]
    assert (row["cases"], row["mean_duration_s"], row["median_duration_s"]) == (1, 520920.0, 520920.0)
    assert v["cases"].tolist() == [1, 1, 1, 1, 1, 1] and v["cases"].dtype == np.int64


def test_variants_on_running_example(shared_datasets):
    import pm4py

    raw = pm4py.read_xes(str(shared_datasets / "real" / "running-example.xes"), show_progress_bar=False)
    log = EventLog.from_frame(raw)
    v = variants(log)
    expected = pm4py.get_variants(log.to_pm4py())
    assert {a: int(n) for a, n in zip(v["activities"], v["cases"], strict=True)} == {k: int(n) for k, n in expected.items()}


# ------------------------------------------------------------------ BPMN
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "di": "http://www.omg.org/spec/DD/20100524/DI"}


def test_discovered_bpmn_has_di_for_every_shape_and_edge_and_replays(shared_datasets, tmp_path):
    import pm4py

    raw = pm4py.read_xes(str(shared_datasets / "real" / "running-example.xes"), show_progress_bar=False)
    log = EventLog.from_frame(raw)
    xml = discover_bpmn(log, noise_threshold=0.0)
    root = etree.fromstring(xml.encode())
    proc = root.find("bpmn:process", NS)
    nodes = [e for e in proc if etree.QName(e).localname != "sequenceFlow"]
    flows = proc.findall("bpmn:sequenceFlow", NS)
    shapes = {s.get("bpmnElement") for s in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = root.findall(".//bpmndi:BPMNEdge", NS)
    assert shapes == {n.get("id") for n in nodes}
    assert {e.get("bpmnElement") for e in edges} == {f.get("id") for f in flows}
    assert all(len(e.findall("di:waypoint", NS)) >= 2 for e in edges)
    tasks = sorted(n.get("name") for n in proc.findall("bpmn:task", NS))
    assert tasks == sorted(log.activities)
    # the schema order: incoming before outgoing in every flow node
    for n in nodes:
        kinds = [etree.QName(c).localname for c in n]
        assert kinds == sorted(kinds, key=lambda k: k != "incoming")
    # left to right in process order, even with the "reinitiate request" loop (its return flow
    # must not pull the loop start to the right)
    x = {}
    for n in proc.findall("bpmn:task", NS):
        shape = root.find(f".//bpmndi:BPMNShape[@bpmnElement='{n.get('id')}']", NS)
        x[n.get("name")] = float(shape.find("{http://www.omg.org/spec/DD/20100524/DC}Bounds").get("x"))
    assert x["register request"] < x["check ticket"] < x["decide"] < x["pay compensation"]
    # noise 0: the inductive miner guarantees perfect fitness; the written file must keep it
    path = tmp_path / "m.bpmn"
    path.write_text(xml, encoding="utf-8")
    net, im, fm = pm4py.convert_to_petri_net(pm4py.read_bpmn(str(path)))
    assert pm4py.fitness_token_based_replay(log.to_pm4py(), net, im, fm)["log_fitness"] == 1.0


def test_discover_bpmn_rejects_bad_noise():
    with pytest.raises(ValueError, match="noise_threshold"):
        discover_bpmn(traces_log({"1": ["A"]}), noise_threshold=1.5)
