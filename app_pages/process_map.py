"""Process map page: the directly-follows map with sliders, filters, variants and workshop mode."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _state as app_state
from app_pages._filters import sidebar_filters
from app_pages._guards import require_log
from app_pages._svg import show_svg
from app_pages._workshop import workshop_controls
from processmining import discovery, render

cur = require_log()
view = sidebar_filters(cur)
log = view.log

workshop = st.session_state.get("keep_map_workshop", False)
if not workshop:
    st.title("Process map")
    st.caption(f"{log.n_events:,} events · {log.n_cases:,} cases · {view.description}")

with st.spinner("Computing the process map…", show_time=True):
    full = app_state.cached("process_map", view.key, lambda: discovery.process_map(log), scope=cur.fingerprint)
if full.n_events == 0:
    st.warning("No case is left after the filters: widen them in the sidebar.")
    st.stop()

# sliders start where the map is readable; reset when another log is shown
if st.session_state.get("map_sliders_for") != cur.fingerprint:
    d_act, d_paths = discovery.default_sliders(full)
    st.session_state["keep_map_act"] = round(d_act * 100)
    st.session_state["keep_map_paths"] = round(d_paths * 100)
    st.session_state["map_sliders_for"] = cur.fingerprint

c1, c2, c3, c4 = st.columns([1.3, 2, 2, 1.2])
mode = c1.radio("Show", ["frequency", "performance"], horizontal=True, key="keep_map_mode",
                format_func=str.capitalize,
                help="Frequency: how often. Performance: median waiting time between steps.")
act_pct = c2.slider("Activities %", 0, 100, step=1, key="keep_map_act",
                    help="Share of activities shown, most frequent first.")
path_pct = c3.slider("Paths %", 0, 100, step=1, key="keep_map_paths",
                     help="Share of connections shown, most frequent first; the map stays connected.")
c4.toggle("Workshop mode", key="keep_map_workshop",
          help="Full-width map with large labels, for a room with a projector.")

small = app_state.cached(
    "simplify", (view.key, act_pct, path_pct),
    lambda: discovery.simplify(full, activities=act_pct / 100, paths=path_pct / 100),
    scope=cur.fingerprint)

options = workshop_controls(cur, view) if workshop else {}
anonymise = bool(options.get("anonymise"))
hide_numbers = bool(options.get("hide_numbers"))
render_args = dict(metric=mode, large_labels=workshop, anonymise=anonymise, hide_numbers=hide_numbers)
svg = app_state.cached("map_svg", (view.key, act_pct, path_pct, render_args),
                       lambda: render.render_map(small, fmt="svg", **render_args), scope=cur.fingerprint)
show_svg(svg, css_class="pm-map")

n_kept = len(small.activities) - len(small.connectors)
shown = f"{n_kept} of {len(full.activities)} activities, {len(small.arcs)} of {len(full.arcs)} paths"
if small.connectors:
    shown += f"; {len(small.connectors)} more kept to connect the map: {', '.join(small.connectors)}"
st.caption(shown)

d1, d2, _ = st.columns([1, 1, 4])
stem = f"{cur.key}.process-map"
d1.download_button("Download SVG", svg.encode(), file_name=f"{stem}.svg", mime="image/svg+xml",
                   key="map_dl_svg", on_click="ignore")
d2.download_button("Download PNG", lambda: render.render_map(small, fmt="png", **render_args),
                   file_name=f"{stem}.png", mime="image/png", key="map_dl_png", on_click="ignore")

if workshop:
    st.stop()

# ------------------------------------------------------------------ variant explorer
st.subheader("Variants")
with st.spinner("Ranking the variants…", show_time=True):
    variants = app_state.cached("variants", view.key, lambda: discovery.variants(log), scope=cur.fingerprint)
st.caption(f"{len(variants):,} variant{'' if len(variants) == 1 else 's'}; the top 10 cover "
           f"{variants['cumulative_share'].iloc[min(10, len(variants)) - 1]:.0%} of cases. "
           "Select rows to show only those variants in the map (sidebar filter).")
table = pd.DataFrame({
    "variant": variants["variant"],
    "cases": variants["cases"],
    "share": variants["share"] * 100,
    "steps": variants["length"],
    "median duration (days)": variants["median_duration_s"] / 86400,
    "path": [" → ".join(a) for a in variants["activities"]],
    "example case": variants["example_case"],
})
picked = st.dataframe(
    table.head(500), hide_index=True, key="map_variants", on_select="rerun", selection_mode="multi-row",
    column_config={
        "share": st.column_config.ProgressColumn("share", format="%.1f%%", min_value=0, max_value=100),
        "median duration (days)": st.column_config.NumberColumn(format="%.1f"),
    })
rows = picked.selection.rows if picked is not None else []


def _show_only(names: list[str]) -> None:
    st.session_state["keep_flt_variants"] = names


if rows:
    st.button("Show only the selected variants", key="map_variants_apply", on_click=_show_only,
              args=([str(table["variant"].iloc[i]) for i in rows],))

with st.expander("Activities and paths of the map (numbers)"):
    acts = full.activities.reset_index()
    st.dataframe(acts, hide_index=True, key="map_acts_table")
    st.dataframe(full.arcs, hide_index=True, key="map_arcs_table")
