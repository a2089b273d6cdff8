"""Write a discovered BPMN model as BPMN 2.0 XML with diagram interchange (DI).

pm4py's tree-to-BPMN conversion leaves chains of pass-through and nested
gateways, and its exporter's layout is not always accepted by modelling tools.
Here the model becomes a plain graph, redundant gateways are removed (each
reduction keeps the model's language), graphviz ``dot`` lays it out left to
right, and the XML gets a ``BPMNShape`` for every node and a ``BPMNEdge`` with
waypoints for every sequence flow, so it opens in bpmn.io / Camunda Modeler.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import AnalysisError
from ..model import EventLog


@dataclass
class BpmnGraph:
    """A plain BPMN graph: ``nodes`` id -> (kind, name); ``flows`` list of (source id, target id)."""

    nodes: dict[str, tuple[str, str]]
    flows: list[tuple[str, str]]


_KINDS = {"StartEvent": "startEvent", "NormalStartEvent": "startEvent", "EndEvent": "endEvent",
          "NormalEndEvent": "endEvent", "Task": "task", "ExclusiveGateway": "exclusiveGateway",
          "ParallelGateway": "parallelGateway", "InclusiveGateway": "inclusiveGateway"}


def graph_from_pm4py(bpmn: Any) -> BpmnGraph:
    """pm4py's BPMN object -> :class:`BpmnGraph` with readable, valid XML ids."""
    nodes: dict[str, tuple[str, str]] = {}
    ids: dict[Any, str] = {}
    counters: dict[str, int] = {}
    key = _structural_keys(bpmn)
    for node in sorted(bpmn.get_nodes(), key=lambda n: (type(n).__name__, n.get_name() or "", key[n])):
        kind = _KINDS.get(type(node).__name__)
        if kind is None:
            raise ValueError(f"unexpected BPMN node type from the miner: {type(node).__name__}")
        prefix = {"startEvent": "StartEvent", "endEvent": "EndEvent", "task": "Activity"}.get(kind, "Gateway")
        counters[prefix] = counters.get(prefix, 0) + 1
        nid = f"{prefix}_{counters[prefix]}"
        ids[node] = nid
        nodes[nid] = (kind, node.get_name() if kind == "task" else "")
    flows = [(ids[f.get_source()], ids[f.get_target()]) for f in bpmn.get_flows()]
    return BpmnGraph(nodes=nodes, flows=sorted(flows))


def _structural_keys(bpmn: Any) -> dict[Any, str]:
    """A key per node from its kind, name and surroundings (refined as often as there are nodes), so nodes are
    numbered by where they sit in the model, not by pm4py's random ids: the same model gives the same XML."""
    import hashlib

    nodes = list(bpmn.get_nodes())
    ins: dict[Any, list[Any]] = {n: [] for n in nodes}
    outs: dict[Any, list[Any]] = {n: [] for n in nodes}
    for f in bpmn.get_flows():
        outs[f.get_source()].append(f.get_target())
        ins[f.get_target()].append(f.get_source())
    key = {n: f"{type(n).__name__}:{n.get_name() or ''}" for n in nodes}
    for _ in range(len(nodes)):
        new = {n: hashlib.sha256(repr((key[n], sorted(key[m] for m in ins[n]),
                                       sorted(key[m] for m in outs[n]))).encode()).hexdigest() for n in nodes}
        if len(set(new.values())) == len(set(key.values())):
            break
        key = new
    return key


