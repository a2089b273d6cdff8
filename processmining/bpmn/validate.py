"""Structural checks of an imported BPMN model, written into its import report.

Dangling references, flows that cross sub-process borders and boundary
events attached to nothing make the model unusable (``report.problems``);
disconnected nodes, unnamed tasks and missing start/end events are listed.
Then a trial conversion records, per element, whether it is mapped exactly,
approximated (how) or ignored (why), and any refusal as a problem.
"""

from __future__ import annotations

from ..errors import BpmnError
from .model import BpmnModel


def validate_model(model: BpmnModel) -> None:
    """Fill ``model.report`` with structural findings and per-element conversion status (in place)."""
    report = model.report
    nodes = model.nodes
    has_in: set[str] = set()
    has_out: set[str] = set()
    for f in model.flows.values():
        missing = [(role, ref) for role, ref in (("sourceRef", f.source), ("targetRef", f.target)) if ref not in nodes]
        if missing:
            what = ", ".join(f"{role} {ref!r}" for role, ref in missing)
            msg = f"sequence flow {f.id!r} (line {f.line}) refers to {what}, which is not a flow node of the process"
            report.dangling_references.append(msg)
            report.problems.append(msg)
            report.add(f.id, "sequenceFlow", f.name, "refused", f"dangling reference: {what}")
            continue
        src, tgt = nodes[f.source], nodes[f.target]
        if src.parent != tgt.parent:
            msg = (f"sequence flow {f.id!r} connects {src.describe()} and {tgt.describe()} across a "
                   "sub-process border")
            report.problems.append(msg)
            report.add(f.id, "sequenceFlow", f.name, "refused", "crosses a sub-process border")
            continue
        wrong = _misdirected(f, src, tgt)
        if wrong:
            report.problems.append(f"sequence flow {f.id!r} (line {f.line}) {wrong}")
            report.add(f.id, "sequenceFlow", f.name, "refused", wrong)
            continue
        has_out.add(f.source)
        has_in.add(f.target)
    for n in nodes.values():
        if n.type == "boundaryEvent" and n.attached_to not in nodes:
            msg = f"{n.describe()} is attached to {n.attached_to!r}, which is not an activity of the process"
            report.dangling_references.append(msg)
            report.problems.append(msg)
        if "unresolved" in n.events:
            report.warnings.append(f"{n.describe()} (line {n.line}) names an event definition (eventDefinitionRef) "
                                   "that is not in the file: read as an event without a trigger")
        if n.default_flow and n.default_flow not in model.flows:
            report.dangling_references.append(f"{n.describe()} names default flow {n.default_flow!r}, which does not exist")
        if n.is_task and not n.label:
            report.unnamed_tasks.append(f"{n.type} (id {n.id})")
        if (
            n.id not in has_in
            and n.id not in has_out
            and n.type != "boundaryEvent"
            and not n.triggered_by_event
            and not n.is_for_compensation
            and not _inside_event_subprocess(model, n.id)
        ):
            report.disconnected_nodes.append(n.describe())
    for lane in model.lanes.values():
        for ref in lane.nodes:
            if ref not in nodes:
                report.dangling_references.append(f"lane {lane.name or lane.id!r} lists {ref!r}, which is not a flow node")
    scopes = {None} | {n.id for n in nodes.values() if n.type in ("subProcess", "transaction") and not n.triggered_by_event}
    for scope in scopes:
        members = [n for n in nodes.values() if n.parent == scope]
        if not members:
            continue
        where = f"sub-process {scope}" if scope else f"process {model.process_name or model.process_id!r}"
        if not any(n.type == "startEvent" for n in members):
            report.warnings.append(f"{where} has no start event: nodes without incoming flow start it")
        if not any(n.type == "endEvent" for n in members):
            report.warnings.append(f"{where} has no end event: nodes without outgoing flow end it")
    if report.problems:
        for n in nodes.values():
            report.add(n.id, n.type, n.name, "refused", "not converted: the model has structural problems")
        return
    _trial_conversion(model)


def _misdirected(f, src, tgt) -> str:
    """Why a sequence flow breaks a BPMN 2.0 rule on its ends (spec 10.5: start, end, boundary events), or ''."""
    if tgt.type == "boundaryEvent":
        return (f"enters {tgt.describe()}: a boundary event must not have incoming sequence flows (BPMN 2.0 "
                "10.5.4); connect the flow to the activity the event is attached to, or use an intermediate event")
    if tgt.type == "startEvent":
        return (f"enters {tgt.describe()}: a start event must not have incoming sequence flows (BPMN 2.0 10.5.2); "
                "connect the flow to the step after the start event, or use an intermediate event")
    if src.type == "endEvent":
        return (f"leaves {src.describe()}: an end event must not have outgoing sequence flows (BPMN 2.0 10.5.3); "
                "make it an intermediate (throw) event if the process goes on after it")
    return ""


def _inside_event_subprocess(model: BpmnModel, node_id: str) -> bool:
    cur = model.nodes[node_id].parent
    while cur and cur in model.nodes:
        if model.nodes[cur].triggered_by_event:
            return True
        cur = model.nodes[cur].parent
    return False


def _trial_conversion(model: BpmnModel) -> None:
    from .petri import build_core

    report = model.report
    try:
        result = build_core(model)
    except BpmnError as exc:
        report.problems.append(exc.message)
        bad = exc.element
        for n in model.nodes.values():
            if n.id == bad:
                report.add(n.id, n.type, n.name, "refused", exc.message.split(": ", 1)[-1])
            else:
                report.add(n.id, n.type, n.name, "ignored", f"not checked: the conversion stopped at {bad}")
        return
    report.warnings.extend(m for m in result.messages if m not in report.warnings)
    for n in model.nodes.values():
        status, detail = result.notes.get(n.id, ("mapped", _default_detail(n.type)))
        report.add(n.id, n.type, n.name, status, detail)  # type: ignore[arg-type]
    report.approximations = list(result.approximations)


def _default_detail(kind: str) -> str:
    if kind.endswith("Task") or kind == "task":
        return f"{kind}: visible step"
    return kind
