"""The rule registry: each rule type is one record binding its schema (required / optional fields) to its checker.

The loader (:func:`processmining.rules.load_rules`) validates every rule
against its record, so a field can never be accepted and then ignored: a
field the record does not list is refused with the rule id and YAML line,
and every listed field is read by the checker (tests check each one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .context import RuleContext
from .counting import absence, existence
from .duties import role, segregation_of_duties
from .ordering import no_backward_moves, precedence, response
from .spec import Rule
from .timing import max_duration, max_idle

Checker = Callable[[RuleContext, Rule], pd.DataFrame]


@dataclass(frozen=True)
class RuleType:
    """One rule type: its name, the fields it needs and accepts, what some of them may be, and its checker."""

    name: str
    checker: Checker
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    #: field -> the values it may take (e.g. ``from_occurrence: (first, last)``)
    choices: Mapping[str, tuple[Any, ...]] = None  # type: ignore[assignment]
    doc: str = ""
    #: the checker measures time: on a log without timestamps the rule is reported as not checked
    needs_time: bool = False

    def __post_init__(self) -> None:
        if self.choices is None:
            object.__setattr__(self, "choices", {})


_OCC = ("first", "last")
REGISTRY: dict[str, RuleType] = {t.name: t for t in (
    RuleType("segregation_of_duties", segregation_of_duties, ("activities",),
             doc="no resource does two of the activities in one case"),
    RuleType("four_eyes", segregation_of_duties, ("activities",), doc="segregation of duties for approvals"),
    RuleType("max_duration", max_duration, ("from", "to", "limit"),
             ("from_occurrence", "to_occurrence", "as_of", "end_activities"),
             {"from_occurrence": _OCC, "to_occurrence": _OCC},
             doc="from the first (last) 'from' to the first (last) 'to' after it within 'limit'; still-open "
                 "running cases over the limit count too (the Bottlenecks SLA)", needs_time=True),
    RuleType("max_idle", max_idle, ("limit",), ("as_of", "unless_last"),
             doc="a running case has an event at least every 'limit' (unless_last: the end activities)",
             needs_time=True),
    RuleType("precedence", precedence, ("activity", "after"), doc="'activity' only after one of 'after'"),
    RuleType("response", response, ("activity", "followed_by"), doc="'activity' is eventually followed by 'followed_by'"),
    RuleType("no_backward_moves", no_backward_moves, ("order",), ("allow",),
             doc="no move to an earlier stage of 'order' except the 'allow' pairs"),
    RuleType("existence", existence, ("activity",), ("min", "max"), doc="'activity' min..max times per case"),
    RuleType("absence", absence, ("activity",), ("max",), doc="'activity' at most 'max' (default 0) times"),
    RuleType("role", role, ("activity",), ("role", "lane"), doc="'activity' done by a resource with 'role' or its lane"),
)}

__all__ = ["REGISTRY", "Checker", "RuleType"]