def reduce_gateways(g: BpmnGraph) -> BpmnGraph:
    """Remove what the tree-to-BPMN conversion leaves behind: pass-through gateways,
    split-into-split and join-into-join chains of the same type, and duplicate XOR flows.
    Each step preserves the language of the model."""
    nodes, flows = dict(g.nodes), list(g.flows)
    changed = True
    while changed:
        changed = False
        ins: dict[str, list[int]] = {n: [] for n in nodes}
        outs: dict[str, list[int]] = {n: [] for n in nodes}
        for i, (s, t) in enumerate(flows):
            outs[s].append(i)
            ins[t].append(i)
        for nid, (kind, _) in nodes.items():
            if not kind.endswith("Gateway"):
                continue
            if len(ins[nid]) == 1 and len(outs[nid]) == 1:  # pass-through
                (s, _t), (_s, t) = flows[ins[nid][0]], flows[outs[nid][0]]
                flows = [f for i, f in enumerate(flows) if i not in (ins[nid][0], outs[nid][0])] + [(s, t)]
                del nodes[nid]
                changed = True
                break
            if len(ins[nid]) == 1:  # split fed directly by a split of the same type
                src = flows[ins[nid][0]][0]
                if nodes[src][0] == kind and len(ins[src]) == 1:
                    flows = [(src, t) if s == nid else (s, t) for i, (s, t) in enumerate(flows) if i != ins[nid][0]]
                    del nodes[nid]
                    changed = True
                    break
            if len(outs[nid]) == 1:  # join feeding directly into a join of the same type
                tgt = flows[outs[nid][0]][1]
                if nodes[tgt][0] == kind and len(outs[tgt]) == 1:
                    flows = [(s, tgt) if t == nid else (s, t) for i, (s, t) in enumerate(flows) if i != outs[nid][0]]
                    del nodes[nid]
                    changed = True
                    break
        if not changed:
            seen: set[tuple[str, str]] = set()
            dedup = []
            for s, t in flows:
                if (s, t) in seen and nodes[s][0] == "exclusiveGateway":
                    changed = True
                    continue
                seen.add((s, t))
                dedup.append((s, t))
            flows = dedup
    return BpmnGraph(nodes=nodes, flows=flows)


_SIZE = {"task": (100.0, 80.0), "startEvent": (36.0, 36.0), "endEvent": (36.0, 36.0)}
_GW_SIZE = (50.0, 50.0)


def _back_edges(g: BpmnGraph) -> set[int]:
    """Indices of flows that close a loop: DFS from the start events, an edge to a node on the stack."""
    out: dict[str, list[tuple[int, str]]] = {}
    for i, (s, t) in enumerate(g.flows):
        out.setdefault(s, []).append((i, t))
    roots = [n for n, (kind, _) in g.nodes.items() if kind == "startEvent"] + list(g.nodes)
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    back: set[int] = set()
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(out.get(root, ())))]
        while stack:
            node, it = stack[-1]
            step = next(it, None)
            if step is None:
                state[node] = 2
                stack.pop()
                continue
            i, nxt = step
            if state.get(nxt) == 1:
                back.add(i)
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(out.get(nxt, ()))))
    return back


