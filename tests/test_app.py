"""The Streamlit app through ``streamlit.testing.v1.AppTest`` on small logs built in code.

The flows on the bundled demo data are in ``tests/test_app_demo.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app_pages import _state as app_state
from processmining.model import ACTIVITY, CASE, RESOURCE, TIMESTAMP, EventLog

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGES = ("app_pages/load.py", "app_pages/quality.py", "app_pages/process_map.py",
         "app_pages/bottlenecks.py", "app_pages/cases.py", "app_pages/conformance.py")


def small_log() -> EventLog:
    """Five ticket cases: three follow the main path, one has rework, one skips a step."""
    paths = {
        "T1": ["Open", "1st Line Support", "Resolved", "Closed"],
        "T2": ["Open", "1st Line Support", "Resolved", "Closed"],
        "T3": ["Open", "1st Line Support", "Resolved", "Closed"],
        "T4": ["Open", "1st Line Support", "2nd Line Support", "1st Line Support", "Resolved", "Closed"],  # ping-pong
        "T5": ["Open", "Resolved", "Closed"],  # skipped the support line
    }
    rows = []
    for n, (case, acts) in enumerate(paths.items()):
        for i, act in enumerate(acts):
            rows.append((case, act, pd.Timestamp("2024-03-01", tz="UTC") + pd.Timedelta(days=n, hours=5 * i),
                         f"agent{i % 2}"))
    df = pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP, RESOURCE])
    return EventLog.from_frame(df, name="tickets.csv")


def app_with(log: EventLog | None) -> AppTest:
    """The app with ``log`` already loaded in the session (and no demo auto-load)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[app_state.DEMO_TRIED] = True
    if log is not None:
        state: dict = {}
        app_state.add_log(log, state=state)
        for k, v in state.items():
            at.session_state[k] = v
    return at


def viewers(at: AppTest) -> list[dict]:
    """The arguments of every diagram viewer on the page (``svg``, ``tokens``, ``keyboard_views``, ...)."""
    return [json.loads(c.proto.json_args) for c in at.get("component_instance")
            if c.proto.component_name.endswith("pm_diagram")]


def svgs(at: AppTest) -> list[str]:
    """The SVG drawings shown in the diagram viewers."""
    return [v["svg"] for v in viewers(at)]


def texts(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown if "<svg" not in m.value] + [c.value for c in at.caption]
                     + [e.value for e in at.error] + [i.value for i in at.info]
                     + [w.value for w in at.warning])


def test_every_page_opens_without_a_log() -> None:
    at = app_with(None).run()
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, page
        if page != "app_pages/load.py":
            assert at.info[0].value.startswith("No event log loaded yet"), page
        else:
            assert "No log loaded yet" in texts(at)


def test_every_page_opens_with_a_log() -> None:
    at = app_with(small_log()).run()
    # what each page must show for the five-ticket log
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, page
        assert not at.error, (page, [e.value for e in at.error])
        metric = {m.label: m.value for m in at.metric}
        if page == "app_pages/load.py":
            assert metric["Events"] == "21" and at.subheader[0].value == "Ingest report — tickets.csv"
        elif page == "app_pages/quality.py":
            assert at.title[0].value == "Data quality" and metric["Overall score"].endswith("/ 100")
        elif page == "app_pages/process_map.py":
            assert svgs(at)[0].count('class="node"') == 5 + 2
        elif page == "app_pages/bottlenecks.py":
            assert metric["Cases"] == "5"
            assert {d.value.iloc[0]["kind"] for d in at.dataframe if "kind" in d.value.columns} == \
                {"arc", "waiting before"}  # the two tables of the ranking, apart
        elif page == "app_pages/cases.py":
            events = next(d.value for d in at.dataframe if "since start (days)" in d.value.columns)
            assert events["concept:name"].tolist() == ["Open", "1st Line Support", "Resolved", "Closed"]  # T1
            assert events["since start (days)"].round(4).tolist() == [0, 0.2083, 0.4167, 0.625]  # 5 h apart
        else:
            assert at.title[0].value == "Conformance"
            # nothing runs by itself: no KPI until the user asks for the check
            assert "Fitness" not in metric


