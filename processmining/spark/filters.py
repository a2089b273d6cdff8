"""The log filters of :mod:`processmining.filters` on Spark: the same cases and events kept, the same history.

Each function takes a :class:`~.frame.SparkLog` and returns a new one whose
``df`` is the input's, filtered with DataFrame operations (a window
aggregate over the case for case filters, a row filter for event filters);
nothing is collected but the variant counts of :func:`filter_variants` and
the activity names the checks need. The step appended to ``history`` is the
local one, word for word, so ``discover`` and ``bottlenecks`` print and record
the same filters on both engines.

Events are ordered within a case as :class:`~.frame.SparkLog` orders them
(time, then input order). Values written as text compare with a column in its
type through the local :func:`processmining.filters.typed_values`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import AnalysisError
from ..filters import ValueKind, _as_list, _neg, _ts, check_activities, check_column, typed_values
from ..model import ACTIVITY, CASE, ORDER, TIMESTAMP
from ..performance import parse_duration
from .frame import SparkLog

__all__ = ["filter_activities", "filter_case_attribute", "filter_case_duration", "filter_contains",
           "filter_end_activities", "filter_event_attribute", "filter_follows", "filter_start_activities",
           "filter_time_frame", "filter_variants", "time_span", "value_kind"]


# ------------------------------------------------------------------ helpers
_KEEP = "__pm_keep"


def _col(name: str) -> Any:
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def _tns() -> Any:
    """The event time in integer nanoseconds (null without times), as :meth:`SparkLog.events`."""
    from pyspark.sql import functions as F

    return F.unix_micros(F.col(TIMESTAMP)) * 1000


def _derived(log: SparkLog, df: Any, step: str) -> SparkLog:
    """A new log over ``df`` with ``step`` appended (the read caches stay with the input log)."""
    out = SparkLog(df=df, report=log.report, name=log.name, history=(*log.history, step))
    out._times = log._times  # a log has times on every event or on none: a subset keeps that
    return out


def _case() -> Any:
    """The window of a whole case: case filters are window aggregates, one pass and no join (a chain of
    them keeps the partitioning by case that :meth:`SparkLog.events` uses next)."""
    from pyspark.sql import Window

    return Window.partitionBy(CASE)


def _keep_cases(log: SparkLog, mask: Any, keep: bool, step: str, df: Any = None) -> SparkLog:
    """The events of the cases where ``mask`` (the same on every event of a case) holds (``keep=False``:
    where it does not); a null mask is false, as a NaN comparison locally."""
    from pyspark.sql import functions as F

    m = F.coalesce(mask, F.lit(False))
    frame = log.df if df is None else df
    kept = frame.withColumn(_KEEP, m if keep else ~m).filter(F.col(_KEEP)).select(*[_col(c) for c in log.df.columns])
    return _derived(log, kept, step)


def _known_activities(log: SparkLog, activities: Iterable[str]) -> list[str]:
    if log._act_cases is not None:  # already on the driver
        known = set(log._act_cases.index)
    else:
        known = {r[0] for r in log.df.select(ACTIVITY).distinct().collect()}
    return check_activities(known, activities, source=log.name)


def time_span(log: SparkLog) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last event time (UTC), as :attr:`EventLog.time_span`; ``None`` for an order-only or empty log."""
    from pyspark.sql import functions as F

    row = log.df.agg(F.min(F.unix_micros(F.col(TIMESTAMP))).alias("lo"),
                     F.max(F.unix_micros(F.col(TIMESTAMP))).alias("hi")).first()
    if row is None or row["lo"] is None:
        return None
    return pd.Timestamp(int(row["lo"]), unit="us", tz="UTC"), pd.Timestamp(int(row["hi"]), unit="us", tz="UTC")


# ------------------------------------------------------------------ typed values
def value_kind(dtype: Any) -> ValueKind:
    """The :data:`~processmining.filters.ValueKind` of a Spark column type (dates are timestamps)."""
    from pyspark.sql import types as T

    if isinstance(dtype, T.BooleanType):
        return "boolean"
    if isinstance(dtype, T.NumericType):
        return "number"
    if isinstance(dtype, T.TimestampType | T.TimestampNTZType | T.DateType):
        return "timestamp"
    return "text"


