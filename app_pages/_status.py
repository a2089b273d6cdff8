"""The end activities of the current log, shown and editable: they decide which cases are finished, running, stuck.

One list per log and session (``pm:ends`` keyed by the log's fingerprint),
seeded from the log's preset or else inferred from the data by
:func:`processmining.status.infer_end_activities`, with the evidence of
:func:`processmining.status.end_activity_table`. The Bottlenecks and Cases
pages show it beside the stuck / SLA settings; stuck cases, SLA (late vs
still open), the funnel, conformance (running cases are checked as prefixes)
and the report all use the edited list, and the workspace file keeps it.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from app_pages import _state as app_state
from app_pages._state import LoadedLog

#: session key: log fingerprint -> {"ends": [...], "source": "preset" | "inferred" | "none" | "edited"}
ENDS = "pm:ends"
_WIDGET = "status_ends"


def _session(state: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
    if state is not None:
        return state
    import streamlit as st

    return st.session_state


def _default(entry: LoadedLog) -> dict[str, Any]:
    from processmining.ingest.presets import analysis_defaults
    from processmining.status import infer_end_activities

    acts = set(entry.log.activities)
    preset = entry.log.report.preset if entry.log.report else None
    given = [a for a in analysis_defaults(preset).get("ends", []) if a in acts]
    if given:
        return {"ends": given, "source": "preset"}
    inferred = list(infer_end_activities(entry.log))
    return {"ends": inferred, "source": "inferred" if inferred else "none"}


def end_setting(entry: LoadedLog, *, state: MutableMapping[str, Any] | None = None) -> dict[str, Any]:
    """``{"ends": [...], "source": ...}`` of ``entry`` in this session (the default on first use)."""
    s = _session(state)
    store: dict[str, dict[str, Any]] = s.setdefault(ENDS, {})
    if entry.fingerprint not in store:
        store[entry.fingerprint] = app_state.cached("ends_default", (entry.fingerprint,), lambda: _default(entry),
                                                    scope=entry.fingerprint, state=s)
    return store[entry.fingerprint]


def end_activities(entry: LoadedLog, *, state: MutableMapping[str, Any] | None = None) -> tuple[str, ...]:
    """The end activities every analysis of ``entry`` uses in this session."""
    return tuple(end_setting(entry, state=state)["ends"])


def set_end_activities(entry: LoadedLog, ends: list[str], *, state: MutableMapping[str, Any] | None = None) -> None:
    s = _session(state)
    s.setdefault(ENDS, {})[entry.fingerprint] = {"ends": [str(a) for a in ends], "source": "edited"}


def running_cases(entry: LoadedLog, *, state: MutableMapping[str, Any] | None = None) -> Any:
    """What conformance gets as ``running``: the ids of ``entry``'s cases that are not finished by the session's
    end activities; ``"none"`` (every case checked in full) when the list is empty."""
    from processmining.status import running_case_ids

    ends = end_activities(entry, state=state)
    if not ends:
        return "none"
    return app_state.cached("running_ids", (entry.fingerprint, ends),
                            lambda: running_case_ids(entry.log, end_activities=ends), scope=entry.fingerprint,
                            state=state)


_SOURCE = {"preset": "from the log's preset", "inferred": "inferred from the data (the activities that end most "
           "cases that contain them)", "edited": "edited by you", "none": "none found in the data"}


def end_activities_editor(entry: LoadedLog, *, container: Any = None) -> tuple[str, ...]:
    """The editable list (a multiselect) with where it came from and the evidence; returns the list."""
    import pandas as pd
    import streamlit as st

    from processmining.status import end_activity_table

    place = container if container is not None else st
    setting = end_setting(entry)
    ss = st.session_state
    ss[_WIDGET] = list(setting["ends"])  # the stored list drives the widget (on every page, for every log)

    def changed() -> None:
        set_end_activities(entry, list(ss.get(_WIDGET) or []))

    place.multiselect("Finished cases end with", entry.log.activities, key=_WIDGET, on_change=changed,
                      help="A case whose last event is one of these is finished; any other case is running (and "
                           "stuck when idle too long). Used by stuck cases, SLA, the funnel, conformance (running "
                           "cases are checked as prefixes) and the report; kept in the workspace.")
    place.caption(f"End activities {_SOURCE[setting['source']]}." if setting["ends"] else
                  "No end activity: every case counts as running, and conformance checks every case in full.")
    if place.checkbox("Show the evidence: which activities end the cases", key="status_end_evidence"):
        table = app_state.cached("end_table", (entry.fingerprint,), lambda: end_activity_table(entry.log),
                                 scope=entry.fingerprint)
        place.dataframe(pd.DataFrame({"activity": table["activity"], "cases ending here": table["cases_ending"],
                                   "cases with it": table["cases_containing"],
                                   "share last": table["share_last"] * 100}).head(30),
                     hide_index=True, key="status_end_table", column_config={
                         "share last": st.column_config.ProgressColumn("share of its cases it ends", format="%.0f%%",
                                                                       min_value=0, max_value=100)})
    return tuple(setting["ends"])
