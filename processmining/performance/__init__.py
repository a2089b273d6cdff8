"""Where the time goes: times (the primitives), the bottleneck ranking and SLA targets, handovers.

- :mod:`.times`: activity and case times, throughput, stuck cases, rework,
  backward moves, funnel, and the shared primitives (``parse_duration``,
  ``case_events``, ``as_of_seconds``) that rules and quality call.
- :mod:`.bottlenecks`: :func:`bottleneck_ranking`, SLA targets
  (:func:`parse_sla`, :func:`sla_breaches`) and :func:`bottleneck_report`.
- :mod:`.handover`: handovers, the handover network, ping-pong, workload.
"""

from .bottlenecks import (
    BREACH_COLUMNS,
    SlaTarget,
    bottleneck_ranking,
    bottleneck_report,
    parse_sla,
    sla_breaches,
)
from .handover import handover_network, handovers, ping_pong, ping_pong_cases, workload
from .times import (
    CaseEvents,
    activity_performance,
    as_of_seconds,
    backward_moves,
    case_duration_stats,
    case_durations,
    case_events,
    first_pairs,
    funnel,
    lost_cases,
    parse_duration,
    rework,
    stuck_cases,
    throughput_time,
    timing_note,
    to_timestamps,
)

__all__ = [
    "BREACH_COLUMNS",
    "CaseEvents",
    "SlaTarget",
    "activity_performance",
    "as_of_seconds",
    "backward_moves",
    "bottleneck_ranking",
    "bottleneck_report",
    "case_duration_stats",
    "case_durations",
    "case_events",
    "first_pairs",
    "funnel",
    "handover_network",
    "handovers",
    "lost_cases",
    "parse_duration",
    "parse_sla",
    "ping_pong",
    "ping_pong_cases",
    "rework",
    "sla_breaches",
    "stuck_cases",
    "throughput_time",
    "timing_note",
    "to_timestamps",
    "workload",
]
