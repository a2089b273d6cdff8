"""Streamlit entry point: the router only. Pages live in app_pages/, logic in processmining/.

Run with ``streamlit run app.py``; the first bundled demo log is loaded on start.
"""

from __future__ import annotations

import streamlit as st

from app_pages import _state as app_state
from app_pages._sidebar import log_switcher, pseudonymise_box
from app_pages._workspace_ui import finish_autosave, start_autosave, workspace_box

st.set_page_config(page_title="processmining", page_icon="🔀", layout="wide")

pages = [
    st.Page("app_pages/load.py", title="Load", icon=":material/upload_file:", default=True),
    st.Page("app_pages/quality.py", title="Data quality", icon=":material/fact_check:"),
    st.Page("app_pages/process_map.py", title="Process map", icon=":material/account_tree:"),
    st.Page("app_pages/bottlenecks.py", title="Bottlenecks", icon=":material/hourglass_bottom:"),
    st.Page("app_pages/cases.py", title="Cases", icon=":material/timeline:"),
    st.Page("app_pages/conformance.py", title="Conformance", icon=":material/rule:"),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("app_pages/report.py", title="Report", icon=":material/description:"),
]
page = st.navigation(pages)

# Streamlit forgets a widget's value when its page is not shown; keys starting with
# "keep_" (map sliders, filters, workshop options) survive page switches this way.
for key in [k for k in st.session_state if str(k).startswith("keep_")]:
    st.session_state[key] = st.session_state[key]

with app_state.friendly_errors():
    if not st.session_state.get(app_state.DEMO_TRIED):
        with st.spinner("Loading the demo log…"):
            app_state.ensure_demo_loaded()
token = start_autosave()
log_switcher()
pseudonymise_box()
workspace_box(token)
# saved before the page (what the callbacks of the click just changed) and after it when it ran
# to its end (a page that called st.stop() is saved at the next run)
finish_autosave(token)
with app_state.friendly_errors():
    page.run()
finish_autosave(token)
