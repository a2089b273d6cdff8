"""Business-hours calendars: durations measured in working time.

Support SLAs run in working hours: a ticket opened on Friday at 17:00 and
answered on Monday at 09:30 waited 30 minutes of working time, not 64.5 hours.
A :class:`BusinessCalendar` holds the opening hours per weekday, the holidays
(explicit dates and/or a country's public holidays from the ``holidays``
package) and the time zone the hours are meant in. :func:`working_seconds`
measures many intervals at once (numpy, no per-event loop): each instant is
mapped to the working seconds elapsed since the first day of the range, and a
duration is the difference of two such values. Opening hours are wall-clock
times in the calendar's zone, so a day on which daylight saving time starts or
ends is measured in real (UTC) seconds: 00:00-24:00 on the spring-forward day
is 23 hours.

A calendar file (YAML)::

    timezone: Europe/Warsaw
    hours:                     # weekday: list of "HH:MM-HH:MM" (missing day = closed)
      mon: ["09:00-17:00"]
      tue: ["09:00-12:00", "13:00-17:00"]
      ...
    holidays: ["2024-12-24"]   # extra closed dates
    country: PL                # public holidays of this country (optional)
    subdivision: null
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import AnalysisError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours per weekday (0 = Monday) as ``(start_s, end_s)`` seconds after local midnight,
    closed dates, and the IANA time zone the hours are meant in."""

    hours: Mapping[int, tuple[tuple[int, int], ...]]
    timezone: str = "UTC"
    holidays: frozenset[dt.date] = frozenset()
    country: str | None = None
    subdivision: str | None = None
    name: str = "calendar"
    _extra: Mapping[str, object] = field(default_factory=dict, repr=False, compare=False)

    def closed_dates(self, years: Iterable[int]) -> set[dt.date]:
        """Explicit holidays plus the country's public holidays in ``years``."""
        out = set(self.holidays)
        if self.country:
            import holidays as hol

            try:
                out |= set(hol.country_holidays(self.country, subdiv=self.subdivision, years=sorted(set(years))).keys())
            except NotImplementedError as exc:
                raise AnalysisError(f"calendar {self.name!r}: unknown country/subdivision "
                                    f"{self.country!r}/{self.subdivision!r}") from exc
        return out

    def describe(self) -> dict[str, object]:
        """Plain values for provenance."""
        return {"timezone": self.timezone, "country": self.country, "subdivision": self.subdivision,
                "hours": {WEEKDAYS[d]: [f"{_hhmm(a)}-{_hhmm(b)}" for a, b in iv] for d, iv in sorted(self.hours.items())},
                "holidays": sorted(str(d) for d in self.holidays)}


def _hhmm(s: int) -> str:
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}"


def _parse_span(text: str, where: str) -> tuple[int, int]:
    try:
        a, b = (p.strip() for p in str(text).split("-", 1))
        sa = sum(int(x) * m for x, m in zip(a.split(":"), (3600, 60), strict=False))
        sb = sum(int(x) * m for x, m in zip(b.split(":"), (3600, 60), strict=False))
    except ValueError as exc:
        raise AnalysisError(f"{where}: cannot read opening hours {text!r}; write e.g. \"09:00-17:00\"") from exc
    if not 0 <= sa < sb <= 86400:
        raise AnalysisError(f"{where}: opening hours {text!r} must be an interval within one day (start < end)")
    return sa, sb


def calendar_from_dict(doc: Mapping[str, object], *, name: str = "calendar") -> BusinessCalendar:
    """A calendar from a mapping shaped like the YAML file (see the module docstring)."""
    hours_doc = doc.get("hours", {}) or {}
    if not isinstance(hours_doc, Mapping):
        raise AnalysisError(f"{name}: 'hours' must map weekdays (mon..sun) to lists like [\"09:00-17:00\"]")
    hours: dict[int, tuple[tuple[int, int], ...]] = {}
    for key, spans in hours_doc.items():
        day = str(key).strip().lower()[:3]
        if day not in WEEKDAYS:
            raise AnalysisError(f"{name}: unknown weekday {key!r}; use mon, tue, wed, thu, fri, sat, sun")
        items = [spans] if isinstance(spans, str) else list(spans or [])
        parsed = sorted(_parse_span(s, f"{name}: {key}") for s in items)
        for (_, b), (a2, _) in zip(parsed, parsed[1:], strict=False):
            if a2 < b:
                raise AnalysisError(f"{name}: {key}: opening hours overlap")
        hours[WEEKDAYS.index(day)] = tuple(parsed)
    tz = str(doc.get("timezone") or "UTC")
    try:
        pd.Timestamp("2024-01-01").tz_localize(tz)
    except Exception as exc:  # noqa: BLE001 - pandas raises several types for unknown zones
        raise AnalysisError(f"{name}: unknown time zone {tz!r}") from exc
    try:
        extra = frozenset(pd.Timestamp(str(d)).date() for d in (doc.get("holidays") or []))
    except ValueError as exc:
        raise AnalysisError(f"{name}: holidays must be dates like 2024-12-24") from exc
    country = doc.get("country")
    return BusinessCalendar(hours=hours, timezone=tz, holidays=extra, country=str(country) if country else None,
                            subdivision=str(doc["subdivision"]) if doc.get("subdivision") else None, name=name)


