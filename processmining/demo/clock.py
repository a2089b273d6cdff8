"""Vectorised time helpers for the demo generators: business hours, lognormal waits, formats.

All generators work in *local wall-clock* time (numpy ``datetime64[s]`` without a
zone, Europe/Berlin office hours) and convert to UTC only when writing, so that
"Mon–Fri 08:00–18:00" is a simple mask and daylight saving time is handled once
by pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: the demo company's office time zone (sales team and service desk)
OFFICE_TZ = "Europe/Berlin"
#: the moment the demo exports were taken (local wall clock; a Monday morning)
EXPORT_LOCAL = np.datetime64("2024-12-02T07:00:00", "s")
#: first day of the year of history the exports cover
WINDOW_START_LOCAL = np.datetime64("2023-12-04T00:00:00", "s")

#: days the office is closed (Berlin public holidays and the Christmas shutdown): a quiet period in every
#: export. Work that would fall on them moves to the next working day; a case idle over them is still idle.
OFFICE_CLOSED = np.array([
    "2023-12-25", "2023-12-26", "2023-12-27", "2023-12-28", "2023-12-29", "2024-01-01", "2024-03-08", "2024-03-29",
    "2024-04-01", "2024-05-01", "2024-05-09", "2024-05-20", "2024-10-03", "2024-12-24", "2024-12-25", "2024-12-26",
], dtype="datetime64[D]")

SECOND = np.timedelta64(1, "s")
DAY_S = 86_400
WEEK = np.timedelta64(7 * DAY_S, "s")


def lognormal_seconds(
    rng: np.random.Generator, size: int, *, median_days: float, sigma: float, cap_days: float, floor_minutes: float = 5.0
) -> np.ndarray:
    """``size`` waiting times in whole seconds, lognormal around ``median_days``, clipped to [floor, cap]."""
    days = rng.lognormal(mean=np.log(median_days), sigma=sigma, size=size)
    seconds = np.clip(days * DAY_S, floor_minutes * 60, cap_days * DAY_S)
    return seconds.astype(np.int64)


def snap_to_business_hours(
    t: np.ndarray, rng: np.random.Generator, *, open_hour: int = 8, close_hour: int = 18, jitter_minutes: int = 90
) -> np.ndarray:
    """Move every time outside Mon–Fri ``open_hour``–``close_hour`` forward to the next opening.

    Times inside business hours are returned unchanged; the others become the
    next business day's opening plus a random 0–``jitter_minutes`` delay, so a
    snapped time is always later than the input (event order is preserved).
    """
    day = t.astype("datetime64[D]")
    sec = (t - day.astype("datetime64[s]")).astype(np.int64)
    is_bday = np.is_busday(day, holidays=OFFICE_CLOSED)
    inside = is_bday & (sec >= open_hour * 3600) & (sec < close_hour * 3600)
    before_opening = is_bday & (sec < open_hour * 3600)
    next_bday = np.busday_offset(day + np.timedelta64(1, "D"), 0, roll="forward", holidays=OFFICE_CLOSED)
    target = np.where(before_opening, day, next_bday).astype("datetime64[s]")
    jitter = rng.integers(0, jitter_minutes * 60, size=t.shape)
    snapped = target + np.timedelta64(open_hour * 3600, "s") + jitter * SECOND
    return np.where(inside, t, snapped)


def random_business_times(
    rng: np.random.Generator, size: int, *, start: np.datetime64, end: np.datetime64
) -> np.ndarray:
    """``size`` local times uniformly drawn in [start, end) and snapped into business hours."""
    span = int((end - start) / SECOND)
    raw = start + rng.integers(0, span, size=size) * SECOND
    return snap_to_business_hours(raw, rng)


def weeks_to_shift(last: np.ndarray, deadline: np.datetime64) -> np.ndarray:
    """Whole weeks to subtract so that ``last - weeks*7d <= deadline`` with the fewest weeks (can be negative).

    Shifting by whole weeks keeps weekdays and wall-clock hours, so business
    hours survive the shift.
    """
    over = ((last - deadline) / SECOND).astype(np.int64)
    return -np.floor_divide(-over, 7 * DAY_S)  # ceil division


def utc_to_local(utc: pd.DatetimeIndex | pd.Timestamp) -> np.ndarray:
    """Tz-aware UTC → local wall-clock ``datetime64[s]`` (the inverse of :func:`local_to_utc` in office hours)."""
    idx = pd.DatetimeIndex([utc] if isinstance(utc, pd.Timestamp) else utc)
    return idx.tz_convert(OFFICE_TZ).tz_localize(None).to_numpy().astype("datetime64[s]")


#: offsets (seconds) from a limit at which the demo places near-limit durations: exactly at it, one second,
#: one minute and five minutes under and over (HubSpot cells have minutes only: its seconds offsets are 0)
NEAR_LIMIT_OFFSETS = (0, -1, 1, -60, 60, -300, 300)
#: how close to a limit a duration is recorded as "near the limit" in the ground truth
NEAR_LIMIT_S = 3600


def local_to_utc(t: np.ndarray) -> pd.DatetimeIndex:
    """Local wall-clock ``datetime64[s]`` → tz-aware UTC (office time zone, DST aware)."""
    idx = pd.DatetimeIndex(t.astype("datetime64[ns]"))
    return idx.tz_localize(OFFICE_TZ, ambiguous="NaT", nonexistent="shift_forward").tz_convert("UTC")


def format_salesforce(utc: pd.DatetimeIndex, millis: np.ndarray | None = None) -> np.ndarray:
    """``2024-03-01T09:15:02.000Z`` (Salesforce API / Data Loader style, always UTC)."""
    t = utc.tz_convert(None).to_numpy().astype("datetime64[ms]")
    if millis is None:
        return np.asarray(format_salesforce_arrow(utc).to_numpy(zero_copy_only=False), dtype=object)
    t = t + millis.astype("timedelta64[ms]")
    return np.char.add(np.datetime_as_string(t, unit="ms"), "Z").astype(object)


def format_salesforce_arrow(utc: pd.DatetimeIndex):
    """:func:`format_salesforce` for whole seconds as an Arrow string array (no Python string per row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    seconds = utc.tz_convert(None).to_numpy().astype("datetime64[s]")
    text = pc.cast(pa.array(seconds), pa.string())  # "2024-03-01 09:15:02", faster than numpy's formatting
    return pc.binary_join_element_wise(pc.replace_substring(text, " ", "T"), ".000Z", "")


def format_jira(utc: pd.DatetimeIndex, millis: np.ndarray, *, tz: str) -> np.ndarray:
    """``2024-03-01T10:02:11.431+0100`` (Jira REST style: local time, ``±hhmm`` offset)."""
    naive_utc = utc.tz_convert(None).to_numpy().astype("datetime64[s]")
    local = utc.tz_convert(tz).tz_localize(None).to_numpy().astype("datetime64[s]")
    offset_min = ((local - naive_utc) / SECOND).astype(np.int64) // 60
    text = np.datetime_as_string(local.astype("datetime64[ms]") + millis.astype("timedelta64[ms]"), unit="ms")
    sign = np.where(offset_min < 0, "-", "+")
    hhmm = np.char.mod("%04d", (np.abs(offset_min) // 60) * 100 + np.abs(offset_min) % 60)
    return np.char.add(np.char.add(text, sign), hhmm).astype(object)


def scalar_snap(t: np.datetime64, rng: np.random.Generator, *, open_hour: int = 8, close_hour: int = 18,
                jitter_minutes: int = 90) -> np.datetime64:
    """:func:`snap_to_business_hours` for one time (integer arithmetic; for per-ticket simulation)."""
    sec = int(t.astype("datetime64[s]").astype(np.int64))
    day, s = divmod(sec, DAY_S)
    works = bool(np.is_busday(np.datetime64(day, "D"), holidays=OFFICE_CLOSED))
    if works and open_hour * 3600 <= s < close_hour * 3600:
        return np.datetime64(sec, "s")
    if works and s < open_hour * 3600:
        target = day
    else:
        target = int(np.busday_offset(np.datetime64(day + 1, "D"), 0, roll="forward",
                                      holidays=OFFICE_CLOSED).astype(np.int64))
    jitter = int(rng.integers(0, jitter_minutes * 60))
    return np.datetime64(target * DAY_S + open_hour * 3600 + jitter, "s")


def format_minutes(utc: pd.DatetimeIndex) -> np.ndarray:
    """``2024-03-01 09:15`` (HubSpot CSV export cells: no seconds, no offset)."""
    return utc.strftime("%Y-%m-%d %H:%M").to_numpy(dtype=object)
