"""Finished / running / stuck: one notion (processmining.status), on small logs and on real ones."""

from __future__ import annotations

import pandas as pd
import pytest

from processmining.model import ACTIVITY, CASE, TIMESTAMP, EventLog
from processmining.performance import stuck_cases
from processmining.status import (
    case_status,
    end_activity_table,
    infer_end_activities,
    running_case_ids,
    status_note,
)


def _log(rows: list[tuple[str, str, str]]) -> EventLog:
    frame = pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP])
    frame[TIMESTAMP] = pd.to_datetime(frame[TIMESTAMP], utc=True)
    return EventLog.from_frame(frame)


# h1..h4 end in Closed (Closed is last wherever it occurs); h5 stops at Resolved (usually followed by Closed),
# silent 40 days by the log's end; h6 stops at Open 2 days before the end
HELPDESK = _log([
    *[(f"h{i}", a, f"2024-01-0{i} 0{j}:00") for i in range(1, 5) for j, a in enumerate(["Open", "Resolved", "Closed"])],
    ("h5", "Open", "2024-01-02 09:00"), ("h5", "Resolved", "2024-01-03 09:00"),
    ("h6", "Open", "2024-02-10 09:00"), ("h7", "Open", "2024-02-12 09:00"), ("h7", "Closed", "2024-02-12 10:00"),
])


def test_end_activities_are_inferred_from_the_data_and_shown():
    assert infer_end_activities(HELPDESK) == ("Closed",)
    table = end_activity_table(HELPDESK).set_index("activity")
    assert table.loc["Closed", "cases_ending"] == 5 and table.loc["Resolved", "share_last"] == pytest.approx(0.2)


def test_stuck_is_running_and_idle_and_never_finished():
    st = case_status(HELPDESK, idle="30d").set_index("case")
    assert st["status"].to_dict() == {"h1": "finished", "h2": "finished", "h3": "finished", "h4": "finished",
                                      "h5": "stuck", "h6": "running", "h7": "finished"}
    assert st.loc["h1", "idle_s"] > 30 * 86400  # idle for long, but finished: never stuck
    assert status_note(case_status(HELPDESK, idle="30d")) == (
        "5 finished, 1 running, 1 stuck cases: finished = last event is Closed (inferred); "
        "stuck = running and no event for more than 30.0 days.")
    assert running_case_ids(HELPDESK, end_activities=["Closed"]) == ["h5", "h6"]
    assert running_case_ids(HELPDESK) == []  # 7 cases are too few to infer from for conformance


def test_status_table_from_python_objects_as_from_the_log():
    # the local engine passes Arrow-backed columns, the Spark engine object arrays: one table either way
    import numpy as np

    from processmining.status import status_table

    st = case_status(HELPDESK, idle="30d")
    assert [str(d) for d in st.dtypes] == ["str", "str", "datetime64[ns, UTC]", "float64", "str"]
    assert st["last_time"].tolist()[4:6] == [pd.Timestamp("2024-01-03 09:00", tz="UTC"),
                                             pd.Timestamp("2024-02-10 09:00", tz="UTC")]
    t = st["last_time"].astype("int64").to_numpy() / 1e9
    spark_like = status_table(np.array([f"h{i}" for i in range(1, 8)], dtype=object),
                              np.array(["Closed"] * 4 + ["Resolved", "Open", "Closed"], dtype=object), t,
                              ends=("Closed",), source="inferred", limit=30 * 86400.0, now=st["idle_s"].iloc[0] + t[0])
    pd.testing.assert_frame_equal(spark_like, st, check_exact=True)


def test_no_dominant_end_means_unknown_not_stuck():
    log = _log([("a", "X", "2024-01-01"), ("a", "Y", "2024-01-02"), ("b", "Y", "2024-01-01"),
                ("b", "X", "2024-03-02")])
    st = case_status(log, idle="1d")
    assert st["status"].tolist() == ["unknown", "unknown"] and st.attrs["end_source"] == "none"
    assert stuck_cases(log, idle="1d").empty
    assert running_case_ids(log) == [] and running_case_ids(log, fallback=["Y"]) == ["b"]


@pytest.mark.slow
def test_bpic2013_no_finished_case_is_stuck(shared_datasets):
    from processmining.ingest import read_log

    log = read_log(shared_datasets / "real" / "bpic2013_incidents.xes.gz")
    st = case_status(log, idle="30d")
    assert st.attrs["end_activities"] == ("Completed",) and st.attrs["end_source"] == "inferred"
    assert st["status"].value_counts().to_dict() == {"finished": 7546, "running": 8}
    stuck = stuck_cases(log, idle="30d")
    assert stuck.empty  # the 8 running ones were active within 30 days of the log's end
    last = log.df.groupby(CASE, sort=False)[ACTIVITY].last()
    finished = set(last[last == "Completed"].index)
    assert not finished & set(stuck_cases(log, idle="1d")["case"])
    running = st[st["status"] == "running"]
    assert len(stuck_cases(log, idle="1d")) == int((running["idle_s"] > 86400).sum())
