"""Automatic left-to-right layout for BPMN models without diagram interchange (DI).

Uses graphviz ``dot -Tjson`` (sub-processes become clusters); when graphviz is
not installed, a layered layout (longest path from the start, back edges
ignored) keeps the diagram readable.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import defaultdict, deque

from .model import (
    GATEWAY_TYPES,
    SUBPROCESS_TYPES,
    Bounds,
    BpmnModel,
    BpmnNode,
    Diagram,
    Edge,
    Shape,
)

TASK_W, TASK_H = 120.0, 80.0
EVENT = 36.0
GATEWAY = 50.0


def _size(n: BpmnNode) -> tuple[float, float]:
    if n.is_event:
        return EVENT, EVENT
    if n.type in GATEWAY_TYPES:
        return GATEWAY, GATEWAY
    return TASK_W, TASK_H


def auto_layout(model: BpmnModel) -> Diagram:
    """A :class:`Diagram` with bounds for every drawn node and waypoints for every sequence flow."""
    if shutil.which("dot"):
        try:
            return _dot_layout(model)
        except (OSError, subprocess.SubprocessError, ValueError, KeyError):
            pass  # fall back to the layered layout below
    return _layered_layout(model)


def _drawn_nodes(model: BpmnModel) -> list[BpmnNode]:
    return [n for n in model.nodes.values() if n.type != "boundaryEvent"]


def _dot_layout(model: BpmnModel) -> Diagram:
    nodes = _drawn_nodes(model)
    ids = {n.id: f"n{i}" for i, n in enumerate(nodes)}
    children: dict[str | None, list[BpmnNode]] = defaultdict(list)
    for n in nodes:
        children[n.parent if n.parent in ids else None].append(n)
    lines = ['digraph G { rankdir=LR; nodesep=0.45; ranksep=0.55; splines=spline; node [shape=box, fixedsize=true];']

    def emit(parent: str | None, depth: int) -> None:
        for n in children.get(parent, []):
            if n.type in SUBPROCESS_TYPES and children.get(n.id):
                lines.append(f'subgraph cluster_{ids[n.id]} {{ label=""; margin=28;')
                emit(n.id, depth + 1)
                lines.append("}")
            else:
                w, h = _size(n)
                lines.append(f'{ids[n.id]} [width={w / 72:.3f}, height={h / 72:.3f}, label=""];')

    emit(None, 0)
    for fid, f in model.flows.items():
        src, tgt = f.source, f.target
        src = model.nodes[src].attached_to if src in model.nodes and model.nodes[src].type == "boundaryEvent" else src
        if src in ids and tgt in ids and not _is_cluster(model, children, src) and not _is_cluster(model, children, tgt):
            lines.append(f'{ids[src]} -> {ids[tgt]} [id="{fid}"];')
    lines.append("}")
    proc = subprocess.run(["dot", "-Tjson"], input="\n".join(lines).encode(), capture_output=True, timeout=30)
    if proc.returncode != 0:
        raise ValueError(proc.stderr.decode(errors="replace"))
    data = json.loads(proc.stdout)
    bb = [float(v) for v in data["bb"].split(",")]
    height = bb[3]
    back = {v: k for k, v in ids.items()}
    diagram = Diagram()
    for obj in data.get("objects", []):
        name = obj.get("name", "")
        if name.startswith("cluster_"):
            x1, y1, x2, y2 = (float(v) for v in obj["bb"].split(","))
            el = back[name[len("cluster_"):]]
            diagram.shapes[el] = Shape(el, Bounds(x1, height - y2, x2 - x1, y2 - y1), is_expanded=True)
        elif name in back and "pos" in obj:
            x, y = (float(v) for v in obj["pos"].split(","))
            n = model.nodes[back[name]]
            w, h = _size(n)
            diagram.shapes[n.id] = Shape(n.id, Bounds(x - w / 2, height - y - h / 2, w, h), is_expanded=False)
    for e in data.get("edges", []):
        fid = e.get("id")
        pos = e.get("pos")
        if not fid or not pos:
            continue
        diagram.edges[fid] = Edge(fid, _spline_points(pos, height))
    _place_boundary_events(model, diagram)
    _fill_cluster_edges(model, diagram)
    return diagram


def _is_cluster(model: BpmnModel, children, node_id: str) -> bool:
    n = model.nodes.get(node_id)
    return bool(n is not None and n.type in SUBPROCESS_TYPES and children.get(node_id))


def _spline_points(pos: str, height: float) -> tuple[tuple[float, float], ...]:
    """Sample graphviz's cubic B-spline control points (``e,x,y p0 p1 ...``) into a smooth polyline."""
    end = None
    ctrl: list[tuple[float, float]] = []
    for token in pos.split():
        parts = token.split(",")
        if parts[0] == "e":
            end = (float(parts[1]), height - float(parts[2]))
        elif parts[0] == "s":
            continue
        else:
            ctrl.append((float(parts[0]), height - float(parts[1])))
    pts: list[tuple[float, float]] = [ctrl[0]]
    for i in range(0, len(ctrl) - 3, 3):
        p0, p1, p2, p3 = ctrl[i : i + 4]
        for k in range(1, 7):
            t = k / 6
            a, b, c, d = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t**3
            pts.append((a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0], a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]))
    if end is not None:
        pts.append(end)
    return tuple(pts)


