"""The Spark counterpart of :class:`~processmining.model.EventLog`: canonical columns, one ordered event frame.

Events are ordered within a case by (timestamp, input order) -- the order
of :meth:`EventLog.from_frame` -- with one window over the case. Every
analysis starts from :meth:`SparkLog.events`, which adds per event its
position in the case and the next / previous event, computed once and
cached on the cluster (never collected). Times are integer nanoseconds
(``tns``, ``stns``: the local engine's ``LogCodes.ts`` / ``start``) and
float seconds ``ts = tns / 1e9`` (its ``LogCodes.t``), so every per-event
duration is the same float the local engine computes.

:meth:`SparkLog.case_facts` brings one row per case to the driver (the case
status, SLA clocks and global event positions are decided there by the local
code); events never leave the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..model import ACTIVITY, CASE, ORDER, RESOURCE, START_TIMESTAMP, SUSPENDED, TIMESTAMP


@dataclass
class SparkLog:
    """An event log held by Spark: ``df`` has the canonical columns (``case:concept:name``, ...)."""

    df: Any
    report: Any = None
    name: str = "log"
    #: filters applied after reading, in order (as :attr:`EventLog.history`; see :mod:`.filters`)
    history: tuple[str, ...] = ()
    _events: Any = field(default=None, repr=False)
    #: DataFrames persisted while reading (released by :meth:`unpersist`)
    cached: list[Any] = field(default_factory=list, repr=False)
    _start: bool | None = field(default=None, repr=False)
    _times: bool | None = field(default=None, repr=False)
    _facts: Any = field(default=None, repr=False)
    _act_cases: Any = field(default=None, repr=False)
    _cases: Any = field(default=None, repr=False)
    _arc_cases: Any = field(default=None, repr=False)
    #: ``df``'s canonical columns alone, without the attribute columns, where ``df`` renders those on the
    #: executors in Python (:func:`.source.read_events`): the ordered event frame is built from it, so no
    #: Python runs under the analyses. ``None``: ``df`` itself.
    core: Any = field(default=None, repr=False)

    @classmethod
    def from_dataframe(cls, df: Any, *, name: str = "dataframe") -> SparkLog:
        """Wrap a Spark DataFrame that already has the canonical columns (no ingest, no report)."""
        missing = [c for c in (CASE, ACTIVITY, TIMESTAMP) if c not in df.columns]
        if missing:
            from ..errors import IngestError

            raise IngestError(f"the DataFrame needs the columns {missing}; use read_events with a mapping",
                              source=name)
        if ORDER not in df.columns:
            from .source import with_row_numbers

            df = with_row_numbers(df, 1)[0].withColumnRenamed("_order", ORDER).drop("_row")
        return cls(df=df, name=name)

    @property
    def has_start_times(self) -> bool:
        if self._start is None:
            from pyspark.sql import functions as F

            df = self.canonical
            self._start = START_TIMESTAMP in df.columns and \
                df.filter(F.col(START_TIMESTAMP).isNotNull()).limit(1).count() > 0
        return self._start

    @property
    def has_timestamps(self) -> bool:
        """False for an order-only log (no event has a time), as :attr:`EventLog.has_timestamps`."""
        if self._times is None:
            from pyspark.sql import functions as F

            df = self.canonical
            self._times = df.filter(F.col(TIMESTAMP).isNotNull()).limit(1).count() > 0 or df.limit(1).count() == 0
        return self._times

    @property
    def canonical(self) -> Any:
        """The events' canonical columns (:attr:`core` where there is one, else ``df``)."""
        return self.core if self.core is not None else self.df

    @property
    def time_span(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """First and last event time, as :attr:`EventLog.time_span` (see :func:`.filters.time_span`)."""
        from .filters import time_span

        return time_span(self)

    @property
    def has_resource(self) -> bool:
        return RESOURCE in self.df.columns

    def events(self) -> Any:
        """Per event: ``c`` (case), ``a`` (activity), ``tns`` (ns, null without times), ``ts`` (s, float),
        ``stns`` (start in ns; the completion where unknown; null without start times), ``proc`` (processing
        seconds as the local ``LogCodes.processing``), ``o`` (input order), ``r`` (resource), ``pos`` (0-based
        in the case), ``na`` / ``ntns`` / ``nstns`` (next event's activity, time, start-or-time), ``pts``
        (previous event's time, s). One sort and one window over the case; cached."""
        if self._events is None:
            from pyspark.sql import Window
            from pyspark.sql import functions as F

            df = self.canonical
            tns = F.unix_micros(F.col(TIMESTAMP)) * 1000
            if self.has_start_times:
                raw_st = F.unix_micros(F.col(START_TIMESTAMP)) * 1000
                stns = F.coalesce(raw_st, tns)
                proc = (tns - raw_st).cast("double") / 1e9
                if SUSPENDED in df.columns:
                    proc = proc - F.coalesce(F.col(SUSPENDED).cast("double"), F.lit(0.0))
            else:
                stns, proc = F.lit(None).cast("long"), F.lit(None).cast("double")
            res = F.col(RESOURCE) if RESOURCE in df.columns else F.lit(None).cast("string")
            base = df.select(F.col(CASE).alias("c"), F.col(ACTIVITY).alias("a"), tns.alias("tns"),
                             stns.alias("stns"), proc.alias("proc"), F.col(ORDER).cast("long").alias("o"),
                             res.alias("r")).withColumn("ts", F.col("tns").cast("double") / 1e9)
            w = Window.partitionBy("c").orderBy("tns", "o")
            ev = base.select("*", (F.row_number().over(w) - 1).alias("pos"), F.lead("a").over(w).alias("na"),
                             F.lead("tns").over(w).alias("ntns"),
                             F.lead(F.coalesce(F.col("stns"), F.col("tns"))).over(w).alias("nstns"),
                             F.lag("ts").over(w).alias("pts"))
            self._events = ev.persist()
        return self._events

    def cases(self) -> Any:
        """Per case (Spark), computed once and cached: ``c``, ``seq`` (activities in log order), ``n``
        (events), ``first_tns`` / ``last_tns`` (ns), ``last_a`` (last activity). The variants, the case facts,
        the cases per activity and arc, and conformance share it; the events are already partitioned by case,
        so it shuffles nothing."""
        if self._cases is None:
            from pyspark.sql import functions as F

            ordered = F.sort_array(F.collect_list(F.struct("pos", "a")))
            last = F.max(F.struct("pos", "a", "tns"))
            self._cases = self.events().groupBy("c").agg(
                F.transform(ordered, lambda x: x["a"]).alias("seq"), F.count(F.lit(1)).alias("n"),
                F.min("tns").alias("first_tns"), last.alias("last")).select(
                "c", "seq", "n", "first_tns", F.col("last.tns").alias("last_tns"),
                F.col("last.a").alias("last_a")).persist()
        return self._cases

    def activity_cases(self) -> pd.Series:
        """Cases containing each activity, in name order (one row per activity; computed once per log)."""
        if self._act_cases is None:
            self._count_cases()
        return self._act_cases

    def arc_cases(self) -> pd.Series:
        """Cases containing each arc (directly-follows pair), indexed by (source, target) in name order."""
        if self._arc_cases is None:
            self._count_cases()
        return self._arc_cases

    def _count_cases(self) -> None:
        """Cases per activity and per arc in one job over the per-case sequences: each case's distinct
        activities (target null) and distinct arcs, counted. (Per event, "first occurrence in the case"
        flags would need a second sort of all events by case and activity.)"""
        from pyspark.sql import functions as F

        seq = F.col("seq")
        acts = F.transform(F.array_distinct(seq), lambda a: F.struct(a.alias("s"), F.lit(None).cast("string").alias("t")))
        arcs = F.transform(F.slice(seq, 2, F.greatest(F.size(seq) - 1, F.lit(0))),
                           lambda t, i: F.struct(seq[i].alias("s"), t.alias("t")))
        got = self.cases().select(F.explode(F.concat(acts, F.array_distinct(arcs))).alias("x")) \
            .groupBy(F.col("x.s").alias("s"), F.col("x.t").alias("t")).count().toPandas()
        is_act = got["t"].isna().to_numpy()
        act, arc = got[is_act], got[~is_act]
        self._act_cases = pd.Series(act["count"].to_numpy(dtype=np.int64),
                                    index=act["s"].astype(object).to_numpy()).sort_index()
        self._arc_cases = pd.Series(arc["count"].to_numpy(dtype=np.int64),
                                    index=pd.MultiIndex.from_arrays([arc["s"].astype(object).to_numpy(),
                                                                     arc["t"].astype(object).to_numpy()],
                                                                    names=["source", "target"])).sort_index()

    def case_facts(self) -> pd.DataFrame:
        """One row per case, in the local engine's case order (case id text order): ``case``, ``n`` (events),
        ``offset`` (row of its first event in the sorted log), ``last_activity``, ``last_tns``, ``first_tns``.
        Computed once per log and kept on the driver."""
        if self._facts is None:
            from pyspark.sql import functions as F

            got = self.cases().select(F.col("c").alias("case"), "n", F.col("last_a").alias("last_activity"),
                                      "last_tns", "first_tns").toPandas()
            got = got.sort_values("case", ignore_index=True)
            got["case"] = got["case"].astype(object)
            got["last_activity"] = got["last_activity"].astype(object)
            got["n"] = got["n"].astype(np.int64)
            got["offset"] = np.cumsum(got["n"].to_numpy()) - got["n"].to_numpy()
            self._facts = got
        return self._facts

    def unpersist(self) -> None:
        """Release what this log keeps on the cluster."""
        for df in self.cached:
            df.unpersist()
        self.cached.clear()
        for frame in (self._cases, self._events):
            if frame is not None:
                frame.unpersist()
        self._cases = self._events = None
        self._facts = None
        self._act_cases = self._arc_cases = None

    @property
    def n_events(self) -> int:
        return int(self.events().count())

    def now_seconds(self, as_of: str | pd.Timestamp | None = None) -> float:
        """The "now" of :func:`processmining.performance.as_of_seconds`: ``as_of`` or the last event's time."""
        from ..performance import as_of_seconds

        if as_of is not None:
            return as_of_seconds(None, as_of)  # type: ignore[arg-type]  # the log is not used with as_of
        last = self.case_facts()["last_tns"]
        return float("nan") if last.isna().all() else int(last.max()) / 1e9


def case_batches(log: SparkLog, n_cases: int, per_batch: int) -> tuple[Any, int]:
    """``(events with _bucket, number of buckets)``: ``log.df`` with a bucket per case (a hash of its id), about
    ``per_batch`` cases a bucket; ``groupBy("_bucket").applyInPandas`` then hands whole cases to a local function."""
    from pyspark.sql import functions as F

    n = max(1, -(-n_cases // per_batch))
    return log.df.withColumn("_bucket", F.pmod(F.xxhash64(F.col(f"`{CASE}`")), F.lit(n))), n


def local_log(frame: pd.DataFrame, name: str = "log") -> Any:
    """A batch of whole cases from Spark (times naive UTC, as ``applyInPandas`` hands them) as a local
    :class:`~processmining.model.EventLog`, for the local engine's per-case functions."""
    from ..model import EventLog

    frame = frame.drop(columns=[c for c in ("_bucket",) if c in frame.columns])
    for col in (TIMESTAMP, START_TIMESTAMP):
        if col in frame.columns:
            ts = pd.to_datetime(frame[col])
            frame[col] = ts.dt.tz_localize("UTC") if ts.dt.tz is None else ts.dt.tz_convert("UTC")
    return EventLog.from_frame(frame, name=name)
