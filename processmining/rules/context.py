"""What every rule checker gets: the log frame with positions, and helpers to build violation rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import RuleError
from ..model import ACTIVITY, CASE, ORDER, RESOURCE, TIMESTAMP, EventLog
from .spec import Condition, Rule

#: columns a checker returns (``check`` adds kind, rule_id, severity, element id)
VIOLATION_COLUMNS = ("case_id", "activity", "message", "timestamp", "resource", "evidence", "expected", "observed")


@dataclass(frozen=True)
class WholeLog:
    """What the rules take from the whole log when ``check`` sees one part of it (the Spark engine checks
    batches of whole cases): the last event's time (the default ``as_of``) and, per rule id, the end
    activities inferred from the cases the rule applies to (for time rules that do not name them)."""

    last_event: pd.Timestamp | None
    end_activities: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class RuleContext:
    """The log once, prepared for all rules: events with ``_pos`` (index within the case)."""

    log: EventLog
    events: pd.DataFrame
    roles: Mapping[str, str] = field(default_factory=dict)
    lanes: Mapping[str, str] = field(default_factory=dict)
    source: str = "rules"
    #: the whole log's facts when ``log`` is a part of it (see :class:`WholeLog`)
    whole: WholeLog | None = None

    @classmethod
    def build(cls, log: EventLog, *, roles: Mapping[str, str] | None = None,
              lanes: Mapping[str, str] | None = None, source: str = "rules",
              whole: WholeLog | None = None) -> RuleContext:
        df = log.df
        cols = [CASE, ACTIVITY, TIMESTAMP, ORDER] + ([RESOURCE] if RESOURCE in df.columns else [])
        ev = df[cols].copy()
        if RESOURCE not in ev.columns:
            ev[RESOURCE] = pd.Series(pd.NA, index=ev.index, dtype="string")
        ev["_pos"] = ev.groupby(CASE, sort=False).cumcount().to_numpy()
        return cls(log=log, events=ev, roles=dict(roles or {}), lanes=dict(lanes or {}), source=source, whole=whole)

    def inferred_end_activities(self, rule: Rule) -> tuple[str, ...] | None:
        """The end activities of the rule's cases inferred from the whole log (``None``: infer from ``log``)."""
        return None if self.whole is None else tuple(self.whole.end_activities.get(rule.id, ()))

    def events_in_scope(self, rule: Rule) -> pd.DataFrame:
        """The events of the cases the rule's ``when`` selects (all cases without ``when``)."""
        if not rule.when:
            return self.events
        keep = self.cases_matching(rule)
        return self.events[self.events[CASE].isin(keep)]

    def log_in_scope(self, rule: Rule) -> EventLog:
        """The log restricted to the cases the rule's ``when`` selects (the log itself without ``when``)."""
        if not rule.when:
            return self.log
        keep = self.cases_matching(rule)
        return self.log.subset(self.log.df[CASE].isin(keep).to_numpy(), step=f"rule {rule.id}: when")

    def cases_matching(self, rule: Rule) -> pd.Index:
        df = self.log.df
        cases = pd.Index(df[CASE].unique())
        mask = np.ones(len(cases), dtype=bool)
        for cond in rule.when:
            if cond.attribute not in df.columns:
                raise RuleError(f"rule {rule.id!r}: the log has no attribute {cond.attribute!r} for 'when' "
                                f"(case attributes: {', '.join(c for c in df.columns if c.startswith('case:')) or 'none'})",
                                source=self.source, line=rule.line)
            per_case = df.groupby(CASE, sort=False)[cond.attribute].first().reindex(cases)
            mask &= _evaluate(cond, per_case).to_numpy(dtype=bool)
        return cases[mask]


def _evaluate(cond: Condition, values: pd.Series) -> pd.Series:
    if cond.op == "exists":
        return values.notna()
    if cond.op == "missing":
        return values.isna()
    if cond.op in ("in", "not_in"):
        options = cond.value if isinstance(cond.value, list) else [cond.value]
        hit = values.astype("string").isin([str(o) for o in options]).fillna(False)
        return hit if cond.op == "in" else ~hit & values.notna()
    if isinstance(cond.value, (int, float)) and not isinstance(cond.value, bool):
        left = pd.to_numeric(values, errors="coerce")
        right: object = float(cond.value)
    else:
        left = values.astype("string")
        right = str(cond.value)
    ops = {">": left.gt, ">=": left.ge, "<": left.lt, "<=": left.le, "==": left.eq, "!=": left.ne}
    return ops[cond.op](right).fillna(False).astype(bool)


def violations(case_id, activity, message, timestamp=None, resource=None, evidence=None,  # noqa: ANN001
               expected=None, observed=None) -> pd.DataFrame:
    """A violation table from equal-length columns (scalars broadcast)."""
    n = len(case_id)
    def col(x):  # noqa: ANN001, ANN202
        if x is None:
            return [None] * n
        if isinstance(x, (str, int, float)):
            return [x] * n
        return list(x)
    return pd.DataFrame({
        "case_id": col(case_id), "activity": col(activity), "message": col(message),
        "timestamp": pd.to_datetime(pd.Series(col(timestamp), dtype=object), utc=True) if n else pd.Series(
            dtype="datetime64[ns, UTC]"),
        "resource": col(resource), "evidence": col(evidence), "expected": col(expected), "observed": col(observed),
    }, columns=list(VIOLATION_COLUMNS))


def fmt_duration(td: pd.Timedelta | float) -> str:
    """``41.2 days``, ``5.5 hours``, ``90 minutes``: :func:`processmining.performance.format_duration`."""
    from ..performance.times import format_duration

    return format_duration(td)
