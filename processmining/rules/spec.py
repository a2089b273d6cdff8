"""Rule objects and RULES.yaml loading/validation (every problem names the rule id and YAML line)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import RuleError

#: fields each rule type needs (beyond id/type), and the optional ones it accepts
REQUIRED: dict[str, tuple[str, ...]] = {
    "segregation_of_duties": ("activities",),
    "four_eyes": ("activities",),
    "max_duration": ("from", "to", "limit"),
    "precedence": ("activity", "after"),
    "response": ("activity", "followed_by"),
    "existence": ("activity",),
    "absence": ("activity",),
    "role": ("activity",),
    "no_backward_moves": ("order",),
    "max_idle": ("limit",),
}
OPTIONAL: dict[str, tuple[str, ...]] = {
    "segregation_of_duties": (),
    "four_eyes": (),
    "max_duration": ("from_occurrence", "to_occurrence"),
    "precedence": (),
    "response": (),
    "existence": ("min", "max"),
    "absence": ("max",),
    "role": ("role", "lane"),
    "no_backward_moves": ("allow",),
    "max_idle": ("as_of", "unless_last"),
}
COMMON = ("id", "type", "label", "description", "severity", "when")
OPS = (">", ">=", "<", "<=", "==", "!=", "in", "not_in", "exists", "missing")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(d|h|m|s|w|days?|hours?|minutes?|weeks?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Condition:
    """``when:`` -- a case attribute compared with a value (all conditions of a rule must hold)."""

    attribute: str
    op: str
    value: Any = None

    def describe(self) -> str:
        return f"{self.attribute} {self.op} {self.value!r}" if self.op not in ("exists", "missing") else \
            f"{self.attribute} {self.op}"


@dataclass(frozen=True)
class Rule:
    """One audit rule: data (type, parameters, condition) plus a label; the checker is looked up by type."""

    id: str
    type: str
    params: Mapping[str, Any]
    label: str = ""
    severity: str = "high"
    when: tuple[Condition, ...] = ()
    line: int | None = None

    def activities(self) -> set[str]:
        """Every activity the rule names (validated against the log and the model)."""
        p = self.params
        out: set[str] = set()
        for key in ("activities", "order", "unless_last"):
            if key in p:
                out.update(str(a) for a in p[key])
        for key in ("activity", "from", "to", "followed_by"):
            if key in p:
                out.add(str(p[key]))
        if "after" in p:
            after = p["after"]
            out.update(str(a) for a in (after if isinstance(after, list) else [after]))
        for pair in p.get("allow", []) or []:
            out.update(str(a) for a in pair)
        return out


@dataclass(frozen=True)
class RuleSet:
    """Rules loaded from one file (``source``, ``sha256`` go into provenance)."""

    rules: tuple[Rule, ...]
    source: str = "rules"
    sha256: str = ""

    def __iter__(self):  # noqa: ANN204
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def validate_activities(self, known: Iterable[str]) -> None:
        """Raise :class:`RuleError` for the first rule naming an activity in neither the log nor the model."""
        known_set = set(known)
        for rule in self.rules:
            unknown = sorted(rule.activities() - known_set)
            if unknown:
                raise RuleError(
                    f"rule {rule.id!r} ({rule.type}) names {', '.join(map(repr, unknown))}, which is in neither "
                    f"the log nor the model", source=self.source, line=rule.line)


def parse_duration(text: Any, *, rule_id: str, source: str, line: int | None) -> pd.Timedelta:
    """``30d``, ``4h``, ``90m``, ``2w``, ``45s`` (also ``30 days``) → Timedelta."""
    m = _DURATION.match(str(text))
    if not m:
        raise RuleError(f"rule {rule_id!r}: limit {text!r} is not a duration like 30d, 4h or 90m",
                        source=source, line=line)
    n, unit = float(m.group(1)), m.group(2).lower()[0]
    try:
        return pd.Timedelta(**{{"d": "days", "h": "hours", "m": "minutes", "s": "seconds", "w": "weeks"}[unit]: n})
    except (OverflowError, ValueError):  # beyond ~292 years
        raise RuleError(f"rule {rule_id!r}: limit {text!r} is longer than the ~292 years a duration can hold",
                        source=source, line=line) from None


def load_rules(source: str | PathLike[str] | bytes, *, name: str | None = None) -> RuleSet:
    """Read and validate a RULES.yaml (path, or bytes with ``name``).

    Structure problems -- unknown rule types, missing or unknown fields,
    duplicate ids, bad limits or conditions -- raise :class:`RuleError`
    naming the rule id and its YAML line. Activity names are checked against
    the log and model later (:meth:`RuleSet.validate_activities`).

    >>> rs = load_rules(b"rules:\\n  - id: sod\\n    type: four_eyes\\n    activities: [Quote, Approve]\\n", name="r.yaml")
    >>> [(r.id, r.type, r.line) for r in rs]
    [('sod', 'four_eyes', 2)]
    """
    import yaml

    from ..safe_input import load_yaml, read_bytes

    if isinstance(source, bytes):
        data, label = source, name or "rules"
        digest = hashlib.sha256(data).hexdigest()
    else:
        got = read_bytes(source)
        data, label, digest = got.data, name or Path(source).name, got.sha256
    try:
        doc, root = load_yaml(data, label)  # alias bombs and oversized files refused before objects are built
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RuleError(f"not valid YAML: {getattr(exc, 'problem', None) or exc}", source=label,
                        line=mark.line + 1 if mark else None) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        raise RuleError("expected a mapping with a list under 'rules:'", source=label)
    lines = _rule_lines(root)
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(doc["rules"]):
        line = lines[i] if i < len(lines) else None
        rules.append(_parse_rule(raw, i, line, label, seen))
    return RuleSet(tuple(rules), source=label, sha256=digest)


def _rule_lines(root: Any) -> list[int]:
    import yaml

    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if getattr(key, "value", None) == "rules" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _parse_rule(raw: Any, index: int, line: int | None, source: str, seen: set[str]) -> Rule:
    if not isinstance(raw, dict):
        raise RuleError(f"rule {index + 1} must be a mapping with id and type", source=source, line=line)
    rid = str(raw.get("id") or "").strip()
    if not rid:
        raise RuleError(f"rule {index + 1} has no id", source=source, line=line)
    if rid in seen:
        raise RuleError(f"rule id {rid!r} is used twice", source=source, line=line)
    seen.add(rid)
    rtype = str(raw.get("type") or "").strip()
    if rtype not in REQUIRED:
        raise RuleError(f"rule {rid!r}: unknown type {rtype!r}; known types: {', '.join(sorted(REQUIRED))}",
                        source=source, line=line)
    missing = [f for f in REQUIRED[rtype] if raw.get(f) in (None, "", [])]
    if rtype == "role" and raw.get("role") in (None, "") and not raw.get("lane"):
        missing.append("role (or lane: true)")
    if missing:
        raise RuleError(f"rule {rid!r} ({rtype}) is missing {', '.join(missing)}", source=source, line=line)
    allowed = set(REQUIRED[rtype]) | set(OPTIONAL[rtype]) | set(COMMON)
    extra = sorted(set(raw) - allowed)
    if extra:
        raise RuleError(f"rule {rid!r} ({rtype}) has unknown field(s) {', '.join(extra)}; "
                        f"allowed: {', '.join(sorted(allowed - {'id', 'type'}))}", source=source, line=line)
    params = {k: v for k, v in raw.items() if k not in COMMON}
    if rtype in ("segregation_of_duties", "four_eyes"):
        acts = params["activities"]
        if not isinstance(acts, list) or len(set(map(str, acts))) < 2:
            raise RuleError(f"rule {rid!r}: activities must list at least two different activities",
                            source=source, line=line)
    if rtype == "no_backward_moves" and (not isinstance(params["order"], list) or len(params["order"]) < 2):
        raise RuleError(f"rule {rid!r}: order must list the stages in their order", source=source, line=line)
    if "limit" in params:
        params["limit"] = parse_duration(params["limit"], rule_id=rid, source=source, line=line)
    for key in ("min", "max"):
        if key in params and (not isinstance(params[key], int) or params[key] < 0):
            raise RuleError(f"rule {rid!r}: {key} must be a whole number ≥ 0, got {params[key]!r}",
                            source=source, line=line)
    if "as_of" in params and params["as_of"] not in (None, "last_event"):
        try:
            stamp = pd.Timestamp(params["as_of"])
        except (ValueError, TypeError):
            raise RuleError(f"rule {rid!r}: as_of {params['as_of']!r} is not a timestamp", source=source,
                            line=line) from None
        try:
            stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
            params["as_of"] = stamp.as_unit("ns")
        except (ValueError, OverflowError):
            raise RuleError(f"rule {rid!r}: as_of {str(params['as_of'])!r} is outside the dates this tool holds "
                            "(1677-09-22 to 2262-04-11)", source=source, line=line) from None
    severity = str(raw.get("severity") or "high")
    if severity not in ("low", "medium", "high"):
        raise RuleError(f"rule {rid!r}: severity must be low, medium or high", source=source, line=line)
    return Rule(id=rid, type=rtype, params=params, label=str(raw.get("label") or raw.get("description") or ""),
                severity=severity, when=_parse_when(raw.get("when"), rid, source, line), line=line)


def _parse_when(raw: Any, rid: str, source: str, line: int | None) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for item in items:
        if not isinstance(item, dict) or "attribute" not in item or "op" not in item:
            raise RuleError(f"rule {rid!r}: when needs attribute and op (e.g. "
                            "{attribute: case:Discount__c, op: '>', value: 20})", source=source, line=line)
        op = str(item["op"])
        if op not in OPS:
            raise RuleError(f"rule {rid!r}: unknown operator {op!r} in when; use one of {' '.join(OPS)}",
                            source=source, line=line)
        if op not in ("exists", "missing") and "value" not in item:
            raise RuleError(f"rule {rid!r}: when with op {op!r} needs a value", source=source, line=line)
        out.append(Condition(str(item["attribute"]), op, item.get("value")))
    return tuple(out)
