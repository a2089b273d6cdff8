"""The result half of the Conformance page: rules, KPIs, the diagram with overlays, the deviation table.

Widgets only: conformance, rules, overlays and exports are computed by
:mod:`processmining.conformance`, :mod:`processmining.rules`,
:mod:`processmining.bpmn` and :mod:`processmining.export`. The one thing
done here is presentation: turning per-task counts into colours and badges.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app_pages import _state as app_state
from app_pages._badges import place_badges
from app_pages._diagram import diagram
from app_pages._downloads import table_downloads
from app_pages._state import LoadedLog
from processmining.errors import ProcessMiningError

KIND_LABEL = {"missing": "skipped", "unexpected": "unexpected", "out_of_order": "out of order",
              "rule": "rule broken", "not_computed": "not computed"}
_WHITE, _RED = (255, 255, 255), (215, 58, 73)


def heat(share: float) -> str:
    """White (0) to red (1) as a CSS colour."""
    s = min(max(share, 0.0), 1.0)
    r, g, b = (round(w + (c - w) * s) for w, c in zip(_WHITE, _RED, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


# ------------------------------------------------------------------ rules
def rules_section(model_name: str, known: list[str]) -> tuple[str, Any, dict[str, str] | None]:
    """The YAML rule editor; returns ``(yaml text, RuleSet or None, roles or None)``; messages shown in place.

    The editor starts with ``bpmn_models/<model>.rules.yaml`` when there is one;
    ``<model>.roles.csv`` next to it maps resources to the roles of ``role`` rules.
    """
    from processmining import rules as rules_mod

    stem = model_name.rsplit(".", 1)[0]
    key = f"keep_cf_rules_{hashlib.sha1(stem.encode()).hexdigest()[:8]}"
    if key not in st.session_state:
        default = app_state.MODEL_DIR / f"{stem}.rules.yaml"
        st.session_state[key] = default.read_text(encoding="utf-8") if default.is_file() else ""
    roles_key = f"keep_cf_roles_{hashlib.sha1(stem.encode()).hexdigest()[:8]}"
    roles_file = app_state.MODEL_DIR / f"{stem}.roles.csv"
    if roles_key not in st.session_state:
        st.session_state[roles_key] = roles_file.read_text(encoding="utf-8") if roles_file.is_file() else ""
    parsed = roles = None
    with st.expander("Audit rules (YAML) and roles", expanded=False):
        st.caption("Segregation of duties, four eyes, time limits, precedence, response, existence, absence, "
                   "roles and backward moves, checked per case next to the model. Edits apply at the next check "
                   "and are kept in the workspace.")
        text = st.text_area("Rules", key=key, height=300, label_visibility="collapsed")
        roles_text = st.text_area("Roles of the resources (CSV: resource,role), for role rules", key=roles_key,
                                  height=120)
        if roles_text.strip():
            try:
                roles = rules_mod.read_roles(roles_text.encode("utf-8"), name="roles editor")
            except ProcessMiningError as exc:
                st.error(f"**{exc}**\n\nThe role rules run without roles until this is fixed.")
        if text.strip():
            try:
                parsed = rules_mod.load_rules(text.encode("utf-8"), name="rules editor")
                parsed.validate_activities(known)
            except ProcessMiningError as exc:
                parsed = None
                st.error(f"**{exc}**\n\nThe check below runs without rules until this is fixed.")
            else:
                st.success(f"{len(parsed)} rules are valid and checked"
                           + (f"; roles of {len(roles)} resources." if roles else "."))
    return text, parsed, roles


# ------------------------------------------------------------------ diagram
def task_ids_by_activity(model: Any, label_map: dict[str, str]) -> dict[str, list[str]]:
    """Log activity -> ids of the tasks it was matched to."""
    out: dict[str, list[str]] = {}
    for node in model.tasks:
        act = label_map.get(node.name)
        if act is not None:
            out.setdefault(act, []).append(node.id)
    return out


def element_targets(model: Any, deviations: pd.DataFrame, label_map: dict[str, str]) -> pd.DataFrame:
    """Deviations (not accepted) per diagram element: ``element``, ``case``, ``kind`` (columnar).

    A deviation names its BPMN element, or else its activity, which points at the
    tasks matched to it.
    """
    dev = deviations[~deviations["accepted"].astype(bool)] if "accepted" in deviations else deviations
    if dev.empty:
        return pd.DataFrame(columns=["element", "case", "kind"])
    elem = dev["bpmn_element_id"].astype(object)
    direct = elem.isin(list(model.nodes)) | elem.isin(list(model.flows))
    by_act = pd.DataFrame([(a, t) for a, ts in task_ids_by_activity(model, label_map).items() for t in ts],
                          columns=["activity", "element"])
    first = pd.DataFrame({"element": elem[direct], "case": dev["case_id"][direct], "kind": dev["kind"][direct]})
    rest = dev.loc[~direct, ["activity", "case_id", "kind"]].merge(by_act, on="activity")
    rest = rest.rename(columns={"case_id": "case"})[["element", "case", "kind"]]
    return pd.concat([first, rest], ignore_index=True)


def element_overlays(model: Any, deviations: pd.DataFrame, label_map: dict[str, str], n_cases: int) -> dict:
    """Per task: deviating cases as colour (share of all cases), badge (count) and a short caption (share)."""
    from processmining.bpmn.diagram import Overlay

    if deviations.empty or n_cases == 0:
        return {}
    per = element_targets(model, deviations, label_map)
    per = per[per["element"].isin(list(model.nodes))]
    if per.empty:
        return {}
    # distinct (element, case) pairs as one int64 key: fast on 100k+ rows
    e_code, e_names = pd.factorize(per["element"])
    c_code, c_names = pd.factorize(per["case"])
    n_c = max(len(c_names), 1)
    ec = pd.unique(e_code.astype(np.int64) * n_c + c_code)
    cases = pd.Series(np.bincount(ec // n_c, minlength=len(e_names)), index=e_names)
    top = float(cases.max())
    # the caption under a task stays short (it must never run into the next task's); the kinds of
    # deviation are listed when the task is clicked
    overlays = {elem: Overlay(fill=heat(0.15 + 0.85 * n / top), badge=f"{n:,}", label=f"{n / n_cases:.1%} deviate")
                for elem, n in cases.items()}
    return place_badges(model, overlays)  # every badge a place of its own: no two overlap


def flow_overlays(model: Any, flow_counts: dict[str, int]) -> dict:
    """Every sequence flow labelled with how often the cases took it; line width by frequency.

    ``flow_counts`` is :attr:`processmining.conformance.ConformanceResult.flow_counts`:
    exact traversals along each case's aligned run of the model, between gateways and
    events too (a flow no case took shows 0, in grey). Empty counts (token replay) leave
    the flows plain.
    """
    from processmining.bpmn.diagram import Overlay

    if not flow_counts:
        return {}
    counts = {fid: int(flow_counts.get(fid, 0)) for fid in model.flows}
    top = max(counts.values(), default=0) or 1
    return {fid: Overlay(fill="#2b6fb0" if n else "#aab2bd", label=f"{n:,}", stroke_width=1.2 + 4.8 * n / top)
            for fid, n in counts.items()}


def element_counts_table(model: Any, element_counts: dict[str, int]) -> pd.DataFrame:
    """One row per BPMN element of the diagram: id, type, name and how often the cases executed it."""
    nodes = list(model.nodes.values())
    return pd.DataFrame({
        "element": [n.id for n in nodes],
        "type": [n.type for n in nodes],
        "name": [n.name or "" for n in nodes],
        "executions": [int(element_counts.get(n.id, 0)) for n in nodes],
    })


def diagram_section(model: Any, *, elements: dict | None = None, flows: dict | None = None,
                    cache_parts: Any = None, dev: pd.DataFrame | None = None,
                    label_map: dict[str, str] | None = None, flow_counts: dict[str, int] | None = None) -> str:
    """Draw the BPMN diagram with overlays in the zoomable viewer; a click lists that element's deviating cases.

    The default zoom keeps every label at least 11 px high (the whole diagram
    when it fits that way); zooming and panning happen in the browser and never
    rerun an analysis.
    """
    from processmining.bpmn.diagram import render_svg

    svg = app_state.cached("bpmn_svg", cache_parts, lambda: render_svg(
        model, element_overlays=elements or {}, flow_overlays=flows or {}), scope=str(cache_parts))

    @st.fragment
    def viewer() -> None:  # a click on the diagram reruns only the viewer and its list of cases
        event = diagram(svg, key="cf_viewer", height=620, min_font_px=11.0,
                        hint="Drag to pan, wheel or +/− to zoom, 0 to fit the whole model. "
                             "Click a task or a flow to list its deviating cases.")
        if event and event.get("type") == "click" and event.get("kind") == "element":
            _element_cases(model, event["id"], dev, label_map or {}, flow_counts or {})
        st.download_button("Download the diagram (SVG)", svg.encode(), file_name=f"{model.source}.overlay.svg",
                           mime="image/svg+xml", key="cf_svg_dl", on_click="ignore")

    viewer()
    return svg


def _element_cases(model: Any, element: str, dev: pd.DataFrame | None, label_map: dict[str, str],
                   flow_counts: dict[str, int]) -> None:
    node = model.nodes.get(element)
    title = (node.name or node.id) if node is not None else element
    what = "flow" if element in model.flows else "element"
    if dev is None:
        st.info(f"**{title}**: check conformance to see the cases that deviate here.")
        return
    per = element_targets(model, dev, label_map)
    cases = per[per["element"] == element]
    taken = f" {flow_counts.get(element, 0):,} passages of the cases take this flow." if what == "flow" else ""
    if cases.empty:
        st.success(f"**{title}** ({what} `{element}`): no deviating case.{taken}")
        return
    ids = sorted(cases["case"].astype(str).unique())
    kinds = cases.groupby("kind")["case"].nunique()
    text = ", ".join(f"{KIND_LABEL.get(k, k)} in {v:,}" for k, v in kinds.items())
    st.markdown(f"**{title}** ({what} `{element}`): {len(ids):,} deviating cases ({text}).{taken}")
    rows = dev[dev["case_id"].astype(str).isin(ids)]
    act = label_map.get(node.name) if node is not None else None
    rows = rows[(rows["bpmn_element_id"].astype(object) == element) | (rows["activity"] == act)]
    st.dataframe(rows, hide_index=True, key="cf_element_cases", height=240)


# ------------------------------------------------------------------ deviation table
def deviation_filters(dev: pd.DataFrame, scope: str) -> pd.DataFrame:
    """Filter widgets over the deviation table: kind, activity, rule, resource, time.

    ``scope`` (log and model) is part of every key: another result starts unfiltered.
    """
    c = st.columns(5)
    kinds = c[0].multiselect("Kind", sorted(dev["kind"].dropna().unique()), key=f"cf_f_kind_{scope}",
                             format_func=lambda k: KIND_LABEL.get(k, k))
    acts = c[1].multiselect("Activity", sorted(dev["activity"].dropna().astype(str).unique()), key=f"cf_f_act_{scope}")
    rules = c[2].multiselect("Rule", sorted(dev["rule_id"].dropna().astype(str).unique()), key=f"cf_f_rule_{scope}")
    res = c[3].multiselect("Resource", sorted(dev["resource"].dropna().astype(str).unique()), key=f"cf_f_res_{scope}")
    show = dev
    if kinds:
        show = show[show["kind"].isin(kinds)]
    if acts:
        show = show[show["activity"].astype(str).isin(acts)]
    if rules:
        show = show[show["rule_id"].astype(str).isin(rules)]
    if res:
        show = show[show["resource"].astype(str).isin(res)]
    ts = pd.to_datetime(dev["timestamp"], utc=True, errors="coerce")
    if ts.notna().any():
        lo, hi = ts.min().date(), ts.max().date()
        rng = c[4].date_input("Time", value=(lo, hi), min_value=lo, max_value=hi, key=f"cf_f_time_{scope}")
        if isinstance(rng, (tuple, list)) and len(rng) == 2 and (rng[0], rng[1]) != (lo, hi):
            t = pd.to_datetime(show["timestamp"], utc=True, errors="coerce")
            show = show[(t.dt.date >= rng[0]) & (t.dt.date <= rng[1])]
    return show


def accept_section(dev: pd.DataFrame, store_key: str) -> None:
    """Mark a deviation pattern (kind + activity or rule) as accepted with a reason."""
    patterns: list[dict] = st.session_state.setdefault(store_key, [])
    with st.expander(f"Accepted deviation patterns ({len(patterns)})", expanded=False, key="cf_acc_open"):
        st.caption("Accepted deviations stay in the exports, flagged with the reason, and no longer count "
                   "against the conformance rate.")
        c = st.columns([1, 1.5, 1.5, 2, 0.8])
        kind = c[0].selectbox("Kind", sorted(dev["kind"].dropna().unique()) or ["missing"], key="cf_acc_kind",
                              format_func=lambda k: KIND_LABEL.get(k, k))
        sub = dev[dev["kind"] == kind]
        acts = ["(any)", *sorted(sub["activity"].dropna().astype(str).unique())]
        act = c[1].selectbox("Activity", acts, key="cf_acc_act")
        rules = ["(any)", *sorted(sub["rule_id"].dropna().astype(str).unique())]
        rule = c[2].selectbox("Rule", rules, key="cf_acc_rule")
        c[3].text_input("Reason", key="cf_acc_reason", placeholder="e.g. approved by the CFO in Q2")

        def add() -> None:
            text = (st.session_state.get("cf_acc_reason") or "").strip()
            if not text:
                st.session_state["pm:cf_acc_msg"] = "Give a reason: accepted deviations must say why."
                return
            patterns.append({"kind": kind, "activity": None if act == "(any)" else act,
                             "rule_id": None if rule == "(any)" else rule, "reason": text})
            st.session_state["cf_acc_reason"] = ""

        c[4].button("Accept", key="cf_acc_add", on_click=add)
        if st.session_state.get("pm:cf_acc_msg"):
            st.warning(st.session_state.pop("pm:cf_acc_msg"))
        if patterns:
            st.dataframe(pd.DataFrame(patterns), hide_index=True, key="cf_acc_table")
            st.button("Remove all accepted patterns", key="cf_acc_clear", on_click=patterns.clear)


def accepted_from(store_key: str) -> Any:
    """The accepted patterns of this session as the library's :class:`AcceptedDeviations`."""
    from processmining.conformance.accepted import AcceptedDeviations, AcceptedPattern

    pats = st.session_state.get(store_key, [])
    return AcceptedDeviations(patterns=tuple(AcceptedPattern(kind=p["kind"], reason=p["reason"],
                                                             activity=p["activity"], rule_id=p["rule_id"])
                                             for p in pats), source="accepted in the app")


def downloads_section(cur: LoadedLog, dev: pd.DataFrame, summary: dict, provenance: Any) -> None:
    st.markdown("**Download the deviations** (with the summary and provenance)")
    table_downloads({"deviations": dev, "summary": summary}, stem=f"{cur.key}.deviations", key="cf_dl",
                    provenance=provenance)
