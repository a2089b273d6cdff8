"""Hardened BPMN 2.0 XML parsing: file -> :class:`BpmnModel` plus the import report.

XML goes through :mod:`processmining.safe_input` (no entities, no DTD, no
network). Elements are recognised by their local name, so any namespace
prefix works; vendor extensions (``extensionElements``, foreign attributes)
are skipped. A file may hold several processes and a collaboration with
pools; one process is chosen (``process=`` by id, name or pool name; by
default the one with the most tasks) and the report says which and why.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

from lxml import etree

from ..errors import BpmnError, IngestError, UnsafeInputError
from ..safe_input import read_bytes
from .labels import normalise_label
from .model import (
    ACTIVITY_TYPES,
    FLOW_NODE_TYPES,
    SUBPROCESS_TYPES,
    TASK_TYPES,
    Bounds,
    BpmnFlow,
    BpmnImportReport,
    BpmnModel,
    BpmnNode,
    Diagram,
    Edge,
    Lane,
    Pool,
    Shape,
)
from .xmlfix import parse_bpmn_xml

_IGNORED_ARTIFACTS = {
    "dataObject": "data object: not control flow",
    "dataObjectReference": "data object: not control flow",
    "dataStoreReference": "data store: not control flow",
    "textAnnotation": "annotation: not control flow",
    "association": "association: not control flow",
    "dataInputAssociation": "data association: not control flow",
    "dataOutputAssociation": "data association: not control flow",
    "group": "group: not control flow",
    "property": "process property: not control flow",
}
_SKIP_CHILDREN = {
    "extensionElements",
    "documentation",
    "laneSet",
    "ioSpecification",
    "incoming",
    "outgoing",
    "standardLoopCharacteristics",
    "multiInstanceLoopCharacteristics",
    "resourceRole",
    "performer",
    "potentialOwner",
    "humanPerformer",
    "auditing",
    "monitoring",
    "category",
    "correlationSubscription",
}


def _local(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _name(el: etree._Element) -> str:
    return (el.get("name") or "").strip()


def _bool(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in ("true", "1")


@dataclass
class _Scope:
    """Everything collected from one ``<process>`` element."""

    id: str
    name: str
    element: etree._Element
    nodes: dict[str, BpmnNode] = field(default_factory=dict)
    flows: dict[str, BpmnFlow] = field(default_factory=dict)
    lanes: dict[str, Lane] = field(default_factory=dict)
    ignored: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: flow id -> scope (process or sub-process id) it was declared in
    flow_scope: dict[str, str] = field(default_factory=dict)
    #: event definitions declared at the top of the file, by id (targets of ``eventDefinitionRef``)
    shared_defs: dict[str, etree._Element] = field(default_factory=dict)

    @property
    def task_count(self) -> int:
        return sum(1 for n in self.nodes.values() if n.type in TASK_TYPES or n.type == "callActivity")


def read_bpmn(
    source: str | os.PathLike | bytes,
    *,
    name: str | None = None,
    process: str | None = None,
) -> BpmnModel:
    """Read a BPMN 2.0 file safely and return one process as a :class:`BpmnModel`.

    ``source`` is a local path or the bytes of an upload (``name`` is then
    shown in messages). ``process`` picks a process by id, name or pool
    (participant) name; by default the process with the most tasks is used
    and ``model.report.process_choice`` says so. The returned model always
    carries its import report; ``model.report.usable`` tells whether it can
    be converted for conformance checking (``report.problems`` says why not).

    Raises :class:`BpmnError` when the file is not BPMN, holds no process
    with flow nodes, or ``process`` names nothing; :class:`UnsafeInputError`
    for hostile XML (entity declarations, external DTDs, URLs).

    Example::

        >>> model = read_bpmn("bpmn_models/it_support_ticket.bpmn")
        >>> model.lane_of("2nd Line Support")
        '2nd Line'
    """
    try:
        raw = read_bytes(source, name=name)
        root, repairs = parse_bpmn_xml(raw.data, raw.name)
    except UnsafeInputError:
        raise
    except IngestError as exc:
        raise BpmnError(exc.message, source=exc.source, line=exc.line, column=exc.column) from None
    from .validate import validate_model

    model = _build_model(root, raw.name, raw.sha256, process)
    model.report.warnings[:0] = repairs
    validate_model(model)
    return model


def _build_model(root: etree._Element, source: str, sha256: str, wanted: str | None) -> BpmnModel:
    scopes: dict[str, _Scope] = {}
    globals_: dict[str, tuple[str, str]] = {}
    collaboration_pools: dict[str, Pool] = {}
    message_flows: dict[str, BpmnFlow] = {}
    other: dict[str, tuple[str, str]] = {}
    shared = {c.get("id") or "": c for c in root if _local(c).endswith("EventDefinition")}
    for child in root:
        kind = _local(child)
        if kind == "process":
            pid = child.get("id") or f"process_{len(scopes) + 1}"
            scope = _Scope(pid, _name(child), child, shared_defs=shared)
            _collect(child, scope, parent=None)
            _collect_lanes(child, scope)
            scopes[pid] = scope
        elif kind in ("globalTask", "globalUserTask", "globalManualTask", "globalScriptTask", "globalBusinessRuleTask"):
            globals_[child.get("id") or ""] = (kind, _name(child))
        elif kind == "collaboration":
            for part in child:
                pk = _local(part)
                if pk == "participant":
                    pool = Pool(part.get("id") or "", _name(part), part.get("processRef"))
                    collaboration_pools[pool.id] = pool
                elif pk == "messageFlow":
                    mf = BpmnFlow(
                        part.get("id") or "", part.get("sourceRef") or "", part.get("targetRef") or "", _name(part)
                    )
                    message_flows[mf.id] = mf
                elif pk in ("textAnnotation", "group"):
                    other[part.get("id") or ""] = (pk, (part.findtext("{*}text") or _name(part)).strip())
        elif kind in ("textAnnotation", "group", "dataStore"):
            other[child.get("id") or ""] = (kind, (child.findtext("{*}text") or _name(child)).strip())
    if not scopes or all(not s.nodes for s in scopes.values()):
        raise BpmnError("the file holds no process with flow nodes (empty model)", source=source)

    chosen, reason = _choose(scopes, collaboration_pools, wanted, source)
    report = BpmnImportReport(source=source, sha256=sha256, process_id=chosen.id, process_name=chosen.name or None)
    report.process_choice = reason
    report.processes = [
        {"id": s.id, "name": s.name, "tasks": s.task_count, "nodes": len(s.nodes)} for s in scopes.values()
    ]
    report.warnings.extend(_adopt_strays(chosen, scopes))
    for node_id, node in list(chosen.nodes.items()):
        if node.type == "callActivity" and node.called_element in globals_:
            kind, gname = globals_[node.called_element]
            # a call to a global task is that task, performed here
            chosen.nodes[node_id] = _replace(node, type="task", name=node.name or gname)
    for el_id, kind, nm, why in chosen.ignored:
        report.add(el_id, kind, nm, "ignored", why)
    for s in scopes.values():
        for el_id, kind, nm, _why in s.ignored:
            other.setdefault(el_id, (kind, nm))
    for mf in message_flows.values():
        report.add(mf.id, "messageFlow", mf.name, "ignored", "message flow: between pools, not sequence flow")
    for s in scopes.values():
        if s is not chosen:
            for n in s.nodes.values():
                other[n.id] = (n.type, n.label)
    diagram = _read_diagram(root, chosen.id, collaboration_pools, report.warnings)
    report.has_diagram = bool(diagram)
    return BpmnModel(
        source=source,
        sha256=sha256,
        process_id=chosen.id,
        process_name=chosen.name,
        nodes=chosen.nodes,
        flows=chosen.flows,
        lanes=chosen.lanes,
        diagram=diagram,
        report=report,
        pools=collaboration_pools,
        message_flows=message_flows,
        processes={s.id: (s.nodes, s.flows) for s in scopes.values()},
        other_elements=other,
    )


def _adopt_strays(chosen: _Scope, scopes: dict[str, _Scope]) -> list[str]:
    """Take over nodes another process declares but the chosen one uses (a tool wrote them in the wrong place).

    A sequence flow of the chosen process that names a node of another process, or a boundary event of
    another process attached to an activity of the chosen one, is read as part of the chosen process.
    """
    messages: list[str] = []
    changed = True
    while changed:
        changed = False
        used: dict[str, str] = {}  # node -> the first sequence flow that names it, in document order
        for f in chosen.flows.values():
            for r in (f.source, f.target):
                used.setdefault(r, f"sequence flow {f.id!r}")
        for other in scopes.values():
            if other is chosen:
                continue
            wanted = {r: why for r, why in used.items() if r in other.nodes and r not in chosen.nodes}
            for n in other.nodes.values():
                if n.type == "boundaryEvent" and n.attached_to in chosen.nodes and n.parent is None:
                    wanted.setdefault(n.id, f"attached to {chosen.nodes[n.attached_to].describe()}")
            for node_id, why in wanted.items():
                node = other.nodes.pop(node_id)
                if node.parent is not None:
                    other.nodes[node_id] = node
                    continue
                chosen.nodes[node_id] = _replace(node, process=chosen.id)
                messages.append(f"{node.describe()} (line {node.line}) is declared in process {other.name or other.id!r} "
                                f"but used by {chosen.name or chosen.id!r} ({why}): read as part of "
                                f"{chosen.name or chosen.id!r}")
                changed = True
    return messages


def _replace(node: BpmnNode, **changes) -> BpmnNode:
    from dataclasses import replace

    return replace(node, **changes)


def _choose(
    scopes: dict[str, _Scope], pools: dict[str, Pool], wanted: str | None, source: str
) -> tuple[_Scope, str]:
    if wanted is not None:
        key = normalise_label(wanted)
        if wanted in scopes:
            return scopes[wanted], f"process id {wanted!r} requested"
        for s in scopes.values():
            if normalise_label(s.name) == key and key:
                return s, f"process named {s.name!r} requested"
        for p in pools.values():
            if p.process in scopes and (normalise_label(p.name) == key or p.id == wanted):
                return scopes[p.process], f"pool {p.name or p.id!r} requested (process {p.process!r})"
        known = ", ".join(
            repr(s.name or s.id) for s in scopes.values()
        ) + (" ; pools: " + ", ".join(repr(p.name or p.id) for p in pools.values()) if pools else "")
        raise BpmnError(f"no process or pool named {wanted!r}; the file has: {known}", source=source)
    ranked = sorted(scopes.values(), key=lambda s: (-s.task_count, -len(s.nodes)))
    best = ranked[0]
    if len(scopes) == 1:
        return best, "the only process in the file"
    pool_name = next((p.name for p in pools.values() if p.process == best.id and p.name), None)
    label = f"{best.name or best.id!r}" + (f" (pool {pool_name!r})" if pool_name else "")
    tie = [s for s in ranked if s.task_count == best.task_count and s is not best]
    extra = f"; tied with {', '.join(repr(s.name or s.id) for s in tie)}, first in the file taken" if tie else ""
    return best, (
        f"{label}: most tasks ({best.task_count}) of {len(scopes)} processes{extra}; "
        "pass process=NAME|ID to choose another"
    )


def _loop_of(el: etree._Element) -> tuple[str | None, bool, int | None]:
    for child in el:
        kind = _local(child)
        if kind == "standardLoopCharacteristics":
            return "standard", _bool(child.get("testBefore"), False), None
        if kind == "multiInstanceLoopCharacteristics":
            seq = _bool(child.get("isSequential"), False)
            card = None
            for sub in child:
                if _local(sub) == "loopCardinality":
                    text = (sub.text or "").strip()
                    if text.isdigit():
                        card = int(text)
            return ("sequential" if seq else "parallel"), False, card
    return None, False, None


def _events_of(el: etree._Element, shared: dict[str, etree._Element]) -> tuple[tuple[str, ...], dict[str, str | None]]:
    """Event definitions by short name (``timer``, ``link``...), inline or by ``eventDefinitionRef`` to a
    definition declared at the top of the file; plus the link definition's name, id and target."""
    defs: list[str] = []
    link: dict[str, str | None] = {}
    for child in el:
        kind = _local(child)
        if kind == "eventDefinitionRef":
            ref = (child.text or "").strip()
            child = shared.get(ref.rsplit(":", 1)[-1]) if ref else None
            if child is None:
                defs.append("unresolved")
                continue
            kind = _local(child)
        if kind.endswith("EventDefinition"):
            short = kind[: -len("EventDefinition")]
            defs.append(short)
            if short == "link":
                target = child.get("target") or next(
                    ((s.text or "").strip() for s in child if _local(s) == "target"), None)
                link = {"link_name": (child.get("name") or "").strip() or None, "link_ref": child.get("id"),
                        "link_target": target or None}
    return tuple(defs), link