def _layout(g: BpmnGraph) -> tuple[dict[str, tuple[float, float, float, float]], list[list[tuple[float, float]]]]:
    """Left-to-right layout by graphviz ``dot``: shape bounds (x, y, w, h) and flow waypoints (points)."""
    import subprocess

    lines = ["digraph G {", "rankdir=LR; nodesep=0.5; ranksep=0.6; splines=polyline;"]
    for nid, (kind, _) in g.nodes.items():
        w, h = _SIZE.get(kind, _GW_SIZE)
        shape = {"task": "box"}.get(kind, "circle" if kind.endswith("Event") else "diamond")
        lines.append(f'"{nid}" [shape={shape}, fixedsize=true, width={w / 72:.4f}, height={h / 72:.4f}, label=""];')
    back = _back_edges(g)
    for i, (s, t) in enumerate(g.flows):
        # a loop's return flow must not push its target to the right of the loop body
        extra = ", constraint=false" if i in back else ""
        lines.append(f'"{s}" -> "{t}" [id="f{i}"{extra}];')
    lines.append("}")
    try:
        out = subprocess.run(["dot", "-Tplain-ext"], input="\n".join(lines), capture_output=True, text=True,
                             check=True, timeout=120).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise AnalysisError(f"graphviz 'dot' failed to lay out the BPMN model: {exc}") from exc
    bounds: dict[str, tuple[float, float, float, float]] = {}
    edges: dict[tuple[str, str], list[list[tuple[float, float]]]] = {}
    height = 0.0
    for line in out.splitlines():
        parts = line.split()
        if parts[0] == "graph":
            height = float(parts[3])
        elif parts[0] == "node":
            nid = parts[1].strip('"')
            w, h = _SIZE.get(g.nodes[nid][0], _GW_SIZE)
            cx, cy = float(parts[2]) * 72, (height - float(parts[3])) * 72
            bounds[nid] = (round(cx - w / 2 + 20, 1), round(cy - h / 2 + 20, 1), w, h)
        elif parts[0] == "edge":
            s, t, n = parts[1].strip('"'), parts[2].strip('"'), int(parts[3])
            pts = [(float(parts[4 + 2 * k]) * 72 + 20, (height - float(parts[5 + 2 * k])) * 72 + 20) for k in range(n)]
            edges.setdefault((s, t), []).append([(round(x, 1), round(y, 1)) for x, y in pts[::3]])
    waypoints = []
    for s, t in g.flows:
        pts = edges[(s, t)].pop(0) if edges.get((s, t)) else []
        sx, sy, sw, sh = bounds[s]
        tx, ty, tw, th = bounds[t]
        if len(pts) < 2:
            pts = [(sx + sw, sy + sh / 2), (tx, ty + th / 2)]
        waypoints.append(pts)
    return bounds, waypoints


