"""Optimal alignments guided by the marking equation: A* over (marking, trace position) with an LP heuristic.

The heuristic pm4py's ``state_equation_a_star`` uses, on our compiled net:
from marking ``m`` with the events ``σ[i:]`` still to align, the least cost
of firing counts ``x`` (model and silent moves) and ``s`` (synchronous moves)
with ``m + C (x + s) = m_final`` and, per activity, no more synchronous moves
than the rest of the trace has events of it (the others are log moves). It is
the LP relaxation of that problem (HiGHS, through ``highspy``), rounded up: a
lower bound on every completion's cost, consistent, and exact far more often
than label-reachability bounds, so on block-structured models with many
silent steps and much concurrency (inductive-miner nets) the search visits a
few hundred states where a blind one visits the interleavings.

Work is reused: the LP of a (marking, remaining activity counts) pair is
solved once per process and shared by every variant with the same suffix;
and, as in pm4py, a successor reached by a move that the parent's LP
solution uses inherits that solution minus the move (its LP value exactly),
so the LP is solved again only where the parent's plan is left. The LP of a
state is solved only when the state is taken from the queue.

Costs are pm4py's (sync 0, log and visible model moves 10,000, silent 1);
the optimum is unique, so costs (and fitness) equal pm4py's.
"""

from __future__ import annotations

import bisect
import heapq
import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from .net import MOVE_COST, TAU_COST, CompiledNet, Marking
from .splitpoints import OutOfTime, SplitEquation

_INF = 1 << 62
#: split points added per restart (at most): the LP grows by one segment per split point, so long noisy
#: traces get theirs in steps instead of one LP of a hundred segments
SPLITS_PER_RESTART = 16
_EPS = 1e-6


def available() -> bool:
    """Whether the LP solver (``highspy``) can be imported."""
    try:
        import highspy  # noqa: F401
    except ImportError:  # pragma: no cover - a dependency of the package
        return False
    return True


#: memory the marking-equation memo of one process may keep (LP solutions per marking and activity counts)
MEMO_BYTES = 256 * 1024**2

