"""BPMN -> Petri net with the behaviour of the model (for alignments and token replay).

Mapping (each sequence flow is a place; XOR-style targets share one input
place; AND/paired-OR joins get one place per incoming flow):

* tasks of every type: one visible transition labelled with the task name
  (after ``label_map``); several outgoing flows = parallel split, several
  incoming = merge (BPMN's uncontrolled flow); unnamed tasks are silent;
* events: silent steps; several start events are alternatives; without a
  start event every node without incoming flow starts (BPMN semantics);
  link throw -> catch is a goto (paired by target or name); terminate ends are checked (see below);
* exclusive and event-based gateways: choice; parallel: fork/join;
  inclusive: one silent transition per non-empty subset of branches (the
  default flow alone), and a paired OR-join waits for exactly the branches
  its split started (a control place per subset); an OR-join with no
  matching split gets the BPMN non-local semantics (see :mod:`.orjoin`);
* embedded sub-processes, transactions and call activities (called process
  in the same file) are flattened; a call activity whose process is not in
  the file, and a collapsed sub-process without content, is one step named
  like it (reported as approximated); ad-hoc sub-processes become "any of its
  tasks, any number of times" (reported as approximated); a sub-process whose
  branches end in different numbers of end events completes when no token is
  left inside (see :mod:`.completion`);
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

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import BpmnError
from . import orjoin
from .flatten import Scope
from .model import BpmnFlow, BpmnModel, BpmnNode
from .netcore import CoreNet, explore


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
    alignments or token replay (no arc weights, so pm4py's synchronous
    product keeps the semantics). ``transition_element`` maps every
    transition's ``.name`` (silent ones too) to the BPMN element id it
    stands for (steps inlined from a called process map to the call
    activity; the silent steps that collect several end tokens map to the
    process id); ``activities`` are the visible labels; ``approximations``
    says where the net's behaviour differs from the BPMN semantics.

    Note for alignment fitness: pm4py's ``log_fitness`` counts silent moves
    (cost 1 each), so two nets with the same language can differ in the 4th
    decimal; per-trace fitness and the share of fitting traces do not.
    """

    net: Any
    initial_marking: Any
    final_marking: Any
    transition_element: dict[str, str]
    activities: list[str]
    approximations: list[str]
    model_sha256: str = ""
    core: CoreNet | None = field(default=None, repr=False)
    #: BPMN element id -> how messages name it (``task 'Approve' (id T1)``)
    element_names: dict[str, str] = field(default_factory=dict, repr=False)


def to_petri_net(
    model: BpmnModel,
    *,
    label_map: Mapping[str, str] | None = None,
    alignments_only: bool = False,
) -> ConvertedNet:
    """Convert a BPMN model into a pm4py Petri net with the model's behaviour.

    ``label_map`` renames tasks to log activity labels (task name ->
    activity; see :func:`match_labels`). By default every task has exactly
    one transition, so pm4py's token replay (which looks transitions up by
    label) works; ``alignments_only=True`` removes more silent transitions by
    giving some tasks a second transition (same language; pm4py alignments
    on receipt.bpmn about 2x faster), for alignments only. Raises :class:`BpmnError` naming
    the element (id, type, name) for what cannot be converted exactly nor
    approximated: a recursive call activity, a complex gateway, an OR gateway
    with more than 8 branches, dangling references, misdirected flows.

    Example::

        >>> conv = to_petri_net(read_bpmn("bpmn_models/lead_to_order.bpmn"))
        >>> sorted(conv.activities)[:2]
        ['Closed Lost', 'Closed Won']
        >>> import pm4py
        >>> pm4py.fitness_alignments(log, conv.net, conv.initial_marking, conv.final_marking)
    """
    _refuse_problems(model)
    result = build_core(model, alignments_only=alignments_only)
    return _to_pm4py(result, model, label_map or {})


def compile_net(model: BpmnModel, *, alignments_only: bool = False) -> CoreNet:
    """The model's reduced net (visible labels = task names), as conformance checking compiles it.

    Built once per model (when :func:`read_bpmn` validates it) and cached on the model; treat it as
    read-only. ``alignments_only``: see :func:`to_petri_net`. Raises :class:`BpmnError` naming the
    elements when the model cannot be converted.

    Example::

        >>> core = compile_net(read_bpmn("bpmn_models/lead_to_order.bpmn"))
        >>> sorted({t.label for t in core.live() if t.label})[:2]
        ['Closed Lost', 'Closed Won']
    """
    _refuse_problems(model)
    return build_core(model, alignments_only=alignments_only).core