def _collect(container: etree._Element, scope: _Scope, parent: str | None) -> None:
    """Collect flow nodes and sequence flows of a process or sub-process, recursively."""
    scope_id = parent or scope.id
    for el in container:
        kind = _local(el)
        if not kind or kind in _SKIP_CHILDREN:
            continue
        el_id = el.get("id") or f"{kind}@line{el.sourceline}"
        if kind == "sequenceFlow":
            cond = None
            for sub in el:
                if _local(sub) == "conditionExpression":
                    cond = (sub.text or "").strip() or "(condition)"
            scope.flows[el_id] = BpmnFlow(
                el_id, el.get("sourceRef") or "", el.get("targetRef") or "", _name(el), cond, el.sourceline
            )
            scope.flow_scope[el_id] = scope_id
        elif kind in FLOW_NODE_TYPES:
            loop, test_before, card = _loop_of(el) if kind in ACTIVITY_TYPES else (None, False, None)
            events, link = _events_of(el, scope.shared_defs)
            scope.nodes[el_id] = BpmnNode(
                id=el_id,
                type=kind,
                name=_name(el),
                parent=parent,
                process=scope.id,
                events=events,
                loop=loop,
                loop_test_before=test_before,
                loop_cardinality=card,
                attached_to=el.get("attachedToRef"),
                cancel_activity=_bool(el.get("cancelActivity"), True),
                called_element=el.get("calledElement"),
                default_flow=el.get("default"),
                triggered_by_event=_bool(el.get("triggeredByEvent"), False),
                is_for_compensation=_bool(el.get("isForCompensation"), False),
                **link,
                line=el.sourceline,
            )
            if kind in SUBPROCESS_TYPES:
                _collect(el, scope, parent=el_id)
        elif kind in _IGNORED_ARTIFACTS:
            label = (el.findtext("{*}text") or "").strip() if kind == "textAnnotation" else _name(el)
            scope.ignored.append((el_id, kind, label, _IGNORED_ARTIFACTS[kind]))
        elif kind.endswith("EventDefinition") or kind in ("loopCharacteristics",):
            continue
        else:
            scope.ignored.append((el_id, kind, _name(el), "not a BPMN control-flow element"))


