"""Cases flowing over the process map in time: token segments, and a short animated GIF for slides.

A token is one case on one arc of the map: it leaves activity A when A's
event happened and arrives at B when the case's next event (B) happened,
so tokens move at the log's real timing (waiting on the arc, as Disco shows
it). Big logs are sampled by whole cases (seeded, so the same sample each
time) and :class:`TokenSegments` says so.

>>> seg = token_segments(log, arcs=[("Open", "Resolved")], max_cases=1000)
>>> seg.note
'1,000 of 21,348 cases (a sample), 3,102 moves'
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from processmining.errors import AnalysisError
from processmining.model import ACTIVITY, CASE, TIMESTAMP, EventLog

#: colours for tokens coloured by an attribute (the most frequent values first; the rest share the last)
PALETTE = ("#e8590c", "#1c7ed6", "#2b8a3e", "#ae3ec9", "#f59f00", "#0ca678", "#c92a2a", "#5c7cfa", "#868e96")


@dataclass(frozen=True)
class TokenSegments:
    """One row per token move, sorted by start time: ``arc`` indexes :attr:`arcs`.

    ``t0`` / ``t1`` are seconds since 1970 (UTC); ``color`` indexes :attr:`legend`
    (all 0 when not coloured).
    """

    arcs: tuple[tuple[str, str], ...]
    arc: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    color: np.ndarray
    legend: tuple[str, ...]
    cases_shown: int
    cases_total: int

    @property
    def sampled(self) -> bool:
        return self.cases_shown < self.cases_total

    @property
    def note(self) -> str:
        who = (f"{self.cases_shown:,} of {self.cases_total:,} cases (a sample)" if self.sampled
               else f"all {self.cases_total:,} cases")
        return f"{who}, {len(self.t0):,} moves"

    @property
    def span(self) -> tuple[float, float]:
        return (float(self.t0.min()), float(self.t1.max())) if len(self.t0) else (0.0, 0.0)


def token_segments(log: EventLog, *, arcs: Iterable[tuple[str, str]] | None = None, max_cases: int = 2000,
                   color_by: str | None = None, seed: int = 0) -> TokenSegments:
    """The token moves of ``log`` along ``arcs`` (default: every directly-follows pair).

    At most ``max_cases`` whole cases are kept (a seeded random sample) so the
    browser stays smooth on a million-event log. ``color_by`` names a column;
    each case takes the value of its first event (the 8 most frequent values
    get their own colour, the rest are "other").
    """
    if color_by is not None and color_by not in log.df.columns:
        raise AnalysisError(f"cannot colour tokens by {color_by!r}: the log has no such column")
    df = log.df
    case = df[CASE].to_numpy()
    n = len(df)
    first = np.ones(n, dtype=bool)
    if n:
        first[1:] = case[1:] != case[:-1]
    case_no = np.cumsum(first) - 1
    n_cases = int(first.sum())
    keep_case = np.ones(n_cases, dtype=bool)
    if n_cases > max_cases:
        rng = np.random.default_rng(seed)
        keep_case[:] = False
        keep_case[rng.choice(n_cases, size=max_cases, replace=False)] = True
    # a move: an event and the next event of the same case
    same = np.zeros(n, dtype=bool)
    if n > 1:
        same[:-1] = ~first[1:]
    idx = np.flatnonzero(same & keep_case[case_no])
    act = df[ACTIVITY].to_numpy()
    src, dst = act[idx], act[idx + 1]
    ts = df[TIMESTAMP].to_numpy(dtype="datetime64[ns]").view("i8") / 1e9
    t0, t1 = ts[idx], ts[idx + 1]
    pairs = pd.MultiIndex.from_arrays([src, dst])
    if arcs is None:
        arc_list = tuple(dict.fromkeys(zip(src.tolist(), dst.tolist(), strict=True)))
    else:
        arc_list = tuple(dict.fromkeys((str(a), str(b)) for a, b in arcs))
    arc_idx = pd.MultiIndex.from_tuples(arc_list, names=None).get_indexer(pairs) if arc_list else \
        np.full(len(idx), -1)
    on_map = arc_idx >= 0
    legend: tuple[str, ...] = ()
    colour = np.zeros(len(idx), dtype=np.int64)
    if color_by is not None:
        first_val = df[color_by].astype("string").fillna("(empty)").to_numpy()[np.flatnonzero(first)]
        per_case = first_val[case_no[idx]]
        top = pd.Series(first_val[keep_case]).value_counts().index[:len(PALETTE) - 1].tolist()
        legend = (*map(str, top), *(["other"] if len(pd.unique(first_val[keep_case])) > len(top) else []))
        colour = pd.Index(top).get_indexer(per_case)
        colour[colour < 0] = len(top)
    order = np.argsort(t0[on_map], kind="stable")
    return TokenSegments(arcs=arc_list, arc=arc_idx[on_map][order].astype(np.int64), t0=t0[on_map][order],
                         t1=t1[on_map][order], color=colour[on_map][order], legend=legend,
                         cases_shown=int(keep_case.sum()), cases_total=n_cases)


# ------------------------------------------------------------------ GIF for slides
_EDGE = re.compile(r'<g id="edge\d+" class="edge">\s*<title>(.*?)</title>\s*<path[^>]*?\sd="([^"]+)"', re.S)
_NODE = re.compile(r'<g id="node\d+" class="node">\s*<title>(.*?)</title>', re.S)
_VIEWBOX = re.compile(r'viewBox="([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)"')
_TRANSLATE = re.compile(r'<g id="graph0" class="graph" transform="[^"]*translate\(([-\d.]+)[ ,]([-\d.]+)\)"')
_NUM = re.compile(r"-?\d+(?:\.\d+)?")


def _unescape(text: str) -> str:
    return text.replace("&#45;", "-").replace("&gt;", ">").replace("&lt;", "<").replace("&amp;", "&")


def edge_polylines(svg: str, samples: int = 12) -> dict[str, np.ndarray]:
    """Graphviz SVG arcs as polylines (graph coordinates), keyed by the edge title (``n0->n1``)."""
    out: dict[str, np.ndarray] = {}
    for title, d in _EDGE.findall(svg):
        nums = np.array([float(x) for x in _NUM.findall(d)]).reshape(-1, 2)
        pts = [nums[0]]
        u = np.linspace(0, 1, samples + 1)[1:, None]
        for k in range(1, len(nums) - 2, 3):  # M p0 C p1 p2 p3 (p4 p5 p6) ...
            p0, p1, p2, p3 = nums[k - 1], nums[k], nums[k + 1], nums[k + 2]
            pts.extend((1 - u) ** 3 * p0 + 3 * (1 - u) ** 2 * u * p1 + 3 * (1 - u) * u ** 2 * p2 + u ** 3 * p3)
        out[_unescape(title)] = np.vstack(pts)
    return out


def _at(line: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Points at fractions ``f`` of the way along a polyline."""
    seg = np.hypot(*np.diff(line, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    dist = f * cum[-1]
    return np.column_stack([np.interp(dist, cum, line[:, 0]), np.interp(dist, cum, line[:, 1])])


def animation_gif(svg: str, png: bytes, segments: TokenSegments, arc_titles: dict[tuple[str, str], str], *,
                  seconds: float = 6.0, fps: int = 10, width: int = 960) -> bytes:
    """A short looping animated GIF of the tokens over the map picture (for slides).

    ``svg`` and ``png`` are the same map drawn by :func:`processmining.render.render_map`;
    ``arc_titles`` maps ``(source, target)`` to the edge title in the SVG (``n0->n1``).
    The whole time span plays in ``seconds``; a clock is drawn in the corner.
    """
    from PIL import Image, ImageDraw

    vb = _VIEWBOX.search(svg)
    tr = _TRANSLATE.search(svg)
    if vb is None or tr is None:
        raise AnalysisError("the map SVG has no graphviz viewBox / graph transform: cannot place the tokens")
    vw, vh = float(vb.group(3)), float(vb.group(4))
    tx, ty = float(tr.group(1)), float(tr.group(2))
    base = Image.open(io.BytesIO(png)).convert("RGB")
    scale = min(1.0, width / base.width)
    base = base.resize((max(1, round(base.width * scale)), max(1, round(base.height * scale))))
    sx, sy = base.width / vw, base.height / vh
    # one palette for every frame: the map's colours, then the token colours and white (no per-frame quantising)
    keep = 256 - len(PALETTE) - 2
    pal_img = base.quantize(colors=keep)
    palette = pal_img.getpalette()[:keep * 3]
    palette += [0, 0, 0] * (keep - len(palette) // 3)
    for colour in (*PALETTE, "#ffffff", "#222222"):
        palette += [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    pal_img.putpalette(palette)
    white, ink = keep + len(PALETTE), keep + len(PALETTE) + 1
    lines = edge_polylines(svg)
    polys = [lines.get(arc_titles.get(a, ""), None) for a in segments.arcs]
    lo, hi = segments.span
    n_frames = max(2, round(seconds * fps))
    frames = []
    radius = max(3, round(6 * scale * 1.4))
    for i in range(n_frames):
        t = lo + (hi - lo) * i / (n_frames - 1)
        img = pal_img.copy()
        draw = ImageDraw.Draw(img)
        on = np.flatnonzero((segments.t0 <= t) & (segments.t1 >= t))
        for arc in np.unique(segments.arc[on]):
            line = polys[arc]
            if line is None:
                continue
            rows = on[segments.arc[on] == arc]
            span = segments.t1[rows] - segments.t0[rows]
            f = np.where(span > 0, (t - segments.t0[rows]) / np.where(span > 0, span, 1), 1.0)
            for (x, y), c in zip(_at(line, f), segments.color[rows], strict=True):
                px, py = (x + tx) * sx, (y + ty) * sy
                draw.ellipse((px - radius, py - radius, px + radius, py + radius),
                             fill=keep + int(c) % len(PALETTE), outline=white)
        draw.text((10, img.height - 22), pd.Timestamp(t, unit="s", tz="UTC").strftime("%Y-%m-%d %H:%M UTC"),
                  fill=ink)
        frames.append(img)
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=round(1000 / fps), loop=0)
    return buf.getvalue()


def node_ids(svg: str) -> list[str]:
    """The node titles of a graphviz SVG, in drawing order (for tests and tools)."""
    return [_unescape(t) for t in _NODE.findall(svg)]


__all__ = ["PALETTE", "TokenSegments", "animation_gif", "edge_polylines", "node_ids", "token_segments"]
