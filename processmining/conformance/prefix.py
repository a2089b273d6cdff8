"""Prefix alignments of running cases on large nets: A* with the marking equation, the final marking left open.

A *prefix alignment* of a trace ``σ`` (a case that has not ended) is a
sequence of synchronous, log, model and silent moves that consumes all of
``σ`` and stops in a marking ``m`` from which the model's final marking is
still reachable. Its cost counts the moves made (sync 0, log and visible
model moves 10,000, silent 1, pm4py's standard costs); nothing is charged
for the part of the process that has not happened yet. So model moves are
made only where an event needs them to be enabled, and the alignment never
ends in a marking that is stuck. This is the definition
:func:`processmining.conformance.alignment.align` uses with ``prefix=True``
on small (explored) state spaces; this module computes the same optimum on
nets whose state space is too large to explore (above
``EQUATION_ABOVE_MARKINGS`` markings or never explored). pm4py has no prefix
alignment to compare with; ``tests/test_prefix_alignment.py`` states the
costs on nets built in code and checks them against the explored search.

The heuristic is the marking equation with the end left open: from ``m``
with ``σ[i:]`` still to align, the least ``10,000 × (events left − s)``
over firing counts ``s`` (synchronous moves, per activity no more than the
events of it left) and ``y`` (any transitions, free) with
``m + C (s + y) = m_final``, ``s, y ≥ 0``. Every prefix alignment plus a
run from its end to the final marking is such a solution, so the bound is
admissible; it never drops along a model, silent or synchronous move, which
makes it consistent and lets a successor inherit its parent's LP solution
(minus the move) where the move is in it -- the LP is re-solved only where
the plan is left, as in :mod:`.equation`. An infeasible LP means the final
marking cannot be reached: the state is dropped. At the end of the trace a
marking is a goal once a run to the final marking is actually found (a
search guided by the same LP, memoised per marking).
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Sequence

import numpy as np

from .alignment import AlignmentResult, _moves
from .equation import MarkingEquation, _run, _sync_total
from .net import MOVE_COST, TAU_COST, CompiledNet, Marking

_INF = 1 << 62
_EPS = 1e-6
#: markings one reachability check may visit before the marking equation's feasibility decides
FINISH_CHECK_STATES = 20_000


def prefix_equation_of(net: CompiledNet) -> MarkingEquation:
    """The net's open-end LP (transition columns free), built once per process."""
    found = net.__dict__.get("_prefix_equation")
    if found is None:
        found = MarkingEquation(net)
        n_t = len(net.labels)
        found._highs.changeColsCost(n_t, np.arange(n_t, dtype=np.int32), np.zeros(n_t))
        net.__dict__["_prefix_equation"] = found
    return found


def can_finish(net: CompiledNet, m: Marking, *, deadline: float | None = None) -> bool:
    """Whether the final marking is reachable from ``m`` (a depth-first search guided by the LP, memoised).

    Past :data:`FINISH_CHECK_STATES` markings (or ``deadline``) without an
    answer, the marking equation's feasibility decides.
    """
    memo: dict[Marking, bool] = net.__dict__.setdefault("_can_finish", {})
    found = memo.get(m)
    if found is not None:
        return found
    if net._tau_dist is not None:  # explored: exact
        return memo.setdefault(m, m in net._tau_dist)
    me = prefix_equation_of(net)
    zeros = np.zeros(len(me.activities))
    seen: set[Marking] = set()
    path: list[Marking] = []

    def feasible(x: Marking) -> tuple[bool, np.ndarray | None]:
        h, vec = me.solve(x, zeros, 0)
        return h < _INF, vec

    ok, vec = feasible(m)
    if not ok:
        memo[m] = False
        return False
    stack = [(m, vec)]
    answer = None
    while stack:
        x, vec = stack.pop()
        if x == net.final or memo.get(x):
            answer = True
            break
        if x in seen:
            continue
        seen.add(x)
        path.append(x)
        if len(seen) > FINISH_CHECK_STATES or (deadline is not None and time.perf_counter() > deadline):
            answer = True  # undecided: the marking equation is feasible from m
            break
        succ = [(t, x2) for t, x2 in net.successors(x) if x2 not in seen and memo.get(x2) is not False]
        # the transitions the LP plan fires last on the stack: they are tried first
        succ.sort(key=lambda tx: vec is not None and vec[tx[0]] >= 1 - _EPS)
        for _t, x2 in succ:
            ok2, vec2 = feasible(x2)
            if ok2:
                stack.append((x2, vec2))
            else:
                memo[x2] = False
    if answer is None:
        for x in seen:  # searched to the end: none of them can finish
            memo[x] = False
        return False
    memo[m] = True
    return True


