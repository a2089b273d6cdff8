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
)
from .shapes import Staged

MISSING_CASE = "missing case id"
MISSING_ACTIVITY = "missing activity"
MISSING_TIMESTAMP = "missing timestamp"


def _quarantine(staged: Staged, mapping: dict[str, str]) -> tuple[np.ndarray, list[QuarantinedRow]]:
    f = staged.frame
    case_col = mapping.get("case")
    act_col = mapping.get("activity")
    no_case = f["_case"].isna().to_numpy()
    no_act = f["_activity"].isna().to_numpy() & ~no_case
    no_ts = (f["_ts"].isna() & f["_ts_err"].isna()).to_numpy() & ~no_case & ~no_act
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


def _same_as_previous(s: pd.Series) -> np.ndarray:
    return s.eq(s.shift()).fillna(False).to_numpy(dtype=bool)


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
    """Build the :class:`EventLog` and its balanced :class:`IngestReport` from staged events."""
    mapping = dict(staged.mapping)
    bad, quarantined = _quarantine(staged, mapping)
    quarantined = [QuarantinedRow(row=r, reason=why, column=col, value=val)
                   for r, why, col, val in staged.quarantined] + quarantined
    quarantined.sort(key=lambda q: q.row)
    ok = staged.frame.loc[~bad]
    ok = ok.sort_values(["_case", "_ts", "_order"], kind="stable", ignore_index=True)

    same_case = _same_as_previous(ok["_case"])
    same_act = _same_as_previous(ok["_activity"]) & same_case
    res = ok["_resource"] if "_resource" in ok else pd.Series("", index=ok.index)
    same_time = _same_as_previous(ok["_ts"])
    same_res = _same_as_previous(res.fillna("\0"))
    exact = same_act & same_time & same_res
    collapsed = 0
    if collapse_repeats:
        drop = same_act & ~exact
        collapsed = int(drop.sum())
        ok = ok.loc[~drop].reset_index(drop=True)

    df = pd.DataFrame({CASE: ok["_case"].astype("string"), ACTIVITY: ok["_activity"].astype("string"),
                       TIMESTAMP: ok["_ts"]})
    if "_resource" in ok:
        df[RESOURCE] = ok["_resource"].astype("string")
    if "_start" in ok:
        df[START_TIMESTAMP] = ok["_start"]
    df[ORDER] = ok["_order"].astype("int64")
    df[SOURCE_ROW] = ok["_row"].astype("int64")
    for c in ok.columns:
        if not c.startswith("_"):
            df[c] = ok[c].astype("string") if not isinstance(ok[c].dtype, pd.DatetimeTZDtype) else ok[c]
    keys = [CASE, ACTIVITY, TIMESTAMP] + ([RESOURCE] if RESOURCE in df else [])
    duplicates = int(df.duplicated(keys).sum()) if len(df) else 0

    report = IngestReport(
        source=source, sha256=sha256, shape=shape, preset=preset, mapping=mapping, timezone=timezone,
        rows_read=staged.rows_read, events=len(df), cases=int(df[CASE].nunique()), quarantined=quarantined,
        collapsed_duplicates=collapsed, duplicate_events=duplicates, filtered=dict(staged.filtered),
        warnings=list(dict.fromkeys(warnings + staged.warnings)),
    )
    if duplicates:
        report.warnings.append(f"{duplicates:,} events repeat an earlier event exactly (case, activity, timestamp, "
                               "resource); kept")
    report.check_balance()
    return EventLog.from_frame(df, report=report, name=name or source)
