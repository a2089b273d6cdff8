"""The same analyses on Apache Spark (optional extra ``processmining[spark]``), with the same results.

Importing this package does not import PySpark; the functions do.

- :mod:`.session`: :func:`spark_session` (local mode or Spark Connect), :class:`EngineError`.
- :mod:`.source`: :func:`read_events` (Parquet, CSV, table names; presets and mappings as the local ingest).
- :mod:`.frame`: :class:`SparkLog`, the ordered event frame every analysis shares.
- :mod:`.discovery`: :func:`process_map` (a :class:`~processmining.discovery.ProcessMap`), :func:`variants`,
  :func:`discover_bpmn` (the local inductive miner on the variants counted on the cluster).
- :mod:`.status`: case status (finished / running / stuck), end activities inferred as locally.
- :mod:`.performance`: activity / case times, rework, SLA cases and breaches, funnel, bottleneck ranking,
  backward moves.
- :mod:`.lifecycle`: start / complete pairing (:func:`pair_lifecycle`, called by :func:`read_events`).
- :mod:`.handover`: :func:`handovers`, :func:`ping_pong`, :func:`ping_pong_cases`.
- :mod:`.pseudonyms`: :func:`pseudonymizer` (the local :class:`~processmining.pseudonyms.Pseudonymizer`).
- :mod:`.conformance`: :func:`conform`: variants aligned on the executors, deviations written as a table.
- :mod:`.rules`: :func:`rule_deviations`: the local audit rules on batches of whole cases on the executors.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "EngineError": "session", "SessionConfig": "session", "session_config": "session", "spark_session": "session",
    "parse_remote": "session",
    "read_events": "source", "SparkIngestReport": "source",
    "SparkLog": "frame",
    "process_map": "discovery", "variants": "discovery", "discover_bpmn": "discovery",
    "activity_performance": "performance", "case_duration_stats": "performance", "rework": "performance",
    "stuck_cases": "status", "case_status": "status", "infer_end_activities": "status",
    "sla_breaches": "performance", "sla_cases": "performance", "funnel": "performance",
    "bottleneck_ranking": "performance", "bottleneck_report": "performance", "backward_moves": "performance",
    "rule_deviations": "rules",
    "conform": "conformance", "SparkConformanceResult": "conformance",
    "pair_lifecycle": "lifecycle", "handovers": "handover", "ping_pong": "handover",
    "ping_pong_cases": "handover", "pseudonymizer": "pseudonyms",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
