"""Building the :class:`~processmining.model.EventLog` from what a scan of an XES file collected.

:func:`assemble` types the attribute values (:mod:`.values`), names the traces
(duplicate ids become ``id#2``, ...), quarantines the events that cannot be
used, and builds the columns directly in the log's order (case text, time,
input order), one column at a time, so the frame is never held twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..codes import text_codes
from ..ingest.labels import flag_ids, normalise_labels
from ..ingest.timestamps import OUT_OF_RANGE
from ..memory import release_freed_memory
from ..model import (
    ACTIVITY,
    CASE,
    LIFECYCLE,
    ORDER,
    RESOURCE,
    SOURCE_ROW,
    START_TIMESTAMP,
    TIMESTAMP,
    EventLog,
    IngestReport,
    QuarantinedRow,
    TimestampOffsets,
    input_column_name,
)
from .values import OFFSET, Column, Scan, as_strings, build_columns

__all__ = ["assemble"]

#: how many individual values a warning lists before summarising
_MAX_LISTED = 20
_TRACE_KEY = "concept:name"


def _case_ids(tr_cols: dict[str, Column], n_traces: int, warnings: list[str]) -> np.ndarray:
    """Trace ids (object array, ``None`` = no id), duplicates renamed ``id#2``, ``id#3``, ..."""
    name_col = tr_cols.pop(_TRACE_KEY, None)
    if name_col is None:
        return np.full(n_traces, None, dtype=object)
    names = np.array(name_col.values.astype(object).where(name_col.values.notna(), None), dtype=object)
    named = pd.Series(names).dropna()
    dup_mask = named.duplicated(keep="first")
    if not dup_mask.any():
        return names
    taken = set(named.tolist())
    counters: dict[str, int] = {}
    renamed: list[str] = []
    for pos in named.index[dup_mask.to_numpy()]:
        original = names[pos]
        k = counters.get(original, 1)
        while True:
            k += 1
            candidate = f"{original}#{k}"
            if candidate not in taken:
                break
        counters[original] = k
        taken.add(candidate)
        names[pos] = candidate
        renamed.append(candidate)
    dup_ids = named[named.duplicated(keep=False)].unique().tolist()
    listed = _listed([repr(i) for i in dup_ids])
    warnings.append(
        f"{len(dup_ids):,} trace ids occur more than once ({len(renamed):,} extra traces): {listed}; "
        "they were NOT merged: each repeat is a separate case with the suffix #2, #3, ... "
        f"(e.g. {renamed[0]!r})"
    )
    return names


def _listed(items: list[str]) -> str:
    """At most ``_MAX_LISTED`` items, comma-separated, with a marker when there are more."""
    return ", ".join(items[:_MAX_LISTED]) + (f", ... ({len(items) - _MAX_LISTED:,} more)" if len(items) > _MAX_LISTED else "")


def _attribute_columns(
    cols: dict[str, Column], prefix: str, where: Callable[[int], str], warnings: list[str]
) -> Iterator[tuple[str, Any]]:
    """Frame columns for typed attributes; unreadable values keep their text in ``<key> (raw)``.

    Takes each column out of ``cols`` as it goes: once the caller has taken its rows, nothing holds it.
    """
    while cols:
        key = next(iter(cols))
        col = cols.pop(key)
        bad_idx = np.flatnonzero(col.bad.to_numpy(dtype=bool))
        if len(bad_idx):
            raw_name = f"{prefix}{key} (raw)"
            raw = col.raw.where(col.bad, None).astype("string")
            examples = [f"{where(i)}: {col.raw.iloc[i]!r}" for i in bad_idx[:_MAX_LISTED]]
            more = f"; and {len(bad_idx) - _MAX_LISTED:,} more" if len(bad_idx) > _MAX_LISTED else ""
            warnings.append(
                f"{len(bad_idx):,} values of {col.xes_type} attribute {key!r} are not a valid {col.xes_type} "
                f"and are kept as text in column {raw_name!r}: {'; '.join(examples)}{more}"
            )
            values = col.values
            del col
            yield prefix + key, values
            yield raw_name, raw
        else:
            values = col.values
            del col
            yield prefix + key, values
        del values


