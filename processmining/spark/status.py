"""Finished, running and stuck cases on Spark: :mod:`processmining.status` decided on per-case facts.

The cluster computes what the decision needs -- per case its last activity
and time (:meth:`SparkLog.case_facts`), per activity how many cases contain
it -- and the driver decides with the local functions
(:func:`~processmining.status.pick_boundary_activities`,
:func:`~processmining.status.status_table`,
:func:`~processmining.status.running_end_activities`), so both engines call
the same code and give the same statuses.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..errors import AnalysisError
from ..performance.times import stuck_from_status
from ..status import (
    MIN_CASES,
    MIN_COVERAGE,
    SHARE,
    idle_limit_seconds,
    pick_boundary_activities,
    running_end_activities,
    status_table,
)
from .frame import SparkLog


def infer_end_activities(log: SparkLog, *, share: float = SHARE, min_cases: float = MIN_CASES,
                         min_coverage: float = MIN_COVERAGE) -> tuple[str, ...]:
    """:func:`processmining.status.infer_end_activities` on Spark."""
    containing = log.activity_cases()
    facts = log.case_facts()
    ending = facts["last_activity"].value_counts().reindex(containing.index, fill_value=0)
    return pick_boundary_activities(containing.index, containing.to_numpy(), ending.to_numpy(), len(facts),
                                    share=share, min_cases=min_cases, min_coverage=min_coverage)


def resolve_end_activities(log: SparkLog, end_activities: Iterable[str] | None) -> tuple[tuple[str, ...], str]:
    """:func:`processmining.status.resolve_end_activities` on Spark."""
    if end_activities is not None:
        return tuple(str(a) for a in end_activities), "given"
    inferred = infer_end_activities(log)
    return inferred, ("inferred" if inferred else "none")


def case_status(log: SparkLog, *, end_activities: Iterable[str] | None = None,
                idle: str | float | pd.Timedelta | None = None,
                as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """:func:`processmining.status.case_status` on Spark: the same table (one row per case, case order)."""
    ends, source = resolve_end_activities(log, end_activities)
    limit = idle_limit_seconds(idle)
    if limit is not None and not log.has_timestamps:
        raise AnalysisError("the log has no timestamps: idle time cannot be measured, so no case can be called "
                            "stuck (finished / running still work)", source=log.name)
    facts = log.case_facts()
    now = log.now_seconds(as_of) if log.has_timestamps else float("nan")
    last_t = facts["last_tns"].to_numpy(dtype=np.float64, na_value=np.nan) if not log.has_timestamps else \
        facts["last_tns"].to_numpy(dtype=np.int64) / 1e9
    return status_table(facts["case"].to_numpy(dtype=object), facts["last_activity"].to_numpy(dtype=object), last_t,
                        ends=ends, source=source, limit=limit, now=now)


def stuck_cases(log: SparkLog, *, idle: str | float | pd.Timedelta | None = None,
                end_activities: Iterable[str] | None = None,
                as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """:func:`processmining.performance.stuck_cases` on Spark."""
    if idle is None:
        raise AnalysisError("give idle=... (e.g. 30d): a case is stuck when it is running and has had no event "
                            "for longer than that")
    return stuck_from_status(case_status(log, end_activities=end_activities, idle=idle, as_of=as_of))


def running_ends(log: SparkLog, *, fallback: Iterable[str] | None,
                 end_activities: Iterable[str] | None = None) -> tuple[str, ...] | None:
    """The end activities conformance decides running cases with, as
    :func:`processmining.status.running_case_ids` (``None``: no case is running)."""
    return running_end_activities(len(log.case_facts()), lambda: infer_end_activities(log), end_activities,
                                  fallback, has_timestamps=log.has_timestamps)
