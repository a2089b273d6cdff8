"""Where the time goes, on Spark: the tables of :mod:`processmining.performance`, aggregated on the cluster.

Each function mirrors the local one of the same name (same columns, same
order, same numbers) and returns a small pandas table; the events stay on
the cluster. Per-event durations are the local engine's floats (see
:mod:`.frame`). Decisions made per case -- the case status, the SLA clock
and its verdict, stuck cases, the ranking -- are taken on the driver by the
local functions (:func:`~processmining.status.status_table`,
:func:`~processmining.performance.bottlenecks.judge_sla`,
:func:`~processmining.performance.bottlenecks.sla_tables`,
:func:`~processmining.performance.bottlenecks.rank_bottlenecks`) from
per-case facts computed here. Ping-pong and handovers are in :mod:`.handover`;
:func:`backward_moves` runs the local function on batches of whole cases on the executors.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..discovery import ProcessMap
from ..errors import AnalysisError
from ..model import ACTIVITY, RESOURCE
from ..performance import SlaTarget, parse_sla, timing_note
from ..performance.bottlenecks import judge_sla, rank_bottlenecks, sla_tables
from ..performance.times import add_lost_columns
from .discovery import process_map
from .frame import SparkLog
from .status import case_status, stuck_cases

__all__ = ["activity_performance", "backward_moves", "bottleneck_ranking", "bottleneck_report", "case_duration_stats", "funnel",
           "rework", "sla_breaches", "sla_cases", "stuck_cases"]


def _require_timestamps(log: SparkLog, what: str) -> None:
    if not log.has_timestamps:
        raise AnalysisError(f"the log has no timestamps (only the order of events): {what} needs times",
                            source=log.name)


def _activities(log: SparkLog) -> set[str]:
    return set(log.activity_cases().index)


# ------------------------------------------------------------------ activities and cases
def activity_performance(log: SparkLog) -> pd.DataFrame:
    """Per activity: events, cases, waiting before it and processing time; as the local function."""
    from pyspark.sql import functions as F

    _require_timestamps(log, "activity times")
    ev = log.events()
    if log.has_start_times:  # wait until the activity starts (its completion where the start is unknown)
        wait = F.greatest(F.col("stns").cast("double") / 1e9, F.col("pts")) - F.col("pts")
    else:
        wait = F.col("ts") - F.col("pts")
    out = ev.groupBy(F.col("a").alias("activity")).agg(
        F.count(F.lit(1)).alias("events"),
        F.avg(wait).alias("wait_before_mean_s"), F.median(wait).alias("wait_before_median_s"),
        F.sum(wait).alias("wait_before_total_s"),
        F.avg("proc").alias("processing_mean_s"), F.median("proc").alias("processing_median_s"),
        F.sum("proc").alias("processing_total_s")).toPandas()
    out = out.sort_values("activity").set_index("activity")
    out.index = out.index.astype(object)
    out.insert(1, "cases", log.activity_cases().reindex(out.index).to_numpy())
    out = out.astype({"events": np.int64, "cases": np.int64} | {c: float for c in out.columns[2:]})
    return out.sort_values(["wait_before_total_s", "events"], ascending=False, na_position="last")


def case_durations_frame(log: SparkLog) -> Any:
    """Per case (Spark): ``c``, ``first`` / ``last`` (s), ``events``, ``d`` (s, the local float)."""
    from pyspark.sql import functions as F

    return log.events().groupBy("c").agg(F.min("ts").alias("first"), F.max("ts").alias("last"),
                                         F.count(F.lit(1)).alias("events")) \
        .withColumn("d", F.col("last") - F.col("first"))


def case_duration_stats(log: SparkLog) -> dict[str, float]:
    """Distribution of case durations (s): count, mean, min, p10, p25, median, p75, p90, p95, max."""
    from pyspark.sql import functions as F

    _require_timestamps(log, "case durations")
    qs = [0.1, 0.25, 0.5, 0.75, 0.9, 0.95]
    row = case_durations_frame(log).agg(
        F.count(F.lit(1)).alias("n"), F.avg("d").alias("mean"), F.min("d").alias("min"), F.max("d").alias("max"),
        F.percentile(F.col("d"), F.array(*[F.lit(q) for q in qs])).alias("q")).first()
    if not row["n"]:
        return {"count": 0}
    q = [float(x) for x in row["q"]]
    return {"count": int(row["n"]), "mean": float(row["mean"]), "min": float(row["min"]), "p10": q[0],
            "p25": q[1], "median": q[2], "p75": q[3], "p90": q[4], "p95": q[5], "max": float(row["max"])}


def rework(log: SparkLog) -> pd.DataFrame:
    """Activities repeated within a case (``level="activity"`` of the local function)."""
    from pyspark.sql import functions as F

    out = log.events().groupBy("c", "a").count().groupBy(F.col("a").alias("activity")).agg(
        F.count(F.lit(1)).alias("cases"), F.sum((F.col("count") > 1).cast("long")).alias("cases_with_rework"),
        F.sum(F.col("count") - 1).alias("extra_executions")).toPandas()
    out = out.sort_values("activity").set_index("activity").astype(np.int64)
    out.index = out.index.astype(object)
    out["share_of_cases"] = out["cases_with_rework"] / out["cases"]
    return out.sort_values(["cases_with_rework", "extra_executions"], ascending=False, kind="stable")


# ------------------------------------------------------------------ SLA targets
def _clock_pairs(log: SparkLog, a: str | None, b: str, from_occurrence: str, to_occurrence: str) -> pd.DataFrame:
    """Per case with an ``a``: in-case positions and times (ns) of the clock's start and stop, as the local
    :func:`~processmining.performance.first_pairs`; to the driver (one row per case)."""
    from pyspark.sql import functions as F

    for name, occ in (("from_occurrence", from_occurrence), ("to_occurrence", to_occurrence)):
        if occ not in ("first", "last"):
            raise AnalysisError(f"{name} must be 'first' or 'last', got {occ!r}")
    ev = log.events()
    hit = F.struct("pos", "tns")
    pick_from = F.min if from_occurrence == "first" else F.max
    frm = F.min(hit) if a is None else pick_from(F.when(F.col("a") == a, hit))  # None: the case start
    per_case = ev.groupBy("c").agg(frm.alias("frm"), F.collect_list(F.when(F.col("a") == b, hit)).alias("bs"))
    later = F.filter(F.col("bs"), lambda x: x["pos"] > F.col("frm.pos"))
    stop = F.array_min(later) if to_occurrence == "first" else F.array_max(later)
    return per_case.filter(F.col("frm").isNotNull()).select(
        F.col("c").alias("case"), F.col("frm.pos").alias("fp"), F.col("frm.tns").alias("ftns"),
        stop["pos"].alias("tp"), stop["tns"].alias("ttns")).toPandas()


def _stage_stays(log: SparkLog, stage: str, now: float) -> pd.DataFrame:
    """Per case, the longest stay in ``stage`` (the first of equal ones), as the local ``_stage_stays``."""
    from pyspark.sql import functions as F

    nxt = F.col("ntns").cast("double") / 1e9
    dur = F.when(F.col("ntns").isNotNull(), nxt - F.col("ts")).otherwise(F.lit(now) - F.col("ts"))
    return log.events().filter(F.col("a") == stage).groupBy("c").agg(
        F.min(F.struct((-dur).alias("neg"), F.col("pos"), F.col("tns"), F.col("ntns"))).alias("s")).select(
        F.col("c").alias("case"), F.col("s.pos").alias("fp"), F.col("s.tns").alias("ftns"),
        F.when(F.col("s.ntns").isNotNull(), F.col("s.pos") + 1).alias("tp"), F.col("s.ntns").alias("ttns")).toPandas()


def sla_cases(log: SparkLog, target: SlaTarget | str, *, as_of: str | pd.Timestamp | None = None,
              end_activities: Iterable[str] | None = None, from_occurrence: str = "first",
              to_occurrence: str = "first", require_target: bool = True) -> pd.DataFrame:
    """:func:`processmining.performance.sla_cases` on Spark: the same per-case frame and statuses
    (positions are rows of the sorted log, as locally)."""
    tgt = parse_sla(target) if isinstance(target, str) else target
    if not log.has_timestamps:
        raise AnalysisError(f"SLA {tgt.label!r}: the log has no timestamps, so no duration can be measured",
                            source=log.name)
    known = _activities(log)
    for n in ([tgt.source, tgt.target] if require_target else [tgt.source]):
        if n is not None and n not in known:
            raise AnalysisError(f"SLA {tgt.label!r}: activity {n!r} does not occur in the log", source=log.name)
    now = log.now_seconds(as_of)  # the whole log's "now", also for a target with a condition (as locally)
    if tgt.where is not None:
        sub = restrict_cases(log, *tgt.where)
        try:
            return _judged(sub, tgt, now, end_activities, from_occurrence, to_occurrence)
        finally:
            sub.unpersist()
    return _judged(log, tgt, now, end_activities, from_occurrence, to_occurrence)


def restrict_cases(log: SparkLog, column: str, value: str) -> SparkLog:
    """The cases where some event has ``column`` equal to ``value`` (``case:<column>`` where the log has
    no ``column``): the local SLA condition, values read as the column's type
    (:func:`.filters.filter_case_attribute`, a semi-join on the cluster)."""
    from .filters import filter_case_attribute

    if column not in log.df.columns and f"case:{column}" in log.df.columns:
        column = f"case:{column}"
    return filter_case_attribute(log, column, [value])


def _judged(log: SparkLog, tgt: SlaTarget, now: float, end_activities: Iterable[str] | None,
            from_occurrence: str, to_occurrence: str) -> pd.DataFrame:
    """The per-case clock of ``tgt`` on ``log`` and its verdict (the end of :func:`sla_cases`)."""
    if tgt.target is not None:
        got = _clock_pairs(log, tgt.source, tgt.target, from_occurrence, to_occurrence)
        from_act, to_act = tgt.source or "(case start)", tgt.target
    else:
        got = _stage_stays(log, tgt.source or "", now)
        from_act, to_act = tgt.source or "", "(next event)"
    facts = log.case_facts()
    got = got.merge(facts[["case", "offset"]], on="case", how="left").sort_values("case", ignore_index=True)
    offset = got["offset"].to_numpy(dtype=np.int64)
    done = got["tp"].notna().to_numpy()
    from_t = got["ftns"].to_numpy(dtype=np.int64) / 1e9
    to_t = np.where(done, got["ttns"].fillna(0).to_numpy(dtype=np.int64) / 1e9, np.nan)
    frame = pd.DataFrame({"case": got["case"].to_numpy(dtype=object), "from_activity": from_act,
                          "to_activity": to_act, "from_t": from_t, "to_t": to_t,
                          "duration_s": np.where(done, to_t - from_t, now - from_t), "done": done,
                          "from_pos": offset + got["fp"].to_numpy(dtype=np.int64),
                          "to_pos": np.where(done, offset + got["tp"].fillna(0).to_numpy(dtype=np.int64), -1)})
    if frame.empty:  # no case started the clock (e.g. no case meets the condition): nothing to judge
        return judge_sla(frame, pd.Series([], dtype=object), tgt)
    st = case_status(log, end_activities=end_activities)
    return judge_sla(frame, st.loc[st["status"] == "finished", "case"], tgt)


def sla_breaches(log: SparkLog, targets: Sequence[SlaTarget | str], *, as_of: str | pd.Timestamp | None = None,
                 end_activities: Iterable[str] | None = None,
                 final_activities: Iterable[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(breaches, summary)`` exactly as :func:`processmining.performance.sla_breaches`."""
    ends = end_activities if end_activities is not None else final_activities
    parsed = [parse_sla(t) if isinstance(t, str) else t for t in targets]
    return sla_tables(parsed, [sla_cases(log, tgt, as_of=as_of, end_activities=ends) for tgt in parsed])


