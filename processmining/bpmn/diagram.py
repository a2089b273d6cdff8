"""BPMN diagrams as SVG, in the standard notation, with overlays.

Drawn from the file's diagram interchange (DI) when it has one, otherwise
from an automatic left-to-right layout (graphviz ``dot``; a simple layered
layout when graphviz is not installed). Overlays colour elements and
sequence flows and put a badge (a count) on them: the app and the
conformance report draw frequencies and deviations this way.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass

from .layout import auto_layout
from .model import GATEWAY_TYPES, SUBPROCESS_TYPES, TASK_TYPES, Bounds, BpmnModel, BpmnNode, Diagram

INK = "#22272e"
MUTED = "#57606a"
TASK_FILL = "#ffffff"
LANE_FILL = "#f6f8fa"
FONT = "font-family=\"'Inter','Segoe UI','Helvetica Neue',Arial,sans-serif\""


@dataclass(frozen=True)
class Overlay:
    """How to highlight one element or flow.

    ``fill``: a CSS colour for the shape (for flows: the line colour);
    ``badge``: short text in a red pill at the top right (e.g. ``"12"``);
    ``label``: extra text shown under the element and as its tooltip;
    ``stroke_width``: line width (flows: e.g. by frequency);
    ``badge_at``: where the badge goes instead (the point :func:`badge_box` anchors it at), so a caller can
    place badges that never overlap (the app does).
    """

    fill: str | None = None
    badge: str | None = None
    label: str | None = None
    stroke_width: float | None = None
    badge_at: tuple[float, float] | None = None


def badge_box(x: float, y: float, text: str) -> Bounds:
    """The box a badge with ``text`` anchored at ``(x, y)`` covers (by default an element's top right corner)."""
    w = 10 + 7 * len(text)
    return Bounds(x - w + 6, y - 9, w, 18)


def render_svg(
    model: BpmnModel,
    *,
    element_overlays: Mapping[str, Overlay] | None = None,
    flow_overlays: Mapping[str, Overlay] | None = None,
    title: str | None = None,
) -> str:
    """Draw the model as an SVG document and return its text (no file is written).

    Each element is an SVG group with ``data-element="<BPMN id>"``; overlays
    are keyed by BPMN element id (``element_overlays``) and sequence-flow id
    (``flow_overlays``).

    Example::

        >>> svg = render_svg(model, element_overlays={"Task_Approve": Overlay(fill="#fde2e1", badge="7")})
        >>> svg.startswith("<svg")
        True
    """
    diagram = model.diagram if model.diagram else auto_layout(model)
    r = _Renderer(model, diagram, element_overlays or {}, flow_overlays or {})
    return r.render(title)


class _Renderer:
    def __init__(self, model: BpmnModel, diagram: Diagram, eo: Mapping[str, Overlay], fo: Mapping[str, Overlay]):
        self.m = model
        self.d = diagram
        self.eo = eo
        self.fo = fo
        self.out: list[str] = []
        # nodes and flows of every process in the file (other pools are drawn too)
        self.nodes: dict[str, BpmnNode] = {}
        self.flows: dict = {}
        for pnodes, pflows in model.processes.values():
            self.nodes.update(pnodes)
            self.flows.update(pflows)
        self.nodes.update(model.nodes)
        self.flows.update(model.flows)
        self.arrows: dict[str, str] = {}

    def arrow(self, color: str) -> str:
        if color not in self.arrows:
            self.arrows[color] = f"arrow{len(self.arrows)}"
        return self.arrows[color]

    # ------------------------------------------------------------ document
    def render(self, title: str | None) -> str:
        shapes = self.d.shapes
        xs = [s.bounds.x for s in shapes.values()] + [p[0] for e in self.d.edges.values() for p in e.waypoints]
        ys = [s.bounds.y for s in shapes.values()] + [p[1] for e in self.d.edges.values() for p in e.waypoints]
        x2 = [s.bounds.x + s.bounds.width for s in shapes.values()] + xs
        y2 = [s.bounds.y + s.bounds.height + 30 for s in shapes.values()] + ys
        if not xs:
            xs = ys = x2 = y2 = [0.0, 100.0]
        pad = 24
        top = 36 if title else 0
        minx, miny = min(xs) - pad, min(ys) - pad - top
        width, height = max(x2) - minx + pad, max(y2) - miny + pad
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{minx:.1f} {miny:.1f} {width:.1f} {height:.1f}" '
            f'width="{width:.0f}" height="{height:.0f}" {FONT} font-size="12" role="img" '
            f'aria-label="{_esc(title or self.m.process_name or self.m.process_id)}">'
        )
        self.out.append(head)
        self.out.append(_DEFS)
        self.out.append(f'<rect x="{minx:.1f}" y="{miny:.1f}" width="{width:.1f}" height="{height:.1f}" fill="#fff"/>')
        if title:
            self.out.append(f'<text x="{minx + pad:.1f}" y="{miny + pad + 8:.1f}" font-size="18" font-weight="600" '
                            f'fill="{INK}">{_esc(title)}</text>')
        order = sorted(shapes.values(), key=lambda s: self._z(s.element))
        for s in order:
            if self._z(s.element) < 2:
                self.container(s.element, s.bounds, s.is_horizontal)
        for s in order:
            if self._z(s.element) == 2:
                self.node(s.element, s.bounds, s)
        for fid, e in self.d.edges.items():
            self.edge(fid, e.waypoints, e.label)
        for s in order:
            if self._z(s.element) >= 3:
                self.node(s.element, s.bounds, s)
        for color, aid in self.arrows.items():
            self.out.append(
                f'<defs><marker id="{aid}" viewBox="0 0 10 10" refX="9.5" refY="5" markerWidth="8" markerHeight="8" '
                f'orient="auto" markerUnits="userSpaceOnUse"><path d="M0,0 L10,5 L0,10 z" fill="{_esc(color)}"/>'
                "</marker></defs>"
            )
        self.out.append("</svg>")
        return "".join(self.out)

    def _z(self, el: str) -> int:
        if el in self.m.pools:
            return 0
        if el in self.m.lanes:
            return 1
        n = self.nodes.get(el)
        if n is not None and n.type in (*SUBPROCESS_TYPES, "callActivity") and self._expanded(el):
            return 2
        if n is None and self.m.other_elements.get(el, ("", ""))[0] == "group":
            return 5
        if n is not None and n.type == "boundaryEvent":
            return 4
        return 3

    def _expanded(self, el: str) -> bool:
        s = self.d.shapes.get(el)
        if s is None:
            return False
        if s.is_expanded is not None:
            return s.is_expanded
        return s.bounds.width > 200 or s.bounds.height > 140

    # ------------------------------------------------------------ pools & lanes
    def container(self, el: str, b: Bounds, horizontal: bool | None) -> None:
        name = self.m.pools[el].name if el in self.m.pools else self.m.lanes[el].name
        fill = "#fff" if el in self.m.pools else LANE_FILL
        band = 30
        self.out.append(f'<g data-element="{_esc(el)}" class="{"pool" if el in self.m.pools else "lane"}">')
        self.out.append(f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.width:.1f}" height="{b.height:.1f}" '
                        f'fill="{fill}" stroke="{INK}" stroke-width="1.2"/>')
        if horizontal is False:
            self.out.append(f'<line x1="{b.x:.1f}" y1="{b.y + band:.1f}" x2="{b.x + b.width:.1f}" y2="{b.y + band:.1f}" '
                            f'stroke="{INK}" stroke-width="1.2"/>')
            self.out.append(f'<text x="{b.cx:.1f}" y="{b.y + 19:.1f}" text-anchor="middle" font-weight="600" '
                            f'fill="{INK}">{_esc(name)}</text>')
        else:
            self.out.append(f'<line x1="{b.x + band:.1f}" y1="{b.y:.1f}" x2="{b.x + band:.1f}" y2="{b.y + b.height:.1f}" '
                            f'stroke="{INK}" stroke-width="1.2"/>')
            cx, cy = b.x + band / 2 + 4, b.cy
            self.out.append(f'<text x="{cx:.1f}" y="{cy:.1f}" transform="rotate(-90 {cx:.1f} {cy:.1f})" '
                            f'text-anchor="middle" font-weight="600" fill="{INK}">{_esc(name)}</text>')
        self.out.append("</g>")

    # ------------------------------------------------------------ nodes
    def node(self, el: str, b: Bounds, shape) -> None:
        n = self.nodes.get(el)
        ov = self.eo.get(el, Overlay())
        tip = (n.label if n else self.m.other_elements.get(el, ("", ""))[1]) or el
        if ov.label:
            tip = f"{tip}\n{ov.label}"
        kind = n.type if n else self.m.other_elements.get(el, ("", ""))[0]
        self.out.append(f'<g data-element="{_esc(el)}" class="bpmn-{_esc(kind or "shape")}"><title>{_esc(tip)}</title>')
        if n is None:
            self._artifact(el, kind, b)
        elif n.type in TASK_TYPES or n.type == "callActivity" or n.type in SUBPROCESS_TYPES:
            self._activity(n, b, ov)
        elif n.type in GATEWAY_TYPES:
            self._gateway(n, b, ov, shape)
        else:
            self._event(n, b, ov)
        if ov.badge:
            self._badge(*(ov.badge_at or (b.x + b.width, b.y)), ov.badge)
        if ov.label:
            self.out.append(f'<text x="{b.cx:.1f}" y="{b.y + b.height + (30 if n and not n.is_task else 14):.1f}" '
                            f'text-anchor="middle" font-size="10.5" fill="#b42318" font-weight="600">'
                            f'{_esc(ov.label)}</text>')
        self.out.append("</g>")

    def _activity(self, n: BpmnNode, b: Bounds, ov: Overlay) -> None:
        expanded = n.type in (*SUBPROCESS_TYPES, "callActivity") and self._expanded(n.id)
        fill = ov.fill or (TASK_FILL if not expanded else "#ffffff")
        sw = 3.5 if n.type == "callActivity" else (ov.stroke_width or 1.6)
        dash = ' stroke-dasharray="6 3"' if n.triggered_by_event else ""
        self.out.append(f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.width:.1f}" height="{b.height:.1f}" rx="10" '
                        f'fill="{fill}" stroke="{INK}" stroke-width="{sw}"{dash}/>')
        if n.type == "transaction":
            self.out.append(f'<rect x="{b.x + 4:.1f}" y="{b.y + 4:.1f}" width="{b.width - 8:.1f}" '
                            f'height="{b.height - 8:.1f}" rx="7" fill="none" stroke="{INK}" stroke-width="1.2"/>')
        if expanded:
            self.out.append(f'<text x="{b.x + 10:.1f}" y="{b.y + 18:.1f}" font-weight="600" fill="{INK}">'
                            f'{_esc(n.label)}</text>')
        else:
            self._wrapped(n.label, b.cx, b.cy, b.width - 12, 13)
            icon = _TASK_ICONS.get(n.type)
            if icon:
                self.out.append(f'<g transform="translate({b.x + 6:.1f} {b.y + 5:.1f})">{icon}</g>')
        markers: list[str] = []
        if (n.type in SUBPROCESS_TYPES or (n.type == "callActivity" and n.called_element in self.m.processes)) \
                and not expanded:
            markers.append("sub")
        if n.type == "adHocSubProcess":
            markers.append("adhoc")
        if n.loop == "standard":
            markers.append("loop")
        elif n.loop == "parallel":
            markers.append("par")
        elif n.loop == "sequential":
            markers.append("seq")
        if n.is_for_compensation:
            markers.append("comp")
        x0 = b.cx - 7 * len(markers) - 2 * (len(markers) - 1)
        for i, mk in enumerate(markers):
            self.out.append(f'<g transform="translate({x0 + 18 * i:.1f} {b.y + b.height - 17:.1f})">{_MARKERS[mk]}</g>')

    def _gateway(self, n: BpmnNode, b: Bounds, ov: Overlay, shape) -> None:
        cx, cy, w, h = b.cx, b.cy, b.width / 2, b.height / 2
        fill = ov.fill or "#ffffff"
        self.out.append(f'<polygon points="{cx:.1f},{cy - h:.1f} {cx + w:.1f},{cy:.1f} {cx:.1f},{cy + h:.1f} '
                        f'{cx - w:.1f},{cy:.1f}" fill="{fill}" stroke="{INK}" stroke-width="{ov.stroke_width or 1.6}" '
                        'stroke-linejoin="round"/>')
        k = min(w, h)
        mark = ""
        if n.type == "exclusiveGateway" and (shape is None or shape.is_marker_visible is not False):
            d = k * 0.38
            mark = (f'<path d="M{cx - d:.1f},{cy - d:.1f} L{cx + d:.1f},{cy + d:.1f} M{cx + d:.1f},{cy - d:.1f} '
                    f'L{cx - d:.1f},{cy + d:.1f}" stroke="{INK}" stroke-width="3.6" stroke-linecap="round"/>')
        elif n.type == "parallelGateway":
            d = k * 0.5
            mark = (f'<path d="M{cx:.1f},{cy - d:.1f} V{cy + d:.1f} M{cx - d:.1f},{cy:.1f} H{cx + d:.1f}" '
                    f'stroke="{INK}" stroke-width="3.6" stroke-linecap="round"/>')
        elif n.type == "inclusiveGateway":
            mark = f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{k * 0.45:.1f}" fill="none" stroke="{INK}" stroke-width="2.8"/>'
        elif n.type == "eventBasedGateway":
            r1, r2 = k * 0.5, k * 0.42
            pts = " ".join(f"{cx + r2 * 0.75 * math.sin(a):.1f},{cy - r2 * 0.75 * math.cos(a):.1f}"
                           for a in (2 * math.pi * i / 5 for i in range(5)))
            mark = (f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r1:.1f}" fill="none" stroke="{INK}" stroke-width="1.2"/>'
                    f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r2:.1f}" fill="none" stroke="{INK}" stroke-width="1.2"/>'
                    f'<polygon points="{pts}" fill="none" stroke="{INK}" stroke-width="1.4"/>')
        elif n.type == "complexGateway":
            d = k * 0.45
            mark = (f'<path d="M{cx:.1f},{cy - d:.1f} V{cy + d:.1f} M{cx - d:.1f},{cy:.1f} H{cx + d:.1f} '
                    f'M{cx - d * .7:.1f},{cy - d * .7:.1f} L{cx + d * .7:.1f},{cy + d * .7:.1f} '
                    f'M{cx + d * .7:.1f},{cy - d * .7:.1f} L{cx - d * .7:.1f},{cy + d * .7:.1f}" '
                    f'stroke="{INK}" stroke-width="3" stroke-linecap="round"/>')
        self.out.append(mark)
        self._outside_label(n, b, shape)

    def _event(self, n: BpmnNode, b: Bounds, ov: Overlay) -> None:
        cx, cy, r = b.cx, b.cy, min(b.width, b.height) / 2
        fill = ov.fill or "#ffffff"
        dash = ' stroke-dasharray="5 3"' if n.type == "boundaryEvent" and not n.cancel_activity else ""
        if n.type == "startEvent":
            self.out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{fill}" stroke="{INK}" '
                            f'stroke-width="1.8"{dash}/>')
        elif n.type == "endEvent":
            self.out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r - 1.5:.1f}" fill="{fill}" stroke="{INK}" '
                            'stroke-width="4"/>')
        else:
            self.out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{fill}" stroke="{INK}" '
                            f'stroke-width="1.5"{dash}/><circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r - 3:.1f}" '
                            f'fill="none" stroke="{INK}" stroke-width="1.5"{dash}/>')
        throw = n.type in ("endEvent", "intermediateThrowEvent")
        for ev in n.events[:1]:
            self.out.append(_event_icon(ev, cx, cy, r, throw))
        self._outside_label(n, b, self.d.shapes.get(n.id))

    def _outside_label(self, n: BpmnNode, b: Bounds, shape) -> None:
        if not n.label:
            return
        lb = shape.label if shape is not None and shape.label is not None and shape.label.width > 0 else None
        if lb is not None:
            self._wrapped(n.label, lb.cx, lb.cy, max(lb.width, 60), 12, size=11)
        else:
            self._wrapped(n.label, b.cx, b.y + b.height + 14, 110, 12, size=11, valign="top")

    def _artifact(self, el: str, kind: str, b: Bounds) -> None:
        name = self.m.other_elements.get(el, ("", ""))[1]
        if kind == "textAnnotation":
            self.out.append(f'<path d="M{b.x + 12:.1f},{b.y:.1f} H{b.x:.1f} V{b.y + b.height:.1f} H{b.x + 12:.1f}" '
                            f'fill="none" stroke="{MUTED}" stroke-width="1.2"/>')
            self._wrapped(name, b.x + 6 + b.width / 2, b.cy, b.width - 8, 12, size=11, color=MUTED)
        elif kind == "group":
            self.out.append(f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.width:.1f}" height="{b.height:.1f}" rx="8" '
                            f'fill="none" stroke="{MUTED}" stroke-width="1.3" stroke-dasharray="9 4 2 4"/>')
            if name:
                self.out.append(f'<text x="{b.cx:.1f}" y="{b.y - 6:.1f}" text-anchor="middle" font-size="11" '
                                f'fill="{MUTED}">{_esc(name)}</text>')
        elif kind in ("dataObjectReference", "dataObject"):
            f = min(10.0, b.width / 3)
            self.out.append(f'<path d="M{b.x:.1f},{b.y:.1f} H{b.x + b.width - f:.1f} L{b.x + b.width:.1f},{b.y + f:.1f} '
                            f'V{b.y + b.height:.1f} H{b.x:.1f} Z M{b.x + b.width - f:.1f},{b.y:.1f} '
                            f'V{b.y + f:.1f} H{b.x + b.width:.1f}" fill="#fff" stroke="{MUTED}" stroke-width="1.2"/>')
            self._wrapped(name, b.cx, b.y + b.height + 14, 110, 12, size=11, color=MUTED, valign="top")
        elif kind == "dataStoreReference":
            e = b.height * 0.15
            self.out.append(f'<path d="M{b.x:.1f},{b.y + e:.1f} V{b.y + b.height - e:.1f} '
                            f'A{b.width / 2:.1f},{e:.1f} 0 0 0 {b.x + b.width:.1f},{b.y + b.height - e:.1f} '
                            f'V{b.y + e:.1f} A{b.width / 2:.1f},{e:.1f} 0 0 0 {b.x:.1f},{b.y + e:.1f} '
                            f'A{b.width / 2:.1f},{e:.1f} 0 0 0 {b.x + b.width:.1f},{b.y + e:.1f}" fill="#fff" '
                            f'stroke="{MUTED}" stroke-width="1.2"/>')
            self._wrapped(name, b.cx, b.y + b.height + 14, 110, 12, size=11, color=MUTED, valign="top")
        elif kind:
            self.out.append(f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.width:.1f}" height="{b.height:.1f}" rx="10" '
                            f'fill="#fafafa" stroke="#8c959f" stroke-width="1.2" stroke-dasharray="4 3"/>')
            self._wrapped(name, b.cx, b.cy, b.width - 10, 12, size=11, color=MUTED)

    def _badge(self, x: float, y: float, text: str) -> None:
        bb = badge_box(x, y, text)
        self.out.append(f'<rect x="{bb.x:.1f}" y="{bb.y:.1f}" width="{bb.width:.1f}" height="{bb.height:.0f}" rx="9" '
                        f'fill="#d1242f" stroke="#fff" stroke-width="1.5"/><text x="{bb.cx:.1f}" y="{y + 4:.1f}" '
                        f'text-anchor="middle" font-size="11" font-weight="700" fill="#fff">{_esc(text)}</text>')

    # ------------------------------------------------------------ edges
    def edge(self, fid: str, pts, label: Bounds | None) -> None:
        flow = self.flows.get(fid)
        ov = self.fo.get(fid, Overlay())
        d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        if flow is None and fid in self.m.message_flows:
            self.out.append(f'<g data-element="{_esc(fid)}" class="bpmn-messageFlow"><path d="{d}" fill="none" '
                            f'stroke="{MUTED}" stroke-width="1.3" stroke-dasharray="7 4" marker-start="url(#msgstart)" '
                            'marker-end="url(#msgend)"/></g>')
            return
        if flow is None:
            self.out.append(f'<g data-element="{_esc(fid)}" class="bpmn-association"><path d="{d}" fill="none" '
                            f'stroke="{MUTED}" stroke-width="1.2" stroke-dasharray="2 3"/></g>')
            return
        color = ov.fill or INK
        sw = ov.stroke_width or 1.4
        src = self.nodes.get(flow.source)
        start = ""
        if src is not None and src.default_flow == fid:
            start = ' marker-start="url(#default)"'
        elif src is not None and flow.condition and not src.is_gateway:
            start = ' marker-start="url(#cond)"'
        tip = flow.name or fid
        if ov.label:
            tip = f"{tip}\n{ov.label}"
        self.out.append(f'<g data-element="{_esc(fid)}" class="bpmn-sequenceFlow"><title>{_esc(tip)}</title>'
                        f'<path d="{d}" fill="none" stroke="{color}" stroke-width="{sw:.2f}" stroke-linejoin="round" '
                        f'marker-end="url(#{self.arrow(color)})"{start}/>')
        text = flow.name
        if ov.badge:
            text = f"{text} ({ov.badge})" if text else ov.badge
        if text:
            if label is not None and label.width > 0:
                x, y = label.cx, label.cy
            else:
                x, y = _midpoint(pts)
                y -= 6
            self.out.append(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" font-size="11" fill="{MUTED}" '
                            f'paint-order="stroke" stroke="#fff" stroke-width="3">{_esc(text)}</text>')
        self.out.append("</g>")

    # ------------------------------------------------------------ text
    def _wrapped(self, text: str, cx: float, cy: float, width: float, line_h: float, *, size: float = 12,
                 color: str = INK, valign: str = "middle") -> None:
        if not text:
            return
        lines = _wrap(text, max(int(width / (size * 0.55)), 6))[:5]
        y0 = cy - (len(lines) - 1) * line_h / 2 + size * 0.35 if valign == "middle" else cy
        tspans = "".join(f'<tspan x="{cx:.1f}" y="{y0 + i * line_h:.1f}">{_esc(ln)}</tspan>' for i, ln in enumerate(lines))
        self.out.append(f'<text text-anchor="middle" font-size="{size}" fill="{color}">{tspans}</text>')


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    cur = ""
    for word in text.split():
        if cur and len(cur) + 1 + len(word) > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}" if cur else word
    if cur:
        lines.append(cur)
    return lines