def test_load_page_shows_the_log_numbers() -> None:
    at = app_with(small_log()).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Events"] == "21"
    assert metrics["Cases"] == "5"
    assert metrics["Activities"] == "5"
    assert metrics["From"] == "2024-03-01"


def test_upload_over_the_size_limit_is_refused() -> None:
    # BAD_INPUTS 30: the browser refuses big files; the page refuses them too
    from streamlit import config

    at = app_with(None).run()
    before = config.get_option("server.maxUploadSize")
    config.set_option("server.maxUploadSize", 1)
    at.file_uploader(key="load_upload").upload("big.csv", b"a,b\n" + b"1,2\n" * 300_000, "text/csv")
    try:
        at.run()
    finally:
        config.set_option("server.maxUploadSize", before)
    assert not at.exception
    assert len(at.error) == 1
    assert "big.csv: the file is 1 MB, over the 1 MB upload limit" in at.error[0].value


def test_an_unexpected_error_in_a_page_is_a_friendly_message(monkeypatch: pytest.MonkeyPatch) -> None:
    # BAD_INPUTS 30: an exception inside a page -> a message, no traceback
    from processmining import discovery

    def broken(log: EventLog) -> None:
        raise RuntimeError("internal detail /srv/secret")

    monkeypatch.setattr(discovery, "process_map", broken)
    at = app_with(small_log()).run()
    at.switch_page("app_pages/process_map.py").run()
    assert not at.exception
    assert len(at.error) == 1
    assert at.error[0].value.startswith("**Something went wrong while preparing this view (RuntimeError).**")
    assert "secret" not in at.error[0].value


def test_a_second_session_does_not_see_the_first_sessions_log() -> None:
    # BAD_INPUTS 30: nothing reaches another session through a cache
    first = app_with(small_log()).run()
    first.switch_page("app_pages/process_map.py").run()
    assert not first.exception
    second = app_with(None).run()
    second.switch_page("app_pages/process_map.py").run()
    assert second.info[0].value.startswith("No event log loaded yet")
    assert "tickets.csv" not in texts(second)


def test_two_sessions_on_the_same_log_share_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # the same EventLog object in two sessions: each computes its own map (a shared cache,
    # e.g. st.cache_data or a module global, would serve the second one without a call),
    # and the first session's saved view is not in the second
    from processmining import discovery

    calls: list[int] = []
    original = discovery.process_map

    def counting(log: EventLog):  # noqa: ANN202
        calls.append(id(log))
        return original(log)

    monkeypatch.setattr(discovery, "process_map", counting)
    log = small_log()
    first = app_with(log).run()
    first.switch_page("app_pages/process_map.py").run()
    first.toggle(key="keep_map_workshop").set_value(True).run()
    first.text_input(key="ws_view_name").input("Mine").run()
    first.button(key="ws_save").click().run()
    assert "View 1 of 1: Mine" in texts(first)
    n_first = len(calls)
    assert n_first >= 1
    second = app_with(log).run()
    second.switch_page("app_pages/process_map.py").run()
    assert len(calls) == n_first + 1 and calls[-1] == id(log)  # computed again, for this session
    second.toggle(key="keep_map_workshop").set_value(True).run()
    assert "No saved views yet" in texts(second)
    assert "Mine" not in texts(second)


