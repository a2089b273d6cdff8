"""How a sub-process body ends or is left: completion when branches end in different numbers of end
events, and the internal states from which a boundary event cancels it or a thrown error leaves it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import orjoin
from .model import BpmnNode
from .netcore import can_reach, explore

if TYPE_CHECKING:
    from .flatten import Scope

MAX_INTERRUPT_STATES = 400


def all_ended(sc: Scope, n: BpmnNode, enter, restart: dict[int, int], end: int, first_place: int,
               first_trans: int) -> int:
    """Completion when branches end in different numbers of end events: no token is left inside (BPMN).

    End tokens are collected into one; the completing step tests that every place of the body is
    empty (complement places, checked exact by :func:`processmining.bpmn.orjoin.settle`). Returns the completed place.
    """
    net = sc.net
    body = [p for p in range(first_place, len(net.places)) if net.place_alive[p] and p not in net.complement_of]
    open_ = net.place(f"open:{n.id}")
    enter.post[open_] = 1
    restart[open_] = 1
    ended = net.place(f"ended:{n.id}")
    # each step that ends a branch gets its own place, so that no place needs two tokens
    for i, t in enumerate([t for t in net.trans[first_trans:] if t.alive and end in t.post]):
        own = net.place(f"end:{n.id}:{i}")
        t.post[own] = t.post.pop(end)
        body.append(own)
        sc.add(None, n, {own: 1, open_: 1}, {ended: 1}, hit=False)
        sc.add(None, n, {own: 1, ended: 1}, {ended: 1}, hit=False)
        # a branch that always ends first (or never first) leaves one of the two unused: settle drops it
        k = len(net.trans)
        sc.b.or_joins.append(orjoin.UnpairedJoin(n, {k - 2: frozenset(), k - 1: frozenset()}, frozenset()))
    completed = net.place(f"completed:{n.id}")
    t = sc.add(None, n, {ended: 1}, {completed: 1}, hit=False)
    for p in body:
        c = net.complement(p)
        t.pre[c] = 1
        t.post[c] = 1
    t.keep = True
    sc.b.or_joins.append(orjoin.UnpairedJoin(n, {len(net.trans) - 1: frozenset()}, frozenset()))
    sc.b.notes[n.id] = ("mapped", "its branches end in different numbers of end events: it completes once "
                                    "no token is left inside (BPMN sub-process completion)")
    return completed

def raised_states(sc: Scope, restart: dict[int, int], place: int, first_trans: int) -> list | None:
    """Markings of a sub-process body that hold a thrown error/escalation token (whole marking is consumed)."""
    frag = list(range(first_trans, len(sc.net.trans)))
    space = explore(sc.net, restart, transitions=frag, max_states=20_000, timeout_s=3.0)
    if not space.complete:
        return None
    states = [m for m in space.markings if any(p == place for p, _ in m)]
    if len(states) > MAX_INTERRUPT_STATES or any(c != 1 for m in states for _, c in m):
        return None
    return states


def cancel_states(sc: Scope, n: BpmnNode, restart: dict[int, int], done: int, first_trans: int) -> list | None:
    """Markings of a sub-process body in which it can still be cancelled (visible work may follow)."""
    frag = list(range(first_trans, len(sc.net.trans)))
    space = explore(sc.net, restart, transitions=frag, max_states=20_000, timeout_s=3.0)
    if not space.complete:
        return None
    # a state counts only while a visible step can still follow; after the last visible step the
    # sub-process is completing, and cancelling there would look like cancelling after completion
    visible_next = {i for i, out in enumerate(space.edges) if any(sc.net.trans[ti].label is not None for ti, _ in out)}
    useful = can_reach(space, visible_next)
    useful[0] = True
    states = [m for i, m in enumerate(space.markings) if useful[i] and m != ((done, 1),)]
    if len(states) > MAX_INTERRUPT_STATES or any(c != 1 for m in states for _, c in m):
        return None
    return states