def _refuse_problems(model: BpmnModel) -> None:
    if model.report.problems:
        raise BpmnError(
            "the model cannot be converted: " + "; ".join(model.report.problems[:3])
            + (f" (and {len(model.report.problems) - 3} more)" if len(model.report.problems) > 3 else ""),
            source=model.source,
        )


def build_core(model: BpmnModel, *, alignments_only: bool = False) -> BuildResult:
    """Build and reduce the internal net, or return the one cached on the model; raises :class:`BpmnError`.

    The only writer of the model's conversion cache.
    """
    cached = model._conversion_alignments if alignments_only else model._conversion
    if isinstance(cached, BuildResult):
        return cached
    try:
        result = _build(model, alignments_only, "exact", "")
    except orjoin.LocalOrJoins as exc:
        result = _build(model, alignments_only, "local", exc.reason)
    if alignments_only:
        model._conversion_alignments = result
    else:
        model._conversion = result
    return result


def _build(model: BpmnModel, alignments_only: bool, or_mode: str, or_reason: str) -> BuildResult:
    b = Build(model, or_mode, or_reason)
    source = b.net.place("source")
    sink = b.net.place("sink")
    b.net.initial = {source: 1}
    b.build_scope(model.nodes, model.flows, None, source, sink, override=None, stack=())
    orjoin.settle(b)
    b.net.final = {sink: 1}  # provisional (the token count is set by finish); keeps the sink out of reductions
    b.net.reduce(copy_visible=alignments_only)
    b.finish(sink)
    try:
        b.net.unweight()
    except ValueError as exc:
        raise BpmnError(f"internal conversion limit: {exc}", source=model.source) from None
    return BuildResult(b.net, b.approx, b.notes, b.scope_messages)


class Build:
    """One conversion in progress: the net, the notes per element; implements :class:`flatten.Builder`."""

    def __init__(self, model: BpmnModel, or_mode: str = "exact", or_reason: str = "") -> None:
        self.model = model
        self.net = CoreNet()
        self.approx: list[str] = []
        self.notes: dict[str, tuple[str, str]] = {}
        self.terminates: list[int] = []
        self.body_states: dict[str, list | None] = {}
        self.raise_places: dict[tuple[str, str], int] = {}
        self.raise_states: dict[tuple[str, str], list | None] = {}
        self.scope_messages: list[str] = []
        self.or_mode = or_mode
        self.or_reason = or_reason
        self.or_joins: list[orjoin.UnpairedJoin] = []
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
            # branches end in a varying number of end events: collect end tokens into one
            # 'finished' token, so the final marking means "all branches ended"
            first = net.place("not-finished")
            finished = net.place("finished")
            net.initial[first] = 1
            net.add(None, self.model.process_id, {sink: 1, first: 1}, {finished: 1})
            net.add(None, self.model.process_id, {sink: 1, finished: 1}, {finished: 1})
            net.final = {finished: 1}
        else:
            net.final = {sink: 1}
        net.final.update({c: 1 for c in net.complement_of})  # every guarded place is empty at the end
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
                    others = (sum(w for p, w in md.items() if p not in net.complement_of)
                              - sum(w for p, w in t.pre.items() if p not in net.complement_of) - md.get(sink, 0))
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
        sc = Scope(self, nodes, flows, parent, entry, done, override, stack)
        sc.build()


def _to_pm4py(result: BuildResult, model: BpmnModel, label_map: Mapping[str, str]) -> ConvertedNet:
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

    renames = {" ".join(k.split()): v for k, v in label_map.items()}
    transition_element: dict[str, str] = {}
    activities: list[str] = []
    for t in core.live():
        label = None if t.label is None else renames.get(t.label, t.label)
        pt = PetriNet.Transition(t.name, label)
        net.transitions.add(pt)
        transition_element[t.name] = t.element
        if label is not None and label not in activities:
            activities.append(label)
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
        element_names=element_names(model),
    )


def element_names(model: BpmnModel) -> dict[str, str]:
    """BPMN element id -> how messages name it (``task 'Approve' (id T1)``), sequence flows included."""
    return {**{n.id: n.describe() for n in model.nodes.values()},
            **{f.id: f"sequence flow {f.id!r} into {model.nodes[f.target].describe()}"
               for f in model.flows.values() if f.target in model.nodes}}
