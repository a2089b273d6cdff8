"""Process map page: the directly-follows map with sliders, filters, variants and workshop mode."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _state as app_state
from app_pages._diagram import diagram, new_event
from app_pages._filters import sidebar_filters
from app_pages._guards import require_log
from app_pages._workshop import page_links, step, workshop_controls
from processmining import animation, discovery, render
from processmining.discovery.variants import variant_text
from processmining.model import CASE, TIMESTAMP

#: the animation shows at most this many cases (a seeded sample beyond)
MAX_TOKEN_CASES = 2000


def map_colour_columns(log) -> list[str]:  # noqa: ANN001 - an EventLog
    """Columns with a handful of values that can colour the tokens (case attributes, resource)."""
    skip = {CASE, TIMESTAMP, "@@index", "@@source_row", "concept:name", "start_timestamp"}
    return [c for c in log.df.columns if c not in skip and 1 < log.df[c].nunique(dropna=True) <= 30]


def token_args(seg: animation.TokenSegments, titles: list[str], *, autoplay: bool) -> dict:
    """The viewer's animation arguments: plain lists, speeds as (label, seconds for the whole span)."""
    lo, hi = seg.span
    return {"key": f"{len(seg.t0)}:{lo}:{hi}:{hash(seg.legend)}", "arcs": titles, "arc": seg.arc.tolist(),
            "t0": seg.t0.round(0).tolist(), "t1": seg.t1.round(0).tolist(),
            "color": seg.color.tolist() if seg.legend else None, "palette": list(animation.PALETTE),
            "legend": list(seg.legend), "start": lo, "end": hi, "note": seg.note, "autoplay": autoplay,
            "speeds": [["whole span in 20 s", 20], ["in 40 s", 40], ["in 90 s", 90], ["in 10 s", 10]],
            "default_speed": 0, "radius": 6 if autoplay else 5}


def on_map_event() -> None:
    """A click on the map selects those cases (a sidebar filter); a key steps the saved views."""
    event = new_event("map_viewer")
    cur_ = app_state.current()
    if event is None or cur_ is None:
        return
    if event["type"] == "key":
        step(cur_.fingerprint, event["action"])
        return
    nodes = st.session_state.get("pm:map_nodes", {})
    # a selection changes the sidebar filter and every number: the whole page reruns (map_section asks for it)
    st.session_state["pm:map_rerun_app"] = True
    if event["kind"] == "arc":
        a, _, b = event["id"].partition("->")
        if a in nodes and b in nodes:
            st.session_state["keep_flt_drill"] = ("arc", nodes[a], nodes[b])
    elif event["kind"] == "node" and event["id"] in nodes:
        st.session_state["keep_flt_drill"] = ("node", nodes[event["id"]])

cur = require_log()
view = sidebar_filters(cur)
log = view.log

workshop = st.session_state.get("keep_map_workshop", False)
if workshop:
    page_links()  # the sidebar is hidden in workshop mode: the pages stay one click away
else:
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

#: from this many events on, the sliders apply on a button (a form): no map per slider step
BIG_LOG_EVENTS = 200_000
big = log.n_events >= BIG_LOG_EVENTS


