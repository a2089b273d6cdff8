"""Staged events → EventLog + IngestReport: quarantine, order, collapse, count.

The rules, in order:

1. A row without a case id, an activity or a usable timestamp is
   quarantined with its line number, the column and the value.
2. Events are ordered by case, timestamp, then input order (stable).
3. When the preset says repeated stages are export artefacts, an event
   whose activity equals the previous event's in the same case is collapsed
   (counted in ``collapsed_duplicates``) - unless it is an exact duplicate
   (same timestamp and resource), which is a data-quality finding and kept.
   Backward moves and reopenings are never touched.
4. Exact duplicate events (case, activity, timestamp, resource) are kept and
   counted in ``duplicate_events``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..model import (
    ACTIVITY,
    CASE,
    ORDER,
    RESOURCE,
    SOURCE_ROW,
    START_TIMESTAMP,
    TIMESTAMP,
    EventLog,
    IngestReport,
    QuarantinedRow,
    input_column_name,
)
from .labels import flag_distinct_ids, normalise_dictionary
from .shapes import INTERNAL, TEXT, Staged
from .tabular import text_of

MISSING_CASE = "missing case id"
MISSING_ACTIVITY = "missing activity"
MISSING_TIMESTAMP = "missing timestamp"
#: the internal staged columns :func:`assemble` reads after the quarantine (the others are let go before)
_USED = frozenset({"_case", "_activity", "_resource", "_ts", "_start", "_order", "_row"})
_UTC_NS = pd.DatetimeTZDtype("ns", "UTC")


def has_times(staged: Staged) -> bool:
    """Whether the source has event times: some value in its timestamp column (parsed or not)."""
    f = staged.frame
    return bool(f["_ts"].notna().any() or f["_ts_err"].notna().any()) or len(f) == 0


def _quarantine(staged: Staged, mapping: dict[str, str]) -> tuple[np.ndarray, list[QuarantinedRow]]:
    f = staged.frame
    case_col = mapping.get("case")
    act_col = mapping.get("activity")
    no_case = f["_case"].isna().to_numpy()
    no_act = f["_activity"].isna().to_numpy() & ~no_case
    no_ts = (f["_ts"].isna() & f["_ts_err"].isna()).to_numpy() & ~no_case & ~no_act & has_times(staged)
    bad_ts = f["_ts_err"].notna().to_numpy() & ~no_case & ~no_act
    out: list[QuarantinedRow] = []
    if no_case.any():  # (a boolean .loc costs a pass over the rows even when the mask is empty)
        for row in f.loc[no_case, "_row"]:
            out.append(QuarantinedRow(row=int(row), reason=MISSING_CASE, column=case_col))
    if no_act.any():
        reasons = f["_reason_activity"] if "_reason_activity" in f else pd.Series(pd.NA, index=f.index)
        for row, why in zip(f.loc[no_act, "_row"], reasons[no_act], strict=True):
            reason = MISSING_ACTIVITY if pd.isna(why) else f"{MISSING_ACTIVITY}: {why}"
            out.append(QuarantinedRow(row=int(row), reason=reason, column=act_col))
    if no_ts.any():
        for row, col in zip(f.loc[no_ts, "_row"], f.loc[no_ts, "_ts_col"], strict=True):
            out.append(QuarantinedRow(row=int(row), reason=MISSING_TIMESTAMP, column=str(col)))
    if bad_ts.any():
        for row, why, col, raw in zip(f.loc[bad_ts, "_row"], f.loc[bad_ts, "_ts_err"], f.loc[bad_ts, "_ts_col"],
                                      f.loc[bad_ts, "_ts_raw"], strict=True):
            out.append(QuarantinedRow(row=int(row), reason=f"{why}: {raw!r}", column=str(col), value=str(raw)))
    bad = no_case | no_act | no_ts | bad_ts
    return bad, out


def _count_duplicates(case: np.ndarray, act: np.ndarray, ts: np.ndarray, res: np.ndarray) -> int:
    """Events equal to an earlier one in (case, activity, time, resource); rows are sorted by case and time."""
    block = _same_as_previous(case) & _same_as_previous(ts)
    if not block.any():
        return 0
    member = block.copy()
    member[:-1] |= block[1:]  # the first row of each equal-(case, time) block too
    keys = pd.DataFrame({"c": case[member], "a": act[member], "t": ts[member], "r": res[member]})
    return int(keys.duplicated().sum())


def _same_as_previous(values: np.ndarray) -> np.ndarray:
    out = np.zeros(len(values), dtype=bool)
    if len(values) > 1:
        out[1:] = values[1:] == values[:-1]
    return out


def _text(s: pd.Series) -> pd.Series:
    return s if s.dtype == "string" else s.astype("string")


def _arrow_text(s: pd.Series, keep: np.ndarray | None) -> pa.Array:
    """A text column as one Arrow array (large_string), only the rows at ``keep`` (all when None)."""
    arr = _text(s).array.__arrow_array__()
    arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    return arr if keep is None else arr.take(pa.array(keep))


def _encode(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """``(dictionary, codes)`` of a text array: int32 codes, -1 for null (dictionary in first-appearance order)."""
    enc = pc.dictionary_encode(arr)
    indices = enc.indices.fill_null(-1) if enc.indices.null_count else enc.indices
    return enc.dictionary, indices.to_numpy(zero_copy_only=False)


def _sorted_codes(dictionary: pa.Array, codes: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """The dictionary in text order and the codes renumbered to it (as :func:`text_codes` with ``sort``)."""
    order = pc.sort_indices(dictionary).to_numpy()
    rank = np.empty(len(dictionary), dtype=np.int32)
    rank[order] = np.arange(len(dictionary), dtype=np.int32)
    if len(codes) and int(codes.min()) < 0:
        return dictionary.take(pa.array(order)), np.where(codes >= 0, rank[np.maximum(codes, 0)], -1)
    return dictionary.take(pa.array(order)), rank[codes]


def _from_codes(dictionary: pa.Array, codes: np.ndarray) -> pd.Series:
    """The text column ``dictionary[codes]`` (NA for -1), Arrow-backed, with a fresh RangeIndex."""
    idx = pa.array(codes, mask=codes < 0) if (codes < 0).any() else pa.array(codes)
    out = dictionary.take(idx) if len(codes) else pa.array([], type=pa.large_string())
    return pd.Series(pd.arrays.ArrowStringArray(out), dtype=TEXT)


def event_order(case: np.ndarray, ts: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The permutation that sorts events by (case code, time, input order).

    Exports usually come grouped by case with each case in time order, or in
    time order overall; those are recognised in linear time (the blocks of
    cases put in case order, or one stable sort by case). Anything else is a
    full three-key sort.
    """
    n = len(case)
    if n < 2 or int(case.min()) < 0 or not bool(np.all(order[1:] > order[:-1])):
        return np.lexsort((order, ts, case)) if n else np.zeros(0, dtype=np.int64)
    new_run = case[1:] != case[:-1]
    ts_up = ts[1:] >= ts[:-1]
    if bool(np.all(ts_up | new_run)):
        starts = np.flatnonzero(np.r_[True, new_run])
        run_case = case[starts]
        n_cases = int(case.max()) + 1
        if len(starts) == n_cases and np.array_equal(np.bincount(run_case, minlength=n_cases), np.ones(n_cases)):
            lens = np.diff(np.r_[starts, n])
            by_case_start = np.empty(n_cases, dtype=np.int64)
            by_case_len = np.empty(n_cases, dtype=np.int64)
            by_case_start[run_case] = starts
            by_case_len[run_case] = lens
            out_start = np.cumsum(by_case_len) - by_case_len
            # one step per row: +1 inside a case, a jump to the next case's first row where it starts
            perm = np.ones(n, dtype=np.int64)
            perm[0] = by_case_start[0]
            perm[out_start[1:]] = by_case_start[1:] - by_case_start[:-1] - by_case_len[:-1] + 1
            return np.cumsum(perm, out=perm)
    if bool(np.all(ts_up)):
        return np.argsort(case, kind="stable")
    return np.lexsort((order, ts, case))


