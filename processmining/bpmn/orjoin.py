"""Inclusive (OR) gateways: splits, joins paired with their split, and joins without a split.

* An OR split fires one silent transition per non-empty subset of its
  conditional branches (the default flow alone is one more choice).
* An OR join that merges exactly the branches of one OR split (a structured
  region) is *paired*: the split records which subset it started on a control
  place, and the join waits for exactly those branches.
* Any other OR join gets the BPMN 2.0 non-local semantics (spec 13.3.4): it
  fires with the set S of its incoming flows that hold a token once no token
  elsewhere in its scope can still reach one of the other incoming flows
  (without passing the join) unless that token can also reach one in S. Per
  subset S this is a test that a fixed set of places is empty; each such
  place gets a complement place (a token there = the place is empty), read by
  the join's transition for S. Complement places are exact when the places
  they guard never hold more than one token, which :func:`settle` checks on
  the reachable markings; when it cannot (too many states) or the model puts
  two tokens on a guarded place, the join falls back to firing for every set
  of arrived branches without waiting, and the report says so.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .model import BpmnFlow, BpmnNode
from .netcore import explore

if TYPE_CHECKING:
    from .flatten import Builder, Scope

MAX_OR_BRANCHES = 8
#: reachable-marking budget for checking the non-local OR-join guards
MAX_OR_STATES = 50_000


@dataclass
class UnpairedJoin:
    """An OR join without a matching split: its transitions (one per subset of inputs) and input places."""

    node: BpmnNode
    subsets: dict[int, frozenset[int]]
    inputs: frozenset[int]


class LocalOrJoins(Exception):
    """The non-local guards could not be shown exact: rebuild with joins that do not wait."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def or_subsets(outs: list[BpmnFlow], default: str | None) -> list[frozenset[str]]:
    """Non-empty subsets of the conditional branches, plus the default flow alone."""
    conds = [f.id for f in outs if f.id != default]
    subsets = [frozenset(c) for r in range(1, len(conds) + 1) for c in itertools.combinations(conds, r)]
    if default is not None and any(f.id == default for f in outs):
        subsets.append(frozenset({default}))
    return subsets


def inclusive(sc: Scope, n: BpmnNode) -> None:
    """Build an inclusive gateway: a split, a paired join, or a join with non-local semantics."""
    ins, outs = sc.ins[n.id], sc.outs[n.id]
    if len(ins) > 1:
        if n.id in sc.or_pairs:
            _paired_join(sc, n)
        else:
            _unpaired_join(sc, n)
        return
    pin = sc.in_place(n.id)
    if len(outs) <= 1:
        sc.add(None, n, {pin: 1}, sc.out_bag(n))
        sc.b.notes.setdefault(n.id, ("mapped", "inclusive gateway with one outgoing flow: pass-through"))
        return
    or_split(sc, n, pin, outs)
    sc.b.notes.setdefault(n.id, ("mapped", "inclusive split: one or more branches, never none"))


def _paired_join(sc: Scope, n: BpmnNode) -> None:
    ins, outs = sc.ins[n.id], sc.outs[n.id]
    split_id, branch_to_in = sc.or_pairs[n.id]
    split = sc.nodes[split_id]
    after = sc.net.place(f"orjoin:{n.id}") if len(outs) > 1 else None
    post = {after: 1} if after is not None else sc.out_bag(n)
    in_flows = {f.id: f for f in ins}
    for subset in or_subsets(sc.outs[split_id], split.default_flow):
        pre = {sc.control[(n.id, subset)]: 1}
        for out_id in subset:
            pre[sc.flow_place(in_flows[branch_to_in[out_id]])] = 1
        sc.add(None, n, pre, post)
    if after is not None:
        or_split(sc, n, after, outs, hit=False)
    sc.b.notes[n.id] = ("mapped", f"inclusive join paired with split {split_id}: waits for the started branches")


