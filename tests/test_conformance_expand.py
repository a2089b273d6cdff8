"""expand_to_cases: one row per case and template, cases in log order, each case's rows by event position."""

from __future__ import annotations

import pandas as pd

from processmining.conformance.deviations import Template, expand_to_cases
from processmining.conformance.variants import log_variants
from processmining.model import DEVIATION_COLUMNS, EventLog


def _log() -> EventLog:
    # cases 1 and 3 share variant a-b-c, case 2 is a-c: two variants, three cases
    return EventLog.from_frame(pd.DataFrame({
        "case:concept:name": ["1", "1", "1", "2", "2", "3", "3", "3"],
        "concept:name": ["a", "b", "c", "a", "c", "a", "b", "c"],
        "org:resource": ["r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8"],
        "time:timestamp": pd.date_range("2024-01-01", periods=8, freq="h", tz="UTC"),
    }))


def test_rows_follow_case_order_then_position_with_ties_in_template_order():
    log = _log()
    v = log_variants(log)
    assert [list(t) for t in v.traces] == [["a", "b", "c"], ["a", "c"]]
    templates = {
        # given out of position order: the rows come sorted by position; the two at position 2 keep this order
        0: [Template("unexpected", "c", 2, None, None, "after b", "m-c2"),
            Template("missing", "x", -1, None, "before a", None, "m-x"),
            Template("unexpected", "b", 1, None, None, "between a and c", "m-b1"),
            Template("out_of_order", "c", 2, None, "x", "y", "m-c2b")],
        1: [Template("missing", "b", -1, None, "between a and c", None, "m-b")],
    }
    dev = expand_to_cases(log, v, templates, [], variant_timeout_s=10.0)
    assert list(dev.columns) == list(DEVIATION_COLUMNS)
    assert dev["case_id"].tolist() == ["1"] * 4 + ["2"] + ["3"] * 4
    assert dev["message"].tolist() == ["m-x", "m-b1", "m-c2", "m-c2b", "m-b", "m-x", "m-b1", "m-c2", "m-c2b"]
    # event-bound rows carry their event's resource and @@index; a missing activity has none
    assert dev["resource"].tolist()[1:4] == ["r2", "r3", "r3"] and dev["resource"].isna().tolist()[:5] == [
        True, False, False, False, True]
    assert dev["evidence"].tolist() == ["", "1", "2", "2", "", "", "6", "7", "7"]
    assert dev["severity"].tolist()[:5] == ["high", "medium", "medium", "medium", "high"]
    assert dev["timestamp"].isna().tolist() == [True, False, False, False, True, True, False, False, False]
    assert dev.index.tolist() == list(range(9))


def test_not_computed_variant_gives_one_row_per_case():
    log = _log()
    v = log_variants(log)
    dev = expand_to_cases(log, v, {}, [0], variant_timeout_s=2.5)
    assert dev["case_id"].tolist() == ["1", "3"]
    assert dev["kind"].tolist() == ["not_computed", "not_computed"]
    assert dev["message"].iloc[0] == ("no alignment within 2.5 s for this sequence of 3 events; "
                                      "the case is left out of fitness")
