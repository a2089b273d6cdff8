"""The three row shapes (long, wide, transition) → a staged event table.

Every function here takes a :class:`~processmining.ingest.tabular.Table` of
text and returns a :class:`Staged` table: one row per candidate event with
the internal columns below, plus attribute columns under their final names.
:mod:`processmining.ingest.assemble` then quarantines, sorts, collapses and
builds the :class:`~processmining.model.EventLog`.

Internal columns: ``_case``, ``_activity`` (text), ``_ts`` (UTC, NaT when
bad), ``_ts_err`` (reason), ``_ts_raw`` (text as written), optional
``_start`` (UTC), ``_resource``, ``_old`` (transition), ``_row`` (line /
row / record number) and ``_order`` (input order).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..errors import IngestError
from ..model import TimestampOffsets, text_codes
from .tabular import Table, is_times, text_of
from .timestamps import ParsedTimes, parse_timestamps

#: most case attributes taken from non-stage fields of a transition export
MAX_CASE_ATTRIBUTES = 60
TEXT = pd.StringDtype("pyarrow")


#: the internal columns of a staged table; input columns never use these names (see :func:`attribute_name`)
INTERNAL = frozenset({"_case", "_activity", "_ts", "_ts_err", "_ts_raw", "_ts_col", "_start", "_resource", "_row",
                      "_order", "_old", "_reason_activity", "_is_created"})


def attribute_name(column: str) -> str:
    """The attribute name of an input column: unchanged unless it collides with an internal column."""
    return f"{column} (input)" if column in INTERNAL else column


@dataclass
class Staged:
    """Candidate events plus what happened to the rows that are not events."""

    frame: pd.DataFrame
    rows_read: int
    mapping: dict[str, str]
    filtered: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: per parsed timestamp column, values with and without a UTC offset
    timestamp_offsets: list[TimestampOffsets] = field(default_factory=list)
    #: rows refused before staging (ragged lines, rows without any stage date): (row, reason, column, value)
    quarantined: list[tuple[int, str, str | None, str | None]] = field(default_factory=list)


def require_column(table: Table, name: str | None, role: str) -> str:
    """``name`` if the table has it (exact, then case-insensitive), else :class:`IngestError`."""
    if name is None:
        raise IngestError(f"no {role} column given; columns are: {', '.join(map(repr, table.frame.columns))}",
                          source=table.source)
    if name in table.frame.columns:
        return name
    lowered = {c.lower(): c for c in table.frame.columns}
    if name.lower() in lowered:
        return lowered[name.lower()]
    raise IngestError(f"{role} column {name!r} not found; columns are: "
                      f"{', '.join(map(repr, table.frame.columns))}", source=table.source)


def first_present(table: Table, candidates: tuple[str, ...], role: str) -> str:
    lowered = {c.lower(): c for c in table.frame.columns}
    for c in candidates:
        if c in table.frame.columns:
            return c
        if c.lower() in lowered:
            return lowered[c.lower()]
    id_cols = [c for c in table.frame.columns if c.endswith("Id") and c not in ("CreatedById",)]
    if role == "case" and len(id_cols) == 1:
        return id_cols[0]
    raise IngestError(f"{role} column not found: expected one of {', '.join(map(repr, candidates))}; columns are: "
                      f"{', '.join(map(repr, table.frame.columns))}", source=table.source)


def _blank_to_na(s: pd.Series) -> pd.Series:
    """The column as Arrow-backed text, with blank or whitespace-only cells as NA (values kept as written)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    s = text_of(s).astype(TEXT)
    arr = s.array.__arrow_array__()
    # empty or whitespace only (what trimming would leave empty), without a trimmed copy of the column
    blank = pc.or_(pc.equal(pc.binary_length(arr), 0), pc.utf8_is_space(arr))
    if not pc.any(blank).as_py():
        return s
    out = pc.if_else(blank, pa.scalar(None, pa.string()), arr)
    return pd.Series(pd.arrays.ArrowStringArray(out), index=s.index, dtype=TEXT)


