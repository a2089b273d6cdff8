"""Process map page: the directly-follows map with sliders, filters, variants and workshop mode."""

from __future__ import annotations

import streamlit as st

from app_pages._guards import require_library, require_log

st.title("Process map")
cur = require_log()
discovery, render = require_library("discovery", "render", feature="The process map")