def _place_boundary_events(model: BpmnModel, diagram: Diagram) -> None:
    per_host: dict[str, int] = defaultdict(int)
    for n in model.nodes.values():
        if n.type != "boundaryEvent" or n.attached_to not in diagram.shapes:
            continue
        host = diagram.shapes[n.attached_to].bounds
        i = per_host[n.attached_to]
        per_host[n.attached_to] += 1
        x = host.x + host.width * (0.75 - 0.3 * i) - EVENT / 2
        diagram.shapes[n.id] = Shape(n.id, Bounds(x, host.y + host.height - EVENT / 2, EVENT, EVENT))


def _fill_cluster_edges(model: BpmnModel, diagram: Diagram) -> None:
    """Straight connectors for flows dot did not route (to/from clusters, from boundary events)."""
    for fid, f in model.flows.items():
        if fid in diagram.edges or f.source not in diagram.shapes or f.target not in diagram.shapes:
            continue
        a, b = diagram.shapes[f.source].bounds, diagram.shapes[f.target].bounds
        if model.nodes[f.source].type == "boundaryEvent":
            start = (a.cx, a.y + a.height)
            end = (b.x, b.cy)
            diagram.edges[fid] = Edge(fid, (start, (start[0], end[1]), end))
            continue
        start = (a.x + a.width, a.cy)
        end = (b.x, b.cy)
        mid = (start[0] + end[0]) / 2
        diagram.edges[fid] = Edge(fid, (start, (mid, start[1]), (mid, end[1]), end))


def _layered_layout(model: BpmnModel) -> Diagram:
    nodes = [n for n in _drawn_nodes(model)]
    succ: dict[str, list[str]] = defaultdict(list)
    indeg: dict[str, int] = {n.id: 0 for n in nodes}
    for f in model.flows.values():
        if f.source in indeg and f.target in indeg:
            succ[f.source].append(f.target)
    # layers by BFS depth from the sources (back edges to visited nodes are ignored)
    layer: dict[str, int] = {}
    queue = deque(n.id for n in nodes if not any(n.id in v for v in succ.values()))
    for q in queue:
        layer[q] = 0
    while queue:
        cur = queue.popleft()
        for nxt in succ[cur]:
            if nxt not in layer:
                layer[nxt] = layer[cur] + 1
                queue.append(nxt)
    for n in nodes:
        layer.setdefault(n.id, 0)
    rows: dict[int, int] = defaultdict(int)
    diagram = Diagram()
    for n in nodes:
        col = layer[n.id]
        row = rows[col]
        rows[col] += 1
        w, h = _size(n)
        cx, cy = 80 + col * 180, 80 + row * 130
        diagram.shapes[n.id] = Shape(n.id, Bounds(cx - w / 2, cy - h / 2, w, h), is_expanded=False)
    _place_boundary_events(model, diagram)
    _fill_cluster_edges(model, diagram)
    return diagram
