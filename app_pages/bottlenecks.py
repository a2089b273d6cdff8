"""Bottlenecks page: where time goes, SLA breaches, stuck cases, rework, ping-pong, handovers, funnel."""

from __future__ import annotations

import streamlit as st

from app_pages._guards import require_library, require_log

st.title("Bottlenecks")
cur = require_log()
(performance,) = require_library("performance", feature="The bottleneck analysis")