def parse_column(table: Table, values: pd.Series, column: str, rows: np.ndarray, *, dayfirst: bool | None,
                 timezone: str) -> ParsedTimes:
    return parse_timestamps(values, column=column, rows=rows, source=table.source, dayfirst=dayfirst,
                            timezone=timezone)


# ------------------------------------------------------------------ long
def long_shape(table: Table, *, case: str, activity: str, timestamp: str | None, resource: str | None = None,
               end_timestamp: str | None = None, dayfirst: bool | None = None, timezone: str = "UTC") -> Staged:
    """One row per event; every other column is kept as an event attribute (text).

    Without a ``timestamp`` column every event has NaT as its time and the
    file order is the event order (an order-only log).
    """
    f = table.frame
    cols = {"case": require_column(table, case, "case"), "activity": require_column(table, activity, "activity")}
    if timestamp is None:
        return _order_only(table, cols, resource)
    cols["timestamp"] = require_column(table, timestamp, "timestamp")
    if resource:
        cols["resource"] = require_column(table, resource, "resource")
    if end_timestamp:
        cols["end_timestamp"] = require_column(table, end_timestamp, "end timestamp")
    warnings: list[str] = []
    start = parse_column(table, f[cols["timestamp"]], cols["timestamp"], table.rows, dayfirst=dayfirst,
                         timezone=timezone)
    warnings += start.warnings
    offsets = [start.offsets]
    out = pd.DataFrame({
        "_case": _blank_to_na(f[cols["case"]]),
        "_activity": _blank_to_na(f[cols["activity"]]),
        "_ts": start.values,
        "_ts_err": start.errors,
        "_ts_raw": _raw_times(f[cols["timestamp"]], start),
        "_row": table.rows,
        "_order": np.arange(len(f), dtype=np.int64),
    })
    out["_ts_col"] = cols["timestamp"]
    if "resource" in cols:
        out["_resource"] = _blank_to_na(f[cols["resource"]])
    if "end_timestamp" in cols:
        end = parse_column(table, f[cols["end_timestamp"]], cols["end_timestamp"], table.rows, dayfirst=dayfirst,
                           timezone=timezone)
        warnings += end.warnings
        offsets.append(end.offsets)
        out["_start"] = start.values
        out["_ts"] = end.values.fillna(start.values)
        bad_end = end.errors.notna() & start.errors.isna()
        out.loc[bad_end, "_ts_err"] = end.errors[bad_end]
        out.loc[bad_end, "_ts_raw"] = text_of(f[cols["end_timestamp"]][bad_end])
        out.loc[bad_end, "_ts_col"] = cols["end_timestamp"]
    used = set(cols.values())
    out = _with_attributes(out, f, used)
    return Staged(out, rows_read=len(f) + len(table.bad_rows), mapping=cols, warnings=warnings,
                  timestamp_offsets=offsets,
                  quarantined=[(line, reason, None, None) for line, reason in table.bad_rows])


def _raw_times(values: pd.Series, parsed: ParsedTimes) -> pd.Series:
    """The timestamp cells as written, for the messages about bad ones (typed cells: as text, only when bad)."""
    if not is_times(values.dtype):
        return text_of(values).astype(TEXT)
    if parsed.errors.notna().any():
        return text_of(values)
    import pyarrow as pa

    return pd.Series(pd.array(pa.nulls(len(values), pa.large_string()), dtype=TEXT), index=values.index)


def _with_attributes(out: pd.DataFrame, f: pd.DataFrame, used: set[str]) -> pd.DataFrame:
    """``out`` plus every unused input column as an attribute, in one concat (linear in the column count)."""
    # numbers stay typed here (they become text after the log is ordered); timestamps become text now
    attrs = {attribute_name(c): (f[c] if isinstance(f[c].dtype, pd.ArrowDtype) else text_of(f[c])).array
             for c in f.columns if c not in used}
    return pd.concat([out, pd.DataFrame(attrs, index=out.index)], axis=1) if attrs else out


