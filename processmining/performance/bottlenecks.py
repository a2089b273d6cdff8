"""Where time is lost: the bottleneck ranking and SLA / target checks.

:func:`bottleneck_ranking` answers "where is time lost?" in one table: the
arcs of the process map and the activities, ranked by their share of the total
waiting time (and of the total processing time when the log has start times).
:func:`sla_breaches` checks targets such as ``"Open->1st Line Support<=4h"``
or ``"Negotiation/Review<=14d"`` (time spent in a stage) and lists every
breaching case with by how much.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..discovery import ProcessMap, process_map
from ..errors import AnalysisError
from ..model import ACTIVITY, RESOURCE, EventLog
from .times import (
    activity_performance,
    as_of_seconds,
    first_pairs,
    parse_duration,
    require_timestamps,
    to_timestamps,
)


# ------------------------------------------------------------------ ranking
def bottleneck_ranking(log: EventLog, *, pm: ProcessMap | None = None, top: int | None = None) -> pd.DataFrame:
    """Arcs and activities ranked by their share of the total waiting (or processing) time.

    Columns: ``kind`` (``"arc"``: waiting between two activities;
    ``"waiting before"``: all waiting that ends at the activity;
    ``"processing"``: complete − start, only with start timestamps), ``name``,
    ``source``, ``target``, ``frequency``, ``cases``, ``total_s``, ``share``
    (of the total waiting time for arcs and "waiting before" rows, of the total
    processing time for processing rows), ``mean_s``, ``median_s``. Largest total
    first. Pass ``pm`` to reuse a map you already computed.

    >>> bottleneck_ranking(log, top=10)[["name", "share", "median_s"]]
    """
    require_timestamps(log, "the bottleneck ranking")
    return rank_bottlenecks(pm or process_map(log), activity_performance(log), top=top)


def rank_bottlenecks(pm: ProcessMap, acts: pd.DataFrame, *, top: int | None = None) -> pd.DataFrame:
    """The table of :func:`bottleneck_ranking` from a process map and its :func:`activity_performance` table
    (the Spark engine computes both on the cluster and calls this)."""
    arcs = pm.arcs
    total_wait = float(arcs["wait_total_s"].sum()) if len(arcs) else 0.0
    rows = [pd.DataFrame({
        "kind": "arc", "name": arcs["source"].astype(str) + " → " + arcs["target"].astype(str),
        "source": arcs["source"],
        "target": arcs["target"], "frequency": arcs["frequency"], "cases": arcs["cases"],
        "total_s": arcs["wait_total_s"], "mean_s": arcs["wait_mean_s"], "median_s": arcs["wait_median_s"]})]
    w = acts[acts["wait_before_total_s"].notna()]
    rows.append(pd.DataFrame({
        "kind": "waiting before", "name": w.index, "source": None, "target": w.index, "frequency": w["events"],
        "cases": w["cases"], "total_s": w["wait_before_total_s"], "mean_s": w["wait_before_mean_s"],
        "median_s": w["wait_before_median_s"]}))
    out = pd.concat(rows, ignore_index=True)
    out["share"] = out["total_s"] / total_wait if total_wait > 0 else 0.0
    if pm.has_start_times:
        p = acts[acts["processing_total_s"].notna()]
        total_proc = float(p["processing_total_s"].sum())
        proc = pd.DataFrame({
            "kind": "processing", "name": p.index, "source": None, "target": p.index, "frequency": p["events"],
            "cases": p["cases"], "total_s": p["processing_total_s"], "mean_s": p["processing_mean_s"],
            "median_s": p["processing_median_s"]})
        proc["share"] = proc["total_s"] / total_proc if total_proc > 0 else 0.0
        out = pd.concat([out, proc], ignore_index=True)
    out = out.sort_values(["total_s", "kind", "name"], ascending=[False, True, True], ignore_index=True)
    out = out[["kind", "name", "source", "target", "frequency", "cases", "total_s", "share", "mean_s", "median_s"]]
    return out.head(top) if top else out


# ------------------------------------------------------------------ SLA targets
@dataclass(frozen=True)
class SlaTarget:
    """A time target: from ``source`` to the first ``target`` after it, or (``target=None``) the time
    spent in the stage ``source`` (from its event to the next event of the case).

    ``source=None`` with a target measures from the case start. ``where`` restricts
    the cases: ``(column, value)``, e.g. ``("case:priority", "High")``.
    """

    label: str
    source: str | None
    target: str | None
    limit_s: float
    where: tuple[str, str] | None = None


_SLA = re.compile(r"^\s*(?P<body>.+?)\s*<=\s*(?P<limit>[^<>]+?)(?:\s+if\s+(?P<col>[^=]+?)\s*=\s*(?P<val>.+?))?\s*$")


def parse_sla(text: str) -> SlaTarget:
    """Read a target like ``"Open->1st Line Support<=4h"``, ``"Negotiation/Review<=14d"`` or
    ``"Open->Resolved<=5d if priority=High"`` (``start->X`` measures from the case start).

    >>> parse_sla("Prospecting->Proposal/Price Quote<=30d").limit_s
    2592000.0
    """
    m = _SLA.match(text or "")
    if not m:
        raise AnalysisError(f"cannot read SLA {text!r}; write e.g. \"Open->1st Line Support<=4h\" or \"Stage<=14d\"")
    body = m["body"].replace("→", "->")
    limit = parse_duration(m["limit"])
    where = (m["col"].strip(), m["val"].strip()) if m["col"] else None
    if "->" in body:
        a, b = (p.strip() for p in body.split("->", 1))
        if not a or not b:
            raise AnalysisError(f"cannot read SLA {text!r}: an activity is missing around '->'")
        return SlaTarget(label=text.strip(), source=None if a.lower() == "start" else a, target=b,
                         limit_s=limit, where=where)
    return SlaTarget(label=text.strip(), source=body.strip(), target=None, limit_s=limit, where=where)


def _restrict(log: EventLog, where: tuple[str, str] | None) -> EventLog:
    if where is None:
        return log
    col, val = where
    if col not in log.df.columns and f"case:{col}" in log.df.columns:
        col = f"case:{col}"
    from ..filters import filter_case_attribute

    return filter_case_attribute(log, col, [val])


def _check(log: EventLog, names: Iterable[str | None], label: str) -> None:
    known = set(log.df[ACTIVITY].unique().tolist())
    for n in names:
        if n is not None and n not in known:
            raise AnalysisError(f"SLA {label!r}: activity {n!r} does not occur in the log", source=log.name)


BREACH_COLUMNS = ["target", "case", "from_activity", "to_activity", "from_time", "to_time", "duration_s",
                  "limit_s", "excess_s", "status"]
#: what happened to each measured case of a target (see :func:`sla_cases`)
SLA_STATUSES = ("met", "late", "open", "pending", "not_reached")


def sla_cases(
    log: EventLog,
    target: SlaTarget | str,
    *,
    as_of: str | pd.Timestamp | None = None,
    end_activities: Iterable[str] | None = None,
    from_occurrence: str = "first",
    to_occurrence: str = "first",
    require_target: bool = True,
) -> pd.DataFrame:
    """THE SLA primitive: every case where the clock of ``target`` started, and what became of it.

    Columns: ``case``, ``from_activity``, ``to_activity``, ``from_t`` / ``to_t``
    (seconds; ``to_t`` NaN while not done), ``duration_s`` (until done, else until
    ``as_of``), ``status``: ``"met"`` (done within the limit), ``"late"`` (done
    after it), ``"open"`` (not done, the case is still running and already over
    the limit), ``"pending"`` (not done, running, still within the limit),
    ``"not_reached"`` (the case finished without the target: not judged).
    Finished / running is :func:`processmining.status.case_status` with
    ``end_activities`` (inferred from the data when ``None``). Exactly at the
    limit is within it. The Bottlenecks view and the ``max_duration`` rule both
    call this, so they count the same cases. ``require_target=False`` (rules,
    whose activities were checked against the model too) accepts a target that
    no case has reached yet: every started case is then pending or open.
    """
    from ..status import case_status

    tgt = parse_sla(target) if isinstance(target, str) else target
    if not log.has_timestamps:
        raise AnalysisError(f"SLA {tgt.label!r}: the log has no timestamps, so no duration can be measured",
                            source=log.name)
    _check(log, [tgt.source, tgt.target] if require_target else [tgt.source], tgt.label)
    sub = _restrict(log, tgt.where)
    now = as_of_seconds(sub, as_of) if as_of is not None else as_of_seconds(log, None)
    if tgt.target is not None:
        pairs = first_pairs(sub, tgt.source, tgt.target, from_occurrence=from_occurrence,
                            to_occurrence=to_occurrence)
        done = pairs["to_pos"].to_numpy() >= 0
        dur = np.where(done, pairs["to_t"].to_numpy() - pairs["from_t"].to_numpy(), now - pairs["from_t"].to_numpy())
        frame = pd.DataFrame({"case": pairs["case"], "from_activity": tgt.source or "(case start)",
                              "to_activity": tgt.target, "from_t": pairs["from_t"], "to_t": pairs["to_t"],
                              "duration_s": dur, "done": done, "from_pos": pairs["from_pos"],
                              "to_pos": pairs["to_pos"]})
    else:
        frame = _stage_stays(sub, tgt.source or "", now)
    st = case_status(sub, end_activities=end_activities)
    return judge_sla(frame, st.loc[st["status"] == "finished", "case"], tgt)


def judge_sla(frame: pd.DataFrame, finished_ids: pd.Series, tgt: SlaTarget) -> pd.DataFrame:
    """The status of every measured case (the last step of :func:`sla_cases`), from the per-case clock
    ``frame`` (with ``done``) and the ids of the finished cases; the Spark engine calls it too."""
    finished = frame["case"].isin(finished_ids).to_numpy()
    if tgt.target is not None:  # a case that finished by reaching the target itself is done, not "not reached"
        finished = finished & ~frame["done"].to_numpy()
    done = frame["done"].to_numpy()
    over = frame["duration_s"].to_numpy() > tgt.limit_s
    status = np.select([done & over, done, finished, over], ["late", "met", "not_reached", "open"], "pending")
    frame["status"] = status
    return frame.drop(columns=["done"]).reset_index(drop=True)


def sla_breaches(
    log: EventLog,
    targets: Sequence[SlaTarget | str],
    *,
    as_of: str | pd.Timestamp | None = None,
    end_activities: Iterable[str] | None = None,
    final_activities: Iterable[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check time targets; return ``(breaches, summary)`` (each case judged by :func:`sla_cases`).

    ``breaches``: one row per breaching case and target — ``target``, ``case``,
    ``from_activity``, ``to_activity``, ``from_time``, ``to_time`` (NaT while
    still open), ``duration_s``, ``limit_s``, ``excess_s`` (by how much) and
    ``status``: ``"late"`` (done after the limit) or ``"open"`` (not done yet,
    the case still running and already over the limit at ``as_of``, default the
    log's last timestamp). For a stage target the longest stay in the stage is
    reported. A case that finished (its last event is one of ``end_activities``,
    given or inferred from the data; ``final_activities`` is the older name)
    without the target activity is counted as ``not_reached`` in the summary
    and never listed as a breach.

    ``summary``: per target ``measured`` (cases where the clock started),
    ``met``, ``late``, ``open_breached``, ``pending`` (open, within the limit), ``not_reached``,
    ``breach_share``, ``median_s``, ``p90_s``, ``limit_s``.

    >>> breaches, summary = sla_breaches(log, ["Open->1st Line Support<=4h"])
    """
    ends = end_activities if end_activities is not None else final_activities
    parsed = [parse_sla(t) if isinstance(t, str) else t for t in targets]
    return sla_tables(parsed, [sla_cases(log, tgt, as_of=as_of, end_activities=ends) for tgt in parsed])


