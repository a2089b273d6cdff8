"""The app in a real headless Chromium: start ``streamlit run app.py``, open every page, take screenshots.

Screenshots go to a temporary folder, so CI never dirties the checkout. To
refresh the README pictures, point ``PROCESSMINING_SCREENSHOTS`` at ``docs``::

    PROCESSMINING_SCREENSHOTS=docs .venv/bin/python -m pytest tests/test_browser.py -m browser

Uses the system Chromium (installed by ``.ci/setup --test``); never downloads a browser.
"""

from __future__ import annotations

import os
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
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
#: (link text in the sidebar, file name of the screenshot, text shown once the page is complete)
PAGES = (
    ("Data quality", "quality.png", "Fixes"),
    ("Process map", "process_map.png", "Variants"),
    ("Bottlenecks", "bottlenecks.png", "Where is time lost?"),
    ("Conformance", "conformance.png", "Deviations"),
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    if CHROMIUM is None:
        pytest.skip("no system chromium binary (install it with `bash .ci/setup --test`)")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
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


def _wait_idle(page) -> None:
    """Wait until Streamlit has finished the current script run."""
    page.wait_for_selector("[data-testid='stApp']", timeout=30_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    page.wait_for_timeout(400)


def test_every_page_renders_on_the_demo_log(app_url: str, shots_dir: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(app_url, wait_until="domcontentloaded")
            # the demo log is loaded on start, without any click
            page.get_by_text("Ingest report").first.wait_for(timeout=60_000)
            _wait_idle(page)
            body = page.inner_text("body")
            assert "salesforce_opportunity_field_history.csv" in body
            assert "Traceback" not in body
            page.screenshot(path=str(shots_dir / "load.png"))

            for link, shot, ready in PAGES:
                page.get_by_role("link", name=link).first.click()
                page.get_by_text(ready, exact=False).first.wait_for(timeout=120_000)
                _wait_idle(page)
                if link == "Process map":
                    page.locator(".pm-map svg").first.wait_for(timeout=60_000)
                    # the demo map: 9 stages plus the start and end markers
                    assert page.locator(".pm-map svg g.node").count() == 11
                if link == "Conformance":
                    page.locator(".pm-bpmn svg").first.wait_for(timeout=120_000)
                    _wait_idle(page)
                    # lead_to_order.bpmn: every task is drawn
                    assert page.locator(".pm-bpmn svg").get_by_text("Discount Approval").count() >= 1
                    page.mouse.move(700, 500)
                    page.mouse.wheel(0, 450)
                    page.wait_for_timeout(500)
                body = page.inner_text("body")
                assert "Traceback" not in body
                assert "Something went wrong" not in body, f"{link}: {body[:2000]}"
                page.screenshot(path=str(shots_dir / shot), full_page=False)
                if link == "Process map":  # one click: the full-width map for a workshop room
                    page.get_by_text("Workshop mode").first.click()
                    page.get_by_text("Saved views").first.wait_for(timeout=30_000)
                    _wait_idle(page)
                    assert page.locator(".pm-map svg g.node").count() == 11
                    page.screenshot(path=str(shots_dir / "workshop.png"), full_page=False)
                    page.get_by_text("Workshop mode").first.click()
                    page.get_by_text("Variants").first.wait_for(timeout=30_000)
            assert not errors, errors
        finally:
            browser.close()
    expected = {"load.png", "workshop.png", *(shot for _, shot, _ in PAGES)}
    assert expected <= {p.name for p in shots_dir.glob("*.png")}
