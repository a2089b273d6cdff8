"""Discovery: the process map (directly-follows graph with frequency and time), variants, BPMN.

:func:`process_map` computes every number a map shows in one columnar pass
over the log (numpy on the sorted event table; no Python loop per event).
:func:`simplify` then cuts the map down like Disco's activity / path sliders,
working only on the precomputed map, so a slider change on a log of millions
of events costs milliseconds. :func:`variants` ranks the case variants and
:func:`discover_bpmn` turns the log into a BPMN 2.0 model with diagram
interchange (DI) that opens in bpmn.io and Camunda Modeler.

Order of events: the :class:`~processmining.model.EventLog` order (case,
completion time, input order). pm4py sorts by ``start_timestamp`` first when a
log has start times; our map keeps the log order so that the map, the variants
and conformance all see the same sequence (see ``tests/test_discovery.py``).
All durations are seconds (float).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from .model import ACTIVITY, CASE, START_TIMESTAMP, TIMESTAMP, EventLog

#: virtual start / end nodes of a map (arcs from START / to END carry case counts)
START = "▶ start"
END = "■ end"

ARC_COLUMNS = ("source", "target", "frequency", "cases",
               "wait_mean_s", "wait_median_s", "wait_min_s", "wait_max_s", "wait_total_s", "wait_stdev_s")
ACTIVITY_COLUMNS = ("events", "cases", "starts", "ends",
                    "duration_mean_s", "duration_median_s", "duration_max_s", "duration_total_s")


@dataclass(frozen=True)
class ProcessMap:
    """A directly-follows process map with frequency and time on every node and arc.

    ``activities`` (index: activity name) has ``events`` (occurrences),
    ``cases`` (cases containing it), ``starts`` / ``ends`` (cases starting /
    ending with it) and, when the log has start timestamps, the processing
    time ``duration_*_s`` (complete − start, seconds; NaN otherwise).

    ``arcs`` has one row per directly-follows pair ``source → target``:
    ``frequency`` (occurrences), ``cases`` (cases with it at least once) and the
    waiting time ``wait_*_s`` between the completion of ``source`` and the
    start (or completion, without start times) of ``target`` — the numbers of
    pm4py's ``discover_dfg`` / ``discover_performance_dfg``.

    ``connectors`` names activities that :func:`simplify` kept only to keep the
    map connected; ``hidden_activities`` / ``hidden_arcs`` count what it removed.
    """

    activities: pd.DataFrame
    arcs: pd.DataFrame
    n_cases: int
    n_events: int
    has_start_times: bool
    connectors: tuple[str, ...] = ()
    hidden_activities: int = 0
    hidden_arcs: int = 0
    #: the unsimplified map this one was cut from (None for a full map)
    full: ProcessMap | None = field(default=None, repr=False, compare=False)

    # -- pm4py-shaped views (tests compare these with pm4py)
    def dfg(self) -> dict[tuple[str, str], int]:
        """``{(a, b): frequency}`` like ``pm4py.discover_dfg(...)[0]``."""
        return {(s, t): int(f) for s, t, f in zip(self.arcs["source"], self.arcs["target"], self.arcs["frequency"])}

    def performance_dfg(self) -> dict[tuple[str, str], dict[str, float]]:
        """``{(a, b): {"mean", "median", "max", "min", "sum", "stdev"}}`` in seconds, like pm4py's."""
        keys = {"mean": "wait_mean_s", "median": "wait_median_s", "max": "wait_max_s",
                "min": "wait_min_s", "sum": "wait_total_s", "stdev": "wait_stdev_s"}
        cols = {k: self.arcs[v].to_numpy() for k, v in keys.items()}
        return {(s, t): {k: float(cols[k][i]) for k in keys}
                for i, (s, t) in enumerate(zip(self.arcs["source"], self.arcs["target"]))}

    def start_activities(self) -> dict[str, int]:
        s = self.activities["starts"]
        return {a: int(n) for a, n in s[s > 0].items()}

    def end_activities(self) -> dict[str, int]:
        s = self.activities["ends"]
        return {a: int(n) for a, n in s[s > 0].items()}

    def edges(self) -> pd.DataFrame:
        """All edges including the virtual ``START → a`` and ``a → END`` ones (``frequency`` = cases)."""
        acts = self.activities
        starts = acts[acts["starts"] > 0]
        ends = acts[acts["ends"] > 0]
        virtual = pd.concat([
            pd.DataFrame({"source": START, "target": starts.index, "frequency": starts["starts"].to_numpy(),
                          "cases": starts["starts"].to_numpy()}),
            pd.DataFrame({"source": ends.index, "target": END, "frequency": ends["ends"].to_numpy(),
                          "cases": ends["ends"].to_numpy()}),
        ], ignore_index=True)
        return pd.concat([self.arcs, virtual], ignore_index=True)

    # -- cached helpers for simplify (depend only on the full map)
    @cached_property
    def _widest_trees(self) -> tuple[dict[str, str], dict[str, str]]:
        e = self.edges()
        triples = list(zip(e["source"], e["target"], e["frequency"].astype(float)))
        return _widest_tree(triples, START), _widest_tree([(t, s, w) for s, t, w in triples], END)