def _unpaired_join(sc: Scope, n: BpmnNode) -> None:
    ins, outs = sc.ins[n.id], sc.outs[n.id]
    if len(ins) > MAX_OR_BRANCHES:
        raise sc.b.err(n, f"inclusive join with {len(ins)} incoming flows (more than {MAX_OR_BRANCHES}) is too "
                          "large to expand: split it into smaller joins")
    after = sc.net.place(f"orjoin:{n.id}") if len(outs) > 1 else None
    post = {after: 1} if after is not None else sc.out_bag(n)
    places = {f.id: sc.flow_place(f) for f in ins}
    subsets: dict[int, frozenset[int]] = {}
    for r in range(1, len(ins) + 1):
        for combo in itertools.combinations(ins, r):
            pre = {places[f.id]: 1 for f in combo}
            sc.add(None, n, pre, post, via=tuple(f.id for f in outs) if after is None and len(outs) == 1 else None)
            subsets[len(sc.net.trans) - 1] = frozenset(pre)
    if after is not None:
        or_split(sc, n, after, outs, hit=False)
    if sc.b.or_mode == "local":
        sc.b.note(n, "approximated", "inclusive join without a matching split: fires for every set of arrived "
                                     f"branches without waiting for branches still running ({sc.b.or_reason})")
        return
    sc.unpaired.append(UnpairedJoin(n, subsets, frozenset(places.values())))
    sc.b.notes[n.id] = ("mapped", "inclusive join without a matching split: fires once no further token can "
                                  "reach its other incoming flows (BPMN non-local semantics)")


def or_split(sc: Scope, n: BpmnNode, pin: int, outs: list[BpmnFlow], *, hit: bool = True) -> None:
    non_default = [f for f in outs if f.id != n.default_flow]
    if len(non_default) > MAX_OR_BRANCHES:
        raise sc.b.err(n, f"inclusive split with {len(non_default)} branches (more than {MAX_OR_BRANCHES}) "
                          "is too large to expand")
    join = sc.or_split_of.get(n.id)
    by_id = {f.id: f for f in outs}
    for subset in or_subsets(outs, n.default_flow):
        post: dict[int, int] = {}
        for fid in subset:
            p = sc.flow_place(by_id[fid])
            post[p] = post.get(p, 0) + 1
        if join is not None:
            key = (join, subset)
            if key not in sc.control:
                sc.control[key] = sc.net.place(f"or:{join}:{len(sc.control)}")
            post[sc.control[key]] = 1
        sc.add(None, n, {pin: 1}, post, hit=hit, via=tuple(sorted(subset)))


# ------------------------------------------------------------ pairing joins with splits
def pair_or_joins(sc: Scope) -> None:
    """Pair each inclusive join with the inclusive split whose branches it merges (structured regions)."""
    for j in sc.nodes.values():
        if j.type != "inclusiveGateway" or len(sc.ins[j.id]) < 2:
            continue
        transparent: set[str] = set()
        for _ in range(20):
            records = {f.id: _origins(sc, f, j.id, transparent) for f in sc.ins[j.id]}
            nested = set()
            for recs in records.values():
                if recs is None:
                    continue
                per_split: dict[str, set[str]] = {}
                for split_id, out_id in recs:
                    per_split.setdefault(split_id, set()).add(out_id)
                nested |= {s for s, o in per_split.items() if len(o) > 1}
            if not nested - transparent:
                break
            transparent |= nested
        if any(r is None or len(r) != 1 for r in records.values()):
            continue
        splits = {next(iter(r))[0] for r in records.values()}
        if len(splits) != 1:
            continue
        split_id = splits.pop()
        branch_to_in = {next(iter(r))[1]: fin for fin, r in records.items()}
        if set(branch_to_in) != {f.id for f in sc.outs[split_id]} or split_id in sc.or_split_of:
            continue
        sc.or_pairs[j.id] = (split_id, branch_to_in)
        sc.or_split_of[split_id] = j.id


