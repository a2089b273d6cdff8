"""Nested JSON changelogs → the transition shape.

Each flattener takes the parsed API document of one system and returns a
:class:`~processmining.ingest.tabular.Table` whose columns are the ones the
matching preset expects (one row per history item, plus a creation row where
the system has one). ``rows`` are the 1-based indexes of the top-level
records (issue, audit, object, flow item) each row came from. Items that are
not field changes at all (comments, notes, files) are counted in
``pre_filtered`` by type, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import IngestError
from ..safe_input import InputBytes
from .tabular import Table

TEXT = pd.StringDtype("pyarrow")


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        for key in ("name", "value", "displayName", "key", "id"):
            if key in v and not isinstance(v[key], (dict, list)):
                return _text(v[key])
        return None
    if isinstance(v, list):
        parts = [p for p in (_text(x) for x in v) if p]
        return ", ".join(parts) if parts else None
    s = str(v)
    return s if s.strip() else None


def _records(doc: Any, keys: tuple[str, ...], source: str, what: str) -> list[dict]:
    if isinstance(doc, list):
        out: list[dict] = []
        for d in doc:  # a list of pages or a list of records
            if isinstance(d, dict) and any(isinstance(d.get(k), list) for k in keys):
                out.extend(_records(d, keys, source, what))
            elif isinstance(d, dict):
                out.append(d)
        return out
    if isinstance(doc, dict):
        for k in keys:
            if isinstance(doc.get(k), list):
                return [r for r in doc[k] if isinstance(r, dict)]
        return [doc]
    raise IngestError(f"expected a JSON object or list of {what}", source=source)


def _table(rows: list[dict], record_no: list[int], data: InputBytes, columns: tuple[str, ...], *,
           warnings: list[str], pre_filtered: dict[str, int], what: str) -> Table:
    if not rows and not pre_filtered:
        raise IngestError(f"the JSON holds no {what}", source=data.name)
    frame = pd.DataFrame(rows, columns=list(dict.fromkeys([*columns, *(k for r in rows for k in r)])))
    frame = frame.astype(object).where(frame.notna(), None).astype(TEXT)
    return Table(frame, np.asarray(record_no, dtype=np.int64), data.name, data.sha256, "json", warnings=warnings,
                 pre_filtered=pre_filtered)


def _snapshot(fields: dict, prefix: str = "case:") -> dict[str, str | None]:
    """Scalar (or {name: ...}) record fields as case attributes."""
    out: dict[str, str | None] = {}
    for k, v in fields.items():
        if k in ("status", "created", "updated", "changelog", "comment", "description", "attachment", "worklog"):
            continue
        if isinstance(v, (str, int, float, bool)) or (isinstance(v, dict) and any(
                x in v for x in ("name", "value", "displayName"))):
            out[prefix + k] = _text(v)
    return out


# ------------------------------------------------------------------ Jira
def flatten_jira(doc: Any, data: InputBytes) -> Table:
    """Jira issues with ``expand=changelog`` → key, field, fromString, toString, created, author rows."""
    issues = _records(doc, ("issues", "values"), data.name, "Jira issues")
    rows: list[dict] = []
    nums: list[int] = []
    truncated = 0
    for i, issue in enumerate(issues, start=1):
        fields = issue.get("fields") or {}
        key = _text(issue.get("key")) or _text(issue.get("id"))
        snap = _snapshot(fields)
        status = fields.get("status")
        creator = fields.get("creator") or fields.get("reporter") or {}
        rows.append({"key": key, "field": "created", "fromString": None, "toString": None,
                     "created": _text(fields.get("created")), "author": _text(creator.get("displayName"))
                     or _text(creator.get("accountId")), "current": _text(status), "history_id": None, **snap})
        nums.append(i)
        log = issue.get("changelog") or {}
        histories = log.get("histories") or []
        total = log.get("total")
        if isinstance(total, int) and total > len(histories):
            truncated += 1
        for h in histories:
            author = h.get("author") or {}
            who = _text(author.get("displayName")) or _text(author.get("accountId")) or _text(author.get("name"))
            for item in h.get("items") or []:
                rows.append({"key": key, "field": _text(item.get("field")), "fromString": _text(item.get("fromString")),
                             "toString": _text(item.get("toString")), "created": _text(h.get("created")),
                             "author": who, "current": None, "history_id": _text(h.get("id")), **snap})
                nums.append(i)
    warnings = []
    if truncated:
        warnings.append(f"{truncated:,} issues have truncated changelogs (expand=changelog returns about the last 100 "
                        "histories): fetch /rest/api/3/issue/{key}/changelog for the full history")
    return _table(rows, nums, data, ("key", "field", "fromString", "toString", "created", "author"),
                  warnings=warnings, pre_filtered={}, what="Jira issues")


# ------------------------------------------------------------------ Zendesk
def flatten_zendesk(doc: Any, data: InputBytes) -> Table:
    """Zendesk ticket audits → ticket_id, audit_created_at, author_id, field_name, previous_value, value rows."""
    audits = _records(doc, ("audits",), data.name, "Zendesk audits")
    rows: list[dict] = []
    nums: list[int] = []
    skipped: dict[str, int] = {}
    for i, audit in enumerate(audits, start=1):
        via = audit.get("via") or {}
        for ev in audit.get("events") or []:
            kind = _text(ev.get("type")) or "?"
            if kind not in ("Create", "Change") or not ev.get("field_name"):
                label = f"Zendesk audit event of type {kind!r} (not a field change)"
                skipped[label] = skipped.get(label, 0) + 1
                continue
            rows.append({"ticket_id": _text(audit.get("ticket_id")), "audit_created_at": _text(audit.get("created_at")),
                         "author_id": _text(audit.get("author_id")), "type": kind,
                         "field_name": _text(ev.get("field_name")), "previous_value": _text(ev.get("previous_value")),
                         "value": _text(ev.get("value")), "via": _text(via.get("channel")),
                         "audit_id": _text(audit.get("id"))})
            nums.append(i)
    return _table(rows, nums, data, ("ticket_id", "audit_created_at", "author_id", "field_name", "previous_value",
                                     "value"), warnings=[], pre_filtered=skipped, what="Zendesk audit events")


# ------------------------------------------------------------------ HubSpot
def flatten_hubspot(doc: Any, data: InputBytes) -> Table:
    """HubSpot objects with ``propertiesWithHistory`` → id, property, value, timestamp, source rows."""
    objects = _records(doc, ("results",), data.name, "HubSpot objects")
    rows: list[dict] = []
    nums: list[int] = []
    for i, obj in enumerate(objects, start=1):
        oid = _text(obj.get("id")) or _text(obj.get("objectId"))
        snap = _snapshot(obj.get("properties") or {})
        for prop, entries in (obj.get("propertiesWithHistory") or {}).items():
            for e in entries or []:
                rows.append({"id": oid, "property": prop, "value": _text(e.get("value")),
                             "timestamp": _text(e.get("timestamp")), "sourceType": _text(e.get("sourceType")),
                             "sourceId": _text(e.get("sourceId")),
                             "updatedByUserId": _text(e.get("updatedByUserId")) or _text(e.get("sourceId")), **snap})
                nums.append(i)
    return _table(rows, nums, data, ("id", "property", "value", "timestamp", "sourceType", "sourceId",
                                     "updatedByUserId"), warnings=[], pre_filtered={}, what="propertiesWithHistory entries")


# ------------------------------------------------------------------ Pipedrive
def flatten_pipedrive(doc: Any, data: InputBytes) -> Table:
    """Pipedrive deal flow items → item_id, field_key, old/new value (+ formatted), user_id, log_time rows."""
    items = _records(doc, ("data",), data.name, "Pipedrive flow items")
    rows: list[dict] = []
    nums: list[int] = []
    skipped: dict[str, int] = {}
    for i, item in enumerate(items, start=1):
        obj = item.get("object")
        d = item.get("data") if isinstance(item.get("data"), dict) else item
        if obj is not None and obj != "dealChange":
            label = f"Pipedrive flow item of type {obj!r} (not a deal change)"
            skipped[label] = skipped.get(label, 0) + 1
            continue
        extra = d.get("additional_data") or {}
        rows.append({"item_id": _text(d.get("item_id")), "field_key": _text(d.get("field_key")),
                     "old_value": _text(d.get("old_value")), "new_value": _text(d.get("new_value")),
                     "old_value_formatted": _text(extra.get("old_value_formatted")),
                     "new_value_formatted": _text(extra.get("new_value_formatted")),
                     "user_id": _text(d.get("user_id")), "log_time": _text(d.get("log_time")),
                     "change_id": _text(d.get("id"))})
        nums.append(i)
    return _table(rows, nums, data, ("item_id", "field_key", "old_value", "new_value", "old_value_formatted",
                                     "new_value_formatted", "user_id", "log_time"),
                  warnings=[], pre_filtered=skipped, what="Pipedrive deal changes")


FLATTENERS: dict[str, Callable[[Any, InputBytes], Table]] = {
    "jira": flatten_jira, "zendesk": flatten_zendesk, "hubspot": flatten_hubspot, "pipedrive": flatten_pipedrive,
}
_SYSTEM = {"jira": "Jira", "zendesk": "Zendesk", "hubspot": "HubSpot", "pipedrive": "Pipedrive"}


def flatten_nested(kind: str, doc: Any, data: InputBytes) -> Table:
    """The history rows of a changelog document, or :class:`IngestError` when it only looks like one.

    A document can have the keys of a known export (``issues`` / ``changelog``,
    ``propertiesWithHistory`` ...) and still hold something else there; that is
    a clear message naming the file and the layout, never an internal error.
    """
    try:
        return FLATTENERS[kind](doc, data)
    except IngestError:
        raise
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        raise IngestError(f"the JSON looks like a {_SYSTEM[kind]} changelog export (preset "
                          f"{NESTED_PRESET[kind]!r}) but its records do not have that structure ({type(exc).__name__}: "
                          f"{str(exc)[:120]}); export it again or convert it to a flat table", source=data.name) from None


#: the preset that reads each flattener's output
NESTED_PRESET = {"jira": "jira-changelog", "zendesk": "zendesk-audits", "hubspot": "hubspot-history",
                 "pipedrive": "pipedrive-flow"}


def detect_nested(doc: Any) -> str | None:
    """Which system's changelog document this is, from its structure (None for flat JSON)."""
    sample = doc
    if isinstance(doc, dict):
        for k in ("issues", "audits", "results", "data", "values"):
            if isinstance(doc.get(k), list) and doc[k]:
                sample = doc[k]
                break
    first = sample[0] if isinstance(sample, list) and sample else sample
    if not isinstance(first, dict):
        return None
    if isinstance(sample, list) and any(isinstance(x, dict) and x.get("object") == "dealChange" for x in sample[:200]):
        return "pipedrive"
    if "changelog" in first or ("key" in first and "fields" in first):
        return "jira"
    if "events" in first and ("ticket_id" in first or "audits" in first):
        return "zendesk"
    if "audits" in first:
        return "zendesk"
    if "propertiesWithHistory" in first:
        return "hubspot"
    if first.get("object") == "dealChange" or (isinstance(first.get("data"), dict) and "field_key" in first["data"]):
        return "pipedrive"
    return None
