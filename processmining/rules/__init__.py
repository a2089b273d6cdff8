"""Declarative audit rules: RULES.yaml in, one deviation row per violation out.

Rules are data (:class:`Rule`: id, type, parameters, ``when`` condition); one
function, :func:`check`, applies them, each vectorised over the whole log
(groupby, not per-case loops). Families: :mod:`.duties` (segregation of duties
/ four eyes, role), :mod:`.timing` (max_duration, max_idle), :mod:`.ordering`
(precedence, response, no_backward_moves), :mod:`.counting` (existence,
absence).

>>> rules = load_rules("bpmn_models/lead_to_order.rules.yaml")   # doctest: +SKIP
>>> check(log, rules, roles=read_roles("bpmn_models/lead_to_order.roles.csv")).rule_id.value_counts()  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path

import pandas as pd

from ..errors import RuleError
from ..model import DEVIATION_COLUMNS, EventLog, empty_deviations
from .context import RuleContext, WholeLog
from .registry import REGISTRY, Checker, RuleType
from .spec import Condition, Rule, RuleSet, RulesFit, label_mapping, load_rules, parse_duration

__all__ = ["CHECKERS", "REGISTRY", "Condition", "Rule", "RuleSet", "RuleType", "RulesFit", "WholeLog", "check",
           "label_mapping", "load_rules", "parse_duration", "read_roles"]

#: rule type -> checker (a view of :data:`REGISTRY`, where each type binds its schema to its checker)
CHECKERS: dict[str, Checker] = {name: t.checker for name, t in REGISTRY.items()}


def check(
    log: EventLog,
    rules: RuleSet | Iterable[Rule],
    *,
    roles: Mapping[str, str] | None = None,
    lanes: Mapping[str, str] | None = None,
    model_activities: Iterable[str] = (),
    element_of_label: Mapping[str, str] | None = None,
    whole: WholeLog | None = None,
) -> pd.DataFrame:
    """Apply every rule to ``log``; one row per violation (``DEVIATION_COLUMNS``, ``kind == "rule"``).

    Activities a rule names must exist in the log or in ``model_activities``
    (else :class:`RuleError` naming the rule). ``roles``: resource → role;
    ``lanes``: activity → BPMN lane (for ``role`` rules with ``lane: true``).
    Time rules on a log without timestamps are not checked; ``attrs["not_checked"]``
    names them with the reason. ``whole``: the whole log's facts when ``log`` is one part of it (whole cases;
    the Spark engine checks batches of cases, :mod:`processmining.spark.rules`).
    """
    rule_set = rules if isinstance(rules, RuleSet) else RuleSet(tuple(rules))
    known = set(log.activities) | set(model_activities) | set((lanes or {}).keys())
    rule_set = rule_set.with_labels(known)  # ' Resolved ' / 'RESOLVED': the one label normaliser
    rule_set.validate_activities(known)
    ctx = RuleContext.build(log, roles=roles, lanes=lanes, source=rule_set.source, whole=whole)
    frames = []
    not_checked: dict[str, str] = {}
    for rule in rule_set:
        if REGISTRY[rule.type].needs_time and not log.has_timestamps:
            not_checked[rule.id] = f"{rule.type} needs timestamps; the log has only the order of events"
            continue
        found = REGISTRY[rule.type].checker(ctx, rule)
        if found.empty:
            continue
        found = found.assign(kind="rule", rule_id=rule.id, severity=rule.severity,
                             bpmn_element_id=found["activity"].map(dict(element_of_label or {})),
                             accepted=False, accepted_reason=None)
        if rule.label:
            found["message"] = rule.label + ": " + found["message"].astype(str)
        frames.append(found[list(DEVIATION_COLUMNS)])
    out = pd.concat(frames, ignore_index=True) if frames else empty_deviations()
    out.attrs["not_checked"] = not_checked
    return out


def read_roles(source: str | PathLike[str] | bytes, *, name: str | None = None) -> dict[str, str]:
    """Read a resource → role mapping: CSV with header ``resource,role`` (one resource per line)."""
    from ..safe_input import read_bytes

    if isinstance(source, bytes):
        data, label = source, name or "roles.csv"
    else:
        got = read_bytes(source)
        data, label = got.data, name or Path(source).name
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig", errors="replace")))
    if not reader.fieldnames or not {"resource", "role"} <= {f.strip() for f in reader.fieldnames}:
        raise RuleError(f"expected columns resource,role; found {reader.fieldnames}", source=label, line=1)
    out: dict[str, str] = {}
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        if not row.get("resource") or not row.get("role"):
            raise RuleError("empty resource or role", source=label, line=line)
        if row["resource"] in out and out[row["resource"]] != row["role"]:
            raise RuleError(f"resource {row['resource']!r} has two roles ({out[row['resource']]!r}, {row['role']!r})",
                            source=label, line=line)
        out[row["resource"]] = row["role"]
    return out
