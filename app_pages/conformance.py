"""Conformance page: the reference BPMN diagram with the log's deviations drawn on it."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from app_pages._guards import require_library, require_log
from processmining import app_state

#: the reference model that fits each demo export layout
PRESET_MODELS = {
    "salesforce-field-history": "lead_to_order.bpmn",
    "salesforce-opportunity-history": "opportunity_pipeline.bpmn",
    "jira-changelog": "it_support_ticket.bpmn",
}
NOT_MAPPED = "(not in the log)"

cur = require_log()
(bpmn,) = require_library("bpmn", feature="BPMN import")
st.title("Conformance")
st.caption(f"What happened in **{cur.key}** versus what the reference model says should happen.")

# ------------------------------------------------------------------ the model
models = {p.name: p for p in app_state.bundled_models()}
left, right = st.columns([1, 2])
source = left.radio("Reference model", ["Bundled model", "Upload a BPMN file"], key="keep_cf_source")
data = name = None
if source == "Bundled model":
    if not models:
        right.info("No models in `bpmn_models/`: upload a BPMN 2.0 file instead.")
    else:
        preset = cur.log.report.preset if cur.log.report else None
        if st.session_state.get("pm:cf_for") != cur.fingerprint:
            suggested = PRESET_MODELS.get(preset or "")
            st.session_state["keep_cf_model"] = suggested if suggested in models else next(iter(models))
            st.session_state["pm:cf_for"] = cur.fingerprint
        name = right.selectbox("Model", list(models), key="keep_cf_model",
                               help="Reference models shipped with processmining (bpmn_models/).")
        data = models[name].read_bytes()
else:
    up = right.file_uploader("BPMN 2.0 file (Camunda, Signavio, bpmn.io, ...)", type=["bpmn", "xml"],
                             key="cf_upload")
    if up is not None:
        data, name = up.getvalue(), up.name  # bytes in memory only
if data is None:
    st.stop()

model_sha = hashlib.sha256(data).hexdigest()
model = app_state.cached("bpmn_model", (model_sha, name), lambda: bpmn.read_bpmn(data, name=name),
                         scope=model_sha)
report = model.report
counts = report.counts()
with st.expander(f"Import report: {counts['mapped']} elements mapped, {counts['approximated']} approximated, "
                 f"{counts['ignored']} ignored, {counts['refused']} refused "
                 f"— {'usable for conformance' if report.usable else 'NOT usable'}",
                 expanded=not report.usable or bool(counts["refused"])):
    st.caption(f"Process **{report.process_name or report.process_id}**: {report.process_choice}")
    for problem in report.problems:
        st.error(problem)
    for warning in report.warnings:
        st.warning(warning)
    elements = pd.DataFrame([e.to_dict() for e in report.elements])
    if len(elements):
        st.dataframe(elements, hide_index=True, key="cf_import_elements", height=260)
    st.download_button("Download the import report (JSON)", report.to_json().encode(),
                       file_name=f"{name}.import-report.json", mime="application/json", key="cf_import_dl",
                       on_click="ignore")
if not report.usable:
    st.error("This model cannot be used for conformance checking (see the problems above). "
             "Fix it in your modelling tool, or pick another model.")
    st.stop()

# ------------------------------------------------------------------ labels
acts = cur.log.activities
mapping_key = f"pm:cf_mapping:{model_sha}"
user_mapping: dict[str, str] = st.session_state.setdefault(mapping_key, {})
labels = bpmn.match_labels(model, acts, mapping=user_mapping or None)
n_tasks = len({t.label for t in model.tasks if t.label})
matched = n_tasks - len(labels.model_only)
with st.expander(f"Task names ↔ log activities: {matched} of {n_tasks} tasks matched"
                 + (f"; {len(labels.log_only)} activities not in the model" if labels.log_only else ""),
                 expanded=bool(labels.model_only)):
    st.caption("Tasks are matched to activities by name (ignoring case and spaces). Map the rest here; "
               "activities the model does not know are reported as unexpected.")
    tasks = sorted({t.label for t in model.tasks if t.label})
    current = {t: next((a for k, a in labels.label_map.items() if " ".join(k.split()).casefold()
                        == " ".join(t.split()).casefold()), NOT_MAPPED) for t in tasks}
    edited = st.data_editor(
        pd.DataFrame({"task": tasks, "activity": [current[t] for t in tasks]}), hide_index=True,
        key=f"cf_label_editor_{model_sha[:12]}", disabled=["task"],
        column_config={"activity": st.column_config.SelectboxColumn(options=[NOT_MAPPED, *acts])})
    wanted = {r.task: r.activity for r in edited.itertuples() if r.activity != NOT_MAPPED
              and r.activity != current.get(r.task)}
    if wanted:
        user_mapping.update(wanted)
        st.rerun()
    if labels.log_only:
        st.caption("In the log but not in the model: " + ", ".join(labels.log_only))

(conformance,) = require_library("conformance", feature="Conformance checking", needs=("conform",))
from app_pages._conformance_view import deviation_section, diagram_section, kpi_section  # noqa: E402

result = kpi_section(cur, model, model_sha, labels, conformance)
diagram_section(cur, model, result)
deviation_section(cur, model, model_sha, result)