def _widest_tree(edges: Iterable[tuple[str, str, float]], root: str) -> dict[str, str]:
    """Predecessor of each node on the maximum-bottleneck (widest) path from ``root``."""
    adj: dict[str, list[tuple[str, float]]] = {}
    for s, t, w in edges:
        adj.setdefault(s, []).append((t, w))
    best = {root: math.inf}
    pred: dict[str, str] = {}
    heap: list[tuple[float, str]] = [(-math.inf, root)]
    done: set[str] = set()
    while heap:
        negw, node = heapq.heappop(heap)
        if node in done:
            continue
        done.add(node)
        for nxt, w in sorted(adj.get(node, ()), key=lambda x: (-x[1], x[0])):
            width = min(-negw, w)
            if nxt not in done and width > best.get(nxt, -1.0):
                best[nxt] = width
                pred[nxt] = node
                heapq.heappush(heap, (-width, nxt))
    return pred


# ------------------------------------------------------------------ the map
def _event_arrays(log: EventLog) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray, np.ndarray | None]:
    df = log.df
    case_codes, _ = pd.factorize(df[CASE], sort=False)
    act_codes, act_names = pd.factorize(df[ACTIVITY], sort=True)
    ts = df[TIMESTAMP].to_numpy(dtype="datetime64[ns]").view("int64")
    start = None
    if log.has_start_times:
        st = df[START_TIMESTAMP].to_numpy(dtype="datetime64[ns]").view("int64").copy()
        missing = df[START_TIMESTAMP].isna().to_numpy()
        st[missing] = ts[missing]
        start = st
    return case_codes.astype(np.int64), act_codes.astype(np.int64), [str(a) for a in act_names], ts, start