def _collect_lanes(process_el: etree._Element, scope: _Scope) -> None:
    def walk(lane_set: etree._Element, parent: str | None) -> None:
        for lane in lane_set:
            if _local(lane) != "lane":
                continue
            lane_id = lane.get("id") or f"lane@line{lane.sourceline}"
            refs = tuple((r.text or "").strip() for r in lane if _local(r) == "flowNodeRef" and (r.text or "").strip())
            scope.lanes[lane_id] = Lane(lane_id, _name(lane), refs, parent, scope.id)
            for sub in lane:
                if _local(sub) == "childLaneSet":
                    walk(sub, lane_id)

    for child in process_el:
        if _local(child) == "laneSet":
            walk(child, None)
    # innermost lane wins: child lanes are visited after their parent
    lane_of: dict[str, str] = {}
    for lane in scope.lanes.values():
        for ref in lane.nodes:
            lane_of[ref] = lane.id
    for node_id, node in list(scope.nodes.items()):
        lane_id = lane_of.get(node_id)
        if lane_id is None:
            ancestor = node.parent
            while ancestor and lane_id is None:
                lane_id = lane_of.get(ancestor)
                ancestor = scope.nodes[ancestor].parent if ancestor in scope.nodes else None
        if lane_id is None and node.attached_to:
            lane_id = lane_of.get(node.attached_to)
        if lane_id is not None:
            scope.nodes[node_id] = _replace(node, lane=lane_id)


