"""The conformance summary: fitness, precision, shares per kind and activity, effect of each pattern on throughput."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..memory import system_arrow_pool
from ..model import TIMESTAMP, EventLog
from .alignment import MOVE_COST
from .variants import Variants

KIND_ORDER = ("missing", "unexpected", "out_of_order", "rule", "not_computed")


def case_durations_days(log: EventLog, variants: Variants) -> np.ndarray:
    """Throughput time per case (first to last event), in days, in the order of ``variants.case_ids``."""
    if variants.n_variants == 0:
        return np.array([], dtype=float)
    col = log.df[TIMESTAMP].array  # a view of the column's UTC values as naive datetime64 (no copy of the column)
    ts = col.asi8.view(f"M8[{col.unit}]")
    first = ts[variants.case_start]
    last = ts[variants.case_start + variants.case_len - 1]
    return (last - first) / np.timedelta64(1, "s") / 86_400.0


def _case_index(variants: Variants) -> pd.Index:
    """The case ids as text, for looking up a case's position."""
    return pd.Index(variants.case_id_texts, dtype=object)


@system_arrow_pool()  # its filters and groups: many short-lived Arrow buffers (issue 17: peak memory)
def summarise(
    log: EventLog,
    variants: Variants,
    deviations: pd.DataFrame,
    *,
    fitness: float | None,
    precision: float | None,
    costs: np.ndarray,
    mode: str,
    not_computed: Sequence[int],
    unknown_activities: list[str],
    model_only: list[str],
    renamed: dict[str, int],
    ignored: dict[str, int],
    running: int,
) -> dict[str, Any]:
    """A JSON-ready summary; shares are fractions of all cases (0..1), durations in days.

    ``patterns``: one entry per (kind, activity, rule) with the number of
    cases, and the median throughput time of those cases against the median
    of conforming cases (no open deviation at all) -- do deviating cases take
    longer?
    """
    n_cases = int(variants.counts.sum()) if variants.n_variants else 0
    # only the columns counted here: every filter and group below copies its rows, and the message, evidence and
    # resource texts of a big deviation list are most of its size (issue 17: peak memory of each step)
    keys = deviations[["case_id", "kind", "activity", "rule_id"]]
    open_dev = keys[~deviations["accepted"].astype(bool).to_numpy()] if not deviations.empty else keys
    deviating_cases = set(open_dev["case_id"].astype(str)) if not open_dev.empty else set()
    computed = costs >= 0
    fitting = int(variants.counts[computed & (costs < MOVE_COST)].sum()) if mode == "alignments" else \
        int(variants.counts[costs == 0].sum())
    durations = case_durations_days(log, variants)
    case_index = _case_index(variants)
    deviating_pos = case_index.get_indexer(list(deviating_cases)) if deviating_cases else np.array([], dtype=np.int64)
    conforming_mask = np.ones(len(durations), dtype=bool)
    conforming_mask[deviating_pos[deviating_pos >= 0]] = False
    conforming_median = float(pd.Series(durations[conforming_mask]).median()) if conforming_mask.any() else None

    # the open rows' cases as integer codes (a missing id is -1 and not counted): a share is the number of
    # distinct codes under a mask, with no copy of the rows
    case_code = pd.factorize(open_dev["case_id"])[0]

    def share(mask: np.ndarray) -> float:
        codes = case_code[mask]
        return round(len(np.unique(codes[codes >= 0])) / n_cases, 6) if n_cases else 0.0

    by_kind = {k: share((open_dev["kind"] == k).to_numpy(dtype=bool, na_value=False)) for k in KIND_ORDER} \
        if not open_dev.empty else dict.fromkeys(KIND_ORDER, 0.0)
    by_activity: dict[str, float] = {}
    patterns: list[dict[str, Any]] = []
    if not open_dev.empty:
        act_code, act_names = pd.factorize(open_dev["activity"], sort=True)
        for i, act in enumerate(act_names):
            by_activity[str(act)] = share(act_code == i)
        # a rule is one pattern whatever activity its rows name (e.g. max_idle names each case's last stage)
        act_key = open_dev["activity"].fillna("").where(open_dev["kind"] != "rule", "")
        keyed = open_dev.assign(_rule=open_dev["rule_id"].fillna(""), _act=act_key)
        for (kind, act, rule), grp in keyed.groupby(["kind", "_act", "_rule"], sort=False):
            cases = grp["case_id"].astype(str).unique()
            found = case_index.get_indexer(cases)
            med = pd.Series(durations[found[found >= 0]], dtype=float).median()
            patterns.append({
                "kind": kind,
                "activity": act or None,
                "rule_id": rule or None,
                "cases": int(len(cases)),
                "share": round(len(cases) / n_cases, 6) if n_cases else 0.0,
                "median_throughput_days": _r(med),
                "median_throughput_days_conforming": _r(conforming_median),
                "throughput_delta_days": _r(med - conforming_median) if conforming_median is not None else None,
            })
        patterns.sort(key=lambda p: (-p["cases"], p["kind"], p["activity"] or "", p["rule_id"] or ""))
    accepted_n = int(deviations["accepted"].astype(bool).sum()) if not deviations.empty else 0
    return {
        "fitness": fitness,
        "fitness_method": "pm4py alignment-based log_fitness (1 - sum of alignment costs / sum of best-worst costs)"
        if mode == "alignments" else "pm4py token-based replay log fitness",
        "precision": precision,
        "precision_method": "pm4py ETC precision (token-based replay), precision_token_based_replay",
        "cases": n_cases,
        "events": int(log.n_events),
        "variants": int(variants.n_variants),
        "fitting_cases": fitting,
        "running_cases": running,
        "deviating_cases": len(deviating_cases),
        "conforming_cases": n_cases - len(deviating_cases),
        "conformance_rate": round((n_cases - len(deviating_cases)) / n_cases, 6) if n_cases else None,
        "accepted_deviations": accepted_n,
        "deviations": int(len(open_dev)),
        "share_by_kind": by_kind,
        "share_by_activity": by_activity,
        "patterns": patterns,
        "not_computed_variants": len(not_computed),
        "not_computed_cases": int(sum(int(variants.counts[v]) for v in not_computed)),
        "unknown_activities": unknown_activities,
        "model_only_activities": model_only,
        "renamed_activities": renamed,
        "ignored_activities": ignored,
    }


def _r(x: Any) -> float | None:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return None
    return round(float(x), 4)
