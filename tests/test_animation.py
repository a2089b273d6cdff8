"""processmining.animation: token moves at the log's real timing, sampling said so, a GIF for slides."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from processmining import animation, discovery, render
from processmining.errors import AnalysisError
from processmining.model import ACTIVITY, CASE, TIMESTAMP, EventLog

T0 = pd.Timestamp("2024-03-01", tz="UTC")


def log_of(paths: dict[str, list[tuple[str, float]]], **case_attrs: dict[str, str]) -> EventLog:
    """Cases as (activity, hours after the start of the log) lists."""
    rows = [(c, a, T0 + pd.Timedelta(hours=h)) for c, evs in paths.items() for a, h in evs]
    df = pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP])
    for col, values in case_attrs.items():
        df[col] = df[CASE].map(values)
    return EventLog.from_frame(df, name="t.csv")


def test_each_move_is_one_token_at_the_events_times() -> None:
    log = log_of({"A": [("Open", 0), ("Work", 2), ("Close", 5)],   # two moves
                  "B": [("Open", 1), ("Close", 3)]})                  # one move, skips Work
    seg = animation.token_segments(log)
    assert seg.arcs == (("Open", "Work"), ("Work", "Close"), ("Open", "Close"))
    # sorted by start: A leaves Open at 0 h, B at 1 h, A leaves Work at 2 h
    base = T0.timestamp()
    assert [seg.arcs[i] for i in seg.arc] == [("Open", "Work"), ("Open", "Close"), ("Work", "Close")]
    assert ((seg.t0 - base) / 3600).tolist() == [0, 1, 2]
    assert ((seg.t1 - base) / 3600).tolist() == [2, 3, 5]
    assert seg.note == "all 2 cases, 3 moves" and not seg.sampled


def test_moves_on_arcs_that_are_not_drawn_are_left_out() -> None:
    log = log_of({"A": [("Open", 0), ("Work", 2), ("Close", 5)], "B": [("Open", 1), ("Close", 3)]})
    seg = animation.token_segments(log, arcs=[("Open", "Close")])
    assert seg.arcs == (("Open", "Close"),) and seg.arc.tolist() == [0] and len(seg.t0) == 1


def test_a_big_log_is_sampled_by_whole_cases_and_says_so() -> None:
    log = log_of({f"C{i:03d}": [("Open", i), ("Close", i + 1)] for i in range(300)})
    seg = animation.token_segments(log, max_cases=40)
    assert seg.sampled and seg.cases_shown == 40 and seg.cases_total == 300
    assert seg.note == "40 of 300 cases (a sample), 40 moves"
    again = animation.token_segments(log, max_cases=40)
    assert np.array_equal(seg.t0, again.t0)  # seeded: the same sample every time


def test_tokens_coloured_by_a_case_attribute() -> None:
    log = log_of({"A": [("Open", 0), ("Close", 1)], "B": [("Open", 0), ("Close", 2)], "C": [("Open", 0), ("Close", 3)]},
                 **{"case:Region": {"A": "EMEA", "B": "EMEA", "C": "APAC"}})
    seg = animation.token_segments(log, color_by="case:Region")
    assert seg.legend == ("EMEA", "APAC")  # most frequent first
    assert [seg.legend[c] for c in seg.color] == ["EMEA", "EMEA", "APAC"]
    with pytest.raises(AnalysisError, match="cannot colour tokens by 'case:Nope'"):
        animation.token_segments(log, color_by="case:Nope")


def test_gif_of_the_map_has_the_frames_and_moving_tokens() -> None:
    from PIL import Image

    log = log_of({f"C{i}": [("Open", i), ("Work", i + 4), ("Close", i + 9)] for i in range(6)})
    pm = discovery.process_map(log)
    svg = render.render_map(pm, fmt="svg")
    png = render.render_map(pm, fmt="png")
    ids = {a: f"n{i}" for i, a in enumerate(pm.activities.index)}
    seg = animation.token_segments(log, arcs=list(zip(pm.arcs["source"], pm.arcs["target"], strict=True)))
    titles = {(s, t): f"{ids[s]}->{ids[t]}" for s, t in seg.arcs}
    assert set(titles.values()) <= set(animation.edge_polylines(svg))  # every arc found in the SVG
    gif = animation.animation_gif(svg, png, seg, titles, seconds=2, fps=5, width=400)
    img = Image.open(io.BytesIO(gif))
    assert img.format == "GIF" and img.n_frames == 10 and img.width <= 400
    img.seek(2)
    a = np.asarray(img.convert("RGB")).copy()
    img.seek(6)
    b = np.asarray(img.convert("RGB"))
    assert (a != b).any(axis=2).sum() > 50  # tokens moved (and the clock changed)
