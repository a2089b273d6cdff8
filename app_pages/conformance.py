"""Conformance page: the reference BPMN diagram with the log's deviations drawn on it."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from app_pages import _state as app_state
from app_pages._conformance_view import (
    KIND_LABEL,
    accept_section,
    accepted_from,
    deviation_filters,
    diagram_section,
    downloads_section,
    element_counts_table,
    element_overlays,
    flow_overlays,
    rules_section,
)
from app_pages._guards import require_log
from app_pages._status import end_activities, running_cases
from processmining import bpmn, conformance
from processmining.errors import RuleError
from processmining.ingest.presets import reference_model

NOT_MAPPED = "(not in the log)"

cur = require_log()
st.title("Conformance")
st.caption(f"What happened in **{cur.key}** versus what the reference model says should happen.")

# ------------------------------------------------------------------ the model
models = {p.name: p for p in app_state.bundled_models()}


def _fit(path_name: str) -> tuple[int, int]:
    """(tasks matched to log activities, tasks) of a bundled model: a model is proposed only if it fits."""
    m = app_state.cached("bpmn_model", (path_name,), lambda: bpmn.read_bpmn(models[path_name]), scope=path_name)
    n = len({t.label for t in m.tasks if t.label})
    return n - len(bpmn.match_labels(m, cur.log.activities).model_only), n


fits = {m: app_state.cached("bpmn_fit", (cur.fingerprint, m), lambda m=m: _fit(m), scope=cur.fingerprint)
        for m in models}
fitting = [m for m, (hit, n) in sorted(fits.items(), key=lambda kv: -kv[1][0]) if n and hit >= max(2, n / 2)]
if st.session_state.get("pm:cf_for") != cur.fingerprint:
    preset = cur.log.report.preset if cur.log.report else None
    suggested = reference_model(preset)
    if suggested not in fitting:
        suggested = fitting[0] if fitting else None
    st.session_state["keep_cf_source"] = "Bundled model" if suggested else "Upload a BPMN file"
    if suggested:
        st.session_state["keep_cf_model"] = suggested
    st.session_state["pm:cf_for"] = cur.fingerprint
left, right = st.columns([1, 2])
source = left.radio("Reference model", ["Bundled model", "Upload a BPMN file"], key="keep_cf_source")
data = name = None
if source == "Bundled model":
    if not fitting:
        right.info("No bundled model fits this log (none has half of its tasks among the log's activities): "
                   "upload your BPMN 2.0 model instead.")
    else:
        if st.session_state.get("keep_cf_model") not in fitting:
            st.session_state["keep_cf_model"] = fitting[0]
        name = right.selectbox("Model", fitting, key="keep_cf_model",
                               format_func=lambda m: f"{m} — {fits[m][0]} of {fits[m][1]} tasks match the log",
                               help="Bundled reference models (bpmn_models/) that fit this log: at least half of "
                                    "their tasks are activities of the log.")
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
                 expanded=bool(labels.model_only), key=f"cf_labels_open_{model_sha[:8]}"):
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

rules_text, rules, roles = rules_section(name, [*acts, *(t.label for t in model.tasks if t.label)])

# ------------------------------------------------------------------ conformance
ignore = st.multiselect("Leave these log activities out (the model does not know them)", labels.log_only,
                        key=f"cf_ignore_{model_sha[:12]}",
                        help="Otherwise every occurrence is reported as an unexpected activity.")
PRECISION = {"Token replay (fast)": "token_replay", "Alignments (robust with silent steps and loops)": "alignments"}
precision_label = st.selectbox(
    "Precision measure", list(PRECISION), key="cf_precision",
    help="How much behaviour the model allows that the log never shows (pm4py's ETC precision). Token replay is "
         "pm4py's precision_token_based_replay; alignments is precision_alignments, which follows the optimal "
         "alignments and is the more robust measure where the model has silent steps and loops.")
accept_key = f"pm:cf_accepted:{model_sha}"
accepted = accepted_from(accept_key)
ends = end_activities(cur)  # the session's end activities (Bottlenecks / Cases page): running cases are prefixes
running = running_cases(cur)
params = (model_sha, sorted(user_mapping.items()), rules_text if rules is not None else "", sorted(ignore),
          [(p.kind, p.activity, p.rule_id, p.reason) for p in accepted.patterns], sorted((roles or {}).items()),
          ends, PRECISION[precision_label])


def run(with_rules: bool):  # noqa: ANN201 - a ConformanceResult
    with app_state.progress("Aligning the variants with the model") as progress:
        return conformance.conform(cur.log, model, rules=rules if with_rules else None,
                                   label_mapping=user_mapping or None, ignore_activities=ignore,
                                   accepted=accepted if accepted.patterns else None, roles=roles, running=running,
                                   precision=PRECISION[precision_label], progress=progress)


# nothing long runs unless asked: the check of this log against this model starts with the button (later
# edits of rules, mappings or accepted patterns then re-check), and a click on Cancel stops it
REQUESTED = f"pm:cf_requested:{cur.fingerprint}"
run_key = app_state.cache_key("conform", (cur.fingerprint, model_sha))


def _request() -> None:
    st.session_state[REQUESTED] = run_key


def _cancel() -> None:
    st.session_state.pop(REQUESTED, None)
    st.session_state["pm:cf_cancelled"] = True


ran = st.session_state.get(REQUESTED)
if ran != run_key:
    b1, b2 = st.columns([1, 3], vertical_alignment="center")
    b1.button("Check conformance", key="cf_run", type="primary", on_click=_request, width="stretch")
    if accepted.patterns:
        st.caption(f"{len(accepted.patterns)} accepted deviation pattern{'s' if len(accepted.patterns) > 1 else ''} "
                   "will be applied: " + "; ".join(f"{KIND_LABEL.get(p.kind, p.kind)}"
                                                  f"{' at ' + p.activity if p.activity else ''} ({p.reason})"
                                                  for p in accepted.patterns))
    if st.session_state.pop("pm:cf_cancelled", False):
        b2.warning("The check was cancelled. Start it again when you are ready.")
    else:
        b2.caption(f"Aligns the {cur.log.n_cases:,} cases of **{cur.key}** with **{name}**"
                   + (" and checks the audit rules" if rules is not None else "") + ". On a big log this takes a "
                   "while; a progress bar shows how far it got, and it can be cancelled. "
                   + (f"{len(running):,} running cases (not ended by {' / '.join(ends)}) are checked as prefixes; "
                      "set the end activities on the Bottlenecks or Cases page." if ends else
                      "No end activity is set, so every case is checked in full."))
    diagram_section(model, cache_parts=(model_sha, "plain"), dev=None, label_map=labels.label_map)
    st.stop()

cancel_slot = st.empty()
cancel_slot.button("Cancel the check", key="cf_cancel", on_click=_cancel,
                   help="Stops a running check (it also stops when you close the page).")
try:
    result = app_state.cached("conform", (cur.fingerprint, params), lambda: run(rules is not None),
                              scope=cur.fingerprint)
except RuleError as exc:  # a rule that does not fit this log: say which, check the model without rules
    st.error(f"**{exc}**\n\nFix the rule in the rules editor above; below, the model is checked without rules.")
    rules_text = ""
    rules = None
    params = (params[0], params[1], "", *params[3:])
    result = app_state.cached("conform", (cur.fingerprint, params), lambda: run(False), scope=cur.fingerprint)
cancel_slot.empty()
summ = result.summary
k = st.columns(5)
k[0].metric("Fitness", f"{summ['fitness']:.4f}" if summ.get("fitness") is not None else "–",
            help=summ.get("fitness_method"))
k[1].metric("Precision", f"{summ['precision']:.4f}" if summ.get("precision") is not None else "–",
            help=summ.get("precision_method"))
k[2].metric("Conforming cases", f"{summ['conformance_rate']:.1%}" if summ.get("conformance_rate") is not None
            else "–", help="Cases without any (not accepted) deviation.")
k[3].metric("Deviating cases", f"{summ['deviating_cases']:,}")
k[4].metric("Deviations", f"{summ['deviations']:,}",
            help=f"{summ.get('accepted_deviations', 0):,} more are accepted." if summ.get("accepted_deviations")
            else None)
if summ.get("not_computed_cases"):
    st.warning(f"{summ['not_computed_cases']:,} cases ({summ['not_computed_variants']} variants) could not be "
               "aligned within the time budget: they are listed as 'not computed', never dropped.")

dev = result.deviations
st.session_state.setdefault("pm:cf_last", {})[cur.fingerprint] = dev  # the Cases page shows a case's deviations
st.subheader("The model with the deviations")
st.caption("Tasks are coloured by how many cases deviate there (badge: cases; click a task for its cases and the kinds); "
           "each sequence flow says how often the cases took it, and is as thick as it is frequent.")
eo = app_state.cached("cf_overlays", (cur.fingerprint, params), lambda: element_overlays(
    model, dev, labels.label_map, summ["cases"]), scope=cur.fingerprint)
fo = flow_overlays(model, result.flow_counts)
diagram_section(model, elements=eo, flows=fo, cache_parts=(cur.fingerprint, params, "overlay"), dev=dev,
                label_map=labels.label_map, flow_counts=result.flow_counts)
if result.element_counts:
    with st.expander("How often each element was executed", expanded=False):
        st.caption("Along each case's aligned run of the model: a task once per execution (loops count each "
                   "round, skipped tasks count too), a gateway once per token it passes on. Running cases count "
                   "what happened so far"
                   + (f"; {result.untraced_cases:,} cases are not counted." if result.untraced_cases else "."))
        st.dataframe(element_counts_table(model, result.element_counts), hide_index=True, key="cf_element_counts")

st.subheader("Deviations")
patterns = pd.DataFrame(summ.get("patterns", []))
if len(patterns):
    st.caption("Deviation patterns: how many cases, and whether those cases take longer than conforming ones.")
    st.dataframe(patterns, hide_index=True, key="cf_patterns",
                 column_config={"share": st.column_config.NumberColumn(format="%.3f")})


@st.fragment
def deviation_table() -> None:
    """The filters over the deviation list rerun only the list (the check, the diagram and the KPIs stay)."""
    shown = deviation_filters(dev, scope=f"{cur.fingerprint[:8]}_{model_sha[:8]}")
    st.caption(f"{len(shown):,} of {len(dev):,} deviations, in {shown['case_id'].nunique():,} cases.")
    st.dataframe(shown, hide_index=True, key="cf_deviations", height=360)


deviation_table()
accept_section(dev, accept_key)
prov = app_state.log_provenance(
    cur, extra_inputs={"model": (name, model_sha),
                       **({"rules": ("rules editor", hashlib.sha256(rules_text.encode()).hexdigest())}
                          if rules is not None else {})},
    **{k2: v for k2, v in result.parameters.items()},
    accepted=[p.__dict__ | {"cases": sorted(p.cases)} for p in accepted.patterns])
downloads_section(cur, dev, summ, prov)
