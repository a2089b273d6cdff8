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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

#: pm4py's standard alignment costs
MOVE_COST = 10_000
TAU_COST = 1
SYNC_COST = 0

Marking = tuple[int, ...]
MoveKind = Literal["sync", "log", "model", "tau"]


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class AlignmentResult:
    """An optimal alignment: its moves and cost, as pm4py counts them."""

    moves: tuple[Move, ...]
    cost: int
    visited: int


@dataclass
class CompiledNet:
    """A Petri net as small integer tables: what :func:`align` searches.

    Build it with :meth:`from_pm4py` (from ``net, im, fm``) or
    :meth:`from_arcs`. It pickles cheaply, so worker processes get it once.
    """

    n_places: int
    names: tuple[str, ...]
    labels: tuple[str | None, ...]
    pre: tuple[tuple[tuple[int, int], ...], ...]
    post: tuple[tuple[tuple[int, int], ...], ...]
    initial: Marking
    final: Marking
    #: for each place: transitions that consume from it (structural successors)
    consumers: tuple[tuple[int, ...], ...] = ()
    _succ: dict[Marking, tuple[tuple[int, Marking], ...]] = field(default_factory=dict, repr=False)
    _reach: dict[Marking, frozenset[str]] = field(default_factory=dict, repr=False)
    _closure: dict[Marking, dict[Marking, int]] = field(default_factory=dict, repr=False)
    _sync: dict[tuple[Marking, str], list[tuple[int, Marking, int]]] = field(default_factory=dict, repr=False)
    _visible: dict[Marking, frozenset[str]] = field(default_factory=dict, repr=False)
    #: exact lower bound of the silent cost from a marking to the final one (state space explored)
    _tau_dist: dict[Marking, int] | None = field(default=None, repr=False)
    #: state-space size once explored (``None`` when it was too large to explore)
    n_markings: int | None = None

    def __post_init__(self) -> None:
        if not self.consumers:
            cons: list[list[int]] = [[] for _ in range(self.n_places)]
            for t, arcs in enumerate(self.pre):
                for p, _w in arcs:
                    cons[p].append(t)
            self.consumers = tuple(tuple(c) for c in cons)

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_arcs(
        cls,
        *,
        places: int,
        transitions: Sequence[tuple[str, str | None, Iterable[tuple[int, int]], Iterable[tuple[int, int]]]],
        initial: Mapping[int, int],
        final: Mapping[int, int],
    ) -> CompiledNet:
        """From ``(name, label or None for tau, pre-arcs, post-arcs)`` with ``(place, weight)`` arcs."""
        def marking(m: Mapping[int, int]) -> Marking:
            out = [0] * places
            for p, n in m.items():
                out[p] = n
            return tuple(out)

        return cls(
            n_places=places,
            names=tuple(t[0] for t in transitions),
            labels=tuple(t[1] for t in transitions),
            pre=tuple(tuple(t[2]) for t in transitions),
            post=tuple(tuple(t[3]) for t in transitions),
            initial=marking(initial),
            final=marking(final),
        )

    @classmethod
    def from_pm4py(cls, net: Any, initial_marking: Any, final_marking: Any) -> CompiledNet:
        """From pm4py's ``PetriNet, Marking, Marking`` (transition order: by name, deterministic)."""
        places = sorted(net.places, key=lambda p: str(p.name))
        index = {p: i for i, p in enumerate(places)}
        transitions = []
        for t in sorted(net.transitions, key=lambda t: str(t.name)):
            pre = tuple(sorted((index[a.source], int(a.weight)) for a in t.in_arcs))
            post = tuple(sorted((index[a.target], int(a.weight)) for a in t.out_arcs))
            transitions.append((str(t.name), t.label, pre, post))
        return cls.from_arcs(
            places=len(places),
            transitions=transitions,
            initial={index[p]: int(n) for p, n in initial_marking.items()},
            final={index[p]: int(n) for p, n in final_marking.items()},
        )

    @property
    def visible_labels(self) -> frozenset[str]:
        return frozenset(lbl for lbl in self.labels if lbl is not None)

    # -- state space, memoised across traces
    def successors(self, m: Marking) -> tuple[tuple[int, Marking], ...]:
        """Enabled transitions of ``m`` and the markings they lead to."""
        found = self._succ.get(m)
        if found is not None:
            return found
        candidates: set[int] = set()
        for p, n in enumerate(m):
            if n:
                candidates.update(self.consumers[p])
        out = []
        for t in sorted(candidates):
            if all(m[p] >= w for p, w in self.pre[t]):
                new = list(m)
                for p, w in self.pre[t]:
                    new[p] -= w
                for p, w in self.post[t]:
                    new[p] += w
                out.append((t, tuple(new)))
        found = tuple(out)
        self._succ[m] = found
        return found

    @property
    def explored(self) -> bool:
        """Whether :meth:`explore` enumerated the whole state space."""
        return self._tau_dist is not None

    def explore(self, *, max_markings: int = 200_000, deadline: float | None = None) -> bool:
        """Explore the reachable state space once, for a sharper search heuristic.

        Afterwards :meth:`reachable_labels` is exact and :meth:`tau_distance`
        is the least silent cost to the final marking (``None``: the final
        marking cannot be reached from there). Returns ``False`` (and keeps the
        structural approximations) when there are more than ``max_markings``
        markings, e.g. for unbounded nets, or when ``deadline`` (a
        ``time.perf_counter()`` value) passes first.
        """
        if self._tau_dist is not None:
            return True
        order = [self.initial]
        seen = {self.initial}
        k = 0
        while k < len(order):
            if deadline is not None and k & 1023 == 0 and time.perf_counter() > deadline:
                return False
            for _t, m2 in self.successors(order[k]):
                if m2 not in seen:
                    if len(seen) >= max_markings:
                        return False
                    seen.add(m2)
                    order.append(m2)
            k += 1
        # labels reachable from each marking: fixpoint over the reverse graph
        preds: dict[Marking, list[Marking]] = {m: [] for m in order}
        own: dict[Marking, frozenset[str]] = {}
        for m in order:
            succ = self._succ[m]
            own[m] = frozenset(self.labels[t] for t, _ in succ if self.labels[t] is not None)
            for _t, m2 in succ:
                preds[m2].append(m)
        reach = dict(own)
        work = list(order)
        queued = set(order)
        while work:
            m = work.pop()
            queued.discard(m)
            for p in preds[m]:
                merged = reach[p] | reach[m]
                if merged != reach[p]:
                    reach[p] = merged
                    if p not in queued:
                        queued.add(p)
                        work.append(p)
        # silent cost to the final marking with visible steps free: backward Dijkstra
        back: dict[Marking, list[tuple[Marking, int]]] = {m: [] for m in order}
        for m in order:
            for t, m2 in self._succ[m]:
                back[m2].append((m, TAU_COST if self.labels[t] is None else 0))
        dist: dict[Marking, int] = {}
        if self.final in back:
            heap = [(0, 0, self.final)]
            tie = 0
            while heap:
                d, _tie, m = heapq.heappop(heap)
                if m in dist:
                    continue
                dist[m] = d
                for p, c in back[m]:
                    if p not in dist:
                        tie += 1
                        heapq.heappush(heap, (d + c, tie, p))
        self._reach = reach
        self._tau_dist = dist
        self.n_markings = len(order)
        return True

    def end_labels(self) -> frozenset[str] | None:
        """Activities a complete run of the model can end with (None when the state space was not explored).

        A label ends a run when one of its transitions leads to a marking
        from which silent steps alone reach the final marking.
        """
        if self._tau_dist is None:
            return None
        back: dict[Marking, list[Marking]] = {}
        for m, succ in self._succ.items():
            for t, m2 in succ:
                if self.labels[t] is None:
                    back.setdefault(m2, []).append(m)
        silent_final = {self.final}
        stack = [self.final]
        while stack:
            m = stack.pop()
            for p in back.get(m, ()):
                if p not in silent_final:
                    silent_final.add(p)
                    stack.append(p)
        return frozenset(self.labels[t] for m, succ in self._succ.items() for t, m2 in succ  # type: ignore[misc]
                         if self.labels[t] is not None and m2 in silent_final)

    def silent_closure(self, m: Marking) -> dict[Marking, int]:
        """Markings reachable from ``m`` by silent steps only, with their least silent cost (memoised)."""
        found = self._closure.get(m)
        if found is not None:
            return found
        dist: dict[Marking, int] = {}
        heap = [(0, 0, m)]
        tie = 0
        labels = self.labels
        while heap:
            d, _tie, x = heapq.heappop(heap)
            if x in dist:
                continue
            dist[x] = d
            for t, x2 in self.successors(x):
                if labels[t] is None and x2 not in dist:
                    tie += 1
                    heapq.heappush(heap, (d + TAU_COST, tie, x2))
        self._closure[m] = dist
        return dist

    def sync_steps(self, m: Marking, label: str) -> list[tuple[int, Marking, int]]:
        """``(transition, marking after, least silent cost before it)`` for each way to do ``label`` from ``m``."""
        key = (m, label)
        found = self._sync.get(key)
        if found is not None:
            return found
        best: dict[tuple[int, Marking], int] = {}
        for x, d in self.silent_closure(m).items():
            for t, x2 in self.successors(x):
                if self.labels[t] == label and d < best.get((t, x2), 1 << 62):
                    best[(t, x2)] = d
        found = sorted(((t, x2, d) for (t, x2), d in best.items()), key=lambda e: (e[2], e[0]))
        self._sync[key] = found
        return found

    def visible_after(self, m: Marking) -> frozenset[str]:
        """What the model offers next in ``m``: labels of visible transitions enabled there or after silent steps.

        Exactly pm4py's ``get_visible_transitions_eventually_enabled_by_marking``,
        which ETC precision is defined with, including its shortcut: the
        exploration keeps one marking per transition (the last one it was
        enabled in), in transition-name order, so in some nets it does not see
        the whole silent closure. Transitions are indexed in name order (see
        :meth:`from_pm4py`), so the walk here is pm4py's step for step. Memoised.
        """
        found = self._visible.get(m)
        if found is not None:
            return found
        labels = self.labels
        queue = [t for t, _m2 in self.successors(m)]
        at: dict[int, Marking] = dict.fromkeys(queue, m)
        seen: set[tuple[int, Marking]] = set()
        out: set[str] = set()
        i = 0
        while i < len(queue):
            t = queue[i]
            x = at[t]
            i += 1
            if (t, x) in seen:
                continue
            seen.add((t, x))
            lbl = labels[t]
            if lbl is not None:
                out.add(lbl)
                continue
            for t1, x2 in self.successors(x):
                if t1 == t:
                    for t2, _m3 in self.successors(x2):
                        queue.append(t2)
                        at[t2] = x2
                    break
        found = frozenset(out)
        self._visible[m] = found
        return found

    def tau_distance(self, m: Marking) -> int | None:
        """Least silent cost from ``m`` to the final marking (0 when not explored; None if unreachable)."""
        if self._tau_dist is None:
            return 0
        return self._tau_dist.get(m)

    def reachable_labels(self, m: Marking) -> frozenset[str]:
        """Labels of transitions structurally reachable from the marked places (an over-approximation)."""
        found = self._reach.get(m)
        if found is not None:
            return found
        seen_p = {p for p, n in enumerate(m) if n}
        seen_t: set[int] = set()
        stack = list(seen_p)
        while stack:
            p = stack.pop()
            for t in self.consumers[p]:
                if t in seen_t:
                    continue
                seen_t.add(t)
                for q, _w in self.post[t]:
                    if q not in seen_p:
                        seen_p.add(q)
                        stack.append(q)
        found = frozenset(self.labels[t] for t in seen_t if self.labels[t] is not None)
        self._reach[m] = found
        return found


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
    h_memo: dict[tuple[frozenset[str], int], int] = {}
    tau_dist = net._tau_dist
    unreachable = 1 << 60

    def heuristic(m: Marking, i: int) -> int:
        reach = net.reachable_labels(m)
        key = (reach, i)
        h = h_memo.get(key)
        if h is None:
            h = MOVE_COST * sum(c for lbl, c in suffix[i].items() if lbl not in reach)
            h_memo[key] = h
        if tau_dist is not None:
            d = tau_dist.get(m)
            if d is None:
                return unreachable
            return h if prefix else h + d
        return h

    labels = net.labels
    final = net.final
    start = (net.initial, 0)
    best: dict[tuple[Any, int], int] = {start: 0}
    parent: dict[tuple[Any, int], tuple[tuple[Any, int], int, int]] = {}
    heap: list[tuple[int, int, int, Any, int]] = [(heuristic(net.initial, 0), 0, 0, net.initial, 0)]
    closed: set[tuple[Any, int]] = set()
    counter = 0
    visited = 0

    def push(state: tuple[Any, int], new: tuple[Any, int], g2: int, kind: int, t: int, h: int) -> None:
        nonlocal counter
        old = best.get(new)
        if old is not None and g2 >= old:
            return
        if new in closed:  # an admissible, inconsistent heuristic may reopen a state
            closed.discard(new)
        best[new] = g2
        parent[new] = (state, kind, t)
        counter += 1
        heapq.heappush(heap, (g2 + h, -new[1], counter, new[0], new[1]))

    while heap:
        f, _neg_i, _c, m, i = heapq.heappop(heap)
        state = (m, i)
        if state in closed or f >= unreachable:
            continue
        g = best[state]
        closed.add(state)
        if i == n and (m == final or (prefix and (tau_dist is None or m in tau_dist))):
            return AlignmentResult(moves=_moves(parent, state, trace, net), cost=g, visited=visited)
        visited += 1
        if visited & 255 == 0:
            if deadline is not None and time.perf_counter() > deadline:
                return None
            if visited > max_states:
                return None
        ev = trace[i] if i < n else None
        if i < n:
            push(state, (m, i + 1), g + MOVE_COST, 0, -1, heuristic(m, i + 1))
        for t, m2 in net.successors(m):
            lbl = labels[t]
            h2 = heuristic(m2, i)
            if lbl is None:
                push(state, (m2, i), g + TAU_COST, 3, t, h2)
            else:
                if lbl == ev:
                    push(state, (m2, i + 1), g + SYNC_COST, 1, t, heuristic(m2, i + 1))
                push(state, (m2, i), g + MOVE_COST, 2, t, h2)
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
