"""Where the time goes, on Spark: the tables of :mod:`processmining.performance`, aggregated on the cluster.

Each function mirrors the local one of the same name (same columns, same
order, same numbers) and returns a small pandas table; the events stay on
the cluster. Times are integer microseconds on the cluster and seconds
(float) in the results. Not on Spark (yet): ping-pong, handovers and
backward moves (see the README section "Running on a Spark cluster").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..discovery import ProcessMap
from ..errors import AnalysisError
from ..performance import SlaTarget, parse_duration, parse_sla, timing_note, to_timestamps
from ..performance.bottlenecks import BREACH_COLUMNS
from .discovery import process_map
from .frame import US, SparkLog


def _now_s(log: SparkLog, as_of: str | pd.Timestamp | None) -> float:
    """As :func:`processmining.performance.as_of_seconds`: ``as_of`` (naive = UTC) or the last event."""
    if as_of is None:
        last = log.last_timestamp_us()
        return float("nan") if last is None else pd.Timestamp(int(last), unit="us").value / 1e9
    t = pd.Timestamp(as_of)
    t = t.tz_localize("UTC") if t.tzinfo is None else t
    return t.value / 1e9


def _activities(log: SparkLog) -> set[str]:
    return {r[0] for r in log.events().select("a").distinct().collect()}


# ------------------------------------------------------------------ activities and cases
def activity_performance(log: SparkLog) -> pd.DataFrame:
    """Per activity: events, cases, waiting before it and processing time; as the local function."""
    from pyspark.sql import functions as F

    ev = log.events()
    if log.has_start_times:
        wait_us = F.when(F.col("st").isNull(), F.lit(None)).otherwise(F.greatest("st", "pt") - F.col("pt"))
        proc_us = F.col("t") - F.col("st")
    else:
        wait_us = F.col("t") - F.col("pt")
        proc_us = F.lit(None).cast("long")
    wait, proc = wait_us.cast("double") / US, proc_us.cast("double") / US
    out = ev.groupBy(F.col("a").alias("activity")).agg(
        F.count(F.lit(1)).alias("events"), F.countDistinct("c").alias("cases"),
        F.avg(wait).alias("wait_before_mean_s"), F.median(wait).alias("wait_before_median_s"),
        (F.sum(wait_us) / US).alias("wait_before_total_s"),
        F.avg(proc).alias("processing_mean_s"), F.median(proc).alias("processing_median_s"),
        (F.sum(proc_us) / US).alias("processing_total_s")).toPandas()
    out = out.sort_values("activity").set_index("activity")
    out = out.astype({"events": np.int64, "cases": np.int64} | {c: float for c in out.columns[2:]})
    return out.sort_values(["wait_before_total_s", "events"], ascending=False, na_position="last")


def case_durations_frame(log: SparkLog) -> Any:
    """Per case (Spark): ``c``, ``first`` / ``last`` (µs), ``events``, ``d`` (µs)."""
    from pyspark.sql import functions as F

    return log.events().groupBy("c").agg(F.min("t").alias("first"), F.max("t").alias("last"),
                                         F.count(F.lit(1)).alias("events")) \
        .withColumn("d", F.col("last") - F.col("first"))


def case_duration_stats(log: SparkLog) -> dict[str, float]:
    """Distribution of case durations (s): count, mean, min, p10, p25, median, p75, p90, p95, max (exact)."""
    from pyspark.sql import functions as F

    qs = [0.1, 0.25, 0.5, 0.75, 0.9, 0.95]
    row = case_durations_frame(log).agg(
        F.count(F.lit(1)).alias("n"), F.avg("d").alias("mean"), F.min("d").alias("min"), F.max("d").alias("max"),
        F.percentile(F.col("d"), F.array(*[F.lit(q) for q in qs])).alias("q")).first()
    if not row["n"]:
        return {"count": 0}
    q = [float(x) / US for x in row["q"]]
    return {"count": int(row["n"]), "mean": float(row["mean"]) / US, "min": float(row["min"]) / US, "p10": q[0],
            "p25": q[1], "median": q[2], "p75": q[3], "p90": q[4], "p95": q[5], "max": float(row["max"]) / US}


def rework(log: SparkLog) -> pd.DataFrame:
    """Activities repeated within a case (``level="activity"`` of the local function)."""
    from pyspark.sql import functions as F

    out = log.events().groupBy("c", "a").count().groupBy(F.col("a").alias("activity")).agg(
        F.count(F.lit(1)).alias("cases"), F.sum((F.col("count") > 1).cast("long")).alias("cases_with_rework"),
        F.sum(F.col("count") - 1).alias("extra_executions")).toPandas()
    out = out.sort_values("activity").set_index("activity").astype(np.int64)
    out["share_of_cases"] = out["cases_with_rework"] / out["cases"]
    return out.sort_values(["cases_with_rework", "extra_executions"], ascending=False, kind="stable")


# ------------------------------------------------------------------ stuck / open
def stuck_cases(log: SparkLog, *, idle: str | float | pd.Timedelta | None = None,
                end_activities: Iterable[str] | None = None, as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Cases without an event for longer than ``idle`` and/or without any of ``end_activities``; as locally."""
    from pyspark.sql import functions as F

    if idle is None and end_activities is None:
        raise AnalysisError("give idle=... and/or end_activities=[...] to decide what counts as stuck")
    now = _now_s(log, as_of)
    limit = parse_duration(idle) if idle is not None else None
    ends = list(end_activities) if end_activities is not None else None
    per_case = log.events().groupBy("c").agg(
        F.max(F.struct("pos", "a", "t")).alias("last"),
        (F.max(F.col("a").isin(ends).cast("int")) if ends is not None else F.lit(1)).alias("has_end"))
    idle_s = F.lit(now) - F.col("last.t").cast("double") / US
    hit = idle_s > F.lit(limit) if limit is not None else F.lit(False)
    no_end = (F.col("has_end") == 0) if ends is not None else F.lit(False)
    got = per_case.select(F.col("c").alias("case"), F.col("last.a").alias("last_activity"),
                          (F.col("last.t").cast("double") / US).alias("last_s"), idle_s.alias("idle_s"),
                          hit.alias("idle_exceeded"), no_end.alias("no_end_activity")) \
        .filter(F.col("idle_exceeded") | F.col("no_end_activity")).toPandas()
    out = pd.DataFrame({"case": got["case"].astype(object), "last_activity": got["last_activity"].astype(object),
                        "last_time": to_timestamps(got["last_s"].to_numpy()),
                        "idle_s": now - got["last_s"].to_numpy(dtype=float),
                        "idle_exceeded": got["idle_exceeded"].astype(bool),
                        "no_end_activity": got["no_end_activity"].astype(bool)})
    return out.sort_values(["idle_s", "case"], ascending=[False, True], ignore_index=True)


