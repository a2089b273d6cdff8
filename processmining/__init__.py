"""processmining: sales- and support-process mining and BPMN conformance analysis.

Typical use::

    import processmining as pm
    log = pm.read_log("eventlogs/salesforce_opportunity_field_history.csv")
    print(log.report.summary())
    svg = pm.render_map(pm.simplify(pm.process_map(log), activities=0.8, paths=0.5))
    result = pm.conform(log, pm.read_bpmn("bpmn_models/lead_to_order.bpmn"))

The verbs and types below are imported on first use, so ``import processmining``
stays fast (pandas takes half a second to import, pm4py seconds).
"""

from __future__ import annotations

from .errors import (
    AnalysisError,
    BpmnError,
    ConformanceError,
    IngestError,
    ProcessMiningError,
    RuleError,
    UnsafeInputError,
)

#: public name -> module that defines it (loaded lazily by __getattr__; the core types
#: live in ``model``, which imports pandas, so even they are loaded on first use)
_LAZY = {
    "ACTIVITY": "model",
    "CASE": "model",
    "ORDER": "model",
    "RESOURCE": "model",
    "START_TIMESTAMP": "model",
    "TIMESTAMP": "model",
    "ColumnMapping": "model",
    "Deviation": "model",
    "EventLog": "model",
    "IngestReport": "model",
    "Provenance": "model",
    "QuarantinedRow": "model",
    "read_log": "ingest",
    "write_log": "ingest",
    "list_presets": "ingest",
    "read_xes": "xes",
    "write_xes": "xes",
    "audit": "quality",
    "process_map": "discovery",
    "simplify": "discovery",
    "variants": "discovery",
    "discover_bpmn": "discovery",
    "render_map": "render",
    "bottleneck_report": "performance",
    "sla_breaches": "performance",
    "read_bpmn": "bpmn",
    "render_svg": "bpmn",
    "to_petri_net": "bpmn",
    "read_pnml": "pnml",
    "conform": "conformance",
    "load_rules": "rules",
    "write_tables": "export",
    "write_demo": "demo",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'processmining' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [*sorted(_LAZY),
    "AnalysisError",
    "BpmnError",
    "ConformanceError",
    "IngestError",
    "ProcessMiningError",
    "RuleError",
    "UnsafeInputError",
]
