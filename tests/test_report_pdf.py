"""The PDF report: printed by headless Chromium from the same HTML; page numbers, contents, vector figures."""

from __future__ import annotations

import io
import re
import shutil
import struct
import subprocess
import unicodedata

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from processmining.cli import app
from tests.test_report import ANALYSIS, MAPPING, MODEL, deals_frame


def _chromium() -> str:
    from processmining.report.pdf import chromium_path

    return chromium_path()


def _printed_sizes(page) -> list[float]:
    """The printed size (pt) of every piece of text on a PDF page: font size times the vertical scale of the
    text and transformation matrices."""
    import math

    sizes: list[float] = []

    def visit(text, cm, tm, font, size) -> None:
        if text.strip():
            sizes.append(size * math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3]))

    page.extract_text(visitor_text=visit)
    return sizes


def test_pdf_report_structure(tmp_path) -> None:
    csv = tmp_path / "deals.csv"
    deals_frame().to_csv(csv, index=False)
    pdf = tmp_path / "audit.pdf"
    _chromium()  # the test setup installs Chromium; a missing one is an error, not a skip
    res = CliRunner().invoke(app, ["report", str(csv), *MAPPING, *ANALYSIS, "--model", str(MODEL), "--lang", "pl",
                                   "-o", str(pdf), "-q"])
    assert res.exit_code == 0, res.output
    reader = PdfReader(io.BytesIO(pdf.read_bytes()))
    n = len(reader.pages)
    assert 6 <= n <= 30
    pages = [" ".join(unicodedata.normalize("NFKC", p.extract_text() or "").split()) for p in reader.pages]
    # every page carries its number in the footer: "Strona i / n"
    for i, text in enumerate(pages, 1):
        assert f"Strona {i} / {n}" in text, i
    # the contents on page 1 list each section with the page its heading is on
    headings = ["1. Zakres i dane", "2. Podsumowanie ustaleń", "3. Proces w praktyce", "7. Zgodność z modelem referencyjnym",
                "12. Załącznik dowodowy i pochodzenie danych"]
    for h in headings:
        m = re.search(re.escape(h) + r" (\d+)", pages[0])
        assert m, h
        page = int(m.group(1))
        assert h in pages[page - 1] and all(h not in p for p in pages[1:page - 1]), (h, page)
    # figures are vector graphics: the process map and the BPMN diagram are drawn, not embedded as images
    images = sum(len(p.images) for p in reader.pages)
    assert images == 0
    map_page = int(re.search(r"3\. Proces w praktyce (\d+)", pages[0]).group(1))
    assert "Prospecting" in pages[map_page - 1]  # the map's node labels are text
    # the BPMN diagram (3,178 units wide) prints as 3 tiles, each alone on a landscape page, its labels at >= 6 pt
    tile_pages = [i for i, text in enumerate(pages) if re.search(r"Część \d z 3\.", text)]
    assert [re.search(r"Część (\d) z 3\.", pages[i]).group(1) for i in tile_pages] == ["1", "2", "3"]
    for i in tile_pages:
        box = reader.pages[i].mediabox
        assert float(box.width) > float(box.height), i  # landscape
        assert min(_printed_sizes(reader.pages[i])) >= 5.99  # 6 pt, as placed (Chromium rounds to 1/100 pt)
    assert all(float(p.mediabox.width) < float(p.mediabox.height) for i, p in enumerate(reader.pages)
               if i not in tile_pages and "Mapa procesu" not in pages[i])  # the rest is portrait
    # a page renders to a PNG of A4 proportions
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm (poppler-utils) is needed; .ci/setup --test installs it")
    subprocess.run(["pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png")).read_bytes()
    w, h = struct.unpack(">II", png[16:24])
    assert abs(h / w - 297 / 210) < 0.01  # 248 x 351 pixels at 30 dpi
    assert (tmp_path / "audit_evidence.xlsx").exists()
