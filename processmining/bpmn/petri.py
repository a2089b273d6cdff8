"""BPMN -> Petri net with the behaviour of the model (for alignments and token replay).

Mapping (each sequence flow is a place; XOR-style targets share one input
place; AND/paired-OR joins get one place per incoming flow):

* tasks of every type: one visible transition labelled with the task name
  (after ``label_map``); several outgoing flows = parallel split, several
  incoming = merge (BPMN's uncontrolled flow); unnamed tasks are silent;
* events: silent steps; several start events are alternatives; without a
  start event every node without incoming flow starts (BPMN semantics);
  link events are joined by name; terminate ends are checked (see below);
* exclusive and event-based gateways: choice; parallel: fork/join;
  inclusive: one silent transition per non-empty subset of branches (the
  default flow alone), and a paired OR-join waits for exactly the branches
  its split started (a control place per subset); an OR-join with no
  matching split is refused;
* embedded sub-processes, transactions and call activities (called process
  in the same file) are flattened; ad-hoc sub-processes become "any of its
  tasks, any number of times" (reported as approximated);
* loop markers: one or more iterations (``testBefore``: zero or more);
  multi-instance: one or more instances, exactly ``n`` for a literal
  ``loopCardinality``; parallel multi-instance sub-processes run their
  instances one after another (reported as approximated);
* boundary events: interrupting = a silent alternative leaving the activity
  from any of its internal states; non-interrupting = an extra parallel path
  that can start once while the activity is active.

Silent transitions are then reduced with language-preserving rules, so
alignments stay fast; ``transition_element`` maps every remaining
transition back to a BPMN element id.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import BpmnError
from .model import SUBPROCESS_TYPES, TASK_TYPES, BpmnFlow, BpmnModel, BpmnNode
from .netcore import CoreNet, explore

MAX_OR_BRANCHES = 8
MAX_INTERRUPT_STATES = 400


@dataclass
class BuildResult:
    """The internal net plus what the conversion did, per element."""

    core: CoreNet
    approximations: list[str] = field(default_factory=list)
    notes: dict[str, tuple[str, str]] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)


@dataclass
class ConvertedNet:
    """A pm4py Petri net built from a BPMN model.

    ``net``, ``initial_marking``, ``final_marking`` go straight into pm4py's
    alignments or token replay. ``transition_element`` maps every
    transition's ``.name`` (silent ones too) to the BPMN element id it
    stands for; ``activities`` are the visible labels; ``approximations``
    says where the net's behaviour differs from the BPMN semantics.
    """

    net: Any
    initial_marking: Any
    final_marking: Any
    transition_element: dict[str, str]
    activities: list[str]
    approximations: list[str]
    model_sha256: str = ""
    core: CoreNet | None = field(default=None, repr=False)


def to_petri_net(model: BpmnModel, *, label_map: Mapping[str, str] | None = None) -> ConvertedNet:
    """Convert a BPMN model into a pm4py Petri net with the model's behaviour.

    ``label_map`` renames tasks to log activity labels (task name ->
    activity; see :func:`match_labels`). Raises :class:`BpmnError` naming
    the element (id, type, name) for what cannot be converted exactly nor
    approximated: a call activity to a process not in the file, an OR-join
    without a matching OR-split, a complex gateway, dangling references.

    Example::

        >>> conv = to_petri_net(read_bpmn("bpmn_models/lead_to_order.bpmn"))
        >>> sorted(conv.activities)[:2]
        ['Closed Lost', 'Closed Won']
        >>> import pm4py
        >>> pm4py.fitness_alignments(log, conv.net, conv.initial_marking, conv.final_marking)
    """
    if model.report.problems:
        raise BpmnError(
            "the model cannot be converted: " + "; ".join(model.report.problems[:3])
            + (f" (and {len(model.report.problems) - 3} more)" if len(model.report.problems) > 3 else ""),
            source=model.source,
        )
    result = build_core(model, label_map=label_map)
    return _to_pm4py(result, model)


def build_core(model: BpmnModel, *, label_map: Mapping[str, str] | None = None) -> BuildResult:
    """Build and reduce the internal net; raises :class:`BpmnError` for what cannot be converted."""
    b = _Builder(model, label_map or {})
    source = b.net.place("source")
    sink = b.net.place("sink")
    b.net.initial = {source: 1}
    b.build_scope(model.nodes, model.flows, None, source, sink, override=None, stack=())
    b.net.reduce()
    b.finish(sink)
    return BuildResult(b.net, b.approx, b.notes, b.scope_messages)


class _Builder:
    def __init__(self, model: BpmnModel, label_map: Mapping[str, str]) -> None:
        self.model = model
        self.label_map = label_map
        self.net = CoreNet()
        self.approx: list[str] = []
        self.notes: dict[str, tuple[str, str]] = {}
        self.terminates: list[int] = []
        self.body_states: dict[str, list | None] = {}
        self.scope_messages: list[str] = []

    # ------------------------------------------------------------ helpers
    def note(self, node: BpmnNode, status: str, detail: str) -> None:
        self.notes[node.id] = (status, detail)
        if status == "approximated":
            self.approx.append(f"{node.describe()}: {detail}")

    def finish(self, sink: int) -> None:
        """Choose the final marking (how many end tokens) and check terminate end events."""
        net = self.net
        space = explore(net, net.initial, max_states=50_000, timeout_s=5.0)
        grows = any(sum(t.post.values()) > sum(t.pre.values()) for t in net.live())
        counts: set[int] = set()
        if space.complete:
            dead_ends = [m for i, m in enumerate(space.markings) if not space.edges[i]]
            counts = {dict(m).get(sink, 0) for m in dead_ends if dict(m).get(sink, 0)}
        if len(counts) == 1:
            net.final = {sink: counts.pop()}
        elif counts or (grows and not space.complete):
            # branches end in a varying number of end events: merge end tokens so the
            # final marking (one token in the sink, nothing else) means "all branches ended"
            net.add(None, self.model.process_id, {sink: 2}, {sink: 1})
            net.final = {sink: 1}
        else:
            net.final = {sink: 1}
        for ti in self.terminates:
            t = net.trans[ti]
            node = self.model.nodes.get(t.element)
            if node is None:
                continue
            if not space.complete:
                self.note(node, "approximated", "terminate end event treated as a normal end (the state space was "
                                                "too large to prove no other branch is active when it is reached)")
                continue
            concurrent = False
            for m in space.markings:
                md = dict(m)
                if all(md.get(p, 0) >= w for p, w in t.pre.items()):
                    others = sum(md.values()) - sum(t.pre.values()) - md.get(sink, 0)
                    if others > 0:
                        concurrent = True
                        break
            if concurrent:
                self.note(node, "approximated", "terminate end event treated as a normal end: other branches may "
                                                "still be active when it is reached, and they are still expected to finish")
            else:
                self.note(node, "mapped", "terminate end event: no other branch is ever active when it is "
                                          "reached, so a normal end is exact")

    def err(self, node: BpmnNode, message: str) -> BpmnError:
        return BpmnError(f"{node.describe()}: {message}", source=self.model.source, line=node.line, element=node.id)

    def label(self, node: BpmnNode) -> str | None:
        for key in (node.name, node.label):
            if key in self.label_map:
                return self.label_map[key]
        return node.label or None

    # ------------------------------------------------------------ scopes
    def build_scope(
        self,
        nodes: Mapping[str, BpmnNode],
        flows: Mapping[str, BpmnFlow],
        parent: str | None,
        entry: int,
        done: int,
        *,
        override: str | None,
        stack: tuple[str, ...],
    ) -> None:
        sc = _Scope(self, nodes, flows, parent, entry, done, override, stack)
        sc.build()


class _Scope:
    """Builds one process level or sub-process body into the builder's net."""

    def __init__(self, b: _Builder, nodes, flows, parent, entry, done, override, stack) -> None:
        self.b = b
        self.net = b.net
        self.all_nodes = nodes
        self.all_flows = flows
        self.parent = parent
        self.entry = entry
        self.done = done
        self.override = override
        self.stack = stack
        self.inp: dict[str, int] = {}
        self.own: dict[str, int] = {}
        self.nodes: dict[str, BpmnNode] = {}
        self.boundary: dict[str, list[BpmnNode]] = {}
        for n in nodes.values():
            if n.parent != parent:
                continue
            if n.type == "subProcess" and n.triggered_by_event:
                b.note(n, "ignored", "event sub-process: started by an event, not part of the normal flow")
                for c in nodes.values():
                    if _inside(c, n.id, nodes):
                        b.note(c, "ignored", f"inside event sub-process {n.id}")
                continue
            if n.is_for_compensation or (n.type == "boundaryEvent" and "compensate" in n.events):
                b.note(n, "ignored", "compensation: only runs when a completed activity is undone")
                continue
            if n.type == "boundaryEvent":
                if n.attached_to in nodes and nodes[n.attached_to].parent == parent:
                    self.boundary.setdefault(n.attached_to, []).append(n)
                    self.nodes[n.id] = n
                continue
            self.nodes[n.id] = n
        self.flows = {
            f.id: f for f in flows.values() if f.source in self.nodes and f.target in self.nodes
        }
        self.ins: dict[str, list[BpmnFlow]] = {k: [] for k in self.nodes}
        self.outs: dict[str, list[BpmnFlow]] = {k: [] for k in self.nodes}
        for f in self.flows.values():
            self.outs[f.source].append(f)
            self.ins[f.target].append(f)
        self.or_pairs: dict[str, tuple[str, dict[str, str]]] = {}
        self.or_split_of: dict[str, str] = {}
        self.control: dict[tuple[str, frozenset[str]], int] = {}

    def el(self, node: BpmnNode) -> str:
        return self.override or node.id

    def add(self, label, node: BpmnNode, pre, post):
        return self.net.add(label, self.el(node), pre, post)

    # places
    def in_place(self, node_id: str) -> int:
        if node_id not in self.inp:
            self.inp[node_id] = self.net.place(f"in:{node_id}")
        return self.inp[node_id]

    def flow_place(self, f: BpmnFlow) -> int:
        tgt = self.nodes[f.target]
        joins = len(self.ins[tgt.id]) > 1
        if joins and (tgt.type == "parallelGateway" or tgt.id in self.or_pairs):
            if f.id not in self.own:
                self.own[f.id] = self.net.place(f"flow:{f.id}")
            return self.own[f.id]
        return self.in_place(tgt.id)

    def out_bag(self, node: BpmnNode) -> dict[int, int]:
        """Places a completed node marks: its outgoing flows (AND), or the scope's end when it has none."""
        outs = self.outs[node.id]
        if not outs:
            return {self.done: 1}
        conditional = [f for f in outs if f.condition and f.id != node.default_flow]
        if len(outs) > 1 and conditional and not node.is_gateway:
            mid = self.net.place(f"cond:{node.id}")
            self.or_split(node, mid, outs)
            self.b.note(node, "mapped", "conditional outgoing flows: one or more of them (inclusive split)")
            return {mid: 1}
        bag: dict[int, int] = {}
        for f in outs:
            p = self.flow_place(f)
            bag[p] = bag.get(p, 0) + 1
        return bag

    # ------------------------------------------------------------ build
    def build(self) -> None:
        self._pair_or_joins()
        starts = [n for n in self.nodes.values() if n.type == "startEvent"]
        silent_starts = [
            n
            for n in self.nodes.values()
            if not self.ins[n.id]
            and n.type not in ("startEvent", "boundaryEvent")
            and not (n.type == "intermediateCatchEvent" and "link" in n.events)
        ]
        if starts:
            for s in starts:
                self.add(None, s, {self.entry: 1}, self.out_bag(s))
                self.b.notes.setdefault(s.id, ("mapped", "start event: silent step"))
            for n in silent_starts:
                self.b.note(n, "ignored", "unreachable: no incoming sequence flow while the scope has a start event")
        else:
            if not silent_starts:
                where = f"sub-process {self.parent}" if self.parent else f"process {self.b.model.process_id}"
                raise BpmnError(
                    f"{where} has no start event and every node has an incoming flow: nowhere to start",
                    source=self.b.model.source,
                    element=self.parent or self.b.model.process_id,
                )
            holder = self.all_nodes.get(self.parent) if self.parent else None
            self.net.add(None, self.override or self.parent or self.b.model.process_id, {self.entry: 1},
                         {self.in_place(n.id): 1 for n in silent_starts})
            msg = (f"no start event: {len(silent_starts)} node(s) without incoming flow start together "
                   f"({', '.join(n.label or n.id for n in silent_starts[:5])})")
            if holder is not None:
                self.b.notes.setdefault(holder.id, ("mapped", msg))
            else:
                self.b.scope_messages.append(msg)
        skip = {n.id for n in silent_starts} if starts else set()
        for n in self.nodes.values():
            if n.id in skip or n.type in ("startEvent", "boundaryEvent"):
                continue
            self.node(n)

    def node(self, n: BpmnNode) -> None:
        if n.is_gateway:
            self.gateway(n)
        elif n.is_event:
            self.event(n)
        else:
            self.activity(n)

    def event(self, n: BpmnNode) -> None:
        pin = self.in_place(n.id)
        if n.type == "endEvent":
            t = self.add(None, n, {pin: 1}, {self.done: 1})
            if "terminate" in n.events:
                t.keep = True
                self.b.terminates.append(len(self.net.trans) - 1)
                self.b.notes[n.id] = ("mapped", "terminate end event")
            else:
                self.b.notes.setdefault(n.id, ("mapped", "end event: silent step"))
            return
        if n.type == "intermediateThrowEvent" and "link" in n.events:
            catch = self._link_target(n)
            self.add(None, n, {pin: 1}, {self.in_place(catch.id): 1})
            self.b.notes.setdefault(n.id, ("mapped", f"link to {catch.id}"))
            return
        self.add(None, n, {pin: 1}, self.out_bag(n))
        self.b.notes.setdefault(n.id, ("mapped", "intermediate event: silent step"))

    def _link_target(self, n: BpmnNode) -> BpmnNode:
        key = n.link_name or n.label
        for c in self.nodes.values():
            if c.type == "intermediateCatchEvent" and "link" in c.events and (c.link_name or c.label) == key:
                return c
        raise self.b.err(n, f"link throw event {key!r} has no link catch event with the same name in its scope")

    # ------------------------------------------------------------ gateways
    def gateway(self, n: BpmnNode) -> None:
        ins, outs = self.ins[n.id], self.outs[n.id]
        kind = n.type
        if kind == "complexGateway":
            raise self.b.err(n, "complex gateways have no exact Petri-net meaning; replace it with "
                                "exclusive/parallel/inclusive gateways")
        if kind == "parallelGateway":
            pre = {self.flow_place(f): 1 for f in ins} if len(ins) > 1 else {self.in_place(n.id): 1}
            self.add(None, n, pre, self.out_bag(n))
            self.b.notes.setdefault(n.id, ("mapped", "parallel gateway"))
            return
        if kind == "inclusiveGateway":
            self.inclusive(n)
            return
        # exclusive / event-based: choice among outgoing flows, merge of incoming
        pin = self.in_place(n.id)
        if not outs:
            self.add(None, n, {pin: 1}, {self.done: 1})
        for f in outs:
            self.add(None, n, {pin: 1}, {self.flow_place(f): 1})
        self.b.notes.setdefault(n.id, ("mapped", "exclusive choice" if kind == "exclusiveGateway" else
                                       "event-based gateway: exclusive choice of the first event"))

    def inclusive(self, n: BpmnNode) -> None:
        ins, outs = self.ins[n.id], self.outs[n.id]
        if len(ins) > 1:
            if n.id not in self.or_pairs:
                raise self.b.err(
                    n,
                    "inclusive (OR) join without a matching inclusive split: which branches to wait for cannot "
                    "be expressed exactly; make the split and join a matching pair or use a parallel/exclusive join",
                )
            split_id, branch_to_in = self.or_pairs[n.id]
            split = self.nodes[split_id]
            after = self.net.place(f"orjoin:{n.id}") if len(outs) > 1 else None
            post = {after: 1} if after is not None else self.out_bag(n)
            in_flows = {f.id: f for f in ins}
            for subset in _or_subsets(self.outs[split_id], split.default_flow):
                pre = {self.control[(n.id, subset)]: 1}
                for out_id in subset:
                    pre[self.flow_place(in_flows[branch_to_in[out_id]])] = 1
                self.add(None, n, pre, post)
            if after is not None:
                self.or_split(n, after, outs)
            self.b.notes[n.id] = ("mapped", f"inclusive join paired with split {split_id}: waits for the started branches")
            return
        pin = self.in_place(n.id)
        if len(outs) <= 1:
            self.add(None, n, {pin: 1}, self.out_bag(n))
            self.b.notes.setdefault(n.id, ("mapped", "inclusive gateway with one outgoing flow: pass-through"))
            return
        self.or_split(n, pin, outs)
        self.b.notes.setdefault(n.id, ("mapped", "inclusive split: one or more branches, never none"))

    def or_split(self, n: BpmnNode, pin: int, outs: list[BpmnFlow]) -> None:
        non_default = [f for f in outs if f.id != n.default_flow]
        if len(non_default) > MAX_OR_BRANCHES:
            raise self.b.err(n, f"inclusive split with {len(non_default)} branches (more than {MAX_OR_BRANCHES}) "
                                "is too large to expand")
        join = self.or_split_of.get(n.id)
        by_id = {f.id: f for f in outs}
        for subset in _or_subsets(outs, n.default_flow):
            post: dict[int, int] = {}
            for fid in subset:
                p = self.flow_place(by_id[fid])
                post[p] = post.get(p, 0) + 1
            if join is not None:
                key = (join, subset)
                if key not in self.control:
                    self.control[key] = self.net.place(f"or:{join}:{len(self.control)}")
                post[self.control[key]] = 1
            self.add(None, n, {pin: 1}, post)

    def _pair_or_joins(self) -> None:
        """Pair each inclusive join with the inclusive split whose branches it merges (structured regions)."""
        for j in self.nodes.values():
            if j.type != "inclusiveGateway" or len(self.ins[j.id]) < 2:
                continue
            transparent: set[str] = set()
            for _ in range(20):
                records = {f.id: self._origins(f, j.id, transparent) for f in self.ins[j.id]}
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
            if set(branch_to_in) != {f.id for f in self.outs[split_id]} or split_id in self.or_split_of:
                continue
            self.or_pairs[j.id] = (split_id, branch_to_in)
            self.or_split_of[split_id] = j.id

    def _origins(self, fin: BpmnFlow, join_id: str, transparent: set[str]) -> set[tuple[str, str]] | None:
        """(split id, split outgoing flow id) pairs an incoming flow of an OR-join comes from; None if open."""
        found: set[tuple[str, str]] = set()
        seen: set[str] = set()
        stack = [fin]
        while stack:
            f = stack.pop()
            if f.id in seen:
                continue
            seen.add(f.id)
            src = self.nodes[f.source]
            if src.type == "inclusiveGateway" and len(self.outs[src.id]) > 1 and src.id not in transparent:
                found.add((src.id, f.id))
                continue
            if src.id == join_id or not self.ins[src.id]:
                return None
            stack.extend(self.ins[src.id])
        return found

    # ------------------------------------------------------------ activities
    def activity(self, n: BpmnNode) -> None:
        bounds = self.boundary.get(n.id, [])
        nonint = [e for e in bounds if not e.cancel_activity]
        inter = [e for e in bounds if e.cancel_activity]
        pin = self.in_place(n.id)
        flags: list[tuple[int, int]] = []
        if nonint:
            act = self.net.place(f"active:{n.id}")
            flag_places = [(self.net.place(f"ready:{e.id}"), self.net.place(f"fired:{e.id}")) for e in nonint]
            pre_flags = {f: 1 for f, _ in flag_places}
            self.add(None, n, {pin: 1}, {act: 1, **pre_flags})
            flags = flag_places
            body_out_place = self.net.place(f"completed:{n.id}")
            self._cleanup(n, body_out_place, flags, self.out_bag(n))
            body_out = {body_out_place: 1}
        else:
            act = pin
            body_out = self.out_bag(n)
        internal = self.body(n, act, body_out)
        for e, (ready, fired) in zip(nonint, flags, strict=True):
            eouts = self.out_bag(e)
            for p in internal:
                post = {p: 1, fired: 1}
                for q, w in eouts.items():
                    post[q] = post.get(q, 0) + w
                self.add(None, e, {p: 1, ready: 1}, post)
            self.b.note(e, "mapped" if n.type in TASK_TYPES else "mapped",
                        "non-interrupting boundary event: an extra parallel path, at most once per activation")
        for e in inter:
            target = self.out_bag(e)
            if flags:
                gone = self.net.place(f"interrupted:{e.id}")
                self._cleanup(e, gone, flags, target)
                target = {gone: 1}
            self._interrupt(n, e, act, internal, target)

    def _cleanup(self, n: BpmnNode, start: int, flags: list[tuple[int, int]], final: dict[int, int]) -> None:
        """Consume each boundary flag (fired or not) before passing on: keeps the net safe."""
        cur = start
        for i, (ready, fired) in enumerate(flags):
            last = i == len(flags) - 1
            nxt = None if last else self.net.place(f"cleanup:{n.id}:{i}")
            post = final if last else {nxt: 1}
            self.add(None, n, {cur: 1, ready: 1}, post)
            self.add(None, n, {cur: 1, fired: 1}, post)
            if nxt is not None:
                cur = nxt

    def _interrupt(self, n: BpmnNode, e: BpmnNode, act: int, internal: list[int], target: dict[int, int]) -> None:
        if n.type in TASK_TYPES or n.type == "adHocSubProcess" or len(internal) == 1:
            for p in internal:
                self.add(None, e, {p: 1}, target)
            self.b.note(e, "mapped", "interrupting boundary event: an alternative path that cancels the activity")
            return
        states = self.b.body_states.get(n.id)
        if states is None:
            raise self.b.err(e, "interrupting boundary event: the sub-process has too many internal states to "
                                "express cancellation exactly")
        for m in states:
            self.add(None, e, dict(m), target)
        self.b.note(e, "mapped", f"interrupting boundary event: cancels the sub-process in any of its "
                                 f"{len(states)} internal states")

    def body(self, n: BpmnNode, act: int, body_out: dict[int, int]) -> list[int]:
        """Build the activity between ``act`` and ``body_out``; return its internal (active) places."""
        if n.type in TASK_TYPES:
            return self._task(n, act, body_out)
        if n.type == "adHocSubProcess":
            return self._adhoc(n, act, body_out)
        if n.type in SUBPROCESS_TYPES and not any(c.parent == n.id for c in self.all_nodes.values()):
            self.add(None, n, {act: 1}, body_out)
            self.b.note(n, "approximated", "collapsed sub-process whose content is not in the file: a silent step")
            return [act]
        if n.type in SUBPROCESS_TYPES:
            return self._subprocess(n, act, body_out, self.all_nodes, self.all_flows, n.id, self.override)
        if n.type == "callActivity":
            called = n.called_element
            if not called or called not in self.b.model.processes:
                raise self.b.err(
                    n,
                    f"call activity calls {called!r}, which is not a process in this file: "
                    "export the called process into the same file (it is inlined then)",
                )
            if called in self.stack:
                raise self.b.err(n, f"call activity calls {called!r} recursively")
            nodes, flows = self.b.model.processes[called]
            self.b.note(n, "mapped", f"call activity: process {called!r} inlined")
            return self._subprocess(n, act, body_out, nodes, flows, None, self.override or n.id, called)
        raise self.b.err(n, f"unsupported element type {n.type}")

    def _task(self, n: BpmnNode, act: int, out: dict[int, int]) -> list[int]:
        label = self.b.label(n)
        if label is None:
            self.b.note(n, "approximated", "unnamed task: a silent step (it cannot match a log activity)")
        if n.loop is None:
            self.add(label, n, {act: 1}, out)
            self.b.notes.setdefault(n.id, ("mapped", f"{n.type}: visible step"))
        elif n.loop_cardinality is not None and n.loop in ("parallel", "sequential"):
            cur = act
            k = max(n.loop_cardinality, 0)
            if k == 0:
                self.add(None, n, {act: 1}, out)
            for i in range(k):
                nxt = out if i == k - 1 else {self.net.place(f"mi:{n.id}:{i}"): 1}
                self.add(label, n, {cur: 1}, nxt)
                if i < k - 1:
                    cur = next(iter(nxt))
            self.b.notes.setdefault(n.id, ("mapped", f"multi-instance: exactly {k} executions"))
        else:
            self.add(label, n, {act: 1}, out)
            self.add(label, n, {act: 1}, {act: 1})
            if n.loop == "standard" and n.loop_test_before:
                self.add(None, n, {act: 1}, out)
                self.b.notes.setdefault(n.id, ("mapped", "loop (test before): zero or more executions"))
            elif n.loop == "standard":
                self.b.notes.setdefault(n.id, ("mapped", "loop: one or more executions"))
            else:
                self.b.notes.setdefault(n.id, ("mapped", "multi-instance: one or more executions"))
        return [act]

    def _adhoc(self, n: BpmnNode, act: int, out: dict[int, int]) -> list[int]:
        hub = self.net.place(f"adhoc:{n.id}")
        self.add(None, n, {act: 1}, {hub: 1})
        for c in self.all_nodes.values():
            if c.parent != n.id:
                continue
            if c.is_task:
                self.net.add(self.b.label(c), self.override or c.id, {hub: 1}, {hub: 1})
                self.b.note(c, "mapped", f"task of ad-hoc sub-process {n.id}")
            else:
                self.b.note(c, "ignored", f"inside ad-hoc sub-process {n.id}: only its tasks are used")
        self.add(None, n, {hub: 1}, out)
        self.b.note(n, "approximated", "ad-hoc sub-process: its tasks in any order, any number of times")
        return [act, hub]

    def _subprocess(self, n, act, out, nodes, flows, parent, override, called=None) -> list[int]:
        start = self.net.place(f"start:{n.id}")
        end = self.net.place(f"end:{n.id}")
        self.add(None, n, {act: 1}, {start: 1})
        first_place, first_trans = len(self.net.places), len(self.net.trans)
        self.b.build_scope(nodes, flows, parent, start, end, override=override,
                           stack=self.stack + ((called,) if called else ()))
        frag_trans = list(range(first_trans, len(self.net.trans)))
        space = explore(self.net, {start: 1}, transitions=frag_trans, max_states=20_000, timeout_s=3.0)
        k = 1
        if space.complete:
            enabled_from = {i for i, e in enumerate(space.edges) if e}
            counts = {dict(m).get(end, 0) for i, m in enumerate(space.markings) if i not in enabled_from}
            counts.discard(0)
            if len(counts) > 1:
                raise self.b.err(n, f"its branches end in a varying number of end events ({sorted(counts)}), "
                                    "so its completion cannot be expressed exactly")
            if counts:
                k = counts.pop()
            states = [m for m in space.markings if dict(m).get(end, 0) < k or len(m) > 1]
            self.b.body_states[n.id] = states if len(states) <= MAX_INTERRUPT_STATES else None
        else:
            if any(sum(self.net.trans[t].post.values()) > sum(self.net.trans[t].pre.values()) for t in frag_trans):
                raise self.b.err(n, f"cannot determine how its parallel branches complete ({space.reason})")
            self.b.body_states[n.id] = None
        self.add(None, n, {end: k}, out)
        if n.loop is not None:
            self.add(None, n, {end: k}, {start: 1})
            if n.loop == "standard" and n.loop_test_before:
                self.add(None, n, {act: 1}, out)
            if n.loop == "parallel":
                self.b.note(n, "approximated", "parallel multi-instance sub-process: instances run one after "
                                               "another (interleaving between instances is not modelled)")
            else:
                self.b.notes.setdefault(n.id, ("mapped", f"{'loop' if n.loop == 'standard' else 'multi-instance'}"
                                               " sub-process: one or more executions"))
        self.b.notes.setdefault(n.id, ("mapped", f"{n.type}: flattened"))
        internal = [start] + [p for p in range(first_place, len(self.net.places)) if self.net.place_alive[p]]
        internal.append(end)
        return internal


