"""Core types: EventLog, IngestReport, Deviation, Provenance, and the column names.

An :class:`EventLog` is a pandas table with the canonical XES / pm4py column
names below, sorted by case, then timestamp, then input order. It never
mutates its input and is validated on construction. Conversion to pm4py
objects happens in :meth:`EventLog.to_pm4py` and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .codes import LogCodes, encode, log_codes, text_codes, timestamp_ns
from .errors import AnalysisError
from .version import tool_version  # the one implementation, re-exported for its callers

# ------------------------------------------------------------ column names
CASE = "case:concept:name"
ACTIVITY = "concept:name"
TIMESTAMP = "time:timestamp"
RESOURCE = "org:resource"
#: Start of the event when the source has start and end times (pm4py's name).
START_TIMESTAMP = "start_timestamp"
#: Stable input order: the tie-break for equal timestamps (pm4py's name).
ORDER = "@@index"
#: Line (CSV) / row (XLSX) / record index (JSON, XES) the event came from.
SOURCE_ROW = "@@source_row"
LIFECYCLE = "lifecycle:transition"
#: seconds an activity instance was suspended (see :mod:`processmining.lifecycle`)
SUSPENDED = "lifecycle:suspended_s"

REQUIRED_COLUMNS = (CASE, ACTIVITY, TIMESTAMP, ORDER)
#: names an input column never takes in an EventLog: they hold the mapped columns and the event order
RESERVED_COLUMNS = frozenset({CASE, ACTIVITY, TIMESTAMP, RESOURCE, START_TIMESTAMP, ORDER, SOURCE_ROW})


def input_column_name(name: str, taken: set[str] | frozenset[str] | Mapping[str, Any]) -> str:
    """The name an input column keeps in the log: unchanged, or ``"<name> (input)"`` when it would take the
    place of a canonical / internal column (the user's mapping always wins), numbered if that is taken too.

    An input name starting with ``@@`` (the mark of internal columns) loses that mark.

    >>> input_column_name("concept:name", {"concept:name"}), input_column_name("@@index", ()), input_column_name("Status", ())
    ('concept:name (input)', 'index (input)', 'Status')
    """
    if name not in RESERVED_COLUMNS and name not in taken and not name.startswith("@@"):
        return name
    base = name.lstrip("@") or "column"  # "@@..." marks internal columns, which exports leave out
    candidate, k = f"{base} (input)", 2
    while candidate in taken or candidate in RESERVED_COLUMNS:
        candidate, k = f"{base} (input {k})", k + 1
    return candidate

#: ``progress(done, total, label)``: long operations call it; the CLI and the app draw it.
ProgressFn = Callable[[int, int, str], None]


def no_progress(done: int, total: int, label: str) -> None:  # noqa: ARG001
    """The default progress callback: does nothing."""


#: the one line every report shows for a log without event times
NO_TIMESTAMPS_NOTE = ("  no timestamps: events are ordered as in the file; time-based analyses "
                      "(durations, waiting times, SLA) are unavailable")


# ------------------------------------------------------------ ingest report
@dataclass(frozen=True)
class ColumnMapping:
    """Which input columns hold the case id, activity, timestamps and resource."""

    case: str | None = None
    activity: str | None = None
    timestamp: str | None = None
    resource: str | None = None
    end_timestamp: str | None = None

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class QuarantinedRow:
    """One input row that did not become an event, and why.

    ``row`` is the 1-based line number for text files (header = line 1), the
    1-based spreadsheet row for XLSX, the 1-based record index for JSON/XES.
    """

    row: int
    reason: str
    column: str | None = None
    value: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class TimestampOffsets:
    """How the values of one timestamp column were read, counted by the timestamp parser.

    ``with_offset`` values carried a UTC offset (``Z``, ``+01:00``) and were
    converted with it; ``naive`` values had none (naive ISO, date-only,
    Excel serial, DD/MM text) and were read in the report's ``timezone``.
    """

    column: str
    with_offset: int = 0
    naive: int = 0

    @property
    def mixed(self) -> bool:
        """Both kinds in one column: the naive values may be hours off the others."""
        return bool(self.with_offset and self.naive)


@dataclass
class IngestReport:
    """What happened to every input row.

    The accounting identity always holds (checked by :meth:`check_balance`)::

        rows_read == events_from_rows + len(quarantined) + collapsed_duplicates + sum(filtered.values())

    For row-shaped inputs ``events_from_rows == events``. For the wide shape
    a "row" is a non-empty stage cell, so the identity is per cell. For XES a
    "row" is an event element.
    """

    source: str
    sha256: str
    shape: str = "long"
    preset: str | None = None
    mapping: dict[str, Any] = field(default_factory=dict)
    timezone: str = "UTC"
    rows_read: int = 0
    events: int = 0
    cases: int = 0
    quarantined: list[QuarantinedRow] = field(default_factory=list)
    collapsed_duplicates: int = 0
    duplicate_events: int = 0
    #: rows deliberately not used, by reason (e.g. "Field is 'Amount', not a stage field": 812)
    filtered: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: False when the source has no event times at all (no ``time:timestamp``, or a timestamp column
    #: that is entirely empty): events keep NaT timestamps and their file order (``@@index``) is the order
    has_timestamps: bool = True
    #: how lifecycle transitions became activity instances (:mod:`processmining.lifecycle`):
    #: instances, paired, complete_only, start_only, and events per other transition
    lifecycle: dict[str, int] = field(default_factory=dict)
    #: per timestamp column, values read with and without a UTC offset (the counts behind the warnings)
    timestamp_offsets: list[TimestampOffsets] = field(default_factory=list)

    def check_balance(self) -> None:
        accounted = self.events + len(self.quarantined) + self.collapsed_duplicates + sum(self.filtered.values())
        if accounted != self.rows_read:
            raise AssertionError(
                f"ingest accounting broken for {self.source}: rows_read={self.rows_read} but "
                f"events={self.events} + quarantined={len(self.quarantined)} + "
                f"collapsed={self.collapsed_duplicates} + filtered={sum(self.filtered.values())} = {accounted}"
            )

    def require_events(self) -> None:
        """Raise :class:`~processmining.errors.IngestError` when the load ended with zero events.

        An empty result is never a success: the message names the file and
        says where the rows went (quarantined, filtered, or none at all).
        """
        if self.events:
            return
        from .errors import IngestError

        if not self.rows_read:
            why = "it holds no event rows"
        else:
            parts = []
            if self.quarantined:
                reasons: dict[str, int] = {}
                for q in self.quarantined:
                    key = q.reason.split(":")[0]
                    reasons[key] = reasons.get(key, 0) + 1
                top = sorted(reasons.items(), key=lambda kv: -kv[1])[:3]
                parts.append(f"{len(self.quarantined):,} quarantined (" + ", ".join(f"{n:,} × {r}" for r, n in top)
                             + (", ..." if len(reasons) > 3 else "") + ")")
            if self.collapsed_duplicates:
                parts.append(f"{self.collapsed_duplicates:,} collapsed as repeated stages")
            for reason, n in self.filtered.items():
                parts.append(f"{n:,} not used ({reason})")
            why = f"all {self.rows_read:,} rows were left out: " + "; ".join(parts)
        raise IngestError(f"no events could be loaded: {why}", source=self.source)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "sha256": self.sha256,
            "shape": self.shape,
            "preset": self.preset,
            "mapping": self.mapping,
            "timezone": self.timezone,
            "rows_read": self.rows_read,
            "events": self.events,
            "cases": self.cases,
            "quarantined": [q.to_dict() for q in self.quarantined],
            "collapsed_duplicates": self.collapsed_duplicates,
            "duplicate_events": self.duplicate_events,
            "filtered": dict(self.filtered),
            "warnings": list(self.warnings),
            "has_timestamps": self.has_timestamps,
            **({"lifecycle": dict(self.lifecycle)} if self.lifecycle else {}),
            **({"timestamp_offsets": [asdict(t) for t in self.timestamp_offsets]} if self.timestamp_offsets else {}),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def summary(self) -> str:
        """A few human lines, as the CLI prints them."""
        lines = [
            f"{self.source}: {self.events:,} events in {self.cases:,} cases "
            f"from {self.rows_read:,} rows ({self.shape}{', preset ' + self.preset if self.preset else ''})",
        ]
        if self.mapping:
            lines.append("  mapping: " + ", ".join(f"{k}={v!r}" for k, v in self.mapping.items()))
        if self.has_timestamps:
            lines.append(f"  time zone for timestamps without an offset: {self.timezone}")
        else:
            lines.append(NO_TIMESTAMPS_NOTE)
        if self.quarantined:
            lines.append(f"  quarantined: {len(self.quarantined):,} rows (see --report for each row and reason)")
            reasons: dict[str, int] = {}
            for q in self.quarantined:
                key = q.reason.split(":")[0]
                reasons[key] = reasons.get(key, 0) + 1
            for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1])[:5]:
                lines.append(f"    {n:,} × {reason}")
        if self.collapsed_duplicates:
            lines.append(f"  collapsed consecutive repeated stages: {self.collapsed_duplicates:,}")
        if self.duplicate_events:
            lines.append(f"  duplicate events kept: {self.duplicate_events:,}")
        for reason, n in self.filtered.items():
            lines.append(f"  not used: {n:,} rows ({reason})")
        for w in self.warnings:
            lines.append(f"  warning: {w}")
        return "\n".join(lines)


# ------------------------------------------------------------ event log
@dataclass(frozen=True)
class EventLog:
    """An event log with canonical columns; see the module docstring.

    Build one with :meth:`from_frame` (validates, sorts, copies); the readers
    in :mod:`processmining.ingest` do that for you.

    >>> log = EventLog.from_frame(pd.DataFrame({
    ...     CASE: ["1", "1"], ACTIVITY: ["Open", "Close"],
    ...     TIMESTAMP: pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True)}))
    >>> log.n_cases, log.n_events
    (1, 2)
    """

    df: pd.DataFrame
    report: IngestReport | None = None
    name: str = "log"
    #: transformations applied after ingest (quality fixes, filters), in order
    history: tuple[str, ...] = ()

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        report: IngestReport | None = None,
        name: str | None = None,
        history: Iterable[str] = (),
    ) -> EventLog:
        df = frame.copy()
        missing = [c for c in (CASE, ACTIVITY) if c not in df.columns]
        if missing:
            raise AnalysisError(f"EventLog needs columns {missing}; got {list(df.columns)}")
        if ORDER not in df.columns:
            df[ORDER] = range(len(df))
        if TIMESTAMP not in df.columns:  # an order-only log: file order is the event order
            df[TIMESTAMP] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
        if not isinstance(df[TIMESTAMP].dtype, pd.DatetimeTZDtype):
            if len(df) and df[TIMESTAMP].isna().all():  # an order-only log: no event has a time
                df[TIMESTAMP] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
            else:
                raise AnalysisError(f"{TIMESTAMP} must be timezone-aware, got {df[TIMESTAMP].dtype}")
        df[TIMESTAMP] = df[TIMESTAMP].dt.tz_convert("UTC")
        n_nat = int(df[TIMESTAMP].isna().sum())
        if n_nat and n_nat != len(df):
            raise AnalysisError(f"{TIMESTAMP} has {n_nat} empty values (a log has a time for every event, or for none)")
        if START_TIMESTAMP in df.columns:
            df[START_TIMESTAMP] = df[START_TIMESTAMP].dt.tz_convert("UTC")
        for col in (CASE, ACTIVITY):
            if df[col].isna().any():
                raise AnalysisError(f"{col} has {int(df[col].isna().sum())} empty values")
            df[col] = df[col].astype("string")
        if RESOURCE in df.columns:
            df[RESOURCE] = df[RESOURCE].astype("string")
        df[ORDER] = df[ORDER].astype("int64")
        # Sort by (case text, time, input order) on integer keys: sorting text columns
        # directly costs seconds at a million rows.
        case_codes = text_codes(df[CASE], sort=True)
        # the column's own unit (ns or us): converting us to ns would wrap dates outside 1677-2262
        ts = np.asarray(df[TIMESTAMP].dt.tz_localize(None).to_numpy()).view("i8")
        perm = np.lexsort((df[ORDER].to_numpy(), ts, case_codes))
        if len(perm) and not np.all(perm[1:] > perm[:-1]):
            df = df.take(perm)
        df = df.reset_index(drop=True)
        return cls(df=df, report=report, name=name or (report.source if report else "log"), history=tuple(history))

    # -- sizes
    @property
    def n_events(self) -> int:
        return len(self.df)

    @property
    def n_cases(self) -> int:
        return int(self.df[CASE].nunique())

    @property
    def activities(self) -> list[str]:
        return sorted(self.df[ACTIVITY].unique().tolist())

    @cached_property
    def has_timestamps(self) -> bool:
        """False for an order-only log (every ``time:timestamp`` is NaT): ``@@index`` is then the event order.

        Analyses that need times test this and say plainly that the log has no times.
        """
        col = self.df[TIMESTAMP]
        return len(col) == 0 or bool(col.notna().any())

    @property
    def has_start_times(self) -> bool:
        return START_TIMESTAMP in self.df.columns and bool(self.df[START_TIMESTAMP].notna().any())

    # -- the one encoder: integer codes computed once per log object, never in a module global
    @cached_property
    def codes(self) -> LogCodes:
        """Integer codes of cases and activities, case bounds and times (computed once, immutable)."""
        return log_codes(self)

    @cached_property
    def _column_cache(self) -> tuple[threading.Lock, dict[str, tuple[np.ndarray, np.ndarray]]]:
        return threading.Lock(), {}

    def column_codes(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """``(codes, uniques)`` of any column (cached on this log): ``uniques[codes[i]]`` is row i's value, -1 = NA."""
        lock, cache = self._column_cache
        with lock:
            hit = cache.get(column)
        if hit is not None:
            return hit
        if column == CASE:
            c = self.codes
            out = (c.case, c.case_ids)
        elif column == ACTIVITY:
            c = self.codes
            out = (c.act, np.asarray(c.act_names, dtype=object))
        else:
            out = encode(self.df[column], sort=False)
            for a in out:
                a.setflags(write=False)
        with lock:
            return cache.setdefault(column, out)

    def column_ns(self, column: str = TIMESTAMP) -> np.ndarray:
        """A timestamp column as int64 ns since the epoch (UTC, cached); NaT is the minimum int64."""
        if column == TIMESTAMP:
            return self.codes.ts
        lock, cache = self._column_cache
        key = f"@@ns:{column}"
        with lock:
            hit = cache.get(key)
        if hit is None:
            ns = timestamp_ns(self.df[column])
            ns.setflags(write=False)
            with lock:
                hit = cache.setdefault(key, (ns, np.empty(0)))
        return hit[0]

    @property
    def time_span(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        if self.df.empty or not self.has_timestamps:
            return None
        return self.df[TIMESTAMP].min(), self.df[TIMESTAMP].max()

    def with_frame(self, frame: pd.DataFrame, *, step: str) -> EventLog:
        """A new log from a transformed frame, with ``step`` appended to the history."""
        return EventLog.from_frame(frame, report=self.report, name=self.name, history=(*self.history, step))

    def subset(self, mask: Any, *, step: str) -> EventLog:
        """A new log with the events where ``mask`` (boolean, one per event) is true, ``step`` appended.

        A subset of a sorted, validated log is sorted and valid, so unlike
        :meth:`with_frame` this neither re-validates nor re-sorts (filters on
        millions of events stay fast).
        """
        df = self.df[mask].reset_index(drop=True)
        return EventLog(df=df, report=self.report, name=self.name, history=(*self.history, step))

    def to_pm4py(self) -> pd.DataFrame:
        """The frame pm4py's simplified interface expects (dataframe with canonical columns).

        This is the single place where our log becomes a pm4py input.
        """
        df = self.df.copy()
        df[CASE] = df[CASE].astype(object)
        df[ACTIVITY] = df[ACTIVITY].astype(object)
        return df

    def fingerprint(self) -> str:
        """A content hash: equal logs have equal fingerprints (cache key for the app)."""
        h = hashlib.sha256()
        h.update(pd.util.hash_pandas_object(self.df[[CASE, ACTIVITY, TIMESTAMP, ORDER]], index=False).values.tobytes())
        h.update(repr(self.history).encode())
        return h.hexdigest()[:16]


# ------------------------------------------------------------ deviations
DeviationKind = Literal["missing", "unexpected", "out_of_order", "rule", "not_computed"]
Severity = Literal["low", "medium", "high"]


@dataclass(frozen=True)
class Deviation:
    """One deviation of one case: from the model (alignments) or from a rule.

    ``evidence`` holds the ``@@index`` values of the events that show it.
    """

    case_id: str
    kind: DeviationKind
    activity: str | None
    message: str
    rule_id: str | None = None
    bpmn_element_id: str | None = None
    expected: str | None = None
    observed: str | None = None
    timestamp: pd.Timestamp | None = None
    resource: str | None = None
    severity: Severity = "medium"
    evidence: tuple[int, ...] = ()
    accepted: bool = False
    accepted_reason: str | None = None

    def to_record(self) -> dict[str, Any]:
        rec = {f.name: getattr(self, f.name) for f in fields(self)}
        rec["evidence"] = " ".join(str(i) for i in self.evidence)
        return rec


#: column order of a deviation table (``pd.DataFrame([d.to_record() for d in ...])``)
DEVIATION_COLUMNS = tuple(f.name for f in fields(Deviation))


def empty_deviations() -> pd.DataFrame:
    """An empty deviation table with the right columns and dtypes (model deviations and rule violations)."""
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in DEVIATION_COLUMNS})
    frame["timestamp"] = pd.Series(dtype="datetime64[ns, UTC]")
    frame["accepted"] = pd.Series(dtype=bool)
    return frame


