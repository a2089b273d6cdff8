"""Logs without timestamps (only the order of events): what works, and what says plainly it cannot."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from processmining.discovery import process_map, variants
from processmining.errors import AnalysisError
from processmining.model import ACTIVITY, CASE, TIMESTAMP, EventLog
from processmining.performance import (
    activity_performance,
    bottleneck_ranking,
    rework,
    sla_breaches,
    timing_note,
)
from processmining.rules import check, load_rules
from processmining.status import case_status


def _order_only(traces: dict[str, list[str]]) -> EventLog:
    rows = [(c, a) for c, acts in traces.items() for a in acts]
    frame = pd.DataFrame(rows, columns=[CASE, ACTIVITY])
    frame[TIMESTAMP] = pd.NaT
    return EventLog.from_frame(frame)


LOG = _order_only({"1": ["a", "b", "c"], "2": ["a", "c", "b"], "3": ["a", "b", "b", "c"]})


def test_map_variants_and_rework_work_without_times() -> None:
    assert LOG.has_timestamps is False
    pm = process_map(LOG)
    assert pm.dfg() == {("a", "b"): 2, ("b", "c"): 2, ("a", "c"): 1, ("c", "b"): 1, ("b", "b"): 1}
    assert pm.arcs["wait_mean_s"].isna().all()  # unknown, never a fake zero
    v = variants(LOG)
    assert v["cases"].tolist() == [1, 1, 1] and v["median_duration_s"].isna().all()
    assert rework(LOG).loc["b", "cases_with_rework"] == 1
    st = case_status(LOG, end_activities=["c"])
    assert st["status"].tolist() == ["finished", "running", "finished"] and st["idle_s"].isna().all()


def test_time_based_views_say_the_log_has_no_times() -> None:
    assert timing_note(LOG).startswith("The log has no timestamps, only the order of events")
    for call in (lambda: activity_performance(LOG), lambda: bottleneck_ranking(LOG),
                 lambda: sla_breaches(LOG, ["a->c<=1d"]), lambda: case_status(LOG, idle="1d")):
        with pytest.raises(AnalysisError, match="no timestamps"):
            call()


def test_rules_without_time_run_and_time_rules_are_named_not_checked() -> None:
    rules = load_rules(b"rules:\n  - {id: c-after-b, type: precedence, activity: c, after: b}\n"
                       b"  - {id: sla, type: max_duration, from: a, to: c, limit: 1d}\n", name="r.yaml")
    d = check(LOG, rules)
    assert d["case_id"].tolist() == ["2"] and d["rule_id"].tolist() == ["c-after-b"]
    assert d.attrs["not_checked"] == {"sla": "max_duration needs timestamps; the log has only the order of events"}


@pytest.mark.slow
def test_a22_without_timestamps_equals_pm4py_variants_and_dfg(shared_datasets) -> None:
    import pm4py

    path = shared_datasets / "synthetic" / "a22f0n10.xes.gz"
    legacy = pm4py.read_xes(str(path), return_legacy_log_object=True)
    rows = [(t.attributes["concept:name"], e["concept:name"]) for t in legacy for e in t]
    frame = pd.DataFrame(rows, columns=[CASE, ACTIVITY])
    frame[TIMESTAMP] = pd.NaT
    log = EventLog.from_frame(frame)
    assert (log.n_cases, log.n_events) == (1000, int(np.sum([len(t) for t in legacy])))
    theirs = pm4py.get_variants(legacy)
    ours = variants(log)
    assert len(ours) == len(theirs)
    assert {tuple(k): (len(v) if isinstance(v, list) else int(v)) for k, v in theirs.items()} == dict(
        zip(ours["activities"], ours["cases"], strict=True))
    dfg, _, _ = pm4py.discover_dfg(legacy)
    assert process_map(log).dfg() == dict(dfg)


def test_discover_bpmn_on_an_order_only_log() -> None:
    from processmining.bpmn import read_bpmn
    from processmining.discovery import discover_bpmn

    xml = discover_bpmn(_order_only({str(i): ["a", "b", "c"] for i in range(5)}), noise_threshold=0.0)
    model = read_bpmn(xml.encode())
    assert sorted(t.name for t in model.tasks) == ["a", "b", "c"]
