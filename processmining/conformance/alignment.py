"""Optimal alignments of one trace against a Petri net: A* over (marking, trace position).

Pure Python with no pandas and no pm4py at import time, so that worker
processes start in milliseconds. The costs are pm4py's standard ones
(``pm4py.objects.petri_net.utils.align_utils``): synchronous move 0, log
move 10,000, visible model move 10,000, invisible (tau) model move 1. The
optimal cost of an alignment is unique, so the costs -- and with them
pm4py's trace and log fitness -- are identical to pm4py's, while the search
is much faster on BPMN-derived nets full of silent transitions:

* the successors of a marking are computed once and memoised for every
  variant (the model's state space is shared by all traces); when the
  state space is small enough it is explored once and gives an exact
  "labels still reachable" set and silent-cost lower bound per marking;
* the heuristic counts the remaining events whose label can no longer be
  reached from the current marking (each must be a log move) -- admissible,
  cheap, and sharp exactly where deviations are;
* the search has a wall-clock budget and gives up cleanly (``None``).

>>> net = CompiledNet.from_arcs(
...     places=2, transitions=[("t_a", "A", ((0, 1),), ((1, 1),))], initial={0: 1}, final={1: 1})
>>> result = align(net, ("A", "B"))
>>> result.cost, [(m.kind, m.label) for m in result.moves]
(10000, [('sync', 'A'), ('log', 'B')])
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .equation import align_equation, available, equation_of
from .net import MOVE_COST, SYNC_COST, TAU_COST, CompiledNet, Marking
from .splitpoints import fitting_run

#: state spaces above this size (or not explored) are searched with the (extended) marking-equation heuristic;
#: on pm4py's net of receipt.bpmn (2,034 markings, silent steps everywhere) it was 6.8x faster than the
#: explored search (30 sampled variants, the same costs); a22.pnml (149 markings) stays explored
EQUATION_ABOVE_MARKINGS = 1_000


def uses_equation(net: CompiledNet) -> bool:
    """Whether :func:`align` searches ``net`` with the marking-equation LP (large or unexplored state spaces)."""
    return (net.n_markings is None or net.n_markings > EQUATION_ABOVE_MARKINGS) and available()

__all__ = ["MOVE_COST", "SYNC_COST", "TAU_COST", "AlignmentResult", "CompiledNet", "Marking", "Move", "align"]

MoveKind = Literal["sync", "log", "model", "tau"]


@dataclass(frozen=True, slots=True)
class Move:
    """One step of an alignment.

    ``kind``: ``sync`` (event and model agree), ``log`` (event the model cannot
    do here), ``model`` (visible step the model requires but the trace lacks),
    ``tau`` (silent model step, e.g. a gateway). ``position`` is the 0-based
    index of the event in the trace for ``sync``/``log`` moves, else the number
    of events consumed so far. ``transition`` is the Petri net transition name.
    """

    kind: MoveKind
    label: str | None
    position: int
    transition: str | None = None


@dataclass(frozen=True, slots=True)
class AlignmentResult:
    """An optimal alignment: its moves and cost, as pm4py counts them."""

    moves: tuple[Move, ...]
    cost: int
    visited: int
    #: every transition of the model run (silent ones too) in order, when the search kept them
    #: (a tuple; an ``array('I')`` in what :func:`~.engine.align_variants` keeps)
    run: Sequence[int] | None = None


def align(net: CompiledNet, trace: Sequence[str], *, timeout_s: float | None = None,
          max_states: int = 5_000_000, prefix: bool = False) -> AlignmentResult | None:
    """An optimal alignment of ``trace`` (a sequence of activity labels) against ``net``.

    ``moves`` lists the synchronous, log and visible model moves; silent
    moves only count in ``cost`` (1 each, as in pm4py).

    ``prefix=True`` aligns a running case: the alignment may end in any
    marking from which the final marking is still reachable (no moves are
    demanded for the part of the process that has not happened yet).

    Returns ``None`` when the time budget or the state budget runs out, or
    when the final marking cannot be reached at all.
    """
    n = len(trace)
    deadline = None if timeout_s is None else time.perf_counter() + timeout_s
    if not prefix and uses_equation(net):
        fit = fitting_run(equation_of(net), trace, deadline=deadline)
        if fit is not None:  # a fitting run the extended marking equation proves optimal: one LP
            cost, run, positions = fit
            moves = tuple(Move("sync", trace[k], k, net.names[run[j]]) for k, j in enumerate(positions))
            return AlignmentResult(moves=moves, cost=cost, visited=len(run), run=tuple(run))
        found = align_equation(net, trace, deadline=deadline, max_states=max_states)
        if found is None:
            return None
        parent, goal, cost, run = found
        return AlignmentResult(moves=_moves(parent, goal, trace, net), cost=cost, visited=len(parent), run=tuple(run))
    if prefix and uses_equation(net):  # running cases on large nets: the open-end marking equation (prefix.py)
        from .prefix import align_prefix

        return align_prefix(net, trace, deadline=deadline, max_states=max_states)
    if n and all(a in net.visible_labels for a in trace):
        fast = _align_fitting(net, trace, prefix=prefix, deadline=deadline)
        if fast is not None:
            return fast
    # suffix label counts for the heuristic: per position, label -> occurrences from there on
    suffix: list[dict[str, int]] = [{} for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        d = dict(suffix[i + 1])
        d[trace[i]] = d.get(trace[i], 0) + 1
        suffix[i] = d
    h_memo: dict[tuple[Marking, int], int] = {}
    log_part: dict[tuple[frozenset[str], int], int] = {}
    model_part: dict[tuple[frozenset[str], int], int] = {}
    tau_dist = net._tau_dist
    must = net._must
    unreachable = 1 << 60

    def heuristic(m: Marking, i: int) -> int:
        # events whose label the model can no longer do are log moves; labels every run to the end
        # fires that the rest of the trace lacks are model moves (not for running cases: their end is open)
        if m is None:
            return 0
        key = (m, i)
        h = h_memo.get(key)
        if h is not None:
            return h
        if tau_dist is not None and m not in tau_dist:
            h = unreachable
        else:
            reach = net.reachable_labels(m)
            h = log_part.get((reach, i))
            if h is None:
                h = log_part[(reach, i)] = MOVE_COST * sum(c for lbl, c in suffix[i].items() if lbl not in reach)
            if not prefix:
                needed = must.get(m)
                if needed:
                    h2 = model_part.get((needed, i))
                    if h2 is None:
                        rest = suffix[i]
                        h2 = model_part[(needed, i)] = MOVE_COST * sum(1 for lbl in needed if lbl not in rest)
                    h += h2
                if tau_dist is not None:
                    h += tau_dist[m]
        h_memo[key] = h
        return h

    final = net.final
    labels = net.labels
    end = (None, n)  # the goal: all events consumed and (unless prefix) the final marking reached
    start = (net.initial, 0)
    best: dict[tuple[Any, int], int] = {start: 0}
    parent: dict[tuple[Any, int], tuple[tuple[Any, int], int, int]] = {}
    heap: list[tuple[int, int, int, Any, int]] = [(heuristic(net.initial, 0), 0, 0, net.initial, 0)]
    closed: set[tuple[Any, int]] = set()
    counter = 0
    visited = 0

    def push(state: tuple[Any, int], new: tuple[Any, int], g2: int, kind: int, t: int) -> None:
        nonlocal counter
        old = best.get(new)
        if old is not None and g2 >= old:
            return
        if new in closed:  # an admissible, inconsistent heuristic may reopen a state
            closed.discard(new)
        best[new] = g2
        parent[new] = (state, kind, t)
        counter += 1
        heapq.heappush(heap, (g2 + heuristic(new[0], new[1]), -new[1], counter, new[0], new[1]))

    # Silent steps are folded into the visible ones (CompiledNet.visible_steps): a state is a marking
    # right after a visible step or a log move, never one in the middle of a run of silent steps, so the
    # interleavings of concurrent silent steps are never enumerated. Log moves commute with silent
    # steps, so every optimal alignment has an equally cheap folded form.
    while heap:
        f, _neg_i, _c, m, i = heapq.heappop(heap)
        state = (m, i)
        if state in closed or f >= unreachable:
            continue
        g = best[state]
        closed.add(state)
        if m is None:
            return AlignmentResult(moves=_moves(parent, state, trace, net), cost=g, visited=visited)
        visited += 1
        if visited & 255 == 0:
            if deadline is not None and time.perf_counter() > deadline:
                return None
            if visited > max_states:
                return None
        if i == n:
            if prefix:
                if tau_dist is None or m in tau_dist:
                    push(state, end, g, 3, -1)
            else:
                fc = net.silent_closure(m).get(final)
                if fc is not None:
                    push(state, end, g + fc, 3, -1)
        ev = trace[i] if i < n else None
        if i < n:
            push(state, (m, i + 1), g + MOVE_COST, 0, -1)
        for t, m2, d in net.visible_steps(m):
            if labels[t] == ev:
                push(state, (m2, i + 1), g + d + SYNC_COST, 1, t)
            push(state, (m2, i), g + d + MOVE_COST, 2, t)
    return None


def _align_fitting(net: CompiledNet, trace: Sequence[str], *, prefix: bool,
                   deadline: float | None) -> AlignmentResult | None:
    """The cheapest alignment made of synchronous and silent moves only, if the trace fits at all.

    Such an alignment costs only its silent moves; any alignment with a log
    or visible model move costs at least 10,000, so when one exists below
    that it is optimal. Silent steps are folded into each synchronous step
    (:meth:`CompiledNet.sync_steps`), so the search visits one state per
    marking and position, never the interleavings of silent steps.
    """
    n = len(trace)
    final = net.final
    tau_dist = net._tau_dist
    best: dict[tuple[Marking, int], int] = {(net.initial, 0): 0}
    parent: dict[tuple[Marking, int], tuple[tuple[Marking, int], int]] = {}
    heap: list[tuple[int, int, int, Marking]] = [(0, 0, 0, net.initial)]
    done: set[tuple[Marking, int]] = set()
    goal_cost = None
    goal_state = None
    tie = 0
    while heap:
        g, _neg, i, m = heapq.heappop(heap)
        state = (m, i)
        if state in done or g > best.get(state, 1 << 62):
            continue
        done.add(state)
        if goal_cost is not None and g >= goal_cost:
            break
        if deadline is not None and len(done) & 255 == 0 and time.perf_counter() > deadline:
            return None
        if i == n:
            if prefix:
                if tau_dist is None or m in tau_dist:
                    goal_cost, goal_state = g, state
                    break
                continue
            fc = net.silent_closure(m).get(final)
            if fc is not None and (goal_cost is None or g + fc < goal_cost):
                goal_cost, goal_state = g + fc, state
            continue
        for t, m2, c in net.sync_steps(m, trace[i]):
            new = (m2, i + 1)
            g2 = g + c
            if g2 < best.get(new, 1 << 62):
                best[new] = g2
                parent[new] = (state, t)
                tie += 1
                heapq.heappush(heap, (g2, -(i + 1), i + 1, m2))
    if goal_cost is None or goal_cost >= MOVE_COST:
        return None
    moves: list[Move] = []
    state = goal_state
    while state in parent:
        prev, t = parent[state]
        moves.append(Move("sync", net.labels[t], prev[1], net.names[t]))
        state = prev
    moves.reverse()
    return AlignmentResult(moves=tuple(moves), cost=goal_cost, visited=len(done))


_KINDS: tuple[MoveKind, ...] = ("log", "sync", "model", "tau")


def _moves(parent, state, trace, net: CompiledNet) -> tuple[Move, ...]:  # noqa: ANN001
    out: list[Move] = []
    while state in parent:
        prev, kind, t = parent[state]
        i = prev[1]
        k = _KINDS[kind]
        if k == "log":
            out.append(Move("log", trace[i], i))
        elif k != "tau":
            out.append(Move(k, net.labels[t], i, net.names[t]))
        state = prev
    out.reverse()
    return tuple(out)


# ------------------------------------------------------------ process-pool workers
_WORKER_NET: CompiledNet | None = None


def _init_worker(net: CompiledNet) -> None:
    global _WORKER_NET  # noqa: PLW0603 - one read-only net per worker process
    _WORKER_NET = net


def _align_batch(
    batch: Sequence[tuple[int, tuple[str, ...], bool]], timeout_s: float, deadline: float | None = None,
) -> list[tuple[int, AlignmentResult | None]]:
    """Align a batch in a worker; ``deadline`` is a ``time.perf_counter()`` value (one clock per machine)."""
    if _WORKER_NET is None:
        raise RuntimeError("alignment worker used before its net was set")
    out: list[tuple[int, AlignmentResult | None]] = []
    for vid, trace, pref in batch:
        budget = timeout_s if deadline is None else min(timeout_s, deadline - time.perf_counter())
        out.append((vid, align(_WORKER_NET, trace, timeout_s=budget, prefix=pref) if budget > 0 else None))
    return out