def assemble(
    staged: Staged,
    *,
    source: str,
    sha256: str,
    shape: str,
    preset: str | None,
    timezone: str,
    collapse_repeats: bool,
    warnings: list[str],
    name: str | None = None,
) -> EventLog:
    """Build the :class:`EventLog` and its balanced :class:`IngestReport` from staged events.

    The frame is put in :meth:`EventLog.from_frame`'s exact order and dtypes
    here (case text order, then time, then input order), with integer sort
    keys instead of sorting text, which is what makes million-row imports fast.

    ``staged`` is consumed: each of its columns is let go as soon as it is
    used (its frame is left empty), so the input text and the log's columns
    are not all alive at once.
    """
    mapping = dict(staged.mapping)
    times = has_times(staged)
    bad, quarantined = _quarantine(staged, mapping)
    quarantined = [QuarantinedRow(row=r, reason=why, column=col, value=val)
                   for r, why, col, val in staged.quarantined] + quarantined
    quarantined.sort(key=lambda q: q.row)
    # the staged columns by name; the frame itself is let go, so popping a column here frees it
    f = {c: staged.frame[c] for c in staged.frame.columns if c in _USED or c not in INTERNAL}
    n_staged = len(staged.frame)
    staged.frame = staged.frame.iloc[:0, :0]
    keep = np.flatnonzero(~bad) if bad.any() else None

    def kept(col: str) -> np.ndarray:
        values = f.pop(col).to_numpy()
        return values if keep is None else values[keep]

    # Case, activity and resource as dictionaries + integer codes: every key below is an integer, and each
    # output text column is built once, from its dictionary, in the final order.
    warnings = list(warnings)
    case_dict, case_codes = _encode(_arrow_text(f.pop("_case"), keep))
    id_note = flag_distinct_ids(case_dict) if len(case_codes) else None
    case_dict, case_codes = _sorted_codes(case_dict, case_codes)
    labels: dict[str, tuple[pa.Array, np.ndarray]] = {}
    for col, what in (("_activity", "activity"), ("_resource", "resource")):
        if col in f:
            dictionary, codes = _encode(_arrow_text(f.pop(col), keep))
            dictionary, codes, note = normalise_dictionary(dictionary, codes, what)
            labels[col] = (dictionary, codes)
            if note:
                warnings.append(note)
    warnings += [id_note] if id_note else []
    ts_all = f.pop("_ts")
    ts_i = ts_all.array.as_unit("ns").asi8  # UTC ns, NaT as the minimum int64 (a view, not a copy)
    ts_i = ts_i if keep is None else ts_i[keep]
    order_all = f["_order"].to_numpy()
    order_i = order_all if keep is None else order_all[keep]
    order_i = order_i.astype(np.int64, copy=False)
    perm = event_order(case_codes, ts_i, order_i)
    case_codes, ts_i = case_codes[perm], ts_i[perm]
    act_codes = labels["_activity"][1][perm]
    res_codes = labels["_resource"][1][perm] if "_resource" in labels else np.zeros(len(perm), dtype=np.int32)
    dictionaries = {col: dictionary for col, (dictionary, _) in labels.items()}
    del labels  # the codes in input order are not needed any more

    same_case = _same_as_previous(case_codes)
    same_act = _same_as_previous(act_codes) & same_case
    exact = same_act & _same_as_previous(ts_i) & _same_as_previous(res_codes)
    collapsed = 0
    if collapse_repeats:
        drop = same_act & ~exact
        collapsed = int(drop.sum())
        if collapsed:
            retained = ~drop
            perm, case_codes, ts_i, act_codes, res_codes = (a[retained] for a in (perm, case_codes, ts_i, act_codes,
                                                                                   res_codes))
    rows = perm if keep is None else keep[perm]  # positions in the staged frame, in log order
    identity = len(rows) == n_staged and bool(np.all(rows == np.arange(len(rows))))

    def gather(s: pd.Series) -> pd.Series:
        if identity:
            return s.reset_index(drop=True)
        if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
            return pd.Series(pd.array(_arrow_text(s, None).take(pa.array(rows)), dtype=s.dtype))
        return s.take(rows).reset_index(drop=True)

    df = pd.DataFrame({CASE: _from_codes(case_dict, case_codes),
                       ACTIVITY: _from_codes(dictionaries["_activity"], act_codes),
                       TIMESTAMP: gather(ts_all) if identity or ts_all.dtype != _UTC_NS else  # same values as ts_i
                       pd.Series(pd.DatetimeIndex(ts_i.view("M8[ns]"), tz="UTC"))})
    del ts_all
    if "_resource" in dictionaries:
        df[RESOURCE] = _from_codes(dictionaries["_resource"], res_codes)
    if "_start" in f:
        df[START_TIMESTAMP] = gather(f.pop("_start")).dt.tz_convert("UTC")
    df[ORDER] = f.pop("_order").to_numpy()[rows].astype("int64", copy=False)
    df[SOURCE_ROW] = f.pop("_row").to_numpy()[rows].astype("int64", copy=False)
    renamed: list[str] = []
    attrs: dict[str, pd.Series] = {}
    taken = set(df.columns)
    for c in list(f):
        if c not in INTERNAL:
            name_kept = input_column_name(c, taken)  # not ``name``: that is the log's name
            taken.add(name_kept)
            if name_kept != c:
                renamed.append(f"{c!r} → {name_kept!r}")
            col = f.pop(c)
            if isinstance(col.dtype, pd.ArrowDtype):  # a typed Parquet column: gathered as numbers, then text
                attrs[name_kept] = text_of(gather(col))
                continue
            attrs[name_kept] = gather(col if isinstance(col.dtype, pd.DatetimeTZDtype) else _text(col))
    if attrs:  # one concat, not one insert per column: thousands of columns stay linear
        df = pd.concat([df, pd.DataFrame(attrs, index=df.index)], axis=1)
    if renamed:
        warnings = warnings + [f"{len(renamed)} input columns have the name of a column the log itself uses and "
                               "are kept under another name (the mapping decides case, activity, time and "
                               "resource): " + ", ".join(renamed)]
    # without times, repeated (case, activity) pairs are ordinary rework, not duplicate events
    duplicates = _count_duplicates(case_codes, act_codes, ts_i, res_codes) if times else 0

    report = IngestReport(
        source=source, sha256=sha256, shape=shape, preset=preset, mapping=mapping, timezone=timezone,
        rows_read=staged.rows_read, events=len(df), cases=int(case_codes.max()) + 1 if len(case_codes) else 0, quarantined=quarantined,
        collapsed_duplicates=collapsed, duplicate_events=duplicates, filtered=dict(staged.filtered),
        warnings=list(dict.fromkeys(warnings + staged.warnings)), timestamp_offsets=list(staged.timestamp_offsets),
    )
    if START_TIMESTAMP in df:
        backwards = int((df[START_TIMESTAMP] > df[TIMESTAMP]).sum())
        if backwards:
            report.warnings.append(f"{backwards:,} events end before they start (end timestamp earlier than start); "
                                   "kept as exported")
    if duplicates:
        report.warnings.append(f"{duplicates:,} events repeat an earlier event exactly (case, activity, timestamp, "
                               "resource); kept")
    report.has_timestamps = times
    report.check_balance()
    report.require_events()
    # Same invariants as EventLog.from_frame (canonical columns, UTC, text dtypes, sorted), without a text sort.
    return EventLog(df=df, report=report, name=name or source)
