"""Deviation badges on the BPMN diagram that never overlap: each badge gets a place of its own.

A badge (the red pill with a count) sits at its element's top right corner
by default. Elements close together (an end event just after a task, a task
at the corner of its sub-process, boundary events) put two pills on top of
each other. :func:`place_badges` tries, per element, the four corners and
then positions stacked above the top right corner, and takes the first whose
box (:func:`processmining.bpmn.diagram.badge_box`) meets no badge placed
before it - preferring places that cover no other element either. Elements
are placed top to bottom, left to right, so the result is the same on every
run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

#: space kept between two badges (diagram units)
GAP = 2.0
#: how far a badge may be stacked above its element before giving up on avoiding other elements
MAX_STACK = 12


def _meets(a: Any, b: Any, gap: float = 0.0) -> bool:
    return (a.x < b.x + b.width + gap and b.x < a.x + a.width + gap
            and a.y < b.y + b.height + gap and b.y < a.y + a.height + gap)


def _candidates(b: Any, text: str) -> Iterator[tuple[float, float]]:
    from processmining.bpmn.diagram import badge_box

    w = badge_box(0, 0, text).width
    right, left = b.x + b.width, b.x + w - 6  # anchors whose box ends at the right edge / starts at the left edge
    yield right, b.y
    yield left, b.y
    yield right, b.y + b.height
    yield left, b.y + b.height
    for k in range(1, 10_000):  # stacked above the top right corner: always ends somewhere free
        yield right, b.y - k * (18 + GAP)
        yield left, b.y - k * (18 + GAP)


def place_badges(model: Any, overlays: Mapping[str, Any], diagram: Any = None) -> dict[str, Any]:
    """``overlays`` with ``badge_at`` set on every badge so that no two badge boxes meet.

    ``diagram``: the shapes the renderer draws (the file's DI, else the automatic layout).
    """
    from processmining.bpmn.diagram import badge_box
    from processmining.bpmn.layout import auto_layout
    from processmining.bpmn.model import Bounds

    d = diagram if diagram is not None else (model.diagram if model.diagram else auto_layout(model))
    shapes = {el: s.bounds for el, s in d.shapes.items()}
    badged = [el for el, ov in overlays.items() if ov.badge and el in shapes]
    badged.sort(key=lambda el: (shapes[el].y, shapes[el].x, el))
    placed: list[Any] = []
    out = dict(overlays)
    for el in badged:
        ov = overlays[el]
        b = shapes[el]
        w = badge_box(0, 0, ov.badge).width
        reach = Bounds(b.x - w, b.y - (MAX_STACK + 1) * (18 + GAP), b.width + 2 * w, b.height + (MAX_STACK + 3) * 20)
        others = [o for e2, o in shapes.items() if e2 != el and _meets(o, reach) and not _contains(o, b)]
        fallback = None
        for n, (x, y) in enumerate(_candidates(b, ov.badge)):
            box = badge_box(x, y, ov.badge)
            if any(_meets(box, p, GAP) for p in placed):
                continue
            if fallback is None:
                fallback = (x, y)
            if not any(_meets(box, o) for o in others):
                fallback = (x, y)
                break
            if n >= 4 + 2 * MAX_STACK:
                break
        placed.append(badge_box(*fallback, ov.badge))
        out[el] = dataclasses.replace(ov, badge_at=fallback)
    return out


def _contains(outer: Any, inner: Any) -> bool:
    """``outer`` holds ``inner`` (a sub-process or lane around the element): not an obstacle for its badge."""
    return (outer.x <= inner.x and outer.y <= inner.y and outer.x + outer.width >= inner.x + inner.width
            and outer.y + outer.height >= inner.y + inner.height)


def badge_boxes(svg: str) -> list[tuple[float, float, float, float]]:
    """``(x, y, width, height)`` of every badge drawn in ``svg`` (the renderer's red pills)."""
    import re

    pill = re.compile(r'<rect x="([-\d.]+)" y="([-\d.]+)" width="([\d.]+)" height="([\d.]+)" rx="9" fill="#d1242f"')
    return [tuple(float(v) for v in m.groups()) for m in pill.finditer(svg)]
