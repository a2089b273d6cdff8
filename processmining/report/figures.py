"""Figures of the printed report at a readable size: portrait, a landscape page, or tiles across pages.

A wide diagram (a BPMN model drawn left to right, a large process map)
shrunk to the width of a portrait page prints its labels at 1-2 pt. Every
figure is therefore placed so that its smallest label prints at least
:data:`MIN_LABEL_PT` (6 pt):

1. on the portrait page if it fits there with labels that large;
2. else alone on a landscape page (``@page wide`` of the template);
3. else cut into tiles of a landscape page each, at exactly the minimum label
   size, overlapping a little, each captioned "part k of n", after an
   overview page that shows the whole figure with the tiles outlined.

Tiles are the same vector drawing with another ``viewBox`` (no raster
images); each copy gets its element ids prefixed so that ids stay unique in
the document. The HTML on screen shows the whole figure in a scrolling box
instead (the tiles are print only).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

#: smallest printed label size of any figure in the PDF (points)
MIN_LABEL_PT = 6.0
PT_PER_MM = 72.0 / 25.4
#: room for a figure on a portrait A4 page (16 mm side margins) and on a landscape page (``@page wide``:
#: 8 mm side margins, 184 mm high less one caption line; a wide figure or tile starts its own page)
PORTRAIT_MM = (178.0, 200.0)
LANDSCAPE_MM = (281.0, 177.0)
#: how much neighbouring tiles overlap (share of a tile), so that an element cut by a tile edge is whole on one
OVERLAP = 0.06

_ROOT = re.compile(r"<svg\b[^>]*>", re.S)
_FONT = re.compile(r"font-size(?:=\"|:\s*)([0-9]*\.?[0-9]+)")


@dataclass(frozen=True)
class Placement:
    """Where a figure goes: ``orientation`` of its page(s), the printed size of one tile (mm), the
    ``viewBox`` (x, y, w, h) of each tile (one tile: the whole figure) and the printed size of the
    smallest label (pt)."""

    orientation: str
    width_mm: float
    height_mm: float
    tiles: tuple[tuple[float, float, float, float], ...]
    label_pt: float
    grid: tuple[int, int] = (1, 1)

    @property
    def tiled(self) -> bool:
        return len(self.tiles) > 1


def svg_box(svg: str) -> tuple[tuple[float, float, float, float], float]:
    """The root ``viewBox`` of ``svg`` (from width/height when it has none) and its smallest font size, in
    the drawing's own units."""
    root = _ROOT.search(svg)
    if root is None:
        raise ValueError("not an SVG document: no <svg> element")
    tag = root.group(0)
    vb = re.search(r'viewBox="([^"]+)"', tag)
    if vb:
        x, y, w, h = (float(v) for v in vb.group(1).replace(",", " ").split())
    else:
        w, h = (float(re.sub(r"[a-z]+$", "", re.search(rf'{k}="([^"]+)"', tag).group(1))) for k in ("width", "height"))
        x = y = 0.0
    sizes = [float(v) for v in _FONT.findall(svg)]
    return (x, y, w, h), min(sizes) if sizes else 14.0


def place(svg: str, *, min_label_pt: float = MIN_LABEL_PT) -> Placement:
    """How to print ``svg`` so that its smallest label is at least ``min_label_pt``."""
    (x, y, w, h), font = svg_box(svg)
    natural = _natural_scale(svg, w)  # points per unit at the figure's own size (its width attribute)
    for orientation, (fw, fh) in (("portrait", PORTRAIT_MM), ("landscape", LANDSCAPE_MM)):
        scale = min(natural if orientation == "portrait" else math.inf, fw * PT_PER_MM / w, fh * PT_PER_MM / h)
        if font * scale >= min_label_pt - 1e-9:
            return Placement(orientation, w * scale / PT_PER_MM, h * scale / PT_PER_MM, ((x, y, w, h),),
                             font * scale)
    scale = min_label_pt / font
    tw, th = LANDSCAPE_MM[0] * PT_PER_MM / scale, LANDSCAPE_MM[1] * PT_PER_MM / scale  # a tile in drawing units
    xs, tw = _cuts(x, w, tw)
    ys, th = _cuts(y, h, th)
    tiles = tuple((tx, ty, tw, th) for ty in ys for tx in xs)
    return Placement("landscape", tw * scale / PT_PER_MM, th * scale / PT_PER_MM, tiles, min_label_pt,
                     grid=(len(ys), len(xs)))


def _natural_scale(svg: str, width: float) -> float:
    """Points per drawing unit when the SVG is shown at its ``width`` attribute (px = 0.75 pt)."""
    m = re.search(r'width="([0-9.]+)(pt|px|mm)?"', _ROOT.search(svg).group(0))
    if not m:
        return math.inf
    value, unit = float(m.group(1)), m.group(2) or "px"
    pts = value * {"pt": 1.0, "px": 0.75, "mm": PT_PER_MM}[unit]
    return pts / width if width else math.inf


def _cuts(start: float, length: float, tile: float) -> tuple[list[float], float]:
    """Origins of the tiles that cover ``[start, start + length]`` with tiles of ``tile`` overlapping by
    :data:`OVERLAP`, spread evenly; and the tile length (the whole length when one tile is enough)."""
    if length <= tile:
        return [start], length
    n = math.ceil((length - tile * OVERLAP) / (tile * (1 - OVERLAP)))
    step = (length - tile) / (n - 1)
    return [start + i * step for i in range(n)], tile


def _prefix_ids(svg: str, prefix: str) -> str:
    """``svg`` with every ``id`` and every reference to one (``url(#..)``, ``href="#.."``) prefixed."""
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
    return re.sub(r'((?:xlink:)?href)="#([^"]+)"', lambda m: f'{m.group(1)}="#{prefix}{m.group(2)}"', svg)


def sized(svg: str, box: tuple[float, float, float, float], width_mm: float, height_mm: float, *,
          prefix: str, extra: str = "") -> str:
    """``svg`` showing only ``box`` of its drawing, printed ``width_mm`` x ``height_mm``; ``extra`` SVG
    elements are drawn on top (the tile outlines of the overview)."""
    root = _ROOT.search(svg)
    tag = root.group(0)
    for attr in ("viewBox", "width", "height", "preserveAspectRatio", "style"):
        tag = re.sub(rf'\s{attr}="[^"]*"', "", tag)
    vb = " ".join(f"{v:.2f}" for v in box)
    tag = (tag[:-1].rstrip("/") + f' viewBox="{vb}" width="{width_mm:.1f}mm" height="{height_mm:.1f}mm" '
           f'preserveAspectRatio="xMinYMin meet">')
    body = svg[root.end():]
    if extra:
        body = body[: body.rfind("</svg>")] + extra + "</svg>"
    return _prefix_ids(svg[: root.start()] + tag + body, prefix)


def overview_marks(placement: Placement) -> str:
    """Outlines and numbers of the tiles, in drawing units, for the overview of a tiled figure."""
    out = []
    for k, (x, y, w, h) in enumerate(placement.tiles, 1):
        size = min(w, h) * 0.18
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="none" stroke="#2b6fb0" '
                   f'stroke-width="{size / 12:.1f}" stroke-dasharray="{size / 3:.1f} {size / 6:.1f}"/>'
                   f'<text x="{x + size * 0.3:.1f}" y="{y + size:.1f}" font-size="{size:.1f}" fill="#2b6fb0" '
                   f'font-weight="bold" opacity="0.75">{k}</text>')
    return "".join(out)


__all__ = ["MIN_LABEL_PT", "Placement", "overview_marks", "place", "sized", "svg_box"]
