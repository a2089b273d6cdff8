"""The app's own per-session state (app-only code, not part of the library): loaded logs, the current log, a result cache, errors.

Everything lives in ``st.session_state`` (one dictionary per browser
session), never in ``st.cache_data`` / ``st.cache_resource``, which are
shared by every user of the server: one analyst's log can never be served
to another session. The functions take an optional ``state`` mapping so that
they can be tested without a running Streamlit (pass a plain ``dict``).

>>> state = {}
>>> cached("double", ("fp", 21), lambda: 42, state=state)
42
>>> cached("double", ("fp", 21), lambda: 0, state=state)   # second call: cached
42
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from processmining.errors import (
    BpmnError,
    ConformanceError,
    IngestError,
    ProcessMiningError,
    RuleError,
    UnsafeInputError,
)
from processmining.model import EventLog, ProgressFn, Provenance
from processmining.model import log_provenance as model_log_provenance

T = TypeVar("T")
_log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = REPO_ROOT / "eventlogs"
MODEL_DIR = REPO_ROOT / "bpmn_models"

# session-state keys (one namespace, so page widgets' keys never collide)
LOGS = "pm:logs"
CURRENT = "pm:current"
CACHE = "pm:cache"
DEMO_TRIED = "pm:demo_tried"
#: per kind of result, how often :func:`cached` computed it (``miss:<kind>``) or reused it (``hit:<kind>``);
#: bench/bench_app.py reads it to show that a display option recomputes nothing
CACHE_STATS = "pm:cache_stats"

#: most results kept per session (an LRU): maps, filtered logs, alignments, ...
CACHE_ENTRIES = 48


@dataclass(frozen=True)
class DemoLog:
    """A bundled demo log and the preset that reads it."""

    file: str
    preset: str
    title: str

    @property
    def path(self) -> Path:
        return DEMO_DIR / self.file


#: in the order shown; the first one is loaded when the app starts
DEMO_LOGS: tuple[DemoLog, ...] = (
    DemoLog("salesforce_opportunity_field_history.csv", "salesforce-field-history",
            "Salesforce opportunities (stage history)"),
    DemoLog("hubspot_deals.csv", "hubspot-deals", "HubSpot deals (wide export)"),
    DemoLog("jira_changelog.json", "jira-changelog", "Jira support tickets (changelog)"),
)


@dataclass(frozen=True)
class LoadedLog:
    """One log loaded in this session, with its cache key."""

    key: str
    log: EventLog
    fingerprint: str
    origin: str  # "demo" | "upload"


def _session(state: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
    if state is not None:
        return state
    import streamlit as st

    return st.session_state


# ------------------------------------------------------------------ logs
def loaded_logs(*, state: MutableMapping[str, Any] | None = None) -> list[LoadedLog]:
    """The logs loaded in this session, in load order."""
    return list(_session(state).get(LOGS, {}).values())


def add_log(log: EventLog, *, origin: str = "upload",
            state: MutableMapping[str, Any] | None = None) -> LoadedLog:
    """Add ``log`` to the session and make it the current log.

    A log with the same content (fingerprint) as one already loaded is not
    added twice: the existing entry becomes current. Names are made unique
    (``orders.csv``, ``orders.csv (2)``) when different content shares a name.
    """
    s = _session(state)
    logs: dict[str, LoadedLog] = dict(s.get(LOGS, {}))
    fp = log.fingerprint()
    for entry in logs.values():
        if entry.fingerprint == fp:
            s[CURRENT] = entry.key
            return entry
    key, n = log.name, 2
    while key in logs:
        key, n = f"{log.name} ({n})", n + 1
    entry = LoadedLog(key=key, log=log, fingerprint=fp, origin=origin)
    logs[key] = entry
    s[LOGS] = logs
    s[CURRENT] = key
    return entry


def current(*, state: MutableMapping[str, Any] | None = None) -> LoadedLog | None:
    """The log the pages analyse, or ``None`` when nothing is loaded."""
    s = _session(state)
    logs = s.get(LOGS, {})
    key = s.get(CURRENT)
    if key in logs:
        return logs[key]
    return next(iter(logs.values()), None)


def select(key: str, *, state: MutableMapping[str, Any] | None = None) -> None:
    """Make the loaded log named ``key`` the current one."""
    s = _session(state)
    if key not in s.get(LOGS, {}):
        raise KeyError(f"no loaded log named {key!r}")
    s[CURRENT] = key


def remove(key: str, *, state: MutableMapping[str, Any] | None = None) -> None:
    """Forget a loaded log and every cached result computed from it."""
    s = _session(state)
    logs: dict[str, LoadedLog] = dict(s.get(LOGS, {}))
    entry = logs.pop(key, None)
    s[LOGS] = logs
    if entry is not None:
        cache: OrderedDict[str, Any] = s.get(CACHE, OrderedDict())
        for k in [k for k in cache if k.startswith(f"{entry.fingerprint}|")]:
            del cache[k]
    if s.get(CURRENT) == key:
        s[CURRENT] = next(iter(logs), None)


# ------------------------------------------------------------------ cache
def cache_key(kind: str, parts: Any) -> str:
    """A stable text key for ``kind`` and parameters (JSON-able or repr-able values)."""
    text = json.dumps(parts, sort_keys=True, default=repr, ensure_ascii=False)
    return hashlib.sha256(f"{kind}\x00{text}".encode()).hexdigest()[:24]


def cached(kind: str, parts: Any, compute: Callable[[], T], *, scope: str = "",
           state: MutableMapping[str, Any] | None = None, max_entries: int = CACHE_ENTRIES) -> T:
    """Return the result of ``compute()``, computed once per session for ``(kind, parts)``.

    ``parts`` must identify the input completely: put the log fingerprint
    and every parameter in it. ``scope`` (usually the log fingerprint) lets
    :func:`remove` drop the entries of a log. Exceptions are not cached.
    The cache is a per-session LRU of ``max_entries`` results.
    """
    s = _session(state)
    cache: OrderedDict[str, Any] | None = s.get(CACHE)
    if cache is None:
        cache = OrderedDict()
        s[CACHE] = cache
    key = f"{scope}|{cache_key(kind, parts)}"
    stats = s.setdefault(CACHE_STATS, {})
    if key in cache:
        cache.move_to_end(key)
        stats[f"hit:{kind}"] = stats.get(f"hit:{kind}", 0) + 1
        return cache[key]
    stats[f"miss:{kind}"] = stats.get(f"miss:{kind}", 0) + 1
    value = compute()
    cache[key] = value
    while len(cache) > max_entries:
        cache.popitem(last=False)
    return value


# ------------------------------------------------------------------ demo data
def available_demos() -> list[DemoLog]:
    """The bundled demo logs that exist in this checkout."""
    return [d for d in DEMO_LOGS if d.path.is_file()]


def load_demo(demo: DemoLog, *, state: MutableMapping[str, Any] | None = None) -> LoadedLog:
    """Read a bundled demo log with its preset and add it to the session."""
    from processmining.ingest import read_log

    log = read_log(demo.path.read_bytes(), name=demo.file, preset=demo.preset)
    return add_log(log, origin="demo", state=state)


def ensure_demo_loaded(*, state: MutableMapping[str, Any] | None = None) -> LoadedLog | None:
    """On a session's first run, load the first bundled demo log (once; errors are raised once)."""
    s = _session(state)
    if s.get(DEMO_TRIED) or s.get(LOGS):
        return None
    s[DEMO_TRIED] = True
    demos = available_demos()
    if not demos:
        return None
    return load_demo(demos[0], state=state)