class MarkingEquation:
    """The marking-equation LP of one net, one HiGHS model re-solved with new bounds (warm start).

    Columns: one firing count per transition (model or silent move; cost
    10,000 or 1) and one per visible transition as a synchronous move (cost
    -10,000: it saves that event's log move). Rows: one equality per place
    (``C (x + s) = m_final - m``) and one ``≤`` per activity
    (synchronous moves of it ≤ its events left).
    """

    def __init__(self, net: CompiledNet) -> None:
        import highspy

        self.net = net
        n_t = len(net.labels)
        self.visible = [t for t, lbl in enumerate(net.labels) if lbl is not None]
        self.activities = sorted({net.labels[t] for t in self.visible})  # type: ignore[type-var]
        self.row_of = {a: net.n_places + k for k, a in enumerate(self.activities)}
        self.sync_col = {t: n_t + k for k, t in enumerate(self.visible)}
        self.sync_cols_of: dict[str, list[int]] = {}
        for t in self.visible:
            self.sync_cols_of.setdefault(net.labels[t], []).append(self.sync_col[t])  # type: ignore[arg-type]
        n_p, n_rows = net.n_places, net.n_places + len(self.activities)
        n_cols = n_t + len(self.visible)
        cost = np.array([TAU_COST if lbl is None else MOVE_COST for lbl in net.labels] + [-MOVE_COST] * len(self.visible),
                        dtype=np.float64)
        starts, index, value = [0], [], []

        def column(t: int, label_row: int | None) -> None:
            delta: dict[int, int] = {}
            for p, w in net.pre[t]:
                delta[p] = delta.get(p, 0) - w
            for p, w in net.post[t]:
                delta[p] = delta.get(p, 0) + w
            for p in sorted(delta):
                if delta[p]:
                    index.append(p)
                    value.append(float(delta[p]))
            if label_row is not None:
                index.append(label_row)
                value.append(1.0)
            starts.append(len(index))

        for t in range(n_t):
            column(t, None)
        for t in self.visible:
            column(t, self.row_of[net.labels[t]])  # type: ignore[index]
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n_cols, n_rows
        lp.col_cost_ = cost
        lp.col_lower_ = np.zeros(n_cols)
        lp.col_upper_ = np.full(n_cols, highspy.kHighsInf)
        lp.row_lower_ = np.zeros(n_rows)
        lp.row_upper_ = np.zeros(n_rows)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.asarray(starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.asarray(index, dtype=np.int32)
        lp.a_matrix_.value_ = np.asarray(value, dtype=np.float64)
        # the (model moves, synchronous moves) block of the extended equation (.splitpoints): its
        # entries as (row, column, value), activity rows numbered after the places; and per activity
        # its visible transitions
        self.block_coo = (np.asarray(index, dtype=np.int64), np.repeat(np.arange(n_cols), np.diff(starts)),
                          np.asarray(value, dtype=np.float64))
        self.block_cost = cost
        #: per transition: the places its firing changes and by how much (its column of the incidence matrix)
        self.effect = tuple((np.asarray(index[starts[t]:starts[t + 1]], dtype=np.int64),
                             np.asarray(value[starts[t]:starts[t + 1]], dtype=np.float64)) for t in range(n_t))
        self.transitions_of: dict[str, list[int]] = {}
        for t in self.visible:
            self.transitions_of.setdefault(net.labels[t], []).append(t)  # type: ignore[arg-type]
        h = self.new_solver()
        h.passModel(lp)
        self._highs = h
        self._optimal = highspy.HighsModelStatus.kOptimal
        self._rows = np.arange(n_rows, dtype=np.int32)
        self._final = np.asarray(net.final, dtype=np.float64)
        self._lower = np.zeros(n_rows)
        self._upper = np.zeros(n_rows)
        self._lower[n_p:] = -highspy.kHighsInf
        self.memo: dict[tuple[Marking, bytes], tuple[int, np.ndarray | None]] = {}
        # an entry keeps its key (marking, activity counts) and its LP solution: bounded in bytes, not only in
        # entries (bpic2019's 132-transition net: 500,000 entries were ~750 MB per worker)
        entry = 8 * (n_cols + len(self.activities) + net.n_places) + 200
        self.memo_limit = max(10_000, min(500_000, MEMO_BYTES // entry))
        self.solved = 0

    @staticmethod
    def new_solver():  # noqa: ANN205 - highspy's solver class
        """A quiet single-threaded HiGHS simplex solver without presolve (the models are small and re-solved)."""
        import highspy

        try:  # the bare solver: no start-up banner on stdout, no interrupt-handling callbacks per solve
            from highspy._core import _Highs as solver_class
        except ImportError:  # pragma: no cover - other highspy layouts
            solver_class = highspy.Highs
        h = solver_class()
        for option, setting in (("output_flag", False), ("log_to_console", False), ("presolve", "off"),
                                ("solver", "simplex"), ("threads", 1)):
            h.setOptionValue(option, setting)
        return h

    def counts(self, trace: Sequence[str]) -> np.ndarray:
        """Per position ``i``, the events of each activity in ``trace[i:]`` (rows ``0..n``)."""
        out = np.zeros((len(trace) + 1, len(self.activities)), dtype=np.float64)
        col = {a: k for k, a in enumerate(self.activities)}
        for i in range(len(trace) - 1, -1, -1):
            out[i] = out[i + 1]
            k = col.get(trace[i])
            if k is not None:
                out[i, k] += 1
        return out

    def solve(self, m: Marking, cnt: np.ndarray, events_left: int) -> tuple[int, np.ndarray | None]:
        """``(lower bound, LP solution)`` for marking ``m`` with activity counts ``cnt`` left; bound ``_INF`` if infeasible."""
        key = (m, cnt.tobytes())
        found = self.memo.get(key)
        if found is not None:
            return found
        n_p = self.net.n_places
        rhs = self._final - np.asarray(m, dtype=np.float64)
        self._lower[:n_p] = rhs
        self._upper[:n_p] = rhs
        self._upper[n_p:] = cnt
        h = self._highs
        h.changeRowsBounds(len(self._rows), self._rows, self._lower, self._upper)
        h.run()
        self.solved += 1
        if h.getModelStatus() != self._optimal:
            out: tuple[int, np.ndarray | None] = (_INF, None)
        else:
            value = h.getObjectiveValue() + MOVE_COST * events_left
            out = (max(0, math.ceil(value - _EPS)), np.asarray(h.getSolution().col_value))
        if len(self.memo) < self.memo_limit:
            self.memo[key] = out
        return out


def equation_of(net: CompiledNet) -> MarkingEquation:
    """The net's LP, built once per process (it is not pickled: workers build their own)."""
    found = net.__dict__.get("_equation")
    if found is None:
        found = net.__dict__["_equation"] = MarkingEquation(net)
    return found


def align_equation(net: CompiledNet, trace: Sequence[str], *, deadline: float | None = None,
                   max_states: int = 5_000_000, stats: dict[str, int] | None = None,
                   ) -> tuple[Any, int, int, list[int]] | None:
    """A* with the (extended) marking-equation heuristic: ``(parent links, goal state, cost, run)`` or ``None``.

    ``run`` lists every transition fired (silent ones too) in order.
    ``None`` when ``deadline`` (``time.perf_counter()``) or ``max_states``
    runs out, or when the final marking cannot be reached.

    Split points, as in van Dongen's "Efficiently computing alignments: using
    the extended marking equation" (2018) and ProM's alignment package: the
    search starts with the plain marking equation; when it takes from the
    queue a state whose bound was only estimated (its parent's LP plan does
    not contain the move that reached it), the plan was not realisable
    around the furthest event any exact plan got to. That event (or the
    first later one that is not a split point yet) becomes a split point, with
    every later event, and the search starts again with the tighter LP
    (:mod:`.splitpoints`). Once
    no split point is left to add, estimated states get their own LP, as in
    pm4py. ``stats`` (when given) receives the split points, restarts, LPs
    solved and states expanded.
    """
    me = equation_of(net)
    cnt = me.counts(trace)
    splittable = [k for k, a in enumerate(trace) if a in me.transitions_of]  # events a synchronous move can take
    splits: list[int] = []
    eme: SplitEquation | None = None
    restarts = expanded = 0
    solved0 = me.solved
    eme_solved = 0
    try:
        while True:
            found, new_split, popped = _search(net, me, eme, trace, cnt, splittable, splits, deadline,
                                               max_states - expanded)
            expanded += popped
            if new_split is None:
                return found
            # every event from there on becomes a split point at once: adding them one restart at a time
            # (as ProM does) solved a cold, growing LP per restart and was 1.3-3x slower on sepsis,
            # bpic2019 p2p and a22f0n50, where most traces end up split at nearly every event anyway
            k = bisect.bisect_left(splittable, new_split)
            fresh = [e for e in splittable[k:] if e not in splits][:SPLITS_PER_RESTART]
            splits = sorted([*splits, *fresh])
            if eme is not None:
                eme_solved += eme.solved
            eme = SplitEquation(me, trace, splits, deadline)
            restarts += 1
    except OutOfTime:
        return None
    finally:
        if stats is not None:
            stats.update(splits=len(splits), restarts=restarts, expanded=expanded,
                         lp=me.solved - solved0 + eme_solved + (eme.solved if eme is not None else 0))


def _search(net: CompiledNet, me: MarkingEquation, eme: SplitEquation | None, trace: Sequence[str],
            cnt: np.ndarray, splittable: list[int], splits: list[int], deadline: float | None,
            max_states: int) -> tuple[tuple[Any, int, int, list[int]] | None, int | None, int]:
    """One A* run with the given split points: ``(result, split point to add and restart with, states expanded)``."""
    n = len(trace)
    col = {a: k for k, a in enumerate(me.activities)}
    ev_col = [col.get(a, -1) for a in trace]
    labels = net.labels
    sync_col = me.sync_col
    final = net.final

    # the marking equation's memo is keyed by marking and model-activity counts: events of activities the
    # model lacks (always log moves) are added outside it, or a trace with more of them would leave too high
    # a bound for another
    known = cnt.sum(axis=1).astype(np.int64)
    unknown = [MOVE_COST * int(n - i - known[i]) for i in range(n + 1)]

    def lp(m: Marking, i: int) -> tuple[int, np.ndarray | None]:
        if eme is not None and eme.covers(i):
            return eme.solve(m, i)
        h, vec = me.solve(m, cnt[i], int(known[i]))  # no split point ahead: the marking equation, shared by all
        return (h if h >= _INF else h + unknown[i]), vec

    start = (net.initial, 0)
    h0, v0 = lp(net.initial, 0)
    if h0 >= _INF:
        return None, None, 0
    best: dict[tuple[Marking, int], int] = {start: 0}
    # per state: its heuristic, the LP solution it comes with (None: a lower bound still to be solved)
    info: dict[tuple[Marking, int], tuple[int, np.ndarray | None]] = {start: (h0, v0)}
    parent: dict[tuple[Marking, int], tuple[tuple[Marking, int], int, int]] = {}
    # ties on f: the state further in the trace first, then the smaller heuristic (the longer plan so far:
    # one interleaving of concurrent silent steps is followed to its end, not all of them side by side),
    # then first come first served (measured on bpic2019 p2p: 4x fewer LPs than without the heuristic)
    heap: list[tuple[int, int, int, int, Marking, int]] = [(h0, 0, h0, 0, net.initial, 0)]
    closed: set[tuple[Marking, int]] = set()
    tie = 0
    popped = 0
    max_exact = 0  # the most events explained by a state whose LP plan is exact

    def push(state, new, g2: int, kind: int, t: int, h_new: int, v_new) -> None:  # noqa: ANN001
        nonlocal tie, max_exact
        old = best.get(new)
        if old is not None and g2 >= old:
            return
        closed.discard(new)
        best[new] = g2
        parent[new] = (state, kind, t)
        known = info.get(new)
        if known is None or (known[1] is None and (v_new is not None or h_new > known[0])):
            info[new] = (h_new, v_new)
            known = info[new]
        if v_new is not None and new[1] > max_exact:
            max_exact = new[1]
        tie += 1
        heapq.heappush(heap, (g2 + known[0], -new[1], known[0], tie, new[0], new[1]))

    while heap:
        f, _neg_i, _hh, _tie, m, i = heapq.heappop(heap)
        state = (m, i)
        if state in closed:
            continue
        g = best[state]
        if f > g + info[state][0]:
            continue  # an outdated entry (the state was re-queued with a larger heuristic)
        h, vec = info[state]
        if vec is None:
            if not (i == n and m == final):
                # the plan was left: split where the exact plans stopped (the first event from there that is
                # no split point yet) and start again; with none left, solve this state's own LP
                k = bisect.bisect_left(splittable, max_exact)
                while k < len(splittable) and splittable[k] in splits:
                    k += 1
                if k < len(splittable):
                    return None, splittable[k], popped
            h2, vec = lp(m, i)
            info[state] = (max(h, h2), vec)
            if h2 >= _INF:
                closed.add(state)
                continue
            if h2 > h:
                tie += 1
                heapq.heappush(heap, (g + h2, -i, h2, tie, m, i))
                continue
        closed.add(state)
        if i == n and m == final:
            return (parent, state, g, _run(parent, state)), None, popped
        popped += 1
        if popped & 63 == 0:
            if deadline is not None and time.perf_counter() > deadline:
                return None, None, popped
            if popped > max_states:
                return None, None, popped
        h = info[state][0]
        if i < n:  # log move: covered by the LP when it leaves one of these events unsynchronised
            k = ev_col[i]
            covered = vec is not None and (k < 0 or cnt[i, k] - _sync_total(vec, me, trace[i]) >= 1 - _EPS)
            push(state, (m, i + 1), g + MOVE_COST, 0, -1, h - MOVE_COST if covered else max(0, h - MOVE_COST),
                 vec if covered else None)
        ev = trace[i] if i < n else None
        for t, m2 in net.successors(m):
            lbl = labels[t]
            c = TAU_COST if lbl is None else MOVE_COST
            if vec is not None and vec[t] >= 1 - _EPS:
                v2 = vec.copy()
                v2[t] -= 1
                push(state, (m2, i), g + c, 3 if lbl is None else 2, t, h - c, v2)
            else:
                push(state, (m2, i), g + c, 3 if lbl is None else 2, t, max(0, h - c), None)
            if lbl is not None and lbl == ev:
                sc = sync_col[t]
                if vec is not None and vec[sc] >= 1 - _EPS:
                    v2 = vec.copy()
                    v2[sc] -= 1
                    push(state, (m2, i + 1), g, 1, t, h, v2)
                else:
                    push(state, (m2, i + 1), g, 1, t, h, None)
    return None, None, popped


def _sync_total(vec: np.ndarray, me: MarkingEquation, label: str) -> float:
    return float(sum(vec[c] for c in me.sync_cols_of[label]))


def _run(parent, state) -> list[int]:  # noqa: ANN001
    out = []
    while state in parent:
        prev, kind, t = parent[state]
        if kind != 0:
            out.append(t)
        state = prev
    out.reverse()
    return out
