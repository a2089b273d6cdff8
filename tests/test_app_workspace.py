"""The app's drill-down, new sidebar filters, animation data and the workspace file (AppTest, small logs)."""

from __future__ import annotations

import json

from test_app import app_with, small_log, svgs, texts, viewers

from app_pages import _state as app_state
from app_pages import _workspace as ws
from processmining import animation
from processmining.model import CASE, EventLog


def test_a_map_selection_filters_to_the_cases_through_an_arc() -> None:
    at = app_with(small_log()).run()
    at.switch_page("app_pages/process_map.py").run()
    at.session_state["keep_flt_drill"] = ("arc", "1st Line Support", "2nd Line Support")  # what a click on the arc sets
    at.run()
    assert not at.exception
    # only T4 goes from the 1st to the 2nd line (6 events)
    assert "6 events · 1 cases · filtered: cases passing 1st Line Support → 2nd Line Support" in texts(at)
    at.sidebar.button(key="flt_drill_clear").click().run()
    assert "21 events · 5 cases · all cases" in texts(at)


def test_a_node_selection_and_the_new_sidebar_filters() -> None:
    at = app_with(small_log()).run()
    at.switch_page("app_pages/bottlenecks.py").run()
    at.session_state["keep_flt_drill"] = ("node", "2nd Line Support")
    at.run()
    assert {m.label: m.value for m in at.metric}["Cases"] == "1"
    at.sidebar.button(key="flt_drill_clear").click().run()
    # cases without the support line: T5 only
    at.sidebar.multiselect(key="keep_flt_with").set_value(["1st Line Support"]).run()
    at.sidebar.radio(key="keep_flt_with_how").set_value("without").run()
    assert {m.label: m.value for m in at.metric}["Cases"] == "1"
    assert "filtered: cases without 1st Line Support" in texts(at)
    at.sidebar.multiselect(key="keep_flt_with").set_value([]).run()
    # duration: T4 (6 events, 25 h) is the only case of more than 20 h; T1-T3 last 15 h, T5 10 h
    at.sidebar.toggle(key="keep_flt_dur_on").set_value(True).run()
    at.sidebar.number_input(key="keep_flt_dur_lo").set_value(20 / 24).run()
    assert {m.label: m.value for m in at.metric}["Cases"] == "1"


def test_a_numeric_range_filter_on_an_amount() -> None:
    log = small_log()
    df = log.df.copy()
    df["case:Amount"] = df[CASE].map({"T1": 100.0, "T2": 2500.0, "T3": 9000.0, "T4": 50.0, "T5": 7000.0})
    at = app_with(EventLog.from_frame(df, name="tickets.csv")).run()
    at.switch_page("app_pages/process_map.py").run()
    at.sidebar.toggle(key="keep_flt_num_on").set_value(True).run()
    at.sidebar.number_input(key="keep_flt_num_lo").set_value(2000.0).run()
    assert "filtered: case:Amount ≥ 2,000" in texts(at)
    assert " · 3 cases · " in texts(at)  # T2, T3, T5


def test_the_animation_sends_every_move_on_the_drawn_arcs() -> None:
    at = app_with(small_log()).run()
    at.switch_page("app_pages/process_map.py").run()
    at.toggle(key="keep_map_anim").set_value(True).run()
    assert not at.exception
    tokens = viewers(at)[0]["tokens"]
    # 16 moves: 3 per main-path case (9), 5 for T4, 2 for T5
    assert len(tokens["t0"]) == 16 and tokens["note"] == "all 5 cases, 16 moves"
    assert set(tokens["arcs"]) <= set(animation.edge_polylines(svgs(at)[0]))  # every arc is drawn
    assert "Animation: all 5 cases, 16 moves." in texts(at)