def bundled_models() -> list[Path]:
    """The reference BPMN models shipped in ``bpmn_models/``."""
    return sorted(MODEL_DIR.glob("*.bpmn")) if MODEL_DIR.is_dir() else []


# ------------------------------------------------------------------ errors
_HINTS: tuple[tuple[type[ProcessMiningError], str], ...] = (
    (UnsafeInputError, "The file was refused for safety reasons. Export it again from the source "
                       "system, or remove the part named above."),
    (IngestError, "Check that the file is a CSV, XLSX, JSON, XES or Parquet event log, then choose "
                  "the matching preset or map the columns on the Load page."),
    (BpmnError, "Check the model: it must be BPMN 2.0 XML (for example exported from Camunda, "
                "Signavio or bpmn.io). The element named above is the problem."),
    (RuleError, "Fix the rule named above in the rule editor; the other rules are unaffected."),
    (ConformanceError, "Conformance could not be computed for this model. Check the model's import "
                       "report, or try another model."),
    (ProcessMiningError, "Check the input named above and try again."),
)


def error_text(exc: BaseException) -> tuple[str, str]:
    """``(what went wrong, what to do)`` for an exception, without a traceback.

    Our typed errors are shown as they are (they name file / line / element);
    anything else is a bug, so the user gets a generic message with the
    error type only and the details go to the server log.
    """
    if isinstance(exc, ProcessMiningError):
        hint = next(h for cls, h in _HINTS if isinstance(exc, cls))
        return str(exc), hint
    return (f"Something went wrong while preparing this view ({type(exc).__name__}).",
            "Your loaded logs are still there: change a setting or reload the page. "
            "If it happens again, please report it with the steps that led here.")


