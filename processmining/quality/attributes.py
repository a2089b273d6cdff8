"""Attribute completeness: the share of missing values per attribute (the CRM "data completeness" KPI).

Event attributes are measured per event of the activities that record them
(an attribute only one step ever carries is not missing on the other steps),
the resource on every event, case attributes (``case:...``) per case. Empty
and whitespace-only text counts as missing.
"""

from __future__ import annotations

import pandas as pd

from ..model import ACTIVITY, CASE, RESOURCE, TIMESTAMP, EventLog
from .events import attribute_columns
from .findings import Finding, QualityConfig, count_noun, make_finding


def _missing(values: pd.Series) -> pd.Series:
    missing = values.isna()
    if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
        text = values.astype("string").str.strip()
        missing = missing | text.eq("").fillna(False).astype(bool)
    return missing.astype(bool)


def _percent(share: float) -> str:
    """``0.99996`` -> ``'99.99%'``, never ``'100.0%'`` for an incomplete attribute."""
    return f"{min(share * 100, 99.99):.2f}%" if share < 1 else "100%"


def completeness_table(log: EventLog) -> pd.DataFrame:
    """One row per attribute: level (event/case), rows checked, missing values, completeness (0-1).

    ``rows`` of an event attribute are the events of the activities that record it at least once.

    The columns every event has by construction (case id, activity, timestamp)
    are left out.
    """
    df = log.df
    rows = []
    for column in attribute_columns(log):
        if column in (CASE, ACTIVITY, TIMESTAMP):
            continue
        if column.startswith("case:"):
            per_case = df.groupby(CASE, observed=True, sort=False)[column].first()
            missing = _missing(per_case)
            level = "case"
        else:
            missing = _missing(df[column])
            level = "event"
            if column != RESOURCE and missing.any():
                # an event attribute is checked on the activities that record it (a lab value on lab events,
                # a reviewer's verdict on that reviewer's step), not on every event: elsewhere it does not apply
                uses = df[ACTIVITY].isin(df.loc[~missing.to_numpy(), ACTIVITY].unique())
                missing = missing[uses.to_numpy()]
        total = len(missing)
        n = int(missing.sum())
        rows.append((column, level, total, n, 1.0 - n / total if total else 1.0))
    return pd.DataFrame(rows, columns=["attribute", "level", "rows", "missing", "completeness"])


def attribute_completeness(log: EventLog, config: QualityConfig) -> list[Finding]:
    """Attributes with missing values, worst first; ``details["completeness"]`` lists every attribute.

    No case is "affected": a missing optional attribute does not make a case's
    flow wrong, and the attributes score measures completeness directly.
    ``details["resource_missing_by_activity"]`` shows where the resource is
    missing (often one synthesised step, such as a ticket's creation).
    """
    table = completeness_table(log)
    incomplete = table.loc[table["missing"] > 0].sort_values("completeness", kind="stable")
    if incomplete.empty:
        return []
    worst = float(incomplete["completeness"].min())
    severity = "high" if worst < 0.5 else "medium" if worst < 0.9 else "low"
    details: dict[str, object] = {"completeness": {a: round(float(c), 4) for a, c in
                                                   zip(table["attribute"], table["completeness"], strict=True)}}
    if RESOURCE in log.df.columns:
        no_resource = log.df.loc[_missing(log.df[RESOURCE]), ACTIVITY].value_counts()
        details["resource_missing_by_activity"] = {str(k): int(v) for k, v in no_resource.items()}
    examples = incomplete.assign(completeness=incomplete["completeness"].round(4))
    return [make_finding(
        check="attribute_completeness", dimension="attributes", severity=severity,
        title=f"{count_noun(len(incomplete), 'attribute')} of {len(table):,} with missing values "
              f"(worst: {incomplete['attribute'].iloc[0]} {_percent(worst)} complete)",
        count=len(incomplete), case_ids=[], examples=examples, config=config,
        recommendation="Analyses that group or filter by an incomplete attribute silently leave those "
                       "events out. Make the field mandatory at the source or report results with the gap.",
        details=details,
    )]


CHECKS = (attribute_completeness,)