def test_process_map_draws_svg_and_the_sliders_cut_it() -> None:
    at = app_with(small_log()).run()
    at.switch_page("app_pages/process_map.py").run()
    maps = svgs(at)
    assert len(maps) == 1 and maps[0].count('class="node"') == 5 + 2  # 5 activities, start and end
    # a 5-activity map is shown whole; 3 variants: main path (3 cases), ping-pong, skip
    assert "5 of 5 activities, 6 of 6 paths" in texts(at)
    assert at.dataframe(key="map_variants").value["cases"].tolist() == [3, 1, 1]
    at.slider(key="keep_map_act").set_value(40).run()  # 2 of 5 activities
    assert not at.exception
    caption = next(c.value for c in at.caption if " of 5 activities" in c.value)
    # the two most frequent stay; the map stays connected from start to end through two more
    assert caption.startswith("2 of 5 activities, 3 of 6 paths; 2 more kept to connect the map: ")
    at.radio(key="keep_map_mode").set_value("performance").run()
    assert not at.exception and len(svgs(at)) == 1


def test_workshop_mode_saves_views_and_steps_through_them() -> None:
    at = app_with(small_log()).run()
    at.switch_page("app_pages/process_map.py").run()
    at.toggle(key="keep_map_workshop").set_value(True).run()
    assert not at.title  # full-width map: no page title, no tables
    at.text_input(key="ws_view_name").input("Everything").run()
    at.button(key="ws_save").click().run()
    at.slider(key="keep_map_act").set_value(40).run()
    at.text_input(key="ws_view_name").input("Main steps").run()
    at.button(key="ws_save").click().run()
    assert "View 2 of 2: Main steps" in texts(at)
    at.button(key="ws_prev").click().run()
    assert "View 1 of 2: Everything" in texts(at)
    assert at.slider(key="keep_map_act").value == 100
    at.button(key="ws_next").click().run()
    assert at.slider(key="keep_map_act").value == 40


def test_filters_apply_to_the_map_and_survive_a_page_switch() -> None:
    at = app_with(small_log()).run()
    at.switch_page("app_pages/process_map.py").run()
    at.multiselect(key="keep_flt_variants").set_value(["V1"]).run()
    assert "12 events · 3 cases · filtered: variants V1" in texts(at)  # V1: 3 main-path cases × 4 events
    at.switch_page("app_pages/bottlenecks.py").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Cases"] == "3"


def test_upload_map_columns_and_see_quarantined_rows() -> None:
    # a plain table no preset knows: the user maps the columns; one row has a broken date
    csv = (b"Ticket ID,Status,Changed At,Agent\n"
           b"T1,Open,2024-03-01 09:00,ann\nT1,Closed,2024-03-02 10:00,bob\n"
           b"T2,Open,2024-03-01 09:00,ann\nT2,Closed,not a date,bob\n")
    at = app_with(None).run()
    at.file_uploader(key="load_upload").upload("tickets.csv", csv, "text/csv")
    at.run()
    assert at.selectbox(key="load_preset").value == "Auto-detect"
    types = next(d.value for d in at.dataframe if "detected type" in d.value.columns).set_index("column")
    assert types.loc["Changed At", "detected type"] == "date / time (25% not readable)"
    assert types.loc["Status", "detected type"] == "text"
    at.selectbox(key="load_preset").set_value("Map the columns myself").run()
    for role, column in (("case", "Ticket ID"), ("activity", "Status"), ("timestamp", "Changed At"),
                         ("resource", "Agent")):
        at.selectbox(key=f"load_map_{role}").set_value(column)
    at.run()
    at.button(key="load_upload_btn").click().run()
    assert not at.exception and not at.error
    assert at.success[0].value.startswith("Loaded **tickets.csv**: 3 events in 2 cases.")
    quarantined = next(d.value for d in at.dataframe if "reason" in d.value.columns)
    assert quarantined.to_dict("records") == [{"row": 5, "reason": "not a recognised date/time: 'not a date'",
                                               "column": "Changed At", "value": "not a date"}]
    assert {b.label for b in at.get("download_button")} >= {"Download CSV", "Download XLSX",
                                                            "Download the ingest report (JSON)"}