def _inside(node: BpmnNode, ancestor: str, nodes: Mapping[str, BpmnNode]) -> bool:
    cur = node.parent
    while cur:
        if cur == ancestor:
            return True
        cur = nodes[cur].parent if cur in nodes else None
    return False


def _or_subsets(outs: list[BpmnFlow], default: str | None) -> list[frozenset[str]]:
    """Non-empty subsets of the conditional branches, plus the default flow alone."""
    conds = [f.id for f in outs if f.id != default]
    subsets = [frozenset(c) for r in range(1, len(conds) + 1) for c in itertools.combinations(conds, r)]
    if default is not None and any(f.id == default for f in outs):
        subsets.append(frozenset({default}))
    return subsets


def _to_pm4py(result: BuildResult, model: BpmnModel) -> ConvertedNet:
    from pm4py.objects.petri_net.obj import Marking, PetriNet
    from pm4py.objects.petri_net.utils import petri_utils

    core = result.core
    net = PetriNet(f"bpmn:{model.process_name or model.process_id}")
    places: dict[int, Any] = {}

    def place(i: int):
        if i not in places:
            p = PetriNet.Place(core.places[i])
            net.places.add(p)
            places[i] = p
        return places[i]

    transition_element: dict[str, str] = {}
    activities: list[str] = []
    for t in core.live():
        pt = PetriNet.Transition(t.name, t.label)
        net.transitions.add(pt)
        transition_element[t.name] = t.element
        if t.label is not None and t.label not in activities:
            activities.append(t.label)
        for p, w in t.pre.items():
            petri_utils.add_arc_from_to(place(p), pt, net, weight=w)
        for p, w in t.post.items():
            petri_utils.add_arc_from_to(pt, place(p), net, weight=w)
    im = Marking({place(p): n for p, n in core.initial.items()})
    fm = Marking({place(p): n for p, n in core.final.items()})
    return ConvertedNet(
        net=net,
        initial_marking=im,
        final_marking=fm,
        transition_element=transition_element,
        activities=activities,
        approximations=list(result.approximations),
        model_sha256=model.sha256,
        core=core,
    )
