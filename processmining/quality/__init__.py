"""Event-log data-quality audit: find the imperfections that make process-mining results wrong.

The checks follow the event-log imperfection patterns of Suriadi et al.
(2017), adapted to CRM stage histories and ticket status changes. Each check
is a small pure function ``check(log, config) -> list[Finding]``; :data:`CHECKS`
lists them and :func:`audit` runs them all. Fixes are explicit: each returns a
new :class:`~processmining.model.EventLog` with the step in ``log.history``
and the counts in a :class:`FixResult`; the original log is untouched.

>>> from processmining.quality import audit, merge_synonymous_labels
>>> report = audit(log)                                   # doctest: +SKIP
>>> print(report.to_text())                               # doctest: +SKIP
>>> fixed = merge_synonymous_labels(log)                  # doctest: +SKIP
>>> fixed.changed, fixed.details["mapping"]               # doctest: +SKIP
(7, {'Wating for Customer': 'Waiting for Customer'})
"""

from __future__ import annotations

from .attributes import attribute_completeness, completeness_table
from .audit import CHECKS, audit, dimension_scores, log_summary
from .cases import (
    incomplete_cases,
    infer_boundary_activities,
    long_cases,
    single_event_cases,
    stale_open_cases,
)
from .events import duplicate_events, near_duplicate_events
from .findings import (
    DIMENSIONS,
    SEVERITY_WEIGHT,
    CheckSkipped,
    Finding,
    QualityConfig,
    QualityReport,
)
from .fixes import (
    FixResult,
    drop_duplicate_events,
    exclude_incomplete_cases,
    merge_synonymous_labels,
    preview_merge_labels,
    shift_timezone,
)
from .labels import (
    high_cardinality_activities,
    label_template,
    normalize_label,
    polluted_labels,
    synonym_mapping,
    synonymous_labels,
)
from .resources import resource_concentration, returning_accounts, system_accounts
from .timestamps import (
    batch_entry_by_case,
    batch_entry_by_resource,
    events_before_creation,
    future_events,
    implausible_past_events,
    impossible_durations,
    mixed_offsets,
    timestamp_precision,
)

__all__ = [
    "CHECKS",
    "DIMENSIONS",
    "SEVERITY_WEIGHT",
    "CheckSkipped",
    "Finding",
    "FixResult",
    "QualityConfig",
    "QualityReport",
    "attribute_completeness",
    "audit",
    "batch_entry_by_case",
    "batch_entry_by_resource",
    "completeness_table",
    "dimension_scores",
    "drop_duplicate_events",
    "duplicate_events",
    "events_before_creation",
    "exclude_incomplete_cases",
    "future_events",
    "high_cardinality_activities",
    "implausible_past_events",
    "impossible_durations",
    "incomplete_cases",
    "infer_boundary_activities",
    "label_template",
    "log_summary",
    "long_cases",
    "merge_synonymous_labels",
    "preview_merge_labels",
    "mixed_offsets",
    "near_duplicate_events",
    "normalize_label",
    "polluted_labels",
    "resource_concentration",
    "returning_accounts",
    "shift_timezone",
    "single_event_cases",
    "stale_open_cases",
    "synonym_mapping",
    "synonymous_labels",
    "system_accounts",
    "timestamp_precision",
]
