"""processmining.app_state without Streamlit: per-session logs, the session cache, error texts."""

from __future__ import annotations

import pandas as pd
import pytest

from app_pages import _state as app_state
from processmining.errors import BpmnError, IngestError, UnsafeInputError
from processmining.model import ACTIVITY, CASE, TIMESTAMP, EventLog


def _log(name: str, cases: int) -> EventLog:
    # n cases of the same two-step process: content differs with `cases`
    rows = [(f"c{i}", act, f"2024-01-0{1 + j} 10:00") for i in range(cases)
            for j, act in enumerate(["Open", "Close"])]
    df = pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP])
    df[TIMESTAMP] = pd.to_datetime(df[TIMESTAMP], utc=True)
    return EventLog.from_frame(df, name=name)


def test_add_log_makes_it_current_and_names_are_unique() -> None:
    state: dict = {}
    a = app_state.add_log(_log("orders.csv", 2), state=state)
    b = app_state.add_log(_log("orders.csv", 3), state=state)  # same name, other content
    assert (a.key, b.key) == ("orders.csv", "orders.csv (2)")
    assert app_state.current(state=state).key == "orders.csv (2)"
    assert [e.key for e in app_state.loaded_logs(state=state)] == ["orders.csv", "orders.csv (2)"]
    app_state.select("orders.csv", state=state)
    assert app_state.current(state=state).log.n_cases == 2


def test_the_same_content_is_not_loaded_twice() -> None:
    state: dict = {}
    app_state.add_log(_log("a.csv", 2), state=state)
    app_state.add_log(_log("b.csv", 5), state=state)
    again = app_state.add_log(_log("a.csv", 2), state=state)
    assert again.key == "a.csv"
    assert len(app_state.loaded_logs(state=state)) == 2
    assert app_state.current(state=state).key == "a.csv"


def test_select_unknown_log_raises() -> None:
    with pytest.raises(KeyError, match="no loaded log named 'x'"):
        app_state.select("x", state={})


def test_cache_computes_once_per_key_and_is_bounded() -> None:
    state: dict = {}
    calls: list[int] = []

    def compute(n: int) -> int:
        calls.append(n)
        return n * 2

    assert app_state.cached("k", ("fp", 1), lambda: compute(1), state=state) == 2
    assert app_state.cached("k", ("fp", 1), lambda: compute(1), state=state) == 2
    assert app_state.cached("k", ("fp", 2), lambda: compute(2), state=state) == 4
    assert calls == [1, 2]
    for i in range(10):  # LRU of 4: the oldest entries go
        app_state.cached("k", ("fp", 10 + i), lambda i=i: i, state=state, max_entries=4)
    assert len(state[app_state.CACHE]) == 4
    app_state.cached("k", ("fp", 1), lambda: compute(1), state=state)
    assert calls == [1, 2, 1]


def test_exceptions_are_not_cached() -> None:
    state: dict = {}

    def boom() -> int:
        raise IngestError("bad row", source="x.csv", line=3)

    with pytest.raises(IngestError):
        app_state.cached("k", 1, boom, state=state)
    assert app_state.cached("k", 1, lambda: 7, state=state) == 7


def test_remove_drops_the_log_and_its_cached_results() -> None:
    state: dict = {}
    a = app_state.add_log(_log("a.csv", 2), state=state)
    b = app_state.add_log(_log("b.csv", 3), state=state)
    app_state.cached("map", (a.fingerprint,), lambda: "map of a", scope=a.fingerprint, state=state)
    app_state.cached("map", (b.fingerprint,), lambda: "map of b", scope=b.fingerprint, state=state)
    app_state.remove("b.csv", state=state)
    assert [e.key for e in app_state.loaded_logs(state=state)] == ["a.csv"]
    assert list(state[app_state.CACHE].values()) == ["map of a"]
    assert app_state.current(state=state).key == "a.csv"


def test_sessions_never_share_logs_or_results() -> None:
    # two browser sessions = two session-state mappings: nothing crosses over
    alice: dict = {}
    bob: dict = {}
    app_state.add_log(_log("alice.csv", 2), state=alice)
    app_state.cached("map", ("same-parameters",), lambda: "alice's map", state=alice)
    assert app_state.current(state=bob) is None
    assert app_state.cached("map", ("same-parameters",), lambda: "bob's map", state=bob) == "bob's map"


def test_error_text_names_the_place_and_says_what_to_do() -> None:
    what, todo = app_state.error_text(IngestError("'x' is not a date", source="o.csv", line=12, column="CreatedDate"))
    assert what == "o.csv, line 12, column 'CreatedDate': 'x' is not a date"
    assert "preset" in todo
    what, todo = app_state.error_text(UnsafeInputError("DOCTYPE refused", source="m.bpmn", line=2))
    assert what == "m.bpmn, line 2: DOCTYPE refused"
    assert todo.startswith("The file was refused for safety reasons")
    assert "BPMN 2.0" in app_state.error_text(BpmnError("no process", source="m.bpmn"))[1]


def test_unexpected_errors_hide_details() -> None:
    what, _ = app_state.error_text(KeyError("/secret/path/at/server"))
    assert what == "Something went wrong while preparing this view (KeyError)."
    assert "secret" not in what


def test_log_provenance_names_the_log() -> None:
    state: dict = {}
    entry = app_state.add_log(_log("a.csv", 2), state=state)
    prov = app_state.log_provenance(entry, model="m.bpmn")
    assert prov.inputs == {"log": f"a.csv sha256:{entry.fingerprint}"}
    assert prov.parameters["model"] == "m.bpmn"
