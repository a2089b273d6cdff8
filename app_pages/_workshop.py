"""Workshop mode of the process map: presenter layout, display options, saved views stepped through in order.

A view is a snapshot of every persistent map and filter widget (keys starting
with ``keep_map_`` or ``keep_flt_``). Views are kept per log (fingerprint) in
this session and travel in the workspace file (:mod:`app_pages._workspace`).
In workshop mode the map viewer sends ``next`` / ``prev`` for the arrow keys
and PageUp / PageDown (what presentation clickers send).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app_pages._filters import FilteredView
from app_pages._state import LoadedLog

PAGES = (("app_pages/load.py", "Load"), ("app_pages/quality.py", "Data quality"),
         ("app_pages/process_map.py", "Process map"), ("app_pages/bottlenecks.py", "Bottlenecks"),
         ("app_pages/cases.py", "Cases"), ("app_pages/conformance.py", "Conformance"),
         ("app_pages/compare.py", "Compare"), ("app_pages/report.py", "Report"))
VIEWS = "pm:views"
VIEW_POS = "pm:view_pos"
_SNAPSHOT_PREFIXES = ("keep_map_", "keep_flt_")
_NOT_IN_VIEWS = ("keep_map_workshop", "keep_map_anon", "keep_map_hide", "keep_map_anim", "keep_map_anim_color")


def _views(fingerprint: str) -> list[dict[str, Any]]:
    return st.session_state.setdefault(VIEWS, {}).setdefault(fingerprint, [])


def _snapshot() -> dict[str, Any]:
    return {k: v for k, v in st.session_state.items()
            if k.startswith(_SNAPSHOT_PREFIXES) and k not in _NOT_IN_VIEWS}


def _save(fingerprint: str) -> None:
    name = (st.session_state.get("ws_view_name") or "").strip()
    views = _views(fingerprint)
    name = name or f"View {len(views) + 1}"
    views[:] = [v for v in views if v["name"] != name]
    views.append({"name": name, "state": _snapshot()})
    st.session_state[VIEW_POS] = len(views) - 1
    st.session_state["ws_view_name"] = ""


def _apply(fingerprint: str, pos: int) -> None:
    views = _views(fingerprint)
    if not views:
        return
    pos = max(0, min(pos, len(views) - 1))
    for k in [k for k in st.session_state if k.startswith("keep_flt_")]:
        del st.session_state[k]  # filters absent from the view are off
    for k, v in views[pos]["state"].items():
        st.session_state[k] = v
    st.session_state[VIEW_POS] = pos


def _delete(fingerprint: str) -> None:
    views = _views(fingerprint)
    pos = st.session_state.get(VIEW_POS, 0)
    if 0 <= pos < len(views):
        del views[pos]
    st.session_state[VIEW_POS] = max(0, min(pos, len(views) - 1))


def step(fingerprint: str, action: str) -> None:
    """Show the next / previous saved view (from the keyboard or a clicker)."""
    pos = st.session_state.get(VIEW_POS, 0)
    _apply(fingerprint, pos + (1 if action == "next" else -1))


def views_of(fingerprint: str) -> list[dict[str, Any]]:
    """The saved views of a log in this session."""
    return list(_views(fingerprint))


def page_links() -> None:
    """The app's pages as one row of links (the sidebar is hidden in workshop mode)."""
    row = st.columns(len(PAGES))
    for (path, title), cell in zip(PAGES, row, strict=False):
        cell.page_link(path, label=title)


def workshop_controls(cur: LoadedLog, view: FilteredView) -> dict[str, bool]:
    """Draw the workshop bar (display options, saved views); return the display options."""
    fp = cur.fingerprint
    views = _views(fp)
    # presenter layout: no sidebar (the filters are in the saved views), no header, little padding
    st.markdown("<style>[data-testid='stSidebar'],[data-testid='stSidebarCollapsedControl'],"
                "[data-testid='stHeader']{display:none}"
                "[data-testid='stMainBlockContainer']{padding-top:0.6rem;padding-bottom:0;max-width:100%}</style>",
                unsafe_allow_html=True)
    pos = st.session_state.get(VIEW_POS, 0)
    bar = st.columns([1.3, 1.5, 2.6, 0.9, 0.9, 1.6], vertical_alignment="center")
    anonymise = bar[0].checkbox("Anonymise", key="keep_map_anon",
                                help="Activities become 'Activity A', 'Activity B', …")
    hide = bar[1].checkbox("Hide numbers", key="keep_map_hide",
                           help="Only the shape of the process; no counts or times on the map.")
    if views:
        bar[2].markdown(f"**View {pos + 1} of {len(views)}: {views[min(pos, len(views) - 1)]['name']}**")
    else:
        bar[2].caption("No saved views yet: set filters and sliders, name the view, save it.")
    bar[3].button("◀ Back", key="ws_prev", on_click=_apply, args=(fp, pos - 1), disabled=pos <= 0 or not views)
    bar[4].button("Next ▶", key="ws_next", on_click=_apply, args=(fp, pos + 1),
                  disabled=not views or pos >= len(views) - 1)
    with bar[5].popover("Saved views", width="stretch"):
        st.text_input("Name of this view", key="ws_view_name", placeholder="e.g. Lost deals, Q2")
        st.button("Save the current view", key="ws_save", on_click=_save, args=(fp,), type="primary")
        if views:
            st.selectbox("Go to", range(len(views)), format_func=lambda i: f"{i + 1}. {views[i]['name']}",
                         key="ws_goto", index=min(pos, len(views) - 1))
            st.button("Show it", key="ws_show", on_click=lambda: _apply(fp, st.session_state["ws_goto"]))
            st.button("Delete the shown view", key="ws_delete", on_click=_delete, args=(fp,))
    st.caption(view.description)
    return {"anonymise": anonymise, "hide_numbers": hide}
