"""Two periods or two segments side by side, and KPIs over time with change points.

:func:`split_period` / :func:`split_segment` cut a log in two (by case start,
or by a case / event attribute); :func:`compare_logs` gives the KPI deltas
(cases, median cycle time, win rate, first response, SLA breach share,
conformance rate), the map difference (every arc with its frequency per case
and median waiting time in both, and whether it is new, gone, up or down), and
the variants that appear or vanish. :func:`trend` computes the same figures per
month (or week) of case start and marks change points.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import AnalysisError
from ..model import CASE, TIMESTAMP, EventLog
from ..performance.calendar import BusinessCalendar

DIFF_COLUMNS = ["source", "target", "frequency_a", "frequency_b", "per_case_a", "per_case_b", "delta_per_case",
                "wait_median_a_s", "wait_median_b_s", "delta_wait_s", "change"]


def split_period(log: EventLog, at: str | pd.Timestamp) -> tuple[EventLog, EventLog]:
    """Cases that started before ``at`` and those that started at or after it."""
    from ..filters import filter_time_frame

    t = pd.Timestamp(at)
    t = t.tz_localize("UTC") if t.tzinfo is None else t
    lo, hi = log.df[TIMESTAMP].min(), log.df[TIMESTAMP].max()
    if not lo < t <= hi:
        raise AnalysisError(f"--split {t.isoformat()} is outside the log's period {lo.isoformat()} .. {hi.isoformat()}")
    before = filter_time_frame(log, lo, t - pd.Timedelta(1, "ns"), mode="started")
    after = filter_time_frame(log, t, hi, mode="started")
    return before, after


def split_segment(log: EventLog, column: str, a: Sequence[str] | str, b: Sequence[str] | str | None = None
                  ) -> tuple[EventLog, EventLog]:
    """Cases having ``column`` in ``a`` and those having it in ``b`` (default: all other cases)."""
    from ..filters import filter_case_attribute

    if column not in log.df.columns and f"case:{column}" in log.df.columns:
        column = f"case:{column}"
    first = filter_case_attribute(log, column, a)
    second = filter_case_attribute(log, column, a, keep=False) if b is None else filter_case_attribute(log, column, b)
    return first, second


@dataclass(frozen=True)
class Comparison:
    """What :func:`compare_logs` found: ``kpis`` (metric, a, b, delta), ``arcs`` (the map difference),
    ``variants`` (appeared / vanished), and the two labels."""

    labels: tuple[str, str]
    kpis: pd.DataFrame
    arcs: pd.DataFrame
    variants: pd.DataFrame
    maps: tuple[Any, Any] = field(repr=False, default=(None, None))


#: the comparison rows measured on the working-time clock when a calendar is given
WORKING_TIME_METRICS = ("first_response", "resolution", "sla_breach_share")


def figures(log: EventLog, *, slas: Sequence[str] = (), deviating: Iterable[str] | None = None,
            settings: Mapping[str, Any] | None = None, end_activities: Sequence[str] | None = None,
            calendar: BusinessCalendar | None = None) -> dict[str, float]:
    """The headline figures of one log (the rows of a comparison).

    With ``calendar``, first response and resolution (:func:`~processmining.report.kpis.kpi_table`) and the
    SLA breach shares (:func:`~processmining.performance.sla_breaches` on
    :func:`~processmining.performance.calendar.working_time_log`) are measured in working time, exactly as
    the report's KPI table and SLA section measure them; the median cycle time stays calendar time, as there.
    """
    from ..performance import case_duration_stats, sla_breaches
    from ..performance.calendar import working_time_log
    from .kpis import kpi_table

    out: dict[str, float] = {"cases": float(log.n_cases)}
    out["median_cycle_s"] = float(case_duration_stats(log).get("median", float("nan"))) if log.n_events else float("nan")
    if settings is not None:
        k = kpi_table(log, settings=settings, calendar=calendar)
        for kpi in ("win_rate", "first_response", "resolution"):
            row = k[k["kpi"] == kpi]
            if len(row):
                out[kpi] = float(row["actual"].iloc[0])
    from ..performance import parse_sla

    acts = set(log.df["concept:name"].unique().tolist())
    sla_log: EventLog | None = None
    for sla in slas:
        tgt = parse_sla(sla)
        if all(x is None or x in acts for x in (tgt.source, tgt.target)) and log.n_events:
            if sla_log is None:
                sla_log = working_time_log(log, calendar) if calendar is not None else log
            _, summary = sla_breaches(sla_log, [sla], final_activities=end_activities)
            out[f"sla_breach_share:{sla}"] = float(summary["breach_share"].iloc[0])
    if deviating is not None and log.n_cases:
        cases = set(log.df[CASE].unique().tolist())
        out["conformance_rate"] = 1 - len(cases & set(deviating)) / len(cases)
    return out


def compare_logs(a: EventLog, b: EventLog, *, labels: tuple[str, str] = ("A", "B"), slas: Sequence[str] = (),
                 deviating: Iterable[str] | None = None, settings: Mapping[str, Any] | None = None,
                 end_activities: Sequence[str] | None = None, calendar: BusinessCalendar | None = None) -> Comparison:
    """KPI deltas, map difference and variant changes between ``a`` and ``b``.

    ``deviating``: deviating case ids (from one conformance run over both) for
    the conformance rate. ``kpis`` has ``metric``, ``a``, ``b``, ``delta`` (b − a),
    ``relative`` (delta / a), ``unit`` (``seconds`` for the durations, ``share``, ``cases``) and ``measured_in`` (``working time (<calendar>)`` for the
    first-response, resolution and SLA rows when ``calendar`` is given, else ``calendar time``;
    counts and shares of cases are ``"-"``).
    """
    from ..discovery import process_map

    dev = set(deviating) if deviating is not None else None
    fa = figures(a, slas=slas, deviating=dev, settings=settings, end_activities=end_activities, calendar=calendar)
    fb = figures(b, slas=slas, deviating=dev, settings=settings, end_activities=end_activities, calendar=calendar)
    metrics = [m for m in fa if m in fb]
    kpis = pd.DataFrame({"metric": metrics, "a": [fa[m] for m in metrics], "b": [fb[m] for m in metrics]})
    kpis["unit"] = [metric_unit(m) for m in metrics]
    kpis["measured_in"] = [_clock(m, calendar) for m in metrics]
    kpis["delta"] = kpis["b"] - kpis["a"]
    kpis["relative"] = np.divide(kpis["delta"], kpis["a"], out=np.full(len(kpis), np.nan),
                                 where=kpis["a"].to_numpy() != 0)
    pa, pb = process_map(a), process_map(b)
    return Comparison(labels=labels, kpis=kpis, arcs=map_difference(pa, pb), variants=variant_changes(a, b),
                      maps=(pa, pb))


#: the comparison rows that are durations (seconds in ``a``, ``b``, ``delta``)
DURATION_METRICS = ("median_cycle_s", "first_response", "resolution")


def metric_unit(metric: str) -> str:
    """The unit of a comparison row's ``a``, ``b`` and ``delta``: ``seconds``, ``share`` or ``cases``."""
    if metric in DURATION_METRICS:
        return "seconds"
    return "cases" if metric == "cases" else "share"


