"""Sidebar filters shared by the process map and the bottleneck pages.

The widgets only collect a filter description (a plain dict); the filtering
itself is :mod:`processmining.filters`. The filtered log is cached per
session under (log fingerprint, filter description), so a filter is applied
once and the fingerprint of a filtered log is never recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from app_pages import _state as app_state
from app_pages._state import LoadedLog
from processmining import selection
from processmining.model import CASE, RESOURCE, EventLog

NO_FILTERS = "all cases"
_TIME_MODES = {
    "contained": "cases that start and end in the frame",
    "intersecting": "cases with any event in the frame",
    "started": "cases that start in the frame",
    "completed": "cases that end in the frame",
    "trim": "events in the frame (cases are cut)",
}


@dataclass(frozen=True)
class FilteredView:
    """The log after the sidebar filters; ``key`` identifies it for the cache."""

    log: EventLog
    key: tuple[Any, ...]
    description: str
    spec: dict[str, Any]


def _reset() -> None:
    for k in [k for k in st.session_state if str(k).startswith("keep_flt_")]:
        del st.session_state[k]


def _attribute_columns(log: EventLog) -> list[str]:
    skip = {CASE, "time:timestamp", "start_timestamp", "@@index", "@@source_row"}
    cols = [c for c in log.df.columns if c not in skip]
    return [c for c in cols if log.df[c].nunique(dropna=True) <= 5000]


def _collect(cur: LoadedLog) -> dict[str, Any]:
    """Draw the filter widgets in the sidebar; return the active filters as a dict."""
    from processmining import discovery

    log = cur.log
    ss = st.session_state
    if ss.get("pm:filters_for") != cur.fingerprint:  # another log: its values may not exist here
        _reset()
        ss["pm:filters_for"] = cur.fingerprint
    spec: dict[str, Any] = {}
    sb = st.sidebar
    sb.header("Filters")
    drill = ss.get("keep_flt_drill")
    if drill:  # a click on the map, or a row of the bottleneck ranking
        what = f"{drill[1]} → {drill[2]}" if drill[0] == "arc" else drill[1]
        sb.info(f"**Selection:** cases {'passing ' + what if drill[0] == 'arc' else 'with ' + what}")
        sb.button("Clear the selection", key="flt_drill_clear", on_click=lambda: ss.pop("keep_flt_drill", None))
        spec["drill"] = tuple(drill)
    acts = app_state.cached("activities", (cur.fingerprint,), lambda: log.activities, scope=cur.fingerprint)

    span = log.time_span
    with sb.expander("Time frame", expanded=bool(ss.get("keep_flt_time_on"))):
        on = st.toggle("Filter by time", key="keep_flt_time_on")
        if span is not None:
            lo, hi = span[0].date(), span[1].date()
            ss.setdefault("keep_flt_time", (lo, hi))
            rng = st.date_input("From – to", min_value=lo, max_value=hi,
                                key="keep_flt_time", disabled=not on)
            mode = st.selectbox("Keep", list(_TIME_MODES), format_func=_TIME_MODES.get,
                                key="keep_flt_time_mode", disabled=not on)
            if on and isinstance(rng, (tuple, list)) and len(rng) == 2:
                spec["time"] = (rng[0].isoformat(), rng[1].isoformat(), mode)

    with sb.expander("Case duration", expanded=bool(ss.get("keep_flt_dur_on"))):
        on = st.toggle("Filter by duration", key="keep_flt_dur_on")
        c1, c2 = st.columns(2)
        lo = c1.number_input("at least (days)", 0.0, 36500.0, step=1.0, key="keep_flt_dur_lo", disabled=not on)
        hi = c2.number_input("at most (days, 0: any)", 0.0, 36500.0, step=1.0, key="keep_flt_dur_hi",
                             disabled=not on)
        if on and (lo or hi):
            spec["duration"] = (float(lo), float(hi))

    with sb.expander("Numeric attribute", expanded=bool(ss.get("keep_flt_num_on"))):
        nums = app_state.cached("numeric_columns", (cur.fingerprint,), lambda: selection.numeric_columns(log),
                                scope=cur.fingerprint)
        if not nums:
            st.caption("This log has no numeric attribute.")
        else:
            on = st.toggle("Filter by a number (e.g. amount > X)", key="keep_flt_num_on")
            col = st.selectbox("Attribute", nums, key="keep_flt_num_col", disabled=not on)
            vals = app_state.cached("numeric_range", (cur.fingerprint, col), lambda: selection.numeric_values(
                log, col).agg(["min", "max"]).tolist(), scope=cur.fingerprint)
            c1, c2 = st.columns(2)
            lo = c1.number_input("from", value=None, key="keep_flt_num_lo", disabled=not on,
                                 placeholder=f"{vals[0]:,.0f}")
            hi = c2.number_input("to", value=None, key="keep_flt_num_hi", disabled=not on,
                                 placeholder=f"{vals[1]:,.0f}")
            if on and (lo is not None or hi is not None):
                spec["numeric"] = (col, lo, hi)

    with sb.expander("Activities and resources", expanded=bool(ss.get("keep_flt_with") or ss.get("keep_flt_res"))):
        with_acts = st.multiselect("Cases with / without activities", acts, key="keep_flt_with")
        how = st.radio("Cases", ["with", "without"], horizontal=True, key="keep_flt_with_how",
                       format_func=lambda h: f"{h} any of these")
        if with_acts:
            spec["contains"] = (tuple(with_acts), how)
        if RESOURCE in log.df.columns:
            res = app_state.cached("resources", (cur.fingerprint,), lambda: sorted(
                map(str, log.df[RESOURCE].dropna().unique())), scope=cur.fingerprint)
            chosen_r = st.multiselect("Cases touched by these resources", res, key="keep_flt_res")
            if chosen_r:
                spec["resource"] = tuple(chosen_r)

    with sb.expander("Attribute values", expanded=bool(ss.get("keep_flt_attr_values"))):
        cols = app_state.cached("attr_columns", (cur.fingerprint,), lambda: _attribute_columns(log),
                                scope=cur.fingerprint)
        col = st.selectbox("Attribute", cols, key="keep_flt_attr") if cols else None
        if col is not None:
            values = app_state.cached("attr_values", (cur.fingerprint, col),
                                      lambda: sorted(map(str, log.df[col].dropna().unique())),
                                      scope=cur.fingerprint)
            chosen = st.multiselect("Values", values, key="keep_flt_attr_values")
            how = st.radio("Cases", ["with", "without"], horizontal=True, key="keep_flt_attr_how",
                           format_func=lambda h: f"{h} these values")
            if chosen:
                spec["attribute"] = (col, tuple(chosen), how)

    with sb.expander("Variants", expanded=bool(ss.get("keep_flt_variants"))):
        with st.spinner("Ranking the variants…"):
            var = app_state.cached("variants", (cur.fingerprint, ()), lambda: discovery.variants(log),
                                   scope=cur.fingerprint)
        labels = {r.variant: f"{r.variant} · {r.cases:,} cases · {r.length} steps"
                  for r in var.head(200).itertuples()}
        if ss.get("keep_flt_variants"):
            ss["keep_flt_variants"] = [v for v in ss["keep_flt_variants"] if v in labels]
        chosen_v = st.multiselect("Only these variants", list(labels), format_func=labels.get,
                                  key="keep_flt_variants")
        if chosen_v:
            by_name = dict(zip(var["variant"], var["activities"], strict=True))
            spec["variants"] = tuple(sorted(chosen_v, key=lambda v: int(v[1:])))
            spec["_variant_paths"] = tuple(by_name[v] for v in spec["variants"])

    with sb.expander("Start and end", expanded=bool(ss.get("keep_flt_starts") or ss.get("keep_flt_ends"))):
        starts = st.multiselect("Cases starting with", acts, key="keep_flt_starts")
        ends = st.multiselect("Cases ending with", acts, key="keep_flt_ends")
        if starts:
            spec["starts"] = tuple(starts)
        if ends:
            spec["ends"] = tuple(ends)

    with sb.expander("Follows", expanded=bool(ss.get("keep_flt_follows_on"))):
        on = st.toggle("Filter by a follows relation", key="keep_flt_follows_on")
        a = st.selectbox("Activity A", acts, key="keep_flt_follows_a", disabled=not on)
        if acts:
            ss.setdefault("keep_flt_follows_b", acts[min(1, len(acts) - 1)])
        b = st.selectbox("followed by activity B", acts, key="keep_flt_follows_b", disabled=not on)
        kind = st.radio("How", ["eventually", "directly"], horizontal=True, key="keep_flt_follows_kind",
                        disabled=not on)
        within = st.number_input("within days (0: any time)", 0.0, 3650.0, step=1.0,
                                 key="keep_flt_follows_days", disabled=not on)
        how = st.radio("Cases", ["with", "without"], horizontal=True, key="keep_flt_follows_how",
                       disabled=not on, format_func=lambda h: f"{h} this pattern")
        if on and a and b:
            spec["follows"] = (a, b, kind, float(within), how)

    if spec:
        sb.button("Clear all filters", key="flt_reset", on_click=_reset)
    return spec


def describe(spec: dict[str, Any]) -> str:
    """One line saying which filters are on."""
    parts = []
    if "drill" in spec:
        d = spec["drill"]
        parts.append(f"cases passing {d[1]} → {d[2]}" if d[0] == "arc" else f"cases with {d[1]}")
    if "duration" in spec:
        lo, hi = spec["duration"]
        parts.append(f"duration {lo:g} – {hi:g} days" if hi else f"duration ≥ {lo:g} days")
    if "numeric" in spec:
        col, lo, hi = spec["numeric"]
        parts.append(f"{col} " + (f"{lo:,g} – {hi:,g}" if lo is not None and hi is not None
                                  else f"≥ {lo:,g}" if lo is not None else f"≤ {hi:,g}"))
    if "contains" in spec:
        a, how = spec["contains"]
        parts.append(f"cases {how} {' / '.join(a)}")
    if "resource" in spec:
        parts.append(f"touched by {', '.join(spec['resource'][:3])}{' …' if len(spec['resource']) > 3 else ''}")
    if "time" in spec:
        lo, hi, mode = spec["time"]
        parts.append(f"{_TIME_MODES[mode]} {lo} – {hi}")
    if "attribute" in spec:
        col, values, how = spec["attribute"]
        parts.append(f"cases {how} {col} in {{{', '.join(values[:3])}{', …' if len(values) > 3 else ''}}}")
    if "variants" in spec:
        parts.append(f"variants {', '.join(spec['variants'][:5])}{' …' if len(spec['variants']) > 5 else ''}")
    if "starts" in spec:
        parts.append(f"starting with {' / '.join(spec['starts'])}")
    if "ends" in spec:
        parts.append(f"ending with {' / '.join(spec['ends'])}")
    if "follows" in spec:
        a, b, kind, within, how = spec["follows"]
        parts.append(f"cases {how} {a} {kind} followed by {b}" + (f" within {within:g} d" if within else ""))
    return "filtered: " + "; ".join(parts) if parts else NO_FILTERS


def apply(log: EventLog, spec: dict[str, Any]) -> EventLog:
    """The log after every filter in ``spec`` (all of them: a case must pass each)."""
    from processmining import filters

    out = log
    if "drill" in spec:
        d = spec["drill"]
        out = filters.filter_follows(out, d[1], d[2], directly=True) if d[0] == "arc" else \
            filters.filter_contains(out, d[1])
    if "duration" in spec:
        lo, hi = spec["duration"]
        out = filters.filter_case_duration(out, min_duration=lo * 86400.0 if lo else None,
                                           max_duration=hi * 86400.0 if hi else None)
    if "numeric" in spec:
        col, lo, hi = spec["numeric"]
        out = selection.filter_numeric_range(out, col, low=lo, high=hi)
    if "contains" in spec:
        a, how = spec["contains"]
        out = filters.filter_contains(out, list(a), keep=how == "with")
    if "resource" in spec:
        out = filters.filter_case_attribute(out, RESOURCE, list(spec["resource"]))
    if "time" in spec:
        lo, hi, mode = spec["time"]
        out = filters.filter_time_frame(out, lo, f"{hi} 23:59:59.999999", mode=mode)
    if "attribute" in spec:
        col, values, how = spec["attribute"]
        raw = {str(v): v for v in log.df[col].dropna().unique()}
        out = filters.filter_case_attribute(out, col, [raw[v] for v in values if v in raw], keep=how == "with")
    if "variants" in spec:
        out = filters.filter_variants(out, variants=list(spec["_variant_paths"]))
    if "starts" in spec:
        out = filters.filter_start_activities(out, list(spec["starts"]))
    if "ends" in spec:
        out = filters.filter_end_activities(out, list(spec["ends"]))
    if "follows" in spec:
        a, b, kind, within, how = spec["follows"]
        out = filters.filter_follows(out, a, b, directly=kind == "directly",
                                     within=(within * 86400.0) or None, keep=how == "with")
    return out


def sidebar_filters(cur: LoadedLog) -> FilteredView:
    """Draw the sidebar filters and return the filtered current log (cached per session)."""
    spec = _collect(cur)
    if not spec:
        return FilteredView(cur.log, (cur.fingerprint, ()), NO_FILTERS, spec)
    parts = tuple(sorted((k, v) for k, v in spec.items() if not k.startswith("_")))
    key = (cur.fingerprint, parts)
    with st.spinner("Filtering…"):
        log = app_state.cached("filtered_log", key, lambda: apply(cur.log, spec), scope=cur.fingerprint)
    return FilteredView(log, key, describe(spec), spec)


def filtered_page(title: str) -> tuple[LoadedLog, FilteredView]:
    """The current log through the sidebar filters, under ``title`` with its counts.

    The page stops with a hint when the filters leave no case.
    """
    from app_pages._guards import require_log

    cur = require_log()
    view = sidebar_filters(cur)
    log = view.log
    st.title(title)
    st.caption(f"{log.n_events:,} events · {log.n_cases:,} cases · {view.description}")
    if log.n_events == 0:
        st.warning("No case is left after the filters: widen them in the sidebar.")
        st.stop()
    return cur, view
