"""Findings of the audit report: severity (with the rule that set it), evidence, impact, drivers, recommendation.

A :class:`Finding` holds raw values only; the renderer formats them for the
report language. Its texts are catalogue ids keyed by the finding type:
``title.<type>``, ``impact.<type>``, ``rec.<type>`` (the recommendation), and
``sev.<rule>`` for the severity rule. Parameters are ``(kind, value)`` pairs
with kind ``num``, ``pct``, ``dur``, ``text`` or ``date`` so that every number is
formatted by the language's rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

#: finding types whose recommendation is necessary whatever the severity (control failures)
ALWAYS_NECESSARY = frozenset({"rule", "sod", "four_eyes", "role", "people_left"})
#: how each finding type is tested for drivers (``drivers.bad_cases`` target kinds)
DRIVER_TARGET = {"sla_breach": "late", "stuck": "stuck", "lost": "lost", "deviation": "deviating",
                 "ping_pong": "ping_pong", "rework": "rework", "backward": "backward"}
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}

Param = tuple[str, Any]


@dataclass
class Finding:
    """One finding. ``cases`` / ``share`` count the affected cases (share of all cases of the log);
    ``examples`` are a few case ids; the full list is in the annex sheet ``finding_cases`` (rows with
    ``finding == id``), ``evidence_sheet`` is the analysis table it came from. ``items`` are the accounts,
    activities, attributes or labels a finding is about (``item_unit``, catalogue ``unit.<item_unit>``), listed
    in the annex sheet ``finding_items``: the whole evidence of a finding about the organisation or the log
    rather than cases, and the accounts behind a finding about cases worked by some accounts."""

    type: str
    section: str
    severity: str
    severity_rule: str
    severity_params: dict[str, Param]
    title_params: dict[str, Param]
    case_ids: list[str]
    share: float
    evidence_sheet: str
    impact_params: dict[str, Param] = field(default_factory=dict)
    drivers: pd.DataFrame | None = None
    id: str = ""
    #: False for findings about the log or the organisation as a whole (a KPI, attribute completeness, work
    #: resting on one person): they have no case list, and the report shows "–" instead of 0 cases
    case_based: bool = True
    items: list[str] = field(default_factory=list)
    item_unit: str | None = None

    @property
    def cases(self) -> int:
        return len(self.case_ids)

    @property
    def examples(self) -> list[str]:
        return sorted(self.case_ids)[:5]

    @property
    def example_items(self) -> list[str]:
        return self.items[:5]

    @property
    def necessary(self) -> bool:
        return self.severity == "high" or self.type in ALWAYS_NECESSARY

    def record(self) -> dict[str, Any]:
        """A plain row for the annex ``findings`` sheet."""
        return {"finding": self.id, "type": self.type, "section": self.section, "severity": self.severity,
                "severity_rule": self.severity_rule, "cases": self.cases, "share": self.share,
                "necessary": self.necessary, "evidence_sheet": self.evidence_sheet,
                "items": len(self.items), "item_unit": self.item_unit,
                **{f"title:{k}": v for k, (_, v) in self.title_params.items()},
                **{f"impact:{k}": v for k, (_, v) in self.impact_params.items()}}


def share_severity(share: float) -> str:
    """``high`` from 20 % of cases, ``medium`` from 5 %, else ``low`` (catalogue ``sev.share``)."""
    return "high" if share >= 0.20 else "medium" if share >= 0.05 else "low"


def time_severity(share: float) -> str:
    """For time sinks: ``high`` from 25 % of all waiting time, ``medium`` from 10 % (``sev.time``)."""
    return "high" if share >= 0.25 else "medium" if share >= 0.10 else "low"


def by_share(ftype: str, section: str, case_ids: Iterable[str], n_cases: int, sheet: str,
             title: Mapping[str, Param], impact: Mapping[str, Param] | None = None) -> Finding:
    """A finding whose severity follows the share of affected cases."""
    ids = sorted(set(map(str, case_ids)))
    share = len(ids) / n_cases if n_cases else 0.0
    return Finding(type=ftype, section=section, severity=share_severity(share), severity_rule="sev.share",
                   severity_params={"share": ("pct", share)}, title_params=dict(title), case_ids=ids, share=share,
                   evidence_sheet=sheet, impact_params=dict(impact or {}))


def number(findings: list[Finding]) -> list[Finding]:
    """Give findings ids F01, F02, ... in report order (section order, then severity, then size)."""
    for i, f in enumerate(findings, 1):
        f.id = f"F{i:02d}"
    return findings


def finding_cases(findings: Iterable[Finding]) -> pd.DataFrame:
    """The annex sheet listing every affected case of every finding."""
    rows = [(f.id, f.type, c) for f in findings for c in f.case_ids]
    return pd.DataFrame(rows, columns=["finding", "type", "case"])


def finding_items(findings: Iterable[Finding]) -> pd.DataFrame:
    """The annex sheet listing the accounts / activities / attributes / labels of every finding about them."""
    rows = [(f.id, f.type, f.item_unit, i) for f in findings for i in f.items]
    return pd.DataFrame(rows, columns=["finding", "type", "unit", "item"])


__all__ = ["ALWAYS_NECESSARY", "DRIVER_TARGET", "SEVERITY_ORDER", "Finding", "by_share", "finding_cases",
           "finding_items", "number",
           "share_severity", "time_severity"]
