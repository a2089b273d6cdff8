"""The one encoder: integer codes cached on the (immutable) log object, never in a module global."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from processmining.errors import AnalysisError, ProcessMiningError
from processmining.model import ACTIVITY, CASE, RESOURCE, TIMESTAMP, EventLog, log_provenance
from processmining.quality.codes import codes as quality_codes


def _log(cases: list[str], acts: list[str], resources: list[str] | None = None) -> EventLog:
    frame = pd.DataFrame({CASE: cases, ACTIVITY: acts,
                          TIMESTAMP: pd.date_range("2024-01-01", periods=len(cases), freq="h", tz="UTC")})
    if resources is not None:
        frame[RESOURCE] = resources
    return EventLog.from_frame(frame)


def test_codes_are_computed_once_per_log_and_read_only() -> None:
    log = _log(["b", "b", "a"], ["Y", "X", "X"])
    c = log.codes
    assert c is log.codes  # cached on the object
    # sorted by case: a first; activities coded in name order
    assert c.case.tolist() == [0, 1, 1]
    assert c.case_ids.tolist() == ["a", "b"]
    assert c.act_names == ["X", "Y"]
    assert c.act_text.tolist() == ["X", "Y", "X"]
    assert c.starts.tolist() == [0, 1] and c.ends.tolist() == [0, 2]
    with pytest.raises(ValueError, match="read-only"):
        c.case[0] = 5


def test_a_filtered_log_gets_its_own_codes() -> None:
    log = _log(["1", "1", "2"], ["A", "B", "C"])
    sub = log.subset(log.df[CASE] == "2", step="case 2")
    assert sub.codes.act_names == ["C"]
    assert log.codes.act_names == ["A", "B", "C"]


def test_two_sessions_on_the_same_log_object_see_the_same_codes_from_threads() -> None:
    """Two app sessions holding the same log object (a shared cache of the app) in two threads."""
    log = _log([str(i // 3) for i in range(300)], [f"A{i % 7}" for i in range(300)],
               [f"r{i % 5}" for i in range(300)])
    other = _log(["x", "x"], ["Q", "R"], ["s", "t"])
    results: dict[str, tuple] = {}
    barrier = threading.Barrier(2)

    def session(name: str, lg: EventLog) -> None:
        barrier.wait()
        res_codes, res_names = quality_codes(lg, RESOURCE)
        results[name] = (lg.codes.act_names, res_names.tolist(), int(res_codes.sum()))

    threads = [threading.Thread(target=session, args=("one", log)), threading.Thread(target=session, args=("two", log))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results["one"] == results["two"]
    assert results["one"][0] == [f"A{i}" for i in range(7)]
    assert results["one"][1] == ["r0", "r1", "r2", "r3", "r4"]
    # a different log in the same process has nothing to do with the first one's cache
    assert quality_codes(other, RESOURCE)[1].tolist() == ["s", "t"]
    assert other.codes.act_names == ["Q", "R"]


def test_from_frame_raises_a_typed_error() -> None:
    frame = pd.DataFrame({CASE: ["1"], TIMESTAMP: pd.to_datetime(["2024-01-01"], utc=True)})
    with pytest.raises(AnalysisError, match=r"EventLog needs columns \['concept:name'\]") as info:
        EventLog.from_frame(frame)
    assert isinstance(info.value, ProcessMiningError)
    half = pd.DataFrame({CASE: ["1", "1"], ACTIVITY: ["A", "B"],
                         TIMESTAMP: pd.to_datetime(["2024-01-01", None], utc=True)})
    with pytest.raises(AnalysisError, match="has 1 empty values"):
        EventLog.from_frame(half)


def test_an_order_only_log_is_a_log_without_timestamps() -> None:
    frame = pd.DataFrame({CASE: ["2", "1", "1"], ACTIVITY: ["C", "B", "A"], TIMESTAMP: [pd.NaT] * 3})
    log = EventLog.from_frame(frame)
    assert log.has_timestamps is False
    # file order within a case is the event order
    assert log.df[ACTIVITY].tolist() == ["B", "A", "C"]
    assert np.isnan(log.codes.t).all()


def test_one_provenance_builder() -> None:
    log = _log(["1"], ["A"])
    log = log.subset(np.array([True]), step="kept all")
    prov = log_provenance(log, {"top": 3}, inputs={"model": ("m.bpmn", "ab")})
    assert prov.parameters == {"top": 3, "log_history": ["kept all"]}
    assert prov.inputs["model"] == "m.bpmn sha256:ab"
    assert prov.inputs["log"] == f"log sha256:{log.fingerprint()}"