def assemble(scan: Scan, label: str, sha256: str) -> EventLog:
    """Type the collected values, quarantine unusable events, and build the log and its report."""
    warnings: list[str] = []
    n_ev, n_traces = scan.n_events, scan.n_traces
    ev_trace = np.asarray(scan.ev_trace, dtype=np.int64)
    tr_cols = build_columns(scan.tr_values, scan.tr_order, n_traces, warnings, "trace",
                             {_TRACE_KEY: "string"}, release_freed_memory)
    names = _case_ids(tr_cols, n_traces, warnings)
    ev_cols = build_columns(
        scan.ev_values, scan.ev_order, n_ev, warnings, "event",
        {ACTIVITY: "string", TIMESTAMP: "date", RESOURCE: "string"}, release_freed_memory,
    )
    warnings.extend(f"{msg} ({count:,} times)" for msg, count in scan.flattened.items())
    per_trace = np.bincount(ev_trace, minlength=n_traces)
    first_of_trace = np.concatenate(([0], np.cumsum(per_trace)[:-1])).astype(np.int64)
    index_in_trace = np.arange(n_ev, dtype=np.int64) - first_of_trace[ev_trace] + 1

    def trace_label(t: int) -> str:
        return f"trace {names[t]!r}" if names[t] is not None else f"trace #{t + 1} (no concept:name)"

    def event_label(i: int) -> str:
        return f"{trace_label(ev_trace[i])}, event {index_in_trace[i]}"

    # ---- events that cannot be used: no case id, no activity, no (readable) timestamp
    act, ts = ev_cols.pop(ACTIVITY, None), ev_cols.pop(TIMESTAMP, None)
    no_case = pd.isna(names)[ev_trace]
    no_act = np.ones(n_ev, dtype=bool)
    if act is not None:
        # missing or empty (Arrow on the texts: a pandas .str.len() would build a masked integer column first)
        no_act = pc.fill_null(pc.equal(pd.Series(act.values).array.__arrow_array__(), ""), True).to_numpy(
            zero_copy_only=False)
    # no time:timestamp anywhere in the file: an order-only log (file order = event order), nothing quarantined
    no_ts = np.zeros(n_ev, dtype=bool) if ts is None else np.array(ts.raw.isna(), dtype=bool)
    bad_ts = np.zeros(n_ev, dtype=bool) if ts is None else np.array(ts.bad, dtype=bool)
    drop = no_case | no_act | no_ts | bad_ts
    quarantined = []
    for i in np.flatnonzero(drop):
        where = f"{event_label(i)} (line {scan.event_line(i)})"
        if no_case[i]:
            q = QuarantinedRow(int(i) + 1, f"{where}: the trace has no concept:name (case id)", _TRACE_KEY)
        elif no_act[i]:
            q = QuarantinedRow(int(i) + 1, f"{where}: the event has no concept:name (activity)", ACTIVITY)
        elif no_ts[i]:
            q = QuarantinedRow(int(i) + 1, f"{where}: the event has no time:timestamp", TIMESTAMP)
        elif ts.out_of_range[i]:
            raw = ts.raw.iloc[i]
            q = QuarantinedRow(int(i) + 1, f"{where}: time:timestamp {raw!r}: {OUT_OF_RANGE}", TIMESTAMP, raw)
        else:
            raw = ts.raw.iloc[i]
            q = QuarantinedRow(int(i) + 1, f"{where}: time:timestamp {raw!r} is not a valid xs:dateTime",
                               TIMESTAMP, raw)
        quarantined.append(q)
    offsets: list[TimestampOffsets] = []
    if ts is not None:
        with_offset, naive = _offsets(ts.raw)
        if naive:
            warnings.append(f"{naive:,} time:timestamp values have no UTC offset; read as UTC")
        offsets = [TimestampOffsets(TIMESTAMP, with_offset=with_offset, naive=naive)]

    # ---- columns: canonical ones first, then event attributes, then trace attributes. Each is taken at
    # ``keep``: the usable events already in the log's order (case text, time, input order; see
    # EventLog.from_frame, which then has nothing to reorder), one column at a time, so the frame is
    # never held twice (unsorted and sorted)
    times = ts.values if ts is not None else pd.Series(pd.NaT, index=range(n_ev), dtype="datetime64[ns, UTC]")
    keep = _log_order(names, ev_trace, times, drop)
    kept_trace = ev_trace[keep]

    def at_keep(values: Any) -> Any:
        if isinstance(values, np.ndarray):
            return values[keep]
        array = pd.Series(values).array
        if isinstance(array, pd.arrays.ArrowStringArray):  # Arrow's own take: no pandas copy of the indices
            return pd.arrays.ArrowStringArray(array.__arrow_array__().take(keep))
        return array.take(keep)

    data: dict[str, Any] = {
        CASE: as_strings(names).take(kept_trace),
        ACTIVITY: at_keep(act.values) if act is not None else pd.array([None] * len(keep), dtype="string"),
        TIMESTAMP: at_keep(times),
    }
    has_timestamps = ts is not None or n_ev == 0
    del times, act, ts
    release_freed_memory()  # the canonical columns in file order
    ordered = {k: ev_cols.pop(k) for k in (RESOURCE, LIFECYCLE) if k in ev_cols}
    ordered.update(ev_cols)
    ev_cols.clear()
    renamed: list[str] = []
    for key, values in _attribute_columns(ordered, "", event_label, warnings):
        # org:resource and start_timestamp are the XES / pm4py names of canonical columns: kept as they are
        name = key if key in (RESOURCE, START_TIMESTAMP) else input_column_name(key, data)
        if name != key:
            renamed.append(f"event attribute {key!r} → {name!r}")
        data[name] = at_keep(values)
        del values
        release_freed_memory()  # the column in file order
    for key, values in _attribute_columns(tr_cols, "case:", trace_label, warnings):
        name = input_column_name(key, data)
        if name != key:
            renamed.append(f"trace attribute {key[len('case:'):]!r} → {name!r}")
        data[name] = (values.array if isinstance(values, pd.Series) else values).take(kept_trace)
    if renamed:
        warnings.append(f"{len(renamed)} attributes have the name of a column the log itself uses and are kept "
                        "under another name: " + ", ".join(renamed))
    data[ORDER] = keep
    data[SOURCE_ROW] = keep + 1
    frame = pd.DataFrame(data, copy=False)
    data.clear()
    for col, what in ((ACTIVITY, "activity"), (RESOURCE, "resource")):  # one Unicode spelling per label
        if col in frame.columns and len(frame):
            frame[col], note = normalise_labels(frame[col], what)
            if note:
                warnings.append(note)
    kept_traces = np.flatnonzero(np.bincount(kept_trace, minlength=n_traces))
    if len(kept_traces) and (note := flag_ids(pd.Series(as_strings(names[kept_traces])))):
        warnings.append(note)

    # ---- traces in = traces out + flagged
    empty = np.flatnonzero(per_trace == 0)
    if len(empty):
        warnings.append(f"{len(empty):,} empty traces (no <event>) are not in the log: "
                        + _listed([trace_label(t) for t in empty]))
    lost = np.flatnonzero((per_trace > 0) & (np.bincount(kept_trace, minlength=n_traces) == 0))
    if len(lost):
        warnings.append(f"{len(lost):,} traces lost every event to quarantine and are not in the log: "
                        + _listed([trace_label(t) for t in lost]))

    report = IngestReport(
        source=label,
        sha256=sha256,
        shape="xes",
        mapping={"case": "trace concept:name", "activity": ACTIVITY, "timestamp": TIMESTAMP, "resource": RESOURCE},
        timezone="UTC",
        rows_read=n_ev,
        quarantined=quarantined,
        warnings=warnings,
        has_timestamps=has_timestamps,
        timestamp_offsets=offsets,
    )
    report.events = len(keep)
    report.require_events()
    release_freed_memory()  # the typed columns' texts and temporaries
    log = EventLog.from_frame(frame, report=report, name=label)
    del frame
    # each case is one trace (repeated ids were renamed): the traces that kept an event
    report.events, report.cases = log.n_events, len(kept_traces)
    release_freed_memory()  # the frame's copy in EventLog.from_frame
    # without times, repeated (case, activity) pairs are ordinary rework, not duplicate events
    report.duplicate_events = _duplicate_events(log, ev_trace) if report.has_timestamps else 0
    report.check_balance()
    release_freed_memory()  # what the steps above freed: later steps need not grow the process
    return log


