"""Report page: the audit report (HTML / PDF) of the current log, filters, model, rules and accepted deviations."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from app_pages import _state as app_state
from app_pages._calendar import calendar_key, calendar_picker
from app_pages._conformance_view import accepted_from
from app_pages._downloads import pseudonymizer
from app_pages._filters import sidebar_filters
from app_pages._guards import require_log
from app_pages._status import end_activities
from processmining.ingest.presets import analysis_defaults, reference_model
from processmining.report.i18n import LANGUAGES

LANG_NAMES = {"en": "English", "pl": "Polski", "ru": "Русский"}
NO_MODEL = "(no model)"

cur = require_log()
view = sidebar_filters(cur)
log = view.log
st.title("Audit report")
st.caption(f"One document for **{cur.key}**: scope, findings with evidence, drivers and recommendations, "
           "the evidence annex and provenance. It uses the sidebar filters, the reference model, the audit "
           "rules and the deviations accepted on the Conformance page.")

preset = cur.log.report.preset if cur.log.report else None
defaults = analysis_defaults(preset)
models = {p.name: p for p in app_state.bundled_models()}
ss = st.session_state
if ss.get("pm:rp_for") != cur.fingerprint:
    suggested = reference_model(preset)
    ss["keep_rp_model"] = suggested if suggested in models else NO_MODEL
    ss["keep_rp_slas"] = str(defaults.get("slas") or "")
    ss["pm:rp_for"] = cur.fingerprint

c = st.columns([2, 1, 2])
model_name = c[0].selectbox("Reference model", [NO_MODEL, *models], key="keep_rp_model",
                            help="Bundled models (bpmn_models/); its rules file and roles are used when present.")
lang = c[1].selectbox("Language", list(LANGUAGES), format_func=LANG_NAMES.get, key="keep_rp_lang")
pseudo = app_state.pseudo_key()  # the session's switch (sidebar, Privacy): the report and its annex name nobody
c[2].caption("Pseudonymised: case ids and people are keyed hashes in the report and its annex." if pseudo else
             "Case ids and people are named; turn on pseudonymisation under Privacy in the sidebar to hide them.")
slas_text = st.text_area("Service-level targets, one per line", key="keep_rp_slas", height=80,
                         help="e.g. Open->1st Line Support<=4h or Negotiation/Review<=14d")
slas = [s.strip() for s in slas_text.splitlines() if s.strip()]
cal = calendar_picker()
ends = end_activities(cur)  # the session's end activities (edited on the Bottlenecks / Cases page)
st.caption(f"Finished cases end with {' / '.join(ends)} (change it on the Bottlenecks or Cases page)." if ends else
           "No end activity set: the report infers them from the data (set them on the Bottlenecks or Cases page).")

model = rules = roles = accepted = None
inputs = {"log": (cur.log.report.source, cur.log.report.sha256) if cur.log.report else (cur.key, cur.fingerprint)}
if model_name != NO_MODEL:
    from processmining.bpmn import read_bpmn
    from processmining.rules import load_rules, read_roles

    data = models[model_name].read_bytes()
    model_sha = hashlib.sha256(data).hexdigest()
    model = app_state.cached("bpmn_model", (model_sha, model_name),
                             lambda: read_bpmn(data, name=model_name), scope=model_sha)
    inputs["model"] = (model_name, model_sha)
    stem = model_name.rsplit(".", 1)[0]
    rules_key = f"keep_cf_rules_{hashlib.sha1(stem.encode()).hexdigest()[:8]}"  # the Conformance page's editor
    rules_file = app_state.MODEL_DIR / f"{stem}.rules.yaml"
    rules_text = ss.get(rules_key) or (rules_file.read_text(encoding="utf-8") if rules_file.is_file() else "")
    if rules_text.strip():
        rules = load_rules(rules_text.encode("utf-8"), name=f"{stem}.rules.yaml")
        inputs["rules"] = (f"{stem}.rules.yaml", rules.sha256)
    roles_file = app_state.MODEL_DIR / f"{stem}.roles.csv"
    roles = read_roles(roles_file) if roles_file.is_file() else None
    accepted = accepted_from(f"pm:cf_accepted:{model_sha}")
    if accepted is not None and accepted.patterns:
        st.caption(f"{len(accepted.patterns)} accepted deviation pattern(s) from the Conformance page are applied.")
    else:
        accepted = None


def _build():
    from processmining.report.build import build_report

    p = pseudonymizer()
    with app_state.progress("Building the report") as progress:
        return build_report(log, model=model, rules=rules, roles=roles, accepted=accepted, slas=slas, preset=preset,
                            pseudonymize=pseudo or None, inputs=inputs, evidence_name=f"{cur.key}.evidence.xlsx",
                            end_activities=list(ends), calendar=cal,
                            parameters={"filters": p.text(view.description) if p else view.description,
                                        "log_history": [p.text(h) for h in log.history] if p else list(log.history)},
                            progress=progress)


parts = (view.key, model_name, slas, calendar_key(cal), bool(rules), rules.sha256 if rules else "",
         app_state.cache_key("pseudo", pseudo or ""), ends,
         [(p.kind, p.activity, p.rule_id, p.reason) for p in accepted.patterns] if accepted else [])
if not st.button("Build the report", key="rp_build", type="primary") and ss.get("pm:rp_built") != parts:
    st.info("Press **Build the report**: it runs every analysis (conformance can take a while on large logs).")
    st.stop()
with app_state.friendly_errors():
    report = app_state.cached("audit_report", parts, _build, scope=cur.fingerprint)
ss["pm:rp_built"] = parts

from processmining.export import to_bytes  # noqa: E402 - only needed once the report exists
from processmining.report.html import render_html  # noqa: E402

html = render_html(report, lang=lang)
high = sum(f.severity == "high" for f in report.findings)
st.success(f"{len(report.findings)} findings ({high} of high severity) on {report.facts['cases']:,} cases.")
d = st.columns(3)
d[0].download_button("Download HTML", html.encode("utf-8"), file_name=f"{cur.key}.audit.{lang}.html",
                     mime="text/html", key="rp_dl_html", on_click="ignore")
annex_pseudo = pseudonymizer() if pseudo else None  # the report's tables are pseudonymised already; names in text too
d[1].download_button("Download the evidence annex (XLSX)",  # built on click (off the page script)
                     lambda: to_bytes(report.tables, fmt="xlsx", provenance=report.provenance,
                                      pseudonymizer=annex_pseudo),
                     file_name=report.evidence_name, key="rp_dl_xlsx", on_click="ignore")
if d[2].button("Make the PDF", key="rp_pdf"):
    from processmining.report.pdf import render_pdf

    with app_state.friendly_errors(), st.spinner("Printing the PDF with headless Chromium…"):
        ss["pm:rp_pdf"] = (parts, lang, render_pdf(report, lang=lang))
pdf = ss.get("pm:rp_pdf")
if pdf and pdf[0] == parts and pdf[1] == lang:
    d[2].download_button("Download PDF", pdf[2], file_name=f"{cur.key}.audit.{lang}.pdf", mime="application/pdf",
                         key="rp_dl_pdf", on_click="ignore")

st.subheader("Findings")
table = pd.DataFrame([{"finding": f.id, "severity": f.severity, "type": f.type, "section": f.section,
                       "cases": f.cases, "share": f.share, "action": "necessary" if f.necessary else "desirable",
                       "example cases": ", ".join(f.examples),
                       "about": f"{len(f.items):,} {f.item_unit}: " + ", ".join(f.example_items) if f.items else "",
                       "full list (annex sheet)": "finding_cases" if f.case_ids else "finding_items" if f.items
                       else f.evidence_sheet}
                      for f in report.findings])
st.dataframe(table, hide_index=True, key="rp_findings",
             column_config={"share": st.column_config.NumberColumn(format="percent")})

st.subheader("Why? Drivers of a finding")
with_cases = [f for f in report.findings if f.type in ("sla_breach", "stuck", "lost", "deviation") and f.cases]
if not with_cases:
    st.caption("No finding with a set of bad cases to explain.")
else:
    pick = st.selectbox("Finding", [f.id for f in with_cases], key="rp_why",
                        format_func=lambda i: f"{i} · {next(f.type for f in with_cases if f.id == i)}")
    chosen = next(f for f in with_cases if f.id == pick)

    def _drivers():
        from processmining.report.drivers import BadCases, bad_cases, drivers

        population = frozenset(log.df["case:concept:name"].astype(str).unique().tolist())
        if chosen.type == "sla_breach":
            population = bad_cases(log, f"late:{chosen.title_params['sla'][1]}").population
        return drivers(log, BadCases(chosen.type, chosen.id, frozenset(chosen.case_ids), population))

    if pseudo:
        st.caption("Drivers are shown from the report (the log in this session is not pseudonymised).")
        full = chosen.drivers if chosen.drivers is not None else pd.DataFrame()
    else:
        full = app_state.cached("drivers", (parts, pick), _drivers, scope=cur.fingerprint)
    st.caption("Attribute values over-represented among the cases of this finding: lift = their rate / the "
               "overall rate; lift_low is the lower end of the 95 % interval; significant after Benjamini–Hochberg.")
    st.dataframe(full.head(30), hide_index=True, key="rp_why_table",
                 column_config={c: st.column_config.NumberColumn(format="percent")
                                for c in ("rate", "base_rate", "share_of_bad")})

st.subheader("Preview")
st.components.v1.html(html, height=900, scrolling=True)
