"""A Petri net as small integer tables, with its state space memoised across traces.

What alignments, precision and the traversal counts search. Pure Python,
no pandas and no pm4py at import time, so that worker processes start in
milliseconds. Transitions are indexed in name order (pm4py walks them in
that order too, see :meth:`CompiledNet.visible_after`).
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: pm4py's standard alignment costs
MOVE_COST = 10_000
TAU_COST = 1
SYNC_COST = 0

Marking = tuple[int, ...]


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
    #: one tuple per distinct marking reached: a successor equal to a known marking is that object (bpic2019 p2p's
    #: ETC precision: 19,844 marking tuples, 13.5 MB, where it made 67,609, 25 MB)
    _canon: dict[Marking, Marking] = field(default_factory=dict, repr=False)
    _reach: dict[Marking, frozenset[str]] = field(default_factory=dict, repr=False)
    _closure: dict[Marking, dict[Marking, int]] = field(default_factory=dict, repr=False)
    _sync: dict[tuple[Marking, str], list[tuple[int, Marking, int]]] = field(default_factory=dict, repr=False)
    _leads: dict[str, frozenset[int]] = field(default_factory=dict, repr=False)
    _visible: dict[Marking, frozenset[str]] = field(default_factory=dict, repr=False)
    _steps: dict[Marking, tuple[tuple[int, Marking, int], ...]] = field(default_factory=dict, repr=False)
    #: exact lower bound of the silent cost from a marking to the final one (state space explored)
    _tau_dist: dict[Marking, int] | None = field(default=None, repr=False)
    #: per marking: labels every run from it to the final marking fires (state space explored)
    _must: dict[Marking, frozenset[str]] = field(default_factory=dict, repr=False)
    #: state-space size once explored (``None`` when it was too large to explore)
    n_markings: int | None = None

    def __post_init__(self) -> None:
        if not self.consumers:
            cons: list[list[int]] = [[] for _ in range(self.n_places)]
            for t, arcs in enumerate(self.pre):
                for p, _w in arcs:
                    cons[p].append(t)
            self.consumers = tuple(tuple(c) for c in cons)

    #: solvers of one process, each referring back to the net: each worker builds its own
    _PER_PROCESS = ("_equation", "_prefix_equation", "_token_step")

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for key in self._PER_PROCESS:
            state.pop(key, None)
        return state

    @property
    def cached_markings(self) -> int:
        """Distinct markings the successor cache holds (one tuple each)."""
        return len(self._canon)

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
        found = self.__dict__.get("_labels_set")
        if found is None:
            found = self.__dict__["_labels_set"] = frozenset(lbl for lbl in self.labels if lbl is not None)
        return found

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
        canon = self._canon
        for t in sorted(candidates):
            if all(m[p] >= w for p, w in self.pre[t]):
                new = list(m)
                for p, w in self.pre[t]:
                    new[p] -= w
                for p, w in self.post[t]:
                    new[p] += w
                m2 = tuple(new)
                out.append((t, canon.setdefault(m2, m2)))
        found = tuple(out)
        self._succ[canon.setdefault(m, m)] = found
        return found

    @property
    def explored(self) -> bool:
        """Whether :meth:`explore` enumerated the whole state space."""
        return self._tau_dist is not None

    def explore(self, *, max_markings: int = 5_000, deadline: float | None = None) -> bool:
        """Explore the reachable state space once, for a sharper search heuristic.

        Afterwards :meth:`reachable_labels` is exact and :meth:`tau_distance`
        is the least silent cost to the final marking (``None``: the final
        marking cannot be reached from there). Returns ``False`` (and keeps the
        structural approximations) when there are more than ``max_markings``
        markings, e.g. for unbounded nets, or when ``deadline`` (a
        ``time.perf_counter()`` value) passes first. Larger state spaces are
        aligned with the marking-equation heuristic (:mod:`.equation`), which
        needs no exploration.
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
        if len(order) <= 50_000:
            self._must = self._mandatory_labels(dist)
        return True

    def _mandatory_labels(self, to_final: Mapping[Marking, int]) -> dict[Marking, frozenset[str]]:
        """Labels on every run from each marking to the final one: greatest fixpoint over the state space.

        A label in this set that the rest of a trace lacks costs at least one
        visible model move: a sharper, still admissible, alignment heuristic.
        """
        labels = self.labels
        alive = [m for m in to_final if m != self.final]
        everything = self.visible_labels
        must: dict[Marking, frozenset[str]] = dict.fromkeys(alive, everything)
        must[self.final] = frozenset()
        changed = True
        while changed:
            changed = False
            for m in alive:
                acc = None
                for t, m2 in self._succ[m]:
                    after = must.get(m2)
                    if after is None:
                        continue  # the final marking cannot be reached from there
                    lbl = labels[t]
                    term = after if lbl is None or lbl in after else after | {lbl}
                    acc = term if acc is None else acc & term
                    if not acc:
                        break
                acc = acc or frozenset()
                if acc != must[m]:
                    must[m] = acc
                    changed = True
        return must

    def mandatory_labels(self, m: Marking) -> frozenset[str]:
        """Labels every run from ``m`` to the final marking fires (empty when unknown)."""
        return self._must.get(m, frozenset())

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

    def silent_walk(self, start: Marking, parent: dict[Marking, tuple[Marking, int] | None], *,
                    useful: frozenset[int] | None = None, max_steps: int | None = None,
                    max_markings: int | None = None) -> Iterator[tuple[Marking, int]]:
        """Breadth first over silent steps from ``start``: each marking reached with its number of silent steps,
        cheapest first (each step costs :data:`TAU_COST`, one level per step).

        ``parent`` receives ``marking: (marking before, silent transition)`` (``start: None``) for
        :func:`silent_path`; a marking's successors are taken after the caller has seen it, so stopping at a
        goal walks no further. ``useful``: take only these silent transitions; ``max_steps``: at most this many;
        ``max_markings``: start no new level once ``parent`` holds more markings.
        """
        parent[start] = None
        queue = deque([(start, 0)])
        labels = self.labels
        level = 0
        while queue:
            m, d = queue.popleft()
            if d > level:
                if max_markings is not None and len(parent) > max_markings:
                    return
                level = d
            yield m, d
            if max_steps is not None and d >= max_steps:
                continue
            for t, m2 in self.successors(m):
                if labels[t] is None and m2 not in parent and (useful is None or t in useful):
                    parent[m2] = (m, t)
                    queue.append((m2, d + 1))

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

    def _leading_to(self, label: str) -> frozenset[int]:
        """The silent transitions that can help enable a ``label`` transition: those that put tokens on an input
        place of one, or of another such silent transition (a fixpoint on the net's structure; memoised)."""
        found = self._leads.get(label)
        if found is not None:
            return found
        places = {p for t, lbl in enumerate(self.labels) if lbl == label for p, _w in self.pre[t]}
        silent = [t for t, lbl in enumerate(self.labels) if lbl is None]
        useful: set[int] = set()
        grown = True
        while grown:
            grown = False
            for t in silent:
                if t not in useful and any(p in places for p, _w in self.post[t]):
                    useful.add(t)
                    places.update(p for p, _w in self.pre[t])
                    grown = True
        found = self._leads[label] = frozenset(useful)
        return found

    def sync_layer(self, sources: dict[Marking, int], label: str) -> dict[Marking, int]:
        """``{marking after: least cost}`` of doing ``label`` after silent steps from any of ``sources``.

        ``sources`` maps markings to the cost already paid there; one walk over
        silent steps from all of them at once gives, for each marking reached by
        a ``label`` step, ``min(cost of source + silent cost before the step)``
        without walking the sources' overlapping silent closures once each.

        Only the silent steps that can help enable ``label`` are taken
        (:meth:`_leading_to`). A silent step that cannot puts no token where
        ``label`` or those steps need one, so it can as well fire after
        ``label``: every marking that it would add is reachable from a returned
        one by the same silent steps at the same extra cost. Such markings never
        have the least cost, and whatever follows them follows from the returned
        marking at the same cost, so align-ETC precision is unchanged.
        """
        useful = self._leading_to(label)
        # silent steps cost TAU_COST each: a Dijkstra is a walk level by level (a bucket per cost)
        buckets: dict[int, list[Marking]] = {}
        for m, g in sources.items():
            buckets.setdefault(g, []).append(m)
        seen: set[Marking] = set()
        out: dict[Marking, int] = {}
        labels = self.labels
        d = min(buckets, default=0)
        while buckets:
            frontier = buckets.pop(d, None)
            if frontier:
                after = buckets.setdefault(d + TAU_COST, [])
                for x in frontier:
                    if x in seen:
                        continue
                    seen.add(x)
                    for t, x2 in self.successors(x):
                        lbl = labels[t]
                        if lbl is None:
                            if x2 not in seen and t in useful:
                                after.append(x2)
                        elif lbl == label and x2 not in out:  # levels come cheapest first
                            out[x2] = d
                if not after:
                    del buckets[d + TAU_COST]
            d += 1
        return out

    def visible_steps(self, m: Marking) -> tuple[tuple[int, Marking, int], ...]:
        """``(visible transition, marking after, least silent cost before it)`` for every visible step from ``m``.

        The moves of the tau-folded search: each visible transition that ``m``
        enables directly or after silent steps, once per marking it leads to,
        with the cheapest silent prefix (memoised).
        """
        found = self._steps.get(m)
        if found is not None:
            return found
        best: dict[tuple[int, Marking], int] = {}
        labels = self.labels
        for x, d in self.silent_closure(m).items():
            for t, x2 in self.successors(x):
                if labels[t] is not None and d < best.get((t, x2), 1 << 62):
                    best[(t, x2)] = d
        found = tuple(sorted(((t, x2, d) for (t, x2), d in best.items()), key=lambda e: (e[2], e[0])))
        self._steps[m] = found
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


def silent_path(parent: Mapping[Marking, tuple[Marking, int] | None], m: Marking) -> list[int]:
    """The silent transitions from the start of a :meth:`CompiledNet.silent_walk` to ``m``, in firing order."""
    out: list[int] = []
    step = parent[m]
    while step is not None:
        m, t = step
        out.append(t)
        step = parent[m]
    out.reverse()
    return out
