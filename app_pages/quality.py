"""Data quality page: the log audit (is the log itself trustworthy?)."""

from __future__ import annotations

import streamlit as st

from app_pages._guards import require_library, require_log

st.title("Data quality")
cur = require_log()
(quality,) = require_library("quality", feature="The data-quality audit")
