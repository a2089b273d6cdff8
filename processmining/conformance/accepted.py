"""Accepted deviations: patterns an auditor has signed off, kept in exports but not counted."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import pandas as pd

from ..errors import RuleError

KINDS = ("missing", "unexpected", "out_of_order", "rule", "not_computed")


@dataclass(frozen=True)
class AcceptedPattern:
    """Deviations of ``kind`` on ``activity`` (or ``rule_id``), optionally only for ``cases``, accepted for ``reason``."""

    kind: str
    reason: str
    activity: str | None = None
    rule_id: str | None = None
    cases: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AcceptedDeviations:
    """A list of accepted patterns; see :func:`read_accepted`."""

    patterns: tuple[AcceptedPattern, ...] = ()
    source: str | None = None
    sha256: str | None = None
    extra: dict = field(default_factory=dict)

    def apply(self, deviations: pd.DataFrame) -> pd.DataFrame:
        """A copy with ``accepted``/``accepted_reason`` set for every matching deviation (first pattern wins)."""
        out = deviations.copy()
        if out.empty or not self.patterns:
            return out
        accepted = out["accepted"].astype(bool).to_numpy().copy()
        reason = out["accepted_reason"].astype(object).to_numpy().copy()
        for p in self.patterns:
            mask = (out["kind"] == p.kind).to_numpy(dtype=bool, copy=True)
            if p.activity is not None:
                mask &= (out["activity"] == p.activity).fillna(False).to_numpy(dtype=bool)
            if p.rule_id is not None:
                mask &= (out["rule_id"] == p.rule_id).fillna(False).to_numpy(dtype=bool)
            if p.cases:
                mask &= out["case_id"].astype(str).isin(p.cases).to_numpy()
            mask &= ~accepted
            accepted |= mask
            reason[mask] = p.reason
        out["accepted"] = accepted
        out["accepted_reason"] = reason
        return out


def read_accepted(source: str | PathLike[str] | bytes, *, name: str | None = None) -> AcceptedDeviations:
    """Read accepted deviation patterns from YAML or CSV.

    YAML::

        accepted:
          - kind: unexpected
            activity: Closed Lost
            reason: lost deals may close from any stage (board decision 2024-03)
          - kind: rule
            rule_id: quote-within-30d
            cases: [006Hs00005SNZDWIA5]
            reason: customer asked for a pause

    CSV: columns ``kind,activity,rule_id,cases,reason`` (``cases`` separated by
    spaces or ``;``). ``kind`` and ``reason`` are required; a pattern needs an
    ``activity`` or ``rule_id`` unless it lists cases.
    """
    from ..safe_input import read_bytes

    if isinstance(source, bytes):
        data, label, digest = source, name or "accepted deviations", None
    else:
        got = read_bytes(source)
        data, label, digest = got.data, name or Path(source).name, got.sha256
    text = data.decode("utf-8-sig", errors="replace")
    lower = label.lower()
    if lower.endswith(".csv"):
        records = list(csv.DictReader(io.StringIO(text)))
        lines = list(range(2, len(records) + 2))
    else:
        import yaml

        from ..safe_input import load_yaml

        try:
            doc, _ = load_yaml(text, label)  # alias bombs refused before objects are built
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise RuleError(f"not valid YAML: {getattr(exc, 'problem', exc)}", source=label,
                            line=mark.line + 1 if mark else None) from None
        items = doc.get("accepted", doc) if isinstance(doc, dict) else doc
        if not isinstance(items, list):
            raise RuleError("expected a list of accepted patterns under 'accepted:'", source=label)
        records = items
        lines = [None] * len(items)
    patterns = []
    for i, (rec, line) in enumerate(zip(records, lines, strict=True), start=1):
        if not isinstance(rec, dict):
            raise RuleError(f"pattern {i} must be a mapping with kind and reason", source=label, line=line)
        kind = str(rec.get("kind") or "").strip()
        reason = str(rec.get("reason") or "").strip()
        if kind not in KINDS:
            raise RuleError(f"pattern {i}: kind must be one of {', '.join(KINDS)}, got {kind!r}", source=label, line=line)
        if not reason:
            raise RuleError(f"pattern {i}: a reason is required", source=label, line=line)
        cases = rec.get("cases") or []
        if isinstance(cases, str):
            cases = cases.replace(";", " ").split()
        activity = (str(rec["activity"]).strip() or None) if rec.get("activity") else None
        rule_id = (str(rec["rule_id"]).strip() or None) if rec.get("rule_id") else None
        if activity is None and rule_id is None and not cases:
            raise RuleError(f"pattern {i}: give an activity, a rule_id or a list of cases", source=label, line=line)
        patterns.append(AcceptedPattern(kind=kind, reason=reason, activity=activity, rule_id=rule_id,
                                        cases=frozenset(str(c) for c in cases)))
    return AcceptedDeviations(tuple(patterns), source=label, sha256=digest)
