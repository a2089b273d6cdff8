"""Data quality page: the log audit (is the log itself trustworthy?) and explicit fixes."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from app_pages import _state as app_state
from app_pages._downloads import pseudonymizer, table_downloads
from app_pages._guards import require_log
from processmining import quality

SEVERITY_ICON = {"high": ":material/error:", "medium": ":material/warning:", "low": ":material/info:"}

cur = require_log()
st.title("Data quality")
st.caption(f"Is **{cur.key}** trustworthy? Every check of the audit on "
           f"{cur.log.n_events:,} events in {cur.log.n_cases:,} cases.")


def run_audit():  # noqa: ANN201 - returns quality.QualityReport
    with app_state.progress("Auditing the log") as progress:
        return quality.audit(cur.log, progress=progress)


report = app_state.cached("quality_audit", (cur.fingerprint,), run_audit, scope=cur.fingerprint)

k = st.columns(4)
k[0].metric("Overall score", f"{report.overall_score:.0f} / 100")
k[1].metric("Cases affected", f"{report.cases_affected_share:.1%}",
            help="Share of cases hit by at least one finding.")
k[2].metric("Findings", f"{len(report.findings):,}")
k[3].metric("High severity", f"{sum(f.severity == 'high' for f in report.findings):,}")

scores = pd.DataFrame({"dimension": list(report.scores), "score": [float(v) for v in report.scores.values()]})
st.dataframe(scores, hide_index=True, key="dq_scores", column_config={
    "score": st.column_config.ProgressColumn("score (100 = nothing found)", format="%.1f", min_value=0,
                                             max_value=100, color="green")})

st.subheader("Findings")
if not report.findings:
    st.success("No data-quality problem found.")
order = {"high": 0, "medium": 1, "low": 2}
for i, f in enumerate(sorted(report.findings, key=lambda f: (order.get(f.severity, 3), -f.cases_affected))):
    reach = f"{f.cases_affected:,} case{'' if f.cases_affected == 1 else 's'}" if f.cases_affected else "the log as a whole"
    with st.expander(f"**{f.severity}** · {f.title} ({reach}) · {f.dimension}",
                     icon=SEVERITY_ICON.get(f.severity)):
        st.markdown(f"**What to do:** {f.recommendation}")
        if len(f.examples):
            st.dataframe(f.examples, hide_index=True, key=f"dq_examples_{i}")
        if f.details.get("mapping"):
            st.caption("Proposed mapping: " + "; ".join(f"'{a}' → '{b}'" for a, b in f.details["mapping"].items()))
if report.skipped:
    n_skip = len(report.skipped)
    with st.expander(f"{n_skip} check{'' if n_skip == 1 else 's'} could not run on this log"):
        st.dataframe(pd.DataFrame({"check": list(report.skipped), "why": list(report.skipped.values())}),
                     hide_index=True, key="dq_skipped")

st.subheader("Fixes")
st.caption("Each fix makes a new log (the original stays loaded); the step is recorded in the log's history "
           "and in the provenance of every export made from it.")


def _apply(fix: str) -> None:
    try:
        _fix(fix)
    except Exception as exc:  # shown in the page body: callbacks run before it
        st.session_state["pm:dq_fix_error"] = exc


def _fix(fix: str) -> None:
    log = cur.log
    if fix == "labels":
        res = quality.merge_synonymous_labels(log)
    elif fix == "duplicates":
        res = quality.drop_duplicate_events(log)
    elif fix == "incomplete":
        res = quality.exclude_incomplete_cases(log)
    else:
        res = quality.shift_timezone(log, timezone=st.session_state.get("dq_tz") or "UTC")
    if res.changed == 0:
        st.session_state["pm:dq_last_fix"] = f"Nothing to change: {res.step}. The log stays as it is."
        return
    fixed = dataclasses.replace(res.log, name=f"{log.name} · fixed")
    entry = app_state.add_log(fixed, origin="fix")
    st.session_state["pm:dq_last_fix"] = f"{res.step} → now analysing **{entry.key}**."


f1, f2, f3, f4 = st.columns(4)
f1.button("Merge synonymous labels", key="dq_fix_labels", on_click=_apply, args=("labels",),
          help="Rename misspelt / differently written labels to their frequent form (see the finding).")
f2.button("Drop duplicate events", key="dq_fix_dups", on_click=_apply, args=("duplicates",),
          help="Drop events identical in every attribute, keeping the first.")
f3.button("Exclude incomplete cases", key="dq_fix_incomplete", on_click=_apply, args=("incomplete",),
          help="Remove cases that do not start with a start activity or do not end with an end activity.")
with f4:
    st.text_input("Time zone of naive timestamps", key="dq_tz", placeholder="e.g. Europe/Berlin")
    st.button("Re-read timestamps", key="dq_fix_tz", on_click=_apply, args=("timezone",))
if st.session_state.get("pm:dq_fix_error") is not None:
    app_state.show_error(st.session_state.pop("pm:dq_fix_error"))
if st.session_state.get("pm:dq_last_fix"):
    st.success(st.session_state.pop("pm:dq_last_fix"))
if cur.log.history:
    st.markdown("**This log's history:**\n" + "\n".join(f"1. {h}" for h in cur.log.history))

st.markdown("**Download the fixed log**" if cur.log.history else "**Download the log**")
st.caption("As it is now (with the fixes above), without the app's internal columns"
           + ("; pseudonymised." if app_state.pseudo_key() else "."))
table_downloads({"events": cur.log.df}, stem=f"{cur.key}.log", key="dq_dl_log",
                provenance=app_state.log_provenance(cur), formats=("csv", "parquet"))

st.markdown("**Download the audit**")
pseudo = pseudonymizer()
digest = app_state.cache_key("pseudo", app_state.pseudo_key() or "")
shown = app_state.cached("quality_pseudo", (cur.fingerprint, digest),
                         lambda: report.pseudonymized(pseudo) if pseudo is not None else report, scope=cur.fingerprint)
d1, d2, _ = st.columns([1.2, 1.2, 2])
d1.download_button("Download the audit (JSON)", lambda: shown.to_json().encode(), file_name=f"{cur.key}.quality.json",
                   mime="application/json", key="dq_dl_json", width="stretch", on_click="ignore")
d2.download_button("Download the audit (HTML)", lambda: shown.to_html().encode(), file_name=f"{cur.key}.quality.html",
                   mime="text/html", key="dq_dl_html", width="stretch", on_click="ignore")