# ------------------------------------------------------------------ backward moves
#: cases per batch of :func:`backward_moves` on an executor
BATCH_CASES = 20_000


def backward_moves(log: SparkLog, order: Sequence[str], *,
                   allowed: Iterable[tuple[str, str]] = ()) -> pd.DataFrame:
    """:func:`processmining.performance.backward_moves` on Spark: the local function on batches of whole cases
    (``applyInPandas``); only the moves come to the driver, in the local order (case, then event)."""
    from ..performance.times import backward_moves as local_moves
    from .frame import case_batches, local_log

    order, allowed = list(order), [(str(a), str(b)) for a, b in allowed]
    if len(set(order)) != len(order):
        raise AnalysisError("the stage order lists a stage twice")
    df, _ = case_batches(log, int(log.cases().count()), BATCH_CASES)
    source = log.name

    def run(frame: pd.DataFrame) -> pd.DataFrame:  # on the executors: one bucket of whole cases
        moves = local_moves(local_log(frame, source), order, allowed=allowed)
        out = moves.astype(object).where(moves.notna(), None)
        out["time"] = pd.to_datetime(moves["time"], utc=True).dt.tz_localize(None)
        out["_seq"] = np.arange(len(out), dtype=np.int64)
        return out

    schema = ("case string, from_stage string, to_stage string, time timestamp, resource string, steps_back long, "
              "from_index long, to_index long, _seq long")
    got = df.groupBy("_bucket").applyInPandas(run, schema).toPandas()
    got = got.sort_values(["case", "_seq"], ignore_index=True).drop(columns="_seq")
    got["time"] = pd.to_datetime(got["time"]).dt.tz_localize("UTC")
    for c in ("case", "from_stage", "to_stage", "resource"):
        got[c] = got[c].astype(object)
    return got


