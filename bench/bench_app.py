"""Benchmark: the app's slow steps before and after issue #15 (not a test; prints timings).

Run from the project root::

    .venv/bin/python bench/bench_app.py [--events 1000000] [--deviations 300000] [--repeat 3]

Measured in the same run, best of ``--repeat``:

* **Conformance page, a display option** ("fit the diagram" took 116 s on a
  262k-event log): before, every rerun recomputed the task overlays with a
  Python loop over the deviation rows (the ``element_overlays`` of ``main``
  before this change, loaded from git as the named baseline); after, the
  overlays are columnar and cached per result, and zoom / fit happen in the
  browser (a rerun for a display option costs a cache hit). Deviations: a
  table of ``--deviations`` rows on the bundled ``lead_to_order.bpmn``.
* **Process map**: a slider step on the 1M-event map (simplify + SVG), the
  animation's token moves (2,000 sampled cases) and their JSON size, the
  GIF export, the arc drill-down filter and the dotted chart.
* The same on the real bpic2013 incidents log (../shared/datasets), when present.
* **The app in headless Chromium** (``--browser``; issue #15): one session per
  app (baseline pages from git, then this checkout) uploads a real log
  (bpic2013 65k events; bpic2019 p2p 338k events, where the map sliders are
  a form) and times, until the page is idle again: opening the map, a
  display option, five quick keyboard steps of a map slider (then "Update
  the map" where there is one), opening Bottlenecks and a display toggle.
* **Reruns of the app** (``--reruns``; issue #15): the app driven through
  ``streamlit.testing.AppTest`` on the demo and on bpic2013, once with the
  pages of the named baseline (``--baseline``, default the commit before this
  work, extracted from git into a temporary folder) and once with this
  checkout, each in its own child process: per step the seconds of the
  rerun and the analyses it recomputed (``app_state.cached`` misses by kind).
  A display option must recompute no analysis (only the drawing it shows).
  AppTest reruns the whole script; in the browser a fragment reruns only its
  part, so these times are an upper bound for the new pages.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from processmining.model import ACTIVITY, EventLog  # noqa: E402


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    t_best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        t_best = min(t_best, time.perf_counter() - t)
    return t_best, out


def row(label: str, seconds: float, extra: str = "") -> None:
    print(f"  {label:<58} {seconds * 1000:>10.1f} ms  {extra}")


def baseline_overlays() -> Callable[..., dict] | None:
    """``element_overlays`` as it was on main before this change (the named baseline), or None."""
    try:
        src = subprocess.run(["git", "show", "main:app_pages/_conformance_view.py"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    start = src.index("def heat(")
    end = src.index("def flow_overlays(")
    ns: dict[str, Any] = {"pd": pd, "Any": Any}
    exec(src[src.index("KIND_LABEL ="):src.index("def heat(")], ns)  # noqa: S102 - our own file from git
    exec(src[start:end], ns)  # noqa: S102
    return ns["element_overlays"]


def deviations_for(model: Any, n: int, n_cases: int, seed: int = 3) -> pd.DataFrame:
    from processmining.model import DEVIATION_COLUMNS

    rng = np.random.default_rng(seed)
    tasks = [t.name for t in model.tasks if t.name]
    kinds = np.array(["missing", "unexpected", "out_of_order", "rule"])
    df = pd.DataFrame({c: pd.Series([None] * n, dtype=object) for c in DEVIATION_COLUMNS})
    df["case_id"] = [f"C{i}" for i in rng.integers(0, n_cases, n)]
    df["kind"] = kinds[rng.integers(0, len(kinds), n)]
    df["activity"] = np.array(tasks, dtype=object)[rng.integers(0, len(tasks), n)]
    df["accepted"] = False
    return df


def bench_overlays(args: argparse.Namespace) -> None:
    from app_pages._conformance_view import element_overlays
    from processmining import bpmn

    model = bpmn.read_bpmn(ROOT / "bpmn_models" / "lead_to_order.bpmn")
    labels = bpmn.match_labels(model, [t.name for t in model.tasks if t.name])
    dev = deviations_for(model, args.deviations, n_cases=args.deviations // 3)
    print(f"\nConformance page: a display option, {len(dev):,} deviation rows on lead_to_order.bpmn")
    old = baseline_overlays()
    t_new, new = best(lambda: element_overlays(model, dev, labels.label_map, args.deviations // 3), args.repeat)
    if old is not None:
        t_old, was = best(lambda: old(model, dev, labels.label_map, args.deviations // 3), args.repeat)
        assert {k: v.badge for k, v in was.items()} == {k: v.badge for k, v in new.items()}, "overlays differ"
        row("before: overlays recomputed on every rerun (row loop)", t_old)
        row("after: overlays, columnar (once per result, then cached)", t_new, f"{t_old / t_new:.1f}x faster")
    else:
        row("after: overlays, columnar (no git: no baseline)", t_new)
    row("after: a display option (zoom / fit are in the browser)", 0.0, "no server work")


def bench_map(log: EventLog, title: str, args: argparse.Namespace) -> None:
    from processmining import animation, discovery, filters, render, selection

    print(f"\n{title}: {log.n_events:,} events, {log.n_cases:,} cases")
    t, pm = best(lambda: discovery.process_map(log), 1)
    row("process map (once per filter)", t)
    t, small = best(lambda: discovery.simplify(pm, activities=0.8, paths=0.5), args.repeat)
    t_svg, svg = best(lambda: render.render_map(small, fmt="svg"), args.repeat)
    row("slider step: simplify + SVG", t + t_svg)
    arcs = list(zip(small.arcs["source"], small.arcs["target"], strict=True))
    t, seg = best(lambda: animation.token_segments(log, arcs=arcs, max_cases=2000), args.repeat)
    payload = len(json.dumps({"arc": seg.arc.tolist(), "t0": seg.t0.round(0).tolist(), "t1": seg.t1.round(0).tolist()}))
    row("animation: token moves", t, f"{seg.note}; {payload / 1024:,.0f} KiB to the browser")
    ids = {a: f"n{i}" for i, a in enumerate(small.activities.index)}
    titles = {(s, d): f"{ids[s]}->{ids[d]}" for s, d in seg.arcs}
    png = render.render_map(small, fmt="png")
    t, gif = best(lambda: animation.animation_gif(svg, png, seg, titles, seconds=6, fps=8, width=900), 1)
    row("animation: 6 s GIF for slides (48 frames)", t, f"{len(gif) / 1024**2:.1f} MiB")
    a, b = arcs[0]
    t, sub = best(lambda: filters.filter_follows(log, a, b, directly=True), args.repeat)
    row("drill-down: a click on an arc (cases through it)", t, f"{sub.n_cases:,} cases")
    t, (dots, total) = best(lambda: selection.dotted_chart(log, max_cases=1500), args.repeat)
    row("dotted chart (1,500 sampled cases)", t, f"{len(dots):,} dots of {total:,} cases")


# ------------------------------------------------------------------ reruns of the app (AppTest, per app root)
#: (page, what the user does, widget kind, key, value); ``None`` kind: open the page
STEPS: dict[str, list[tuple[str, str, str | None, str, Any]]] = {
    "map": [
        ("app_pages/process_map.py", "open the Process map", None, "", None),
        ("app_pages/process_map.py", "display: frequency -> performance", "radio", "keep_map_mode", "performance"),
        ("app_pages/process_map.py", "slider: activities 50 %", "slider", "keep_map_act", 50),
        ("app_pages/bottlenecks.py", "open Bottlenecks", None, "", None),
        ("app_pages/bottlenecks.py", "display: handover graph top 60", "slider", "bn_ho_top", 60),
        ("app_pages/bottlenecks.py", "display: show every running case", "toggle", "bn_stuck_all", True),
    ],
    "conformance": [
        ("app_pages/conformance.py", "open Conformance", None, "", None),
        ("app_pages/conformance.py", "check conformance", "button", "cf_run", None),
        ("app_pages/conformance.py", "display: filter the list to one kind", "multiselect", "@cf_f_kind_", ["missing"]),
        ("app_pages/conformance.py", "display: a rerun (zoom / fit are in the browser)", "rerun", "", None),
    ],
}


def scenario(app_root: Path, log_path: str, steps: str) -> None:
    """(Child process) drive the app in ``app_root`` through ``STEPS[steps]``; print one JSON line per step."""
    sys.path.insert(0, str(app_root))
    import importlib

    from streamlit.testing.v1 import AppTest

    app_state = importlib.import_module("app_pages._state")
    misses: dict[str, int] = {}
    original = app_state.cached

    def counting(kind, parts, compute, **kw):  # noqa: ANN001, ANN003, ANN202 - wraps the page cache
        def run():  # noqa: ANN202
            misses[kind] = misses.get(kind, 0) + 1
            return compute()

        return original(kind, parts, run, **kw)

    app_state.cached = counting
    if log_path == "demo":
        from processmining.ingest import read_log

        demo = app_state.DEMO_LOGS[0]
        log = read_log(demo.path.read_bytes(), name=demo.file, preset=demo.preset)
    else:
        from processmining.xes import read_xes

        log = read_xes(log_path)
    at = AppTest.from_file(str(app_root / "app.py"), default_timeout=900)
    at.session_state[app_state.DEMO_TRIED] = True
    state: dict = {}
    app_state.add_log(log, state=state)
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    for page, what, kind, key, value in STEPS[steps]:
        misses.clear()
        t = time.perf_counter()
        if kind is None:
            at.switch_page(page).run()
        elif kind == "rerun":
            at.run()
        elif kind == "button":
            at.button(key=key).click().run()
        else:
            if key.startswith("@"):  # a key with a per-result suffix
                key = next(w.key for w in getattr(at, kind) if str(w.key).startswith(key[1:]))
            getattr(at, kind)(key=key).set_value(value).run()
        dt_s = time.perf_counter() - t
        err = [str(e.value)[:120] for e in at.exception] + [str(e.value)[:120] for e in at.error]
        print(json.dumps({"step": what, "s": round(dt_s, 3), "misses": dict(misses), "errors": err}), flush=True)


def baseline_root(ref: str) -> Path | None:
    """The app (app.py + app_pages/) of git ``ref`` in a temporary folder, beside links to the bundled data."""
    import tarfile
    import tempfile

    try:
        tar = subprocess.run(["git", "archive", ref, "app.py", "app_pages"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    root = Path(tempfile.mkdtemp(prefix="pm-bench-baseline-"))
    with tarfile.open(fileobj=__import__("io").BytesIO(tar)) as tf:
        tf.extractall(root, filter="data")
    for data in ("eventlogs", "bpmn_models", ".streamlit"):
        if (ROOT / data).exists():
            (root / data).symlink_to(ROOT / data)
    return root


def bench_reruns(args: argparse.Namespace) -> None:
    runs = [("demo", "demo", "map"), ("demo", "demo", "conformance")]
    for root in (ROOT.parent / "shared" / "datasets", Path("/work/shared/datasets")):
        if (root / "real" / "bpic2013_incidents.xes.gz").is_file():
            runs.append(("bpic2013 incidents (real)", str(root / "real" / "bpic2013_incidents.xes.gz"), "map"))
            break
    base = baseline_root(args.baseline)
    roots = ([("before", base)] if base is not None else []) + [("after", ROOT)]
    for title, log_path, steps in runs:
        print(f"\nApp reruns on {title} ({steps}); seconds per step, analyses recomputed (cache misses by kind)")
        results: dict[str, list[dict]] = {}
        for label, root in roots:
            out = subprocess.run([sys.executable, __file__, "--scenario", str(root), log_path, steps], cwd=ROOT,
                                 capture_output=True, text=True, timeout=3600)
            results[label] = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
            if out.returncode:
                print(f"  {label}: failed\n{out.stderr[-1500:]}")
        for i, (_, what, *_rest) in enumerate(STEPS[steps]):
            cells = []
            for label, _root in roots:
                got = results.get(label, [])
                if i < len(got):
                    r = got[i]
                    miss = ", ".join(f"{k}" + (f"×{n}" if n > 1 else "") for k, n in sorted(r["misses"].items()))
                    cells.append(f"{label}: {r['s'] * 1000:8.0f} ms  recomputed [{miss or 'nothing'}]"
                                 + (f" ERRORS {r['errors']}" if r["errors"] else ""))
            print(f"  {what}\n" + "\n".join(f"      {c}" for c in cells))


# ------------------------------------------------------------------ the same in a real browser
def _serve(app_root: Path, port: int) -> subprocess.Popen:
    import os
    import urllib.request

    env = {k: v for k, v in os.environ.items() if k != "PROCESSMINING_DATA_DIR"}
    env["PYTHONPATH"] = f"{app_root}:{ROOT}"
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--browser.gatherUsageStats", "false",
                             "--server.fileWatcherType", "none"], cwd=app_root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=1):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("streamlit did not start")


def _until_idle(page, t0: float) -> float:  # noqa: ANN001
    """Seconds from ``t0`` until the page's script run has ended (the running indicator is gone)."""
    page.wait_for_timeout(150)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=900_000)
    return time.perf_counter() - t0


