"""Page preconditions: a loaded log, and the library part a page is built on."""

from __future__ import annotations

import importlib
from types import ModuleType

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


def require_library(*names: str, feature: str, needs: tuple[str, ...] = ()) -> list[ModuleType]:
    """Import ``processmining.<name>`` modules; when one is missing say so and stop the page.

    ``needs`` names functions the last module must provide (a module can exist
    before its public functions do).
    """
    modules = []
    for name in names:
        try:
            modules.append(importlib.import_module(f"processmining.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"processmining.{name}":
                raise
            st.info(f"{feature} is not available in this build (the `processmining.{name}` "
                    "module is not installed).")
            st.stop()
    missing = [n for n in needs if not hasattr(modules[-1], n)]
    if missing:
        st.info(f"{feature} is not available in this build (`processmining.{names[-1]}` has no "
                f"{', '.join(missing)}).")
        st.stop()
    return modules


def optional_library(name: str) -> ModuleType | None:
    """``processmining.<name>``, or ``None`` when this build does not have it."""
    try:
        return importlib.import_module(f"processmining.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"processmining.{name}":
            raise
        return None
