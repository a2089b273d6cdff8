"""Pseudonymised outputs on Spark: the local :class:`~processmining.pseudonyms.Pseudonymizer`, built from the cluster.

:func:`column_policy` decides, column by column, what the local
:func:`processmining.pseudonyms.column_policy` decides (case id, people, free
text) from aggregates over each column's distinct values: the share of them
that are resources, and -- with a pandas UDF that runs the local tests
(``pd.to_numeric``, ``pd.to_datetime``, whitespace) on the executors -- the
share of numbers, dates and several-word values. :func:`pseudonymizer` then
builds the local object with :meth:`Pseudonymizer.from_names` from the
distinct case ids and people (one row per case or person, never per event), so
every pseudonym is the local one byte for byte (HMAC-SHA256,
:func:`processmining.pseudonyms.pseudonym`). :func:`pseudonymize_frame`
applies it to a Spark table on the executors (the deviations written with
``--deviations-to``).
"""

from __future__ import annotations

import re
from typing import Any

from ..model import CASE, RESOURCE
from ..pseudonyms import _CANONICAL_KEPT, FREE_TEXT_DISTINCT, FREE_TEXT_WORDS, PERSON_COLUMNS, Pseudonymizer
from .frame import SparkLog

__all__ = ["column_policy", "pseudonymize_frame", "pseudonymizer"]


def _text_shares(values: Any) -> tuple[float, float, float]:
    """Shares of numbers, ISO dates and values with whitespace among the distinct ``values`` (a one-column
    Spark frame ``v``), each value tested by the local code on the executors."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    schema = T.StructType([T.StructField(k, T.IntegerType()) for k in ("num", "date", "space")])

    @F.pandas_udf(schema)
    def flags(v):  # noqa: ANN001, ANN202 - runs on the executors
        import pandas as pd

        text = v.astype(str)
        return pd.DataFrame({
            "num": pd.to_numeric(text, errors="coerce").notna().astype("int32"),
            "date": pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True).notna().astype("int32"),
            "space": text.str.strip().str.contains(r"\s", regex=True).astype("int32")})

    row = values.select(flags(F.col("v")).alias("f")).agg(
        *[F.avg(F.col(f"f.{k}")).alias(k) for k in ("num", "date", "space")]).first()
    return float(row["num"]), float(row["date"]), float(row["space"])


def column_policy(log: SparkLog) -> dict[str, str]:
    """:func:`processmining.pseudonyms.column_policy` for a Spark log: ``"case"``, ``"person"`` or
    ``"free text"`` per text column, decided as locally."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    df = log.df
    policy: dict[str, str] = {}
    if CASE in df.columns:
        policy[CASE] = "case"
    people = None
    if RESOURCE in df.columns:
        policy[RESOURCE] = "person"
        people = df.select(F.col(RESOURCE).cast("string").alias("p")).filter(F.col("p").isNotNull()).distinct()
    texts: list[str] = []
    for col in df.columns:
        if col in policy or col in _CANONICAL_KEPT or not isinstance(df.schema[col].dataType, T.StringType):
            continue
        name = col.lower().removeprefix("case:").strip()
        values = df.select(F.col(col).alias("v")).filter(F.col("v").isNotNull()).distinct()
        if name in PERSON_COLUMNS:
            policy[col] = "person"
            continue
        if people is not None:
            row = values.join(people.withColumnRenamed("p", "v").withColumn("_hit", F.lit(1)), "v", "left") \
                .agg(F.count(F.lit(1)).alias("n"), F.count("_hit").alias("hits")).first()
            if row["n"] and row["hits"] / row["n"] >= 0.5:
                policy[col] = "person"
                continue
        if any(w in re.split(r"[^a-z]+", name) for w in FREE_TEXT_WORDS) or _looks_free_text(values):
            texts.append(col)
    policy.update(dict.fromkeys(texts, "free text"))
    return policy


def _looks_free_text(values: Any) -> bool:
    """The local ``_looks_free_text`` on a column's distinct values."""
    if values.count() <= FREE_TEXT_DISTINCT:
        return False
    num, date, space = _text_shares(values)
    return num < 0.5 and date < 0.5 and space >= 0.5


def pseudonymizer(log: SparkLog, *, key: str | bytes) -> Pseudonymizer:
    """:meth:`Pseudonymizer.from_log` for a Spark log: every case id, resource and person of the log (their
    distinct values come to the driver), its free-text columns left out of what it writes."""
    from pyspark.sql import functions as F

    if not key:
        raise ValueError("pseudonymisation needs a non-empty key")
    policy = column_policy(log)
    people: list[object] = []
    for col, kind in policy.items():
        if kind == "person":
            people += [r["v"] for r in log.df.select(F.col(col).alias("v")).filter(F.col("v").isNotNull())
                       .distinct().collect()]
    cases = log.case_facts()["case"].tolist() if CASE in log.df.columns else []
    p = Pseudonymizer.from_names(key=key, cases=cases, resources=people)
    p.dropped = tuple(c for c, kind in policy.items() if kind == "free text")
    p.hashed = tuple(c for c, kind in policy.items() if kind != "free text")
    return p


def pseudonymize_frame(frame: Any, p: Pseudonymizer) -> Any:
    """``frame`` (a Spark table of results, e.g. deviations) pseudonymised on the executors as
    :meth:`Pseudonymizer.frame` does on the driver: names replaced in every text cell and header, the
    log's free-text columns left out."""
    from pyspark.sql import types as T

    import pandas as pd

    gone = set(p.dropped) | {c.removeprefix("case:") for c in p.dropped}
    kept = [f for f in frame.schema.fields if f.name not in gone]
    frame = frame.select(*[f.name for f in kept])
    schema = T.StructType([T.StructField(p.text(f.name), f.dataType, f.nullable) for f in kept])

    def batches(it):  # noqa: ANN001, ANN202 - runs on the executors
        for part in it:
            out = p.frame(part)
            yield pd.DataFrame({new.name: out.iloc[:, i] for i, new in enumerate(schema.fields)})

    return frame.mapInPandas(batches, schema)
