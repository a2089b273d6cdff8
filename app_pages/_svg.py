"""Inline SVG in a page, so maps and diagrams are real SVG elements (zoomable, searchable, hover titles).

``st.html`` strips SVG, ``st.image`` turns it into a picture; Markdown with
HTML keeps it. The SVG must come from our renderers (graphviz, the BPMN
drawer), which escape every label taken from the data.
"""

from __future__ import annotations

import re

import streamlit as st

_COMMENTS = re.compile(r"<!--.*?-->", re.S)
_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)


def show_svg(svg: str, *, css_class: str, fit: bool = True, height: int | None = None) -> None:
    """Draw ``svg`` inside ``<div class="{css_class}">``; ``fit`` scales it down to the page width."""
    body = _COMMENTS.sub("", _PROLOG.sub("", svg, count=1)).replace("\n", " ")
    size = "max-width:100%;height:auto;" if fit else ""
    box = f"max-height:{height}px;" if height else ""
    st.markdown(
        f"<style>.{css_class} svg{{{size}}}</style>"
        f'<div class="{css_class}" style="width:100%;overflow:auto;text-align:center;{box}">{body}</div>',
        unsafe_allow_html=True,
    )
