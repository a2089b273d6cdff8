"""Discovery: the process map and its simplification, variants, and BPMN models discovered from a log.

- :mod:`.map`: :class:`ProcessMap`, :func:`process_map` (one columnar pass),
  :func:`simplify` (Disco-style sliders on the computed map), the per-log
  integer event codes every analysis shares.
- :mod:`.variants`: the one variants engine (:func:`variant_table`,
  :func:`variants`, :func:`variant_coverage`).
- :mod:`.bpmn_out`: :func:`discover_bpmn` (inductive miner, gateway
  reduction, dot layout, BPMN 2.0 XML with DI).
"""

from .bpmn_out import discover_bpmn
from .map import (
    ACTIVITY_COLUMNS,
    ARC_COLUMNS,
    END,
    START,
    EventCodes,
    ProcessMap,
    default_sliders,
    event_codes,
    process_map,
    simplify,
)
from .variants import variant_coverage, variant_table, variants

__all__ = [
    "ACTIVITY_COLUMNS",
    "ARC_COLUMNS",
    "END",
    "START",
    "EventCodes",
    "ProcessMap",
    "default_sliders",
    "discover_bpmn",
    "event_codes",
    "process_map",
    "simplify",
    "variant_coverage",
    "variant_table",
    "variants",
]