def _midpoint(pts) -> tuple[float, float]:
    segs = [(pts[i], pts[i + 1]) for i in range(len(pts) - 1)]
    total = sum(math.dist(a, b) for a, b in segs) / 2
    for a, b in segs:
        d = math.dist(a, b)
        if d >= total and d > 0:
            f = total / d
            return a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f
        total -= d
    return pts[0]


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def _event_icon(kind: str, cx: float, cy: float, r: float, throw: bool) -> str:
    fill = INK if throw else "none"
    s = r / 18
    if kind == "message":
        w, h = 18 * s, 12 * s
        x, y = cx - w / 2, cy - h / 2
        flap = "#fff" if throw else INK
        return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}" stroke="{INK}" '
                f'stroke-width="1.3"/><path d="M{x:.1f},{y:.1f} L{cx:.1f},{cy + 1:.1f} L{x + w:.1f},{y:.1f}" '
                f'fill="none" stroke="{flap}" stroke-width="1.3"/>')
    if kind == "timer":
        rr = 11 * s
        ticks = "".join(
            f'<line x1="{cx + rr * 0.78 * math.cos(a):.1f}" y1="{cy + rr * 0.78 * math.sin(a):.1f}" '
            f'x2="{cx + rr * math.cos(a):.1f}" y2="{cy + rr * math.sin(a):.1f}" stroke="{INK}" stroke-width="1"/>'
            for a in (math.pi * i / 6 for i in range(12))
        )
        return (f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{rr:.1f}" fill="#fff" stroke="{INK}" stroke-width="1.4"/>'
                f'{ticks}<path d="M{cx:.1f},{cy - rr * .7:.1f} L{cx:.1f},{cy:.1f} L{cx + rr * .55:.1f},{cy - rr * .2:.1f}" '
                f'fill="none" stroke="{INK}" stroke-width="1.4"/>')
    if kind == "signal":
        d = 10 * s
        return (f'<polygon points="{cx:.1f},{cy - d:.1f} {cx + d:.1f},{cy + d * .7:.1f} {cx - d:.1f},{cy + d * .7:.1f}" '
                f'fill="{fill}" stroke="{INK}" stroke-width="1.4"/>')
    if kind == "terminate":
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r * 0.55:.1f}" fill="{INK}"/>'
    if kind == "error":
        d = 9 * s
        return (f'<polygon points="{cx - d:.1f},{cy + d:.1f} {cx - d * .4:.1f},{cy - d:.1f} {cx + d * .2:.1f},{cy + d * .1:.1f} '
                f'{cx + d:.1f},{cy - d:.1f} {cx + d * .4:.1f},{cy + d:.1f} {cx - d * .2:.1f},{cy - d * .1:.1f}" '
                f'fill="{fill}" stroke="{INK}" stroke-width="1.3" stroke-linejoin="round"/>')
    if kind == "escalation":
        d = 10 * s
        return (f'<polygon points="{cx:.1f},{cy - d:.1f} {cx + d * .7:.1f},{cy + d:.1f} {cx:.1f},{cy + d * .2:.1f} '
                f'{cx - d * .7:.1f},{cy + d:.1f}" fill="{fill}" stroke="{INK}" stroke-width="1.3"/>')
    if kind == "conditional":
        d = 8 * s
        lines = "".join(f'<line x1="{cx - d * .6:.1f}" y1="{cy + y:.1f}" x2="{cx + d * .6:.1f}" y2="{cy + y:.1f}" '
                        f'stroke="{INK}" stroke-width="1.2"/>' for y in (-d * .55, -d * .15, d * .25, d * .65))
        return (f'<rect x="{cx - d:.1f}" y="{cy - d:.1f}" width="{2 * d:.1f}" height="{2 * d:.1f}" fill="none" '
                f'stroke="{INK}" stroke-width="1.3"/>{lines}')
    if kind == "link":
        d = 9 * s
        return (f'<polygon points="{cx - d:.1f},{cy - d * .4:.1f} {cx + d * .2:.1f},{cy - d * .4:.1f} '
                f'{cx + d * .2:.1f},{cy - d:.1f} {cx + d:.1f},{cy:.1f} {cx + d * .2:.1f},{cy + d:.1f} '
                f'{cx + d * .2:.1f},{cy + d * .4:.1f} {cx - d:.1f},{cy + d * .4:.1f}" fill="{fill}" stroke="{INK}" '
                'stroke-width="1.3"/>')
    if kind == "compensate":
        d = 8 * s
        return (f'<polygon points="{cx - d:.1f},{cy:.1f} {cx:.1f},{cy - d * .7:.1f} {cx:.1f},{cy + d * .7:.1f}" '
                f'fill="{fill}" stroke="{INK}" stroke-width="1.3"/><polygon points="{cx:.1f},{cy:.1f} '
                f'{cx + d:.1f},{cy - d * .7:.1f} {cx + d:.1f},{cy + d * .7:.1f}" fill="{fill}" stroke="{INK}" '
                'stroke-width="1.3"/>')
    if kind == "cancel":
        d = 7 * s
        return (f'<path d="M{cx - d:.1f},{cy - d:.1f} L{cx + d:.1f},{cy + d:.1f} M{cx + d:.1f},{cy - d:.1f} '
                f'L{cx - d:.1f},{cy + d:.1f}" stroke="{INK}" stroke-width="3"/>')
    return ""