def value_in(log: SparkLog, column: str, values: str | Iterable[object]) -> tuple[Any, list[object]]:
    """``(column in values, values as given)``: the condition of :func:`processmining.filters.filter_case_attribute`
    as a Spark expression (null where the column is null), values read as the column's type."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    check_column(log.df.columns, column, source=log.name)
    vals = _as_list(values)
    dtype = log.df.schema[column].dataType
    kind = value_kind(dtype)
    typed = typed_values(vals, kind, column=column)
    col = _col(column)
    if kind == "timestamp":  # instants in µs; a naive column (or a date) is its wall time in UTC, the session's zone
        stamps = [pd.Timestamp(t) for t in typed if isinstance(t, pd.Timestamp | datetime)]
        micros = [int(t.value) // 1000 for t in stamps if t.value % 1000 == 0]
        col = F.unix_micros(col if isinstance(dtype, T.TimestampType) else col.cast("timestamp"))
        return (col.isin(micros) if micros else F.when(col.isNotNull(), F.lit(False))), vals
    if kind == "text" and not isinstance(dtype, T.StringType):
        col = col.cast("string")
    typed = [v for v in typed if v is not None]
    return (col.isin(typed) if typed else F.when(col.isNotNull(), F.lit(False))), vals


# ------------------------------------------------------------------ time
def filter_time_frame(log: SparkLog, start: str | pd.Timestamp, end: str | pd.Timestamp, *,
                      mode: str = "intersecting") -> SparkLog:
    """:func:`processmining.filters.filter_time_frame` on Spark (inclusive; naive times are UTC)."""
    from pyspark.sql import functions as F

    t0, t1 = _ts(start), _ts(end)
    if t1 < t0:
        raise AnalysisError(f"time frame ends ({t1}) before it starts ({t0})")
    step = f"filter: {mode} in time frame {t0.isoformat()} .. {t1.isoformat()}"
    lo, hi, t = F.lit(int(t0.value)), F.lit(int(t1.value)), _tns()
    if mode == "trim":
        return _derived(log, log.df.filter(F.coalesce((t >= lo) & (t <= hi), F.lit(False))), step)
    first, last = F.min(t).over(_case()), F.max(t).over(_case())
    nat = F.max(t.isNull().cast("int")).over(_case())
    cond = {"contained": (first >= lo) & (last <= hi), "intersecting": (first <= hi) & (last >= lo),
            "started": (first >= lo) & (first <= hi), "completed": (last >= lo) & (last <= hi)}.get(mode)
    if cond is None:
        raise AnalysisError(f"unknown time frame mode {mode!r}; use contained, intersecting, started, completed or trim")
    return _keep_cases(log, cond & (nat == 0), True, step)  # a case without times: as NaT locally


def filter_case_duration(log: SparkLog, *, min_duration: str | float | pd.Timedelta | None = None,
                         max_duration: str | float | pd.Timedelta | None = None) -> SparkLog:
    """:func:`processmining.filters.filter_case_duration` on Spark (first to last event, float seconds)."""
    from pyspark.sql import functions as F

    lo = parse_duration(min_duration) if min_duration is not None else None
    hi = parse_duration(max_duration) if max_duration is not None else None
    parts = []
    if min_duration is not None:
        parts.append(f">= {min_duration}")
    if max_duration is not None:
        parts.append(f"<= {max_duration}")
    step = "filter: case duration " + " and ".join(parts or ["any"])
    t = _tns()
    # the local float: integer ns subtracted, then divided; a log without times has 0 s cases, as locally
    dur = F.coalesce((F.max(t).over(_case()) - F.min(t).over(_case())).cast("double") / 1e9, F.lit(0.0))
    cond = F.lit(True)
    if lo is not None:
        cond = cond & (dur >= F.lit(float(lo)))
    if hi is not None:
        cond = cond & (dur <= F.lit(float(hi)))
    return _keep_cases(log, cond, True, step)


# ------------------------------------------------------------------ attributes
def filter_case_attribute(log: SparkLog, column: str, values: str | Iterable[object], *,
                          keep: bool = True) -> SparkLog:
    """:func:`processmining.filters.filter_case_attribute` on Spark: whole cases where any event has ``column``
    in ``values`` (``keep=False``: where none has)."""
    from pyspark.sql import functions as F

    hit, vals = value_in(log, column, values)
    any_hit = F.max(F.coalesce(hit, F.lit(False)).cast("int")).over(_case()) == 1
    return _keep_cases(log, any_hit, keep, f"filter: cases {_neg(keep)}having {column} in {vals}")


def filter_event_attribute(log: SparkLog, column: str, values: str | Iterable[object], *,
                           keep: bool = True) -> SparkLog:
    """:func:`processmining.filters.filter_event_attribute` on Spark (``keep=False`` keeps empty values too)."""
    from pyspark.sql import functions as F

    hit, vals = value_in(log, column, values)
    hit = F.coalesce(hit, F.lit(False))
    return _derived(log, log.df.filter(hit if keep else ~hit), f"filter: events {_neg(keep)}having {column} in {vals}")


def filter_activities(log: SparkLog, activities: str | Iterable[str], *, keep: bool = True) -> SparkLog:
    """:func:`processmining.filters.filter_activities` on Spark."""
    from pyspark.sql import functions as F

    acts = _known_activities(log, _as_list(activities))
    hit = F.col(ACTIVITY).isin(acts)
    return _derived(log, log.df.filter(hit if keep else ~hit), f"filter: events {_neg(keep)}of activities {acts}")


def filter_contains(log: SparkLog, activities: str | Iterable[str], *, how: Literal["any", "all"] = "any",
                    keep: bool = True) -> SparkLog:
    """:func:`processmining.filters.filter_contains` on Spark: cases with any (``"all"``: every one) of ``activities``."""
    from pyspark.sql import functions as F

    acts = _known_activities(log, _as_list(activities))
    named = F.when(F.col(ACTIVITY).isin(acts), F.col(ACTIVITY))
    # a name given twice counts twice locally, for "all" as well as needed: the distinct names decide
    mask = F.size(F.collect_set(named).over(_case())) >= F.lit(len(set(acts)) if how == "all" else 1)
    return _keep_cases(log, mask, keep, f"filter: cases {'' if keep else 'not '}containing {how} of {acts}")


def _boundary(log: SparkLog, activities: str | Iterable[str], keep: bool, last: bool, word: str) -> SparkLog:
    from pyspark.sql import functions as F

    acts = _known_activities(log, _as_list(activities))
    ev = F.struct(_tns().alias("t"), F.col(ORDER).alias("o"), F.col(ACTIVITY).alias("a"))
    edge = (F.max(ev) if last else F.min(ev)).over(_case())["a"]
    return _keep_cases(log, edge.isin(acts), keep, f"filter: cases {_neg(keep)}{word} with {acts}")


def filter_start_activities(log: SparkLog, activities: str | Iterable[str], *, keep: bool = True) -> SparkLog:
    """:func:`processmining.filters.filter_start_activities` on Spark: cases whose first event is one of them."""
    return _boundary(log, activities, keep, False, "starting")


def filter_end_activities(log: SparkLog, activities: str | Iterable[str], *, keep: bool = True) -> SparkLog:
    """:func:`processmining.filters.filter_end_activities` on Spark: cases whose last event is one of them."""
    return _boundary(log, activities, keep, True, "ending")


# ------------------------------------------------------------------ variants
def filter_variants(log: SparkLog, *, top: int | None = None, variants: Sequence[Sequence[str]] | None = None,
                    keep: bool = True) -> SparkLog:
    """:func:`processmining.filters.filter_variants` on Spark: cases of the ``top`` most frequent variants
    (cases, then sequence, as locally) or of the listed ones; the variant counts come to the driver."""
    from pyspark.sql import functions as F

    if (top is None) == (variants is None):
        raise AnalysisError("give either top=N or variants=[...], not both or neither")
    ordered = F.sort_array(F.collect_list(F.struct(_tns().alias("t"), F.col(ORDER).alias("o"),
                                                   F.col(ACTIVITY).alias("a"))))
    per_case = log.df.groupBy(CASE).agg(F.transform(ordered, lambda x: x["a"]).alias("seq"))
    if top is not None:
        counts = per_case.groupBy("seq").agg(F.count(F.lit(1)).alias("cases")).toPandas()
        if counts.empty:
            return _derived(log, log.df, "filter: variants (empty log)")
        counts["activities"] = [tuple(str(a) for a in s) for s in counts["seq"]]
        ranked = counts.sort_values(["cases", "activities"], ascending=[False, True])
        chosen = ranked["activities"].tolist()[: max(int(top), 0)]
        label = f"top {top} variants"
    else:
        chosen = list({tuple(v) for v in variants or ()})
        if log.df.limit(1).count() == 0:
            return _derived(log, log.df, "filter: variants (empty log)")
        label = f"{len(chosen)} listed variants"
    hit = F.col("seq").isin([F.array(*[F.lit(a) for a in v]) for v in chosen if v]) if chosen else F.lit(False)
    ids = per_case.filter(hit if keep else ~hit).select(CASE)  # one row per case: a semi-join, not a window
    return _derived(log, log.df.join(ids, CASE, "left_semi"), f"filter: cases {_neg(keep)}in {label}")


# ------------------------------------------------------------------ follows
def filter_follows(log: SparkLog, a: str, b: str, *, directly: bool = False,
                   within: str | float | pd.Timedelta | None = None, keep: bool = True) -> SparkLog:
    """:func:`processmining.filters.filter_follows` on Spark: cases where ``a`` is (directly) followed by ``b``,
    optionally ``within`` a time of the latest preceding ``a``; one window over each case."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    _known_activities(log, [a, b])
    limit = parse_duration(within) if within is not None else np.inf
    # seconds as the local float (ns / 1e9); a log without times has one constant time, as locally
    t = F.coalesce(_tns().cast("double") / 1e9, F.lit(0.0))
    w = Window.partitionBy(CASE).orderBy(_tns(), F.col(ORDER))
    act = F.col(ACTIVITY)
    if directly:
        prev_t = F.lag(t).over(w)
        hit = (F.lag(act).over(w) == F.lit(a)) & (act == F.lit(b))
    else:
        prev_t = F.last(F.when(act == F.lit(a), t), ignorenulls=True).over(w.rowsBetween(Window.unboundedPreceding, -1))
        hit = (act == F.lit(b)) & prev_t.isNotNull()
    if np.isfinite(limit):
        hit = hit & (t - prev_t <= F.lit(float(limit)))
    marked = log.df.withColumn(_KEEP, F.coalesce(hit, F.lit(False)).cast("int"))
    how = "directly" if directly else "eventually"
    step = f"filter: cases {_neg(keep)}where {a} is {how} followed by {b}" + (f" within {within}" if within is not None else "")
    return _keep_cases(log, F.max(_KEEP).over(_case()) == 1, keep, step, df=marked)