def _order_only(table: Table, cols: dict[str, str], resource: str | None) -> Staged:
    f = table.frame
    if resource:
        cols["resource"] = require_column(table, resource, "resource")
    n = len(f)
    out = pd.DataFrame({
        "_case": _blank_to_na(f[cols["case"]]), "_activity": _blank_to_na(f[cols["activity"]]),
        "_ts": pd.Series(pd.NaT, index=f.index, dtype="datetime64[ns, UTC]"),
        "_ts_err": pd.Series(pd.NA, index=f.index, dtype=TEXT), "_ts_raw": pd.Series(pd.NA, index=f.index, dtype=TEXT),
        "_row": table.rows, "_order": np.arange(n, dtype=np.int64),
    })
    out["_ts_col"] = None
    if "resource" in cols:
        out["_resource"] = _blank_to_na(f[cols["resource"]])
    used = set(cols.values())
    out = _with_attributes(out, f, used)
    return Staged(out, rows_read=n + len(table.bad_rows), mapping=cols,
                  quarantined=[(line, reason, None, None) for line, reason in table.bad_rows])


# ------------------------------------------------------------------ wide
def wide_shape(table: Table, *, case: str, pattern: str, dayfirst: bool | None = None,
               timezone: str = "UTC") -> Staged:
    """One row per case, one ``Date entered`` column per stage → one event per non-blank cell.

    ``Date exited`` cells of the same stage become the end time (the event's
    timestamp, with the entered date as ``start_timestamp``). Other columns
    become case attributes ``case:<column>``.
    """
    f = table.frame
    case = require_column(table, case, "case")
    rx = re.compile(pattern)
    entered: dict[tuple[str, str], str] = {}
    exited: dict[tuple[str, str], str] = {}
    for c in f.columns:
        m = rx.match(c)
        if not m:
            continue
        kind, stage, pipeline = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(4), m.group(5), "")
        (entered if kind == "entered" else exited)[(stage, pipeline)] = c
    if not entered:
        raise IngestError("no 'Date entered \"<Stage> (<Pipeline>)\"' columns found; is this a HubSpot export with "
                          "the stage date properties included?", source=table.source)
    pipelines = {p for _, p in entered}
    other = [c for c in f.columns if c != case and c not in entered.values() and c not in exited.values()]
    n = len(f)
    pieces = []
    for k, (key, col) in enumerate(entered.items()):
        piece = pd.DataFrame({"_case": _blank_to_na(f[case]), "_activity": key[0], "_ent": f[col].astype(TEXT),
                              "_ex": f[exited[key]].astype(TEXT) if key in exited else pd.Series(pd.NA, index=f.index,
                                                                                                 dtype=TEXT),
                              "_row": table.rows, "_k": k, "_i": np.arange(n), "_col": col,
                              "_excol": exited.get(key, "")})
        if len(pipelines) > 1:
            piece["pipeline"] = key[1]
        pieces.append(piece)
    long = pd.concat(pieces, ignore_index=True)
    has_ent = _blank_to_na(long["_ent"]).notna().to_numpy()
    has_ex = _blank_to_na(long["_ex"]).notna().to_numpy()
    quarantined = [(line, reason, None, None) for line, reason in table.bad_rows]
    orphan = ~has_ent & has_ex
    for row, col, val in zip(long.loc[orphan, "_row"], long.loc[orphan, "_excol"], long.loc[orphan, "_ex"],
                             strict=True):
        quarantined.append((int(row), "exited date without an entered date for the same stage", col, str(val)))
    no_stage = np.ones(n, dtype=bool)
    no_stage[long.loc[has_ent | has_ex, "_i"].to_numpy()] = False
    for i in np.flatnonzero(no_stage):
        quarantined.append((int(table.rows[i]), "no stage date in this row (no event)", None, None))
    cells = long[has_ent].sort_values(["_i", "_k"], kind="stable").reset_index(drop=True)
    ent = parse_column(table, cells["_ent"], "Date entered", cells["_row"].to_numpy(), dayfirst=dayfirst,
                       timezone=timezone)
    ex = parse_column(table, cells["_ex"], "Date exited", cells["_row"].to_numpy(), dayfirst=dayfirst,
                      timezone=timezone)
    out = pd.DataFrame({
        "_case": cells["_case"].astype(TEXT), "_activity": cells["_activity"].astype(TEXT),
        "_ts": ex.values.fillna(ent.values), "_start": ent.values, "_ts_err": ent.errors,
        "_ts_raw": cells["_ent"], "_ts_col": cells["_col"], "_row": cells["_row"].to_numpy(),
        "_order": np.arange(len(cells), dtype=np.int64),
    })
    bad_ex = ex.errors.notna() & ent.errors.isna()
    out.loc[bad_ex, "_ts_err"] = ex.errors[bad_ex]
    out.loc[bad_ex, "_ts_raw"] = cells.loc[bad_ex, "_ex"]
    out.loc[bad_ex, "_ts_col"] = cells.loc[bad_ex, "_excol"]
    if "pipeline" in cells:
        out["pipeline"] = cells["pipeline"].astype(TEXT).to_numpy()
    idx = cells["_i"].to_numpy()
    for c in other:
        out[f"case:{c}"] = f[c].to_numpy()[idx]
    warnings = [w.replace("'Date entered'", "'Date entered …'").replace("'Date exited'", "'Date exited …'")
                for w in ent.warnings + ex.warnings]
    return Staged(out, rows_read=int(has_ent.sum()) + int(orphan.sum()) + int(no_stage.sum()) + len(table.bad_rows),
                  mapping={"case": case, "stages": f"{len(entered)} 'Date entered' columns",
                           "end_timestamp": f"{len(exited)} 'Date exited' columns"},
                  warnings=warnings, quarantined=quarantined,
                  timestamp_offsets=[replace(ent.offsets, column="Date entered …"),
                                     replace(ex.offsets, column="Date exited …")])


