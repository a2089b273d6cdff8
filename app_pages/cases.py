"""Cases page: the dotted chart of the (filtered) log, and one case in detail (timeline, attributes, deviations)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app_pages import _state as app_state
from app_pages._filters import filtered_page
from app_pages._status import end_activities_editor
from app_pages._tables import readable
from processmining import selection
from processmining.ingest.presets import analysis_defaults
from processmining.model import CASE
from processmining.status import case_status, status_note

#: the dotted chart draws at most this many cases (a seeded sample beyond, said so)
DOTTED_MAX_CASES = 1500

cur, view = filtered_page("Cases")
log = view.log

# ------------------------------------------------------------------ case status
with st.expander("Case status: which cases are finished, running or stuck", expanded=False):
    left_s, right_s = st.columns(2)
    ends = end_activities_editor(cur, container=left_s)
    if "keep_bn_idle" not in st.session_state:  # the Bottlenecks page's setting, shared
        preset = cur.log.report.preset if cur.log.report else None
        st.session_state["keep_bn_idle"] = analysis_defaults(preset).get("idle", "30d")
    idle = right_s.text_input("Stuck: no event for longer than", key="keep_bn_idle", help="e.g. 14d, 60d, 12h")
status = None
with app_state.friendly_errors():
    status = app_state.cached("case_status", (view.key, ends, idle), lambda: case_status(
        log, end_activities=ends, idle=idle or None), scope=cur.fingerprint)
    st.caption(status_note(status))

# ------------------------------------------------------------------ dotted chart
st.subheader("Dotted chart")
dots, total = app_state.cached("dotted", view.key, lambda: selection.dotted_chart(log, max_cases=DOTTED_MAX_CASES),
                               scope=cur.fingerprint)
shown = dots["case"].nunique()
st.caption("Every event as a dot: time across, one row per case (cases by start time), colour = activity."
           + (f" A sample of {shown:,} of {total:,} cases." if shown < total else f" All {total:,} cases."))
st.altair_chart(
    alt.Chart(dots).mark_circle(size=14, opacity=0.8).encode(
        x=alt.X("time:T", title=None), y=alt.Y("row:Q", title="cases (first started at the top)", axis=alt.Axis(labels=False),
                                      scale=alt.Scale(reverse=True)),
        color=alt.Color("activity:N", legend=alt.Legend(orient="bottom", columns=4)),
        tooltip=["case:N", "activity:N", "time:T"]).properties(height=420),
    width="stretch", key="cases_dotted")

# ------------------------------------------------------------------ one case
st.subheader("One case")
case_ids = app_state.cached("case_ids", view.key, lambda: sorted(map(str, log.df[CASE].unique())),
                            scope=cur.fingerprint)
if st.session_state.get("keep_case_pick") not in case_ids:
    st.session_state["keep_case_pick"] = case_ids[0]
case_id = st.selectbox(f"Case ({len(case_ids):,} in the selection)", case_ids, key="keep_case_pick")
events = selection.case_events(log, case_id)
attrs = selection.case_attributes(log, case_id)
left, right = st.columns([3, 1])
with left:
    pts = pd.DataFrame({"activity": events["concept:name"], "time": events["time:timestamp"],
                        "resource": events.get("org:resource", "")})
    y = alt.Y("activity:N", title=None, sort=None)
    st.altair_chart(
        alt.Chart(pts).mark_line(color="#9aa5b1").encode(x=alt.X("time:T", title=None), y=y)
        + alt.Chart(pts).mark_circle(size=120).encode(x="time:T", y=y, tooltip=["activity", "time:T", "resource"]),
        width="stretch", key="cases_timeline")
with right:
    span = events["time:timestamp"].iloc[-1] - events["time:timestamp"].iloc[0]
    st.metric("Duration", f"{span.total_seconds() / 86400:.1f} d")
    st.metric("Events", f"{len(events):,}")
    if status is not None:
        mine_status = status.loc[status["case"].astype(str) == case_id, "status"]
        st.metric("Status", mine_status.iloc[0] if len(mine_status) else "–",
                  help="From the end activities and the idle limit under Case status above.")
    if attrs:
        st.dataframe(pd.DataFrame({"attribute": [k.removeprefix("case:") for k in attrs],
                                   "value": [str(v) for v in attrs.values()]}),
                     hide_index=True, key="cases_attrs")
st.dataframe(readable(events.drop(columns=[c for c in events.columns if c.startswith("case:")])),
             hide_index=True, key="cases_events")
dev = st.session_state.get("pm:cf_last", {}).get(cur.fingerprint)
if dev is None:
    st.caption("Deviations: check conformance on the Conformance page to see this case's deviations here.")
else:
    mine = dev[dev["case_id"].astype(str) == case_id]
    st.markdown(f"**Deviations of this case** ({len(mine):,})" if len(mine) else "**No deviation** in this case.")
    if len(mine):
        st.dataframe(mine, hide_index=True, key="cases_deviations")
