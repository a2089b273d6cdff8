"""Ground truth of the demo exports: which case carries which planted deviation or imperfection.

The structure is what ``eventlogs/ground_truth.json`` holds (documented key by
key in ``eventlogs/README.md``)::

    {"format": "processmining-demo-ground-truth", "version": 1, "seed": 7, "scale": 1.0,
     "export_time": "2024-12-02T06:00:00Z",
     "logs": {"salesforce": {...}, "hubspot": {...}, "jira": {...}},
     "drivers": [{"log": "hubspot_deals.csv", "target": "lost", "attribute": "case:Deal owner", "value": ...}, ...]}

Each log entry lists its file, preset, counts, activities, the case ids of
every planted kind (``planted``) and data-quality imperfection
(``imperfections``), with per-case details, plus ``normal_cases`` (no planted
kind at all - a normal case may still cross a limit by chance, as in real
exports), ``open_cases`` (not finished at export time) and ``limits``: for
every limit of the bundled rules and preset defaults, the cases over it at the
export time and the cases near it (within an hour), with the side they are on. ``drivers`` lists
the planted root causes for driver analysis: ``log`` (file in ``eventlogs/``),
``target`` (``lost`` / ``late`` / ``stuck`` / ``deviating``), ``sla`` (for
``late``), ``attribute`` (the column as ``read_log`` with the preset yields
it) and ``value``; a log without an entry has no planted driver.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "processmining-demo-ground-truth"
VERSION = 1


@dataclass
class Planted:
    """One planted kind in one log: the exact case ids, and per-case details where useful.

    ``fits_reference_model`` says whether the cases' activity sequences still
    fit the reference BPMN's control flow (True for rule-only violations such as
    a segregation-of-duties breach; False for e.g. a wrong order; None when no
    reference model applies).
    """

    description: str
    cases: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    fits_reference_model: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, case_id: str, detail: Any = None) -> None:
        self.cases.append(case_id)
        if detail is not None:
            self.details[case_id] = detail

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"description": self.description, "count": len(self.cases)}
        out["fits_reference_model"] = self.fits_reference_model
        out["cases"] = sorted(self.cases)
        if self.details:
            out["details"] = {k: self.details[k] for k in sorted(self.details)}
        out.update(self.extra)
        return out


@dataclass
class LogTruth:
    """Ground truth of one demo export file."""

    file: str
    system: str
    preset: str
    reference_model: str | None
    n_cases: int
    n_rows: int
    n_events: int
    activities: list[str]
    planted: dict[str, Planted]
    imperfections: dict[str, Planted]
    normal_cases: list[str]
    open_cases: list[str]
    facts: dict[str, Any] = field(default_factory=dict)
    #: per limit of the bundled rules / preset defaults (rule id -> :mod:`processmining.demo.limits` entry)
    limits: dict[str, Any] = field(default_factory=dict)

    def cases(self, kind: str) -> set[str]:
        """Case ids of a planted kind or imperfection, e.g. ``truth.cases("sod_breach")``."""
        if kind in self.planted:
            return set(self.planted[kind].cases)
        if kind in self.imperfections:
            return set(self.imperfections[kind].cases)
        raise KeyError(f"no planted kind or imperfection {kind!r} in {self.file}; known: "
                       f"{sorted(self.planted) + sorted(self.imperfections)}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "system": self.system,
            "preset": self.preset,
            "reference_model": self.reference_model,
            "cases": self.n_cases,
            "rows": self.n_rows,
            "events": self.n_events,
            "activities": list(self.activities),
            **{k: v for k, v in self.facts.items() if k != "drivers"},
            "planted": {k: v.to_dict() for k, v in self.planted.items()},
            "imperfections": {k: v.to_dict() for k, v in self.imperfections.items()},
            "normal_cases": sorted(self.normal_cases),
            "open_cases": sorted(self.open_cases),
            "limits": self.limits,
        }


@dataclass
class GroundTruth:
    """Ground truth of a set of demo exports (one :class:`LogTruth` per file, keyed ``salesforce`` etc.)."""

    seed: int
    scale: float
    export_time: str
    logs: dict[str, LogTruth] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "seed": self.seed,
            "scale": self.scale,
            "export_time": self.export_time,
            "logs": {k: v.to_dict() for k, v in self.logs.items()},
            "drivers": [d for v in self.logs.values() for d in v.facts.get("drivers", [])],
        }

    def to_json(self) -> str:
        """Indented JSON with every list of plain values on one line (small, diff-friendly, deterministic)."""
        return _dump(self.to_dict(), 0) + "\n"


def _dump(obj: Any, level: int) -> str:
    pad, inner = " " * level, " " * (level + 1)
    if isinstance(obj, dict) and obj:
        body = ",\n".join(f"{inner}{json.dumps(k, ensure_ascii=False)}: {_dump(v, level + 1)}" for k, v in obj.items())
        return "{\n" + body + "\n" + pad + "}"
    if isinstance(obj, list) and any(isinstance(v, dict | list) for v in obj):
        return "[\n" + ",\n".join(inner + _dump(v, level + 1) for v in obj) + "\n" + pad + "]"
    return json.dumps(obj, ensure_ascii=False)


def load_ground_truth(path: str | Path) -> dict[str, Any]:
    """Read ``ground_truth.json`` as plain dicts (``data["logs"]["jira"]["planted"]["ping_pong"]["cases"]``).

    Example::

        truth = load_ground_truth("eventlogs/ground_truth.json")
        sod = set(truth["logs"]["salesforce"]["planted"]["sod_breach"]["cases"])
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("format") != FORMAT:
        raise ValueError(f"{path}: not a processmining demo ground-truth file (format={data.get('format')!r})")
    return data
