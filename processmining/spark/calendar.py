"""Working-time SLA clocks on Spark: the local business-hours arithmetic, run on the executors.

:func:`working_time_log` is :func:`processmining.performance.calendar.working_time_log` on a
:class:`~.frame.SparkLog`: every timestamp (and start timestamp) becomes its
working-time clock. The cluster finds the log's first and last instant (one
aggregate); then each Arrow batch of rows is mapped by the local
:func:`~processmining.performance.calendar.working_clock_times` with that day
range (``mapInPandas``), so every clock value is the one the local engine
computes, to the microsecond. :func:`working_sla_breaches` measures the SLA
targets on that log with the Spark :func:`~.performance.sla_breaches` and
shapes the tables as the local function does (which it calls).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd

from ..model import START_TIMESTAMP, TIMESTAMP
from ..performance.calendar import BusinessCalendar, clock_days, working_clock_times
from .frame import SparkLog


def working_time_log(log: SparkLog, cal: BusinessCalendar) -> SparkLog:
    """``log`` on the working-time clock of ``cal`` (see the local :func:`working_time_log`); the events stay
    on the cluster, in their order."""
    from pyspark.sql import functions as F

    cols = [c for c in (TIMESTAMP, START_TIMESTAMP) if c in log.df.columns]
    row = log.df.agg(*[f(F.unix_micros(F.col(c))) for c in cols for f in (F.min, F.max)]).first()
    lo = [v for v in row[0::2] if v is not None] if row is not None else []
    hi = [v for v in row[1::2] if v is not None] if row is not None else []
    days = clock_days(cal, min(lo) * 1000, max(hi) * 1000) if lo else None

    def clock(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:  # runs on the executors
        for batch in batches:
            for c in cols:
                batch[c] = working_clock_times(cal, pd.to_datetime(batch[c], utc=True), days)
            yield batch

    out = SparkLog(df=log.df.mapInPandas(clock, schema=log.df.schema), report=log.report, name=log.name,
                   history=(*log.history, f"working-time clock of calendar {cal.name}"))
    out._times = log._times
    return out


def working_sla_breaches(log: SparkLog, targets: Sequence[Any], cal: BusinessCalendar | None,
                         **kwargs: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`processmining.performance.calendar.working_sla_breaches` on Spark: the same two tables."""
    from ..performance.calendar import working_sla_breaches as local
    from .performance import sla_breaches

    if cal is None:
        return sla_breaches(log, targets, **kwargs)
    working = working_time_log(log, cal)
    try:
        return local(log, targets, cal, working_log=working, breaches_of=sla_breaches, **kwargs)
    finally:
        working.unpersist()