def process_map(log: EventLog) -> ProcessMap:
    """The directly-follows process map of ``log`` with frequencies and waiting times.

    Example::

        >>> pm = process_map(log)
        >>> pm.arcs.head(3)[["source", "target", "frequency", "wait_median_s"]]
        >>> pm.activities.loc["Qualification", "cases"]

    The arc numbers equal ``pm4py.discover_dfg`` / ``pm4py.discover_performance_dfg``
    on the same (sorted) log.
    """
    case, act, names, ts, start = _event_arrays(log)
    n_act = len(names)
    n = len(case)
    if n == 0:
        return ProcessMap(activities=pd.DataFrame(columns=list(ACTIVITY_COLUMNS)),
                          arcs=pd.DataFrame(columns=list(ARC_COLUMNS)), n_cases=0, n_events=0,
                          has_start_times=False)
    # nodes
    first = np.ones(n, dtype=bool)
    first[1:] = case[1:] != case[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = case[1:] != case[:-1]
    events = np.bincount(act, minlength=n_act)
    pair = pd.Series(case * n_act + act).drop_duplicates().to_numpy()
    cases_per_act = np.bincount(pair % n_act, minlength=n_act)
    acts = pd.DataFrame({
        "events": events,
        "cases": cases_per_act,
        "starts": np.bincount(act[first], minlength=n_act),
        "ends": np.bincount(act[last], minlength=n_act),
    }, index=pd.Index(names, name="activity"))
    if start is not None:
        dur = pd.Series((ts - start) / 1e9).groupby(act)
        agg = dur.agg(["mean", "median", "max", "sum"]).reindex(range(n_act))
        acts["duration_mean_s"] = agg["mean"].to_numpy()
        acts["duration_median_s"] = agg["median"].to_numpy()
        acts["duration_max_s"] = agg["max"].to_numpy()
        acts["duration_total_s"] = agg["sum"].to_numpy()
    else:
        for c in ACTIVITY_COLUMNS[4:]:
            acts[c] = np.nan
    # arcs: consecutive events of the same case
    same = ~last[:-1] if n > 1 else np.zeros(0, dtype=bool)
    idx = np.flatnonzero(same)
    src, tgt = act[idx], act[idx + 1]
    nxt_start = (start if start is not None else ts)[idx + 1]
    wait = (np.maximum(nxt_start, ts[idx]) - ts[idx]) / 1e9
    key = src * n_act + tgt
    g = pd.Series(wait).groupby(key)
    stats = g.agg(["size", "mean", "median", "min", "max", "sum", "std"])
    arc_cases = pd.Series(case[idx] * (n_act * n_act) + key).drop_duplicates().to_numpy() % (n_act * n_act)
    case_counts = pd.Series(arc_cases).value_counts().reindex(stats.index).to_numpy()
    keys = stats.index.to_numpy()
    arcs = pd.DataFrame({
        "source": [names[k // n_act] for k in keys],
        "target": [names[k % n_act] for k in keys],
        "frequency": stats["size"].to_numpy().astype(np.int64),
        "cases": case_counts.astype(np.int64),
        "wait_mean_s": stats["mean"].to_numpy(),
        "wait_median_s": stats["median"].to_numpy(),
        "wait_min_s": stats["min"].to_numpy(),
        "wait_max_s": stats["max"].to_numpy(),
        "wait_total_s": stats["sum"].to_numpy(),
        "wait_stdev_s": stats["std"].to_numpy(),
    })
    arcs = arcs.sort_values(["frequency", "source", "target"], ascending=[False, True, True], ignore_index=True)
    acts = acts.sort_values("events", ascending=False, kind="stable")
    return ProcessMap(activities=acts, arcs=arcs, n_cases=int(first.sum()), n_events=n,
                      has_start_times=start is not None)


# ------------------------------------------------------------------ simplification
def default_sliders(pm: ProcessMap) -> tuple[float, float]:
    """Slider positions that make a map readable at once: ≤ 20 activities, about 1.6 arcs per node.

    Keeps the activities that cover 95 % of events (at most 20), and enough paths
    for a readable map. Small maps (≤ 12 activities, ≤ 25 arcs) stay whole.
    """
    n_act = len(pm.activities)
    if n_act == 0:
        return 1.0, 1.0
    if n_act <= 12 and len(pm.arcs) <= 25:
        return 1.0, 1.0
    ev = pm.activities["events"].sort_values(ascending=False).to_numpy()
    cover = np.cumsum(ev) / ev.sum()
    keep = int(min(20, np.searchsorted(cover, 0.95) + 1, n_act))
    activities = keep / n_act
    kept = set(pm.activities.index[:keep])
    cand = pm.arcs[pm.arcs["source"].isin(kept) & pm.arcs["target"].isin(kept)]
    paths = 1.0 if len(cand) == 0 else min(1.0, 1.6 * keep / len(cand))
    return activities, paths


def simplify(pm: ProcessMap, *, activities: float | None = None, paths: float | None = None) -> ProcessMap:
    """Cut a map down like Disco's sliders; the result stays connected from start to end.

    ``activities`` (0..1) keeps that share of the activities, most frequent first
    (at least one). ``paths`` (0..1) keeps that share of the arcs between kept
    activities (and of the start / end arcs), most frequent first. Whatever the
    sliders, every kept activity keeps its strongest incoming and outgoing arc,
    and is reachable from start and reaches the end: where that needs an activity
    the slider removed, the strongest (widest) path is put back and its
    activities are listed in ``connectors``. ``None`` uses :func:`default_sliders`.

    Works on the precomputed map only (no log pass)::

        >>> full = process_map(log)
        >>> small = simplify(full, activities=0.5, paths=0.2)
        >>> small.hidden_activities, small.connectors
    """
    base = pm.full or pm
    d_act, d_paths = default_sliders(base)
    activities = d_act if activities is None else float(activities)
    paths = d_paths if paths is None else float(paths)
    if not (0.0 <= activities <= 1.0 and 0.0 <= paths <= 1.0):
        raise ValueError(f"activities and paths must be between 0 and 1, got {activities}, {paths}")
    acts = base.activities
    n_act = len(acts)
    if n_act == 0:
        return base
    order = acts.sort_values(["events"], ascending=False, kind="stable").index.tolist()
    keep_n = max(1, math.ceil(activities * n_act - 1e-9))
    kept = set(order[:keep_n])
    nodes = kept | {START, END}
    edges = base.edges()
    cand = edges[edges["source"].isin(nodes) & edges["target"].isin(nodes)]
    cand = cand.sort_values(["frequency", "source", "target"], ascending=[False, True, True])
    n_keep_arcs = math.ceil(paths * len(cand) - 1e-9)
    chosen: set[tuple[str, str]] = set(zip(cand["source"].iloc[:n_keep_arcs], cand["target"].iloc[:n_keep_arcs]))
    # strongest in / out arc of every kept activity (cand is sorted by frequency)
    best_in = cand.drop_duplicates("target")
    best_out = cand.drop_duplicates("source")
    chosen |= set(zip(best_in["source"], best_in["target"])) | set(zip(best_out["source"], best_out["target"]))
    pred, succ = base._widest_trees
    connectors: list[str] = []

    def reach(root: str, forward: bool) -> set[str]:
        adj: dict[str, list[str]] = {}
        for s, t in chosen:
            a, b = (s, t) if forward else (t, s)
            adj.setdefault(a, []).append(b)
        seen, stack = {root}, [root]
        while stack:
            for nxt in adj.get(stack.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return seen

    for root, tree, forward in ((START, pred, True), (END, succ, False)):
        seen = reach(root, forward)
        for node in sorted(kept | set(connectors), key=order.index):
            cur = node
            while cur not in seen:
                prev = tree[cur]
                chosen.add((prev, cur) if forward else (cur, prev))
                seen.add(cur)
                if prev not in kept and prev not in (START, END) and prev not in connectors:
                    connectors.append(prev)
                cur = prev
            if forward:
                seen = reach(root, forward)
    all_nodes = kept | set(connectors)
    act_rows = acts.loc[[a for a in order if a in all_nodes]]
    arcs = base.arcs[[(s, t) in chosen for s, t in zip(base.arcs["source"], base.arcs["target"])]]
    starts = {t for s, t in chosen if s == START}
    ends = {s for s, t in chosen if t == END}
    act_rows = act_rows.assign(starts=np.where(act_rows.index.isin(list(starts)), act_rows["starts"], 0),
                               ends=np.where(act_rows.index.isin(list(ends)), act_rows["ends"], 0))
    return replace(base, activities=act_rows, arcs=arcs.reset_index(drop=True), connectors=tuple(connectors),
                   hidden_activities=n_act - len(all_nodes), hidden_arcs=len(base.arcs) - len(arcs), full=base)


# ------------------------------------------------------------------ variants
_SEP = "\x1f"


def _case_table(log: EventLog) -> pd.DataFrame:
    """One row per case: its variant key (activities joined by \\x1f), first/last time, event count."""
    import polars as pl

    df = log.df
    frame = pl.DataFrame({
        "case": df[CASE].to_numpy(dtype=object),
        "act": df[ACTIVITY].to_numpy(dtype=object),
        "ts": df[TIMESTAMP].to_numpy(dtype="datetime64[ns]"),
    }, schema={"case": pl.String, "act": pl.String, "ts": pl.Datetime("ns")})
    out = frame.group_by("case", maintain_order=True).agg(
        pl.col("act").str.join(_SEP).alias("key"),
        pl.col("ts").min().alias("first"),
        pl.col("ts").max().alias("last"),
        pl.len().alias("events"),
    )
    res = out.to_pandas()
    res["duration_s"] = (res["last"] - res["first"]).dt.total_seconds()
    return res


def variants(log: EventLog) -> pd.DataFrame:
    """The case variants (distinct activity sequences), most frequent first.

    Columns: ``variant`` ("V1", "V2", ... by rank), ``activities`` (tuple),
    ``length``, ``cases``, ``share`` (of cases), ``cumulative_share``,
    ``mean_duration_s`` / ``median_duration_s`` (first to last event of the
    case), ``example_case``. Ties in ``cases`` are ordered by the sequence.

    >>> v = variants(log)
    >>> v.loc[0, "cases"], v.loc[0, "activities"]
    """
    ct = _case_table(log)
    if ct.empty:
        return pd.DataFrame(columns=["variant", "activities", "length", "cases", "share", "cumulative_share",
                                     "mean_duration_s", "median_duration_s", "example_case"])
    g = ct.groupby("key", sort=False)
    v = pd.DataFrame({
        "cases": g.size(),
        "mean_duration_s": g["duration_s"].mean(),
        "median_duration_s": g["duration_s"].median(),
        "example_case": g["case"].first(),
    }).reset_index()
    v = v.sort_values(["cases", "key"], ascending=[False, True], ignore_index=True)
    v["activities"] = [tuple(k.split(_SEP)) for k in v["key"]]
    v["length"] = [len(a) for a in v["activities"]]
    v["share"] = v["cases"] / len(ct)
    v["cumulative_share"] = v["cases"].cumsum() / len(ct)
    v["variant"] = [f"V{i + 1}" for i in range(len(v))]
    return v[["variant", "activities", "length", "cases", "share", "cumulative_share",
              "mean_duration_s", "median_duration_s", "example_case"]]


def variant_coverage(log: EventLog, top_n: int) -> float:
    """Share of cases (0..1) that follow one of the ``top_n`` most frequent variants.

    >>> variant_coverage(log, 10)   # "the top 10 variants cover 83 % of cases"
    0.83
    """
    if top_n <= 0:
        return 0.0
    v = variants(log)
    if v.empty:
        return 0.0
    return float(v["cumulative_share"].iloc[min(top_n, len(v)) - 1])


def case_variant_keys(log: EventLog) -> pd.Series:
    """Variant key of every case (index: case id; value: tuple of activities)."""
    ct = _case_table(log)
    return pd.Series([tuple(k.split(_SEP)) for k in ct["key"]], index=pd.Index(ct["case"], name=CASE))


# ------------------------------------------------------------------ BPMN
def discover_bpmn(log: EventLog, *, noise_threshold: float = 0.2) -> str:
    """A BPMN 2.0 model (XML text with DI) of ``log`` by the inductive miner.

    ``noise_threshold`` (0..1) is the infrequent inductive miner's filter: 0
    keeps every observed behaviour, higher values give simpler models. Every
    shape and edge has diagram interchange, so the file opens in bpmn.io /
    Camunda Modeler and can be edited into a reference model.

    >>> xml = discover_bpmn(log, noise_threshold=0.2)
    >>> open("discovered.bpmn", "w").write(xml)
    """
    if not 0.0 <= noise_threshold <= 1.0:
        raise ValueError(f"noise_threshold must be between 0 and 1, got {noise_threshold}")
    if log.n_events == 0:
        raise ValueError("cannot discover a model from an empty log")
    import pm4py

    frame = log.to_pm4py()[[CASE, ACTIVITY, TIMESTAMP]]
    tree = pm4py.discover_process_tree_inductive(frame, noise_threshold=noise_threshold,
                                                 activity_key=ACTIVITY, case_id_key=CASE,
                                                 timestamp_key=TIMESTAMP)
    graph = _graph_from_pm4py(pm4py.convert_to_bpmn(tree))
    return bpmn_xml(_reduce_gateways(graph), name=log.name)


@dataclass
class _Graph:
    """A plain BPMN graph: ``nodes`` id -> (kind, name); ``flows`` list of (source id, target id)."""

    nodes: dict[str, tuple[str, str]]
    flows: list[tuple[str, str]]


_KINDS = {"StartEvent": "startEvent", "NormalStartEvent": "startEvent", "EndEvent": "endEvent",
          "NormalEndEvent": "endEvent", "Task": "task", "ExclusiveGateway": "exclusiveGateway",
          "ParallelGateway": "parallelGateway", "InclusiveGateway": "inclusiveGateway"}


def _graph_from_pm4py(bpmn: Any) -> _Graph:
    """pm4py's BPMN object -> :class:`_Graph` with readable, valid XML ids."""
    nodes: dict[str, tuple[str, str]] = {}
    ids: dict[Any, str] = {}
    counters: dict[str, int] = {}
    for node in sorted(bpmn.get_nodes(), key=lambda n: (type(n).__name__, n.get_name() or "", n.get_id())):
        kind = _KINDS.get(type(node).__name__)
        if kind is None:
            raise ValueError(f"unexpected BPMN node type from the miner: {type(node).__name__}")
        prefix = {"startEvent": "StartEvent", "endEvent": "EndEvent", "task": "Activity"}.get(kind, "Gateway")
        counters[prefix] = counters.get(prefix, 0) + 1
        nid = f"{prefix}_{counters[prefix]}"
        ids[node] = nid
        nodes[nid] = (kind, node.get_name() if kind == "task" else "")
    flows = [(ids[f.get_source()], ids[f.get_target()]) for f in bpmn.get_flows()]
    return _Graph(nodes=nodes, flows=sorted(flows))


def _reduce_gateways(g: _Graph) -> _Graph:
    """Remove what the tree-to-BPMN conversion leaves behind: pass-through gateways,
    split-into-split and join-into-join chains of the same type, and duplicate XOR flows.
    Each step preserves the language of the model."""
    nodes, flows = dict(g.nodes), list(g.flows)
    changed = True
    while changed:
        changed = False
        ins: dict[str, list[int]] = {n: [] for n in nodes}
        outs: dict[str, list[int]] = {n: [] for n in nodes}
        for i, (s, t) in enumerate(flows):
            outs[s].append(i)
            ins[t].append(i)
        for nid, (kind, _) in nodes.items():
            if not kind.endswith("Gateway"):
                continue
            if len(ins[nid]) == 1 and len(outs[nid]) == 1:  # pass-through
                (s, _t), (_s, t) = flows[ins[nid][0]], flows[outs[nid][0]]
                flows = [f for i, f in enumerate(flows) if i not in (ins[nid][0], outs[nid][0])] + [(s, t)]
                del nodes[nid]
                changed = True
                break
            if len(ins[nid]) == 1:  # split fed directly by a split of the same type
                src = flows[ins[nid][0]][0]
                if nodes[src][0] == kind and len(ins[src]) == 1:
                    flows = [(src, t) if s == nid else (s, t) for i, (s, t) in enumerate(flows) if i != ins[nid][0]]
                    del nodes[nid]
                    changed = True
                    break
            if len(outs[nid]) == 1:  # join feeding directly into a join of the same type
                tgt = flows[outs[nid][0]][1]
                if nodes[tgt][0] == kind and len(outs[tgt]) == 1:
                    flows = [(s, tgt) if t == nid else (s, t) for i, (s, t) in enumerate(flows) if i != outs[nid][0]]
                    del nodes[nid]
                    changed = True
                    break
        if not changed:
            seen: set[tuple[str, str]] = set()
            dedup = []
            for s, t in flows:
                if (s, t) in seen and nodes[s][0] == "exclusiveGateway":
                    changed = True
                    continue
                seen.add((s, t))
                dedup.append((s, t))
            flows = dedup
    return _Graph(nodes=nodes, flows=flows)


_SIZE = {"task": (100.0, 80.0), "startEvent": (36.0, 36.0), "endEvent": (36.0, 36.0)}
_GW_SIZE = (50.0, 50.0)


def _layout(g: _Graph) -> tuple[dict[str, tuple[float, float, float, float]], list[list[tuple[float, float]]]]:
    """Left-to-right layout by graphviz ``dot``: shape bounds (x, y, w, h) and flow waypoints (points)."""
    import subprocess

    lines = ["digraph G {", "rankdir=LR; nodesep=0.5; ranksep=0.6; splines=polyline;"]
    for nid, (kind, _) in g.nodes.items():
        w, h = _SIZE.get(kind, _GW_SIZE)
        shape = {"task": "box"}.get(kind, "circle" if kind.endswith("Event") else "diamond")
        lines.append(f'"{nid}" [shape={shape}, fixedsize=true, width={w / 72:.4f}, height={h / 72:.4f}, label=""];')
    for i, (s, t) in enumerate(g.flows):
        lines.append(f'"{s}" -> "{t}" [id="f{i}"];')
    lines.append("}")
    try:
        out = subprocess.run(["dot", "-Tplain-ext"], input="\n".join(lines), capture_output=True, text=True,
                             check=True, timeout=120).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise RuntimeError(f"graphviz 'dot' failed to lay out the BPMN model: {exc}") from exc
    bounds: dict[str, tuple[float, float, float, float]] = {}
    edges: dict[tuple[str, str], list[list[tuple[float, float]]]] = {}
    height = 0.0
    for line in out.splitlines():
        parts = line.split()
        if parts[0] == "graph":
            height = float(parts[3])
        elif parts[0] == "node":
            nid = parts[1].strip('"')
            w, h = _SIZE.get(g.nodes[nid][0], _GW_SIZE)
            cx, cy = float(parts[2]) * 72, (height - float(parts[3])) * 72
            bounds[nid] = (round(cx - w / 2 + 20, 1), round(cy - h / 2 + 20, 1), w, h)
        elif parts[0] == "edge":
            s, t, n = parts[1].strip('"'), parts[2].strip('"'), int(parts[3])
            pts = [(float(parts[4 + 2 * k]) * 72 + 20, (height - float(parts[5 + 2 * k])) * 72 + 20) for k in range(n)]
            edges.setdefault((s, t), []).append([(round(x, 1), round(y, 1)) for x, y in pts[::3]])
    waypoints = []
    for s, t in g.flows:
        pts = edges[(s, t)].pop(0) if edges.get((s, t)) else []
        sx, sy, sw, sh = bounds[s]
        tx, ty, tw, th = bounds[t]
        if len(pts) < 2:
            pts = [(sx + sw, sy + sh / 2), (tx, ty + th / 2)]
        waypoints.append(pts)
    return bounds, waypoints


def bpmn_xml(g: _Graph, *, name: str = "discovered") -> str:
    """Serialise a BPMN graph with a fresh dot layout as BPMN 2.0 XML with DI for every shape and edge."""
    from lxml import etree

    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
          "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
          "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI"}

    def q(prefix: str, tag: str) -> str:
        return f"{{{ns[prefix]}}}{tag}"

    bounds, waypoints = _layout(g)
    defs = etree.Element(q("bpmn", "definitions"), nsmap=ns, id="Definitions_1",
                         targetNamespace="http://processmining.example/discovered",
                         exporter="processmining", exporterVersion=_version())
    proc = etree.SubElement(defs, q("bpmn", "process"), id="Process_1", name=f"Discovered from {name}",
                            isExecutable="false")
    flow_ids = [f"Flow_{i + 1}" for i in range(len(g.flows))]
    elements: dict[str, Any] = {}
    for nid, (kind, label) in g.nodes.items():
        attrs = {"id": nid}
        if label:
            attrs["name"] = label
        if kind.endswith("Gateway"):
            n_in = sum(1 for _, t in g.flows if t == nid)
            n_out = sum(1 for s, _ in g.flows if s == nid)
            attrs["gatewayDirection"] = "Diverging" if n_in <= 1 < n_out else "Converging" if n_out <= 1 < n_in else "Mixed"
        elements[nid] = etree.SubElement(proc, q("bpmn", kind), **attrs)
    for fid, (_, t) in zip(flow_ids, g.flows):  # the schema wants every incoming before the outgoing
        etree.SubElement(elements[t], q("bpmn", "incoming")).text = fid
    for fid, (s, _) in zip(flow_ids, g.flows):
        etree.SubElement(elements[s], q("bpmn", "outgoing")).text = fid
    for fid, (s, t) in zip(flow_ids, g.flows):
        etree.SubElement(proc, q("bpmn", "sequenceFlow"), id=fid, sourceRef=s, targetRef=t)
    diagram = etree.SubElement(defs, q("bpmndi", "BPMNDiagram"), id="BPMNDiagram_1")
    plane = etree.SubElement(diagram, q("bpmndi", "BPMNPlane"), id="BPMNPlane_1", bpmnElement="Process_1")
    for nid, (kind, _) in g.nodes.items():
        attrs = {"id": f"{nid}_di", "bpmnElement": nid}
        if kind == "exclusiveGateway":
            attrs["isMarkerVisible"] = "true"
        shape = etree.SubElement(plane, q("bpmndi", "BPMNShape"), **attrs)
        x, y, w, h = bounds[nid]
        etree.SubElement(shape, q("dc", "Bounds"), x=f"{x:g}", y=f"{y:g}", width=f"{w:g}", height=f"{h:g}")
    for fid, pts in zip(flow_ids, waypoints):
        edge = etree.SubElement(plane, q("bpmndi", "BPMNEdge"), id=f"{fid}_di", bpmnElement=fid)
        for x, y in pts:
            etree.SubElement(edge, q("di", "waypoint"), x=f"{x:g}", y=f"{y:g}")
    return etree.tostring(defs, pretty_print=True, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def _version() -> str:
    from .model import tool_version

    return tool_version()


def _describe(pm: ProcessMap) -> dict[str, Any]:
    """Small summary used by the CLI."""
    return {"activities": len(pm.activities), "arcs": len(pm.arcs), "cases": pm.n_cases, "events": pm.n_events,
            "connectors": list(pm.connectors), "hidden_activities": pm.hidden_activities,
            "hidden_arcs": pm.hidden_arcs}
