"""The app in a real headless Chromium at 1920×1080: workshop mode, animation, drill-down, BPMN zoom, workspace.

``streamlit run app.py`` on a free local port, then one walk through the app as
a facilitator and an auditor would do it. Screenshots go to a temporary
folder, so CI never dirties the checkout. To refresh the docs pictures::

    PROCESSMINING_SCREENSHOTS=docs .venv/bin/python -m pytest tests/test_browser.py -m browser -n0

Uses the system Chromium (installed by ``.ci/setup --test``); never downloads a browser.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
#: refreshing the docs pictures also visits the pages the AppTest suite covers, for their screenshots
REFRESH_DOCS = bool(os.environ.get("PROCESSMINING_SCREENSHOTS"))
VIEWER = "iframe[title='app_pages._diagram.pm_diagram']"
#: smallest label height on screen (CSS px) the BPMN diagram must have at its default zoom
MIN_LABEL_PX = 11.0

# in the viewer frame: the smallest on-screen font size of the diagram's labels
MIN_FONT_JS = """() => { let m = Infinity; document.querySelectorAll('#stage text').forEach(t => {
  if (!t.textContent.trim() || t.closest('.pm-tokens')) return; const c = t.getScreenCTM();
  const px = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(c.a, c.b); if (px < m) m = px; }); return m; }"""
# in the viewer frame: the drawing's box and the frame's size
BOX_JS = """() => { const g = document.querySelector('#stage svg g.graph') || document.querySelector('#stage svg g');
  const r = g.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom, innerWidth, innerHeight]; }"""
TOKENS_JS = """() => Array.from(document.querySelectorAll('.pm-tokens circle')).filter(c => c.style.display !== 'none')
  .map(c => c.getAttribute('cx') + ',' + c.getAttribute('cy'))"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    if CHROMIUM is None:
        pytest.skip("no system chromium binary (install it with `bash .ci/setup --test`)")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "PROCESSMINING_DATA_DIR"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
    )
    url = f"http://localhost:{port}"  # the server listens on localhost only (.streamlit/config.toml)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                pytest.fail(f"streamlit did not start on port {port}:\n{out[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def shots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = os.environ.get("PROCESSMINING_SCREENSHOTS")
    path = (REPO / env) if env and not Path(env).is_absolute() else Path(env) if env else \
        tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _idle(page) -> None:  # noqa: ANN001
    """Wait until Streamlit has finished the current script run."""
    page.wait_for_selector("[data-testid='stApp']", timeout=30_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=90_000)
    page.wait_for_timeout(300)


def _viewer(page):  # noqa: ANN001, ANN202
    """The diagram viewer's frame, once its SVG is mounted."""
    page.locator(VIEWER).first.wait_for(timeout=60_000)
    frame = page.frame_locator(VIEWER).first
    frame.locator("body[data-ready='1']").wait_for(timeout=60_000)
    return page.locator(VIEWER).first.element_handle().content_frame()


def _body(page) -> str:  # noqa: ANN001
    text = page.inner_text("body")
    assert "Traceback" not in text and "Something went wrong" not in text, text[:1500]
    return text


def _expected_cases_through(a: str, b: str) -> int:
    """How many demo cases go directly from ``a`` to ``b`` (the library's filter, not the app)."""
    from app_pages import _state as app_state
    from processmining.filters import filter_follows
    from processmining.ingest import read_log

    demo = app_state.DEMO_LOGS[0]
    return filter_follows(read_log(demo.path.read_bytes(), name=demo.file, preset=demo.preset), a, b,
                          directly=True).n_cases