def _offsets(raw: pd.Series) -> tuple[int, int]:
    """How many of the timestamp texts (not missing) end with a UTC offset, and how many without one.

    Chunk by chunk (the byte scan's chunks): the stripped copy of the texts exists for one chunk at a time.
    """
    with_offset = present = 0
    for chunk in raw.array.__arrow_array__().chunks:
        chunk = chunk.drop_null()
        present += len(chunk)
        with_offset += int(pc.sum(pc.match_substring_regex(pc.utf8_trim_whitespace(chunk), OFFSET)).as_py() or 0)
    return with_offset, present - with_offset


def _log_order(names: np.ndarray, ev_trace: np.ndarray, times: pd.Series, drop: np.ndarray) -> np.ndarray:
    """The usable events (indexes) sorted as :meth:`EventLog.from_frame` sorts: case text, time, input order.

    A case is one trace, so the case's rank is its trace name's rank among the names.
    """
    kept = np.flatnonzero(~drop)
    rank = np.zeros(len(names), dtype=np.int64)
    named = np.flatnonzero(pd.notna(names))
    if len(named):
        order = pc.sort_indices(pa.array(names[named], type=pa.large_string())).to_numpy()
        rank[named[order]] = np.arange(len(named))
    ts = np.asarray(times.dt.tz_localize(None).to_numpy()).view("i8")[kept]
    return kept[np.lexsort((kept, ts, rank[ev_trace[kept]]))]


