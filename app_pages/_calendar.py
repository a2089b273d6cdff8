"""The session's business-hours calendar: one upload, used by every page that measures SLA and response times."""

from __future__ import annotations

import hashlib

import streamlit as st

from app_pages import _state as app_state
from processmining.performance.calendar import BusinessCalendar, load_calendar

#: session key of the parsed calendar and of its file's sha256 (not widget keys: they outlive a page)
KEY = "pm:calendar"


def calendar_picker() -> BusinessCalendar | None:
    """An uploader for a calendar YAML (``hours`` per weekday, ``timezone``, ``holidays``, as the CLI's
    ``--calendar``); the calendar it gives is kept for the session, shown, and removable."""
    ss = st.session_state
    up = st.file_uploader("Business-hours calendar (YAML, optional)", type=["yaml", "yml"], key="calendar_upload",
                          help="Opening hours per weekday, time zone and holidays, as for the CLI's --calendar: "
                               "SLA, first-response and resolution times are then measured in working time.")
    if up is not None:
        data = up.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        if ss.get(KEY) is None or ss[KEY][1] != digest:
            with app_state.friendly_errors():
                ss[KEY] = (load_calendar(data, name=up.name), digest)
    current = ss.get(KEY)
    if current is None:
        st.caption("No calendar: durations are calendar time (24 × 7).")
        return None
    cal = current[0]
    hours = "; ".join(f"{d} {', '.join(v)}" for d, v in cal.describe()["hours"].items())  # type: ignore[union-attr]
    c = st.columns([4, 1])
    c[0].caption(f"Working time by **{cal.name}** ({cal.timezone}; {hours}; {len(cal.holidays):,} holidays"
                 f"{' + ' + cal.country + ' public holidays' if cal.country else ''}).")
    if c[1].button("Remove the calendar", key="calendar_remove"):
        ss.pop(KEY, None)
        st.rerun()
    return cal


def calendar_key(cal: BusinessCalendar | None) -> str:
    """A cache key part for results that depend on the calendar."""
    current = st.session_state.get(KEY)
    return current[1] if cal is not None and current is not None else ""
