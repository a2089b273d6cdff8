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


def _on_pseudo_key() -> None:
    st.session_state[app_state.PSEUDO_KEY] = st.session_state.get("pseudo_key_input") or ""


def pseudonymise_box() -> None:
    """The session's switch: every download pseudonymised (case ids and people as keyed hashes), as the CLI's
    ``--pseudonymize`` does. The key stays in this browser session only (never in the workspace file)."""
    with st.sidebar.expander("Privacy", expanded=bool(st.session_state.get(app_state.PSEUDO_ON))):
        on = st.toggle("Pseudonymise every download", key=app_state.PSEUDO_ON,
                       help="Case ids and resource names become keyed hashes (HMAC-SHA256) in every file this "
                            "session downloads: tables, reports, the fixed log, the workspace.")
        if st.session_state.get("pseudo_key_input") != st.session_state.get(app_state.PSEUDO_KEY):
            st.session_state["pseudo_key_input"] = st.session_state.get(app_state.PSEUDO_KEY, "")
        st.text_input("Key (optional)", type="password", key="pseudo_key_input", on_change=_on_pseudo_key,
                      disabled=not on, placeholder="empty: a random key for this session",
                      help="The same key gives the same pseudonyms, so files made with it can be joined.")
        if on:
            st.caption("On: no case id or resource name leaves this session in a download"
                       + ("." if st.session_state.get(app_state.PSEUDO_KEY) else
                          " (a random key of this session: pseudonyms match only within it)."))