def test_facilitator_and_auditor_walk(app_url: str, shots_dir: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, accept_downloads=True)
            page = ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(app_url, wait_until="domcontentloaded")
            page.get_by_text("Ingest report").first.wait_for(timeout=60_000)  # the demo loads by itself
            _idle(page)
            assert "salesforce_opportunity_field_history.csv" in _body(page)
            page.screenshot(path=str(shots_dir / "load.png"))
            if REFRESH_DOCS:
                page.get_by_role("link", name="Data quality").first.click()
                page.get_by_text("Fixes").first.wait_for(timeout=60_000)
                _idle(page)
                page.screenshot(path=str(shots_dir / "quality.png"))

            # ---- the map: the whole map in view, a click on an arc filters the cases
            page.get_by_role("link", name="Process map").first.click()
            frame = _viewer(page)
            _idle(page)
            assert frame.locator("svg g.node").count() == 11  # 9 stages, start and end
            page.screenshot(path=str(shots_dir / "process_map.png"))
            node = dict(frame.evaluate("() => Array.from(document.querySelectorAll('svg g.node')).map(g => "
                                       "[(g.querySelector('text') || {}).textContent, g.querySelector('title')"
                                       ".textContent])"))
            arc = f"{node['Qualification']}->{node['Needs Analysis']}"
            edge = frame.locator("svg g.edge").filter(has=frame.locator(f"title:text-is('{arc}')"))
            edge.locator("text").first.click()
            n = _expected_cases_through("Qualification", "Needs Analysis")
            page.get_by_text(f"{n:,} cases · filtered: cases passing Qualification → Needs Analysis").first \
                .wait_for(timeout=30_000)
            _idle(page)
            page.get_by_role("button", name="Clear the selection").click()
            page.get_by_text("2,000 cases · all cases").first.wait_for(timeout=30_000)
            _idle(page)

            # ---- workshop mode: presenter layout, the whole map visible at 1920×1080
            page.get_by_text("Workshop mode").first.click()
            page.get_by_role("button", name="Saved views").wait_for(timeout=30_000)
            _idle(page)
            frame = _viewer(page)
            page.wait_for_timeout(500)
            left, top, right, bottom, width, height = frame.evaluate(BOX_JS)
            assert left >= 0 and top >= 0 and right <= width and bottom <= height, (left, top, right, bottom)
            rect = page.locator(VIEWER).first.bounding_box()
            assert rect["y"] >= 0 and rect["y"] + rect["height"] <= 1080 + 1  # the viewer is on the screen
            assert frame.locator("svg g.node").count() == 11
            assert page.get_by_role("link", name="Conformance").count() >= 1  # pages reachable in workshop mode

            # ---- the animation plays: tokens move between two screenshots
            page.get_by_text("Animate cases").first.click()
            _idle(page)
            frame = _viewer(page)
            frame.locator("#anim button#play").wait_for(timeout=30_000)
            page.frame_locator(VIEWER).first.locator("body[data-playing='1']").wait_for(timeout=10_000)
            page.wait_for_timeout(800)
            shot1, pos1 = page.locator(VIEWER).first.screenshot(), frame.evaluate(TOKENS_JS)
            page.wait_for_timeout(700)
            shot2, pos2 = page.locator(VIEWER).first.screenshot(), frame.evaluate(TOKENS_JS)
            assert pos1 and pos2 and pos1 != pos2 and shot1 != shot2
            page.screenshot(path=str(shots_dir / "workshop.png"))
            page.get_by_text("Animate cases").first.click()
            _idle(page)

            # ---- two saved views, then the keyboard (a clicker's keys) steps through them
            for name in ("Whole process", "Waiting times"):
                if name == "Waiting times":
                    page.get_by_text("Performance", exact=True).first.click()
                    _idle(page)
                page.get_by_role("button", name="Saved views").click()
                page.get_by_placeholder("e.g. Lost deals, Q2").fill(name)
                page.get_by_placeholder("e.g. Lost deals, Q2").press("Tab")
                page.get_by_role("button", name="Save the current view").click()
                page.get_by_text(f"View {1 if name == 'Whole process' else 2} of").first.wait_for(timeout=30_000)
                page.keyboard.press("Escape")
                _idle(page)
            page.mouse.click(1900, 1070)  # focus the page, not an input
            page.keyboard.press("ArrowLeft")
            page.get_by_text("View 1 of 2: Whole process").first.wait_for(timeout=30_000)
            _idle(page)
            page.mouse.click(1900, 1070)
            page.keyboard.press("PageDown")
            page.get_by_text("View 2 of 2: Waiting times").first.wait_for(timeout=30_000)
            _idle(page)
            page.get_by_text("Workshop mode").first.click()
            page.get_by_text("Variants").first.wait_for(timeout=30_000)
            _idle(page)

            if REFRESH_DOCS:  # pages the AppTest suite covers: here only for the docs pictures
                page.get_by_role("link", name="Bottlenecks").first.click()
                page.get_by_text("Where is time lost?").first.wait_for(timeout=60_000)
                _idle(page)
                page.screenshot(path=str(shots_dir / "bottlenecks.png"))
                page.get_by_role("link", name="Cases").first.click()
                page.get_by_text("Dotted chart").first.wait_for(timeout=60_000)
                _idle(page)
                page.screenshot(path=str(shots_dir / "cases.png"))

            # ---- conformance: only on request; the diagram legible at its default zoom, zooms in place
            page.get_by_role("link", name="Conformance").first.click()
            page.get_by_role("button", name="Check conformance").wait_for(timeout=60_000)
            _idle(page)
            page.get_by_role("button", name="Check conformance").click()
            page.get_by_text("The model with the deviations").first.wait_for(timeout=90_000)
            _idle(page)
            frame = _viewer(page)
            page.wait_for_timeout(400)
            before = frame.evaluate(MIN_FONT_JS)
            assert before >= MIN_LABEL_PX, before
            page.locator(VIEWER).first.scroll_into_view_if_needed()
            box = page.locator(VIEWER).first.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.wheel(0, -400)
            page.wait_for_timeout(500)
            after = frame.evaluate(MIN_FONT_JS)
            assert after > before * 1.1, (before, after)
            page.screenshot(path=str(shots_dir / "conformance.png"))
            # a click on a task (one in view) lists its deviating cases below the diagram
            frame.locator("[data-element]").filter(has=frame.locator("text", has_text="Qualification")).first.click()
            page.get_by_text(re.compile(r"^Qualification \(element ")).first.wait_for(timeout=30_000)
            _idle(page)
            # accept the first deviation pattern offered, with a reason
            page.get_by_text("Accepted deviation patterns (0)").first.click()
            page.get_by_placeholder("e.g. approved by the CFO in Q2").fill("accepted in the workshop")
            page.get_by_placeholder("e.g. approved by the CFO in Q2").press("Tab")
            page.get_by_role("button", name="Accept", exact=True).click()
            page.get_by_text("Accepted deviation patterns (1)").first.wait_for(timeout=60_000)
            _idle(page)

            # ---- the workspace: download, upload into a fresh session, views and acceptance are back
            page.get_by_text("Workspace", exact=True).first.click()
            with page.expect_download() as dl:
                page.get_by_role("button", name="Download the workspace").click()
            saved = tmp_path / "workspace.json"
            dl.value.save_as(saved)
            assert not errors, errors
            ctx.close()

            fresh = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
            fresh.goto(app_url, wait_until="domcontentloaded")
            fresh.get_by_text("Ingest report").first.wait_for(timeout=60_000)
            _idle(fresh)
            fresh.get_by_text("Workspace", exact=True).first.click()
            fresh.locator("[data-testid='stSidebar'] input[type='file']").set_input_files(str(saved))
            fresh.get_by_text("Restored 2 saved views, 1 accepted deviation patterns").first.wait_for(timeout=30_000)
            _idle(fresh)
            fresh.get_by_role("link", name="Process map").first.click()
            _viewer(fresh)
            _idle(fresh)
            fresh.get_by_text("Workshop mode").first.click()
            fresh.get_by_text("View 1 of 2: Whole process").first.wait_for(timeout=30_000)
            _idle(fresh)
            fresh.get_by_text("Workshop mode").first.click()
            _idle(fresh)
            fresh.get_by_role("link", name="Conformance").first.click()
            fresh.get_by_text("1 accepted deviation pattern will be applied").first.wait_for(timeout=60_000)
            assert "(accepted in the workshop)" in fresh.inner_text("body")
            assert "Traceback" not in fresh.inner_text("body")
        finally:
            browser.close()
    expected = {"load.png", "process_map.png", "workshop.png", "conformance.png"}
    if REFRESH_DOCS:
        expected |= {"quality.png", "bottlenecks.png", "cases.png"}
    assert expected <= {p.name for p in shots_dir.glob("*.png")}


