"""Audit rules on Spark: the local :func:`processmining.rules.check` applied to batches of whole cases.

Every rule of :mod:`processmining.rules` looks at one case at a time, except
for two facts of the whole log: the default ``as_of`` (the log's last event)
and, for the time rules that do not name their end activities, the end
activities inferred from the cases the rule applies to. The driver computes
those two on the cluster (:class:`~processmining.rules.WholeLog`) and the
executors run the local ``check`` on each batch of cases (``applyInPandas``
over case buckets), so both engines apply the same checkers with the same
messages, evidence and timestamps. Only the violation rows leave the
executors, as a Spark DataFrame; nothing is collected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..model import CASE, DEVIATION_COLUMNS
from ..rules import REGISTRY, RuleSet, WholeLog, check
from ..rules.context import RuleContext
from ..status import end_activity_table, pick_boundary_activities
from .frame import SparkLog, case_batches, local_log

#: cases per batch handed to one ``check`` call on an executor (a batch is one pandas frame in memory)
BATCH_CASES = 20_000
#: the rule rows on the cluster: the deviation columns plus the row's rank in its batch's output
RULE_SCHEMA = ("case_id string, kind string, activity string, message string, rule_id string, "
               "bpmn_element_id string, expected string, observed string, timestamp timestamp, resource string, "
               "severity string, evidence string, accepted boolean, accepted_reason string, _seq long")


def _needs_ends(rule: Any) -> bool:
    """A time rule whose end activities are inferred from its cases."""
    key = {"max_duration": "end_activities", "max_idle": "unless_last"}.get(rule.type)
    return key is not None and not rule.params.get(key)


def rule_deviations(log: SparkLog, rules: RuleSet | Iterable[Any], *, roles: Mapping[str, str] | None = None,
                    lanes: Mapping[str, str] | None = None, model_activities: Iterable[str] = (),
                    element_of_label: Mapping[str, str] | None = None) -> tuple[Any, tuple[str, ...]]:
    """``(violations, rule ids in order)``: :func:`processmining.rules.check` of ``log`` on Spark.

    ``violations`` is a Spark DataFrame with the columns ``DEVIATION_COLUMNS``
    plus ``_seq`` (the row's order among the rows of its batch, which keeps a
    case's rows in the local order). A rule set that names an unknown
    activity, a missing ``when`` attribute or a role rule without roles fails
    on the driver with the local message, before any batch runs.
    """
    from pyspark.sql import functions as F

    rule_set = rules if isinstance(rules, RuleSet) else RuleSet(tuple(rules))
    counts = log.activity_cases()
    known = set(counts.index) | set(model_activities) | set((lanes or {}).keys())
    rule_set = rule_set.with_labels(known)
    rule_set.validate_activities(known)
    model = sorted(known)
    n_cases = int(log.cases().count())
    span = log.time_span if log.has_timestamps else None
    last_event = span[1] if span else None
    # the local checks on one case first: a bad rule set stops here, with the local message
    first = log.df.select(CASE).limit(1).collect()
    if first:
        one = local_log(log.df.filter(F.col(f"`{CASE}`") == first[0][0]).toPandas(), log.name)
        check(one, rule_set, roles=roles, lanes=lanes, model_activities=model, element_of_label=element_of_label,
              whole=WholeLog(last_event))
    ends = _scope_end_activities(log, rule_set, n_cases)
    whole = WholeLog(last_event, ends)
    df, _ = case_batches(log, n_cases, BATCH_CASES)
    source = log.name

    def run(frame: pd.DataFrame) -> pd.DataFrame:  # on the executors: one bucket of whole cases
        rows = check(local_log(frame, source), rule_set, roles=roles, lanes=lanes,
                     model_activities=model, element_of_label=element_of_label, whole=whole)
        out = rows[list(DEVIATION_COLUMNS)].astype(object).where(rows.notna(), None)
        ts = pd.to_datetime(rows["timestamp"], utc=True)
        out["timestamp"] = ts.dt.tz_localize(None).dt.floor("us")  # Spark holds µs (the events' times are µs)
        for c in ("case_id", "activity", "message", "rule_id", "bpmn_element_id", "expected", "observed",
                  "resource", "severity", "evidence", "accepted_reason"):
            out[c] = pd.Series([None if v is None else str(v) for v in out[c]], index=out.index, dtype=object)
        out["accepted"] = rows["accepted"].astype(bool).to_numpy()
        out["_seq"] = np.arange(len(out), dtype=np.int64)
        return out

    got = df.groupBy("_bucket").applyInPandas(run, RULE_SCHEMA)
    return got, tuple(r.id for r in rule_set)


def _scope_end_activities(log: SparkLog, rule_set: RuleSet, n_cases: int) -> dict[str, tuple[str, ...]]:
    """Per time rule that infers its end activities: those of the cases it applies to, as the local rule
    infers them on its ``when`` sub-log (:func:`processmining.status.infer_end_activities`)."""
    from .status import infer_end_activities

    wanted = [r for r in rule_set if _needs_ends(r) and REGISTRY[r.type].needs_time]
    out = {r.id: infer_end_activities(log) for r in wanted if not r.when}
    scoped = [r for r in wanted if r.when]
    if not scoped:
        return out
    df, _ = case_batches(log, n_cases, BATCH_CASES)
    source = log.name

    def count(frame: pd.DataFrame) -> pd.DataFrame:  # per bucket: per rule and activity, cases containing / ending
        ctx = RuleContext.build(local_log(frame, source))
        parts = []
        for rule in scoped:
            sub = ctx.log_in_scope(rule)
            t = end_activity_table(sub) if sub.n_events else pd.DataFrame(
                {"activity": [], "cases_ending": [], "cases_containing": []})
            parts.append(pd.DataFrame({"rule": rule.id, "activity": t["activity"].astype(object),
                                       "ending": t["cases_ending"].astype(np.int64),
                                       "containing": t["cases_containing"].astype(np.int64), "cases": 0}))
            parts.append(pd.DataFrame({"rule": [rule.id], "activity": [None], "ending": [0], "containing": [0],
                                       "cases": [sub.n_cases]}))
        # object columns: pandas 3 would hold the text in Arrow chunks, which PySpark does not take back
        return pd.concat(parts, ignore_index=True).astype({"rule": object, "activity": object})

    from pyspark.sql import functions as F

    got = (df.groupBy("_bucket").applyInPandas(count, "rule string, activity string, ending long, containing long, "
                                                      "cases long")
           .groupBy("rule", "activity").agg(F.sum("ending").alias("ending"), F.sum("containing").alias("containing"),
                                            F.sum("cases").alias("cases")).toPandas())
    for rule in scoped:
        mine = got[got["rule"] == rule.id]
        acts = mine[mine["activity"].notna()].sort_values("activity")
        out[rule.id] = pick_boundary_activities(acts["activity"].tolist(), acts["containing"].to_numpy(dtype=np.int64),
                                                acts["ending"].to_numpy(dtype=np.int64), int(mine["cases"].sum()))
    return out
