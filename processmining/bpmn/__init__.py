"""BPMN 2.0: safe import with an element-level report, Petri-net conversion, soundness, labels, diagrams.

Typical use::

    from processmining.bpmn import read_bpmn, match_labels, to_petri_net, check_soundness, compile_net

    model = read_bpmn("bpmn_models/lead_to_order.bpmn")
    print(model.report.summary())
    labels = match_labels(model, log_activities)
    converted = to_petri_net(model, label_map=labels.label_map)
    check_soundness(converted).sound   # True
    core = compile_net(model)          # the reduced net conformance checking compiles (cached on the model)
"""

from __future__ import annotations

from typing import Any

from .labels import LabelMatch, match_labels, normalise_label, read_label_mapping
from .model import (
    Bounds,
    BpmnFlow,
    BpmnImportReport,
    BpmnModel,
    BpmnNode,
    Diagram,
    ElementReport,
    Lane,
    Pool,
)
from .parse import read_bpmn
from .petri import ConvertedNet, compile_net, to_petri_net
from .soundness import SoundnessResult, check_soundness

__all__ = [
    "BpmnFlow",
    "BpmnImportReport",
    "BpmnModel",
    "BpmnNode",
    "Bounds",
    "ConvertedNet",
    "Diagram",
    "ElementReport",
    "LabelMatch",
    "Lane",
    "Overlay",
    "Pool",
    "SoundnessResult",
    "check_soundness",
    "compile_net",
    "match_labels",
    "normalise_label",
    "read_bpmn",
    "read_label_mapping",
    "render_svg",
    "to_petri_net",
]


def __getattr__(name: str) -> Any:
    """The diagram renderer (layout, SVG) is imported on first use: ``bpmn check`` never needs it."""
    if name in ("Overlay", "render_svg"):
        from . import diagram

        return getattr(diagram, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
