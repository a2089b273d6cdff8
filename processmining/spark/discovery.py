"""The process map and the variants on Spark: the same :class:`~processmining.discovery.ProcessMap` and
variants table as :mod:`processmining.discovery`, aggregated on the cluster.

Only the aggregates come back to the driver (one row per activity, per arc,
per variant); :func:`discover_bpmn` runs the local inductive miner on the variants. Each per-event duration is the float the local engine
computes (integer nanoseconds subtracted, divided by 1e9); medians use
linear interpolation, as pandas. Totals of no value are 0.0 and an
order-only log has no durations (NaN), as locally.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from ..discovery import ACTIVITY_COLUMNS, ARC_COLUMNS, ProcessMap
from .frame import SparkLog


def _pandas(df: Any) -> pd.DataFrame:
    """A small aggregate as pandas (Arrow transfer)."""
    return df.toPandas()


def process_map(log: SparkLog) -> ProcessMap:
    """The directly-follows map of ``log``, equal to :func:`processmining.discovery.process_map` on the same log.

    Every per-event duration is the local engine's float (integer nanoseconds
    subtracted, then divided by 1e9); only the order of summation differs.

    >>> pm = process_map(read_events(spark, "events.parquet"))   # doctest: +SKIP
    >>> render_map(simplify(pm), metric="performance")             # doctest: +SKIP
    """
    from pyspark.sql import functions as F

    ev = log.events()
    start = log.has_start_times
    act_aggs = [F.count(F.lit(1)).alias("events"),
                F.sum((F.col("pos") == 0).cast("long")).alias("starts"),
                F.sum(F.col("na").isNull().cast("long")).alias("ends")]
    if start:
        act_aggs += [F.avg("proc").alias("duration_mean_s"), F.median("proc").alias("duration_median_s"),
                     F.max("proc").alias("duration_max_s"), F.sum("proc").alias("duration_total_s")]
    acts = _pandas(ev.groupBy(F.col("a").alias("activity")).agg(*act_aggs))
    if acts.empty:
        return ProcessMap(activities=pd.DataFrame(columns=list(ACTIVITY_COLUMNS)),
                          arcs=pd.DataFrame(columns=list(ARC_COLUMNS)), n_cases=0, n_events=0,
                          has_start_times=False)
    if not start:
        for c in ACTIVITY_COLUMNS[4:]:
            acts[c] = np.nan
    acts = acts.sort_values("activity").set_index("activity")
    acts.index = acts.index.astype(object)
    acts["cases"] = log.activity_cases().reindex(acts.index).to_numpy()
    for c in ACTIVITY_COLUMNS[:4]:
        acts[c] = acts[c].astype(np.int64)
    acts = acts[list(ACTIVITY_COLUMNS)].astype({c: float for c in ACTIVITY_COLUMNS[4:]})
    if start:  # pandas sums an all-NaN group to 0.0
        acts["duration_total_s"] = acts["duration_total_s"].fillna(0.0)
    acts = acts.sort_values("events", ascending=False, kind="stable")
    nxt = F.col("nstns") if start else F.col("ntns")
    wait = (F.greatest(nxt, F.col("tns")) - F.col("tns")).cast("double") / 1e9
    arcs = _pandas(ev.filter(F.col("na").isNotNull()).groupBy(F.col("a").alias("source"), F.col("na").alias("target"))
                   .agg(F.count(F.lit(1)).alias("frequency"),
                        F.avg(wait).alias("wait_mean_s"), F.median(wait).alias("wait_median_s"),
                        F.min(wait).alias("wait_min_s"), F.max(wait).alias("wait_max_s"),
                        F.sum(wait).alias("wait_total_s"), F.stddev_samp(wait).alias("wait_stdev_s")))
    arcs = arcs.astype({"frequency": np.int64, "source": object, "target": object})
    arcs["cases"] = log.arc_cases().reindex(pd.MultiIndex.from_frame(arcs[["source", "target"]])) \
        .to_numpy(dtype=np.int64)
    for c in ARC_COLUMNS[4:]:
        arcs[c] = arcs[c].astype(float)
    arcs["wait_total_s"] = arcs["wait_total_s"].fillna(0.0)  # an order-only log: no waits, a zero sum (pandas)
    arcs = arcs[list(ARC_COLUMNS)].sort_values(["frequency", "source", "target"], ascending=[False, True, True],
                                               ignore_index=True)
    return ProcessMap(activities=acts, arcs=arcs, n_cases=int(acts["starts"].sum()),
                      n_events=int(acts["events"].sum()), has_start_times=start)


def case_sequences(log: SparkLog) -> Any:
    """Per case (Spark): ``c``, ``seq`` (activities in log order), ``n`` (events), ``d`` (ns first to last);
    from the log's cached per-case frame (:meth:`SparkLog.cases`)."""
    from pyspark.sql import functions as F

    return log.cases().select("c", "seq", "n", (F.col("last_tns") - F.col("first_tns")).alias("d"))


