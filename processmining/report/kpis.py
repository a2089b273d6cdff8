"""KPIs with targets: win rate, sales-cycle length, time in stage, first response, resolution, reopen rate, handovers.

Every figure comes from a library analysis: win and loss from the end
activities, cycle length from :func:`processmining.performance.case_durations`,
time in stage from the stage SLA of :func:`processmining.performance.sla_breaches`,
first response and resolution from :func:`processmining.performance.first_pairs`
(in working time when a :class:`~processmining.performance.calendar.BusinessCalendar`
is given), reopen rate from :func:`processmining.performance.rework`, handovers from
:func:`processmining.performance.handover_counts`.

A targets file (YAML)::

    won: ["Closed Won"]                  # settings (defaults come from the preset)
    first_response: "start->1st Line Support"
    resolution: "start->Resolved"
    reopen: Resolved
    handover_limit: 3
    targets:
      win_rate: {target: 0.4, warning: 0.3}
      sales_cycle: {target: 60d, warning: 90d}
      time_in_stage: {target: 14d}
      first_response: {target: 4h, warning: 8h}
      resolution: {target: 5d}
      reopen_rate: {target: 0.05}
      handover_share: {target: 0.1}

Status: ``ok`` when the target is met, ``warning`` when only the warning level
is met (default: 25 % beyond the target), ``breach`` otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import AnalysisError
from ..model import ACTIVITY, CASE, RESOURCE, EventLog
from ..performance.calendar import BusinessCalendar, working_durations

KPI_COLUMNS = ["kpi", "stage", "actual", "unit", "target", "warning", "direction", "status", "cases"]

#: which direction is good: "max" = the actual must stay at or below the target
DIRECTION = {"win_rate": "min", "sales_cycle": "max", "time_in_stage": "max", "first_response": "max",
             "resolution": "max", "reopen_rate": "max", "handover_share": "max", "cycle_time": "max"}
UNIT = {"win_rate": "share", "reopen_rate": "share", "handover_share": "share"}

_DEFAULTS: dict[str, dict[str, Any]] = {
    "salesforce-field-history": {"won": ["Closed Won", "Order Booked"], "targets": {
        "win_rate": {"target": 0.45, "warning": 0.35}, "sales_cycle": {"target": "60d", "warning": "90d"},
        "time_in_stage": {"target": "30d"}}},
    "hubspot-deals": {"won": ["Closed Won"], "targets": {
        "win_rate": {"target": 0.45, "warning": 0.35}, "sales_cycle": {"target": "60d", "warning": "90d"},
        "time_in_stage": {"target": "30d"}}},
    "jira-changelog": {"first_response": "start->1st Line Support", "resolution": "start->Resolved",
                       "reopen": "Resolved", "handover_limit": 3, "targets": {
        "first_response": {"target": "4h", "warning": "8h"}, "resolution": {"target": "5d", "warning": "7d"},
        "reopen_rate": {"target": 0.05, "warning": 0.1}, "handover_share": {"target": 0.1, "warning": 0.2}}},
}
#: a log without a preset: the figures are shown, but no target is assumed (a 10 % handover target written for
#: support tickets says nothing about paper reviews or permits); give targets with --targets
_GENERIC = {"handover_limit": 3, "targets": {"cycle_time": {"target": None}, "handover_share": {"target": None}}}


def kpi_settings(preset: str | None, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The KPI settings and targets for ``preset`` with ``overrides`` (a parsed targets file) applied."""
    from ..ingest.presets import analysis_defaults

    base = analysis_defaults(preset)
    out: dict[str, Any] = {"stages": base.get("stages") or [], "lost": base.get("lost"), "ends": base.get("ends"),
                           **{k: v for k, v in _DEFAULTS.get(preset or "", _GENERIC).items() if k != "targets"}}
    targets = {k: dict(v) for k, v in _DEFAULTS.get(preset or "", _GENERIC)["targets"].items()}
    for key, value in (overrides or {}).items():
        if key == "targets":
            if not isinstance(value, Mapping):
                raise AnalysisError("targets: expected a mapping like {win_rate: {target: 0.4}}")
            for kpi, spec in value.items():
                if kpi not in DIRECTION:
                    raise AnalysisError(f"unknown KPI {kpi!r}; known: {', '.join(DIRECTION)}")
                targets[kpi] = dict(spec) if isinstance(spec, Mapping) else {"target": spec}
        else:
            out[key] = value
    out["targets"] = targets
    return out