# ------------------------------------------------------------------ transition
def transition_shape(table: Table, *, case: str, field_col: str, new: str, timestamp: str,
                     stage_fields: tuple[str, ...], old: str | None = None, resource: str | None = None,
                     created_values: tuple[str, ...] = (), new_fallback: str | None = None,
                     old_fallback: str | None = None, current: str | None = None,
                     dayfirst: bool | None = None, timezone: str = "UTC") -> Staged:
    """One row per field change: stage-field rows become events (activity = new value).

    A creation row (``field`` in ``created_values``) becomes the first stage:
    its activity is the old value of the case's first stage change (or the
    ``current`` column when the case never changed stage), its time the
    creation time. Rows of other fields are counted in ``filtered`` by field
    and their latest value per case becomes the case attribute ``case:<Field>``.
    """
    f = table.frame
    cols = {"case": require_column(table, case, "case"), "field": require_column(table, field_col, "field"),
            "activity": require_column(table, new, "new value"),
            "timestamp": require_column(table, timestamp, "timestamp")}
    if old:
        cols["old_value"] = require_column(table, old, "old value")
    if resource:
        cols["resource"] = require_column(table, resource, "resource")
    fld = f[cols["field"]].astype(TEXT).str.strip()
    low = fld.str.lower().fillna("")
    is_stage = low.isin([s.lower() for s in stage_fields]).to_numpy()
    is_created = low.isin([s.lower() for s in created_values]).to_numpy() & ~is_stage
    other = ~is_stage & ~is_created
    case_s = _blank_to_na(f[cols["case"]])
    activity = _blank_to_na(f[cols["activity"]])
    if new_fallback and new_fallback in f.columns:
        activity = activity.fillna(_blank_to_na(f[new_fallback]))
    old_s = _blank_to_na(f[cols["old_value"]]) if old else pd.Series(pd.NA, index=f.index, dtype=TEXT)
    if old_fallback and old_fallback in f.columns:
        old_s = old_s.fillna(_blank_to_na(f[old_fallback]))
    warnings: list[str] = []
    filtered: dict[str, int] = {}
    keep = is_stage | is_created
    keep_idx = np.flatnonzero(keep)
    # the whole column is parsed: other fields' times order their values too (exports can be newest first)
    parsed = parse_column(table, f[cols["timestamp"]], cols["timestamp"], table.rows, dayfirst=dayfirst,
                          timezone=timezone)
    warnings += parsed.warnings
    ts_ns = np.asarray(parsed.values.dt.tz_localize(None), dtype="datetime64[ns]")
    order = np.arange(len(f), dtype=np.int64)
    codes = text_codes(case_s)

    st_idx = np.flatnonzero(is_stage & (codes >= 0))
    cr_idx = np.flatnonzero(is_created & (codes >= 0))
    ts_key = ts_ns.view("i8").copy()
    ts_key[np.isnat(ts_ns)] = np.iinfo(np.int64).max  # unparseable times sort last
    if len(cr_idx):
        activity = _creation_activity(f, activity, old_s, codes, st_idx, cr_idx, order, ts_key, current)
    reason_col = pd.Series(pd.NA, index=f.index, dtype=TEXT)
    unknown_first = is_created & activity.isna().to_numpy()
    reason_col[unknown_first] = "creation row, but the first stage is unknown (no stage change with an old value)"
    if created_values:
        missing = len(np.setdiff1d(np.unique(codes[st_idx]), np.unique(codes[cr_idx])))
        if missing:
            warnings.append(f"{missing:,} cases have no creation row ({'/'.join(created_values)}): their first event "
                            "is their first stage change; the stage they started in is not an event")

    case_attrs = pd.DataFrame()
    if other.any():
        case_attrs = _other_field_attributes(fld, other, activity, codes, order, ts_ns, ts_key, cols["field"],
                                             filtered, warnings)

    errs = parsed.errors.iloc[keep_idx].to_numpy()
    out = pd.DataFrame({
        "_case": case_s.iloc[keep_idx].array, "_activity": activity.iloc[keep_idx].array,
        "_ts": pd.Series(ts_ns[keep_idx]).dt.tz_localize("UTC"), "_ts_err": pd.array(errs, dtype=TEXT),
        "_ts_raw": f[cols["timestamp"]].iloc[keep_idx].astype(TEXT).array, "_row": table.rows[keep],
        "_order": order[keep_idx], "_old": old_s.iloc[keep_idx].astype(TEXT).array,
        "_reason_activity": reason_col.iloc[keep_idx].array,
    })
    out["_ts_col"] = cols["timestamp"]
    out["_is_created"] = is_created[keep_idx]
    if resource:
        out["_resource"] = _blank_to_na(f[cols["resource"]]).iloc[keep_idx].array
    if len(case_attrs):
        joined = case_attrs.reindex(codes[keep_idx])
        for c in case_attrs.columns:
            out[c] = joined[c].astype(TEXT).to_numpy()
    for c in f.columns:
        if c.startswith("case:") and c not in out.columns:
            out[c] = f[c].iloc[keep_idx].array
    for label, k in table.pre_filtered.items():
        filtered[label] = filtered.get(label, 0) + k
    return Staged(out, rows_read=len(f) + len(table.bad_rows) + sum(table.pre_filtered.values()), mapping=cols,
                  filtered=filtered, warnings=warnings, timestamp_offsets=[parsed.offsets],
                  quarantined=[(line, reason, None, None) for line, reason in table.bad_rows])


