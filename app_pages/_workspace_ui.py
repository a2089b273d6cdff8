"""The sidebar's workspace box: download the workspace, upload one, and the automatic save when configured."""

from __future__ import annotations

import hashlib

import streamlit as st

from app_pages import _state as app_state
from app_pages import _workspace as ws


def start_autosave() -> str | None:
    """With a writable data folder: the session's token (kept in the address), its saved workspace restored."""
    if ws.data_dir() is None:
        return None
    token = st.query_params.get("ws")
    if not token or ws.autosave_path(token) is None:
        token = ws.new_token()
        st.query_params["ws"] = token
    with app_state.friendly_errors():
        got = ws.autoload(token)
        if got:
            st.toast(f"Workspace restored: {got['views']} saved views, {got['accepted']} accepted patterns.")
    return token


def finish_autosave(token: str | None) -> None:
    if token is not None:
        ws.autosave(token)


def workspace_box(token: str | None) -> None:
    """Download / upload the workspace (saved views, accepted deviations, rules, roles, label mappings)."""
    with st.sidebar.expander("Workspace", expanded=False):
        st.caption("Saved views, accepted deviations, rule and role edits and label mappings, as one file "
                   "with the provenance of the logs they were made on.")
        pseudo = app_state.pseudo_key() is not None
        if pseudo:
            st.caption("Pseudonymised: names in saved views and provenance are keyed hashes in the file.")
        st.download_button("Download the workspace", ws.dump(pseudonymise=pseudo).encode("utf-8"),  # built now: a deferred one runs outside the session
                           file_name="processmining-workspace.json", mime="application/json",
                           key="ws_download", on_click="ignore", width="stretch")
        up = st.file_uploader("Restore a workspace file", type=["json"], key="ws_upload")
        if up is not None:
            data = up.getvalue()
            digest = hashlib.sha256(data).hexdigest()
            if st.session_state.get("pm:ws_uploaded") != digest:
                with app_state.friendly_errors():
                    got = ws.restore(ws.parse(data, name=up.name))
                    st.session_state["pm:ws_uploaded"] = digest
                    st.session_state["pm:ws_msg"] = (f"Restored {got['views']} saved views, {got['accepted']} "
                                                     f"accepted deviation patterns, {got['label_mappings']} label "
                                                     f"mappings, {got['rules']} rule sets and edited end activities "
                                                     f"of {got['end_activities']} log"
                                                     f"{'' if got['end_activities'] == 1 else 's'}.")
            if st.session_state.get("pm:ws_msg"):
                st.success(st.session_state["pm:ws_msg"])
        if token is not None:
            st.caption("Saved automatically in the data folder; this page's address brings it back.")
