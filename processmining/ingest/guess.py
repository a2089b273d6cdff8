"""Guessing the column mapping of a long table from column names and values."""

from __future__ import annotations

import re

import pandas as pd

from ..errors import IngestError, ProcessMiningError
from ..model import START_TIMESTAMP, TIMESTAMP, ColumnMapping
from .tabular import text_of
from .timestamps import parse_timestamps

_NAME_RULES: dict[str, tuple[str, ...]] = {
    "case": (r"case:concept:name", r"case[ _]?(id|key|number|no)?", r"(ticket|issue|deal|opportunity|incident|order|"
             r"lead|record|request|application|process)[ _]?(id|key|number|no)", r"trace[ _]?id", r"documentkey",
             r"(opportunity|ticket|issue|deal|incident)", r"key", r"id"),
    "activity": (r"concept:name", r"activity([ _]?name)?", r"stage([ _]?name)?", r"status", r"state", r"event([ _]?"
                 r"name)?", r"step", r"task", r"action", r"dealstage", r"operation"),
    "timestamp": (r"time:timestamp", r"timestamp", r"(event|change|changed|complete|completion|end)[ _]?(time|date|"
                  r"at|on)", r"(created|modified|updated)[ _]?(date|at|on|time)?", r"date[ _]?time", r"time", r"date",
                  r"log_time", r"sys_created_on"),
    "resource": (r"org:resource", r"resource", r"(user|agent|owner|assignee|author|performer|actor|employee)"
                 r"([ _]?(id|name|key))?", r"(created|changed|modified|updated)[ _]?by([ _]?id)?", r"by", r"who"),
    "end_timestamp": (r"(end|complete|completion|finish|finished)[ _]?(time|timestamp|date|at)?",),
}


def _by_name(columns: list[str], role: str, taken: set[str]) -> str | None:
    for rule in _NAME_RULES[role]:
        rx = re.compile(rf"^(?:{rule})$", re.IGNORECASE)
        for c in columns:
            if c not in taken and rx.match(c.strip()):
                return c
    return None


def _parses_as_time(values: pd.Series, share: float = 0.9) -> bool:
    sample = text_of(values.dropna().head(200)).astype("string")
    if sample.empty:
        return False
    try:
        parsed = parse_timestamps(sample.reset_index(drop=True), column="?", dayfirst=True)
    except IngestError:
        return True  # ambiguous day/month: still dates
    # bare small integers are not times (epoch needs 9+ digits, Excel 5 digits)
    return parsed.values.notna().mean() >= share and not sample.str.fullmatch(r"\d{1,4}").all()


def guess_mapping(frame: pd.DataFrame) -> ColumnMapping:
    """Guess case, activity, timestamp, resource (and end timestamp) columns of a long table.

    Names come first (``case_id``, ``Status``, ``CreatedDate`` ...); the
    timestamp falls back to the first column whose values parse as times, and
    is ``None`` when no column holds times (an order-only log). Raises
    :class:`IngestError` listing the columns when case or activity cannot be told.

    >>> guess_mapping(pd.DataFrame({"Ticket ID": ["1"], "Status": ["Open"], "Changed At": ["2024-03-01"]}))
    ColumnMapping(case='Ticket ID', activity='Status', timestamp='Changed At', resource=None, end_timestamp=None)
    """
    columns = [str(c) for c in frame.columns]
    taken: set[str] = set()
    found: dict[str, str | None] = {}
    if TIMESTAMP in columns and START_TIMESTAMP in columns and _parses_as_time(frame[START_TIMESTAMP], 0.5):
        # the product's own layout (``convert`` / ``write_log``): an activity instance from start to complete
        found = {"timestamp": START_TIMESTAMP, "end_timestamp": TIMESTAMP}
        taken = {START_TIMESTAMP, TIMESTAMP}
    for role in ("case", "activity", "end_timestamp", "timestamp", "resource"):
        if role in found:
            continue
        col = _by_name(columns, role, taken)
        if role in ("timestamp", "end_timestamp") and col is not None and not _parses_as_time(frame[col], 0.5):
            col = None
        if role == "timestamp" and col is None:
            col = next((c for c in columns if c not in taken and _parses_as_time(frame[c])), None)
        found[role] = col
        if col:
            taken.add(col)
    if found["end_timestamp"] and not found["timestamp"]:
        found["timestamp"], found["end_timestamp"] = found["end_timestamp"], None
    missing = [r for r in ("case", "activity", "timestamp") if not found[r]]
    if missing and missing != ["timestamp"]:  # without a time column the file order is the event order
        raise IngestError(f"cannot tell which column holds the {' / '.join(missing)}; columns are: "
                          f"{', '.join(map(repr, columns))}. Pass --case, --activity and --timestamp (or --preset)")
    return ColumnMapping(case=found["case"], activity=found["activity"], timestamp=found["timestamp"],
                         resource=found["resource"], end_timestamp=found["end_timestamp"])


def column_types(frame: pd.DataFrame) -> pd.DataFrame:
    """What each column of the preview looks like: date/time, number or text, and how many values."""
    out = []
    for col in frame.columns:
        values = text_of(frame[col].dropna().head(200)).reset_index(drop=True)
        kind = "empty"
        if len(values):
            try:
                parsed = parse_timestamps(values, column=str(col), dayfirst=True)
                share = float(parsed.values.notna().mean())
                if values.str.fullmatch(r"\d{1,4}").all():
                    share = 0.0  # small integers are not times
            except ProcessMiningError:
                share = 1.0  # ambiguous day/month order: still dates
            if share >= 0.9:
                kind = "date / time"
            elif share >= 0.5:
                kind = f"date / time ({1 - share:.0%} not readable)"
            elif pd.to_numeric(values, errors="coerce").notna().mean() >= 0.9:
                kind = "number"
            else:
                kind = "text"
        out.append({"column": str(col), "detected type": kind, "distinct values": int(frame[col].nunique()),
                    "blank": int(frame[col].isna().sum()), "example": values.iloc[0] if len(values) else ""})
    return pd.DataFrame(out)