_DEFS = (
    "<defs>"
    f'<marker id="default" viewBox="0 0 10 10" refX="-4" refY="5" markerWidth="10" markerHeight="10" orient="auto" '
    f'markerUnits="userSpaceOnUse"><path d="M2,1 L8,9" stroke="{INK}" stroke-width="1.6"/></marker>'
    f'<marker id="cond" viewBox="0 0 16 10" refX="0" refY="5" markerWidth="16" markerHeight="10" orient="auto" '
    f'markerUnits="userSpaceOnUse"><path d="M0,5 L8,0 L16,5 L8,10 z" fill="#fff" stroke="{INK}" stroke-width="1.2"/>'
    "</marker>"
    f'<marker id="msgstart" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="9" markerHeight="9" '
    f'markerUnits="userSpaceOnUse"><circle cx="5" cy="5" r="4" fill="#fff" stroke="{MUTED}" stroke-width="1.2"/>'
    "</marker>"
    f'<marker id="msgend" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="10" markerHeight="10" orient="auto" '
    f'markerUnits="userSpaceOnUse"><path d="M0,0 L10,5 L0,10 z" fill="#fff" stroke="{MUTED}" stroke-width="1.2"/>'
    "</marker>"
    "</defs>"
)

_I = f'fill="none" stroke="{INK}" stroke-width="1.2"'
_TASK_ICONS = {
    "userTask": (f'<circle cx="8" cy="5" r="3.6" {_I}/><path d="M1.5,15 C1.5,9.5 14.5,9.5 14.5,15 Z" {_I}/>'),
    "manualTask": (f'<path d="M1,8 L6,3 L13,3 M5,6 H14 M5,9 H14 M5,12 H12 M1,8 V13 H10" {_I}/>'),
    "serviceTask": (
        f'<circle cx="8" cy="8" r="3" {_I}/>'
        + "".join(
            f'<line x1="{8 + 4 * math.cos(a):.1f}" y1="{8 + 4 * math.sin(a):.1f}" x2="{8 + 7 * math.cos(a):.1f}" '
            f'y2="{8 + 7 * math.sin(a):.1f}" stroke="{INK}" stroke-width="2.2"/>'
            for a in (math.pi * i / 4 for i in range(8))
        )
        + f'<circle cx="8" cy="8" r="5" {_I}/>'
    ),
    "sendTask": (f'<rect x="0.5" y="2.5" width="16" height="11" fill="{INK}"/>'
                 '<path d="M0.5,2.5 L8.5,8.5 L16.5,2.5" fill="none" stroke="#fff" stroke-width="1.2"/>'),
    "receiveTask": (f'<rect x="0.5" y="2.5" width="16" height="11" {_I}/><path d="M0.5,2.5 L8.5,8.5 L16.5,2.5" {_I}/>'),
    "scriptTask": (f'<path d="M4,1 H15 C11,5 16,11 12,16 H1 C5,11 0,5 4,1 Z" {_I}/>'
                   f'<path d="M4.5,5 H11.5 M5.5,8.5 H12.5 M5,12 H11" {_I}/>'),
    "businessRuleTask": (f'<rect x="0.5" y="1.5" width="16" height="13" {_I}/>'
                         f'<rect x="0.5" y="1.5" width="16" height="3.5" fill="{INK}"/>'
                         f'<path d="M0.5,9.5 H16.5 M5,5 V14.5" {_I}/>'),
}
_MARKERS = {
    "sub": f'<rect x="0" y="0" width="14" height="14" {_I}/><path d="M7,3 V11 M3,7 H11" {_I} stroke-width="1.6"/>',
    "loop": f'<path d="M3.5,11.5 A5.5,5.5 0 1 1 10.5,11.5" {_I} stroke-width="1.5"/>'
            f'<path d="M1,9 L3.5,12 L6.5,10" {_I} stroke-width="1.5"/>',
    "par": f'<path d="M3,1 V13 M7,1 V13 M11,1 V13" {_I} stroke-width="2"/>',
    "seq": f'<path d="M1,3 H13 M1,7 H13 M1,11 H13" {_I} stroke-width="2"/>',
    "adhoc": f'<path d="M1,8 C3,4 5,4 7,7 C9,10 11,10 13,6" {_I} stroke-width="1.8"/>',
    "comp": (f'<polygon points="1,7 7,3 7,11" {_I}/><polygon points="7,7 13,3 13,11" {_I}/>'),
}