def load_calendar(path: str | Path | bytes, *, name: str | None = None) -> BusinessCalendar:
    """Read a calendar YAML file (see the module docstring), or the bytes of an uploaded one called ``name``."""
    from ..safe_input import read_yaml_mapping

    doc, name = read_yaml_mapping(path, what="calendar", name=name,
                                  expected="a calendar is a YAML mapping with 'hours', 'timezone', 'holidays'")
    return calendar_from_dict(doc, name=name)


def _as_utc_ns(values: object) -> np.ndarray:
    """Instants as int64 UTC nanoseconds (NaT -> min int); accepts datetimes, Series or float seconds."""
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        out = np.where(np.isnan(arr), np.iinfo(np.int64).min, np.nan_to_num(arr) * 1e9).astype(np.int64)
        return out
    ser = pd.to_datetime(pd.Series(np.ravel(arr)), utc=True)
    return ser.to_numpy(dtype="datetime64[ns]").view(np.int64)


def _day_table(cal: BusinessCalendar, first: dt.date, last: dt.date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per local day in [first, last]: opening intervals as UTC seconds (n_days x k, NaN = none) and
    the working seconds before each day (cumulative)."""
    days = pd.date_range(first, last, freq="D", unit="ns")
    k = max((len(v) for v in cal.hours.values()), default=0) or 1
    starts = np.full((len(days), k), np.nan)
    ends = np.full((len(days), k), np.nan)
    closed = cal.closed_dates(range(first.year, last.year + 1))
    open_day = np.array([d.date() not in closed for d in days], dtype=bool)
    weekday = days.weekday.to_numpy()
    for wd, spans in cal.hours.items():
        sel = (weekday == wd) & open_day
        if not sel.any():
            continue
        for j, (a, b) in enumerate(spans):
            base = days[sel]
            sa = (base + pd.to_timedelta(a, unit="s")).tz_localize(cal.timezone, nonexistent="shift_forward",
                                                                   ambiguous=np.zeros(len(base), dtype=bool))
            sb = (base + pd.to_timedelta(b, unit="s")).tz_localize(cal.timezone, nonexistent="shift_forward",
                                                                   ambiguous=np.zeros(len(base), dtype=bool))
            starts[sel, j] = sa.as_unit("ns").asi8 / 1e9
            ends[sel, j] = sb.as_unit("ns").asi8 / 1e9
    per_day = np.nansum(ends - starts, axis=1)
    before = np.concatenate([[0.0], np.cumsum(per_day)[:-1]])
    return starts, ends, before


def working_clock(cal: BusinessCalendar, instants: object, *, first: dt.date | None = None,
                  last: dt.date | None = None) -> np.ndarray:
    """Working seconds from the start of local day ``first`` to each instant (NaN for NaT)."""
    ns = _as_utc_ns(instants)
    valid = ns != np.iinfo(np.int64).min
    out = np.full(len(ns), np.nan)
    if not valid.any():
        return out
    local = pd.DatetimeIndex(ns[valid].view("datetime64[ns]"), tz="UTC").tz_convert(cal.timezone)
    day = local.normalize().tz_localize(None)
    first = first or day.min().date()
    last = last or day.max().date()
    starts, ends, before = _day_table(cal, first, last)
    idx = ((day - pd.Timestamp(first)).days).to_numpy()
    if (idx < 0).any() or (idx >= len(before)).any():
        raise AnalysisError("an instant lies outside the calendar's day range")
    t = ns[valid] / 1e9
    s, e = starts[idx], ends[idx]
    inside = np.nansum(np.clip(t[:, None], s, e) - s, axis=1)
    out[valid] = before[idx] + inside
    return out


def working_seconds(cal: BusinessCalendar, start: object, end: object) -> np.ndarray:
    """Working seconds between ``start[i]`` and ``end[i]`` (arrays of instants; NaN where either is missing).

    Negative when ``end`` is before ``start``. Instants are UTC (naive = UTC);
    the opening hours are applied in the calendar's time zone.

    >>> cal = calendar_from_dict({"hours": {"mon": ["09:00-17:00"]}})
    >>> working_seconds(cal, [pd.Timestamp("2024-01-01 08:00", tz="UTC")], [pd.Timestamp("2024-01-01 10:30", tz="UTC")])
    array([5400.])
    """
    a, b = _as_utc_ns(start), _as_utc_ns(end)
    if len(a) != len(b):
        raise AnalysisError("working_seconds needs as many end instants as start instants")
    both = np.concatenate([a, b])
    clock = working_clock(cal, both)
    return clock[len(a):] - clock[: len(a)]


def working_durations(cal: BusinessCalendar | None, from_s: Sequence[float] | np.ndarray,
                      to_s: Sequence[float] | np.ndarray) -> np.ndarray:
    """Durations between epoch-second arrays: working seconds with a calendar, plain seconds without."""
    fa, ta = np.asarray(from_s, dtype=float), np.asarray(to_s, dtype=float)
    if cal is None:
        return ta - fa
    return working_seconds(cal, fa, ta)




def working_time_log(log: Any, cal: BusinessCalendar) -> Any:
    """``log`` with every timestamp replaced by its working-time clock: 1970-01-01 UTC plus the working
    seconds elapsed since the calendar's first day (start timestamps too), to the microsecond.

    The map is monotone, so the order of events is kept, and every duration any analysis computes on the
    result (SLA breaches, waiting times, case durations) is a working-time duration -- the one SLA
    implementation measures working time this way. The timestamps themselves are no wall-clock times
    any more: report durations from the result, times from the original log.
    """
    from ..model import START_TIMESTAMP, TIMESTAMP

    df = log.df.copy()
    cols = [c for c in (TIMESTAMP, START_TIMESTAMP) if c in df.columns]
    values = np.concatenate([df[c].to_numpy(dtype="datetime64[ns]").view(np.int64) for c in cols])
    valid = values[values != np.iinfo(np.int64).min]
    days = clock_days(cal, int(valid.min()), int(valid.max())) if len(valid) else None
    for c in cols:
        df[c] = working_clock_times(cal, df[c], days)
    return log.with_frame(df, step=f"working-time clock of calendar {cal.name}")


def clock_days(cal: BusinessCalendar, first_ns: int, last_ns: int) -> tuple[dt.date, dt.date]:
    """The local days (in the calendar's zone) of the first and last instant (UTC ns) of a log: the day
    range of its working-time clock (:func:`working_clock_times`)."""
    local = pd.DatetimeIndex(np.array([first_ns, last_ns]).view("datetime64[ns]"), tz="UTC").tz_convert(cal.timezone)
    return local[0].date(), local[1].date()


def working_clock_times(cal: BusinessCalendar, times: pd.Series, days: tuple[dt.date, dt.date] | None) -> pd.Series:
    """Timestamps (UTC) mapped to the working-time clock counted from ``days[0]`` (see :func:`working_time_log`),
    rounded to the microsecond; NaT stays NaT. Element by element: the Spark engine calls it on batches of
    rows with the whole log's ``days`` and gets the same values."""
    ns = times.to_numpy(dtype="datetime64[ns]").view(np.int64)
    missing = ns == np.iinfo(np.int64).min
    clock = np.full(len(ns), np.nan)
    if (~missing).any() and days is not None:
        clock[~missing] = working_clock(cal, ns[~missing] / 1e9, first=days[0], last=days[1])
    micros = pd.Series(np.round(clock * 1e6)).astype("Int64")
    return pd.Series(pd.to_datetime(micros * 1000, utc=True).to_numpy(), index=times.index).dt.tz_convert("UTC")


__all__ = ["BusinessCalendar", "calendar_from_dict", "clock_days", "load_calendar", "working_clock",
           "working_clock_times", "working_durations", "working_seconds", "working_time_log"]


def working_sla_breaches(log: Any, targets: Any, cal: BusinessCalendar | None, *, working_log: Any = None,
                         breaches_of: Any = None, **kwargs: Any) -> tuple[Any, Any]:
    """:func:`processmining.performance.sla_breaches` on the working-time clock of ``cal`` (calendar time when
    ``cal`` is ``None``): the breaches' clock times are dropped (they are working-clock values, not wall-clock
    times) and each row says ``measured_in``. ``working_log``: :func:`working_time_log` of ``log`` when the
    caller has it already. The report (CLI and app) and the Bottlenecks page call this; the Spark engine
    passes its ``working_log`` and its ``sla_breaches`` as ``breaches_of``."""
    from .bottlenecks import sla_breaches as local

    sla_breaches = breaches_of or local

    if cal is None:
        return sla_breaches(log, targets, **kwargs)
    breaches, summary = sla_breaches(working_log if working_log is not None else working_time_log(log, cal), targets,
                                     **kwargs)
    breaches = breaches.drop(columns=[c for c in ("from_time", "to_time") if c in breaches.columns])
    return breaches.assign(measured_in=f"working time ({cal.name})"), summary
