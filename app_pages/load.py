"""Load page: pick a bundled demo log or upload one; map columns; read the ingest report."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from app_pages._downloads import table_downloads
from processmining import app_state
from processmining.errors import UnsafeInputError
from processmining.model import ColumnMapping

UPLOAD_TYPES = ["csv", "tsv", "txt", "xlsx", "json", "xes", "gz", "parquet"]
NO_PRESET = "(none: map the columns myself)"
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

demo_tab, upload_tab = st.tabs(["Demo logs", "Upload a file"])

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
            st.success(f"Loaded **{entry.key}**: {entry.log.n_events:,} events in "
                       f"{entry.log.n_cases:,} cases.")

# ------------------------------------------------------------------ upload
with upload_tab:
    from processmining import ingest

    limit_mb = int(st.get_option("server.maxUploadSize"))
    uploaded = st.file_uploader(
        f"Event log (CSV, XLSX, JSON, XES, XES.GZ or Parquet; up to {limit_mb} MB)",
        type=UPLOAD_TYPES, key="load_upload",
    )
    if uploaded is not None:
        # the browser enforces the limit; this check keeps the promise for any other client
        if uploaded.size > limit_mb * 1024**2:
            raise UnsafeInputError(f"the file is {uploaded.size / 1024**2:,.0f} MB, over the "
                                   f"{limit_mb} MB upload limit", source=uploaded.name)
        data = uploaded.getvalue()  # bytes in memory only: never written to disk
        digest = hashlib.sha256(data).hexdigest()
        presets = list(ingest.list_presets())
        preset_names = [p if isinstance(p, str) else p.name for p in presets]
        guessed_preset = ingest.detect_preset(data, name=uploaded.name) if hasattr(ingest, "detect_preset") else None
        options = [NO_PRESET, *preset_names]
        preset = st.selectbox(
            "Export layout (preset)", options,
            index=options.index(guessed_preset) if guessed_preset in options else 0,
            key="load_preset",
            help="Presets know the exports of Salesforce, HubSpot, Pipedrive, Dynamics, Jira, "
                 "Zendesk and ServiceNow. Without a preset, say which column is which.",
        )
        sheet = None
        if uploaded.name.lower().endswith(".xlsx"):
            sheet = st.text_input("Sheet (empty: the first)", key="load_sheet") or None

        mapping = ColumnMapping()
        is_table = not uploaded.name.lower().endswith((".xes", ".xes.gz"))
        if preset == NO_PRESET and is_table:
            preview = app_state.cached(
                "preview", (digest, sheet),
                lambda: ingest.preview_table(data, name=uploaded.name, sheet=sheet), scope=digest)
            st.markdown("**First rows** and the type detected for each column")
            st.dataframe(preview.rows, key="load_preview", height=240)
            st.dataframe(pd.DataFrame({"column": list(preview.types),
                                       "detected type": list(preview.types.values())}),
                         hide_index=True, key="load_types")
            guess = ingest.guess_mapping(preview.rows)
            cols = [NONE, *map(str, preview.rows.columns)]
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
            with st.spinner(f"Reading {uploaded.name}…"):
                log = ingest.read_log(
                    data, name=uploaded.name, preset=None if preset == NO_PRESET else preset,
                    mapping=mapping,
                    dayfirst={"detect": None, "day first": True, "month first": False}[order],
                    timezone=tz or "UTC", sheet=sheet)
            entry = app_state.add_log(log, origin="upload")
            st.success(f"Loaded **{entry.key}**: {log.n_events:,} events in {log.n_cases:,} cases.")

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
                        cache_parts=(cur.fingerprint, "quarantine"))
    else:
        st.success("No row was quarantined.")
    st.download_button("Download the ingest report (JSON)", report.to_json().encode(),
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