def svg_to_png(svg: str, *, scale: float = 2.0, timeout_s: float = 60) -> bytes:
    """Rasterise an SVG from :func:`render_svg` with headless Chromium (graphviz cannot read SVG).

    Raises :class:`BpmnError` when no Chromium is installed: write ``.svg`` then.
    """
    import re
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    from ..errors import BpmnError

    exe = next((shutil.which(c) for c in ("chromium", "chromium-browser", "google-chrome") if shutil.which(c)), None)
    if exe is None:
        raise BpmnError("PNG output needs Chromium (headless) installed; write an .svg file instead")
    m = re.search(r'<svg[^>]*\bwidth="([\d.]+)"[^>]*\bheight="([\d.]+)"', svg)
    width, height = (int(float(m.group(1))) + 1, int(float(m.group(2))) + 1) if m else (1600, 1000)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "diagram.html"
        out = Path(tmp) / "diagram.png"
        page.write_text(f'<!doctype html><html><body style="margin:0;background:#fff">{svg}</body></html>',
                        encoding="utf-8")
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--mute-audio",
               f"--force-device-scale-factor={scale}", f"--window-size={min(width, 8000)},{min(height, 8000)}",
               f"--user-data-dir={tmp}/profile", f"--screenshot={out}", page.as_uri()]
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise BpmnError(f"Chromium did not finish the PNG within {timeout_s:g} s; write an .svg file instead") from None
        if not out.exists():
            raise BpmnError("Chromium produced no PNG; write an .svg file instead")
        return out.read_bytes()
