"""Flattening one BPMN scope (process level or sub-process body) into the conversion's net.

See :mod:`processmining.bpmn.petri` for the mapping of each construct.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from ..errors import BpmnError
from . import completion, orjoin
from .labels import normalise_label
from .model import SUBPROCESS_TYPES, TASK_TYPES, BpmnFlow, BpmnNode
from .netcore import CoreNet, explore

if TYPE_CHECKING:
    from .model import BpmnModel

#: end-event kinds that a boundary event of the enclosing sub-process catches
THROWN = ("error", "escalation", "cancel")


class Builder(Protocol):
    """What a :class:`Scope` needs from the conversion that owns the net (:class:`processmining.bpmn.petri.Build`).

    The seam between the two modules: ``petri`` owns the net and the per-element notes, ``flatten``
    builds one scope into it and calls ``build_scope`` for nested sub-processes and called processes.
    """

    model: BpmnModel
    net: CoreNet
    notes: dict[str, tuple[str, str]]
    terminates: list[int]
    body_states: dict[str, list | None]
    raise_places: dict[tuple[str, str], int]
    raise_states: dict[tuple[str, str], list | None]
    scope_messages: list[str]
    #: "exact": OR-joins without a split get the non-local semantics; "local": they do not wait (see orjoin)
    or_mode: str
    or_reason: str
    or_joins: list[orjoin.UnpairedJoin]

    def note(self, node: BpmnNode, status: str, detail: str) -> None: ...

    def err(self, node: BpmnNode, message: str) -> BpmnError: ...

    def label(self, node: BpmnNode) -> str | None: ...

    def build_scope(self, nodes: Mapping[str, BpmnNode], flows: Mapping[str, BpmnFlow], parent: str | None,
                    entry: int, done: int, *, override: str | None, stack: tuple[str, ...]) -> None: ...


class Scope:
    """Builds one process level or sub-process body into the builder's net."""

    def __init__(self, b: Builder, nodes, flows, parent, entry, done, override, stack) -> None:
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
        #: place -> the flow it stands for / the node whose input it is (to record flow traversals)
        self.flow_at: dict[int, str] = {}
        self.target_at: dict[int, str] = {}
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
        self.unpaired: list[orjoin.UnpairedJoin] = []
        self.first_trans = len(self.net.trans)

    def el(self, node: BpmnNode) -> str:
        return self.override or node.id

    def add(self, label, node: BpmnNode, pre, post, *, hit: bool = True, flows: bool = True,
            via: tuple[str, ...] | None = None):
        """A transition of ``node``; ``hit``: one firing is one execution of the node (see :class:`Trans`).

        The sequence flows it traverses are read off its output places: a token on a flow's own
        place, or on the input place of a node that ``node`` has a sequence flow to; ``via``
        names them instead where that is ambiguous (choices between flows to one target).
        """
        bag = post if isinstance(post, dict) else {q: 1 for q in post}
        taken: list[str] = list(via or ())
        if flows and via is None:
            for q, w in bag.items():
                if q in self.flow_at:
                    taken.extend([self.flow_at[q]] * w)
                elif q in self.target_at:
                    direct = sorted(f.id for f in self.outs.get(node.id, ()) if f.target == self.target_at[q])
                    taken.extend(direct[:w])
        return self.net.add(label, self.el(node), pre, post, hits=(node.id,) if hit else (), flows=tuple(taken))

    # places
    def in_place(self, node_id: str) -> int:
        if node_id not in self.inp:
            self.inp[node_id] = self.net.place(f"in:{node_id}")
            self.target_at[self.inp[node_id]] = node_id
        return self.inp[node_id]

    def flow_place(self, f: BpmnFlow) -> int:
        tgt = self.nodes[f.target]
        joins = len(self.ins[tgt.id]) > 1
        if joins and tgt.type in ("parallelGateway", "inclusiveGateway"):
            if f.id not in self.own:
                self.own[f.id] = self.net.place(f"flow:{f.id}")
                self.flow_at[self.own[f.id]] = f.id
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
            orjoin.or_split(self, node, mid, outs, hit=False)
            self.b.note(node, "mapped", "conditional outgoing flows: one or more of them (inclusive split)")
            return {mid: 1}
        bag: dict[int, int] = {}
        for f in outs:
            p = self.flow_place(f)
            bag[p] = bag.get(p, 0) + 1
        return bag

    # ------------------------------------------------------------ build
    def build(self) -> None:
        orjoin.pair_or_joins(self)
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
                    f"{where} has no start event and every node has an incoming flow: nowhere to start; add a "
                    "start event before the first step",
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
        if self.unpaired:
            orjoin.guard_joins(self.b, self.unpaired, self.first_trans, self.entry)

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
            kind = next((k for k in n.events if k in THROWN), None)
            if kind is not None and self.parent is not None and self._catcher(kind) is not None:
                # an error/escalation/cancel end leaves the sub-process through the matching boundary event
                key = (self.parent, kind)
                if key not in self.b.raise_places:
                    self.b.raise_places[key] = self.net.place(f"raised:{kind}:{self.parent}")
                raised = self.b.raise_places[key]
                self.add(None, n, {pin: 1}, {raised: 1})
                self.b.notes[n.id] = ("mapped", f"{kind} end event: caught by the {kind} boundary event of "
                                                f"{self.parent}")
                return
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

    def _catcher(self, kind: str) -> BpmnNode | None:
        for c in self.all_nodes.values():
            if c.type == "boundaryEvent" and c.attached_to == self.parent and kind in c.events and c.cancel_activity:
                return c
        return None

    def _link_target(self, n: BpmnNode) -> BpmnNode:
        """The link catch event a link throw event jumps to (BPMN: a pair of link events is a goto).

        Paired by the throw definition's ``target``, else by link name, else by event name (names
        compared by :func:`normalise_label`: tools break long names over lines differently), else with
        the only link catch event of the scope (reported).
        """
        catches = [c for c in self.nodes.values() if c.type == "intermediateCatchEvent" and "link" in c.events]
        if n.link_target:
            hit = [c for c in catches if c.link_ref == n.link_target]
            if hit:
                return hit[0]
        for key in ("link_name", "label"):
            want = normalise_label(getattr(n, key) or "")
            hit = [c for c in catches if want and normalise_label(getattr(c, key) or "") == want]
            if len(hit) == 1:
                return hit[0]
        if len(catches) == 1:
            self.b.scope_messages.append(f"{n.describe()}: no link name matches, paired with the only link catch "
                                         f"event of its scope, {catches[0].describe()}")
            return catches[0]
        names = ", ".join(repr(c.link_name or c.label) for c in catches) or "none"
        raise self.b.err(n, f"link throw event {(n.link_name or n.label)!r} has no link catch event with the same "
                            f"name in its scope (link catch events there: {names}): give the throw and the catch "
                            "event's link definitions the same name")

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
            orjoin.inclusive(self, n)
            return
        # exclusive / event-based: choice among outgoing flows, merge of incoming
        pin = self.in_place(n.id)
        if not outs:
            self.add(None, n, {pin: 1}, {self.done: 1})
        for f in outs:
            self.add(None, n, {pin: 1}, {self.flow_place(f): 1}, via=(f.id,))
        self.b.notes.setdefault(n.id, ("mapped", "exclusive choice" if kind == "exclusiveGateway" else
                                       "event-based gateway: exclusive choice of the first event"))

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
            self.add(None, n, {pin: 1}, {act: 1, **pre_flags}, hit=False)
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
            for m in internal:
                post = {**m, fired: 1}
                for q, w in eouts.items():
                    post[q] = post.get(q, 0) + w
                self.add(None, e, {**m, ready: 1}, post)
            self.b.note(e, "mapped", "non-interrupting boundary event: an extra parallel path, at most once per "
                                     "activation")
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
            self.add(None, n, {cur: 1, ready: 1}, post, hit=False)
            self.add(None, n, {cur: 1, fired: 1}, post, hit=False)
            if nxt is not None:
                cur = nxt

    def _interrupt(self, n: BpmnNode, e: BpmnNode, act: int, internal: list[dict[int, int]],
                   target: dict[int, int]) -> None:
        kind = next((k for k in e.events if (n.id, k) in self.b.raise_states), None)
        if kind is not None:
            raised = self.b.raise_states[(n.id, kind)]
            if raised is None:
                raise self.b.err(e, f"the {kind} thrown inside {n.describe()} can leave it in too many states to "
                                    "express exactly")
            for m in raised:
                self.add(None, e, dict(m), target)
        if n.type in TASK_TYPES or n.type == "adHocSubProcess" or len(internal) == 1:
            for m in internal:
                self.add(None, e, dict(m), target)
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

    def body(self, n: BpmnNode, act: int, body_out: dict[int, int]) -> list[dict[int, int]]:
        """Build the activity between ``act`` and ``body_out``; return the markings in which it is active."""
        if n.type in TASK_TYPES:
            return self._task(n, act, body_out)
        if n.type in SUBPROCESS_TYPES and not any(c.parent == n.id for c in self.all_nodes.values()):
            self.b.note(n, "approximated", f"collapsed sub-process whose content is not in the file: read as one "
                                           f"step {n.label!r}" if n.label else
                        "collapsed sub-process whose content is not in the file and that has no name: a silent step")
            return self._task(n, act, body_out)
        if n.type == "adHocSubProcess":
            return self._adhoc(n, act, body_out)
        if n.type in SUBPROCESS_TYPES:
            return self._subprocess(n, act, body_out, self.all_nodes, self.all_flows, n.id, self.override)
        if n.type == "callActivity":
            return self._call(n, act, body_out)
        raise self.b.err(n, f"unsupported element type {n.type}")

    def _call(self, n: BpmnNode, act: int, body_out: dict[int, int]) -> list[dict[int, int]]:
        """A call activity: the called process inlined when the file holds it, else one opaque step."""
        called = n.called_element
        nodes, flows = self.b.model.processes.get(called, ({}, {})) if called else ({}, {})
        if called and called in self.stack:
            raise self.b.err(n, f"call activity calls {called!r} recursively (a process that calls itself cannot "
                                "be flattened): replace the recursive call by a loop marker")
        if nodes:
            self.b.note(n, "mapped", f"call activity: process {called!r} inlined")
            return self._subprocess(n, act, body_out, nodes, flows, None, self.override or n.id, called)
        if not called:
            why = "names no called process (no calledElement)"
        elif called in self.b.model.processes:
            why = f"calls process {called!r}, which is empty in this file"
        else:
            why = f"calls {called!r}, which is not in this file"
        self.b.note(n, "approximated", f"call activity {why}: read as one step {n.label!r} (the called process's "
                                       "own steps are not known)" if n.label else
                    f"call activity {why} and has no name: a silent step")
        return self._task(n, act, body_out)

    def _task(self, n: BpmnNode, act: int, out: dict[int, int]) -> list[dict[int, int]]:
        """One visible transition per task (loops and counters use silent steps), so every task has exactly
        one transition: pm4py's token replay looks transitions up by label."""
        label = self.b.label(n)
        if label is None and n.is_task:
            self.b.note(n, "approximated", "unnamed task: a silent step (it cannot match a log activity)")
        if n.loop is None:
            self.add(label, n, {act: 1}, out)
            self.b.notes.setdefault(n.id, ("mapped", f"{n.type}: visible step"))
            return [{act: 1}]
        if n.loop_cardinality is not None and n.loop in ("parallel", "sequential"):
            k = max(n.loop_cardinality, 0)
            self.b.notes.setdefault(n.id, ("mapped", f"multi-instance: exactly {k} executions"))
            if k == 0:
                self.add(None, n, {act: 1}, out, hit=False)
                return [{act: 1}]
            # a counter of k places: run, finish one instance, run again until the k-th finished
            run = self.net.place(f"mi-run:{n.id}")
            fin = self.net.place(f"mi-done:{n.id}")
            count = [self.net.place(f"mi-count:{n.id}:{i}") for i in range(k)]
            self.add(None, n, {act: 1}, {run: 1, count[0]: 1}, hit=False)
            self.add(label, n, {run: 1}, {fin: 1})
            for i in range(k - 1):
                self.add(None, n, {fin: 1, count[i]: 1}, {run: 1, count[i + 1]: 1}, hit=False)
            self.add(None, n, {fin: 1, count[k - 1]: 1}, out, hit=False)
            return [{act: 1}] + [{p: 1, c: 1} for c in count for p in (run, fin)]
        again = self.net.place(f"loop:{n.id}")
        self.add(label, n, {act: 1}, {again: 1})
        self.add(None, n, {again: 1}, {act: 1}, hit=False, flows=False)
        self.add(None, n, {again: 1}, out, hit=False)
        if n.loop == "standard" and n.loop_test_before:
            self.add(None, n, {act: 1}, out, hit=False)
            self.b.notes.setdefault(n.id, ("mapped", "loop (test before): zero or more executions"))
        elif n.loop == "standard":
            self.b.notes.setdefault(n.id, ("mapped", "loop: one or more executions"))
        else:
            self.b.notes.setdefault(n.id, ("mapped", "multi-instance: one or more executions"))
        return [{act: 1}, {again: 1}]

    def _adhoc(self, n: BpmnNode, act: int, out: dict[int, int]) -> list[int]:
        hub = self.net.place(f"adhoc:{n.id}")
        self.add(None, n, {act: 1}, {hub: 1})
        for c in self.all_nodes.values():
            if c.parent != n.id:
                continue
            if c.is_task:
                self.net.add(self.b.label(c), self.override or c.id, {hub: 1}, {hub: 1}, hits=(c.id,))
                self.b.note(c, "mapped", f"task of ad-hoc sub-process {n.id}")
            else:
                self.b.note(c, "ignored", f"inside ad-hoc sub-process {n.id}: only its tasks are used")
        self.add(None, n, {hub: 1}, out, hit=False)
        self.b.note(n, "approximated", "ad-hoc sub-process: its tasks in any order, any number of times")
        return [{act: 1}, {hub: 1}]

    def _subprocess(self, n, act, out, nodes, flows, parent, override, called=None) -> list[int]:
        start = self.net.place(f"start:{n.id}")
        end = self.net.place(f"end:{n.id}")
        enter = self.add(None, n, {act: 1}, {start: 1})
        first_place, first_trans = len(self.net.places), len(self.net.trans)
        self.b.build_scope(nodes, flows, parent, start, end, override=override,
                           stack=self.stack + ((called,) if called else ()))
        frag_trans = list(range(first_trans, len(self.net.trans)))
        space = explore(self.net, {start: 1}, transitions=frag_trans, max_states=20_000, timeout_s=3.0)
        k = 1
        varying = False
        if space.complete:
            enabled_from = {i for i, e in enumerate(space.edges) if e}
            raised = {p for (sp, _k), p in self.b.raise_places.items() if sp == n.id}
            counts = {dict(m).get(end, 0) for i, m in enumerate(space.markings)
                      if i not in enabled_from and not any(p in raised for p, _ in m)}
            counts.discard(0)
            if len(counts) > 1 and self.b.or_mode == "local":
                raise self.b.err(n, f"its branches end in a varying number of end events ({sorted(counts)}) and "
                                    f"its completion cannot be checked ({self.b.or_reason}): end every branch in "
                                    "an end event of its own, or merge them before one end event")
            if len(counts) == 1:
                k = counts.pop()
            varying = len(counts) > 1
        elif any(sum(self.net.trans[t].post.values()) > sum(self.net.trans[t].pre.values()) for t in frag_trans):
            raise self.b.err(n, f"cannot determine how its parallel branches complete ({space.reason})")
        done = end
        restart = {start: 1}
        if k > 1:
            # count the k end tokens with a chain of places (pm4py nets carry no arc weights)
            done = self.net.place(f"ended:{n.id}:0")
            enter.post[done] = 1
            restart[done] = 1
            for i in range(1, k + 1):
                nxt = self.net.place(f"ended:{n.id}:{i}")
                self.add(None, n, {end: 1, done: 1}, {nxt: 1}, hit=False)
                done = nxt
        if varying:
            done = completion.all_ended(self, n, enter, restart, end, first_place, first_trans)
        if any(e.cancel_activity for e in self.boundary.get(n.id, [])):
            self.b.body_states[n.id] = completion.cancel_states(self, n, restart, done, first_trans)
            for (sp, kind), place in self.b.raise_places.items():
                if sp == n.id:
                    self.b.raise_states[(sp, kind)] = completion.raised_states(self, restart, place, first_trans)
        self.add(None, n, {done: 1}, out, hit=False)
        if n.loop is not None:
            self.add(None, n, {done: 1}, restart)  # each further iteration is one more execution
            if n.loop == "standard" and n.loop_test_before:
                self.add(None, n, {act: 1}, out, hit=False)
            if n.loop in ("parallel", "sequential") and n.loop_cardinality is not None:
                self.b.note(n, "approximated", f"multi-instance sub-process with {n.loop_cardinality} instances: "
                                               "modelled as one or more instances, one after another")
            elif n.loop == "parallel":
                self.b.note(n, "approximated", "parallel multi-instance sub-process: instances run one after "
                                               "another (interleaving between instances is not modelled)")
            else:
                self.b.notes.setdefault(n.id, ("mapped", f"{'loop' if n.loop == 'standard' else 'multi-instance'}"
                                               " sub-process: one or more executions"))
        self.b.notes.setdefault(n.id, ("mapped", f"{n.type}: flattened"))
        inner = [p for p in range(first_place, len(self.net.places))
                 if self.net.place_alive[p] and p != done and p not in self.net.complement_of]
        return [{p: 1} for p in (start, end, *inner)]


def _inside(node: BpmnNode, ancestor: str, nodes: Mapping[str, BpmnNode]) -> bool:
    cur = node.parent
    while cur:
        if cur == ancestor:
            return True
        cur = nodes[cur].parent if cur in nodes else None
    return False
