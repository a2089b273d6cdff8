"""Start / complete pairing on Spark: :func:`processmining.lifecycle.pair_lifecycle`, rule for rule, on the cluster.

The local rules (see :mod:`processmining.lifecycle`), ported one by one:

* transitions are compared lower-cased and trimmed (``''`` where there is none);
* a ``start`` pairs with the next ``complete`` of the same case, activity (and
  ``concept:instance`` where the table has it): first by the same resource,
  then first-in-first-out on what is left. Each pass is the local running-sum
  construction as window functions over (case, activity[, instance][, resource])
  in the log's order (time, then input order): the queue length is a running
  sum, a close finds the queue empty when the running minimum drops, and the
  k-th paired close takes the k-th open (a join on the group and k);
* a ``complete`` without a start keeps an unknown start (processing time
  unknown); a ``start`` without a complete is kept as an instance at its time
  (``lifecycle:transition`` stays ``start``, processing time unknown);
* ``suspend`` / ``resume`` pairs (the same two passes) inside an instance are
  subtracted from its processing time (``lifecycle:suspended_s``); they and
  ``schedule``, ``assign``, ... are not instances and are counted by transition;
* ``mode="classifier"`` names every event ``activity+transition``; ``"events"``
  keeps the table as it is.

The counts, the ``filtered`` entries and the note are the local ones
(:func:`processmining.lifecycle.lifecycle_note`); no event leaves the cluster.
"""

from __future__ import annotations

from typing import Any

from ..errors import AnalysisError
from ..lifecycle import INSTANCE, MODES, NOT_INSTANCES, lifecycle_note
from ..model import ACTIVITY, CASE, LIFECYCLE, ORDER, RESOURCE, START_TIMESTAMP, SUSPENDED, TIMESTAMP

__all__ = ["lifecycle_note", "needs_pairing", "pair_lifecycle"]

_PAIRING = ("start", "suspend", "resume", *NOT_INSTANCES)


def _transition() -> Any:
    from pyspark.sql import functions as F

    return F.coalesce(F.lower(F.trim(F.col(LIFECYCLE).cast("string"))), F.lit(""))


def needs_pairing(df: Any) -> bool:
    """:func:`processmining.lifecycle.needs_pairing` on a Spark frame (one ``limit(1)`` job)."""
    if LIFECYCLE not in df.columns:
        return False
    wanted = [t for t in _PAIRING if t != "unknown"]
    return df.filter(_transition().isin(wanted)).limit(1).count() > 0


def _key_columns(df: Any, *, with_resource: bool) -> list[Any]:
    """The pairing group as text columns, empty values as ``"\\x00"`` (the local ``_keys``)."""
    from pyspark.sql import functions as F

    cols = [ACTIVITY] + ([INSTANCE] if INSTANCE in df.columns else [])
    if with_resource and RESOURCE in df.columns:
        cols.append(RESOURCE)
    return [F.coalesce(F.col(c).cast("string"), F.lit("\x00")).alias(f"_k{i}") for i, c in enumerate(cols)]


def _plain_keys(ev: Any, *, has_resource: bool) -> list[str]:
    """The key columns without the resource (the group of the FIFO pass)."""
    keys = [k for k in ev.columns if k.startswith("_k")]
    return keys[:-1] if has_resource else keys