# ------------------------------------------------------------ provenance
def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class Provenance:
    """What produced an export, so that it can be reproduced: attached to every export."""

    inputs: Mapping[str, str]  # role -> "name sha256:…", e.g. {"log": "orders.csv sha256:ab12…"}
    parameters: Mapping[str, Any]
    tool: str = "processmining"
    tool_version: str = field(default_factory=tool_version)
    python: str = field(default_factory=platform.python_version)
    created_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    @classmethod
    def build(cls, *, inputs: Mapping[str, tuple[str, str]], parameters: Mapping[str, Any]) -> Provenance:
        """``inputs`` maps a role to ``(display name, sha256)``."""
        return cls(
            inputs={role: f"{name} sha256:{digest}" for role, (name, digest) in inputs.items()},
            parameters=dict(parameters),
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["inputs"] = dict(self.inputs)
        d["parameters"] = {k: (v if isinstance(v, (int, float, bool, str, type(None), list, dict)) else str(v))
                           for k, v in self.parameters.items()}
        return d



def log_provenance(
    log: EventLog | None,
    parameters: Mapping[str, Any],
    *,
    inputs: Mapping[str, tuple[str, str]] | None = None,
) -> Provenance:
    """THE provenance builder: the log's source and hash as input ``"log"``, its transformations under
    ``"log_history"``, plus ``parameters`` and any further ``inputs`` (role -> (name, sha256)).

    >>> log_provenance(None, {"rule": "x"}).parameters["rule"]
    'x'
    """
    all_inputs: dict[str, tuple[str, str]] = {}
    params = dict(parameters)
    if log is not None:
        if log.report is not None:
            all_inputs["log"] = (log.report.source, log.report.sha256)
        else:
            all_inputs["log"] = (log.name, log.fingerprint())
        params["log_history"] = list(log.history)
    all_inputs.update(inputs or {})
    return Provenance.build(inputs=all_inputs, parameters=params)
