"""Map rendering: DOT content, SVG/PNG output, workshop options, durations that read well."""

from __future__ import annotations

import pandas as pd
import pytest
from lxml import etree

from processmining.discovery import process_map, simplify
from processmining.model import ACTIVITY, CASE, TIMESTAMP, EventLog
from processmining.render import format_count, format_duration, render_map, to_dot


def _pm():
    # 3 cases A->B (1 h), 1 case A->"Say \"hi\"" (2 d): a quote in a name must not break DOT
    rows = []
    for c in range(3):
        rows += [(f"c{c}", "A", "2024-01-01T00:00Z"), (f"c{c}", "B", "2024-01-01T01:00Z")]
    rows += [("q", "A", "2024-01-01T00:00Z"), ("q", 'Say "hi"', "2024-01-03T00:00Z")]
    df = pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP])
    df[TIMESTAMP] = pd.to_datetime(df[TIMESTAMP], utc=True)
    return process_map(EventLog.from_frame(df))


@pytest.mark.parametrize(("seconds", "text"), [
    (0.4, "0.4 s"), (42, "42 s"), (2700, "45 min"), (3.2 * 3600, "3.2 h"), (3.2 * 86400, "3.2 d"),
    (14 * 86400, "14 d"), (2 * 365 * 86400, "2.0 y"), (-7200, "-2.0 h"), (float("nan"), "–"),
])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_format_count():
    assert (format_count(1234), format_count(1_250_000)) == ("1,234", "1.25 M")


def test_frequency_dot_has_counts_markers_and_escaped_names():
    dot = to_dot(_pm())
    assert 'label="A\\n4"' in dot
    assert 'label="Say \\"hi\\"\\n1"' in dot
    assert 'label=" 3 "' in dot  # A -> B taken 3 times
    assert 'xlabel="start"' in dot and 'xlabel="end"' in dot
    assert "4 cases, 8 events" in dot


def test_performance_dot_labels_median_waits():
    dot = to_dot(_pm(), metric="performance")
    assert 'label=" 1.0 h "' in dot and 'label=" 2.0 d "' in dot
    assert "arcs: median waiting time between completions" in dot


def test_workshop_options():
    dot = to_dot(_pm(), hide_numbers=True, anonymise=True, large_labels=True)
    assert "Say" not in dot and 'label="Activity A"' in dot  # A is the most frequent
    assert "\\n4" not in dot and 'label=" 3 "' not in dot
    assert "fontsize=22" in dot


def test_svg_is_embeddable_and_png_is_png():
    svg = render_map(_pm(), fmt="svg")
    assert svg.startswith("<svg")
    root = etree.fromstring(svg.encode())
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "A" in texts and 'Say "hi"' in texts
    png = render_map(_pm(), fmt="png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_simplified_map_footnote_and_connector_style():
    rows = []
    for i in range(10):
        rows += [(f"b{i}", "A", "2024-01-01T00:00Z"), (f"b{i}", "B", "2024-01-01T01:00Z")]
    for i in range(3):
        rows += [(f"x{i}", "A", "2024-01-01T00:00Z"), (f"x{i}", "X", "2024-01-01T01:00Z")]
        rows += [(f"x{i}", "C", f"2024-01-01T0{k}:00Z") for k in (2, 3, 4)]
    df = pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP])
    df[TIMESTAMP] = pd.to_datetime(df[TIMESTAMP], utc=True)
    small = simplify(process_map(EventLog.from_frame(df)), activities=0.75, paths=0.0)
    dot = to_dot(small)
    assert "dashed: kept to connect the map" in dot
    assert 'style="rounded,filled,dashed"' in dot


def test_bad_metric_and_format():
    with pytest.raises(ValueError, match="metric"):
        to_dot(_pm(), metric="cost")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fmt"):
        render_map(_pm(), fmt="pdf")  # type: ignore[arg-type]