def _creation_activity(f: pd.DataFrame, activity: pd.Series, old_s: pd.Series, codes: np.ndarray,
                       st_idx: np.ndarray, cr_idx: np.ndarray, order: np.ndarray, ts_key: np.ndarray,
                       current: str | None) -> pd.Series:
    """The activity of each creation row: the old value of its case's earliest stage change.

    Falls back on the ``current`` column when the case never changed stage;
    integer keys throughout, no text sort.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n_codes = int(codes.max()) + 1 if len(codes) else 0
    st_sorted = st_idx[np.lexsort((order[st_idx], ts_key[st_idx], codes[st_idx]))]
    first = np.ones(len(st_sorted), dtype=bool)
    first[1:] = codes[st_sorted][1:] != codes[st_sorted][:-1]
    first_row = np.full(n_codes, -1, dtype=np.int64)
    first_row[codes[st_sorted[first]]] = st_sorted[first]
    src = first_row[codes[cr_idx]]
    act_arr = activity.array.__arrow_array__().combine_chunks()
    old_arr = old_s.astype(TEXT).array.__arrow_array__().combine_chunks()
    firsts = old_arr.take(pa.array(np.maximum(src, 0)))
    firsts = pc.if_else(pa.array(src >= 0), firsts, pa.scalar(None, pa.string()))
    if current and current in f.columns:
        cur = _blank_to_na(f[current]).array.__arrow_array__().combine_chunks().take(pa.array(cr_idx))
        firsts = pc.coalesce(firsts, cur)
    positions = np.full(len(f), -1, dtype=np.int64)
    positions[cr_idx] = np.arange(len(cr_idx))
    merged = pc.if_else(pa.array(positions >= 0), firsts.take(pa.array(np.maximum(positions, 0))), act_arr)
    return pd.Series(pd.arrays.ArrowStringArray(merged), index=f.index, dtype=TEXT)


def _other_field_attributes(fld: pd.Series, other: np.ndarray, activity: pd.Series, codes: np.ndarray,
                            order: np.ndarray, ts_ns: np.ndarray, ts_key: np.ndarray, field_col: str,
                            filtered: dict[str, int], warnings: list[str]) -> pd.DataFrame:
    """Rows of non-stage fields: counted in ``filtered`` by field; the latest value per case becomes
    the case attribute ``case:<Field>`` (the most frequent fields only)."""
    counts = fld[other].fillna("").value_counts()
    for name, k in counts.items():
        label = f"{field_col} is {name!r}, not a stage field" if name else f"{field_col} is blank"
        filtered[label] = int(k)
    top = counts.index[counts.index != ""][:MAX_CASE_ATTRIBUTES]
    if len(counts) > MAX_CASE_ATTRIBUTES:
        warnings.append(f"{len(counts):,} other fields in the export; the {MAX_CASE_ATTRIBUTES} most frequent are "
                        "kept as case attributes")
    ot_idx = np.flatnonzero(other & (codes >= 0) & fld.isin(top).fillna(False).to_numpy(dtype=bool))
    if not len(ot_idx):
        return pd.DataFrame()
    # the latest value per (case, field): by time, then input order (unparseable times count as oldest)
    ot_idx = ot_idx[np.lexsort((order[ot_idx], np.where(np.isnat(ts_ns[ot_idx]), np.iinfo(np.int64).min,
                                                        ts_key[ot_idx])))]
    others = pd.DataFrame({"c": codes[ot_idx], "fld": fld.iloc[ot_idx].to_numpy(),
                           "v": activity.iloc[ot_idx].to_numpy()})
    latest = others.drop_duplicates(["c", "fld"], keep="last")
    case_attrs = latest.pivot(index="c", columns="fld", values="v")
    case_attrs.columns = [f"case:{c}" for c in case_attrs.columns]
    return case_attrs
