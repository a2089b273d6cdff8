"""Wide figures print readably: portrait, one landscape page, or tiles "part k of n", labels at least 6 pt."""

from __future__ import annotations

import re

import pytest

from processmining.report.figures import MIN_LABEL_PT, OVERLAP, PT_PER_MM, place, sized, svg_box
from processmining.report.html import figure_html
from processmining.report.i18n import Texts


def drawing(width: float, height: float, font: float = 11) -> str:
    """An SVG of the shape our BPMN renderer writes: px user units, labels at 12 and ``font``."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="-24 0 {width} {height}" width="{width}" '
            f'height="{height}" font-size="12"><defs><marker id="arrow"/></defs>'
            f'<path d="M0 0" marker-end="url(#arrow)"/><text font-size="{font}">yes</text></svg>')


def test_a_small_figure_stays_on_the_portrait_page_at_its_own_size() -> None:
    pl = place(drawing(400, 300))
    # 400 px = 300 pt < 178 mm: its own size, labels 11 px = 8.25 pt
    assert (pl.orientation, len(pl.tiles), round(pl.label_pt, 2)) == ("portrait", 1, 8.25)


def test_a_figure_too_small_in_portrait_gets_a_landscape_page() -> None:
    # running-example.bpmn is 1451 units wide: 178 mm portrait would print 11-unit labels at 3.8 pt,
    # 281 mm landscape at 11 * 281 mm / 1451 = 6.0 pt
    pl = place(drawing(1451, 256))
    assert pl.orientation == "landscape" and len(pl.tiles) == 1
    assert round(pl.width_mm, 1) == 281.0
    assert round(pl.label_pt, 2) == round(11 * 281 * PT_PER_MM / 1451, 2) == 6.04


def test_a_very_wide_figure_is_cut_into_overlapping_tiles_at_the_minimum_label_size() -> None:
    # receipt.bpmn: 10,597 x 865 units; at 6 pt for 11-unit labels a landscape tile holds 281 mm / (6/11) pt
    pl = place(drawing(10597, 865))
    per_tile = 281 * PT_PER_MM / (MIN_LABEL_PT / 11)
    assert round(per_tile) == 1460
    assert pl.grid == (1, 8) and len(pl.tiles) == 8
    assert pl.label_pt == MIN_LABEL_PT == 6.0
    xs = [t[0] for t in pl.tiles]
    assert xs[0] == -24 and round(xs[-1] + pl.tiles[-1][2], 6) == 10597 - 24  # the tiles cover the whole width
    steps = {round(b - a, 6) for a, b in zip(xs, xs[1:], strict=False)}
    assert len(steps) == 1 and steps.pop() < per_tile * (1 - OVERLAP) + 1e-6  # evenly spread, overlapping
    # the whole height fits: one row, printed at 865 units x 6/11 pt
    assert round(pl.height_mm, 1) == round(865 * 6 / 11 / PT_PER_MM, 1) == 166.4


def test_a_tall_and_wide_figure_gets_rows_of_tiles() -> None:
    pl = place(drawing(5000, 2500))
    # tiles of 1,460 x 904 units, overlapping by 6 %: 4 across, 3 down
    assert pl.grid == (3, 4) and len(pl.tiles) == 12


def test_the_tiles_of_the_html_are_vector_copies_with_unique_ids() -> None:
    svg = drawing(10597, 865)
    html = figure_html(svg, "Reference model.", key="bpmn", tx=Texts("pl"))
    assert re.findall(r'data-tile="(\d+/\d+)"', html) == [f"{k}/8" for k in range(1, 9)]
    assert [f"Część {k} z 8." in html for k in range(1, 9)] == [True] * 8
    assert "Przegląd: przerywane ramki 1–8 to części na kolejnych stronach." in html
    assert set(re.findall(r'data-label-pt="([0-9.]+)"', html)) == {"6.00"}
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)) == 10  # the screen copy, the overview and 8 tiles, one marker each
    assert 'marker-end="url(#bpmn-t3-arrow)"' in html and 'id="bpmn-t3-arrow"' in html
    assert "<img" not in html  # vector graphics only


def test_sized_shows_one_box_of_the_drawing() -> None:
    out = sized(drawing(1000, 200), (100, 0, 300, 200), 150.0, 100.0, prefix="x-")
    assert svg_box(out) == ((100.0, 0.0, 300.0, 200.0), 11.0)
    assert 'width="150.0mm" height="100.0mm"' in out


@pytest.mark.parametrize("name", ["lead_to_order.bpmn", "it_support_ticket.bpmn", "opportunity_pipeline.bpmn"])
def test_bundled_models_print_at_six_points(name) -> None:
    from pathlib import Path

    from processmining.bpmn import render_svg
    from processmining.conformance import read_model

    model = read_model(Path(__file__).resolve().parent.parent / "bpmn_models" / name)
    pl = place(render_svg(model))
    assert pl.label_pt >= MIN_LABEL_PT
    # 3,178 / 3,178 / 2,498 units wide: 3, 3 and 2 tiles of 1,460 units
    assert len(pl.tiles) == {"lead_to_order.bpmn": 3, "it_support_ticket.bpmn": 3, "opportunity_pipeline.bpmn": 2}[name]
