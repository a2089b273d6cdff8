"""The sidebar part every page shares: which loaded log is analysed."""

from __future__ import annotations

import html

import streamlit as st

from app_pages import _state as app_state


def _on_pick() -> None:
    app_state.select(st.session_state["sidebar_log"])


def log_switcher() -> None:
    """A selector of the logs loaded in this session (a caption when there is only one)."""
    logs = app_state.loaded_logs()
    cur = app_state.current()
    if not logs or cur is None:
        st.sidebar.caption("No log loaded yet.")
        return
    if len(logs) == 1:
        # a long file name is cut with an ellipsis (full name on hover), never broken mid-word
        name = html.escape(cur.key)
        st.sidebar.markdown(f'<div class="pm-logname" title="{name}" style="white-space:nowrap;overflow:hidden;'
                            f'text-overflow:ellipsis;font-size:0.85rem;color:#555">Log: <b>{name}</b></div>',
                            unsafe_allow_html=True)
        return
    # keep the widget in step when another page changed the current log
    if st.session_state.get("sidebar_log") != cur.key:
        st.session_state["sidebar_log"] = cur.key
    st.sidebar.selectbox("Log", [e.key for e in logs], key="sidebar_log", on_change=_on_pick,
                         help="Logs loaded in this session; load more on the Load page.")
