"""Print the report HTML to PDF with headless Chromium, and write the report with its evidence annex.

Chromium prints the page numbers from the CSS ``@page`` margin boxes of the
template. The table of contents gets its page numbers in a second pass: the
first PDF is read back with pypdf, the page on which each section heading
starts is found, and the HTML is printed again with those numbers (the TOC
takes the same space in both passes, so the pages do not move).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import AnalysisError
from .build import AuditReport
from .html import render_html
from .i18n import Texts

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium_path() -> str:
    """The headless Chromium executable (``PROCESSMINING_CHROMIUM`` overrides the search)."""
    env = os.environ.get("PROCESSMINING_CHROMIUM")
    if env:
        return env
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise AnalysisError("PDF output needs Chromium (apt-get install chromium); write .html instead")


def html_to_pdf(html: str, *, timeout: float = 180.0) -> bytes:
    """PDF bytes of ``html`` printed by headless Chromium (no network, no header/footer of its own)."""
    exe = chromium_path()
    with tempfile.TemporaryDirectory(prefix="pm-report-") as tmp:
        src, out = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        src.write_text(html, encoding="utf-8")
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-dev-shm-usage", f"--user-data-dir={tmp}/profile", "--no-pdf-header-footer",
               "--run-all-compositor-stages-before-draw", f"--print-to-pdf={out}", src.as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)  # noqa: S603
        except subprocess.TimeoutExpired as exc:
            raise AnalysisError(f"Chromium did not finish printing the PDF within {timeout:.0f} s") from exc
        if not out.exists() or out.stat().st_size == 0:
            tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise AnalysisError("Chromium could not print the PDF: " + " | ".join(tail))
        return out.read_bytes()


def section_pages(pdf: bytes, headings: dict[str, str]) -> dict[str, int]:
    """Page (1-based) on which each section heading first appears after the table of contents."""
    import io
    import unicodedata

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    texts = [" ".join(unicodedata.normalize("NFKC", p.extract_text() or "").split()) for p in reader.pages]
    found: dict[str, int] = {}
    start = 1  # page 1 holds the title and the table of contents
    for key, heading in headings.items():
        needle = " ".join(unicodedata.normalize("NFKC", heading).split())
        for i in range(start, len(texts)):
            if needle in texts[i]:
                found[key] = i + 1
                start = i
                break
    return found


def render_pdf(report: AuditReport, *, lang: str = "en") -> bytes:
    """The report as PDF (two passes so that the table of contents shows page numbers)."""
    from .html import _has_section

    html = render_html(report, lang=lang, toc_pages={})
    first = html_to_pdf(html)
    tx = Texts(lang)
    by_section: dict[str, list] = {}
    for f in report.findings:
        by_section.setdefault(f.section, []).append(f)
    sections = [s for s in report.sections if _has_section(report, s, by_section)]
    headings = {s: f"{i}. {tx.t('h.' + s)}" for i, s in enumerate(sections, 1)}
    pages = section_pages(first, headings)
    if not pages:
        return first
    return html_to_pdf(render_html(report, lang=lang, toc_pages=pages))


def write_report(report: AuditReport, output: str | Path, *, lang: str = "en",
                 evidence: str | Path | None = None) -> tuple[Path, Path]:
    """Write the report (``.html`` or ``.pdf``, by suffix) and its evidence annex (default:
    ``<stem>_evidence.xlsx`` beside it; ``.csv`` / ``.zip`` / ``.json`` also work). Both are written
    atomically; returns the two paths."""
    from ..export import write_tables

    out = Path(output)
    suffix = out.suffix.lower()
    if suffix not in (".html", ".htm", ".pdf"):
        raise AnalysisError(f"-o must end in .html or .pdf, got {out.name!r}")
    ev = Path(evidence) if evidence else out.with_name(f"{out.stem}_evidence.xlsx")
    report.evidence_name = ev.name
    write_tables(report.tables, ev, provenance=report.provenance)
    data = render_pdf(report, lang=lang) if suffix == ".pdf" else render_html(report, lang=lang).encode("utf-8")
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    return out, ev


__all__ = ["chromium_path", "html_to_pdf", "render_pdf", "section_pages", "write_report"]
