"""Explicit, safe fixes for what the audit found. Never applied silently.

Each fix takes a log and returns a :class:`FixResult`: a new
:class:`~processmining.model.EventLog` whose ``history`` ends with a step that
says what was done and how often, the count of changed events, the events
removed (if any), and machine-readable details. The input log is untouched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ProcessMiningError
from ..model import ACTIVITY, CASE, START_TIMESTAMP, TIMESTAMP, EventLog
from .cases import _first_last, infer_boundary_activities
from .events import attribute_columns
from .findings import QualityConfig
from .labels import synonym_mapping


@dataclass(frozen=True)
class FixResult:
    """What a fix did: the new log, the history step, how many events changed or went, and details."""

    log: EventLog
    step: str
    changed: int
    removed: pd.DataFrame = field(default_factory=pd.DataFrame)
    details: Mapping[str, Any] = field(default_factory=dict)


def preview_merge_labels(
    log: EventLog,
    *,
    mapping: Mapping[str, str] | None = None,
    config: QualityConfig | None = None,
) -> pd.DataFrame:
    """What :func:`merge_synonymous_labels` would change, without changing anything.

    One row per label the log contains: ``label``, ``becomes``, ``events``,
    ``cases`` (most events first). Show it before a one-click fix.
    """
    counts = log.df[ACTIVITY].value_counts()
    if mapping is None:
        mapping, _ = synonym_mapping(counts, config or QualityConfig())
    used = {str(k): str(v) for k, v in mapping.items() if str(k) != str(v) and str(k) in counts.index}
    sub = log.df.loc[log.df[ACTIVITY].isin(list(used)), [CASE, ACTIVITY]]
    cases = sub.groupby(ACTIVITY, observed=True)[CASE].nunique()
    out = pd.DataFrame({"label": list(used), "becomes": list(used.values()),
                        "events": [int(counts[k]) for k in used], "cases": [int(cases.get(k, 0)) for k in used]})
    return out.sort_values(["events", "label"], ascending=[False, True], ignore_index=True)


def merge_synonymous_labels(
    log: EventLog,
    *,
    mapping: Mapping[str, str] | None = None,
    config: QualityConfig | None = None,
) -> FixResult:
    """Rename activity labels: ``mapping`` (label -> canonical label), default the audit's synonym mapping.

    Review the default mapping first (``synonymous_labels`` shows it with the
    reason for each pair). Labels in ``mapping`` that the log does not contain
    are listed in ``details["unused"]``.

    >>> res = merge_synonymous_labels(log, mapping={"Wating for Customer": "Waiting for Customer"})  # doctest: +SKIP
    >>> res.changed, res.log.history[-1]  # doctest: +SKIP
    (3, "quality: merged 1 labels into 1 (3 events): 'Wating for Customer' -> 'Waiting for Customer'")
    """
    counts = log.df[ACTIVITY].value_counts()
    if mapping is None:
        mapping, _ = synonym_mapping(counts, config or QualityConfig())
    mapping = {str(k): str(v) for k, v in mapping.items() if str(k) != str(v)}
    used = {k: v for k, v in mapping.items() if k in counts.index}
    unused = sorted(set(mapping) - set(used))
    df = log.df.copy()
    mask = df[ACTIVITY].isin(list(used))
    changed = int(mask.sum())
    df.loc[mask, ACTIVITY] = df.loc[mask, ACTIVITY].map(used)
    shown = "; ".join(f"{k!r} -> {v!r}" for k, v in sorted(used.items()))
    step = (f"quality: merged {len(used)} labels into {len(set(used.values()))} ({changed} events)"
            + (f": {shown}" if shown else ""))
    return FixResult(log=log.with_frame(df, step=step), step=step, changed=changed,
                     details={"mapping": used, "unused": unused,
                              "events_by_label": {k: int(counts[k]) for k in used}})


def drop_duplicate_events(log: EventLog, *, subset: Iterable[str] | None = None) -> FixResult:
    """Drop repeated events, keeping the first (lowest input order) of each group.

    ``subset=None`` drops only exact duplicates: identical in every attribute
    except the internal order/source-row columns. Pass
    ``subset=(CASE, ACTIVITY, TIMESTAMP)`` to drop every same-case,
    same-activity, same-instant repeat, as ``duplicate_events`` counts them.
    The removed events are in ``FixResult.removed``. An order-only log (no
    timestamps) is returned unchanged: a repeat with equal attributes is rework
    there, not a proven duplicate record.
    """
    if not log.has_timestamps:  # an order-only log: equal attributes are a repeat (rework), not proof of a copy
        step = ("quality: dropped no duplicate events: the log has no timestamps, so a step recorded twice cannot "
                "be told from a step done twice")
        return FixResult(log=log, step=step, changed=0, removed=log.df.iloc[0:0].reset_index(drop=True),
                         details={"columns": []})
    columns = list(subset) if subset is not None else attribute_columns(log)
    missing = [c for c in columns if c not in log.df.columns]
    if missing:
        raise ProcessMiningError(f"drop_duplicate_events: columns {missing} are not in the log",
                                 source=log.name)
    dup = log.df.duplicated(columns, keep="first")
    removed = log.df.loc[dup]
    n = int(dup.sum())
    what = "exact duplicate events" if subset is None else f"duplicate events by {', '.join(columns)}"
    step = f"quality: dropped {n} {what} from {removed[CASE].nunique()} cases"
    return FixResult(log=log.with_frame(log.df.loc[~dup], step=step), step=step, changed=n,
                     removed=removed.reset_index(drop=True), details={"columns": columns})


def exclude_incomplete_cases(
    log: EventLog,
    *,
    config: QualityConfig | None = None,
    missing_start: bool = True,
    missing_end: bool = True,
) -> FixResult:
    """Remove the cases that do not begin with a start activity and/or do not end with an end activity.

    Start and end activities come from ``config`` or are inferred exactly as
    in the ``incomplete_cases`` check. ``details["cases"]`` lists the
    removed case ids; ``FixResult.removed`` their events.
    """
    config = config or QualityConfig()
    starts, ends = infer_boundary_activities(log, config=config)
    first, last = _first_last(log)
    bad: set[str] = set()
    if missing_start and starts:
        bad |= set(first.loc[~first[ACTIVITY].isin(starts), CASE].astype(str))
    if missing_end and ends:
        bad |= set(last.loc[~last[ACTIVITY].isin(ends), CASE].astype(str))
    mask = log.df[CASE].isin(bad)
    removed = log.df.loc[mask]
    step = (f"quality: excluded {len(bad)} incomplete cases ({int(mask.sum())} events); "
            f"start activities {list(starts)}, end activities {list(ends)}")
    return FixResult(log=log.with_frame(log.df.loc[~mask], step=step), step=step, changed=int(mask.sum()),
                     removed=removed.reset_index(drop=True),
                     details={"cases": sorted(bad), "start_activities": list(starts), "end_activities": list(ends)})


def shift_timezone(log: EventLog, *, timezone: str, assumed: str | None = None) -> FixResult:
    """Re-read naive timestamps as wall-clock time in ``timezone`` instead of ``assumed``.

    ``assumed`` is the zone the naive values were read in (default: the
    ingest report's timezone, else UTC). Only correct for timestamps that had
    no offset in the source. Wall-clock times that do not exist in
    ``timezone`` (spring-forward gap) are moved forward; ambiguous ones
    (fall-back hour) are read as standard time; both are counted in details.

    >>> res = shift_timezone(log, timezone="Europe/Berlin")  # doctest: +SKIP
    >>> res.log.history[-1]  # doctest: +SKIP
    'quality: re-read 1200 timestamps as Europe/Berlin instead of UTC (shift -1 h / -2 h)'
    """
    assumed = assumed or (log.report.timezone if log.report is not None and log.report.timezone else "UTC")
    details: dict[str, Any] = {"timezone": timezone, "assumed": assumed}
    df = log.df.copy()
    columns = [TIMESTAMP] + ([START_TIMESTAMP] if START_TIMESTAMP in df.columns else [])
    changed = 0
    for column in columns:
        try:
            wall = df[column].dt.tz_convert(assumed).dt.tz_localize(None)
            standard = wall.dt.tz_localize(timezone, ambiguous=np.zeros(len(wall), dtype=bool),
                                           nonexistent="shift_forward")
            summer = wall.dt.tz_localize(timezone, ambiguous=np.ones(len(wall), dtype=bool),
                                         nonexistent="shift_forward")
            gap = wall.dt.tz_localize(timezone, ambiguous=np.zeros(len(wall), dtype=bool), nonexistent="NaT")
        except (KeyError, ValueError) as exc:  # zoneinfo raises KeyError subclasses for unknown names
            raise ProcessMiningError(f"unknown time zone {timezone!r} or {assumed!r}: {exc}",
                                     source=log.name) from exc
        shifted = standard.dt.tz_convert("UTC")
        details[f"{column} ambiguous"] = int((standard != summer).sum())
        details[f"{column} nonexistent"] = int((gap.isna() & wall.notna()).sum())
        changed += int((shifted != df[column]).fillna(False).sum())
        df[column] = shifted
    offsets = (df[TIMESTAMP] - log.df[TIMESTAMP]).dt.total_seconds().div(3600).round(2).value_counts()
    details["shift_hours"] = {float(k): int(v) for k, v in offsets.items()}
    shown = " / ".join(f"{k:+g} h" for k in sorted(details["shift_hours"]))
    step = f"quality: re-read {changed} timestamps as {timezone} instead of {assumed} (shift {shown})"
    return FixResult(log=log.with_frame(df, step=step), step=step, changed=changed, details=details)
