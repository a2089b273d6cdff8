"""Page precondition: a loaded log (otherwise a pointer to the Load page)."""

from __future__ import annotations

import streamlit as st

from app_pages import _state as app_state
from app_pages._state import LoadedLog


def require_log() -> LoadedLog:
    """The current log; otherwise a pointer to the Load page, and the page stops."""
    cur = app_state.current()
    if cur is None:
        st.info("No event log loaded yet. Open **Load** to pick a demo log or upload your export.")
        st.page_link("app_pages/load.py", label="Go to Load", icon="📂")
        st.stop()
    return cur
