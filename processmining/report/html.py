"""Render an :class:`~processmining.report.build.AuditReport` as one self-contained HTML document.

The template (``templates/report.html.j2``) holds the layout only: every word
comes from the message catalogue of the chosen language through ``t()``, every
number through the language's formatters. Figures are inline SVG, so the PDF
printed from this HTML keeps them as vector graphics.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from .build import AuditReport
from .findings import Finding
from .i18n import Texts

TEMPLATES = Path(__file__).with_name("templates")


def _env() -> Any:
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def param_text(tx: Texts, kind: str, value: Any) -> str:
    """One finding parameter formatted for the language (see :mod:`.findings`)."""
    if kind == "num":
        return tx.num(value)
    if kind == "pct":
        return tx.pct(value)
    if kind == "dur":
        return tx.dur(value)
    if kind == "date":
        return tx.date(value)
    if kind in ("check", "kind", "kpi", "unit"):
        key = f"{kind}.{value}"
        return tx.t(key) if tx.has(key) else str(value)
    return str(value)


def finding_text(tx: Texts, f: Finding, part: str) -> str:
    """The title / impact / severity sentence of a finding, parameters formatted and HTML-escaped."""
    if part == "title":
        msgid, params = f"title.{f.type}", f.title_params
    elif part == "impact":
        msgid, params = f"impact.{f.type}", f.impact_params
        if "amount" in params and tx.has(f"impact.{f.type}.amount"):
            msgid = f"impact.{f.type}.amount"
        elif not f.case_based and tx.has(f"impact.{f.type}.log"):
            msgid = f"impact.{f.type}.log"
        elif params.get("unit", ("", ""))[1] == "cases" and tx.has(f"impact.{f.type}.cases"):
            msgid = f"impact.{f.type}.cases"  # "cases affected: 1,160; cases: 1,160" said it twice
    else:
        msgid, params = f.severity_rule, f.severity_params
    values = {k: escape(param_text(tx, kind, v)) for k, (kind, v) in params.items()}
    text = tx.t(msgid)
    try:
        return text.format(**values)
    except KeyError:  # a sentence that needs a value this finding does not have
        return tx.t(f"{msgid}.short").format(**values) if tx.has(f"{msgid}.short") else escape(text)


def _fmt_cell(tx: Texts, value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if kind == "pct":
        return tx.pct(value)
    if kind == "dur":
        return tx.dur(value)
    if kind == "num":
        return tx.num(value)
    if kind == "num2":
        return tx.num(value, 2)
    if kind == "num4":
        return tx.num(value, 4)
    if kind == "date":
        return tx.date(value)
    return str(value)


def render_html(report: AuditReport, *, lang: str = "en", toc_pages: dict[str, int] | None = None) -> str:
    """The report as HTML text in ``lang`` (``en``, ``pl``, ``ru``).

    ``toc_pages`` (section id -> page number) fills the page numbers of the
    table of contents; the PDF writer measures them in a first pass.
    """
    tx = Texts(lang)
    by_section: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_section.setdefault(f.section, []).append(f)

    def t(msgid: str, **params: Any) -> str:
        return tx.t(msgid, **params)

    def ftext(f: Finding, part: str) -> Markup:
        return Markup(finding_text(tx, f, part))  # noqa: S704 - parameters are escaped in finding_text

    def cell(value: Any, kind: str = "text") -> str:
        return _fmt_cell(tx, value, kind)

    drawn: dict[str, str] = {}

    def svg(name: str) -> str:
        if name not in drawn:
            drawn[name] = report.figures.get(name, "")
            if name == "map" and "map_dot" in report.figures:
                from .compare import svg_from_dot

                dot = report.figures["map_dot"].replace('xlabel="start"', f'xlabel="{tx.t("map.start")}"')
                dot = dot.replace('xlabel="end"', f'xlabel="{tx.t("map.end")}"')
                drawn[name] = svg_from_dot(dot)
        return drawn[name]

    def figure(name: str, caption: str) -> Markup:
        return Markup(figure_html(svg(name), caption, key=name, tx=tx))  # noqa: S704 - SVG from our renderers

    def wide(name: str) -> bool:
        """The figure prints on landscape pages (the section's tables come first, so that its heading does
        not stand alone on a portrait page)."""
        from .figures import place

        return bool(svg(name)) and place(svg(name)).orientation == "landscape"

    def trend_chart(column: str, title: str, kind: str) -> Markup:
        from .compare import trend_svg

        tr = report.facts.get("trend")
        if tr is None or column not in tr.columns:
            return Markup("")
        return Markup(trend_svg(tr, column, title=title, fmt=lambda v: _fmt_cell(tx, v, kind)))  # noqa: S704

    def metric_label(metric: str) -> str:
        if metric.startswith("sla_breach_share:"):
            return tx.t("metric.sla_breach_share", sla=metric.split(":", 1)[1])
        return tx.t(f"metric.{metric}")

    def metric_kind(metric: str) -> str:
        if metric in ("cases",):
            return "num"
        if metric.endswith("_s") or metric in ("first_response", "resolution"):
            return "dur"
        return "pct"

    tr = report.facts.get("trend")
    cp_labels = {}
    if tr is not None:
        periods = tr["period"].astype(str).tolist()
        cp_labels = {col: [periods[i] for i in pts] for col, pts in tr.attrs.get("change_points", {}).items() if pts}
    def attr_label(attribute: str) -> str:
        from .drivers import MONTH

        return tx.t("attr.month") if attribute == MONTH else attribute

    sections = [s for s in report.sections if _has_section(report, s, by_section)]
    env = _env()
    tpl = env.get_template("report.html.j2")
    return tpl.render(r=report, f=report.facts, t=t, tx=tx, ftext=ftext, cell=cell, figure=figure, wide=wide, lang=lang,
                      by_section=by_section, sections=sections, toc_pages=toc_pages or {}, trend_chart=trend_chart,
                      metric_label=metric_label, metric_kind=metric_kind, pd=pd,
                      kpi_kind=lambda unit: "pct" if unit == "share" else "dur",
                      sheets=sorted(report.tables), cp_labels=cp_labels, attr_label=attr_label)


def figure_html(svg: str, caption: str, *, key: str, tx: Texts) -> str:
    """A figure placed by :func:`.figures.place`: on the portrait page, alone on a landscape page, or (too
    wide for that at :data:`.figures.MIN_LABEL_PT`) as an overview at the width of the portrait page and
    tiles "part k of n" of a landscape page each, which only print; the screen shows the whole drawing in a scrolling box instead.
    ``data-label-pt`` on each printed figure is the printed size of its smallest label."""
    from .figures import overview_marks, place, sized

    if not svg:
        return ""
    cap = escape(caption)
    pl = place(svg)
    if not pl.tiled:
        cls = ' class="wide"' if pl.orientation == "landscape" else ""
        body = sized(svg, pl.tiles[0], pl.width_mm, pl.height_mm, prefix=f"{key}-") if cls else svg
        return (f'<figure{cls} data-figure="{key}" data-label-pt="{pl.label_pt:.2f}">{body}'
                f"<figcaption>{cap}</figcaption></figure>")
    from .figures import PORTRAIT_MM

    x0, y0, _, _ = pl.tiles[0]
    x1, y1, w1, h1 = pl.tiles[-1]
    whole = (x0, y0, x1 + w1 - x0, y1 + h1 - y0)
    fit = min(PORTRAIT_MM[0] / whole[2], PORTRAIT_MM[1] / whole[3])  # the overview: on the portrait page
    n = len(pl.tiles)
    parts = [f'<div class="screen-only scroll" data-figure="{key}">{svg}</div>'
             f'<p class="screen-only figcaption">{cap}</p>',
             f'<figure class="print-only overview" data-figure="{key}" data-tiles="{n}">'
             f'{sized(svg, whole, whole[2] * fit, whole[3] * fit, prefix=f"{key}-o-", extra=overview_marks(pl))}'
             f'<figcaption>{cap} {escape(tx.t("fig.overview", n=n))}</figcaption></figure>']
    for k, box in enumerate(pl.tiles, 1):
        parts.append(f'<figure class="wide print-only tile" data-figure="{key}" data-tile="{k}/{n}" '
                     f'data-label-pt="{pl.label_pt:.2f}">'
                     f'{sized(svg, box, pl.width_mm, pl.height_mm, prefix=f"{key}-t{k}-")}'
                     f'<figcaption>{cap} {escape(tx.t("fig.part", k=k, n=n))}</figcaption></figure>')
    return "".join(parts)


def _has_section(report: AuditReport, section: str, by_section: dict[str, list[Finding]]) -> bool:
    f = report.facts
    if section in ("scope", "overview", "process", "time", "provenance", "quality", "sla", "stuck"):
        return True
    if section == "conformance":
        return f.get("conformance") is not None
    if section == "rules":
        return bool(by_section.get("rules"))
    if section == "people":
        return True
    if section == "funnel":
        return "funnel" in report.tables
    if section == "trend":  # an order-only log gets the section with its one line: no times
        return f.get("trend") is not None or f.get("has_timestamps") is False
    return True


__all__ = ["figure_html", "param_text", "render_html"]
