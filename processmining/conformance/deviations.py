"""From one alignment per variant to one deviation record per case, in auditor language."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from sys import intern

import numpy as np
import pandas as pd

from ..memory import release_freed_memory, system_arrow_pool
from ..model import DEVIATION_COLUMNS, ORDER, RESOURCE, TIMESTAMP, EventLog, empty_deviations
from .alignment import AlignmentResult, Move
from .variants import Variants

SEVERITY = {"missing": "high", "unexpected": "medium", "out_of_order": "medium", "not_computed": "low"}


@dataclass(frozen=True, slots=True)
class Template:
    """A deviation of a variant; ``position`` is the event index in the case (-1: no event)."""

    kind: str
    activity: str
    position: int
    element: str | None
    expected: str | None
    observed: str | None
    message: str


def _between(trace: Sequence[str], i: int) -> str:
    """Where in the case position ``i`` (a gap between events) is, in words."""
    if not trace:
        return "in an empty case"
    if i <= 0:
        return f"before {trace[0]}"
    if i >= len(trace):
        return f"after {trace[-1]}"
    return f"between {trace[i - 1]} and {trace[i]}"


def variant_templates(
    trace: tuple[str, ...],
    result: AlignmentResult,
    *,
    element_of_transition: Mapping[str, str],
    element_of_label: Mapping[str, str],
) -> list[Template]:
    """The deviations one alignment shows, with an activity both missing and unexpected paired as out of order.

    Pairing is in alignment order: the k-th log move of an activity pairs with
    its k-th model move. The message says where it happened and where the
    model expected it ("Negotiation/Review happened before Proposal/Price Quote;
    the model expects it after Proposal/Price Quote").
    The texts are interned: the same message in thousands of variants is one string (issue 17: memory).
    """
    logs: dict[str, list[Move]] = {}
    models: dict[str, list[Move]] = {}
    for mv in result.moves:
        if mv.kind == "log":
            logs.setdefault(mv.label or "", []).append(mv)
        elif mv.kind == "model":
            models.setdefault(mv.label or "", []).append(mv)
    out: list[Template] = []
    # ties (two activities first seen at the same position) by name: the same order in every run
    for act in sorted(set(logs) | set(models), key=lambda a: (_first_pos(logs.get(a), models.get(a)), a)):
        lm, mm = logs.get(act, []), models.get(act, [])
        pairs = min(len(lm), len(mm))
        for k in range(pairs):
            happened, expected = lm[k].position, mm[k].position
            where_expected = _between(trace, expected)
            if expected > happened:
                anchor = trace[expected - 1]
                msg = f"{act} happened before {anchor}; the model expects it {where_expected}"
            else:
                anchor = trace[expected] if expected < len(trace) else trace[-1]
                msg = f"{act} happened after {anchor}; the model expects it {where_expected}"
            out.append(Template("out_of_order", act, happened, element_of_transition.get(mm[k].transition or "")
                                or element_of_label.get(act), intern(where_expected),
                                intern(_between_event(trace, happened)), intern(msg)))
        for mv in lm[pairs:]:
            where = _between_event(trace, mv.position)
            if act in element_of_label:
                msg = f"{act} happened {where}, where the model does not allow it"
            else:
                msg = f"{act} happened {where}, but the model has no such activity"
            out.append(Template("unexpected", act, mv.position, element_of_label.get(act), None, intern(where),
                                intern(msg)))
        for mv in mm[pairs:]:
            where = _between(trace, mv.position)
            msg = f"{act} is missing: the model requires it {where}"
            out.append(Template("missing", act, -1, element_of_transition.get(mv.transition or "")
                                or element_of_label.get(act), intern(where), None, intern(msg)))
    return out


def _between_event(trace: Sequence[str], p: int) -> str:
    """Where event ``p`` happened, by its neighbours."""
    before = trace[p - 1] if p > 0 else None
    after = trace[p + 1] if p + 1 < len(trace) else None
    if before and after:
        return f"between {before} and {after}"
    if before:
        return f"after {before}, at the end of the case"
    if after:
        return f"at the start of the case, before {after}"
    return "as the only event of the case"


def _first_pos(lm: list[Move] | None, mm: list[Move] | None) -> int:
    return min([m.position for m in (lm or [])] + [m.position for m in (mm or [])] or [0])


def _objects(values: pd.api.extensions.ExtensionArray) -> np.ndarray:
    """``values.to_numpy(dtype=object)``, text that repeats (a resource's name) one Python string for all its rows."""
    if not isinstance(values.dtype, pd.StringDtype):
        return values.to_numpy(dtype=object)
    codes, uniques = pd.factorize(values)
    out = uniques.to_numpy(dtype=object).take(np.maximum(codes, 0)) if len(uniques) else np.empty(len(values), object)
    missing = codes < 0
    if missing.any():
        out[missing] = values[missing].to_numpy(dtype=object)
    return out


@system_arrow_pool()  # a dozen columns taken, their temporaries freed one by one (issue 17: peak memory)
def expand_to_cases(
    log: EventLog,
    variants: Variants,
    templates: Mapping[int, list[Template]],
    not_computed: Sequence[int],
    *,
    variant_timeout_s: float,
) -> pd.DataFrame:
    """One row per case and deviation (``DEVIATION_COLUMNS``), vectorised over cases.

    Event-bound deviations (unexpected, out of order) carry the event's
    timestamp, resource and ``@@index`` as evidence.
    """
    names = ("variant", "kind", "activity", "position", "bpmn_element_id", "expected", "observed", "message")
    lists: dict[str, list] = {name: [] for name in names}  # one list per column: no tuple per template
    for v, temps in templates.items():
        for t in temps:
            for name, value in zip(names, (v, t.kind, t.activity, t.position, t.element, t.expected, t.observed,
                                           t.message), strict=True):
                lists[name].append(value)
    for v in not_computed:
        for name, value in zip(names, (v, "not_computed", None, -1, None, None, None,
                                       f"no alignment within {variant_timeout_s:g} s for this sequence of "
                                       f"{len(variants.traces[v])} events; the case is left out of fitness"),
                               strict=True):
            lists[name].append(value)
    if not lists["variant"]:
        return empty_deviations()
    tmpl = pd.DataFrame(lists)
    del lists
    # no merge of cases and templates and no sort of the merged table: each variant's templates sorted by position
    # once (stable: ties keep their order), then every column is one take of the case's variant's block
    order = np.lexsort((tmpl["position"].to_numpy(), tmpl["variant"].to_numpy()))
    n_tmpl = np.bincount(tmpl["variant"].to_numpy(), minlength=variants.n_variants)
    first = np.concatenate(([0], np.cumsum(n_tmpl)[:-1]))
    per_case = n_tmpl[variants.case_variant]
    case_of_row = np.repeat(np.arange(len(per_case)), per_case)
    block = np.repeat(np.cumsum(per_case) - per_case, per_case)  # the row where each case's rows begin
    take = order[np.repeat(first[variants.case_variant], per_case) + np.arange(len(case_of_row)) - block]
    del block, per_case, order

    index = pd.RangeIndex(len(take))
    # each column is built, and its temporaries freed, before the next one: the peak is the result plus one column's
    # work (issue 17: peak memory of each step)
    cols: dict[str, object] = {"case_id": pd.Series(pd.Series(variants.case_id_texts).array.take(case_of_row),
                                                    index=index)}
    for name in ("kind", "activity", "message", "rule_id", "bpmn_element_id", "expected", "observed"):
        # a template column, one row per case and deviation
        cols[name] = None if name == "rule_id" else pd.Series(tmpl[name].array.take(take), index=index)
    pos = tmpl["position"].to_numpy()[take]
    severity = pd.Series(tmpl["kind"].map(SEVERITY).array.take(take), index=index)
    del tmpl, take
    has_event = pos >= 0
    row = np.where(has_event, variants.case_start[case_of_row] + np.maximum(pos, 0), 0)
    del pos, case_of_row
    df = log.df
    # the rows of the deviations taken first (the log's columns are never converted whole: no object array of
    # every event's resource)
    if len(df):
        cols["timestamp"] = pd.Series(df[TIMESTAMP].array.take(row), index=index).where(has_event)
    else:
        cols["timestamp"] = pd.Series(pd.to_datetime(np.array([], dtype="datetime64[ns]")).tz_localize("UTC"),
                                      index=index)
    if RESOURCE in df.columns:
        cols["resource"] = pd.Series(_objects(df[RESOURCE].array.take(row)), index=index).where(
            has_event).astype(object)
    else:
        cols["resource"] = pd.Series(None, index=index, dtype=object)
    cols["severity"] = severity
    cols["evidence"] = pd.Series(df[ORDER].to_numpy()[row], index=index).astype(str).where(has_event, "")
    cols["accepted"] = False
    cols["accepted_reason"] = None
    del severity, row, has_event
    out = pd.DataFrame(cols, copy=False)
    del cols
    if tuple(out.columns) != DEVIATION_COLUMNS:
        out = out[list(DEVIATION_COLUMNS)]
    release_freed_memory()  # the columns' temporaries: later steps start from what is held
    return out


