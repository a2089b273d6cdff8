"""Where the time goes: times (the primitives), the bottleneck ranking and SLA targets, handovers.

- :mod:`.times`: activity and case times, throughput, stuck cases, rework,
  backward moves, funnel, and the shared primitives (``parse_duration``,
  ``as_of_seconds``) that rules and quality call.
- :mod:`.bottlenecks`: :func:`bottleneck_ranking`, SLA targets
  (:func:`parse_sla`, :func:`sla_breaches`) and :func:`bottleneck_report`.
- :mod:`.handover`: handovers (and their count per case), the handover network, ping-pong, workload.
"""

from .bottlenecks import (
    BREACH_COLUMNS,
    SLA_STATUSES,
    SlaTarget,
    bottleneck_ranking,
    bottleneck_report,
    parse_sla,
    sla_breaches,
    sla_cases,
)
from .handover import (
    handover_counts,
    handover_network,
    handovers,
    ping_pong,
    ping_pong_cases,
    workload,
)
from .times import (
    activity_performance,
    as_of_seconds,
    backward_moves,
    case_duration_stats,
    case_durations,
    first_pairs,
    format_duration,
    funnel,
    lost_cases,
    parse_duration,
    require_timestamps,
    rework,
    stuck_cases,
    throughput_time,
    timing_note,
    to_timestamps,
)

__all__ = [
    "BREACH_COLUMNS",
    "SLA_STATUSES",
    "SlaTarget",
    "activity_performance",
    "as_of_seconds",
    "backward_moves",
    "bottleneck_ranking",
    "bottleneck_report",
    "case_duration_stats",
    "case_durations",
    "first_pairs",
    "format_duration",
    "funnel",
    "handover_counts",
    "handover_network",
    "handovers",
    "lost_cases",
    "parse_duration",
    "parse_sla",
    "require_timestamps",
    "ping_pong",
    "ping_pong_cases",
    "rework",
    "sla_breaches",
    "sla_cases",
    "stuck_cases",
    "throughput_time",
    "timing_note",
    "to_timestamps",
    "workload",
]
