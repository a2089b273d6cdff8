"""BPMN model types: nodes, sequence flows, lanes, pools, DI geometry and the import report.

A :class:`BpmnModel` is what :func:`processmining.bpmn.read_bpmn` returns: the
control flow of one chosen process (sub-process contents included, marked by
``parent``), the lanes as the role of each node, the diagram interchange (DI)
geometry of the whole file, and a :class:`BpmnImportReport` that says, per
element, whether it was mapped, approximated, ignored or refused.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .labels import normalise_label

#: BPMN task types (local XML names) that become visible steps.
TASK_TYPES = frozenset(
    {
        "task",
        "userTask",
        "serviceTask",
        "manualTask",
        "sendTask",
        "receiveTask",
        "scriptTask",
        "businessRuleTask",
    }
)
SUBPROCESS_TYPES = frozenset({"subProcess", "transaction", "adHocSubProcess"})
ACTIVITY_TYPES = TASK_TYPES | SUBPROCESS_TYPES | {"callActivity"}
GATEWAY_TYPES = frozenset(
    {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
)
EVENT_TYPES = frozenset(
    {
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "implicitThrowEvent",
    }
)
FLOW_NODE_TYPES = ACTIVITY_TYPES | GATEWAY_TYPES | EVENT_TYPES

Status = Literal["mapped", "approximated", "ignored", "refused"]


@dataclass(frozen=True)
class BpmnNode:
    """One flow node (task, event, gateway, sub-process, call activity).

    ``type`` is the BPMN XML element name (``userTask``, ``exclusiveGateway``,
    ``boundaryEvent``...). ``events`` lists event definitions by their short
    name (``message``, ``timer``, ``terminate``, ``link``...). ``loop`` is
    ``None``, ``"standard"``, ``"parallel"`` (multi-instance) or
    ``"sequential"`` (multi-instance). ``parent`` is the id of the enclosing
    sub-process (``None`` at process level).
    """

    id: str
    type: str
    name: str = ""
    lane: str | None = None
    parent: str | None = None
    process: str | None = None
    events: tuple[str, ...] = ()
    loop: str | None = None
    loop_test_before: bool = False
    loop_cardinality: int | None = None
    attached_to: str | None = None
    cancel_activity: bool = True
    called_element: str | None = None
    default_flow: str | None = None
    triggered_by_event: bool = False
    is_for_compensation: bool = False
    link_name: str | None = None
    #: the link event definition's id and, for a throw, the id of the catch definition it names (``target``)
    link_ref: str | None = None
    link_target: str | None = None
    line: int | None = None

    @property
    def is_task(self) -> bool:
        return self.type in TASK_TYPES

    @property
    def is_gateway(self) -> bool:
        return self.type in GATEWAY_TYPES

    @property
    def is_event(self) -> bool:
        return self.type in EVENT_TYPES

    @property
    def label(self) -> str:
        """The name with runs of whitespace (incl. line breaks) collapsed."""
        return " ".join(self.name.split())

    def describe(self) -> str:
        """``userTask 'Approve' (id Task_1)``: how messages name the element."""
        return f"{self.type} {self.label!r} (id {self.id})" if self.label else f"{self.type} (id {self.id})"


@dataclass(frozen=True)
class BpmnFlow:
    """A sequence flow. ``condition`` holds the condition expression text when there is one."""

    id: str
    source: str
    target: str
    name: str = ""
    condition: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Lane:
    """A lane: a role. ``nodes`` are the ids of the flow nodes it holds (``flowNodeRef``)."""

    id: str
    name: str
    nodes: tuple[str, ...] = ()
    parent: str | None = None
    process: str | None = None


@dataclass(frozen=True)
class Pool:
    """A participant of a collaboration (drawn as a pool); ``process`` is its processRef."""

    id: str
    name: str
    process: str | None = None


@dataclass(frozen=True)
class Bounds:
    x: float
    y: float
    width: float
    height: float

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def cy(self) -> float:
        return self.y + self.height / 2


@dataclass(frozen=True)
class Shape:
    """A DI shape: bounds of one element plus how it is drawn."""

    element: str
    bounds: Bounds
    label: Bounds | None = None
    is_expanded: bool | None = None
    is_horizontal: bool | None = None
    is_marker_visible: bool | None = None


@dataclass(frozen=True)
class Edge:
    """A DI edge: waypoints of a sequence flow, message flow or association."""

    element: str
    waypoints: tuple[tuple[float, float], ...]
    label: Bounds | None = None


@dataclass
class Diagram:
    """Diagram interchange geometry, keyed by BPMN element id. Empty when the file has no DI."""

    shapes: dict[str, Shape] = field(default_factory=dict)
    edges: dict[str, Edge] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.shapes)

    def bounds(self) -> dict[str, Bounds]:
        return {k: s.bounds for k, s in self.shapes.items()}

    def waypoints(self) -> dict[str, tuple[tuple[float, float], ...]]:
        return {k: e.waypoints for k, e in self.edges.items()}


@dataclass(frozen=True)
class ElementReport:
    """What the importer did with one element, and why."""

    id: str
    type: str
    name: str
    status: Status
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BpmnImportReport:
    """The element-level import report.

    ``usable`` is True when the chosen process can be converted for
    conformance checking; otherwise ``problems`` says why, naming elements.
    ``elements`` has one entry per BPMN element of the chosen process (plus
    file-level elements such as message flows): mapped, approximated (how),
    ignored or refused (why).
    """

    source: str
    sha256: str
    process_id: str | None = None
    process_name: str | None = None
    process_choice: str = ""
    processes: list[dict[str, Any]] = field(default_factory=list)
    elements: list[ElementReport] = field(default_factory=list)
    dangling_references: list[str] = field(default_factory=list)
    disconnected_nodes: list[str] = field(default_factory=list)
    unnamed_tasks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    approximations: list[str] = field(default_factory=list)
    has_diagram: bool = False

    @property
    def usable(self) -> bool:
        return not self.problems

    def add(self, node_id: str, type_: str, name: str, status: Status, detail: str = "") -> None:
        self.elements.append(ElementReport(node_id, type_, " ".join((name or "").split()), status, detail))

    def counts(self) -> dict[str, int]:
        out = {"mapped": 0, "approximated": 0, "ignored": 0, "refused": 0}
        for e in self.elements:
            out[e.status] += 1
        return out

    def by_status(self, status: Status) -> list[ElementReport]:
        return [e for e in self.elements if e.status == status]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "sha256": self.sha256,
            "usable": self.usable,
            "process_id": self.process_id,
            "process_name": self.process_name,
            "process_choice": self.process_choice,
            "processes": self.processes,
            "counts": self.counts(),
            "elements": [e.to_dict() for e in self.elements],
            "dangling_references": self.dangling_references,
            "disconnected_nodes": self.disconnected_nodes,
            "unnamed_tasks": self.unnamed_tasks,
            "warnings": self.warnings,
            "problems": self.problems,
            "approximations": self.approximations,
            "has_diagram": self.has_diagram,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def summary(self, *, unsound: str | None = None) -> str:
        """Human-readable lines, as ``processmining bpmn check`` prints them.

        ``unsound``: the soundness check's reason when the converted net is not sound (then the model is
        not usable for conformance either, and the first line says so).
        """
        c = self.counts()
        verdict = "NOT usable" if not self.usable else "NOT usable: not sound" if unsound else "usable for conformance"
        lines = [
            f"{self.source}: process {self.process_name or self.process_id!r} ({verdict})",
            f"  chosen: {self.process_choice}",
            f"  elements: {c['mapped']} mapped, {c['approximated']} approximated, "
            f"{c['ignored']} ignored, {c['refused']} refused; diagram (DI): {'yes' if self.has_diagram else 'no'}",
        ]
        for e in self.elements:
            if e.status in ("approximated", "refused"):
                nm = f" {e.name!r}" if e.name else ""
                lines.append(f"  {e.status}: {e.type}{nm} (id {e.id}): {e.detail}")
        ignored: dict[str, int] = {}
        for e in self.by_status("ignored"):
            key = f"{e.type}: {e.detail}"
            ignored[key] = ignored.get(key, 0) + 1
        for key, n in sorted(ignored.items()):
            lines.append(f"  ignored: {n} x {key}")
        for title, items in (
            ("dangling reference", self.dangling_references),
            ("disconnected node", self.disconnected_nodes),
            ("unnamed task", self.unnamed_tasks),
            ("warning", self.warnings),
            ("problem", self.problems),
        ):
            lines.extend(f"  {title}: {item}" for item in items)
        return "\n".join(lines)


@dataclass
class BpmnModel:
    """One BPMN process, ready for conversion and drawing.

    Example::

        model = read_bpmn("bpmn_models/lead_to_order.bpmn")
        [t.name for t in model.tasks]      # task names, document order
        model.lane_of("Discount Approval")  # 'Sales Manager'
        model.report.usable                 # True
    """

    source: str
    sha256: str
    process_id: str
    process_name: str
    nodes: dict[str, BpmnNode]
    flows: dict[str, BpmnFlow]
    lanes: dict[str, Lane]
    diagram: Diagram
    report: BpmnImportReport
    pools: dict[str, Pool] = field(default_factory=dict)
    message_flows: dict[str, BpmnFlow] = field(default_factory=dict)
    #: every process in the file: id -> (nodes, flows); used to inline call activities
    processes: dict[str, tuple[dict[str, BpmnNode], dict[str, BpmnFlow]]] = field(default_factory=dict)
    #: names shown for elements drawn but not in the chosen process (other pools' nodes, annotations)
    other_elements: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: the conversion built while validating (reused by ``to_petri_net``; labels are applied on export)
    _conversion: Any = field(default=None, repr=False, compare=False)
    _conversion_alignments: Any = field(default=None, repr=False, compare=False)

    @property
    def tasks(self) -> list[BpmnNode]:
        """The visible steps of the chosen process, incl. those inside sub-processes: task nodes (every task
        type), and call activities and collapsed sub-processes whose content is not in the file (one step
        each, named like the activity)."""
        parents = {n.parent for n in self.nodes.values()}
        return [n for n in self.nodes.values() if n.is_task or self._opaque(n, parents)]

    def is_opaque(self, node: BpmnNode) -> bool:
        """A call activity whose called process is not in the file (or empty), or a sub-process without
        content in the file: read as one step named like the activity."""
        return self._opaque(node, {n.parent for n in self.nodes.values()})

    def _opaque(self, node: BpmnNode, parents: set[str | None]) -> bool:
        if node.type == "callActivity":
            called = self.processes.get(node.called_element or "")
            return not (called and called[0])
        return node.type in SUBPROCESS_TYPES and not node.triggered_by_event and node.id not in parents

    def lane_of(self, task_name: str) -> str | None:
        """The lane (role) name of the task with this name (:func:`normalise_label` match), or None."""
        key = normalise_label(task_name)
        for n in self.tasks:
            if normalise_label(n.label) == key and n.lane:
                lane = self.lanes.get(n.lane)
                return lane.name if lane else None
        return None

    def node(self, node_id: str) -> BpmnNode:
        return self.nodes[node_id]
