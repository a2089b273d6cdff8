"""Bottlenecks page: where time goes, SLA breaches, stuck cases, rework, ping-pong, handovers, funnel."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from app_pages import _state as app_state
from app_pages._calendar import calendar_key, calendar_picker
from app_pages._downloads import table_downloads
from app_pages._filters import filtered_page
from app_pages._status import end_activities_editor, status_caption
from app_pages._tables import readable
from processmining import discovery, performance
from processmining.ingest.presets import analysis_defaults
from processmining.model import RESOURCE
from processmining.performance import bottlenecks, handover
from processmining.performance.calendar import working_sla_breaches
from processmining.render import handover_dot
from processmining.status import case_status


def days(seconds: pd.Series | float) -> pd.Series | float:
    return seconds / 86400.0


def _defaults(cur: app_state.LoadedLog, acts: list[str]) -> None:
    """Seed the settings widgets for this log (once per log)."""
    ss = st.session_state
    if ss.get("pm:bn_for") == cur.fingerprint:
        return
    preset = cur.log.report.preset if cur.log.report else None
    d = analysis_defaults(preset)
    ss["keep_bn_slas"] = d.get("slas", "")
    ss["keep_bn_idle"] = d.get("idle", "30d")
    ss["keep_bn_stages"] = [a for a in d.get("stages", []) if a in acts]
    ss["keep_bn_lost"] = d.get("lost") if d.get("lost") in acts else "(none)"
    ss["keep_bn_pp_ignore"] = [a for a in d.get("ping_pong_ignore", []) if a in acts]
    ss["pm:bn_for"] = cur.fingerprint


cur, view = filtered_page("Bottlenecks")
log = view.log
st.caption(performance.timing_note(log))
acts = cur.log.activities  # settings offer every activity of the log, filtered or not
_defaults(cur, acts)


def cached(kind: str, params: object, compute):  # noqa: ANN001, ANN202 - a thin alias
    return app_state.cached(kind, (view.key, params), compute, scope=cur.fingerprint)


with st.expander("Settings: targets, stuck cases, pipeline stages", expanded=False):
    a, b = st.columns(2)
    slas_text = a.text_area(
        "Time targets (SLA), one per line", key="keep_bn_slas", height=110,
        help='"A->B<=4h": from A to the first B after it. "Stage<=14d": time spent in a stage. '
             '"start->B<=30d": from the case start. Add "if column=value" to restrict cases.')
    idle = b.text_input("Stuck: no event for longer than", key="keep_bn_idle", help="e.g. 14d, 60d, 12h")
    ends = end_activities_editor(cur, container=b)
    stages = st.multiselect("Pipeline stages, in order (funnel, backward moves)", acts, key="keep_bn_stages")
    lost = st.selectbox("Lost / cancelled activity", ["(none)", *acts], key="keep_bn_lost")
    pp_ignore = st.multiselect("Ping-pong: skip these activities (e.g. waiting for the customer)", acts,
                               key="keep_bn_pp_ignore")
slas = tuple(line.strip() for line in (slas_text or "").splitlines() if line.strip())
lost_act = None if lost == "(none)" else lost

with st.spinner("Computing waiting times, targets, rework and the funnel…", show_time=True):
    pm = cached("process_map", (), lambda: discovery.process_map(log))
    ranking = cached("bn_ranking", (), lambda: bottlenecks.bottleneck_ranking(log, pm=pm))
    durations = cached("bn_durations", (), lambda: performance.case_durations(log))
    stats = cached("bn_duration_stats", (), lambda: performance.case_duration_stats(log))

    k = st.columns(5)
    k[0].metric("Cases", f"{log.n_cases:,}")
    k[1].metric("Median case duration", f"{days(stats.get('median', np.nan)):.1f} d")
    k[2].metric("90% of cases within", f"{days(stats.get('p90', np.nan)):.1f} d")
    top = ranking.iloc[0] if len(ranking) else None
    k[3].metric("Biggest time sink", f"{top['share']:.0%}" if top is not None else "–",
                help=f"{top['name']} ({top['kind']})" if top is not None else None)
    k[4].metric("Activities", f"{len(acts):,}")
    if top is not None:
        st.markdown(f"**Where is time lost?** {top['share']:.0%} of all waiting happens at "
                    f"**{top['name']}** ({top['kind']}); median {days(top['median_s']):.1f} days.")

    tabs = st.tabs(["Ranking", "Waiting per arc", "Case durations", "SLA", "Stuck cases", "Rework",
                    "Ping-pong", "Handovers", "Funnel"])
    tables: dict[str, pd.DataFrame] = {"bottlenecks": ranking}

    with tabs[0]:
        # the library's ranking mixes two views of the same time (an arc, and the waiting before its
        # target activity): shown apart, so each table's shares add up on their own
        st.caption("Click a row to look only at the cases behind it (a sidebar selection).")
        cfg = {
            "share": st.column_config.ProgressColumn("share of waiting", format="%.1f%%", min_value=0,
                                                     max_value=100),
            "total_days": st.column_config.NumberColumn("total (days)", format="%.0f"),
            "median_days": st.column_config.NumberColumn("median (days)", format="%.2f"),
            "mean_days": st.column_config.NumberColumn("mean (days)", format="%.2f"),
        }
        for title, kinds, tkey in (("Between two steps (arcs)", ["arc"], "bn_rank_arcs"),
                                   ("At an activity (waiting before it, processing)", ["waiting before", "processing"],
                                    "bn_rank_acts")):
            part = ranking[ranking["kind"].isin(kinds)].reset_index(drop=True)
            if part.empty:
                continue
            show = part.assign(share=part["share"] * 100, total_days=days(part["total_s"]),
                               mean_days=days(part["mean_s"]), median_days=days(part["median_s"]))
            st.markdown(f"**{title}**")
            picked = st.dataframe(
                show[["kind", "name", "frequency", "cases", "share", "total_days", "median_days", "mean_days"]],
                hide_index=True, key=tkey, height=260, on_select="rerun", selection_mode="single-row",
                column_config=cfg)
            rows = tuple(picked.selection.rows) if picked is not None else ()
            last = st.session_state.setdefault("pm:bn_picked", {})
            if rows and last.get(tkey) != rows:  # a new click (the kept selection of the table is not one)
                last[tkey] = rows
                row = part.iloc[rows[0]]
                sel = ("arc", row["source"], row["target"]) if row["kind"] == "arc" else ("node", row["target"])
                st.session_state["keep_flt_drill"] = sel
                st.rerun()
            elif not rows:
                last.pop(tkey, None)

    with tabs[1]:
        arcs = pm.arcs.nlargest(20, "wait_total_s")
        chart = pd.DataFrame({"arc": arcs["source"] + " → " + arcs["target"],
                              "total wait (days)": days(arcs["wait_total_s"]),
                              "median wait (days)": days(arcs["wait_median_s"]),
                              "passages": arcs["frequency"]})
        st.caption("The 20 arcs with the most total waiting time; the colour is the median wait per passage.")
        st.altair_chart(alt.Chart(chart).mark_bar().encode(
            x=alt.X("total wait (days):Q"), y=alt.Y("arc:N", sort="-x", title=None),
            color=alt.Color("median wait (days):Q", scale=alt.Scale(scheme="orangered")),
            tooltip=list(chart.columns)).properties(height=520), width="stretch")

    with tabs[2]:
        d = days(durations["duration_s"].astype(float)).to_numpy()
        if len(d):
            hi = float(np.nanpercentile(d, 99)) or 1.0
            counts, edges = np.histogram(np.clip(d, 0, hi), bins=40, range=(0, hi))
            hist = pd.DataFrame({"days": [f"{e:.1f}" for e in edges[:-1]], "cases": counts})
            st.caption(f"Case duration (first to last event), {len(d):,} cases; the last bar holds the top 1%.")
            st.bar_chart(hist, x="days", y="cases", height=320)
            st.dataframe(pd.DataFrame([{k2: (v if k2 == "count" else days(v)) for k2, v in stats.items()}]),
                         hide_index=True, key="bn_duration_stats")
        tables["case_durations"] = durations

    with tabs[3]:
        cal = calendar_picker()
        if not slas:
            st.info("No time targets set: add some under Settings above (e.g. Open->1st Line Support<=4h).")
        else:
            with app_state.friendly_errors():
                breaches, summary = cached("bn_sla", (slas, ends, calendar_key(cal)), lambda: working_sla_breaches(
                    log, list(slas), cal, end_activities=ends))
                st.dataframe(summary.assign(breach_share=summary["breach_share"] * 100), hide_index=True,
                             key="bn_sla_summary", column_config={"breach_share": st.column_config.ProgressColumn(
                                 "breach share", format="%.1f%%", min_value=0, max_value=100)})
                st.markdown(f"**{len(breaches):,} breaches** in {breaches['case'].nunique():,} cases")
                st.dataframe(readable(breaches), hide_index=True, key="bn_sla_breaches")
                tables["sla_breaches"], tables["sla_summary"] = breaches, summary

    with tabs[4], app_state.friendly_errors():
        status = cached("bn_status", (idle, ends), lambda: case_status(log, end_activities=ends, idle=idle or None))
        st.caption(status_caption(cur, status))
        if not idle:
            st.info("Set an idle time under Settings above: a running case is stuck when it has had no event "
                    "for longer than that.")
        else:
            stuck = status[status["status"] == "stuck"].sort_values(["idle_s", "case"], ascending=[False, True],
                                                                    ignore_index=True)
            st.markdown(f"**{len(stuck):,} stuck cases**: running (not ended by "
                        f"{' / '.join(ends) or 'an end activity'}) and no event for longer than {idle} at the "
                        "log's last event. A finished case is never stuck.")
            @st.fragment
            def stuck_table() -> None:  # the toggle reruns only the table
                show_all = st.toggle("Show every running case", key="bn_stuck_all")
                shown = status[status["status"].isin(["running", "stuck"])] if show_all else stuck
                st.dataframe(readable(shown), hide_index=True, key="bn_stuck")

            stuck_table()
            tables["stuck_cases"] = stuck
            tables["case_status"] = status

    with tabs[5]:
        rw = cached("bn_rework", (), lambda: performance.rework(log))
        st.caption("Activities done more than once in the same case.")
        st.dataframe(readable(rw.reset_index()), hide_index=True, key="bn_rework")
        tables["rework"] = rw.reset_index()
        if stages:
            with app_state.friendly_errors():
                moves = cached("bn_backward", tuple(stages), lambda: performance.backward_moves(log, stages))
                st.markdown(f"**{len(moves):,} backward stage moves** in {moves['case'].nunique():,} cases")
                st.dataframe(moves.groupby(["from_stage", "to_stage"]).size().rename("moves").reset_index()
                             .sort_values("moves", ascending=False), hide_index=True, key="bn_backward_pairs")
                st.dataframe(readable(moves), hide_index=True, key="bn_backward")
                tables["backward_moves"] = moves

    with tabs[6]:
        pp = cached("bn_pingpong", tuple(pp_ignore), lambda: handover.ping_pong(log, ignore=pp_ignore))
        st.caption("A case going A → B → A between activities (support lines, stages); "
                   + (f"skipping {', '.join(pp_ignore)}." if pp_ignore else "nothing skipped."))
        st.dataframe(readable(pp), hide_index=True, key="bn_pingpong")
        tables["ping_pong"] = pp
        if RESOURCE in log.df.columns:
            ppr = cached("bn_pingpong_res", (), lambda: handover.ping_pong(log, attribute=RESOURCE))
            st.caption("Between people (resources):")
            st.dataframe(ppr.head(200), hide_index=True, key="bn_pingpong_res")

    with tabs[7]:
        if RESOURCE not in log.df.columns:
            st.info("The log has no resource column, so there are no handovers between people.")
        else:
            ho = cached("bn_handovers", (), lambda: handover.handovers(log))
            tables["handovers"] = ho

            @st.fragment
            def handover_graph() -> None:  # the slider reruns only the graph
                n_top = st.slider("Show the strongest handovers", 5, 100, 30, key="bn_ho_top")
                st.caption("Who hands work to whom: the strongest handovers; thicker = more often.")
                st.graphviz_chart(handover_dot(ho.head(n_top)), width="stretch")

            handover_graph()
            st.dataframe(readable(ho), hide_index=True, key="bn_handovers")

    with tabs[8]:
        if not stages:
            st.info("Choose the pipeline stages in order under Settings above to see the funnel.")
        else:
            with app_state.friendly_errors():
                fun_stages = [s for s in stages if s != lost_act]
                fun = cached("bn_funnel", (tuple(fun_stages), lost_act, ends),
                             lambda: performance.funnel(log, fun_stages, lost=lost_act, end_activities=ends))
                bars = alt.Chart(fun.assign(label=[f"{r:,} ({c:.0%})" for r, c in
                                                   zip(fun["reached"], fun["conversion"], strict=True)]))
                y = alt.Y("stage:N", sort=fun_stages, title=None)
                st.altair_chart(
                    bars.mark_bar().encode(x=alt.X("reached:Q", title="cases that got this far"), y=y,
                                           tooltip=list(fun.columns))
                    + bars.mark_text(align="left", dx=4).encode(x="reached:Q", y=y, text="label:N"),
                    width="stretch")
                if lost_act and "lost_here" in fun.columns:
                    st.caption(f"{fun.attrs.get('lost_cases', 0):,} cases ended in {lost_act}; "
                               "lost_here says at which stage they dropped out.")
                st.dataframe(fun.assign(conversion=fun["conversion"] * 100), hide_index=True, key="bn_funnel",
                             column_config={"conversion": st.column_config.NumberColumn(format="%.1f%%")})
                tables["funnel"] = fun

st.divider()
st.markdown("**Download these tables** (every table as a sheet; with provenance)")
prov = app_state.log_provenance(cur, filters=view.description, slas=list(slas), idle=idle, stages=stages,
                                end_activities=list(ends))
table_downloads(tables, stem=f"{cur.key}.bottlenecks", key="bn_dl", provenance=prov,
                formats=("xlsx", "json", "zip"))
