"""The quality report as one self-contained HTML page (no scripts, no external files).

Everything that comes from the log (labels, case ids, resource names,
attribute names, values) is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from .findings import frame_records

if TYPE_CHECKING:
    from .findings import Finding, QualityReport

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#1f2328;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
h3{font-size:1.05rem;margin:1.6rem 0 .3rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.sev{display:inline-block;padding:0 .5rem;border-radius:1rem;font-size:.8rem;font-weight:600;color:#fff}
.sev-high{background:#cf222e}.sev-medium{background:#bc4c00}.sev-low{background:#57606a}
.score{font-size:1.1rem;font-weight:600}.muted{color:#57606a}.rec{background:#f6f8fa;padding:.5rem .8rem;
border-left:4px solid #0969da}
.examples{overflow-x:auto}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _table(records: list[dict[str, Any]]) -> str:
    if not records:
        return '<p class="muted">no examples</p>'
    cols = list(records[0])
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    body = []
    for rec in records:
        cells = []
        for c in cols:
            v = rec.get(c)
            cls = ' class="num"' if isinstance(v, (int, float)) and not isinstance(v, bool) else ""
            cells.append(f"<td{cls}>{_e(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<div class="examples"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _finding_section(i: int, f: Finding) -> str:
    return (
        f'<section id="finding-{i}"><h3>{i}. {_e(f.title)} '
        f'<span class="sev sev-{_e(f.severity)}">{_e(f.severity)}</span></h3>'
        f'<p class="muted">check <code>{_e(f.check)}</code> · dimension {_e(f.dimension)} · '
        f"count {f.count:,} · cases affected {f.cases_affected:,}</p>"
        f'<p class="rec">{_e(f.recommendation)}</p>'
        f"{_table(frame_records(f.examples))}</section>"
    )


def report_html(report: QualityReport) -> str:
    """Render :class:`QualityReport` as a complete HTML document (a string)."""
    s = report.summary
    summary_rows = [
        ("Events", f"{s.get('events', 0):,}"), ("Cases", f"{s.get('cases', 0):,}"),
        ("Activities", f"{s.get('activities', 0):,}"),
        ("Resources", "—" if s.get("resources") is None else f"{s['resources']:,}"),
        ("Time span", f"{s.get('first_event')} – {s.get('last_event')}"),
        ("Timestamp precision", ", ".join(f"{k}: {v:,}" for k, v in (s.get("timestamp_precision") or {}).items())),
        ("Start activities", ", ".join(s.get("start_activities") or []) or "none found"),
        ("End activities", ", ".join(s.get("end_activities") or []) or "none found"),
        ("Reference time (future events)", s.get("reference_now")),
        ("Transformations applied", "; ".join(s.get("history") or []) or "none"),
    ]
    summary = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in summary_rows)
    scores = "".join(f"<tr><td>{_e(k)}</td><td class=\"num score\">{v:.1f}</td></tr>"
                     for k, v in report.scores.items())
    overview = "".join(
        f'<tr><td><a href="#finding-{i}">{i}</a></td><td><span class="sev sev-{_e(f.severity)}">'
        f"{_e(f.severity)}</span></td><td>{_e(f.dimension)}</td><td>{_e(f.title)}</td>"
        f'<td class="num">{f.count:,}</td><td class="num">{f.cases_affected:,}</td></tr>'
        for i, f in enumerate(report.findings, 1)
    ) or '<tr><td colspan="6">No findings.</td></tr>'
    skipped = "".join(f"<li><code>{_e(k)}</code>: {_e(v)}</li>" for k, v in report.skipped.items())
    sections = "".join(_finding_section(i, f) for i, f in enumerate(report.findings, 1))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Data quality: {_e(report.source)}</title><style>{_CSS}</style></head><body>"
        f"<h1>Data quality of {_e(report.source)}</h1>"
        f'<p class="muted">Overall score <span class="score">{report.overall_score:.1f}</span>/100 · '
        f"{report.cases_affected_share:.1%} of cases affected by at least one finding · "
        f"{len(report.findings)} findings</p>"
        f"<h2>Log</h2><table>{summary}</table>"
        f"<h2>Scores per dimension</h2><table><thead><tr><th>dimension</th><th>score (0–100)</th></tr></thead>"
        f"<tbody>{scores}</tbody></table>"
        "<h2>Findings</h2><table><thead><tr><th>#</th><th>severity</th><th>dimension</th><th>finding</th>"
        f"<th>count</th><th>cases</th></tr></thead><tbody>{overview}</tbody></table>"
        + (f"<h3>Checks not run</h3><ul>{skipped}</ul>" if skipped else "")
        + sections
        + "</body></html>\n"
    )
