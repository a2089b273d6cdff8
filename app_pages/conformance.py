"""Conformance page: the reference BPMN diagram with the log's deviations drawn on it."""

from __future__ import annotations

import streamlit as st

from app_pages._guards import require_library, require_log

st.title("Conformance")
cur = require_log()
bpmn, conformance = require_library("bpmn", "conformance", feature="Conformance checking")
