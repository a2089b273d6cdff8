"""Draw process maps with graphviz: DOT text, SVG text or PNG bytes. Writes no files.

The look is made for a workshop room: top-to-bottom flow, rounded activity
boxes shaded by how often they happen, arcs whose colour and thickness follow
the chosen measure, a green start and a dark end marker, durations that read
well ("45 min", "3.2 d"), and a footnote saying what the sliders hid.

>>> svg = render_map(simplify(process_map(log)), metric="performance")
>>> png = render_map(pm, fmt="png", large_labels=True, hide_numbers=True)
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

from .discovery import END, START, ProcessMap
from .performance.times import format_duration as _format_duration

Metric = Literal["frequency", "performance"]
Format = Literal["svg", "png", "dot"]

_BLUES = ["#eef4fb", "#d6e6f5", "#b3d0ea", "#83b3dc", "#5091c8", "#2b6fb0", "#0f4c8a"]
_REDS = ["#f2d8c7", "#eebd9c", "#e79a6c", "#dc7440", "#c9512a", "#a8341d", "#7f1d12"]
_GREYS = ["#c5cbd3", "#aab2bd", "#8e98a6", "#737e8e", "#5a6576", "#434e5f", "#2e3847"]


def format_duration(seconds: float | None) -> str:
    """The one duration formatter (:func:`processmining.performance.times.format_duration`) in its short form,
    for diagram labels: ``"45 min"``, ``"3.2 d"``."""
    return _format_duration(seconds, short=True)


def format_count(n: float) -> str:
    """``1234`` -> ``"1,234"``; ``1_250_000`` -> ``"1.25 M"``."""
    n = int(n)
    return f"{n / 1e6:.2f} M" if abs(n) >= 1_000_000 else f"{n:,}"


def _esc(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("\r", " ")


def _scale(values: np.ndarray, log_scale: bool = True) -> np.ndarray:
    """Values -> 0..1 (log scale for heavy-tailed counts and durations)."""
    v = np.asarray(values, dtype=float)
    v = np.where(np.isnan(v), 0.0, np.maximum(v, 0.0))
    if log_scale:
        v = np.log1p(v)
    lo, hi = (float(v.min()), float(v.max())) if len(v) else (0.0, 0.0)
    if hi - lo <= 1e-12:
        return np.full(len(v), 0.5)
    return (v - lo) / (hi - lo)


def _pick(palette: list[str], x: float) -> str:
    return palette[min(len(palette) - 1, int(x * (len(palette) - 1) + 0.5))]


def to_dot(
    pm: ProcessMap,
    *,
    metric: Metric = "frequency",
    large_labels: bool = False,
    hide_numbers: bool = False,
    anonymise: bool = False,
) -> str:
    """The map as graphviz DOT text (see :func:`render_map` for the options)."""
    if metric not in ("frequency", "performance"):
        raise ValueError(f"metric must be 'frequency' or 'performance', got {metric!r}")
    fs_node, fs_edge, pen_max = (22, 18, 9.0) if large_labels else (13, 11, 6.0)
    acts = pm.activities
    names = list(acts.index)
    ids = {a: f"n{i}" for i, a in enumerate(names)}
    shown = {a: (f"Activity {_alpha(i)}" if anonymise else a) for i, a in enumerate(names)}
    lines = [
        "digraph process_map {",
        f'graph [rankdir=TB, bgcolor="white", nodesep={0.5 if large_labels else 0.35}, '
        f'ranksep={0.6 if large_labels else 0.45}, fontname="Helvetica", pad=0.3, splines=spline];',
        f'node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize={fs_node}, '
        f'color="#2b3a4a", penwidth=1.2, margin="0.25,0.12"];',
        f'edge [fontname="Helvetica", fontsize={fs_edge}, arrowsize={1.0 if large_labels else 0.8}];',
    ]
    # nodes: shaded by frequency
    shade = _scale(acts["events"].to_numpy()) if len(acts) else np.zeros(0)
    for i, a in enumerate(names):
        row = acts.loc[a]
        fill = _pick(_BLUES, shade[i])
        font = "white" if shade[i] > 0.6 else "#1b2733"
        label = _esc(shown[a])
        if not hide_numbers:
            if metric == "performance" and pm.has_start_times and not math.isnan(row["duration_median_s"]):
                label += f"\\n{format_duration(row['duration_median_s'])} (median duration)"
            else:
                label += f"\\n{format_count(row['events'])}"
        extra = ', style="rounded,filled,dashed"' if a in pm.connectors else ""
        lines.append(f'{ids[a]} [label="{label}", fillcolor="{fill}", fontcolor="{font}"{extra}];')
    size = 0.45 if large_labels else 0.3
    lines.append(f'"{START}" [label="", xlabel="start", shape=circle, style=filled, fillcolor="#3a9a5b", '
                 f'color="#2a7a45", width={size}, height={size}, fixedsize=true, fontsize={fs_edge}];')
    lines.append(f'"{END}" [label="", xlabel="end", shape=doublecircle, style=filled, fillcolor="#2e3847", '
                 f'color="#2e3847", width={size * 0.8}, height={size * 0.8}, fixedsize=true, fontsize={fs_edge}];')
    lines.append(f'{{rank=source; "{START}"}}')
    lines.append(f'{{rank=sink; "{END}"}}')
    # arcs
    arcs = pm.arcs
    if len(arcs):
        if metric == "performance":
            measure = arcs["wait_median_s"].to_numpy(dtype=float)
            palette = _REDS
        else:
            measure = arcs["frequency"].to_numpy(dtype=float)
            palette = _GREYS
        x = _scale(measure)
        for k, (s, t) in enumerate(zip(arcs["source"], arcs["target"], strict=True)):
            if hide_numbers:
                label = ""
            elif metric == "performance":
                label = format_duration(measure[k])
            else:
                label = format_count(measure[k])
            pen = 1.0 + x[k] * (pen_max - 1.0)
            color = _pick(palette, x[k])
            lines.append(f'{ids[s]} -> {ids[t]} [label="{_esc(" " + label + " ") if label else ""}", '
                         f'penwidth={pen:.2f}, color="{color}", fontcolor="{color if x[k] > 0.3 else "#5a6576"}", '
                         f'weight={1 + int(x[k] * 10)}];')
    for a in names:
        st, en = int(acts.at[a, "starts"]), int(acts.at[a, "ends"])
        if st:
            lab = "" if hide_numbers else f" {format_count(st)} "
            lines.append(f'"{START}" -> {ids[a]} [label="{lab}", style=dashed, color="#3a9a5b", '
                         f'fontcolor="#2a7a45", penwidth=1.2];')
        if en:
            lab = "" if hide_numbers else f" {format_count(en)} "
            lines.append(f'{ids[a]} -> "{END}" [label="{lab}", style=dashed, color="#5a6576", '
                         f'fontcolor="#434e5f", penwidth=1.2];')
    foot = _footnote(pm, metric)
    if foot:
        lines.append(f'label="{_esc(foot)}"; labelloc=b; labeljust=l; fontsize={fs_edge}; fontcolor="#6b7280";')
    lines.append("}")
    return "\n".join(lines)


def _alpha(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _footnote(pm: ProcessMap, metric: Metric) -> str:
    parts = [f"{format_count(pm.n_cases)} cases, {format_count(pm.n_events)} events"]
    if pm.hidden_activities or pm.hidden_arcs:
        parts.append(f"hidden: {pm.hidden_activities} activities, {pm.hidden_arcs} paths")
    if pm.connectors:
        parts.append("dashed: kept to connect the map")
    if metric == "performance":
        parts.append("arcs: median waiting time" + ("" if pm.has_start_times else " between completions"))
    return " · ".join(parts)


def _run_dot(dot: str, fmt: str, *, dpi: int | None = None) -> bytes:
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError("graphviz is not installed: the 'dot' program is needed to draw maps")
    args = [exe, f"-T{fmt}"] + ([f"-Gdpi={dpi}"] if dpi else [])
    try:
        return subprocess.run(args, input=dot.encode("utf-8"), capture_output=True, check=True, timeout=300).stdout
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"graphviz failed: {exc.stderr.decode('utf-8', 'replace').strip()}") from exc


_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)


def render_map(
    pm: ProcessMap,
    *,
    metric: Metric = "frequency",
    fmt: Format = "svg",
    large_labels: bool = False,
    hide_numbers: bool = False,
    anonymise: bool = False,
) -> str | bytes:
    """Draw a process map: ``fmt="svg"`` / ``"dot"`` return text, ``fmt="png"`` returns bytes.

    ``metric="frequency"`` labels nodes with event counts and arcs with how often
    they were taken; ``"performance"`` labels arcs with the median waiting time
    and colours them from light (short) to dark red (long). ``large_labels`` is
    for projectors; ``hide_numbers`` draws the bare flow for discussions;
    ``anonymise`` replaces activity names by "Activity A", "Activity B", ... (by
    frequency). The SVG starts at ``<svg`` (no XML prolog) so it embeds in HTML.

    >>> svg = render_map(simplify(process_map(log), activities=0.5, paths=0.3), metric="performance")
    """
    dot = to_dot(pm, metric=metric, large_labels=large_labels, hide_numbers=hide_numbers, anonymise=anonymise)
    if fmt == "dot":
        return dot
    if fmt == "svg":
        svg = _run_dot(dot, "svg").decode("utf-8")
        return _PROLOG.sub("", svg, count=1)
    if fmt == "png":
        return _run_dot(dot, "png", dpi=200 if large_labels else 144)
    raise ValueError(f"fmt must be 'svg', 'png' or 'dot', got {fmt!r}")


__all__ = ["END", "START", "format_count", "format_duration", "render_map", "to_dot"]


def handover_dot(top: pd.DataFrame) -> str:
    """DOT text of the strongest handovers: ``top`` has ``source``, ``target``, ``handovers`` columns."""
    def q(text: object) -> str:
        return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'

    hi = max(float(top["handovers"].max()), 1.0) if len(top) else 1.0
    lines = ["digraph handovers {", "rankdir=LR; bgcolor=transparent;",
             'node [shape=box style="rounded,filled" fillcolor="#e8f0fa" color="#5091c8" fontname=Helvetica];',
             'edge [color="#2b6fb0" fontname=Helvetica fontsize=10];']
    for r in top.itertuples():
        width = 0.8 + 5.0 * r.handovers / hi
        lines.append(f"{q(r.source)} -> {q(r.target)} [penwidth={width:.2f} label={q(f'{r.handovers:,}')}];")
    lines.append("}")
    return "\n".join(lines)
