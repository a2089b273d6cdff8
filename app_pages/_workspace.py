"""The workspace: what a user set up in a session, as one JSON file that survives a reload.

Saved views (per log), accepted deviation patterns and label mappings (per
model), rule and role edits, with the provenance of the inputs they were made
on (log and model hashes). Download it, upload it into a fresh session, and
everything comes back. Logs are never in the file (only their names and
hashes): load the same log again and its views apply.

When the app runs with ``PROCESSMINING_DATA_DIR`` set to a writable folder,
each browser session's workspace is also saved there automatically, under a
random token kept in the page address (``?ws=...``): a reload of that address
restores it; another user (another token) never sees it.

>>> state = {"pm:views": {"ab12": [{"name": "All", "state": {"keep_map_act": 80}}]}}
>>> restore(json.loads(dump(state)), state={})["views"]
1
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import secrets
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from app_pages import _state as app_state
from processmining.errors import IngestError
from processmining.model import Provenance

FORMAT = "processmining-workspace"
VERSION = 1
VIEWS = "pm:views"
_ACCEPTED = "pm:cf_accepted:"
_MAPPING = "pm:cf_mapping:"
_RULES = "keep_cf_rules_"
_ROLES = "keep_cf_roles_"
_ENDS = "pm:ends"  # app_pages._status.ENDS
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
DATA_DIR_ENV = "PROCESSMINING_DATA_DIR"
#: the largest workspace file accepted on upload
MAX_BYTES = 5 * 1024 * 1024


def _session(state: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
    if state is not None:
        return state
    import streamlit as st

    return st.session_state


# ------------------------------------------------------------------ values <-> JSON
def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, dt.date):
        return {"__date__": value.isoformat()}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__date__"}:
            return dt.date.fromisoformat(value["__date__"])
        if set(value) == {"__datetime__"}:
            return dt.datetime.fromisoformat(value["__datetime__"])
        if set(value) == {"__tuple__"}:
            return tuple(_decode(v) for v in value["__tuple__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


# ------------------------------------------------------------------ collect / restore
def collect(*, state: MutableMapping[str, Any] | None = None) -> dict[str, Any]:
    """The workspace of a session as a JSON-ready dict (with provenance of the loaded logs)."""
    s = _session(state)
    logs = app_state.loaded_logs(state=s)
    inputs = {f"log {e.key}": ((e.log.report.source if e.log.report else e.key),
                               (e.log.report.sha256 if e.log.report else e.fingerprint)) for e in logs}
    body = {
        "views": {fp: list(v) for fp, v in s.get(VIEWS, {}).items() if v},
        "accepted": {k[len(_ACCEPTED):]: list(v) for k, v in s.items() if str(k).startswith(_ACCEPTED) and v},
        "label_mappings": {k[len(_MAPPING):]: dict(v) for k, v in s.items() if str(k).startswith(_MAPPING) and v},
        "rules": {k: v for k, v in s.items() if str(k).startswith(_RULES)},
        "roles": {k: v for k, v in s.items() if str(k).startswith(_ROLES)},
        "logs": [{"name": e.key, "fingerprint": e.fingerprint, "origin": e.origin} for e in logs],
        # edited end activities per log (they decide finished / running / stuck everywhere)
        "end_activities": {fp: list(v["ends"]) for fp, v in s.get(_ENDS, {}).items() if v.get("source") == "edited"},
    }
    prov = Provenance.build(inputs=inputs, parameters={"workspace": "app session"})
    return {"format": FORMAT, "version": VERSION, **_encode(body), "provenance": prov.to_dict()}


def dump(state: MutableMapping[str, Any] | None = None, *, pseudonymise: bool = False) -> str:
    """The workspace file's text. ``pseudonymise``: with the session's key, every case id and resource name of
    the loaded logs is replaced everywhere in it (saved views naming a person then no longer restore that filter)."""
    doc = collect(state=state)
    if pseudonymise:
        for entry in app_state.loaded_logs(state=state):
            p = app_state.pseudonymizer(entry, state=state)
            if p is not None:
                doc = p.mapping(doc)
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True)


def parse(data: bytes, *, name: str = "workspace.json") -> dict[str, Any]:
    """Read a workspace file; a file that is not one is refused with a message naming it."""
    if len(data) > MAX_BYTES:
        raise IngestError(f"the workspace file is over {MAX_BYTES // 1024**2} MB", source=name)
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IngestError(f"not a workspace file (JSON expected): {exc}", source=name) from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise IngestError(f"not a workspace file: no \"format\": \"{FORMAT}\"", source=name)
    if doc.get("version") != VERSION:
        raise IngestError(f"workspace version {doc.get('version')!r}; this app reads version {VERSION}", source=name)
    return doc


def restore(doc: dict[str, Any], *, state: MutableMapping[str, Any] | None = None) -> dict[str, int]:
    """Put a parsed workspace into the session; returns how many of each part came back."""
    s = _session(state)
    views = {fp: _decode(v) for fp, v in (doc.get("views") or {}).items()}
    s[VIEWS] = {**s.get(VIEWS, {}), **views}
    for sha, pats in (doc.get("accepted") or {}).items():
        s[f"{_ACCEPTED}{sha}"] = _decode(pats)
    for sha, mapping in (doc.get("label_mappings") or {}).items():
        s[f"{_MAPPING}{sha}"] = dict(mapping)
    for part in ("rules", "roles"):
        prefix = _RULES if part == "rules" else _ROLES
        for k, text in (doc.get(part) or {}).items():
            if str(k).startswith(prefix) and isinstance(text, str):
                s[k] = text
    ends = {fp: {"ends": [str(a) for a in v], "source": "edited"}
            for fp, v in (doc.get("end_activities") or {}).items() if isinstance(v, list)}
    s[_ENDS] = {**s.get(_ENDS, {}), **ends}
    s[VIEW_POS] = 0
    return {"views": sum(len(v) for v in views.values()), "accepted": sum(len(v) for v in
                                                                         (doc.get("accepted") or {}).values()),
            "label_mappings": len(doc.get("label_mappings") or {}), "rules": len(doc.get("rules") or {}),
            "end_activities": len(ends)}


VIEW_POS = "pm:view_pos"


# ------------------------------------------------------------------ automatic saving
def data_dir() -> Path | None:
    """The writable workspace folder when ``PROCESSMINING_DATA_DIR`` names one, else ``None``."""
    root = os.environ.get(DATA_DIR_ENV)
    if not root:
        return None
    path = Path(root) / "workspaces"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


def autosave_path(token: str) -> Path | None:
    folder = data_dir()
    if folder is None or not _TOKEN.match(token or ""):
        return None
    return folder / f"{token}.json"


def new_token() -> str:
    return secrets.token_urlsafe(18)


def autosave(token: str, *, state: MutableMapping[str, Any] | None = None) -> bool:
    """Write the session's workspace under ``token`` if it changed (atomic); True when written."""
    s = _session(state)
    path = autosave_path(token)
    if path is None:
        return False
    body = collect(state=s)
    digest = hashlib.sha256(json.dumps({k: v for k, v in body.items() if k != "provenance"},
                                       sort_keys=True).encode()).hexdigest()
    if s.get("pm:ws_saved") == digest:
        return False
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, indent=2, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
    s["pm:ws_saved"] = digest
    return True


def autoload(token: str, *, state: MutableMapping[str, Any] | None = None) -> dict[str, int] | None:
    """Restore the workspace saved under ``token`` (once per session)."""
    s = _session(state)
    path = autosave_path(token)
    if path is None or not path.is_file() or s.get("pm:ws_loaded") == token:
        return None
    s["pm:ws_loaded"] = token
    return restore(parse(path.read_bytes(), name=path.name), state=s)