def show_error(exc: BaseException) -> None:
    """Render ``exc`` as a friendly in-page message (never a traceback)."""
    import streamlit as st

    what, todo = error_text(exc)
    if not isinstance(exc, ProcessMiningError):
        _log.error("unexpected error in the app", exc_info=exc)
    st.error(f"**{what}**\n\n{todo}", icon="⚠️")


@contextlib.contextmanager
def friendly_errors() -> Iterator[None]:
    """Run a page (or a section of one) so that errors become friendly messages.

    Streamlit's own control flow (``st.stop``, ``st.rerun``) derives from
    ``BaseException`` and passes through untouched.
    """
    try:
        yield
    except Exception as exc:  # every error becomes a message; st.stop/st.rerun are BaseException
        show_error(exc)


# ------------------------------------------------------------------ progress
@contextlib.contextmanager
def progress(label: str) -> Iterator[ProgressFn]:
    """A :data:`ProgressFn` drawn as a Streamlit progress bar, removed when done.

    Updates are throttled to ten per second so a fast loop does not flood
    the browser.
    """
    import streamlit as st

    bar = st.progress(0.0, text=label)
    last = [0.0]

    def update(done: int, total: int, text: str) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < 0.1:
            return
        last[0] = now
        frac = min(max(done / total, 0.0), 1.0) if total else 0.0
        caption = text or label
        bar.progress(frac, text=f"{caption} — {done:,} / {total:,}" if total else caption)

    try:
        yield update
    finally:
        bar.empty()


# ------------------------------------------------------------------ provenance
def log_provenance(entry: LoadedLog, *, extra_inputs: dict[str, tuple[str, str]] | None = None,
                   **parameters: Any) -> Provenance:
    """The :class:`Provenance` of an export made from ``entry`` with ``parameters``.

    The one builder is :func:`processmining.model.log_provenance`; the app adds
    how the log was read (preset, mapping, time zone) and, when the session
    pseudonymises downloads, replaces every case id and name in it.
    """
    report = entry.log.report
    params: dict[str, Any] = {}
    if report is not None:
        params.update(preset=report.preset, mapping=dict(report.mapping), timezone=report.timezone)
    params.update(parameters)
    prov = model_log_provenance(entry.log, params, inputs=extra_inputs)
    return pseudonymised_provenance(prov, pseudonymizer(entry))


def pseudonymised_provenance(prov: Provenance, p: Any) -> Provenance:
    """``prov`` with names replaced in its parameters and input names (unchanged when ``p`` is ``None``)."""
    if p is None:
        return prov
    import dataclasses

    return dataclasses.replace(prov, inputs={k: p.text(v) for k, v in prov.inputs.items()},
                               parameters={**p.mapping(dict(prov.parameters)), "pseudonymized": True})


# ------------------------------------------------------------------ pseudonymisation of downloads
PSEUDO_ON = "keep_pseudo_on"
PSEUDO_KEY = "pm:pseudo_key"
PSEUDO_AUTO_KEY = "pm:pseudo_auto_key"


def pseudo_key(*, state: MutableMapping[str, Any] | None = None) -> str | None:
    """The session's pseudonymisation key when the user turned pseudonymisation on, else ``None``."""
    s = _session(state)
    if not s.get(PSEUDO_ON):
        return None
    if not s.get(PSEUDO_KEY):  # no key given: a random one for this session (pseudonyms stable within it)
        import secrets

        s.setdefault(PSEUDO_AUTO_KEY, secrets.token_hex(16))
        return s[PSEUDO_AUTO_KEY]
    return s[PSEUDO_KEY]


def pseudonymizer(entry: LoadedLog | None, *, state: MutableMapping[str, Any] | None = None) -> Any:
    """The :class:`~processmining.pseudonyms.Pseudonymizer` of ``entry``'s log for every download of this session
    (built as the CLI's ``--pseudonymize`` does: every case id and resource of the log), or ``None`` when off."""
    key = pseudo_key(state=state)
    if key is None or entry is None:
        return None
    from processmining.pseudonyms import Pseudonymizer

    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cached("pseudonymizer", (entry.fingerprint, digest), lambda: Pseudonymizer.from_log(entry.log, key=key),
                  scope=entry.fingerprint, state=state)