def format_metric(value: float, unit: str, *, signed: bool = False) -> str:
    """A comparison value for the screen: durations by THE duration formatter, shares as %, counts as integers.

    >>> format_metric(1_036_200.0, "seconds"), format_metric(-220_100.0, "seconds", signed=True)
    ('12.0 days', '-2.5 days')
    >>> format_metric(0.25, "share", signed=True), format_metric(4.0, "cases")
    ('+25.0 pp', '4')
    """
    from ..performance.times import format_duration

    if not np.isfinite(value):
        return "unknown"
    sign = "+" if signed and value > 0 else ""
    if unit == "seconds":
        return sign + format_duration(value)
    if unit == "share":
        return f"{sign}{100 * value:.1f} pp" if signed else f"{value:.1%}"
    return f"{sign}{value:,.0f}"


def _clock(metric: str, calendar: BusinessCalendar | None) -> str:
    if metric.partition(":")[0] in WORKING_TIME_METRICS:
        return f"working time ({calendar.name})" if calendar is not None else "calendar time"
    return "calendar time" if metric == "median_cycle_s" else "-"


def map_difference(pa: Any, pb: Any) -> pd.DataFrame:
    """Every arc of either map: frequency and frequency per case in both, median waits, and ``change``
    (``new``, ``gone``, ``up`` / ``down`` when the per-case frequency moved by 10 % or more, else ``same``)."""
    cols = ["source", "target", "frequency", "wait_median_s"]
    left = pa.arcs[cols].rename(columns={"frequency": "frequency_a", "wait_median_s": "wait_median_a_s"})
    right = pb.arcs[cols].rename(columns={"frequency": "frequency_b", "wait_median_s": "wait_median_b_s"})
    m = left.merge(right, on=["source", "target"], how="outer")
    m[["frequency_a", "frequency_b"]] = m[["frequency_a", "frequency_b"]].fillna(0).astype(np.int64)
    m["per_case_a"] = m["frequency_a"] / max(pa.n_cases, 1)
    m["per_case_b"] = m["frequency_b"] / max(pb.n_cases, 1)
    m["delta_per_case"] = m["per_case_b"] - m["per_case_a"]
    m["delta_wait_s"] = m["wait_median_b_s"] - m["wait_median_a_s"]
    rel = np.divide(m["delta_per_case"], m["per_case_a"], out=np.zeros(len(m)), where=m["per_case_a"].to_numpy() > 0)
    m["change"] = np.select([m["frequency_a"] == 0, m["frequency_b"] == 0, rel >= 0.1, rel <= -0.1],
                            ["new", "gone", "up", "down"], "same")
    m = m.sort_values(["delta_per_case", "source", "target"], key=lambda s: s.abs() if s.name == "delta_per_case" else s,
                      ascending=[False, True, True], ignore_index=True)
    return m[DIFF_COLUMNS]


