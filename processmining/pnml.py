"""Reference models as Petri nets in PNML (ProM, pm4py and the literature ship nets this way).

:func:`read_pnml` reads a place/transition net safely (the hardened XML
reader of :mod:`processmining.safe_input`) into a :class:`PetriNetModel`:
plain tables, no pm4py. Conformance compiles it like a BPMN model
(``conform(log, read_pnml("a22.pnml"))``; ``conform LOG model.pnml`` on the
command line). pm4py's reading is followed: a transition is silent when ProM's
``toolspecific activity`` says ``$invisible$`` (or a stochastic net says
``invisible``); its label is its name text, else its id; arc weights come
from ``inscription``; the final marking is the first of ``finalmarkings``,
else -- said in ``notes`` -- one token on every place without outgoing arcs.

>>> net = read_pnml(b'''<pnml><net id="n"><page id="p">
...   <place id="i"><initialMarking><text>1</text></initialMarking></place><place id="o"/>
...   <transition id="t"><name><text>Approve</text></name></transition>
...   <arc id="a1" source="i" target="t"/><arc id="a2" source="t" target="o"/></page></net></pnml>''', name="x.pnml")
>>> [(t.id, t.label) for t in net.transitions], net.initial, net.final
([('t', 'Approve')], {'i': 1}, {'o': 1})
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .errors import ConformanceError
from .safe_input import display_name, parse_xml, read_bytes

#: ProM's marker for a silent transition
INVISIBLE = "$invisible$"


@dataclass(frozen=True)
class PnmlTransition:
    """One transition: ``label`` None means silent; arcs as ``{place id: weight}``."""

    id: str
    name: str
    label: str | None
    pre: dict[str, int]
    post: dict[str, int]


@dataclass
class PetriNetModel:
    """A Petri net read from PNML, with its initial and final marking (``{place id: tokens}``)."""

    places: list[str]
    transitions: list[PnmlTransition]
    initial: dict[str, int]
    final: dict[str, int]
    source: str = "model"
    sha256: str = ""
    #: what was guessed or left out while reading (e.g. a final marking inferred from sink places)
    notes: list[str] = field(default_factory=list)

    @property
    def labels(self) -> frozenset[str]:
        return frozenset(t.label for t in self.transitions if t.label is not None)

    def to_pm4py(self) -> tuple[Any, Any, Any]:
        """The same net as pm4py's ``PetriNet, Marking, Marking`` (for pm4py's token replay)."""
        from pm4py.objects.petri_net.obj import Marking, PetriNet
        from pm4py.objects.petri_net.utils.petri_utils import add_arc_from_to

        net = PetriNet(self.source)
        places = {p: PetriNet.Place(p) for p in self.places}
        for p in places.values():
            net.places.add(p)
        for t in self.transitions:
            tr = PetriNet.Transition(t.id, t.label)
            net.transitions.add(tr)
            for p, w in t.pre.items():
                add_arc_from_to(places[p], tr, net, weight=w)
            for p, w in t.post.items():
                add_arc_from_to(tr, places[p], net, weight=w)
        return net, Marking({places[p]: n for p, n in self.initial.items()}), \
            Marking({places[p]: n for p, n in self.final.items()})


def read_pnml(source: str | os.PathLike | bytes, *, name: str | None = None) -> PetriNetModel:
    """Read a PNML place/transition net; raises :class:`ConformanceError` naming the element it cannot use.

    Nets with inhibitor or reset arcs are refused (alignments are defined on
    plain place/transition nets); so are nets without an initial marking.
    """
    data = read_bytes(source, name=name)
    label = display_name(source, name)
    root = parse_xml(data.data, label, expected_roots=("pnml",))
    nets = [e for e in root if _local(e) == "net"]
    if not nets:
        raise ConformanceError("no <net> in the PNML file", source=label, line=root.sourceline)
    net_el = nets[0]
    places: dict[str, int] = {}
    initial: dict[str, int] = {}
    trans: dict[str, tuple[str, str | None]] = {}
    arcs: list[tuple[str, str, int, Any]] = []
    for el in _elements(net_el):
        kind = _local(el)
        if kind == "place":
            pid = _id(el, label)
            places[pid] = len(places)
            tokens = _int_text(_child(el, "initialMarking"), label, el, default=0)
            if tokens:
                initial[pid] = tokens
        elif kind == "transition":
            tid = _id(el, label)
            tname = _text(_child(el, "name")) or tid
            visible = True
            for tool in (c for c in el if _local(c) == "toolspecific"):
                if "invisible" in (tool.get("activity") or ""):
                    visible = False
                for prop in tool:
                    if prop.get("key") == "invisible" and (prop.text or "").strip().lower() == "true":
                        visible = False
            trans[tid] = (tname, tname if visible else None)
        elif kind == "arc":
            arc_type = _text(_child(el, "arctype")) or (el.get("type") or "normal")
            if arc_type not in ("normal", ""):
                raise ConformanceError(f"{arc_type} arcs are not supported: only place/transition nets can be aligned",
                                       source=label, line=el.sourceline, element=el.get("id"))
            weight = _int_text(_child(el, "inscription"), label, el, default=1)
            arcs.append((el.get("source") or "", el.get("target") or "", weight, el))
    if not initial:
        raise ConformanceError("the net has no initial marking (no place with <initialMarking>)", source=label)
    pre: dict[str, dict[str, int]] = {t: {} for t in trans}
    post: dict[str, dict[str, int]] = {t: {} for t in trans}
    outgoing: set[str] = set()
    for src, tgt, w, el in arcs:
        if src in places and tgt in trans:
            pre[tgt][src] = pre[tgt].get(src, 0) + w
            outgoing.add(src)
        elif src in trans and tgt in places:
            post[src][tgt] = post[src].get(tgt, 0) + w
        else:
            raise ConformanceError(f"arc from {src!r} to {tgt!r} does not join a place and a transition of the net",
                                   source=label, line=el.sourceline, element=el.get("id"))
    notes: list[str] = []
    final = _final_marking(net_el, places, label)
    if final is None:
        final = {p: 1 for p in places if p not in outgoing}
        notes.append("no final marking in the file: one token on each place without outgoing arcs ("
                     + ", ".join(sorted(final)) + ")")
        if not final:
            raise ConformanceError("no final marking in the file and no place without outgoing arcs", source=label)
    transitions = [PnmlTransition(t, n, lbl, pre[t], post[t]) for t, (n, lbl) in trans.items()]
    return PetriNetModel(list(places), transitions, initial, final, source=label, sha256=data.sha256, notes=notes)


def _final_marking(net_el: Any, places: dict[str, int], label: str) -> dict[str, int] | None:
    for fm in (c for c in net_el if _local(c) == "finalmarkings"):
        for marking in (c for c in fm if _local(c) == "marking"):
            out: dict[str, int] = {}
            for p in (c for c in marking if _local(c) == "place"):
                ref = p.get("idref") or ""
                if ref not in places:
                    raise ConformanceError(f"final marking names an unknown place {ref!r}", source=label,
                                           line=p.sourceline)
                n = _int_text(p, label, p, default=0)
                if n:
                    out[ref] = n
            return out
    return None


def _elements(container: Any):  # noqa: ANN202 - a generator of lxml elements
    """The places, transitions and arcs of a net, inside its pages (pages may nest)."""
    for el in container:
        kind = _local(el)
        if kind == "page":
            yield from _elements(el)
        elif kind in ("place", "transition", "arc"):
            yield el


def _local(el: Any) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _child(el: Any, local: str) -> Any:
    for c in el:
        if _local(c) == local:
            return c
    return None


def _text(el: Any) -> str:
    """The text of ``el``'s ``<text>`` child (PNML wraps values so), stripped."""
    if el is None:
        return ""
    t = _child(el, "text")
    return ((t.text if t is not None else el.text) or "").strip()


def _id(el: Any, label: str) -> str:
    ident = el.get("id")
    if not ident:
        raise ConformanceError(f"<{_local(el)}> without an id", source=label, line=el.sourceline)
    return ident


def _int_text(holder: Any, label: str, el: Any, *, default: int) -> int:
    text = _text(holder)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConformanceError(f"expected a whole number of tokens, got {text!r}", source=label,
                               line=el.sourceline, element=el.get("id")) from None
    if value < 0:
        raise ConformanceError(f"negative token count {value}", source=label, line=el.sourceline, element=el.get("id"))
    return value