def align_prefix(net: CompiledNet, trace: Sequence[str], *, deadline: float | None = None,
                 max_states: int = 5_000_000) -> AlignmentResult | None:
    """An optimal prefix alignment of ``trace`` (a running case) against ``net``, or ``None``.

    ``None`` when ``deadline`` (a ``time.perf_counter()`` value) or
    ``max_states`` runs out, or when no marking reachable with the trace's
    events can still reach the final marking.
    """
    me = prefix_equation_of(net)
    n = len(trace)
    cnt = me.counts(trace)
    col = {a: k for k, a in enumerate(me.activities)}
    ev_col = [col.get(a, -1) for a in trace]
    labels = net.labels
    sync_col = me.sync_col
    # events of activities the model lacks are log moves whatever happens: added outside the LP, so that the
    # LP's memo (per marking and activity counts) holds the same value for every trace
    known = cnt.sum(axis=1).astype(np.int64)
    unknown = [MOVE_COST * int(n - i - known[i]) for i in range(n + 1)]

    def bound(m: Marking, i: int) -> tuple[int, np.ndarray | None]:
        h, vec = me.solve(m, cnt[i], int(known[i]))
        return (h if h >= _INF else h + unknown[i]), vec

    start = (net.initial, 0)
    h0, v0 = bound(net.initial, 0)
    if h0 >= _INF:
        return None
    best: dict[tuple[Marking, int], int] = {start: 0}
    info: dict[tuple[Marking, int], tuple[int, np.ndarray | None]] = {start: (h0, v0)}
    parent: dict[tuple[Marking, int], tuple[tuple[Marking, int], int, int]] = {}
    heap: list[tuple[int, int, int, Marking, int]] = [(h0, 0, 0, net.initial, 0)]
    closed: set[tuple[Marking, int]] = set()
    tie = 0
    popped = 0

    def push(state, new, g2: int, kind: int, t: int, h_new: int, v_new) -> None:  # noqa: ANN001
        nonlocal tie
        old = best.get(new)
        if old is not None and g2 >= old:
            return
        closed.discard(new)
        best[new] = g2
        parent[new] = (state, kind, t)
        known = info.get(new)
        if known is None or (known[1] is None and (v_new is not None or h_new > known[0])):
            info[new] = known = (h_new, v_new)
        tie += 1
        heapq.heappush(heap, (g2 + known[0], -new[1], tie, new[0], new[1]))

    while heap:
        f, _neg_i, _tie, m, i = heapq.heappop(heap)
        state = (m, i)
        if state in closed:
            continue
        g = best[state]
        h, vec = info[state]
        if f > g + h:
            continue  # outdated entry
        if vec is None:  # an inherited lower bound: solve the state's own LP now
            h2, vec = bound(m, i)
            info[state] = (max(h, h2), vec)
            if h2 >= _INF:
                closed.add(state)
                continue
            if h2 > h:
                tie += 1
                heapq.heappush(heap, (g + h2, -i, tie, m, i))
                continue
        closed.add(state)
        if i == n:
            if can_finish(net, m, deadline=deadline):
                return AlignmentResult(moves=_moves(parent, state, trace, net), cost=g, visited=len(parent),
                                       run=tuple(_run(parent, state)))
            continue  # stuck: nothing after it can finish either
        popped += 1
        if popped & 63 == 0:
            if deadline is not None and time.perf_counter() > deadline:
                return None
            if popped > max_states:
                return None
        h = info[state][0]
        k = ev_col[i]
        covered = vec is not None and (k < 0 or cnt[i, k] - _sync_total(vec, me, trace[i]) >= 1 - _EPS)
        push(state, (m, i + 1), g + MOVE_COST, 0, -1, h - MOVE_COST if covered else max(0, h - MOVE_COST),
             vec if covered else None)
        ev = trace[i]
        for t, m2 in net.successors(m):
            lbl = labels[t]
            c = TAU_COST if lbl is None else MOVE_COST
            # the bound never drops along a model move: its own firing is free in the LP (y)
            if vec is not None and vec[t] >= 1 - _EPS:
                v2 = vec.copy()
                v2[t] -= 1
                push(state, (m2, i), g + c, 3 if lbl is None else 2, t, h, v2)
            else:
                push(state, (m2, i), g + c, 3 if lbl is None else 2, t, h, None)
            if lbl is not None and lbl == ev:
                sc = sync_col[t]
                if vec is not None and vec[sc] >= 1 - _EPS:
                    v2 = vec.copy()
                    v2[sc] -= 1
                    push(state, (m2, i + 1), g, 1, t, h, v2)
                else:
                    push(state, (m2, i + 1), g, 1, t, h, None)
    return None