def variant_changes(a: EventLog, b: EventLog) -> pd.DataFrame:
    """Variants found in only one of the logs: ``change`` (``appeared`` in b / ``vanished`` from a),
    ``activities`` (joined with " → "), ``cases`` (in the log that has it)."""
    from ..discovery import variants

    va, vb = variants(a), variants(b)
    ka = dict(zip(va["activities"], va["cases"], strict=True))
    kb = dict(zip(vb["activities"], vb["cases"], strict=True))
    rows = [("appeared", " → ".join(v), int(n)) for v, n in kb.items() if v not in ka]
    rows += [("vanished", " → ".join(v), int(n)) for v, n in ka.items() if v not in kb]
    out = pd.DataFrame(rows, columns=["change", "activities", "cases"])
    return out.sort_values(["change", "cases", "activities"], ascending=[True, False, True], ignore_index=True)


def difference_dot(diff: pd.DataFrame, *, labels: tuple[str, str] = ("A", "B")) -> str:
    """A Graphviz difference map: arcs coloured by change (red up / new, blue down, grey dashed gone)."""
    colour = {"new": "#c0392b", "up": "#e67e22", "down": "#2b6fb0", "gone": "#9aa5b1", "same": "#59606b"}

    def q(text: object) -> str:
        return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["digraph difference {", "rankdir=LR;", 'node [shape=box, style="rounded,filled", fillcolor="#f4f6f8", '
             'fontname="Helvetica", fontsize=11];', 'edge [fontname="Helvetica", fontsize=9];']
    for row in diff.itertuples():
        width = 1 + 5 * min(abs(row.delta_per_case), 1.0)
        style = "dashed" if row.change == "gone" else "solid"
        label = f"{row.per_case_a:.2f}→{row.per_case_b:.2f}"
        lines.append(f"{q(row.source)} -> {q(row.target)} [color={q(colour[row.change])}, penwidth={width:.2f}, "
                     f"style={style}, label={q(label)}, fontcolor={q(colour[row.change])}];")
    lines.append("}")
    return "\n".join(lines)