def _fifo(ev: Any, keys: list[str], opens: Any, closes: Any) -> Any:
    """``(c, o_close, o_open, t_open)`` for every close that pairs, first-in-first-out per group.

    ``ev`` has ``c`` (case), ``o`` (input order), ``tns`` and the key columns;
    ``opens`` / ``closes`` are boolean columns. The local ``_fifo_match``.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    part = ["c", *keys]
    rows = ev.filter(opens | closes).select(*part, "o", "tns", opens.alias("_open"))
    w = Window.partitionBy(*part).orderBy(F.col("tns").asc_nulls_first(), "o")
    run = w.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    step = F.when(F.col("_open"), F.lit(1)).otherwise(F.lit(-1))
    rows = rows.withColumn("_level", F.sum(step).over(run))
    rows = rows.withColumn("_low", F.least(F.min("_level").over(run), F.lit(0)))
    rows = rows.withColumn("_paired", ~F.col("_open") & (F.col("_low") == F.coalesce(F.lag("_low").over(w), F.lit(0))))
    rows = rows.withColumn("_ko", F.sum(F.col("_open").cast("long")).over(run) - 1) \
               .withColumn("_kc", F.sum(F.col("_paired").cast("long")).over(run) - 1)
    o = rows.filter(F.col("_open")).select(*part, F.col("_ko").alias("_k"), F.col("o").alias("o_open"),
                                           F.col("tns").alias("t_open"))
    c = rows.filter(F.col("_paired")).select(*part, F.col("_kc").alias("_k"), F.col("o").alias("o_close"))
    return c.join(o, [*part, "_k"], "inner").select("c", "o_close", "o_open", "t_open")


def _pair(ev: Any, opens: Any, closes: Any, *, has_resource: bool, cached: list[Any]) -> Any:
    """Resource first, then FIFO on case + activity (+ instance) for what is left: ``(c, o_close, o_open,
    t_open)`` per paired close (the local ``_pair``)."""
    from pyspark.sql import functions as F

    plain = _plain_keys(ev, has_resource=has_resource)
    if not has_resource:
        return _fifo(ev, plain, opens, closes)
    first = _fifo(ev, [*plain, f"_k{len(plain)}"], opens, closes).persist()
    cached.append(first)
    taken_open = first.select("c", F.col("o_open").alias("o"), F.lit(True).alias("_taken_o"))
    taken_close = first.select("c", F.col("o_close").alias("o"), F.lit(True).alias("_taken_c"))
    marked = ev.join(taken_open, ["c", "o"], "left").join(taken_close, ["c", "o"], "left")
    rest = _fifo(marked, plain, opens & F.col("_taken_o").isNull(), closes & F.col("_taken_c").isNull())
    return first.unionByName(rest)


def pair_lifecycle(df: Any, *, mode: str = "instances",
                   cached: list[Any] | None = None) -> tuple[Any, dict[str, int], dict[str, int]] | None:
    """``(paired frame, counts, filtered)`` for a canonical Spark event frame, or ``None`` when there is
    nothing to pair (mode ``"events"``, or no start / suspend / schedule ... transition).

    ``counts`` is the local ``report.lifecycle``, ``filtered`` the local ``report.filtered`` entries.
    Frames persisted on the way are appended to ``cached`` (for :meth:`SparkLog.unpersist`).
    """
    from pyspark.sql import functions as F

    if mode not in MODES:
        raise AnalysisError(f"lifecycle mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "events" or not needs_pairing(df):
        return None
    tr = _transition()
    if mode == "classifier":
        named = F.when(tr != "", F.concat(F.col(ACTIVITY), F.lit("+"), F.col(LIFECYCLE).cast("string"))) \
            .otherwise(F.col(ACTIVITY))
        return df.withColumn(ACTIVITY, named), {"classifier": int(df.count())}, {}
    has_resource = RESOURCE in df.columns
    ev = df.select(F.col(CASE).alias("c"), F.col(ORDER).cast("long").alias("o"),
                   (F.unix_micros(F.col(TIMESTAMP)) * 1000).alias("tns"), tr.alias("_tr"),
                   *_key_columns(df, with_resource=True))
    keep_cached = cached if cached is not None else []
    ev = ev.persist()
    keep_cached.append(ev)
    is_start = F.col("_tr") == "start"
    is_complete = ~F.col("_tr").isin(list(_PAIRING))
    match = _pair(ev, is_start, is_complete, has_resource=has_resource, cached=keep_cached).persist()
    keep_cached.append(match)
    paired_starts = match.select("c", F.col("o_open").alias("o"), F.lit(True).alias("_ps"))
    closes = match.select("c", F.col("o_close").alias("o"), F.col("t_open").alias("_t_open"))
    labelled = ev.join(paired_starts, ["c", "o"], "left").join(closes, ["c", "o"], "left")
    suspended = None
    if labelled.filter(F.col("_tr") == "suspend").limit(1).count():
        suspended = _suspensions(ev, labelled, has_resource=has_resource, cached=keep_cached)
        labelled = labelled.join(suspended, ["c", "o"], "left")
    start_only = is_start & F.col("_ps").isNull()
    keep = is_complete | start_only
    flags = labelled.select(
        "c", "o", "_t_open", *(["_susp"] if suspended is not None else []), keep.alias("_keep"),
        F.col("_ps").isNotNull().alias("_paired_start"), start_only.alias("_start_only"),
        (is_complete & F.col("_t_open").isNull() & (F.col("_tr") != "")).alias("_complete_only"),
        F.col("_t_open").isNotNull().alias("_matched"), "_tr").persist()
    keep_cached.append(flags)
    aggs = [F.sum(F.col(x).cast("long")).alias(x) for x in ("_keep", "_matched", "_complete_only", "_start_only")]
    aggs += [F.sum((F.col("_tr") == t).cast("long")).alias(t) for t in ("suspend", "resume", *NOT_INSTANCES)]
    tot = flags.agg(*aggs).first()
    n = {k: int(tot[k] or 0) for k in tot.asDict()}
    counts = {"instances": n["_keep"], "paired": n["_matched"], "complete_only": n["_complete_only"],
              "start_only": n["_start_only"]}
    filtered: dict[str, int] = {}
    if n["_matched"]:
        filtered["lifecycle 'start' paired with its 'complete' into one activity instance"] = n["_matched"]
    for t in ("suspend", "resume", *NOT_INSTANCES):
        if n[t]:
            counts[t] = n[t]
            filtered[f"lifecycle '{t}' (not an activity instance; suspension is subtracted from processing time)"
                     if t in ("suspend", "resume") else f"lifecycle '{t}' (not an activity instance)"] = n[t]
    kept = flags.filter(F.col("_keep")).select(F.col("c").alias("_lc_c"), F.col("o").alias("_lc_o"), "_t_open",
                                               *(["_susp"] if suspended is not None else []))
    out = df.join(kept, (df[CASE] == kept["_lc_c"]) & (df[ORDER].cast("long") == kept["_lc_o"]), "inner")
    start = F.col(START_TIMESTAMP) if START_TIMESTAMP in df.columns else F.lit(None).cast("timestamp")
    paired_start = F.timestamp_micros(F.expr("_t_open div 1000"))  # integer µs: no float on the way
    out = out.withColumn(START_TIMESTAMP, F.when(F.col("_t_open").isNotNull(), paired_start).otherwise(start))
    if suspended is not None:
        out = out.withColumn(SUSPENDED, F.coalesce(F.col("_susp"), F.lit(0.0)))
    return out.drop("_lc_c", "_lc_o", "_t_open", "_susp"), counts, filtered


def _suspensions(ev: Any, labelled: Any, *, has_resource: bool, cached: list[Any]) -> Any:
    """``(c, o, _susp)``: seconds each completed instance was suspended (the local ``_suspensions``: a
    suspend -> resume pair of the same case and activity whose suspend lies between the start and the
    complete, bounds included; float seconds as the local ``t``)."""
    from pyspark.sql import functions as F

    res = _pair(ev, F.col("_tr") == "suspend", F.col("_tr") == "resume", has_resource=has_resource, cached=cached)
    plain = _plain_keys(ev, has_resource=has_resource)
    keyed = ev.select("c", "o", "tns", *plain)
    secs = res.join(keyed.withColumnRenamed("o", "o_close"), ["c", "o_close"]).select(
        "c", *plain, (F.col("t_open").cast("double") / 1e9).alias("t0"),
        (F.col("tns").cast("double") / 1e9 - F.col("t_open").cast("double") / 1e9).alias("secs"))
    inst = labelled.filter(F.col("_t_open").isNotNull() & ~F.col("_tr").isin(list(_PAIRING))).select(
        "c", "o", *plain, (F.col("_t_open").cast("double") / 1e9).alias("t_start"),
        (F.col("tns").cast("double") / 1e9).alias("t_end"))
    inside = inst.join(secs, ["c", *plain]).filter((F.col("t0") >= F.col("t_start")) & (F.col("t0") <= F.col("t_end")))
    return inside.groupBy("c", "o").agg(F.sum("secs").alias("_susp"))
