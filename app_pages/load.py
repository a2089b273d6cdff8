"""Load page: pick a bundled demo log or upload one; map columns; read the ingest report."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import streamlit as st

from app_pages import _state as app_state
from app_pages._downloads import pseudonymizer, table_downloads
from processmining.errors import ProcessMiningError, UnsafeInputError
from processmining.ingest.guess import column_types
from processmining.model import ColumnMapping

UPLOAD_TYPES = ["csv", "tsv", "txt", "xlsx", "json", "xes", "gz", "parquet"]
AUTO = "Auto-detect"
NO_PRESET = "Map the columns myself"
NONE = "(none)"
ROLES = (
    ("case", "Case id", True),
    ("activity", "Activity / stage / status", True),
    ("timestamp", "Timestamp", True),
    ("resource", "Resource (user, agent, team)", False),
    ("end_timestamp", "End timestamp (then Timestamp is the start)", False),
)

st.title("Load an event log")
st.caption("Sales- and support-process mining and BPMN conformance. "
           "Start with a demo log, or upload your CRM / ticket export.")



def loaded(entry: app_state.LoadedLog) -> None:
    """Say what was loaded, and rerun so that the sidebar offers the new log."""
    st.session_state["pm:load_msg"] = (f"Loaded **{entry.key}**: {entry.log.n_events:,} events in "
                                       f"{entry.log.n_cases:,} cases. Every page now analyses it.")
    st.rerun()


if st.session_state.get("pm:load_msg"):
    st.success(st.session_state.pop("pm:load_msg"))
# stateful tabs: after an upload (and its rerun) the "Upload a file" tab stays open
demo_tab, upload_tab = st.tabs(["Demo logs", "Upload a file"], key="load_tab", on_change="rerun")

# ------------------------------------------------------------------ demo logs
with demo_tab:
    demos = app_state.available_demos()
    if not demos:
        st.info("No demo logs in this checkout (the `eventlogs/` folder is empty).")
    else:
        pick = st.selectbox("Bundled demo log", demos, format_func=lambda d: f"{d.title} — {d.file}",
                            key="load_demo_pick")
        if st.button("Load demo log", key="load_demo_btn", type="primary"):
            with st.spinner(f"Reading {pick.file}…"):
                entry = app_state.load_demo(pick)
            loaded(entry)

# ------------------------------------------------------------------ upload
with upload_tab:
    from processmining import ingest

    limit_mb = int(st.get_option("server.maxUploadSize"))
    uploaded = st.file_uploader(
        f"Event log (CSV, XLSX, JSON, XES, XES.GZ or Parquet; up to {limit_mb} MB)",
        type=UPLOAD_TYPES, key="load_upload",
        help="CRM and ticket exports are recognised: Salesforce, HubSpot, Pipedrive, Jira, Zendesk, ServiceNow.",
    )
    if uploaded is not None:
        # the browser enforces the limit; this check keeps the promise for any other client
        if uploaded.size > limit_mb * 1024**2:
            raise UnsafeInputError(f"the file is {uploaded.size / 1024**2:,.0f} MB, over the "
                                   f"{limit_mb} MB upload limit", source=uploaded.name)
        data = uploaded.getvalue()  # bytes in memory only: never written to disk
        digest = hashlib.sha256(data).hexdigest()
        lower = uploaded.name.lower()
        is_xes = lower.endswith((".xes", ".xes.gz"))
        sheet = None
        if lower.endswith(".xlsx"):
            sheet = st.text_input("Sheet (empty: the first)", key="load_sheet") or None

        table = None
        if not is_xes:
            try:
                table = app_state.cached("preview", (digest, sheet),
                                         lambda: ingest.read_table(data, name=uploaded.name, sheet=sheet),
                                         scope=digest)
            except ProcessMiningError as exc:  # nested JSON (Jira, Zendesk ...) has no flat preview
                st.caption(f"No table preview ({exc.message}); a preset reads it.")
        presets = {p.name: p for p in ingest.list_presets()}
        detected = ingest.detect_preset([str(c) for c in table.frame.columns]) if table is not None else None
        options = [AUTO, *presets, NO_PRESET] if not is_xes else [AUTO]
        if st.session_state.get("pm:load_for") != digest:  # a new file: start from what was detected
            st.session_state["load_preset"] = detected.name if detected else AUTO
            st.session_state["pm:load_for"] = digest
        preset = st.selectbox(
            "Export layout", options, key="load_preset",
            format_func=lambda o: f"{presets[o].system}: {o}" if o in presets else o,
            help="Presets know the exports of Salesforce, HubSpot, Pipedrive, Jira, Zendesk and ServiceNow. "
                 "Auto-detect recognises them from the columns, or guesses the columns of a plain event table.",
        )
        if preset in presets:
            st.caption(presets[preset].description)
        if detected is not None and preset == detected.name:
            st.caption(f"Recognised from the columns: **{detected.system}** ({detected.name}).")

        mapping = None
        if table is not None:
            st.markdown(f"**First rows** of {len(table.frame):,} and what each column looks like")
            st.dataframe(table.frame.head(20), key="load_preview", height=240)
            st.dataframe(app_state.cached("preview_types", (digest, sheet), lambda: column_types(table.frame),
                                          scope=digest), hide_index=True, key="load_types")
        if table is not None and preset == NO_PRESET:
            try:
                guess = ingest.guess_mapping(table.frame)
            except ProcessMiningError:
                guess = ColumnMapping()
            cols = [NONE, *map(str, table.frame.columns)]
            chosen: dict[str, str | None] = {}
            grid = st.columns(len(ROLES))
            for (role, label, _required), cell in zip(ROLES, grid, strict=True):
                default = getattr(guess, role, None)
                chosen[role] = cell.selectbox(
                    label, cols, index=cols.index(default) if default in cols else 0,
                    key=f"load_map_{role}")
            mapping = ColumnMapping(**{r: (v if v != NONE else None) for r, v in chosen.items()})
            missing = [label for role, label, required in ROLES if required and chosen[role] == NONE]
            if missing:
                st.warning("Choose the column for: " + ", ".join(missing))

        left, right = st.columns(2)
        order = left.radio("Dates like 03/04/2024 are", ["detect", "day first", "month first"],
                           horizontal=True, key="load_dayfirst")
        tz = right.text_input("Time zone of timestamps without an offset", "UTC", key="load_tz")
        if st.button("Read the log", key="load_upload_btn", type="primary"):
            with app_state.progress(f"Reading {uploaded.name}") as progress:
                log = ingest.read_log(
                    data, name=uploaded.name, preset=preset if preset in presets else None,
                    mapping=mapping, dayfirst={"detect": None, "day first": True, "month first": False}[order],
                    timezone=tz or "UTC", sheet=sheet, progress=progress)
            loaded(app_state.add_log(log, origin="upload"))

# ------------------------------------------------------------------ the current log
st.divider()
cur = app_state.current()
if cur is None:
    st.info("No log loaded yet: load a demo log or upload a file above.")
    st.stop()

log, report = cur.log, cur.log.report
st.subheader(f"Ingest report — {cur.key}")
span = log.time_span
m = st.columns(5)
m[0].metric("Events", f"{log.n_events:,}")
m[1].metric("Cases", f"{log.n_cases:,}")
m[2].metric("Activities", f"{len(log.activities):,}")
m[3].metric("From", span[0].strftime("%Y-%m-%d") if span else "–")
m[4].metric("To", span[1].strftime("%Y-%m-%d") if span else "–")

if report is not None:
    st.markdown(
        f"Read **{report.rows_read:,}** rows from `{report.source}` "
        f"(sha256 `{report.sha256[:12]}…`, {report.shape} shape"
        f"{', preset `' + report.preset + '`' if report.preset else ''}); "
        f"timestamps without an offset were read as **{report.timezone}**.")
    if report.mapping:
        st.caption("Mapping: " + ", ".join(f"{k} = `{v}`" for k, v in report.mapping.items()))
    accounting = [("became events", report.events),
                  ("quarantined (see below)", len(report.quarantined)),
                  ("collapsed: repeated the current stage", report.collapsed_duplicates)]
    accounting += [(f"not used: {reason}", n) for reason, n in report.filtered.items()]
    st.dataframe(pd.DataFrame(accounting, columns=["rows", "count"]), hide_index=True,
                 key="load_accounting")
    for warning in report.warnings:
        st.warning(warning)
    if report.quarantined:
        q = pd.DataFrame([r.to_dict() for r in report.quarantined])
        st.markdown(f"**{len(q):,} quarantined rows** — not in the log, each with its reason")
        st.dataframe(q, hide_index=True, key="load_quarantine")
        table_downloads({"quarantined_rows": q}, stem=f"{cur.key}.quarantined", key="load_quarantine_dl",
                        provenance=app_state.log_provenance(cur))
    else:
        st.success("No row was quarantined.")
    def _report_json() -> bytes:
        pseudo = pseudonymizer()
        if pseudo is None:
            return report.to_json().encode()
        return json.dumps(pseudo.mapping(json.loads(report.to_json())), indent=2, ensure_ascii=False).encode()

    st.download_button("Download the ingest report (JSON)", _report_json(),
                       file_name=f"{cur.key}.ingest-report.json", mime="application/json",
                       key="load_report_dl")

# ------------------------------------------------------------------ loaded logs
logs = app_state.loaded_logs()
if len(logs) > 1:
    st.subheader("Loaded logs")
    st.caption("Switch between them in the sidebar.")
    for entry in logs:
        a, b = st.columns([5, 1])
        a.markdown(f"**{entry.key}** — {entry.log.n_events:,} events, {entry.log.n_cases:,} cases "
                   f"({entry.origin})")
        if b.button("Remove", key=f"load_remove_{entry.fingerprint}"):
            app_state.remove(entry.key)
            st.rerun()