def _origins(sc: Scope, fin: BpmnFlow, join_id: str, transparent: set[str]) -> set[tuple[str, str]] | None:
    """(split id, split outgoing flow id) pairs an incoming flow of an OR-join comes from; None if open."""
    found: set[tuple[str, str]] = set()
    seen: set[str] = set()
    stack = [fin]
    while stack:
        f = stack.pop()
        if f.id in seen:
            continue
        seen.add(f.id)
        src = sc.nodes[f.source]
        if src.type == "inclusiveGateway" and len(sc.outs[src.id]) > 1 and src.id not in transparent:
            found.add((src.id, f.id))
            continue
        if src.id == join_id or not sc.ins[src.id]:
            return None
        stack.extend(sc.ins[src.id])
    return found


# ------------------------------------------------------------ non-local guards
def guard_joins(b: Builder, joins: list[UnpairedJoin], first_trans: int, entry: int) -> None:
    """Add the non-local enabling test of each unpaired join of one scope (its transitions from ``first_trans``)."""
    net = b.net
    for j in joins:
        own = set(j.subsets)
        frag = [i for i in range(first_trans, len(net.trans)) if net.trans[i].alive and i not in own]
        consumers: dict[int, list[int]] = {}
        places: set[int] = set()
        for i in frag:
            t = net.trans[i]
            for p in t.pre:
                if p not in net.complement_of:
                    consumers.setdefault(p, []).append(i)
            places.update(p for p in (*t.pre, *t.post) if p not in net.complement_of)
        reach = {p: _reaching(p, consumers, net, j.inputs) for p in places | j.inputs}
        for ti, subset in j.subsets.items():
            others = j.inputs - subset
            block = {p for p, r in reach.items() if r & others and not r & subset and p != entry}
            t = net.trans[ti]
            for p in sorted(block):
                c = net.complement(p)
                t.pre[c] = 1  # p must be empty; a join that fills p itself (a loop) keeps the complement taken
                if not (p in t.post and p not in t.pre):
                    t.post[c] = 1
            t.keep = True
        b.or_joins.append(j)


def _reaching(p: int, consumers: dict[int, list[int]], net, inputs: frozenset[int]) -> frozenset[int]:
    """The join inputs a token on ``p`` can reach along the net's arcs (never through the join itself)."""
    seen = {p}
    stack = [p]
    while stack:
        q = stack.pop()
        if q in inputs:
            continue
        for ti in consumers.get(q, ()):
            for r in net.trans[ti].post:
                if r not in seen and r not in net.complement_of:
                    seen.add(r)
                    stack.append(r)
    return frozenset(seen & inputs)


def settle(b: Builder) -> None:
    """Check the guards are exact (no guarded place ever needs two tokens) and drop subsets that never fire.

    Raises :class:`LocalOrJoins` when that cannot be shown, so the caller rebuilds with joins that do not wait.
    """
    net = b.net
    if not b.or_joins:
        return
    space = explore(net, net.initial, max_states=MAX_OR_STATES, timeout_s=5.0)
    if not space.complete:
        raise LocalOrJoins(f"its state space could not be explored: {space.reason}")
    producers = [i for i, t in enumerate(net.trans)
                 if t.alive and any(p in net.guarded and p not in t.pre for p in t.post)]
    heavy = next((p for i in producers for p, w in net.trans[i].post.items() if p in net.guarded and w > 1), None)
    if heavy is not None:
        raise LocalOrJoins(f"a step puts two tokens on one branch before it (at {net.places[heavy].split('#')[0]})")
    for m in space.markings:
        md = dict(m)
        for i in producers:
            t = net.trans[i]
            enabled = all(md.get(q, 0) >= w for q, w in t.pre.items() if q not in net.complement_of)
            full = [p for p in t.post if p in net.guarded and p not in t.pre and md.get(p, 0)]
            if enabled and full:
                raise LocalOrJoins(f"a branch upstream of it can hold two tokens at once "
                                   f"(at {net.places[full[0]].split('#')[0]})")
    fired = {ti for out in space.edges for ti, _ in out}
    for j in b.or_joins:
        if any(ti in fired for ti in j.subsets):
            for ti in j.subsets:
                if ti not in fired:
                    net.trans[ti].alive = False