def load_targets(path: str | Path) -> dict[str, Any]:
    """Read a KPI targets YAML file (see the module docstring)."""
    from ..safe_input import read_yaml_mapping

    doc, _ = read_yaml_mapping(path, what="targets file",
                               expected="a targets file is a YAML mapping (see `processmining kpis --help`)")
    return doc


def _limit(kpi: str, value: Any) -> float | None:
    from ..performance import parse_duration

    if value is None:
        return None
    return float(value) if UNIT.get(kpi) == "share" else parse_duration(value)


def status(actual: float, target: float | None, warning: float | None, direction: str) -> str:
    """``ok`` / ``warning`` / ``breach`` (``n/a`` without a target or an actual)."""
    if target is None or actual is None or not np.isfinite(actual):
        return "n/a"
    if direction == "max":
        warning = target * 1.25 if warning is None else warning
        return "ok" if actual <= target else "warning" if actual <= warning else "breach"
    warning = target * 0.8 if warning is None else warning
    return "ok" if actual >= target else "warning" if actual >= warning else "breach"


def _pair_times(log: EventLog, spec: str, calendar: BusinessCalendar | None) -> tuple[np.ndarray, np.ndarray]:
    """Case ids and durations (working time with ``calendar``) of the first ``a -> b`` of each case."""
    from ..performance import first_pairs

    a, _, b = spec.replace("→", "->").partition("->")
    a, b = a.strip(), b.strip()
    if not b:
        raise AnalysisError(f"cannot read {spec!r}; write e.g. start->1st Line Support")
    if b not in set(log.df[ACTIVITY].unique().tolist()):
        return np.array([], dtype=object), np.array([])
    pairs = first_pairs(log, None if a.lower() == "start" else a, b)
    done = pairs[pairs["to_pos"] >= 0]
    return done["case"].astype(str).to_numpy(), working_durations(calendar, done["from_t"].to_numpy(),
                                                                   done["to_t"].to_numpy())