def browser_walk(app_root: Path, log_path: Path) -> list[tuple[str, float]]:
    """Upload ``log_path``, then time what a user does on the map and the Bottlenecks page (one session)."""
    import re
    import shutil
    import socket

    from playwright.sync_api import sync_playwright

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = _serve(app_root, port)
    out: list[tuple[str, float]] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=["--headless", "--no-sandbox"])
            page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
            page.goto(f"http://localhost:{port}", wait_until="domcontentloaded")
            page.get_by_text("Ingest report").first.wait_for(timeout=120_000)
            _until_idle(page, time.perf_counter())
            page.get_by_role("tab", name="Upload a file").click()
            page.locator("[data-testid='stMain'] input[type='file']").first.set_input_files(str(log_path))
            page.get_by_role("button", name="Read the log").click()
            page.get_by_text(f"Ingest report — {log_path.name}").first.wait_for(timeout=600_000)
            _until_idle(page, time.perf_counter())
            t0 = time.perf_counter()
            page.get_by_role("link", name="Process map").first.click()
            page.locator("iframe[title='app_pages._diagram.pm_diagram']").first.wait_for(timeout=600_000)
            out.append(("open the Process map", _until_idle(page, t0)))
            t0 = time.perf_counter()
            page.get_by_text("Performance", exact=True).first.click()
            out.append(("display: frequency -> performance", _until_idle(page, t0)))
            # five steps of the Activities slider with the keyboard, as fast as a user presses them
            thumb = page.get_by_role("slider").first
            t0 = time.perf_counter()
            thumb.focus()
            for _ in range(5):
                thumb.press("ArrowLeft")
                page.wait_for_timeout(60)
            apply = page.get_by_role("button", name="Update the map")
            if apply.count():
                apply.click()
            out.append(("slider: five steps, then the map", _until_idle(page, t0)))
            t0 = time.perf_counter()
            page.get_by_role("link", name="Bottlenecks").first.click()
            page.get_by_role("tab", name="Stuck cases").wait_for(timeout=600_000)
            out.append(("open Bottlenecks", _until_idle(page, t0)))
            page.get_by_role("tab", name="Stuck cases").click()
            t0 = time.perf_counter()
            page.get_by_text(re.compile(r"^Show every (running|unfinished)")).first.click()
            out.append(("display: show every running case", _until_idle(page, t0)))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return out


