"""processmining: sales- and support-process mining and BPMN conformance analysis.

Typical use::

    from processmining import read_log
    log = read_log("opportunity_field_history.csv", preset="salesforce-field-history")
    print(log.report.summary())
"""

from __future__ import annotations

from .errors import BpmnError, ConformanceError, IngestError, ProcessMiningError, RuleError, UnsafeInputError
from .model import (
    ACTIVITY,
    CASE,
    ORDER,
    RESOURCE,
    START_TIMESTAMP,
    TIMESTAMP,
    ColumnMapping,
    Deviation,
    EventLog,
    IngestReport,
    Provenance,
    QuarantinedRow,
)

__all__ = [
    "ACTIVITY",
    "CASE",
    "ORDER",
    "RESOURCE",
    "START_TIMESTAMP",
    "TIMESTAMP",
    "BpmnError",
    "ColumnMapping",
    "ConformanceError",
    "Deviation",
    "EventLog",
    "IngestError",
    "IngestReport",
    "ProcessMiningError",
    "Provenance",
    "QuarantinedRow",
    "RuleError",
    "UnsafeInputError",
]