def kpi_table(log: EventLog, *, preset: str | None = None, settings: Mapping[str, Any] | None = None,
              calendar: BusinessCalendar | None = None) -> pd.DataFrame:
    """The KPI table: one row per KPI (and per stage for time in stage) with target and status.

    ``settings`` is :func:`kpi_settings` output (default: the preset's). Shares
    are 0-1, durations seconds; ``cases`` is the number of cases the figure is
    computed on. On an order-only log (no timestamps) the KPIs that need
    times (cycle length, time in stage, first response, resolution) are left
    out and named in ``table.attrs["needs_times"]``; win rate, reopen rate and
    handovers need only the order of events.

    ``table.attrs["cases"]`` maps each row with a target to the cases on the wrong side of it (the
    evidence of a breach): closed but not won (win rate), won (sales cycle) or any case (cycle time)
    lasting longer than the target, a stay in the stage longer than the target, a first response or
    resolution slower than the target, the reopened cases, the cases handed over more than the limit.

    >>> kpi_table(log, preset="jira-changelog")[["kpi", "actual", "target", "status"]]
    """
    from ..performance import case_durations, handover_counts, rework, sla_breaches

    s = dict(settings) if settings is not None else kpi_settings(preset)
    targets: Mapping[str, Mapping[str, Any]] = s.get("targets", {})
    acts = set(log.df[ACTIVITY].unique().tolist())
    rows: list[dict[str, Any]] = []
    timed = log.has_timestamps
    needs_times: list[str] = []
    evidence: dict[int, list[str]] = {}

    def add(kpi: str, actual: float, cases: int, stage: str | None = None, spec: Mapping[str, Any] | None = None,
            beyond: Any = None) -> None:
        """One row; ``beyond(target)`` gives the cases on the wrong side of the target."""
        spec = spec if spec is not None else targets.get(kpi, {})
        tgt, warn = _limit(kpi, spec.get("target")), _limit(kpi, spec.get("warning"))
        if tgt is not None and beyond is not None:
            evidence[len(rows)] = sorted(map(str, beyond(tgt)))
        rows.append({"kpi": kpi, "stage": stage, "actual": actual, "unit": UNIT.get(kpi, "duration"), "target": tgt,
                     "warning": warn, "direction": DIRECTION[kpi],
                     "status": status(actual, tgt, warn, DIRECTION[kpi]), "cases": int(cases)})

    def longer(d: pd.DataFrame) -> Any:
        return lambda tgt: d.loc[d["duration_s"] > tgt, "case"]

    won = [w for w in (s.get("won") or []) if w in acts]
    lost = s.get("lost")
    durations = case_durations(log) if timed else None
    if won and lost in acts:
        df = log.df
        won_cases = set(df.loc[df[ACTIVITY].isin(won), CASE].tolist())
        closed = len(won_cases | set(df.loc[df[ACTIVITY] == lost, CASE].tolist()))
        lost_cases = set(df.loc[df[ACTIVITY] == lost, CASE].tolist()) - won_cases
        add("win_rate", len(won_cases) / closed if closed else float("nan"), closed, beyond=lambda _: lost_cases)
        if durations is None:
            needs_times.append("sales_cycle")
        else:
            d = durations[durations["case"].isin(won_cases)]
            add("sales_cycle", float(d["duration_s"].median()) if len(d) else float("nan"), len(d), beyond=longer(d))
    elif "cycle_time" in targets or not won:
        if durations is None:
            needs_times.append("cycle_time")
        else:
            d = durations["duration_s"]
            add("cycle_time", float(d.median()) if len(d) else float("nan"), len(d), beyond=longer(durations))
    stage_spec = targets.get("time_in_stage")
    if stage_spec is not None and not timed:
        needs_times.append("time_in_stage")
    elif stage_spec is not None:
        limit = stage_spec.get("target") or "0s"
        ends = set(s.get("ends") or [])
        stages = [st for st in s.get("stages") or [] if st in acts and st not in ends]
        if stages:
            breaches, summary = sla_breaches(log, [f"{st}<={limit}" for st in stages])
            for st, row in zip(stages, summary.itertuples(), strict=True):
                stayed = breaches.loc[breaches["target"] == row.target, "case"]
                add("time_in_stage", float(row.median_s), row.measured, stage=st, spec=stage_spec,
                    beyond=lambda _, stayed=stayed: stayed)
    for kpi in ("first_response", "resolution"):
        if s.get(kpi) and not timed:
            needs_times.append(kpi)
        elif s.get(kpi):
            ids, t = _pair_times(log, str(s[kpi]), calendar)
            if len(t):
                add(kpi, float(np.median(t)), len(t), beyond=lambda tgt, ids=ids, t=t: ids[t > tgt])
    reopen = s.get("reopen")
    if reopen and reopen in acts:
        rw = rework(log)
        measured = int(rw.loc[reopen, "cases"]) if reopen in rw.index else 0
        again = int(rw.loc[reopen, "cases_with_rework"]) if reopen in rw.index else 0
        per_case = rework(log, level="case")
        add("reopen_rate", again / measured if measured else float("nan"), measured,
            beyond=lambda _: per_case.loc[per_case["activity"] == reopen, "case"])
    if RESOURCE in log.df.columns and "handover_share" in targets:
        n = int(s.get("handover_limit", 3))
        counts = handover_counts(log)
        add("handover_share", float((counts > n).mean()) if len(counts) else float("nan"), len(counts),
            beyond=lambda _: counts.index[counts.to_numpy() > n])
        rows[-1]["stage"] = f">{n}"
    table = pd.DataFrame(rows, columns=KPI_COLUMNS)
    table.attrs["needs_times"] = needs_times
    table.attrs["cases"] = evidence
    return table


def kpi_cases(table: pd.DataFrame) -> pd.DataFrame:
    """The evidence sheet of a KPI table: one row per KPI (and stage) and case on the wrong side of its
    target (``table.attrs["cases"]``)."""
    cases = table.attrs.get("cases", {})
    rows = [(table.at[i, "kpi"], table.at[i, "stage"], table.at[i, "status"], c) for i, ids in cases.items() for c in ids]
    return pd.DataFrame(rows, columns=["kpi", "stage", "status", "case"])


__all__ = ["KPI_COLUMNS", "kpi_cases", "kpi_settings", "kpi_table", "load_targets", "status"]
