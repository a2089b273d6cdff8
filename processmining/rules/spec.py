"""Rule objects and RULES.yaml loading/validation (every problem names the rule id and YAML line)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import RuleError

COMMON = ("id", "type", "label", "description", "severity", "when")
OPS = (">", ">=", "<", "<=", "==", "!=", "in", "not_in", "exists", "missing")


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
        for key in ("activities", "order", "unless_last", "end_activities"):
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


    def with_labels(self, mapping: Mapping[str, str]) -> Rule:
        """The rule with every activity it names replaced through ``mapping`` (names not in it stay)."""
        if not mapping:
            return self

        def m(x: Any) -> Any:
            return mapping.get(str(x), x)

        p = dict(self.params)
        for key in ("activities", "order", "unless_last", "end_activities"):
            if key in p and isinstance(p[key], list):
                p[key] = [m(a) for a in p[key]]
        for key in ("activity", "from", "to", "followed_by"):
            if key in p:
                p[key] = m(p[key])
        if "after" in p:
            p["after"] = [m(a) for a in p["after"]] if isinstance(p["after"], list) else m(p["after"])
        if p.get("allow"):
            p["allow"] = [[m(a) for a in pair] for pair in p["allow"]]
        return replace(self, params=p)


def label_mapping(names: Iterable[str], labels: Iterable[str]) -> dict[str, str]:
    """Rule name -> log label for names that differ from a label only in case or spaces
    (:func:`processmining.bpmn.labels.normalise_label`, the one label normaliser). Exact names are kept;
    a name matching two labels is left alone (ambiguous)."""
    from ..bpmn.labels import normalise_label

    label_list = list(dict.fromkeys(str(x) for x in labels))
    exact = set(label_list)
    by_key: dict[str, list[str]] = {}
    for lab in label_list:
        by_key.setdefault(normalise_label(lab), []).append(lab)
    out = {}
    for n in names:
        if n in exact:
            continue
        hit = by_key.get(normalise_label(n), [])
        if len(hit) == 1:
            out[n] = hit[0]
    return out


@dataclass(frozen=True)
class RulesFit:
    """How well a rule set fits a log: which rules can be applied, and why the others cannot."""

    applicable: RuleSet
    #: rule id -> the activities it names that the log (and model) do not have
    skipped: Mapping[str, tuple[str, ...]]
    #: distinct activities the rules name, and how many of them the log has (after label matching)
    named: int
    in_log: int

    @property
    def share(self) -> float:
        return self.in_log / self.named if self.named else 0.0

    def describe(self) -> str:
        text = (f"{self.in_log} of {self.named} activities the rules name occur in the log; "
                f"{len(self.applicable)} rule(s) apply")
        if self.skipped:
            text += "; not applied: " + "; ".join(f"{rid} (no {', '.join(map(repr, miss))})"
                                                 for rid, miss in self.skipped.items())
        return text


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

    def fit(self, log_activities: Iterable[str], model_activities: Iterable[str] = ()) -> RulesFit:
        """Which rules fit a log: a rule applies when every activity it names is in the log or the model
        (after label matching); bundled rules are applied only through this (never to a log they were not
        written for)."""
        log_set = set(log_activities)
        known = log_set | set(model_activities)
        mapping = label_mapping({a for r in self.rules for a in r.activities()}, known)
        rules, skipped = [], {}
        named: set[str] = set()
        for rule in self.rules:
            renamed = rule.with_labels(mapping)
            acts = renamed.activities()
            named |= acts
            missing = tuple(sorted(acts - known))
            if missing:
                skipped[rule.id] = missing
            else:
                rules.append(renamed)
        return RulesFit(applicable=RuleSet(tuple(rules), source=self.source, sha256=self.sha256), skipped=skipped,
                        named=len(named), in_log=len(named & log_set))

    def with_labels(self, known: Iterable[str]) -> RuleSet:
        """The rules with names matched to ``known`` labels after trimming / case-folding ('Resolved' -> 'RESOLVED')."""
        mapping = label_mapping({a for r in self.rules for a in r.activities()}, known)
        return replace(self, rules=tuple(r.with_labels(mapping) for r in self.rules)) if mapping else self

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
    """A rule's limit in THE duration grammar (:func:`processmining.performance.parse_duration`) as a Timedelta."""
    from ..errors import AnalysisError
    from ..performance.times import parse_duration as seconds

    try:
        value = seconds(text)
    except AnalysisError as exc:
        if not isinstance(exc.__cause__, OverflowError | pd.errors.OutOfBoundsTimedelta):
            raise RuleError(f"rule {rule_id!r}: limit {text!r} is not a duration like 30d, 4h, 1d 12h or P1DT12H "
                            f"({exc.message})", source=source, line=line) from None
        value = float("inf")  # too long for a duration: said below
    try:
        return pd.Timedelta(seconds=value)
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
    from .registry import REGISTRY

    rtype = str(raw.get("type") or "").strip()
    if rtype not in REGISTRY:
        raise RuleError(f"rule {rid!r}: unknown type {rtype!r}; known types: {', '.join(sorted(REGISTRY))}",
                        source=source, line=line)
    spec = REGISTRY[rtype]
    missing = [f for f in spec.required if raw.get(f) in (None, "", [])]
    if rtype == "role" and raw.get("role") in (None, "") and not raw.get("lane"):
        missing.append("role (or lane: true)")
    if missing:
        raise RuleError(f"rule {rid!r} ({rtype}) is missing {', '.join(missing)}", source=source, line=line)
    allowed = set(spec.required) | set(spec.optional) | set(COMMON)
    extra = sorted(set(raw) - allowed)
    if extra:
        raise RuleError(f"rule {rid!r} ({rtype}) has unknown field(s) {', '.join(extra)}; "
                        f"allowed: {', '.join(sorted(allowed - {'id', 'type'}))}", source=source, line=line)
    params = {k: v for k, v in raw.items() if k not in COMMON}
    for key, options in spec.choices.items():
        if key in params and params[key] not in options:
            raise RuleError(f"rule {rid!r} ({rtype}): {key} must be one of {', '.join(map(str, options))}, "
                            f"got {params[key]!r}", source=source, line=line)
    if "end_activities" in params and not isinstance(params["end_activities"], list):
        raise RuleError(f"rule {rid!r}: end_activities must be a list of activities", source=source, line=line)
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
