"""Compare page: two periods or two segments side by side, the difference map, variants, trends."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _state as app_state
from app_pages._calendar import calendar_key, calendar_picker
from app_pages._downloads import table_downloads
from app_pages._filters import sidebar_filters
from app_pages._guards import require_log
from processmining.ingest.presets import analysis_defaults
from processmining.model import CASE, TIMESTAMP

cur = require_log()
view = sidebar_filters(cur)
log = view.log
st.title("Compare")
st.caption(f"Two periods (before / after a change) or two segments (team, region, channel) of **{cur.key}**.")

preset = cur.log.report.preset if cur.log.report else None
defaults = analysis_defaults(preset)
ss = st.session_state
if ss.get("pm:cmp_for") != cur.fingerprint:
    ss["keep_cmp_sla"] = str(defaults.get("slas") or "").splitlines()[0] if defaults.get("slas") else ""
    ss["pm:cmp_for"] = cur.fingerprint

mode = st.radio("Compare", ["Two periods", "Two segments"], horizontal=True, key="keep_cmp_mode")
if log.n_events == 0:
    st.info("The filters leave no events.")
    st.stop()
starts = log.df.groupby(CASE)[TIMESTAMP].min().sort_values()
if mode == "Two periods":
    lo, hi = starts.iloc[0].date(), starts.iloc[-1].date()
    mid = starts.iloc[len(starts) // 2].date()
    at = st.date_input("Cases started before this date are A, from it on B", value=mid, min_value=lo, max_value=hi,
                       key="keep_cmp_split")
    split_spec: tuple = ("period", str(at))
    labels = (f"before {at}", f"from {at}")
else:
    cols = [c for c in log.df.columns if not c.startswith("@@") and c not in (CASE, TIMESTAMP, "concept:name")
            and log.df[c].nunique() <= 200 and log.df[c].nunique() >= 2]
    if not cols:
        st.info("The log has no column with a few distinct values to compare segments by.")
        st.stop()
    col = st.selectbox("Segment column", cols, key="keep_cmp_col")
    values = log.df[col].dropna().astype(str).value_counts().index.tolist()
    c = st.columns(2)
    a = c[0].multiselect("Segment A", values, default=values[:1], key=f"cmp_a_{col}")
    b = c[1].multiselect("Segment B (empty: all other cases)", values, key=f"cmp_b_{col}")
    if not a:
        st.info("Pick at least one value for segment A.")
        st.stop()
    split_spec = ("segment", col, tuple(a), tuple(b))
    labels = (", ".join(a), ", ".join(b) if b else "other cases")
sla = st.text_input("SLA target for the breach share (optional)", key="keep_cmp_sla")
cal = calendar_picker()


def _compare():
    from processmining.report.compare import compare_logs, split_period, split_segment, trend
    from processmining.report.kpis import kpi_settings

    if split_spec[0] == "period":
        left, right = split_period(log, split_spec[1])
    else:
        left, right = split_segment(log, split_spec[1], list(split_spec[2]), list(split_spec[3]) or None)
    slas = [sla] if sla.strip() else []
    ends = defaults.get("ends")
    cmp = compare_logs(left, right, labels=labels, slas=slas, settings=kpi_settings(preset), end_activities=ends,
                       calendar=cal)
    sla_log = None
    if cal is not None and slas:
        from processmining.performance.calendar import working_time_log

        sla_log = working_time_log(log, cal)  # the trend's SLA share on the same clock as the KPI table
    return cmp, trend(log, slas=slas, end_activities=ends, sla_log=sla_log), (left.n_cases, right.n_cases)


with app_state.friendly_errors():
    cmp, tr, sizes = app_state.cached("compare", (view.key, split_spec, sla, calendar_key(cal)), _compare, scope=cur.fingerprint)

st.subheader("KPI deltas")
st.caption(f"A = {labels[0]} ({sizes[0]:,} cases) · B = {labels[1]} ({sizes[1]:,} cases). "
           "Times in days; shares 0-1; relative = change / A.")
k = cmp.kpis.copy()
is_time = k["metric"].str.endswith("_s") | k["metric"].isin(["first_response", "resolution"])
for c in ("a", "b", "delta"):
    k[c] = k[c].where(~is_time, k[c] / 86400.0)
st.dataframe(k, hide_index=True, key="cmp_kpis",
             column_config={"relative": st.column_config.NumberColumn(format="percent")})

st.subheader("Maps side by side")
from processmining.discovery import default_sliders, simplify  # noqa: E402
from processmining.render import render_map  # noqa: E402
from processmining.report.compare import difference_dot, svg_from_dot  # noqa: E402

m = st.columns(2)
for col_, pm, label in zip(m, cmp.maps, labels, strict=True):
    col_.markdown(f"**{label}**")
    acts, paths = default_sliders(pm)
    col_.markdown(f'<div class="pm-compare-map">{render_map(simplify(pm, activities=acts, paths=paths))}</div>',
                  unsafe_allow_html=True)
st.subheader("Difference map")
st.caption("Arc labels: frequency per case in A → B. Red: new; orange: more often; blue: less often; "
           "grey dashed: gone.")
st.markdown(f'<div class="pm-diff-map">{svg_from_dot(difference_dot(cmp.arcs, labels=labels))}</div>',
            unsafe_allow_html=True)
st.dataframe(cmp.arcs, hide_index=True, key="cmp_arcs")

st.subheader("Variants that appear or vanish")
st.dataframe(cmp.variants, hide_index=True, key="cmp_variants")

st.subheader("Trend")
if len(tr) >= 2:
    from processmining.report.compare import trend_svg

    cps = tr.attrs.get("change_points", {})
    for column in [c for c in ("median_cycle_s", "sla_breach_share", "conformance_rate") if c in tr.columns]:
        st.markdown(f'<div class="pm-trend">{trend_svg(tr, column, title=column)}</div>', unsafe_allow_html=True)
        if cps.get(column):
            st.caption(f"{column}: change of level at " + ", ".join(str(tr["period"].iloc[i]) for i in cps[column]))
else:
    st.caption("The log covers less than two months of case starts.")
table_downloads({"kpis": cmp.kpis, "map_difference": cmp.arcs, "variant_changes": cmp.variants,
                 "trend": pd.DataFrame(tr)}, stem=f"{cur.key}.compare", key="cmp_dl",
                provenance=app_state.log_provenance(cur, comparison=str(split_spec), sla=sla))
