"""The diagram viewer: an SVG in place that fits, zooms and pans, reports clicks, steps views, plays tokens.

A local Streamlit component (``app_pages/static/diagram/``: one HTML file and
the vendored svg-pan-zoom library with its licence), so nothing is fetched
from the network. The SVG must come from our renderers (graphviz, the BPMN
drawer), which escape every label taken from the data.

The component's value is the last user event, ``{"type": "click", "kind":
"node" | "arc" | "element", "id": ..., "nonce": n}`` or ``{"type": "key",
"action": "next" | "prev", "nonce": n}``; :func:`new_event` returns each
event once.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import streamlit as st
import streamlit.components.v1 as components

_COMPONENT = components.declare_component("pm_diagram", path=str(Path(__file__).parent / "static" / "diagram"))
_COMMENTS = re.compile(r"<!--.*?-->", re.S)
_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)


def clean_svg(svg: str) -> str:
    """The ``<svg>`` element alone: no XML prolog, DOCTYPE or comments."""
    return _COMMENTS.sub("", _PROLOG.sub("", svg, count=1))


def diagram(svg: str, *, key: str, height: int = 620, min_font_px: float = 0.0, keyboard_views: bool = False,
            presenter: bool = False, tokens: dict[str, Any] | None = None, hint: str = "",
            on_change: Any = None) -> dict[str, Any] | None:
    """Draw ``svg`` in the viewer; return its last event (a dict) or ``None``.

    ``min_font_px``: the default zoom is the whole diagram, unless its smallest
    label would then be below this many pixels: then it zooms in that far and
    starts at the top left. ``keyboard_views``: arrow keys / PageUp / PageDown
    send ``next`` / ``prev``. ``presenter``: the viewer takes the window's height.
    ``tokens``: animation data from :func:`processmining.animation.token_segments`
    (see :func:`animation_args`).
    """
    return _COMPONENT(svg=clean_svg(svg), height=height, min_font_px=min_font_px, keyboard_views=keyboard_views,
                      presenter=presenter, tokens=tokens, hint=hint, key=key, default=None,
                      on_change=on_change)


def new_event(key: str) -> dict[str, Any] | None:
    """The viewer's event under ``key`` if it was not handled yet (each nonce once per session)."""
    value = st.session_state.get(key)
    if not isinstance(value, dict) or "nonce" not in value:
        return None
    seen = st.session_state.setdefault("pm:diagram_seen", {})
    if seen.get(key) == value["nonce"]:
        return None
    seen[key] = value["nonce"]
    return value
