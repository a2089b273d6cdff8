"""Load page: pick a bundled demo log (upload and mapping arrive with the app issue)."""

from pathlib import Path

import streamlit as st

st.title("processmining")
st.write("Sales- and support-process mining and BPMN conformance.")
demo = sorted(p.name for p in (Path(__file__).resolve().parent.parent / "eventlogs").glob("*.*"))
st.selectbox("Bundled demo logs", demo, key="load_demo_pick")