class _BadCoordinate(ValueError):
    pass


def _float(el: etree._Element, attr: str) -> float:
    """A DI coordinate; raises :class:`_BadCoordinate` (naming the line) when it is missing or not a finite number."""
    value = el.get(attr)
    where = f"{_local(el)} (line {el.sourceline})"
    if value is None:
        raise _BadCoordinate(f"{where} has no {attr}")
    try:
        out = float(value)
    except ValueError:
        raise _BadCoordinate(f"{where} has {attr}={value!r}, not a number") from None
    if not math.isfinite(out):
        raise _BadCoordinate(f"{where} has {attr}={value!r}, not a finite number")
    return out


def _bounds(el: etree._Element | None) -> Bounds | None:
    if el is None:
        return None
    for child in el:
        if _local(child) == "Bounds":
            return Bounds(_float(child, "x"), _float(child, "y"), _float(child, "width"), _float(child, "height"))
    return None


def _opt_bool(value: str | None) -> bool | None:
    return None if value is None else _bool(value, False)


def _read_diagram(root: etree._Element, process_id: str, pools: dict[str, Pool], warnings: list[str]) -> Diagram:
    """DI of the plane that shows the chosen process (or its collaboration); else the first plane.

    A shape or edge whose coordinates are not numbers is left out of the drawing, with a warning.
    """
    planes = [p for d in root if _local(d) == "BPMNDiagram" for p in d if _local(p) == "BPMNPlane"]
    if not planes:
        return Diagram()
    wanted = {process_id} | {p.id for p in pools.values()}
    collab_ids = {c.get("id") for c in root if _local(c) == "collaboration"}
    plane = next((p for p in planes if p.get("bpmnElement") in wanted | collab_ids), planes[0])
    diagram = Diagram()
    for el in plane:
        kind = _local(el)
        ref = el.get("bpmnElement")
        if not ref:
            continue
        try:
            _read_shape(el, kind, ref, diagram)
        except _BadCoordinate as exc:
            warnings.append(f"diagram {kind} of {ref!r}: {exc}: left out of the drawing")
    return diagram


def _read_shape(el: etree._Element, kind: str, ref: str, diagram: Diagram) -> None:
    label_el = next((c for c in el if _local(c) == "BPMNLabel"), None)
    label = _bounds(label_el)
    if kind == "BPMNShape":
        b = _bounds(el)
        if b is not None and ref not in diagram.shapes:
            diagram.shapes[ref] = Shape(
                ref,
                b,
                label,
                _opt_bool(el.get("isExpanded")),
                _opt_bool(el.get("isHorizontal")),
                _opt_bool(el.get("isMarkerVisible")),
            )
    elif kind == "BPMNEdge":
        pts = tuple((_float(w, "x"), _float(w, "y")) for w in el if _local(w) == "waypoint")
        if len(pts) >= 2 and ref not in diagram.edges:
            diagram.edges[ref] = Edge(ref, pts, label)
