"""The process map: a directly-follows graph with frequency and time, and its simplification.

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

import numpy as np
import pandas as pd

from ..codes import cases_with
from ..errors import AnalysisError
from ..model import EventLog

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
        return {(s, t): int(f) for s, t, f in zip(self.arcs["source"], self.arcs["target"], self.arcs["frequency"], strict=True)}

    def performance_dfg(self) -> dict[tuple[str, str], dict[str, float]]:
        """``{(a, b): {"mean", "median", "max", "min", "sum", "stdev"}}`` in seconds, like pm4py's."""
        keys = {"mean": "wait_mean_s", "median": "wait_median_s", "max": "wait_max_s",
                "min": "wait_min_s", "sum": "wait_total_s", "stdev": "wait_stdev_s"}
        cols = {k: self.arcs[v].to_numpy() for k, v in keys.items()}
        return {(s, t): {k: float(cols[k][i]) for k in keys}
                for i, (s, t) in enumerate(zip(self.arcs["source"], self.arcs["target"], strict=True))}

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
    def _edge_list(self) -> list[tuple[str, str, int]]:
        """All edges as (source, target, frequency), most frequent first (ties by name)."""
        e = self.edges()
        triples = [(str(s), str(t), int(f)) for s, t, f in zip(e["source"], e["target"], e["frequency"], strict=True)]
        return sorted(triples, key=lambda x: (-x[2], x[0], x[1]))

    @cached_property
    def _widest_trees(self) -> tuple[dict[str, str], dict[str, str]]:
        triples = [(s, t, float(f)) for s, t, f in self._edge_list]
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
    c = log.codes
    return c.case, c.act, c.act_names, c.ts, c.start


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
    acts = pd.DataFrame({
        "events": events,
        "cases": log.codes.cases_per_activity,
        "starts": np.bincount(act[first], minlength=n_act),
        "ends": np.bincount(act[last], minlength=n_act),
    }, index=pd.Index(names, name="activity"))
    if start is not None:
        dur = pd.Series(log.codes.processing).groupby(act)
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
    if not log.has_timestamps:  # an order-only log: frequencies only, no fake zero waits
        wait = np.full(len(idx), np.nan)
    key = src * n_act + tgt
    g = pd.Series(wait).groupby(key)
    stats = g.agg(["size", "mean", "median", "min", "max", "sum", "std"])
    keys = stats.index.to_numpy()  # the arcs that occur, sorted
    case_counts = cases_with(case[idx], np.searchsorted(keys, key), len(keys), int(first.sum()))
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
        raise AnalysisError(f"activities and paths must be between 0 and 1, got {activities}, {paths}")
    acts = base.activities
    n_act = len(acts)
    if n_act == 0:
        return base
    order = acts.index.tolist()  # process_map sorts activities by events, most frequent first
    keep_n = max(1, math.ceil(activities * n_act - 1e-9))
    kept = set(order[:keep_n])
    nodes = kept | {START, END}
    cand = [(s, t) for s, t, _ in base._edge_list if s in nodes and t in nodes]  # most frequent first
    n_keep_arcs = math.ceil(paths * len(cand) - 1e-9)
    chosen: set[tuple[str, str]] = set(cand[:n_keep_arcs])
    # strongest in / out arc of every kept activity
    best_in: dict[str, tuple[str, str]] = {}
    best_out: dict[str, tuple[str, str]] = {}
    for s, t in cand:
        best_in.setdefault(t, (s, t))
        best_out.setdefault(s, (s, t))
    chosen |= set(best_in.values()) | set(best_out.values())
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
    keep_arc = np.fromiter(((s, t) in chosen for s, t in zip(base.arcs["source"], base.arcs["target"], strict=True)),
                           dtype=bool, count=len(base.arcs))
    arcs = base.arcs[keep_arc]
    starts = {t for s, t in chosen if s == START}
    ends = {s for s, t in chosen if t == END}
    act_rows = act_rows.assign(starts=np.where(act_rows.index.isin(list(starts)), act_rows["starts"], 0),
                               ends=np.where(act_rows.index.isin(list(ends)), act_rows["ends"], 0))
    return replace(base, activities=act_rows, arcs=arcs.reset_index(drop=True), connectors=tuple(connectors),
                   hidden_activities=n_act - len(all_nodes), hidden_arcs=len(base.arcs) - len(arcs), full=base)