def svg_from_dot(dot: str) -> str:
    """Run Graphviz ``dot`` and return the SVG text without its XML prolog (embeds in HTML)."""
    import graphviz

    svg = graphviz.Source(dot).pipe(format="svg").decode("utf-8")
    return svg[svg.find("<svg"):]


# ------------------------------------------------------------------ over time
def trend(log: EventLog, *, freq: str = "M", slas: Sequence[str] = (), deviating: Iterable[str] | None = None,
          end_activities: Sequence[str] | None = None, sla_log: EventLog | None = None) -> pd.DataFrame:
    """Per period of case start (``freq`` ``"M"`` month or ``"W"`` week): ``cases``, ``median_cycle_s``,
    ``sla_breach_share`` (first SLA: breaching / measured cases started in the period) and
    ``conformance_rate`` (with ``deviating``). ``attrs["change_points"]`` maps each series to the
    periods where its level shifts (see :func:`change_points`). ``sla_log``: the log the SLA is
    measured on (the working-time clock of a calendar, :func:`~processmining.performance.calendar.working_time_log`)."""
    from ..performance import case_durations
    from .drivers import bad_cases

    if freq not in ("M", "W"):
        raise AnalysisError(f"freq must be 'M' (month) or 'W' (week), got {freq!r}")
    d = case_durations(log)
    if d.empty:
        return pd.DataFrame(columns=["period", "cases", "median_cycle_s"])
    start = d["start"].dt.tz_convert(None)
    period = start.dt.to_period(freq).astype(str).to_numpy()
    frame = pd.DataFrame({"case": d["case"].astype(str).to_numpy(), "period": period,
                          "duration_s": d["duration_s"].to_numpy()})
    g = frame.groupby("period", sort=True)
    out = pd.DataFrame({"cases": g.size(), "median_cycle_s": g["duration_s"].median()})
    if slas:
        # breaching cases of sla_breaches among the cases where its clock started
        bc = bad_cases(sla_log or log, f"late:{slas[0]}", end_activities=end_activities)
        sub = frame[frame["case"].isin(bc.population)]
        if len(sub):
            gs = sub.assign(late=sub["case"].isin(bc.bad)).groupby("period")["late"]
            out["sla_breach_share"] = gs.mean()
    if deviating is not None:
        dev = set(map(str, deviating))
        out["conformance_rate"] = 1 - frame.assign(dev=frame["case"].isin(dev)).groupby("period")["dev"].mean()
    out = out.reset_index().rename(columns={"index": "period"})
    few = out["cases"].to_numpy() < 5  # a period with a handful of cases says little about the level
    out.attrs["change_points"] = {col: change_points(np.where(few, np.nan, out[col].to_numpy(dtype=float)))
                                  for col in out.columns if col not in ("period", "cases")}
    return out


def change_points(values: np.ndarray, *, threshold: float = 4.0, min_size: int = 2, max_points: int = 3) -> list[int]:
    """Positions where the mean level of ``values`` shifts (binary segmentation on the two-sample t statistic).

    A split at ``i`` (the first position of the new level) is kept when the
    t statistic of the means on either side exceeds ``threshold`` and each side
    has at least ``min_size`` points; both sides are then searched again. At
    most ``max_points`` splits are kept (the strongest), so a drifting series
    does not draw a line at every period.
    """
    x = np.asarray(values, dtype=float)
    found: list[tuple[float, int]] = []

    def search(lo: int, hi: int) -> None:
        seg = x[lo:hi]
        ok = ~np.isnan(seg)
        if ok.sum() < 2 * min_size:
            return
        best, best_t = None, threshold
        for i in range(lo + min_size, hi - min_size + 1):
            left, right = x[lo:i], x[i:hi]
            left, right = left[~np.isnan(left)], right[~np.isnan(right)]
            if len(left) < min_size or len(right) < min_size:
                continue
            var = (left.var(ddof=1) if len(left) > 1 else 0) / len(left) + \
                  (right.var(ddof=1) if len(right) > 1 else 0) / len(right)
            scale = np.sqrt(var) if var > 0 else 1e-9 * max(abs(left.mean()), abs(right.mean()), 1e-12)
            t = abs(right.mean() - left.mean()) / scale
            if t > best_t:
                best, best_t = i, t
        if best is not None:
            found.append((best_t, best))
            search(lo, best)
            search(best, hi)

    search(0, len(x))
    strongest = sorted(found, key=lambda p: -p[0])[:max_points]
    return sorted(i for _, i in strongest)


