"""A small Petri-net core for the BPMN conversion: build, reduce, explore.

The conversion builds nets here (plain Python, no pm4py import) and hands
the reduced net to pm4py at the end. Reductions only remove silent
transitions in ways that keep the language (the set of visible traces that
reach the final marking) unchanged; exploration enumerates reachable
markings with a state and time limit, for soundness and token counting.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

Marking = tuple[tuple[int, int], ...]  # sorted (place index, tokens) pairs


@dataclass
class Trans:
    """A transition: ``label`` None means silent. ``element`` is the BPMN element id it stands for.

    ``hits`` and ``flows`` record what one firing means in the BPMN diagram: the elements it
    executes (a task, a gateway passing a token, an event) and the sequence flows it puts a
    token on, with repetitions. Reductions fold a removed silent step's record into the
    transitions that now do its work, so summing the records along a run of the reduced net
    gives the exact element and flow traversals of the BPMN run.
    """

    name: str
    label: str | None
    element: str
    pre: dict[int, int] = field(default_factory=dict)
    post: dict[int, int] = field(default_factory=dict)
    alive: bool = True
    #: kept out of reductions (e.g. terminate end events, checked after conversion)
    keep: bool = False
    hits: tuple[str, ...] = ()
    flows: tuple[str, ...] = ()

    def absorb(self, other: Trans, times: int = 1) -> None:
        """This transition now also does ``times`` firings of ``other`` (a removed silent step)."""
        self.hits += other.hits * times
        self.flows += other.flows * times


@dataclass
class CoreNet:
    places: list[str] = field(default_factory=list)
    place_alive: list[bool] = field(default_factory=list)
    trans: list[Trans] = field(default_factory=list)
    initial: dict[int, int] = field(default_factory=dict)
    final: dict[int, int] = field(default_factory=dict)
    #: element/flow record of silent steps folded into the initial marking (a start event, its flow)
    initial_hits: tuple[str, ...] = ()
    initial_flows: tuple[str, ...] = ()
    #: place -> its complement place (holds a token exactly while the place is empty; see ``complement``)
    guarded: dict[int, int] = field(default_factory=dict)
    #: complement place -> the place it complements
    complement_of: dict[int, int] = field(default_factory=dict)

    def place(self, name: str) -> int:
        self.places.append(f"{name}#{len(self.places)}")
        self.place_alive.append(True)
        return len(self.places) - 1

    def add(self, label: str | None, element: str, pre: Iterable[int] | dict[int, int], post: Iterable[int] | dict[int, int],
            *, hits: tuple[str, ...] = (), flows: tuple[str, ...] = ()) -> Trans:
        """A new transition; arcs to complement places are managed here (callers never name them)."""
        pre_bag = {p: w for p, w in _bag(pre).items() if p not in self.complement_of}
        post_bag = {p: w for p, w in _bag(post).items() if p not in self.complement_of}
        t = Trans(f"t{len(self.trans)}_{element}", label, element, pre_bag, post_bag, hits=hits, flows=flows)
        self._keep_complements(t)
        self.trans.append(t)
        return t

    def complement(self, p: int) -> int:
        """The complement place of ``p`` (created on first use): marked exactly while ``p`` is empty.

        Reading it tests that ``p`` is empty (exact while ``p`` never holds more than one token). Every
        transition that fills ``p`` takes the complement token, every one that empties ``p`` puts it back;
        such transitions are kept out of reductions.
        """
        if p in self.guarded:
            return self.guarded[p]
        c = self.place(f"empty:{self.places[p].split('#')[0]}")
        self.guarded[p] = c
        self.complement_of[c] = p
        if not self.initial.get(p):
            self.initial[c] = 1
        for t in self.trans:
            if t.alive:
                self._keep_complements(t, only=p)
        return c

    def _keep_complements(self, t: Trans, only: int | None = None) -> None:
        for p, c in self.guarded.items():
            if only is not None and p != only:
                continue
            if p in t.post and p not in t.pre:
                t.pre[c] = 1
                t.keep = True
            elif p in t.pre and p not in t.post:
                t.post[c] = 1
                t.keep = True

    def live(self) -> list[Trans]:
        return [t for t in self.trans if t.alive]

    # ------------------------------------------------------------ reduction
    def reduce(self, *, copy_visible: bool = False) -> int:
        """Remove silent transitions where the language (and soundness) is kept; returns how many were removed.

        Rules R1-R4 only fuse places and transitions, so each task keeps exactly one transition
        (pm4py's token replay looks transitions up by label). ``copy_visible`` adds R5/R6, which
        remove more silent transitions by giving a task further transitions: alignments get
        faster, but pm4py's token replay must not be used on such a net.
        """
        removed = 0
        changed = True
        while changed:
            changed = False
            producers, consumers = self._index()
            for t in self.trans:
                if not t.alive or t.label is not None or t.keep:
                    continue
                if self._try_reduce(t, producers, consumers, copy_visible):
                    removed += 1
                    changed = True
                    producers, consumers = self._index()
            removed += self._drop_duplicates()
        return removed

    def _index(self) -> tuple[dict[int, list[Trans]], dict[int, list[Trans]]]:
        producers: dict[int, list[Trans]] = {}
        consumers: dict[int, list[Trans]] = {}
        for t in self.trans:
            if not t.alive:
                continue
            for p in t.post:
                producers.setdefault(p, []).append(t)
            for p in t.pre:
                consumers.setdefault(p, []).append(t)
        return producers, consumers

    def _protected(self, p: int) -> bool:
        return p in self.initial or p in self.final

    def _try_reduce(self, t: Trans, producers, consumers, copy_visible: bool = False) -> bool:
        """Apply the first reduction rule that fits the silent transition ``t``; True when the net changed."""
        single_in = len(t.pre) == 1 and next(iter(t.pre.values())) == 1
        single_out = len(t.post) == 1 and next(iter(t.post.values())) == 1
        if single_in and single_out and self._fuse_places(t, producers, consumers):
            return True
        if single_in and self._into_producer(t, producers, consumers):
            return True
        if single_out and self._into_consumer(t, producers, consumers):
            return True
        return single_in and single_out and copy_visible and self._copy_visible(t, producers, consumers)

    def _fuse_places(self, t: Trans, producers, consumers) -> bool:
        """A silent self-loop goes; R1/R2: ``t`` moves tokens from p to q only, so p and q become one place."""
        p = next(iter(t.pre))
        q = next(iter(t.post))
        if p == q:
            t.alive = False  # a silent self-loop adds no behaviour
            return True
        # R1: p's only consumer is t -> fuse p into q
        if consumers.get(p) == [t] and p not in self.final and q not in self.initial and not self._overlap(p, q):
            # every token put on p is taken by t: its producers (and the initial marking) do t's work
            for u in producers.get(p, []):
                u.absorb(t, u.post[p])
            if p in self.initial:
                self.initial_hits += t.hits * self.initial[p]
                self.initial_flows += t.flows * self.initial[p]
            self._merge_place(p, into=q, producers=producers, consumers=consumers)
            t.alive = False
            return True
        # R2: q's only producer is t -> fuse q into p
        if (
            producers.get(q) == [t]
            and not self._protected(q)
            and p not in self.final
            and not self._overlap(p, q)
        ):
            # every token its consumers take from q was put there by t
            for v in consumers.get(q, []):
                v.absorb(t, v.pre[q])
            self._merge_place(q, into=p, producers=producers, consumers=consumers)
            t.alive = False
            return True
        return False

    def _into_producer(self, t: Trans, producers, consumers) -> bool:
        """R3: ``t``'s input place is filled only by u and drained only by ``t``: u produces ``t``'s output."""
        p = next(iter(t.pre))
        prods = producers.get(p, [])
        if (
            consumers.get(p) == [t]
            and len(prods) == 1
            and prods[0] is not t
            and prods[0].post.get(p) == 1
            and not self._protected(p)
            and not any(q in prods[0].post for q in t.post)
        ):
            u = prods[0]
            u.absorb(t)
            del u.post[p]
            for q, w in t.post.items():
                u.post[q] = u.post.get(q, 0) + w
            t.alive = False
            self.place_alive[p] = False
            return True
        return False

    def _into_consumer(self, t: Trans, producers, consumers) -> bool:
        """R4: ``t``'s output place is drained only by v and filled only by ``t``: v consumes ``t``'s input."""
        q = next(iter(t.post))
        cons = consumers.get(q, [])
        if (
            producers.get(q) == [t]
            and len(cons) == 1
            and cons[0] is not t
            and cons[0].pre.get(q) == 1
            and q not in cons[0].post
            and not self._protected(q)
            and not any(p in cons[0].pre for p in t.pre)
        ):
            v = cons[0]
            v.absorb(t)
            del v.pre[q]
            for p, w in t.pre.items():
                v.pre[p] = v.pre.get(p, 0) + w
            t.alive = False
            self.place_alive[q] = False
            return True
        return False

    def _copy_visible(self, t: Trans, producers, consumers) -> bool:
        """R5/R6 (alignments only): visible neighbours get a copy that does ``t``'s move too."""
        # R5: q is drained only by visible transitions -> each gets a copy that consumes p instead
        p = next(iter(t.pre))
        q = next(iter(t.post))
        cons = consumers.get(q, [])
        if (
            cons
            and len(cons) <= 4
            and q not in self.final
            and all(v.label is not None and v.pre.get(q) == 1 and q not in v.post and p not in v.pre for v in cons)
        ):
            for v in cons:
                pre = dict(v.pre)
                del pre[q]
                pre[p] = 1
                copy = Trans(f"t{len(self.trans)}_{v.element}", v.label, v.element, pre, dict(v.post),
                             hits=t.hits + v.hits, flows=t.flows + v.flows)
                self.trans.append(copy)
            t.alive = False
            return True
        # R6: p is filled only by visible transitions -> each gets a copy that marks q instead.
        # Only when every consumer of p needs p alone: then choosing early (at the producer)
        # can never block a synchronisation, so soundness is kept too.
        prods = producers.get(p, [])
        if (
            prods
            and all(c.pre == {p: 1} for c in consumers.get(p, []))
            and len(prods) <= 4
            and not self._protected(p)
            and all(u.label is not None and u.post.get(p) == 1 and p not in u.pre and q not in u.post for u in prods)
        ):
            for u in prods:
                post = dict(u.post)
                del post[p]
                post[q] = 1
                copy = Trans(f"t{len(self.trans)}_{u.element}", u.label, u.element, dict(u.pre), post,
                             hits=u.hits + t.hits, flows=u.flows + t.flows)
                self.trans.append(copy)
            t.alive = False
            return True
        return False

    def _overlap(self, p: int, q: int) -> bool:
        """Does some live transition touch both places on the same side (merging would create a weight)?"""
        for t in self.trans:
            if t.alive and ((p in t.pre and q in t.pre) or (p in t.post and q in t.post)):
                return True
        return False

    def unweight(self) -> None:
        """Replace output arcs of weight > 1 by silent helper transitions (pm4py copies nets without weights)."""
        for t in list(self.trans):
            if not t.alive:
                continue
            for p, w in list(t.post.items()):
                if w > 1:
                    t.post[p] = 1
                    for _ in range(w - 1):
                        q = self.place(f"extra:{self.places[p]}")
                        t.post[q] = 1
                        self.add(None, t.element, {q: 1}, {p: 1})
            if any(w > 1 for w in t.pre.values()):
                raise ValueError(f"transition {t.name} consumes several tokens from one place")

    def _merge_place(self, p: int, *, into: int, producers, consumers) -> None:
        for u in producers.get(p, []):
            w = u.post.pop(p)
            u.post[into] = u.post.get(into, 0) + w
        for v in consumers.get(p, []):
            w = v.pre.pop(p)
            v.pre[into] = v.pre.get(into, 0) + w
        if p in self.initial:
            self.initial[into] = self.initial.get(into, 0) + self.initial.pop(p)
        self.place_alive[p] = False

    def _drop_duplicates(self) -> int:
        seen: set[tuple] = set()
        n = 0
        for t in self.trans:
            if not t.alive or t.label is not None or t.keep:
                continue
            key = (tuple(sorted(t.pre.items())), tuple(sorted(t.post.items())))
            if key in seen:
                t.alive = False
                n += 1
            else:
                seen.add(key)
        return n


def _bag(items: Iterable[int] | dict[int, int]) -> dict[int, int]:
    if isinstance(items, dict):
        return {k: v for k, v in items.items() if v}
    out: dict[int, int] = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return out


def freeze(marking: dict[int, int]) -> Marking:
    return tuple(sorted((p, n) for p, n in marking.items() if n))


@dataclass
class StateSpace:
    """Reachable markings and edges; ``complete`` False when a limit stopped the search."""

    markings: list[Marking]
    edges: list[list[tuple[int, int]]]  # per marking: (transition index, next marking index)
    complete: bool
    reason: str = ""
    unbounded_place: int | None = None


def explore(
    net: CoreNet,
    initial: dict[int, int],
    *,
    transitions: list[int] | None = None,
    max_states: int = 50_000,
    timeout_s: float = 5.0,
    token_bound: int = 64,
) -> StateSpace:
    """Breadth-first reachability over ``transitions`` (indices; default all live) from ``initial``.

    Complement places (see :meth:`CoreNet.complement`) of places empty in ``initial`` are marked too.
    """
    if net.guarded:
        initial = dict(initial)
        for p, c in net.guarded.items():
            if c not in initial and not initial.get(p):
                initial[c] = 1
    idx = transitions if transitions is not None else [i for i, t in enumerate(net.trans) if t.alive]
    tlist = [(i, tuple(net.trans[i].pre.items()), tuple(net.trans[i].post.items())) for i in idx]
    by_place: dict[int, list[int]] = {}
    for k, (_, pre, _) in enumerate(tlist):
        for p, _w in pre:
            by_place.setdefault(p, []).append(k)
    no_pre = [k for k, (_, pre, _) in enumerate(tlist) if not pre]
    start = freeze(initial)
    seen: dict[Marking, int] = {start: 0}
    markings = [start]
    edges: list[list[tuple[int, int]]] = [[]]
    queue = deque([0])
    deadline = time.monotonic() + timeout_s
    steps = 0
    while queue:
        cur = queue.popleft()
        m = dict(markings[cur])
        cands = set(no_pre)
        for p in m:
            cands.update(by_place.get(p, ()))
        for k in sorted(cands):
            ti, pre, post = tlist[k]
            if any(m.get(p, 0) < w for p, w in pre):
                continue
            nxt = dict(m)
            for p, w in pre:
                nxt[p] -= w
            for p, w in post:
                nxt[p] = nxt.get(p, 0) + w
                if nxt[p] > token_bound:
                    return StateSpace(markings, edges, False, f"unbounded: place {net.places[p]} exceeds {token_bound} tokens", p)
            key = freeze(nxt)
            j = seen.get(key)
            if j is None:
                j = len(markings)
                seen[key] = j
                markings.append(key)
                edges.append([])
                queue.append(j)
                if len(markings) > max_states:
                    return StateSpace(markings, edges, False, f"more than {max_states:,} reachable states")
            edges[cur].append((ti, j))
        steps += 1
        if steps % 256 == 0 and time.monotonic() > deadline:
            return StateSpace(markings, edges, False, f"state space not explored within {timeout_s:g} s")
    return StateSpace(markings, edges, True)


def can_reach(space: StateSpace, targets: set[int]) -> list[bool]:
    """For each marking index: can a marking in ``targets`` be reached from it?"""
    back: list[list[int]] = [[] for _ in space.markings]
    for i, out in enumerate(space.edges):
        for _, j in out:
            back[j].append(i)
    ok = [False] * len(space.markings)
    queue = deque(targets)
    for t in targets:
        ok[t] = True
    while queue:
        j = queue.popleft()
        for i in back[j]:
            if not ok[i]:
                ok[i] = True
                queue.append(i)
    return ok