# ------------------------------------------------------------------ SLA targets
def _pairs(log: SparkLog, a: str | None, b: str, final: set[str]) -> Any:
    """Per case with an ``a``: first ``a`` and first ``b`` after it (Spark), and whether a final activity occurs."""
    from pyspark.sql import functions as F

    ev = log.events()
    frm = F.min(F.struct("pos", "t")) if a is None else F.min(F.when(F.col("a") == a, F.struct("pos", "t")))
    per_case = ev.groupBy("c").agg(
        frm.alias("frm"), F.collect_list(F.when(F.col("a") == b, F.struct("pos", "t"))).alias("bs"),
        F.max(F.col("a").isin(list(final)).cast("int")).alias("fin") if final else F.lit(0).alias("fin"))
    later = F.filter(F.col("bs"), lambda x: x["pos"] > F.col("frm.pos"))
    return per_case.filter(F.col("frm").isNotNull()).select(
        "c", F.col("frm.t").alias("from_us"), F.array_min(later).alias("to"), "fin")


def sla_breaches(log: SparkLog, targets: Sequence[SlaTarget | str], *, as_of: str | pd.Timestamp | None = None,
                 final_activities: Iterable[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check time targets; ``(breaches, summary)`` exactly as :func:`processmining.performance.sla_breaches`."""
    from pyspark.sql import functions as F

    parsed = [parse_sla(t) if isinstance(t, str) else t for t in targets]
    now = _now_s(log, as_of)
    known = _activities(log) if parsed else set()
    all_rows, summary = [], []
    for tgt in parsed:
        for n in (tgt.source, tgt.target):
            if n is not None and n not in known:
                raise AnalysisError(f"SLA {tgt.label!r}: activity {n!r} does not occur in the log", source=log.name)
        if tgt.where is not None:
            raise AnalysisError(f"SLA {tgt.label!r}: 'if column=value' targets are not supported on the Spark "
                                "engine yet; filter the table first", source=log.name)
        if tgt.target is not None:
            fin = (set(final_activities) - {tgt.target}) if final_activities is not None else set()
            frame = _pairs(log, tgt.source, tgt.target, fin).select(
                "c", (F.col("from_us").cast("double") / US).alias("from_t"),
                (F.col("to.t").cast("double") / US).alias("to_t"), F.col("to").isNotNull().alias("done"),
                (F.col("fin") == 1).alias("fin"))
            from_act, to_act = tgt.source or "(case start)", tgt.target
        else:
            stays = log.events().filter(F.col("a") == tgt.source).select(
                "c", "pos", "t", "nt", F.when(F.col("nt").isNotNull(), F.col("nt") - F.col("t")).alias("dd"))
            # the longest stay; the first of equal ones (as the local stable sort)
            frame = stays.groupBy("c").agg(F.min(F.struct(
                (-F.coalesce(F.col("dd").cast("double") / US, F.lit(now) - F.col("t").cast("double") / US))
                .alias("neg"), F.col("pos"), F.col("t"), F.col("nt"))).alias("s")).select(
                "c", (F.col("s.t").cast("double") / US).alias("from_t"),
                (F.col("s.nt").cast("double") / US).alias("to_t"), F.col("s.nt").isNotNull().alias("done"),
                F.lit(False).alias("fin"))
            from_act, to_act = tgt.source or "", "(next event)"
        got = frame.toPandas()
        done = got["done"].to_numpy(dtype=bool)
        from_t = got["from_t"].to_numpy(dtype=float)
        to_t = got["to_t"].to_numpy(dtype=float)
        dur = np.where(done, to_t - from_t, now - from_t)
        finished = ~done & got["fin"].to_numpy(dtype=bool)
        over = dur > tgt.limit_s
        late, open_b = done & over, ~done & ~finished & over
        d = pd.Series(dur[done])
        n = len(got)
        summary.append({"target": tgt.label, "measured": int(n),
                        "met": int(n - late.sum() - open_b.sum() - finished.sum()),
                        "late": int(late.sum()), "open_breached": int(open_b.sum()), "not_reached": int(finished.sum()),
                        "breach_share": float((late.sum() + open_b.sum()) / n) if n else 0.0,
                        "median_s": float(d.median()) if len(d) else float("nan"),
                        "p90_s": float(d.quantile(0.9)) if len(d) else float("nan"), "limit_s": tgt.limit_s})
        b = late | open_b
        all_rows.append(pd.DataFrame({
            "target": tgt.label, "case": got["c"].to_numpy(dtype=object)[b], "from_activity": from_act,
            "to_activity": to_act, "from_time": to_timestamps(from_t[b]), "to_time": to_timestamps(to_t[b]),
            "duration_s": dur[b], "limit_s": tgt.limit_s, "excess_s": dur[b] - tgt.limit_s,
            "status": np.where(done[b], "late", "open")}))
    breaches = pd.concat(all_rows, ignore_index=True) if all_rows else pd.DataFrame(columns=BREACH_COLUMNS)
    breaches = breaches.sort_values(["target", "excess_s", "case"], ascending=[True, False, True], ignore_index=True)
    return breaches[BREACH_COLUMNS], pd.DataFrame(summary)


# ------------------------------------------------------------------ funnel
def funnel(log: SparkLog, stages: Sequence[str], *, lost: str | Iterable[str] | None = None) -> pd.DataFrame:
    """The sales funnel over ``stages`` (reached, visited, conversion, drop-out stage of lost cases); as locally."""
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
        F.max(F.when(F.col("fl").isNotNull() & (F.col("pos") < F.col("fl")), F.col("rk"))).alias("drop"))
    cases = per_case.groupBy("furthest", F.col("fl").isNotNull().alias("lost"), "drop").count().toPandas()
    visited = dict(ev.filter(F.col("rk").isNotNull()).groupBy("rk").agg(F.countDistinct("c")).collect())
    n_cases = int(cases["count"].sum())
    furthest = cases["furthest"].fillna(-1).to_numpy(dtype=float)
    counts = cases["count"].to_numpy(dtype=np.int64)
    reached = np.array([int(counts[furthest >= i].sum()) for i in range(len(stages))], dtype=np.int64)
    out = pd.DataFrame({"stage": stages, "reached": reached,
                        "visited": np.array([int(visited.get(i, 0)) for i in range(len(stages))], dtype=np.int64)})
    prev = np.concatenate([[reached[0]], reached[:-1]]).astype(float)
    out["conversion"] = np.divide(reached, prev, out=np.zeros(len(stages)), where=prev > 0)
    if lost is not None:
        is_lost = cases["lost"].to_numpy(dtype=bool)
        drop = cases["drop"].fillna(-1).to_numpy(dtype=float)
        here = np.zeros(len(stages), dtype=np.int64)
        for d, k in zip(drop[is_lost & (drop >= 0)], counts[is_lost & (drop >= 0)], strict=True):
            here[int(d)] += k
        out["lost_here"] = here
        total_lost = int(counts[is_lost].sum())
        out["lost_share"] = out["lost_here"] / total_lost if total_lost else 0.0
        out.attrs["lost_cases"] = total_lost
        out.attrs["lost_before_any_stage"] = int(counts[is_lost & (drop < 0)].sum())
    out.attrs["cases"] = n_cases
    return out


# ------------------------------------------------------------------ ranking and report
def bottleneck_ranking(log: SparkLog, *, pm: ProcessMap | None = None, acts: pd.DataFrame | None = None,
                       top: int | None = None) -> pd.DataFrame:
    """Arcs and activities ranked by their share of the total waiting (or processing) time; as locally."""
    pm = pm or process_map(log)
    acts = activity_performance(log) if acts is None else acts
    arcs = pm.arcs
    total_wait = float(arcs["wait_total_s"].sum()) if len(arcs) else 0.0
    rows = [pd.DataFrame({
        "kind": "arc", "name": arcs["source"] + " → " + arcs["target"], "source": arcs["source"],
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


def bottleneck_report(log: SparkLog, *, slas: Sequence[SlaTarget | str] = (), idle: str | None = None,
                      end_activities: Sequence[str] | None = None, stage_order: Sequence[str] | None = None,
                      lost: str | None = None, top: int | None = None) -> dict[str, pd.DataFrame]:
    """The "where is time lost?" tables of :func:`processmining.performance.bottleneck_report`, from Spark.

    Has ``summary``, ``bottlenecks``, ``activities``, ``arcs``, ``case_durations``,
    ``rework`` and, as asked, ``sla_breaches`` / ``sla_summary``, ``stuck_cases``,
    ``funnel``; ping-pong, handovers and backward moves are local-engine only.
    """
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
    }
    if slas:
        tables["sla_breaches"], tables["sla_summary"] = sla_breaches(log, slas, final_activities=end_activities)
    if idle is not None or end_activities is not None:
        tables["stuck_cases"] = stuck_cases(log, idle=idle, end_activities=end_activities)
    if stage_order:
        tables["funnel"] = funnel(log, [s for s in stage_order if s != lost], lost=lost)
    return tables