def sla_tables(parsed: Sequence[SlaTarget], frames: Sequence[pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(breaches, summary)`` of :func:`sla_breaches` from each target's :func:`sla_cases` frame."""
    all_rows, summary = [], []
    for tgt, frame in zip(parsed, frames, strict=True):
        st = frame["status"].to_numpy()
        n = {k: int((st == k).sum()) for k in SLA_STATUSES}
        d = frame["duration_s"][np.isin(st, ["met", "late"])]
        summary.append({"target": tgt.label, "measured": int(len(frame)), "met": n["met"] + n["pending"],
                        "late": n["late"], "open_breached": n["open"], "pending": n["pending"],
                        "not_reached": n["not_reached"],
                        "breach_share": float((n["late"] + n["open"]) / len(frame)) if len(frame) else 0.0,
                        "median_s": float(d.median()) if len(d) else float("nan"),
                        "p90_s": float(d.quantile(0.9)) if len(d) else float("nan"), "limit_s": tgt.limit_s})
        b = frame[np.isin(st, ["late", "open"])]
        all_rows.append(pd.DataFrame({
            "target": tgt.label, "case": b["case"].to_numpy(), "from_activity": b["from_activity"].to_numpy(),
            "to_activity": b["to_activity"].to_numpy(), "from_time": to_timestamps(b["from_t"]),
            "to_time": to_timestamps(b["to_t"]), "duration_s": b["duration_s"].to_numpy(), "limit_s": tgt.limit_s,
            "excess_s": b["duration_s"].to_numpy() - tgt.limit_s, "status": b["status"].to_numpy()}))
    breaches = pd.concat(all_rows, ignore_index=True) if all_rows else pd.DataFrame(columns=BREACH_COLUMNS)
    breaches = breaches.sort_values(["target", "excess_s", "case"], ascending=[True, False, True], ignore_index=True)
    return breaches[BREACH_COLUMNS], pd.DataFrame(summary)


def _stage_stays(log: EventLog, stage: str, now: float) -> pd.DataFrame:
    """Per case, the longest stay in ``stage`` (from its event to the next event of the case)."""
    ev = log.codes
    n = len(ev.t)
    nxt = np.full(n, np.nan)
    if n > 1:
        nxt[:-1] = ev.t[1:]
    nxt[ev.ends] = np.nan
    rows = np.flatnonzero(ev.act_mask([stage]))
    done = ~np.isnan(nxt[rows])
    dur = np.where(done, nxt[rows] - ev.t[rows], now - ev.t[rows])
    to_pos = np.where(done, rows + 1, -1)
    frame = pd.DataFrame({"case": ev.case_ids[ev.case[rows]], "from_activity": stage, "to_activity": "(next event)",
                          "from_t": ev.t[rows], "to_t": nxt[rows], "duration_s": dur, "done": done,
                          "from_pos": rows, "to_pos": to_pos})
    frame = frame.sort_values(["case", "duration_s"], ascending=[True, False], kind="stable")
    return frame.drop_duplicates("case").reset_index(drop=True)


def bottleneck_report(
    log: EventLog,
    *,
    slas: Sequence[SlaTarget | str] = (),
    idle: str | None = None,
    end_activities: Sequence[str] | None = None,
    stage_order: Sequence[str] | None = None,
    lost: str | None = None,
    top: int | None = None,
    ping_pong_attribute: str = ACTIVITY,
    ping_pong_ignore: Sequence[str] = (),
    handover_attribute: str = RESOURCE,
) -> dict[str, pd.DataFrame]:
    """All "where is time lost?" tables for one log, named for export (CLI ``bottlenecks``, app download).

    Always: ``bottlenecks`` (ranking), ``activities``, ``arcs``, ``case_durations``
    (distribution), ``rework``, ``ping_pong``, ``handovers``. With ``slas``:
    ``sla_breaches`` and ``sla_summary``. With ``idle`` / ``end_activities``:
    ``stuck_cases``. With ``stage_order``: ``backward_moves`` and ``funnel``
    (drop-out stage from ``lost``).
    """
    require_timestamps(log, "the bottleneck report (waiting times, SLA, stuck cases)")
    from .handover import handovers, ping_pong
    from .times import (
        backward_moves,
        case_duration_stats,
        funnel,
        rework,
        stuck_cases,
        timing_note,
    )

    pm = process_map(log)
    tables: dict[str, pd.DataFrame] = {
        "summary": pd.DataFrame([{"cases": pm.n_cases, "events": pm.n_events, "activities": len(pm.activities),
                                  "timing": timing_note(log)}]),
        "bottlenecks": bottleneck_ranking(log, pm=pm, top=top),
        "activities": activity_performance(log).reset_index(),
        "arcs": pm.arcs,
        "case_durations": pd.DataFrame([case_duration_stats(log)]),
        "rework": rework(log).reset_index(),
        "ping_pong": ping_pong(log, attribute=ping_pong_attribute, ignore=ping_pong_ignore),
        "handovers": (handovers(log, attribute=handover_attribute) if handover_attribute in log.df.columns
                      else pd.DataFrame({"note": [f"the log has no {handover_attribute} column"]})),
    }
    if slas:
        tables["sla_breaches"], tables["sla_summary"] = sla_breaches(log, slas, end_activities=end_activities)
    if log.has_timestamps:
        from ..status import case_status, status_note

        st = case_status(log, end_activities=end_activities, idle=idle)
        tables["case_status"] = st
        tables["summary"]["case_status"] = status_note(st)
        if idle is not None:
            tables["stuck_cases"] = stuck_cases(log, idle=idle, end_activities=end_activities)
    if stage_order:
        tables["backward_moves"] = backward_moves(log, stage_order)
        tables["funnel"] = funnel(log, [s for s in stage_order if s != lost], lost=lost, end_activities=end_activities)
    return tables


__all__ = ["SLA_STATUSES", "SlaTarget", "bottleneck_ranking", "bottleneck_report", "judge_sla", "parse_sla", "rank_bottlenecks",
           "sla_breaches", "sla_cases", "sla_tables"]
