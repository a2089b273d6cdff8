"""The Spark counterpart of :class:`~processmining.model.EventLog`: canonical columns, one ordered event frame.

Events are ordered within a case by (timestamp, input order) -- the order
of :meth:`EventLog.from_frame` -- with one window over the case. Every
analysis starts from :meth:`SparkLog.events`, which adds per event its
position in the case and the next / previous event, computed once and
cached on the cluster (never collected). Times are integer microseconds
(``t``, ``st``), so sums and differences are exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..model import ACTIVITY, CASE, ORDER, RESOURCE, START_TIMESTAMP, TIMESTAMP

US = 1_000_000.0


@dataclass
class SparkLog:
    """An event log held by Spark: ``df`` has the canonical columns (``case:concept:name``, ...)."""

    df: Any
    report: Any = None
    name: str = "log"
    _events: Any = field(default=None, repr=False)
    #: DataFrames persisted while reading (released by :meth:`unpersist`)
    cached: list[Any] = field(default_factory=list, repr=False)
    _start: bool | None = field(default=None, repr=False)

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

            self._start = START_TIMESTAMP in self.df.columns and \
                self.df.filter(F.col(START_TIMESTAMP).isNotNull()).limit(1).count() > 0
        return self._start

    @property
    def has_resource(self) -> bool:
        return RESOURCE in self.df.columns

    def events(self) -> Any:
        """Per event: ``c`` (case), ``a`` (activity), ``t`` / ``st`` (µs; ``st`` null without a start time),
        ``o`` (input order), ``r`` (resource), ``pos`` (0-based in the case), ``na`` / ``nt`` / ``nst``
        (next event's activity, time, start-or-time), ``pt`` (previous event's time). Cached."""
        if self._events is None:
            from pyspark.sql import Window
            from pyspark.sql import functions as F

            df = self.df
            st = F.unix_micros(F.col(START_TIMESTAMP)) if self.has_start_times else F.lit(None).cast("long")
            res = F.col(RESOURCE) if RESOURCE in df.columns else F.lit(None).cast("string")
            base = df.select(F.col(CASE).alias("c"), F.col(ACTIVITY).alias("a"),
                             F.unix_micros(F.col(TIMESTAMP)).alias("t"), st.alias("st"),
                             F.col(ORDER).cast("long").alias("o"), res.alias("r"))
            w = Window.partitionBy("c").orderBy("t", "o")
            ev = base.select("*", (F.row_number().over(w) - 1).alias("pos"), F.lead("a").over(w).alias("na"),
                             F.lead("t").over(w).alias("nt"),
                             F.lead(F.coalesce(F.col("st"), F.col("t"))).over(w).alias("nst"),
                             F.lag("t").over(w).alias("pt"))
            self._events = ev.persist()
        return self._events

    def unpersist(self) -> None:
        """Release what this log keeps on the cluster."""
        for df in self.cached:
            df.unpersist()
        self.cached.clear()
        if self._events is not None:
            self._events.unpersist()
            self._events = None

    @property
    def n_events(self) -> int:
        return int(self.events().count())

    def last_timestamp_us(self) -> int | None:
        from pyspark.sql import functions as F

        return self.events().agg(F.max("t")).first()[0]
