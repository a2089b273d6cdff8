"""The result half of the Conformance page: rules, KPIs, the diagram with overlays, the deviation table.

Widgets only: conformance, rules, overlays and exports are computed by
:mod:`processmining.conformance`, :mod:`processmining.rules`,
:mod:`processmining.bpmn` and :mod:`processmining.export`.
"""

from __future__ import annotations

import hashlib
from typing import Any

import streamlit as st

from processmining import app_state

KIND_LABEL = {"missing": "skipped (missing)", "unexpected": "unexpected", "out_of_order": "out of order",
              "rule": "rule broken", "not_computed": "not computed"}


# ------------------------------------------------------------------ rules
def rules_section(model_name: str) -> tuple[str, Any]:
    """The YAML rule editor; returns ``(yaml text, parsed rules or None)``; messages shown in place."""
    from processmining import rules as rules_mod

    stem = model_name.rsplit(".", 1)[0]
    key = f"keep_cf_rules_{hashlib.sha1(stem.encode()).hexdigest()[:8]}"
    if key not in st.session_state:
        default = app_state.MODEL_DIR / f"{stem}.rules.yaml"
        st.session_state[key] = default.read_text(encoding="utf-8") if default.is_file() else ""
    with st.expander("Audit rules (YAML)", expanded=False):
        st.caption("Segregation of duties, four eyes, time limits, precedence, response, existence, absence, "
                   "roles and backward moves, checked per case next to the model. Edit and the check reruns.")
        text = st.text_area("Rules", key=key, height=260, label_visibility="collapsed")
        parsed = None
        if text.strip():
            try:
                parsed = rules_mod.parse_rules(text, source="rules editor")
            except app_state.ProcessMiningError as exc:
                st.error(f"{exc}\n\nThe check below runs without rules until this is fixed.")
            else:
                st.success(f"{len(parsed)} rules valid.")
    return text, parsed