def map_section() -> None:
    """Controls, the map, the animation and the downloads. Outside workshop mode it is a fragment: a slider,
    the display mode or the animation reruns only this part, never the filters or the variant table."""
    if st.session_state.pop("pm:map_rerun_app", False) and not workshop:
        st.rerun()  # a click on the map selected cases (on_map_event): the filters and the whole page change
    c1, c2, c4 = st.columns([1.3, 4, 1.2], vertical_alignment="bottom")
    mode = c1.radio("Show", ["frequency", "performance"], horizontal=True, key="keep_map_mode",
                    format_func=str.capitalize,
                    help="Frequency: how often. Performance: median waiting time between steps.")
    c4.toggle("Workshop mode", key="keep_map_workshop",
              help="Full-width map with large labels, for a room with a projector.")
    if st.session_state.get("keep_map_workshop", False) != workshop:
        st.rerun()  # another layout: the whole page
    # a big log: the map is computed when the sliders are applied (a form), never once per slider step
    box = c2.form("map_sliders", border=False, enter_to_submit=False) if big else c2.container()
    with box:
        cols = st.columns([2, 2, 1.1] if big else 2, vertical_alignment="bottom")
        s1, s2 = cols[0], cols[1]
        act_pct = s1.slider("Activities %", 0, 100, step=1, key="keep_map_act",
                            help="Share of activities shown, most frequent first.")
        path_pct = s2.slider("Paths %", 0, 100, step=1, key="keep_map_paths",
                             help="Share of connections shown, most frequent first; the map stays connected.")
        if big:
            cols[2].form_submit_button("Update the map", width="stretch",
                                  help=f"This log has {log.n_events:,} events: the map is redrawn when you apply "
                                       "the sliders.")

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
    # graphviz names the nodes n0, n1, ... in the order of the map's activities (render.to_dot)
    node_of = {f"n{i}": a for i, a in enumerate(small.activities.index)}
    st.session_state["pm:map_nodes"] = node_of

    a1, a2, a3 = st.columns([1.2, 2, 4], vertical_alignment="center")
    animate = a1.toggle("Animate cases", key="keep_map_anim",
                        help="Tokens move along the arcs at the cases' real timing (each dot: one case waiting "
                             "between two steps). Play, pause, speed and a clock are above the map.")
    color_cols = ["(one colour)", *app_state.cached("colour_columns", (view.key,), lambda: map_colour_columns(log),
                                                    scope=cur.fingerprint)]
    if st.session_state.get("keep_map_anim_color") not in color_cols:  # another log: its columns differ
        st.session_state["keep_map_anim_color"] = color_cols[0]
    colour = a2.selectbox("Colour tokens by", color_cols, key="keep_map_anim_color", disabled=not animate)
    tokens = None
    segments = None
    if animate:
        arcs = list(zip(small.arcs["source"], small.arcs["target"], strict=True))
        segments = app_state.cached(
            "tokens", (view.key, act_pct, path_pct, colour),
            lambda: animation.token_segments(log, arcs=arcs, max_cases=MAX_TOKEN_CASES,
                                             color_by=None if colour == color_cols[0] else colour),
            scope=cur.fingerprint)
        ids = {a: k for k, a in node_of.items()}
        tokens = token_args(segments, [f"{ids[s]}->{ids[t]}" for s, t in segments.arcs], autoplay=workshop)
        a3.caption(f"Animation: {segments.note}." + (" Sampled so the browser stays smooth." if segments.sampled else ""))

    hint = ("Drag to pan, wheel or +/− to zoom, 0 to fit. Click an activity or an arc: only its cases."
            + (" ←/→ or PageUp/PageDown: previous / next saved view." if workshop else ""))
    diagram(svg, key="map_viewer", height=880 if workshop else 820, keyboard_views=workshop, presenter=workshop,
            tokens=tokens, hint=hint, on_change=on_map_event, min_font_px=0)

    n_kept = len(small.activities) - len(small.connectors)
    shown = f"{n_kept} of {len(full.activities)} activities, {len(small.arcs)} of {len(full.arcs)} paths"
    if small.connectors:
        shown += f"; {len(small.connectors)} more kept to connect the map: {', '.join(small.connectors)}"
    st.caption(shown)

    d1, d2, d3, _ = st.columns([1, 1, 1.6, 2.4])
    stem = f"{cur.key}.process-map"
    d1.download_button("Download SVG", svg.encode(), file_name=f"{stem}.svg", mime="image/svg+xml",
                       key="map_dl_svg", on_click="ignore", width="stretch")
    d2.download_button("Download PNG", lambda: render.render_map(small, fmt="png", **render_args),
                       file_name=f"{stem}.png", mime="image/png", key="map_dl_png", on_click="ignore", width="stretch")
    if segments is not None and len(segments.t0):
        ids = {a: k for k, a in node_of.items()}
        titles = {(s, t): f"{ids[s]}->{ids[t]}" for s, t in segments.arcs}
        d3.download_button(
            "Download the animation (GIF)",
            lambda: animation.animation_gif(svg, render.render_map(small, fmt="png", **render_args), segments, titles,
                                            seconds=6, fps=8, width=900),
            file_name=f"{stem}.gif", mime="image/gif", key="map_dl_gif", on_click="ignore", width="stretch",
            help="A 6-second looping animated GIF of the whole time span, for slides.")



if workshop:  # saved views and the keyboard change filters too: the whole page reruns
    map_section()
else:
    st.fragment(map_section)()

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
    "path": variant_text(list(variants["activities"])).set_axis(variants.index),
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