def bpmn_xml(g: BpmnGraph, *, name: str = "discovered") -> str:
    """Serialise a BPMN graph with a fresh dot layout as BPMN 2.0 XML with DI for every shape and edge."""
    from lxml import etree

    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
          "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
          "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI"}

    def q(prefix: str, tag: str) -> str:
        return f"{{{ns[prefix]}}}{tag}"

    bounds, waypoints = _layout(g)
    defs = etree.Element(q("bpmn", "definitions"), nsmap=ns, id="Definitions_1",
                         targetNamespace="http://processmining.example/discovered",
                         exporter="processmining", exporterVersion=_version())
    proc = etree.SubElement(defs, q("bpmn", "process"), id="Process_1", name=f"Discovered from {name}",
                            isExecutable="false")
    flow_ids = [f"Flow_{i + 1}" for i in range(len(g.flows))]
    elements: dict[str, Any] = {}
    for nid, (kind, label) in g.nodes.items():
        attrs = {"id": nid}
        if label:
            attrs["name"] = label
        if kind.endswith("Gateway"):
            n_in = sum(1 for _, t in g.flows if t == nid)
            n_out = sum(1 for s, _ in g.flows if s == nid)
            attrs["gatewayDirection"] = "Diverging" if n_in <= 1 < n_out else "Converging" if n_out <= 1 < n_in else "Mixed"
        elements[nid] = etree.SubElement(proc, q("bpmn", kind), **attrs)
    for fid, (_, t) in zip(flow_ids, g.flows, strict=True):  # the schema wants every incoming before the outgoing
        etree.SubElement(elements[t], q("bpmn", "incoming")).text = fid
    for fid, (s, _) in zip(flow_ids, g.flows, strict=True):
        etree.SubElement(elements[s], q("bpmn", "outgoing")).text = fid
    for fid, (s, t) in zip(flow_ids, g.flows, strict=True):
        etree.SubElement(proc, q("bpmn", "sequenceFlow"), id=fid, sourceRef=s, targetRef=t)
    diagram = etree.SubElement(defs, q("bpmndi", "BPMNDiagram"), id="BPMNDiagram_1")
    plane = etree.SubElement(diagram, q("bpmndi", "BPMNPlane"), id="BPMNPlane_1", bpmnElement="Process_1")
    for nid, (kind, _) in g.nodes.items():
        attrs = {"id": f"{nid}_di", "bpmnElement": nid}
        if kind == "exclusiveGateway":
            attrs["isMarkerVisible"] = "true"
        shape = etree.SubElement(plane, q("bpmndi", "BPMNShape"), **attrs)
        x, y, w, h = bounds[nid]
        etree.SubElement(shape, q("dc", "Bounds"), x=f"{x:g}", y=f"{y:g}", width=f"{w:g}", height=f"{h:g}")
    for fid, pts in zip(flow_ids, waypoints, strict=True):
        edge = etree.SubElement(plane, q("bpmndi", "BPMNEdge"), id=f"{fid}_di", bpmnElement=fid)
        for x, y in pts:
            etree.SubElement(edge, q("di", "waypoint"), x=f"{x:g}", y=f"{y:g}")
    return etree.tostring(defs, pretty_print=True, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def _version() -> str:
    from ..model import tool_version

    return tool_version()


def discover_bpmn(log: EventLog, *, noise_threshold: float = 0.2) -> str:
    """A BPMN 2.0 model (XML text with DI) of ``log`` by the inductive miner.

    ``noise_threshold`` (0..1) is the infrequent inductive miner's filter: 0
    keeps every observed behaviour, higher values give simpler models. Every
    shape and edge has diagram interchange, so the file opens in bpmn.io /
    Camunda Modeler and can be edited into a reference model.

    >>> xml = discover_bpmn(log, noise_threshold=0.2)
    >>> open("discovered.bpmn", "w").write(xml)
    """
    _check_noise(noise_threshold)
    if log.n_events == 0:
        raise AnalysisError("cannot discover a model from an empty log", source=log.name)
    from .variants import log_variants

    # the variants, in the order of their first case, are all the inductive miner sees of the log
    v = log_variants(log)
    variants = dict(zip(v.traces, v.counts.tolist(), strict=True))
    return bpmn_from_variants(variants, noise_threshold=noise_threshold, name=log.name)


def bpmn_from_variants(variants: Mapping[tuple[str, ...], int], *, noise_threshold: float = 0.2,
                       name: str = "discovered") -> str:
    """:func:`discover_bpmn` from the variants (activity sequence -> cases, in the order of their first case):
    pm4py's inductive miner works on the variants alone, so the Spark engine counts them on the cluster and
    calls this with the same result.
    """
    _check_noise(noise_threshold)
    from collections import Counter

    import pm4py
    from pm4py.algo.discovery.inductive.dtypes.im_ds import IMDataStructureUVCL
    from pm4py.algo.discovery.inductive.variants.im import IMUVCL
    from pm4py.algo.discovery.inductive.variants.imf import IMFUVCL
    from pm4py.objects.process_tree.utils import generic as pt_util
    from pm4py.objects.process_tree.utils.generic import tree_sort
    from pm4py.util import constants

    # the parameters and steps of pm4py.discover_process_tree_inductive on a log (inductive_miner.apply)
    params = {"noise_threshold": noise_threshold, "multiprocessing": constants.ENABLE_MULTIPROCESSING_DEFAULT,
              "disable_fallthroughs": False}
    miner = IMFUVCL(params) if noise_threshold > 0 else IMUVCL(params)
    tree = miner.apply(IMDataStructureUVCL(Counter({tuple(k): int(v) for k, v in variants.items()})), params)
    tree = pt_util.fold(tree)
    tree_sort(tree)
    graph = graph_from_pm4py(pm4py.convert_to_bpmn(tree))
    return bpmn_xml(reduce_gateways(graph), name=name)


def _check_noise(noise_threshold: float) -> None:
    if not 0.0 <= noise_threshold <= 1.0:
        raise AnalysisError(f"noise_threshold must be between 0 and 1, got {noise_threshold}")
