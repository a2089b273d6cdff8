"""Deviation badges on the BPMN diagram never overlap (``app_pages._badges.place_badges``).

Real diagrams whose elements sit so close that badges at the default corner
collide (MIWG reference models: an end event right after a task, nested
shapes), the bundled models with a badge on every element, and a model built
here where three events stand in a row.
"""

from __future__ import annotations

import pytest

from app_pages._badges import badge_boxes, place_badges
from processmining import bpmn
from processmining.bpmn.diagram import Overlay, render_svg

NS = ('xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
      'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI"')


def overlapping_pairs(boxes: list[tuple[float, float, float, float]]) -> list[tuple[int, int]]:
    return [(i, j) for i, a in enumerate(boxes) for j, b in enumerate(boxes[i + 1:], i + 1)
            if a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]]


def crowded_model() -> bpmn.BpmnModel:
    """A task and three events 10 px apart: the default badges of the three events overlap each other."""
    shapes = [("s", 0, 22, 36, 36), ("t", 50, 0, 100, 80), ("e1", 160, 22, 36, 36), ("e2", 206, 22, 36, 36),
              ("e", 252, 22, 36, 36)]
    di = "".join(f'<bpmndi:BPMNShape bpmnElement="{i}"><dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}"/>'
                 "</bpmndi:BPMNShape>" for i, x, y, w, h in shapes)
    xml = (f'<?xml version="1.0"?><definitions {NS} id="d"><process id="P"><startEvent id="s"/>'
           '<task id="t" name="Check"/><intermediateThrowEvent id="e1"/><intermediateThrowEvent id="e2"/>'
           '<endEvent id="e"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
           '<sequenceFlow id="f2" sourceRef="t" targetRef="e1"/><sequenceFlow id="f3" sourceRef="e1" targetRef="e2"/>'
           '<sequenceFlow id="f4" sourceRef="e2" targetRef="e"/></process>'
           f'<bpmndi:BPMNDiagram><bpmndi:BPMNPlane bpmnElement="P">{di}</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>'
           "</definitions>")
    return bpmn.read_bpmn(xml.encode(), name="crowded.bpmn")


def badges(model: bpmn.BpmnModel, text: str = "12,345") -> dict[str, Overlay]:
    return {n: Overlay(fill="#fde2e1", badge=text, label="3.1% deviate") for n in model.nodes}


def test_crowded_badges_get_places_of_their_own() -> None:
    model = crowded_model()
    plain = badge_boxes(render_svg(model, element_overlays=badges(model)))
    assert len(plain) == 5 and overlapping_pairs(plain) == [(2, 3), (3, 4)]  # e1/e2, e2/e: the problem is real
    placed = place_badges(model, badges(model))
    boxes = badge_boxes(render_svg(model, element_overlays=placed))
    assert len(boxes) == 5 and overlapping_pairs(boxes) == []
    # top to bottom, left to right: the first badges keep their corner; e2's goes to its bottom right corner
    # (its top left would cover the end event), so e keeps its own
    assert {k: v.badge_at for k, v in placed.items()} == {"s": (36.0, 22.0), "t": (150.0, 0.0), "e1": (196.0, 22.0),
                                                           "e2": (242.0, 58.0), "e": (288.0, 22.0)}
    assert {k: v.badge for k, v in placed.items()} == {k: "12,345" for k in model.nodes}  # nothing else changed


@pytest.mark.parametrize("name", ["A.3.0.bpmn", "C.6.0.bpmn", "C.9.1.bpmn"])
def test_real_diagrams_whose_default_badges_collide(shared_datasets, name: str) -> None:  # noqa: ANN001
    model = bpmn.read_bpmn(shared_datasets / "bpmn-miwg" / "Reference" / name)
    assert len(overlapping_pairs(badge_boxes(render_svg(model, element_overlays=badges(model))))) == 1
    boxes = badge_boxes(render_svg(model, element_overlays=place_badges(model, badges(model))))
    assert len(boxes) == len([n for n in model.nodes if n in (model.diagram.shapes if model.diagram else {})]) \
        and overlapping_pairs(boxes) == []


@pytest.mark.parametrize("name", ["it_support_ticket.bpmn", "lead_to_order.bpmn", "opportunity_pipeline.bpmn"])
def test_bundled_models_with_a_badge_on_every_element(name: str) -> None:
    from app_pages import _state as app_state

    model = bpmn.read_bpmn(app_state.MODEL_DIR / name)
    boxes = badge_boxes(render_svg(model, element_overlays=place_badges(model, badges(model, "1,234,567"))))
    assert len(boxes) == len(model.nodes) and overlapping_pairs(boxes) == []
