"""The process map and the variants on Spark: the same :class:`~processmining.discovery.ProcessMap` and
variants table as :mod:`processmining.discovery`, aggregated on the cluster.

Only the aggregates come back to the driver (one row per activity, per arc,
per variant). Durations are computed from integer microseconds; medians
are exact (``percentile`` with linear interpolation, as pandas).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..discovery import ACTIVITY_COLUMNS, ARC_COLUMNS, ProcessMap
from .frame import US, SparkLog


def _pandas(df: Any) -> pd.DataFrame:
    """A small aggregate as pandas (Arrow transfer)."""
    return df.toPandas()


def process_map(log: SparkLog) -> ProcessMap:
    """The directly-follows map of ``log``, equal to :func:`processmining.discovery.process_map` on the same log.

    >>> pm = process_map(read_events(spark, "events.parquet"))   # doctest: +SKIP
    >>> render_map(simplify(pm), metric="performance")             # doctest: +SKIP
    """
    from pyspark.sql import functions as F

    ev = log.events()
    start = log.has_start_times
    act_aggs = [F.count(F.lit(1)).alias("events"), F.countDistinct("c").alias("cases"),
                F.sum((F.col("pos") == 0).cast("long")).alias("starts"),
                F.sum(F.col("na").isNull().cast("long")).alias("ends")]
    if start:
        dur = (F.col("t") - F.coalesce(F.col("st"), F.col("t"))).cast("double") / US
        act_aggs += [F.avg(dur).alias("duration_mean_s"), F.median(dur).alias("duration_median_s"),
                     F.max(dur).alias("duration_max_s"),
                     (F.sum(F.col("t") - F.coalesce(F.col("st"), F.col("t"))) / US).alias("duration_total_s")]
    acts = _pandas(ev.groupBy(F.col("a").alias("activity")).agg(*act_aggs))
    if acts.empty:
        return ProcessMap(activities=pd.DataFrame(columns=list(ACTIVITY_COLUMNS)),
                          arcs=pd.DataFrame(columns=list(ARC_COLUMNS)), n_cases=0, n_events=0,
                          has_start_times=False)
    if not start:
        for c in ACTIVITY_COLUMNS[4:]:
            acts[c] = np.nan
    acts = acts.sort_values("activity").set_index("activity")
    for c in ACTIVITY_COLUMNS[:4]:
        acts[c] = acts[c].astype(np.int64)
    acts = acts[list(ACTIVITY_COLUMNS)].astype({c: float for c in ACTIVITY_COLUMNS[4:]})
    acts = acts.sort_values("events", ascending=False, kind="stable")
    nxt = F.col("nst") if start else F.col("nt")
    wait_us = F.greatest(nxt, F.col("t")) - F.col("t")
    wait = wait_us.cast("double") / US
    arcs = _pandas(ev.filter(F.col("na").isNotNull()).groupBy(F.col("a").alias("source"), F.col("na").alias("target"))
                   .agg(F.count(F.lit(1)).alias("frequency"), F.countDistinct("c").alias("cases"),
                        F.avg(wait).alias("wait_mean_s"), F.median(wait).alias("wait_median_s"),
                        F.min(wait).alias("wait_min_s"), F.max(wait).alias("wait_max_s"),
                        (F.sum(wait_us) / US).alias("wait_total_s"), F.stddev_samp(wait).alias("wait_stdev_s")))
    arcs = arcs.astype({"frequency": np.int64, "cases": np.int64})
    for c in ARC_COLUMNS[4:]:
        arcs[c] = arcs[c].astype(float)
    arcs = arcs[list(ARC_COLUMNS)].sort_values(["frequency", "source", "target"], ascending=[False, True, True],
                                               ignore_index=True)
    return ProcessMap(activities=acts, arcs=arcs, n_cases=int(acts["starts"].sum()),
                      n_events=int(acts["events"].sum()), has_start_times=start)


def case_sequences(log: SparkLog) -> Any:
    """Per case (Spark): ``c``, ``seq`` (activities in log order), ``n`` (events), ``d`` (µs first to last)."""
    from pyspark.sql import functions as F

    ev = log.events()
    ordered = F.sort_array(F.collect_list(F.struct("t", "o", "a")))
    return ev.groupBy("c").agg(F.transform(ordered, lambda x: x["a"]).alias("seq"), F.count(F.lit(1)).alias("n"),
                               (F.max("t") - F.min("t")).alias("d"))


def variant_frame(log: SparkLog) -> Any:
    """Per variant (Spark): ``seq``, ``cases``, ``mean_us`` / ``median_us`` (case duration), ``example_case``."""
    from pyspark.sql import functions as F

    return case_sequences(log).groupBy("seq").agg(
        F.count(F.lit(1)).alias("cases"), F.avg("d").alias("mean_us"), F.median("d").alias("median_us"),
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
    v["mean_duration_s"] = v["mean_us"].astype(float) / US
    v["median_duration_s"] = v["median_us"].astype(float) / US
    v["example_case"] = v["example_case"].astype(object)
    return v[cols]
