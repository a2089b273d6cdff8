"""Handovers and ping-pong on Spark: :mod:`processmining.performance.handover`, counted on the cluster.

Both walk the events of a case in the log's order (time, then input order)
with window functions; only the small per-pair tables come back. Values to
ignore are matched as every label match is (:func:`processmining.bpmn.labels.normalise_label`),
once per distinct value of the column, as locally. Empty values are skipped over.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import AnalysisError
from ..model import ACTIVITY, CASE, ORDER, RESOURCE, TIMESTAMP
from .frame import SparkLog

__all__ = ["handovers", "ping_pong", "ping_pong_cases"]

HANDOVER_COLUMNS = ["source", "target", "handovers", "cases", "median_delay_s", "mean_delay_s"]


def _values(log: SparkLog, attribute: str) -> Any:
    """Per event of ``attribute`` with a value: ``c``, ``tns``, ``o``, ``v`` (the local ``_column`` check)."""
    from pyspark.sql import functions as F

    if attribute not in log.df.columns:
        cols = [c for c in log.df.columns if not c.startswith("@@")]
        raise AnalysisError(f"column {attribute!r} not in the log; columns: {', '.join(cols)}", source=log.name)
    return log.df.select(F.col(CASE).alias("c"), (F.unix_micros(F.col(TIMESTAMP)) * 1000).alias("tns"),
                         F.col(ORDER).cast("long").alias("o"), F.col(attribute).alias("v")) \
        .filter(F.col("v").isNotNull())


def _in_case_order() -> Any:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    return Window.partitionBy("c").orderBy(F.col("tns").asc_nulls_first(), "o")


def handovers(log: SparkLog, *, attribute: str = RESOURCE) -> pd.DataFrame:
    """:func:`processmining.performance.handovers` on Spark: consecutive events of a case (skipping those
    without a value) done by different ``attribute`` values; per ordered pair the count, cases and the
    median / mean delay (s, the local floats)."""
    from pyspark.sql import functions as F

    w = _in_case_order()
    ev = _values(log, attribute).select("c", "v", "tns", F.lead("v").over(w).alias("nv"),
                                        F.lead("tns").over(w).alias("ntns"))
    delay = F.col("ntns").cast("double") / 1e9 - F.col("tns").cast("double") / 1e9
    got = ev.filter(F.col("nv").isNotNull() & (F.col("nv") != F.col("v"))).groupBy(
        F.col("v").alias("source"), F.col("nv").alias("target")).agg(
        F.count(F.lit(1)).alias("handovers"), F.countDistinct("c").alias("cases"),
        F.median(delay).alias("median_delay_s"), F.avg(delay).alias("mean_delay_s")).toPandas()
    if got.empty:
        return pd.DataFrame(columns=HANDOVER_COLUMNS)
    got = got.astype({"handovers": np.int64, "cases": np.int64, "median_delay_s": float, "mean_delay_s": float})
    got["source"], got["target"] = got["source"].astype(object), got["target"].astype(object)
    return got.sort_values(["handovers", "source", "target"], ascending=[False, True, True],
                           ignore_index=True)[HANDOVER_COLUMNS]


def _ignored(log: SparkLog, attribute: str, labels: Iterable[str]) -> list[object]:
    """The values of ``attribute`` matching one of ``labels`` (the local ``_matching_values``: one
    :func:`normalise_label` per distinct value)."""
    from pyspark.sql import functions as F

    from ..bpmn.labels import normalise_label

    wanted = {normalise_label(x) for x in labels}
    if not wanted:
        return []
    distinct = log.df.select(F.col(attribute).alias("v")).filter(F.col("v").isNotNull()).distinct().collect()
    return [r["v"] for r in distinct if normalise_label(str(r["v"])) in wanted]


def _patterns(log: SparkLog, attribute: str, ignore: Iterable[str]) -> Any:
    """Per A -> B -> A: ``c``, ``a``, ``b`` (runs of one value merged first, ignored values skipped)."""
    from pyspark.sql import functions as F

    ev = _values(log, attribute)
    skip = _ignored(log, attribute, ignore)
    if skip:
        ev = ev.filter(~F.col("v").isin(skip))
    w = _in_case_order()
    runs = ev.withColumn("_pv", F.lag("v").over(w)).filter(F.col("_pv").isNull() | (F.col("_pv") != F.col("v")))
    runs = runs.select("c", "v", F.lead("v", 1).over(w).alias("b"), F.lead("v", 2).over(w).alias("a2"))
    return runs.filter(F.col("a2") == F.col("v")).select("c", F.col("v").alias("a"), "b")


def ping_pong(log: SparkLog, *, attribute: str = ACTIVITY, ignore: Iterable[str] = ()) -> pd.DataFrame:
    """:func:`processmining.performance.ping_pong` on Spark: per ordered pair (A, B) the A -> B -> A
    ``occurrences`` and ``cases``."""
    from pyspark.sql import functions as F

    got = _patterns(log, attribute, ignore).groupBy("a", "b").agg(
        F.count(F.lit(1)).alias("occurrences"), F.countDistinct("c").alias("cases")).toPandas()
    cols = ["a", "b", "occurrences", "cases"]
    if got.empty:
        return pd.DataFrame(columns=cols)
    got = got.astype({"a": object, "b": object, "occurrences": np.int64, "cases": np.int64})
    return got.sort_values(["occurrences", "a", "b"], ascending=[False, True, True], ignore_index=True)[cols]


def ping_pong_cases(log: SparkLog, *, attribute: str = ACTIVITY, ignore: Iterable[str] = ()) -> pd.DataFrame:
    """:func:`processmining.performance.ping_pong_cases` on Spark: per case and pair the ``occurrences``
    (one row per case with a ping-pong comes to the driver)."""
    got = _patterns(log, attribute, ignore).groupBy("c", "a", "b").count().toPandas()
    cols = ["case", "a", "b", "occurrences"]
    if got.empty:
        return pd.DataFrame(columns=cols)
    got = got.rename(columns={"c": "case", "count": "occurrences"})
    got = got.astype({"case": object, "a": object, "b": object, "occurrences": np.int64})
    got = got.sort_values(["case", "a", "b"], ignore_index=True)  # the local groupby order, then its sort
    return got.sort_values(["occurrences", "case"], ascending=[False, True], ignore_index=True)[cols]