def bench_browser(args: argparse.Namespace) -> None:
    data = next((r / "real" for r in (ROOT.parent / "shared" / "datasets", Path("/work/shared/datasets"))
                 if (r / "real").is_dir()), None)
    if data is None:
        print("no ../shared/datasets: nothing to measure")
        return
    base = baseline_root(args.baseline)
    for name in ("bpic2013_incidents.xes.gz", "bpic2019_p2p_1t_per_variant.xes.gz"):
        print(f"\nIn headless Chromium, {name}: seconds until the page is idle again")
        rows = {label: browser_walk(root, data / name) for label, root in
                ([("before", base)] if base is not None else []) + [("after", ROOT)]}
        for i, (what, _t) in enumerate(rows["after"]):
            print(f"  {what:<42}" + "".join(f"  {label}: {r[i][1]:7.2f} s" for label, r in rows.items() if i < len(r)))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--scenario":
        scenario(Path(sys.argv[2]), sys.argv[3], sys.argv[4])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--deviations", type=int, default=300_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--reruns", action="store_true", help="only the app reruns (AppTest), before and after")
    ap.add_argument("--baseline", default="20e2119", help="git ref of the app before this work")
    ap.add_argument("--browser", action="store_true", help="only the app in headless Chromium, before and after")
    args = ap.parse_args()
    if args.browser:
        bench_browser(args)
        return
    if args.reruns:
        bench_reruns(args)
        return
    bench_overlays(args)
    from processmining.demo import generate_sales_log

    big = EventLog.from_frame(generate_sales_log(args.events, seed=7), name="generated")
    bench_map(big, f"Generated CRM stage log ({ACTIVITY} = stage)", args)
    for root in (ROOT.parent / "shared" / "datasets", Path("/work/shared/datasets")):
        path = root / "real" / "bpic2013_incidents.xes.gz"
        if path.is_file():
            from processmining.xes import read_xes

            bench_map(read_xes(path), "bpic2013 incidents (real)", args)
            break


if __name__ == "__main__":
    main()