def trend_svg(tr: pd.DataFrame, column: str, *, title: str = "", width: int = 640, height: int = 200,
              fmt: Any = None) -> str:
    """A small line chart of ``tr[column]`` by period, change points drawn as dashed red lines (SVG text)."""
    from html import escape

    vals = tr[column].to_numpy(dtype=float)
    n = len(vals)
    pad_l, pad_r, pad_t, pad_b = 56, 28, 24, 36  # room for the last period label, centred on its point
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    finite = vals[np.isfinite(vals)]
    lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    flat = hi == lo  # a constant series: one line at mid-height with its one value, not an invented range
    if flat:
        lo, hi = lo - 1.0, hi + 1.0
    xs = [pad_l + (w * i / max(n - 1, 1)) for i in range(n)]
    ys = [pad_t + h * (1 - (v - lo) / (hi - lo)) if np.isfinite(v) else None for v in vals]
    fmt = fmt or (lambda v: f"{v:.3g}")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'font-family="Helvetica, Arial, sans-serif" font-size="10">',
             f'<text x="{pad_l}" y="14" font-size="12" font-weight="bold">{escape(title)}</text>',
             f'<line x1="{pad_l}" y1="{pad_t + h}" x2="{pad_l + w}" y2="{pad_t + h}" stroke="#888"/>',
             f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{pad_t + h}" stroke="#888"/>',
             *([f'<text x="{pad_l - 4}" y="{pad_t + h / 2 + 4}" text-anchor="end">{escape(fmt(lo + 1.0))}</text>']
               if flat else
               [f'<text x="{pad_l - 4}" y="{pad_t + 4}" text-anchor="end">{escape(fmt(hi))}</text>',
                f'<text x="{pad_l - 4}" y="{pad_t + h}" text-anchor="end">{escape(fmt(lo))}</text>'])]
    for cp in tr.attrs.get("change_points", {}).get(column, []):
        x = (xs[cp - 1] + xs[cp]) / 2
        parts.append(f'<line x1="{x:.1f}" y1="{pad_t}" x2="{x:.1f}" y2="{pad_t + h}" stroke="#c0392b" '
                     f'stroke-dasharray="4 3" stroke-width="1.5"/>')
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True) if y is not None)
    parts.append(f'<polyline points="{pts}" fill="none" stroke="#2b6fb0" stroke-width="2"/>')
    for x, y in zip(xs, ys, strict=True):
        if y is not None:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#2b6fb0"/>')
    step = max(1, -(-n // max(1, w // 56)))  # a label needs ~56 px ("2024-01" at 10 px): never overlapping
    for i in range(0, n, step):
        parts.append(f'<text x="{xs[i]:.1f}" y="{pad_t + h + 14}" text-anchor="middle">{escape(str(tr["period"].iloc[i]))}</text>')
    parts.append("</svg>")
    return "".join(parts)


__all__ = ["DIFF_COLUMNS", "WORKING_TIME_METRICS", "Comparison", "change_points", "compare_logs", "difference_dot", "figures",
           "map_difference", "split_period", "split_segment", "svg_from_dot", "trend", "trend_svg", "variant_changes"]