def variant_frame(log: SparkLog) -> Any:
    """Per variant (Spark): ``seq``, ``cases``, ``mean_ns`` / ``median_ns`` (case duration), ``example_case``."""
    from pyspark.sql import functions as F

    return case_sequences(log).groupBy("seq").agg(
        F.count(F.lit(1)).alias("cases"), F.avg("d").alias("mean_ns"), F.median("d").alias("median_ns"),
        F.min("c").alias("example_case"))


def variants(log: SparkLog) -> pd.DataFrame:
    """The case variants, most frequent first: the table of :func:`processmining.discovery.variants`."""
    cols = ["variant", "activities", "length", "cases", "share", "cumulative_share",
            "mean_duration_s", "median_duration_s", "example_case"]
    v = _pandas(variant_frame(log))
    if v.empty:
        return pd.DataFrame(columns=cols)
    v["activities"] = [tuple(str(a) for a in s) for s in v["seq"]]
    v["cases"] = v["cases"].astype(np.int64)
    n_cases = int(v["cases"].sum())
    v = v.sort_values(["cases", "activities"], ascending=[False, True], ignore_index=True)
    v["length"] = [len(a) for a in v["activities"]]
    v["share"] = v["cases"] / n_cases
    v["cumulative_share"] = v["cases"].cumsum() / n_cases
    v["variant"] = [f"V{i + 1}" for i in range(len(v))]
    v["mean_duration_s"] = v["mean_ns"].astype(float) / 1e9
    v["median_duration_s"] = v["median_ns"].astype(float) / 1e9
    if not log.has_timestamps:  # order-only log: durations are unknown, not zero
        v["mean_duration_s"] = np.nan
        v["median_duration_s"] = np.nan
    v["example_case"] = v["example_case"].astype(object)
    return v[cols]


def discover_bpmn(log: SparkLog, *, noise_threshold: float = 0.2) -> str:
    """:func:`processmining.discovery.discover_bpmn` on Spark: the variants (with their number of cases) are
    counted on the cluster, and the local inductive miner (which sees only the variants) runs on them here,
    so both engines write the same BPMN file."""
    from ..discovery.bpmn_out import bpmn_from_variants
    from ..errors import AnalysisError

    v = _pandas(variant_frame(log).select("seq", "cases", "example_case"))
    if v.empty:
        raise AnalysisError("cannot discover a model from an empty log", source=log.name)
    v = v.sort_values("example_case", ignore_index=True)  # the order of their first case, as pm4py counts them
    counts = {tuple(str(a) for a in s): int(n) for s, n in zip(v["seq"], v["cases"], strict=True)}
    # named as locally: the file (or folder, or table) name, not the path
    name = PurePosixPath(log.name.rstrip("/")).name or log.name
    return bpmn_from_variants(counts, noise_threshold=noise_threshold, name=name)