def _duplicate_events(log: EventLog, ev_trace: np.ndarray) -> int:
    """Events equal to an earlier one in case, activity, time, resource and lifecycle (kept, and counted).

    Such events share case and time, and the log is sorted by (case, time): only runs of rows with one
    (case, time) can hold duplicates; within a run, rows are compared on integer codes of the other columns.
    """
    df = log.df
    if len(df) < 2:
        return 0
    trace = ev_trace[df[ORDER].to_numpy()]
    ts = np.asarray(df[TIMESTAMP].dt.tz_localize(None).to_numpy()).view("i8")
    same = (trace[1:] == trace[:-1]) & (ts[1:] == ts[:-1])
    del trace, ts
    rows = np.flatnonzero(np.r_[same, False] | np.r_[False, same])
    if not len(rows):
        return 0
    run = np.cumsum(np.r_[True, ~same])[rows]  # the (case, time) run of each candidate row
    code = np.zeros(len(rows), dtype=np.int64)
    for col in (ACTIVITY, RESOURCE, LIFECYCLE):
        if col in df.columns:
            codes = text_codes(df[col].take(rows)) + 1  # 0: missing
            width = int(codes.max()) + 1
            if int(code.max()) >= (2**62) // width:  # too many combinations for one integer: compare the rows
                subset = [c for c in (CASE, ACTIVITY, TIMESTAMP, RESOURCE, LIFECYCLE) if c in df.columns]
                return int(df[subset].take(rows).duplicated().sum())
            code = code * width + codes
    order = np.lexsort((code, run))
    run, code = run[order], code[order]
    return int(((run[1:] == run[:-1]) & (code[1:] == code[:-1])).sum())