# ------------------------------------------------------------------ funnel
def funnel(log: SparkLog, stages: Sequence[str], *, lost: str | Iterable[str] | None = None,
           end_activities: Iterable[str] | None = None) -> pd.DataFrame:
    """The sales funnel over ``stages``: :func:`processmining.performance.funnel` on Spark (reached, visited,
    still open, conversion, drop-out stage of lost cases); one row per case comes to the driver."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    stages = list(stages)
    if not stages:
        raise AnalysisError("funnel needs at least one stage")
    rank_map = F.create_map(*[x for i, s in enumerate(stages) for x in (F.lit(s), F.lit(i))])
    lost_acts = [] if lost is None else ([lost] if isinstance(lost, str) else list(lost))
    ev = log.events().withColumn("rk", F.element_at(rank_map, F.col("a")))
    if lost_acts:
        first_lost = F.min(F.when(F.col("a").isin(lost_acts), F.col("pos"))).over(Window.partitionBy("c"))
        ev = ev.withColumn("fl", first_lost)
    else:
        ev = ev.withColumn("fl", F.lit(None).cast("long"))
    per_case = ev.groupBy("c").agg(
        F.max("rk").alias("furthest"), F.max(F.col("fl")).alias("fl"),
        F.max(F.when(F.col("fl").isNotNull() & (F.col("pos") < F.col("fl")), F.col("rk"))).alias("drop")) \
        .toPandas().sort_values("c", ignore_index=True)
    visited = dict(ev.filter(F.col("rk").isNotNull()).groupBy("rk").agg(F.countDistinct("c")).collect())
    n_cases = len(per_case)
    furthest = per_case["furthest"].fillna(-1).to_numpy(dtype=float)
    reached = np.array([(furthest >= i).sum() for i in range(len(stages))], dtype=np.int64)
    out = pd.DataFrame({"stage": stages, "reached": reached,
                        "visited": np.array([int(visited.get(i, 0)) for i in range(len(stages))], dtype=np.int64)})
    st = case_status(log, end_activities=end_activities)  # the same case order as per_case
    running = np.isin(st["status"].to_numpy(), ["running", "stuck"])
    here = running & (furthest >= 0)
    out["still_open"] = np.bincount(furthest[here].astype(np.int64), minlength=len(stages))[: len(stages)]
    out.attrs["end_activities"] = st.attrs["end_activities"]
    prev = np.concatenate([[reached[0]], reached[:-1]]).astype(float)
    out["conversion"] = np.divide(reached, prev, out=np.zeros(len(stages)), where=prev > 0)
    if lost is not None:
        lost_case = per_case["fl"].notna().to_numpy()
        drop = per_case["drop"].fillna(-1).to_numpy(dtype=float)
        add_lost_columns(out, lost_case, drop)
    out.attrs["cases"] = n_cases
    return out


# ------------------------------------------------------------------ ranking and report
def bottleneck_ranking(log: SparkLog, *, pm: ProcessMap | None = None, acts: pd.DataFrame | None = None,
                       top: int | None = None) -> pd.DataFrame:
    """Arcs and activities ranked by their share of the total waiting (or processing) time; as locally
    (:func:`~processmining.performance.bottlenecks.rank_bottlenecks` on the Spark map and activity times)."""
    _require_timestamps(log, "the bottleneck ranking")
    return rank_bottlenecks(pm or process_map(log), activity_performance(log) if acts is None else acts, top=top)


def bottleneck_report(log: SparkLog, *, slas: Sequence[SlaTarget | str] = (), idle: str | None = None,
                      end_activities: Sequence[str] | None = None, stage_order: Sequence[str] | None = None,
                      lost: str | None = None, top: int | None = None, ping_pong_attribute: str = ACTIVITY,
                      ping_pong_ignore: Sequence[str] = (),
                      handover_attribute: str = RESOURCE) -> dict[str, pd.DataFrame]:
    """The "where is time lost?" tables of :func:`processmining.performance.bottleneck_report`, from Spark.

    Has ``summary``, ``bottlenecks``, ``activities``, ``arcs``, ``case_durations``,
    ``rework``, ``ping_pong``, ``handovers``, ``case_status`` and, as asked, ``sla_breaches`` /
    ``sla_summary``, ``stuck_cases``, ``backward_moves`` and ``funnel``.
    """
    from ..status import status_note
    from .handover import handovers, ping_pong

    _require_timestamps(log, "the bottleneck report (waiting times, SLA, stuck cases)")
    pm = process_map(log)
    acts = activity_performance(log)
    tables: dict[str, pd.DataFrame] = {
        "summary": pd.DataFrame([{"cases": pm.n_cases, "events": pm.n_events, "activities": len(pm.activities),
                                  "timing": timing_note(log), "engine": "spark"}]),
        "bottlenecks": bottleneck_ranking(log, pm=pm, acts=acts, top=top),
        "activities": acts.reset_index(),
        "arcs": pm.arcs,
        "case_durations": pd.DataFrame([case_duration_stats(log)]),
        "rework": rework(log).reset_index(),
        "ping_pong": ping_pong(log, attribute=ping_pong_attribute, ignore=ping_pong_ignore),
        "handovers": (handovers(log, attribute=handover_attribute) if handover_attribute in log.df.columns
                      else pd.DataFrame({"note": [f"the log has no {handover_attribute} column"]})),
    }
    if slas:
        tables["sla_breaches"], tables["sla_summary"] = sla_breaches(log, slas, end_activities=end_activities)
    st = case_status(log, end_activities=end_activities, idle=idle)
    tables["case_status"] = st
    tables["summary"]["case_status"] = status_note(st)
    if idle is not None:
        tables["stuck_cases"] = stuck_cases(log, idle=idle, end_activities=end_activities)
    if stage_order:
        tables["backward_moves"] = backward_moves(log, stage_order)
        tables["funnel"] = funnel(log, [s for s in stage_order if s != lost], lost=lost,
                                  end_activities=end_activities)
    return tables