def test_cancel_stops_a_running_conformance_check(app_url: str, shared_datasets: Path) -> None:
    """A real log and model (receipt: the check needs ~40 s on 2 cores): Cancel stops it and the page says so.

    The proof that the check stopped: the session is idle again (Streamlit runs one script per session, so the
    run with the check has ended) and shows the cancelled message, long before the check could have finished,
    and no fitness is ever shown.
    """
    from playwright.sync_api import sync_playwright

    real = shared_datasets / "real"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
            page.goto(app_url, wait_until="domcontentloaded")
            page.get_by_text("Ingest report").first.wait_for(timeout=60_000)
            _idle(page)
            page.get_by_role("tab", name="Upload a file").click()
            page.locator("[data-testid='stMain'] input[type='file']").first.set_input_files(str(real / "receipt.xes.gz"))
            page.get_by_role("button", name="Read the log").click()
            page.get_by_text("Ingest report — receipt.xes.gz").first.wait_for(timeout=60_000)
            _idle(page)
            page.get_by_role("link", name="Conformance").first.click()
            page.get_by_text("Upload a BPMN file").first.wait_for(timeout=60_000)
            _idle(page)
            page.get_by_text("Upload a BPMN file").first.click()
            _idle(page)
            page.locator("[data-testid='stMain'] input[type='file']").first.set_input_files(str(real / "receipt.bpmn"))
            page.get_by_role("button", name="Check conformance").wait_for(timeout=60_000)
            _idle(page)
            page.get_by_role("button", name="Check conformance").click()
            page.get_by_role("button", name="Cancel the check").wait_for(timeout=30_000)
            page.locator("[data-testid='stProgress']").first.wait_for(timeout=30_000)  # the check runs
            page.wait_for_timeout(3_000)  # past the first 2 s in-process: the variants go to a process pool
            assert "Fitness" not in page.inner_text("body")
            page.get_by_role("button", name="Cancel the check").click()
            page.get_by_text("The check was cancelled. Start it again when you are ready.").first \
                .wait_for(timeout=20_000)
            _idle(page)
            body = _body(page)
            assert "Fitness" not in body and "Deviating cases" not in body
            assert page.get_by_role("button", name="Check conformance").count() == 1
            page.wait_for_timeout(1_500)  # nothing comes back: the check does not finish behind the page
            assert "Fitness" not in page.inner_text("body")
        finally:
            browser.close()
