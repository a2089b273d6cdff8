"""The net conformance runs against: compiled once from a BPMN model, a PNML net or a pm4py net.

This is the one module that reaches into the BPMN converter's internal net
(:func:`_bpmn_core`); everything else in :mod:`processmining.conformance`
works on :class:`~processmining.conformance.alignment.CompiledNet`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .alignment import CompiledNet
from .traversal import Record


@dataclass
class ReferenceNet:
    """The net conformance runs against, with what ties it back to the BPMN diagram.

    ``pm4py_net`` (``net, im, fm``) is built on first use only (token replay
    mode): alignments and precision never import pm4py.
    """

    net: CompiledNet
    element_of_transition: dict[str, str]
    element_of_label: dict[str, str]
    labels: frozenset[str]
    name: str = "model"
    sha256: str = ""
    model_only: list[str] = field(default_factory=list)
    lanes: dict[str, str] = field(default_factory=dict)
    #: per transition name: (BPMN elements executed, sequence flows marked) by one firing
    records: dict[str, Record] = field(default_factory=dict)
    #: what the initial marking already did (a start event and its outgoing flow)
    initial_record: Record = ((), ())
    _pm4py: tuple[Any, Any, Any] | None = field(default=None, repr=False)
    _source: Any = field(default=None, repr=False)
    _label_map: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def pm4py_net(self) -> tuple[Any, Any, Any]:
        if self._pm4py is None:
            from ..pnml import PetriNetModel

            if isinstance(self._source, PetriNetModel):
                self._pm4py = self._source.to_pm4py()
            else:
                from ..bpmn import to_petri_net

                converted = to_petri_net(self._source, label_map=self._label_map)
                self._pm4py = (converted.net, converted.initial_marking, converted.final_marking)
        return self._pm4py


def read_model(path: Any, *, process: str | None = None) -> Any:
    """Read a reference model by its file type: ``.pnml`` as a Petri net, anything else as BPMN 2.0."""
    from pathlib import Path

    if Path(path).suffix.lower() == ".pnml":
        from ..pnml import read_pnml

        return read_pnml(path)
    from ..bpmn import read_bpmn

    return read_bpmn(path, process=process) if process else read_bpmn(path)


def reference_net(model: Any, activities: Iterable[str] = (), *, label_mapping: Mapping[str, str] | None = None,
                  explore: bool = True) -> ReferenceNet:
    """Compile ``model`` for alignments and precision.

    ``model`` is a :class:`processmining.bpmn.BpmnModel` (labels matched to
    ``activities`` with :func:`processmining.bpmn.match_labels`, compiled from
    the converter's internal net without importing pm4py), a
    :class:`processmining.pnml.PetriNetModel` (from :func:`processmining.pnml.read_pnml`),
    a :class:`processmining.bpmn.ConvertedNet`, or a pm4py ``(net, im, fm)``
    tuple (transition names are then taken as element ids). ``explore``:
    enumerate the state space once (sharper alignment heuristic); off when a
    time budget is tight.
    """
    from ..pnml import PetriNetModel

    if isinstance(model, tuple) and len(model) == 3:
        net, im, fm = model
        compiled = CompiledNet.from_pm4py(net, im, fm)
        trans_elem = {str(t.name): str(t.name) for t in net.transitions}
        return _finish(compiled, trans_elem, name="model", sha="", pm4py=(net, im, fm), explore=explore)
    if isinstance(model, PetriNetModel):
        index = {p: i for i, p in enumerate(model.places)}
        ordered = sorted(model.transitions, key=lambda t: t.id)  # name order, as pm4py walks them
        compiled = CompiledNet.from_arcs(
            places=len(model.places),
            transitions=[(t.id, t.label, tuple((index[p], w) for p, w in t.pre.items()),
                          tuple((index[p], w) for p, w in t.post.items())) for t in ordered],
            initial={index[p]: n for p, n in model.initial.items()},
            final={index[p]: n for p, n in model.final.items()},
        )
        ref = _finish(compiled, {t.id: t.id for t in model.transitions}, name=model.source, sha=model.sha256,
                      explore=explore)
        ref._source = model
        return ref
    from ..bpmn import ConvertedNet

    if isinstance(model, ConvertedNet):
        compiled = CompiledNet.from_pm4py(model.net, model.initial_marking, model.final_marking)
        ref = _finish(compiled, dict(model.transition_element), name="model", sha=model.model_sha256,
                      pm4py=(model.net, model.initial_marking, model.final_marking), explore=explore)
        if model.core is not None:
            ref.records = {t.name: (t.hits, t.flows) for t in model.core.live()}
            ref.initial_record = (model.core.initial_hits, model.core.initial_flows)
        return ref
    return _from_bpmn(model, activities, label_mapping, explore)


def _from_bpmn(model: Any, activities: Iterable[str], label_mapping: Mapping[str, str] | None,
               explore: bool) -> ReferenceNet:
    from ..bpmn import match_labels

    match = match_labels(model, list(activities), mapping=label_mapping)
    core = _bpmn_core(model, match.label_map)
    renames = {" ".join(k.split()): v for k, v in match.label_map.items()}
    live = sorted(core.live(), key=lambda t: t.name)
    used = sorted({p for t in live for p in (*t.pre, *t.post)} | set(core.initial) | set(core.final))
    index = {p: i for i, p in enumerate(used)}
    compiled = CompiledNet.from_arcs(
        places=len(used),
        transitions=[(t.name, None if t.label is None else renames.get(t.label, t.label),
                      tuple((index[p], w) for p, w in t.pre.items()), tuple((index[p], w) for p, w in t.post.items()))
                     for t in live],
        initial={index[p]: n for p, n in core.initial.items()},
        final={index[p]: n for p, n in core.final.items()},
    )
    lane_of = _bpmn_lanes(model)
    lanes = {}
    for task in model.tasks:
        lane = lane_of.get(" ".join(task.label.split()).casefold()) if task.label else None
        if lane:
            lanes[match.label_map.get(task.name, task.label)] = lane
    ref = _finish(compiled, {t.name: t.element for t in live}, name=model.source or "model", sha=model.sha256,
                  explore=explore)
    ref.records = {t.name: (t.hits, t.flows) for t in live}
    ref.initial_record = (core.initial_hits, core.initial_flows)
    ref.model_only = list(match.model_only)
    ref.lanes = lanes
    ref._source = model
    ref._label_map = dict(match.label_map)
    return ref


def _bpmn_core(model: Any, label_map: Mapping[str, str]) -> Any:
    """The BPMN converter's reduced net, through the public :func:`processmining.bpmn.compile_net`."""
    from ..bpmn import compile_net

    return compile_net(model)  # raises the BpmnError that names the elements


def _bpmn_lanes(model: Any) -> dict[str, str | None]:
    """Task label (case-folded) -> lane name, as ``BpmnModel.lane_of`` answers it, in one pass over the nodes.

    (``lane_of`` per task scans every node: quadratic on models with thousands of tasks.)
    """
    out: dict[str, str | None] = {}
    for n in model.nodes.values():
        if n.is_task and n.lane:
            lane = model.lanes.get(n.lane)
            out.setdefault(n.label.casefold(), lane.name if lane else None)
    return out


def _finish(compiled: CompiledNet, trans_elem: dict[str, str], *, name: str, sha: str,
            pm4py: tuple[Any, Any, Any] | None = None, explore: bool = True) -> ReferenceNet:
    if explore:
        compiled.explore()
    elem_of_label: dict[str, str] = {}
    for t_name, label in zip(compiled.names, compiled.labels, strict=True):
        if label is not None:
            elem_of_label.setdefault(label, trans_elem.get(t_name, t_name))
    return ReferenceNet(compiled, trans_elem, elem_of_label, compiled.visible_labels, name=str(name), sha256=sha,
                        records={t: ((e,), ()) for t, e in trans_elem.items()}, _pm4py=pm4py)