def _views_and_accepted(at) -> None:  # noqa: ANN001
    at.switch_page("app_pages/process_map.py").run()
    at.toggle(key="keep_map_workshop").set_value(True).run()
    at.text_input(key="ws_view_name").input("Everything").run()
    at.button(key="ws_save").click().run()
    at.slider(key="keep_map_act").set_value(40).run()
    at.text_input(key="ws_view_name").input("Main steps").run()
    at.button(key="ws_save").click().run()


def test_a_downloaded_workspace_restores_views_and_accepted_deviations_in_a_fresh_session() -> None:
    first = app_with(small_log()).run()
    _views_and_accepted(first)
    first.session_state["pm:cf_accepted:abc123"] = [{"kind": "missing", "activity": "Resolved", "rule_id": None,
                                                    "reason": "phone fix"}]
    first.run()
    # the end activities edited on the Bottlenecks page travel too (issue #10)
    fp = app_state.current(state={k: first.session_state[k] for k in ("pm:logs", "pm:current")}).fingerprint
    first.session_state["pm:ends"] = {fp: {"ends": ["Resolved"], "source": "edited"}}
    state = {k: first.session_state[k] for k in ("pm:views", "pm:cf_accepted:abc123", "pm:logs", "pm:ends")}
    doc = json.loads(ws.dump(state))
    assert doc["end_activities"] == {fp: ["Resolved"]}
    assert doc["format"] == "processmining-workspace" and doc["version"] == 1
    assert doc["provenance"]["inputs"]["log tickets.csv"].startswith("tickets.csv sha256:")
    fresh = app_with(small_log()).run()
    fresh.sidebar.file_uploader(key="ws_upload").upload("processmining-workspace.json", ws.dump(state).encode(),
                                                        "application/json")
    fresh.run()
    assert ("Restored 2 saved views, 1 accepted deviation patterns, 0 label mappings, 0 rule sets and edited end "
            "activities of 1 log.") in [s.value for s in fresh.sidebar.success]
    assert fresh.session_state["pm:ends"][fp] == {"ends": ["Resolved"], "source": "edited"}
    fresh.switch_page("app_pages/process_map.py").run()
    fresh.toggle(key="keep_map_workshop").set_value(True).run()
    fresh.button(key="ws_next").click().run()
    assert "View 2 of 2: Main steps" in texts(fresh)
    assert fresh.slider(key="keep_map_act").value == 40
    assert fresh.session_state["pm:cf_accepted:abc123"][0]["reason"] == "phone fix"


def test_a_file_that_is_not_a_workspace_is_refused_with_its_name() -> None:
    at = app_with(small_log()).run()
    at.sidebar.file_uploader(key="ws_upload").upload("notes.json", b'{"hello": 1}', "application/json")
    at.run()
    assert not at.exception
    assert at.error[0].value.startswith('**notes.json: not a workspace file: no "format": "processmining-workspace"**')


def test_the_workspace_is_saved_in_the_data_folder_and_comes_back_on_reload(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv(ws.DATA_DIR_ENV, str(tmp_path))
    first = app_with(small_log()).run()
    token = first.query_params["ws"]
    token = token[0] if isinstance(token, list) else token
    _views_and_accepted(first)
    first.run()  # the last click's page stopped early: saved at the next run
    saved = json.loads((tmp_path / "workspaces" / f"{token}.json").read_text())
    assert [v["name"] for v in next(iter(saved["views"].values()))] == ["Everything", "Main steps"]
    # a reload: a new session with the same address
    again = app_with(small_log())
    again.query_params["ws"] = token
    again.run()
    again.switch_page("app_pages/process_map.py").run()
    again.toggle(key="keep_map_workshop").set_value(True).run()
    assert "View 1 of 2: Everything" in texts(again)
    # another user (no token, or another one) starts empty
    other = app_with(small_log()).run()
    other_token = other.query_params["ws"]
    assert other_token != first.query_params["ws"]
    other.switch_page("app_pages/process_map.py").run()
    other.toggle(key="keep_map_workshop").set_value(True).run()
    assert "No saved views yet" in texts(other)
    assert ws.autosave_path("../../etc/passwd") is None  # a token is never a path

