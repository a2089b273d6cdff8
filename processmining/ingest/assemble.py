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
    text_codes,
)
from .labels import flag_ids, normalise_labels
from .shapes import INTERNAL, Staged

MISSING_CASE = "missing case id"
MISSING_ACTIVITY = "missing activity"
MISSING_TIMESTAMP = "missing timestamp"


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
    for row in f.loc[no_case, "_row"]:
        out.append(QuarantinedRow(row=int(row), reason=MISSING_CASE, column=case_col))
    if no_act.any():
        reasons = f["_reason_activity"] if "_reason_activity" in f else pd.Series(pd.NA, index=f.index)
        for row, why in zip(f.loc[no_act, "_row"], reasons[no_act], strict=True):
            reason = MISSING_ACTIVITY if pd.isna(why) else f"{MISSING_ACTIVITY}: {why}"
            out.append(QuarantinedRow(row=int(row), reason=reason, column=act_col))
    for row, col in zip(f.loc[no_ts, "_row"], f.loc[no_ts, "_ts_col"], strict=True):
        out.append(QuarantinedRow(row=int(row), reason=MISSING_TIMESTAMP, column=str(col)))
    for row, why, col, raw in zip(f.loc[bad_ts, "_row"], f.loc[bad_ts, "_ts_err"], f.loc[bad_ts, "_ts_col"],
                                  f.loc[bad_ts, "_ts_raw"], strict=True):
        out.append(QuarantinedRow(row=int(row), reason=f"{why}: {raw!r}", column=str(col), value=str(raw)))
    bad = no_case | no_act | no_ts | bad_ts
    return bad, out


def _normalise(ok: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Activity and resource labels in one Unicode spelling (reported); case ids only flagged."""
    notes: list[str] = []
    ok = ok.copy() if len(ok) else ok
    for col, what in (("_activity", "activity"), ("_resource", "resource")):
        if col in ok and len(ok):
            ok[col], note = normalise_labels(ok[col], what)
            if note:
                notes.append(note)
    if len(ok):
        note = flag_ids(ok["_case"])
        if note:
            notes.append(note)
    return ok, notes


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
    """
    mapping = dict(staged.mapping)
    bad, quarantined = _quarantine(staged, mapping)
    quarantined = [QuarantinedRow(row=r, reason=why, column=col, value=val)
                   for r, why, col, val in staged.quarantined] + quarantined
    quarantined.sort(key=lambda q: q.row)
    ok = staged.frame.loc[~bad] if bad.any() else staged.frame
    ok, notes = _normalise(ok)
    warnings = warnings + notes

    case_codes = text_codes(ok["_case"], sort=True)
    ts_i = np.asarray(ok["_ts"].dt.tz_convert("UTC").dt.tz_localize(None), dtype="datetime64[ns]").view("i8")
    order_i = ok["_order"].to_numpy(dtype=np.int64)
    perm = np.lexsort((order_i, ts_i, case_codes))
    case_codes, ts_i = case_codes[perm], ts_i[perm]
    act_codes = text_codes(ok["_activity"])[perm]
    res_codes = text_codes(ok["_resource"])[perm] if "_resource" in ok else np.zeros(len(perm), dtype=np.int64)

    same_case = _same_as_previous(case_codes)
    same_act = _same_as_previous(act_codes) & same_case
    exact = same_act & _same_as_previous(ts_i) & _same_as_previous(res_codes)
    collapsed = 0
    if collapse_repeats:
        drop = same_act & ~exact
        collapsed = int(drop.sum())
        if collapsed:
            keep = ~drop
            perm, case_codes, ts_i, act_codes, res_codes = (a[keep] for a in (perm, case_codes, ts_i, act_codes,
                                                                               res_codes))
    in_order = len(perm) == len(ok) and bool(np.all(perm[1:] > perm[:-1])) if len(perm) else True
    ok = ok.reset_index(drop=True) if in_order else ok.take(perm).reset_index(drop=True)

    df = pd.DataFrame({CASE: _text(ok["_case"]), ACTIVITY: _text(ok["_activity"]), TIMESTAMP: ok["_ts"]})
    if "_resource" in ok:
        df[RESOURCE] = _text(ok["_resource"])
    if "_start" in ok:
        df[START_TIMESTAMP] = ok["_start"].dt.tz_convert("UTC")
    df[ORDER] = ok["_order"].astype("int64")
    df[SOURCE_ROW] = ok["_row"].astype("int64")
    renamed: list[str] = []
    attrs: dict[str, pd.Series] = {}
    taken = set(df.columns)
    for c in ok.columns:
        if c not in INTERNAL:
            kept = input_column_name(c, taken)  # not ``name``: that is the log's name
            taken.add(kept)
            if kept != c:
                renamed.append(f"{c!r} → {kept!r}")
            attrs[kept] = ok[c] if isinstance(ok[c].dtype, pd.DatetimeTZDtype) else _text(ok[c])
    if attrs:  # one concat, not one insert per column: thousands of columns stay linear
        df = pd.concat([df, pd.DataFrame(attrs, index=df.index)], axis=1)
    if renamed:
        warnings = warnings + [f"{len(renamed)} input columns have the name of a column the log itself uses and "
                               "are kept under another name (the mapping decides case, activity, time and "
                               "resource): " + ", ".join(renamed)]
    # without times, repeated (case, activity) pairs are ordinary rework, not duplicate events
    duplicates = _count_duplicates(case_codes, act_codes, ts_i, res_codes) if has_times(staged) else 0

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
    report.has_timestamps = has_times(staged)
    report.check_balance()
    report.require_events()
    # Same invariants as EventLog.from_frame (canonical columns, UTC, text dtypes, sorted), without a text sort.
    return EventLog(df=df, report=report, name=name or source)
