"""Column-wise timestamp parsing: every value becomes a UTC instant or a named error.

Only the columns that hold event times go through :func:`parse_timestamps`;
every other column stays text. The column is classified with vectorised
regular expressions (pyarrow-backed string ops), then each class is parsed in
one vectorised call:

* ISO 8601 with ``Z``, ``+01:00`` or ``+0100``: the offset is honoured;
* naive ISO (``2024-03-01 09:15``) and date-only values: read in ``timezone``;
* epoch seconds (9-10 digits) and milliseconds (12-13 digits): UTC;
* Excel serial dates (``45383.5`` = 2024-04-01 12:00): read in ``timezone``;
* locale dates with a numeric month (``3/1/2024 9:15 AM``, ``01.03.2024``):
  day-first or month-first as told, as decided by the column itself (a value
  over 12 in one position), or an :class:`IngestError` asking the user;
* dates with a month name (Jira ``01/Mar/24 10:02 AM``, ``Mar 1, 2024``).

A value that matches none of these, or names an impossible date
(``2024-02-30``), is reported per row; the rest of the column is unaffected.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import IngestError
from ..model import TimestampOffsets

_TIME = (
    r"(?:[ T,]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,9}))?)?"
    r"\s*(?P<p>[AaPp]\.?[Mm]\.?)?)?"
)
ISO_OFFSET = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|z|[+-]\d{2}:?\d{2})"
ISO_NAIVE = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?"
EPOCH_S = r"\d{9,10}(?:\.\d+)?"
EPOCH_MS = r"\d{12,13}"
EXCEL = r"\d{5}(?:\.\d+)?"
_NUMERIC = r"(?P<a>\d{1,2})[/.\-](?P<b>\d{1,2})[/.\-](?P<y>\d{4}|\d{2})" + _TIME
_YMD = r"(?P<y>\d{4})[/.](?P<b>\d{1,2})[/.](?P<a>\d{1,2})" + _TIME
_DAY_MON = r"(?P<a>\d{1,2})[/ \-.](?P<mon>[A-Za-z]{3,9})\.?[/ \-.,]+(?P<y>\d{4}|\d{2})" + _TIME
_MON_DAY = r"(?P<mon>[A-Za-z]{3,9})\.? (?P<a>\d{1,2}),? (?P<y>\d{4})" + _TIME
_DATE_ONLY = r"[^:]*"  # applied to already-recognised values: no clock time at all

_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
         ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
         ("oct", "october"), ("nov", "november"), ("dec", "december")]
    )
    for name in names
}
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December")
EXCEL_EPOCH = pd.Timestamp("1899-12-30")

IMPOSSIBLE = "impossible date or time"
UNRECOGNISED = "not a recognised date/time"
#: the instants a datetime64[ns] holds; a date outside is quarantined, never wrapped to another date
NS_MIN, NS_MAX = pd.Timestamp.min.value, pd.Timestamp.max.value
OUT_OF_RANGE = ("date outside the range this tool holds exactly "
                f"({pd.Timestamp.min.ceil('s'):%Y-%m-%d %H:%M:%S} to {pd.Timestamp.max.floor('s'):%Y-%m-%d %H:%M:%S} UTC)")
_PER_NS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000,
           "D": 86_400_000_000_000}


def to_ns(values: object) -> tuple[np.ndarray, np.ndarray]:
    """Naive datetimes of any unit → ``datetime64[ns]`` and a mask of values outside its range (NaT there).

    numpy and pandas wrap an out-of-range value silently when the unit is
    narrowed (``1500-01-01`` in µs becomes a date in 2084 in ns); the check
    here is on the integers of the source unit, before any cast.
    """
    arr = np.asarray(values)
    if arr.dtype.kind != "M":
        arr = np.asarray(pd.to_datetime(pd.Series(arr, dtype=object), errors="coerce"))
    unit = np.datetime_data(arr.dtype)[0]
    if unit == "ns":
        return np.array(arr), np.zeros(len(arr), dtype=bool)  # a writable copy
    per = _PER_NS.get(unit)
    if per is None:
        raise ValueError(f"unsupported datetime unit {unit!r}")
    ints = arr.view("i8")
    lo, hi = -((-NS_MIN) // per), NS_MAX // per  # ceil / floor in the source unit
    bad = ~np.isnat(arr) & ((ints < lo) | (ints > hi))
    safe = np.where(bad | np.isnat(arr), np.iinfo(np.int64).min, ints)
    out = np.where(safe == np.iinfo(np.int64).min, np.iinfo(np.int64).min, safe * per).view("datetime64[ns]")
    return out, bad


@dataclass
class ParsedTimes:
    """The result of parsing one column.

    ``values`` is ``datetime64[ns, UTC]`` with NaT for blank or bad values;
    ``errors`` holds a reason for each bad (non-blank) value, NA elsewhere.
    """

    values: pd.Series
    errors: pd.Series
    warnings: list[str] = field(default_factory=list)
    naive: int = 0
    with_offset: int = 0
    column: str = ""

    @property
    def offsets(self) -> TimestampOffsets:
        """The counts for :attr:`IngestReport.timestamp_offsets <processmining.model.IngestReport>`."""
        return TimestampOffsets(self.column, with_offset=self.with_offset, naive=self.naive)


_FIXED_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{2}):?(\d{2})$")


def check_timezone(timezone: str) -> str:
    """``timezone`` normalised, if it is an IANA zone name or a fixed offset (``+02:00``); else :class:`IngestError`.

    The name is looked up in the list of zones (``zoneinfo.available_timezones()``)
    before anything opens a zone file, so a path-like value (``../../etc/passwd``)
    is refused without touching the file system.

    >>> check_timezone("Europe/Berlin"), check_timezone("+0530"), check_timezone("utc")
    ('Europe/Berlin', '+05:30', 'UTC')
    """
    text = timezone.strip() if isinstance(timezone, str) else ""
    if text.upper() in ("UTC", "Z", "GMT"):
        return "UTC"
    m = _FIXED_OFFSET.match(text)
    if m and int(m.group(2)) <= 23 and int(m.group(3)) <= 59:
        return f"{m.group(1)}{m.group(2)}:{m.group(3)}"
    if text in _zone_names():
        return text
    shown = timezone if isinstance(timezone, str) else type(timezone).__name__
    raise IngestError(f"unknown time zone {shown[:80]!r}; use an IANA name like 'Europe/Berlin', 'UTC' "
                      "or a fixed offset like '+02:00'")


@functools.lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


@dataclass
class DstCount:
    """Local times that daylight saving makes non-existent (spring gap) or ambiguous (autumn overlap)."""

    nonexistent: int = 0
    ambiguous: int = 0
    first_nonexistent: int | None = None  # position in the column
    first_ambiguous: int | None = None


def _localize(naive: pd.Series | np.ndarray, timezone: str, dst: DstCount | None = None,
              positions: np.ndarray | None = None) -> np.ndarray:
    """Naive wall-clock times in ``timezone`` → naive UTC ``datetime64[ns]``.

    A time in a DST gap (02:30 on the spring-forward day) is shifted forward
    by the gap; a time in the repeated hour is read as the first (summer-time)
    occurrence. Both are counted in ``dst`` (with the first position) so the
    ingest report can say so.
    """
    values = np.asarray(naive, dtype="datetime64[ns]")
    if timezone == "UTC" or timezone[:1] in "+-":
        if timezone[:1] in "+-":
            sign = 1 if timezone[0] == "+" else -1
            offset = np.timedelta64(sign * (int(timezone[1:3]) * 60 + int(timezone[4:6])), "m")
            values = np.where(np.isnat(values), values, values - offset)
        return values
    series = pd.Series(values)
    local = series.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
    unclear = np.asarray(local.isna().to_numpy() & series.notna().to_numpy(), dtype=bool)
    if unclear.any():
        sub = series[unclear]
        forward = sub.dt.tz_localize(timezone, ambiguous=np.ones(len(sub), dtype=bool), nonexistent="shift_forward")
        # a time that is ambiguous reads the same with either flag unless it is in a gap
        later = sub.dt.tz_localize(timezone, ambiguous=np.zeros(len(sub), dtype=bool), nonexistent="shift_forward")
        gap = (forward == later).to_numpy()
        if dst is not None:
            pos = np.flatnonzero(unclear) if positions is None else np.asarray(positions)[unclear]
            dst.nonexistent += int(gap.sum())
            dst.ambiguous += int((~gap).sum())
            if gap.any() and dst.first_nonexistent is None:
                dst.first_nonexistent = int(pos[np.flatnonzero(gap)[0]])
            if (~gap).any() and dst.first_ambiguous is None:
                dst.first_ambiguous = int(pos[np.flatnonzero(~gap)[0]])
    utc = np.array(local.dt.tz_convert("UTC").dt.tz_localize(None), dtype="datetime64[ns]")
    if unclear.any():
        fixed = np.array(forward.dt.tz_convert("UTC").dt.tz_localize(None), dtype="datetime64[ns]")
        if gap.any():
            # a time in the gap is read with the offset in force just before it (02:30 CET = 03:30 CEST), so two
            # times 15 minutes apart stay 15 minutes apart instead of both becoming 03:00
            before = sub[gap] - pd.Timedelta(hours=3)
            lb = before.dt.tz_localize(timezone, ambiguous=np.ones(len(before), dtype=bool),
                                       nonexistent="shift_forward")
            offset = lb.dt.tz_localize(None) - lb.dt.tz_convert("UTC").dt.tz_localize(None)
            fixed[gap] = np.asarray(sub[gap] - offset, dtype="datetime64[ns]")
        utc[unclear] = fixed
    return utc


def as_arrow_text(values: pd.Series) -> pa.ChunkedArray:
    """The column as an Arrow string array, trimmed, with blanks as nulls (no copy for Arrow-backed text)."""
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        chunked = values.array.__arrow_array__()
    else:
        obj = values.astype(object).where(values.notna(), None).to_numpy()
        chunked = pa.chunked_array([pa.array([None if v is None else str(v) for v in obj], type=pa.string())])
    if chunked.num_chunks == 0:
        chunked = pa.chunked_array([pa.array([], type=pa.string())])
    if not pa.types.is_string(chunked.type):
        chunked = chunked.cast(pa.string())
    trimmed = pc.ascii_trim_whitespace(chunked)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _iso(sub: pa.ChunkedArray, *, aware: bool) -> tuple[np.ndarray, np.ndarray]:
    """ISO 8601 strings → naive UTC (aware) or naive wall-clock datetime64[ns], and an out-of-range mask.

    NaT for impossible values; a value outside the ns range is NaT *and* flagged.
    """
    if pc.any(pc.match_substring(sub, ",")).as_py():
        sub = pc.replace_substring(sub, ",", ".")
    try:
        ts = pc.cast(sub, pa.timestamp("ns", "UTC") if aware else pa.timestamp("ns"))
        return np.asarray(ts.to_numpy(), dtype="datetime64[ns]"), np.zeros(len(sub), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # impossible or out-of-range values: per value
        objs = pd.Series(sub.to_numpy(zero_copy_only=False))
        parsed = pd.to_datetime(objs, format="ISO8601", utc=aware, errors="coerce")
        if aware:
            parsed = parsed.dt.tz_localize(None)
        values, oor = to_ns(np.asarray(parsed))  # pandas may pick µs (year 1500): checked, never wrapped
        for i in np.flatnonzero(np.isnat(values) & ~oor & objs.notna().to_numpy()):
            try:  # pandas gives NaT to a whole mixed column with an extreme year: decide per value
                one = pd.Timestamp(objs.iloc[i])
            except (ValueError, OverflowError):
                continue
            if aware and one.tzinfo is not None:
                one = one.tz_convert("UTC").tz_localize(None)
            elif one.tzinfo is not None:
                continue
            ns, bad = to_ns(np.array([one.to_datetime64()]))
            values[i], oor[i] = ns[0], bad[0]
        return values, oor


def _from_parts(parts: dict[str, np.ndarray], month: np.ndarray, day: np.ndarray) -> pd.Series:
    """Naive datetimes from regex groups (ints, -1 = absent); NaT for impossible dates or clock times."""
    year = parts["y"]
    year = np.where(year >= 100, year, np.where(year < 70, year + 2000, year + 1900))
    hour, minute, second = (np.maximum(parts[k], 0) for k in ("H", "M", "S"))
    ampm = parts["p"]
    has_ampm = ampm != ""
    is_pm = np.char.startswith(ampm, "p")
    bad = (hour > 23) | (minute > 59) | (second > 59) | (has_ampm & ((hour > 12) | (hour == 0)))
    hour = np.where(is_pm & (hour < 12), hour + 12, hour)
    hour = np.where(has_ampm & ~is_pm & (hour == 12), 0, hour)
    month = np.where(bad | (month < 1), 13, month)  # month 13 forces NaT
    frame = pd.DataFrame({"year": year, "month": month, "day": day, "hour": hour, "minute": minute,
                          "second": second, "microsecond": parts["f"]})
    return pd.to_datetime(frame, errors="coerce")


def _first(values: pa.ChunkedArray, mask: np.ndarray, rows: np.ndarray) -> tuple[str, int]:
    idx = int(np.flatnonzero(mask)[0])
    return str(values[idx].as_py()), int(rows[idx])


def parse_timestamps(
    values: pd.Series,
    *,
    column: str,
    rows: np.ndarray | None = None,
    source: str | None = None,
    dayfirst: bool | None = None,
    timezone: str = "UTC",
) -> ParsedTimes:
    """Parse a text column of timestamps into UTC; see the module docstring for the formats.

    ``rows`` are the line numbers used in messages. Ambiguous day/month
    columns raise :class:`IngestError` unless ``dayfirst`` is given.

    >>> r = parse_timestamps(pd.Series(["2024-03-01T10:02:11+0100", "45383.5", "garbage"]), column="t")
    >>> r.values.dt.strftime("%Y-%m-%d %H:%M").tolist()[:2], r.errors.tolist()[2]
    (['2024-03-01 09:02', '2024-04-01 12:00'], 'not a recognised date/time')
    """
    from .tabular import is_times, text_of

    if is_times(values.dtype):
        typed = _typed_times(values, column=column, rows=rows, timezone=timezone)
        if typed is not None:
            return typed
    # text as it is; other typed cells (a Parquet date or number column) and timestamps outside the range held
    # as their text, which the classes below read or name as they would from a CSV
    values = text_of(values)
    parser = _ColumnParser(values, column=column, rows=rows, source=source, dayfirst=dayfirst, timezone=timezone)
    # each class of values in turn, on what the classes before left unrecognised
    parser.fast_iso()
    parser.iso()
    parser.epoch_and_excel()
    parser.numeric()
    parser.year_first_and_month_names()
    return parser.result()


def _typed_times(values: pd.Series, *, column: str, rows: np.ndarray | None, timezone: str) -> ParsedTimes | None:
    """A timestamp column that is already typed (Parquet): instants kept, wall-clock times read in ``timezone``.

    The same values, counts and warnings as the text of the column would
    give (``2024-03-01T09:00:00.000000+00:00`` / without the offset), without
    writing it out; ``None`` when a value lies outside the range held (the
    text path then names it).
    """
    aware = isinstance(values.dtype, pd.DatetimeTZDtype)
    naive = np.asarray(values.dt.tz_convert("UTC").dt.tz_localize(None) if aware else values)
    ns, out_of_range = to_ns(naive)
    if out_of_range.any():
        return None
    present = ~np.isnat(ns)
    parser = _ColumnParser(values, column=column, rows=rows, source=None, dayfirst=None, timezone=timezone,
                           present=present)
    everywhere = bool(present.all())
    if aware:  # instants, all in range: they are the values (no copy)
        parser.out_ns, parser.recognised = ns, present
        parser.remaining = np.zeros(len(ns), dtype=bool)
        parser.offset_count = int(present.sum())
    else:
        parser.store_local(present, ns if everywhere else ns[present])
    return parser.result()


class _ColumnParser:
    """The state of one column's parse: what is recognised so far, the UTC values, the counts for the warnings."""

    def __init__(self, values: pd.Series, *, column: str, rows: np.ndarray | None, source: str | None,
                 dayfirst: bool | None, timezone: str, present: np.ndarray | None = None) -> None:
        self.values, self.column, self.source = values, column, source
        self.dayfirst, self.timezone = dayfirst, timezone
        n = self.n = len(values)
        self.rows = np.arange(1, n + 1) if rows is None else np.asarray(rows)
        # typed values come with their mask and are never matched as text
        self.arr = as_arrow_text(values) if present is None else None
        self.present = self.arr.is_valid().to_numpy(zero_copy_only=False) if present is None else present
        self.remaining = self.present.copy()
        self.recognised = np.zeros(n, dtype=bool)
        self.warnings: list[str] = []
        self.naive_count = self.offset_count = self.date_only = 0
        self.out_ns = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        self.out_of_range = np.zeros(n, dtype=bool)
        self.dst = DstCount()

    # ---- primitives
    def loc(self, naive: object, mask: np.ndarray) -> np.ndarray:
        """Local wall-clock values (those under ``mask``) → UTC, counting DST gaps and overlaps."""
        ns, oor = to_ns(naive)
        self.out_of_range[np.flatnonzero(mask)[oor]] = True
        return _localize(ns, self.timezone, self.dst, np.flatnonzero(mask))

    def take(self, pattern: str) -> np.ndarray:
        """The values not recognised yet that match ``pattern`` as a whole."""
        if not self.remaining.any():
            return self.remaining.copy()
        hit = pc.match_substring_regex(self.arr, f"^(?:{pattern})$").fill_null(False)
        return hit.to_numpy(zero_copy_only=False) & self.remaining

    def store(self, mask: np.ndarray, utc_naive: np.ndarray | pd.Series) -> None:
        """Record the UTC values of the rows under ``mask`` (out-of-range values are marked, not wrapped)."""
        ns, oor = to_ns(utc_naive)
        self.out_ns[mask] = ns
        self.out_of_range[np.flatnonzero(mask)[oor]] = True
        self.recognised[mask] = True
        self.remaining = self.remaining & ~mask

    def extract(self, mask: np.ndarray, pattern: str) -> dict[str, np.ndarray]:
        """The named groups of ``pattern`` for the rows under ``mask``: numbers as int64 (-1 when absent)."""
        parts = pc.extract_regex(self.arr.filter(pa.array(mask)), f"^(?:{pattern})$").combine_chunks()
        got: dict[str, np.ndarray] = {}
        for i in range(parts.type.num_fields):
            name = parts.type.field(i).name
            col = parts.field(i)
            if name in ("p", "mon"):
                got[name] = np.asarray(pc.utf8_lower(pc.replace_substring(col, ".", "")).to_numpy(
                    zero_copy_only=False), dtype=str)
            elif name == "f":
                padded = pc.utf8_slice_codeunits(pc.utf8_rpad(col, 6, "0"), 0, 6)
                got[name] = pc.cast(pc.if_else(pc.equal(col, ""), "0", padded), pa.int64()).to_numpy()
            else:
                empty = pc.equal(col, "")
                got[name] = pc.cast(pc.if_else(empty, "-1", col), pa.int64()).to_numpy()
        return got

    def store_local(self, mask: np.ndarray, naive: object, *, date_only: int = 0) -> None:
        """Record wall-clock values read in the time zone (counted as values without an offset)."""
        self.store(mask, self.loc(naive, mask))
        self.naive_count += int(mask.sum())
        self.date_only += date_only

    # ---- the classes of values
    def fast_iso(self) -> None:
        """The whole column is ISO 8601 (Arrow's parser), all with or all without an offset."""
        arr, present, n = self.arr, self.present, self.n
        if not (present.all() and n):
            return
        for aware in (True, False):
            try:
                ts = pc.cast(arr, pa.timestamp("ns", "UTC") if aware else pa.timestamp("ns"))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
            if not pc.all(pc.greater_equal(pc.binary_length(arr), 10)).as_py():
                return  # Arrow also reads bare years or year-months; those go through the checks below
            values_ns = np.asarray(ts.to_numpy(), dtype="datetime64[ns]")
            if aware:
                self.store(present, values_ns)
                self.offset_count = n
            else:
                self.store_local(present, values_ns,
                                 date_only=int(pc.sum(pc.equal(pc.binary_length(arr), 10)).as_py() or 0))
            return

    def iso(self) -> None:
        """ISO 8601 with an explicit offset, then naive ISO (with or without a time)."""
        m = self.take(ISO_OFFSET)
        if m.any():
            ns, oor = _iso(self.arr.filter(pa.array(m)), aware=True)
            self.store(m, ns)
            self.out_of_range[np.flatnonzero(m)[oor]] = True
            self.offset_count += int(m.sum())
        m = self.take(ISO_NAIVE)
        if m.any():
            sub = self.arr.filter(pa.array(m))
            ns, oor = _iso(sub, aware=False)
            self.out_of_range[np.flatnonzero(m)[oor]] = True
            self.store_local(m, ns, date_only=int(pc.sum(pc.equal(pc.binary_length(sub), 10)).as_py() or 0))

    def epoch_and_excel(self) -> None:
        """Epoch seconds / milliseconds (UTC by definition), then Excel serial day numbers (local time)."""
        for pattern, unit in ((EPOCH_S, "s"), (EPOCH_MS, "ms")):
            m = self.take(pattern)
            if m.any():
                num = pc.cast(self.arr.filter(pa.array(m)), pa.float64()).to_numpy()
                self.store(m, pd.to_datetime(pd.Series(num), unit=unit, errors="coerce"))
                self.offset_count += int(m.sum())
        m = self.take(EXCEL)
        if m.any():
            days = pd.Series(pc.cast(self.arr.filter(pa.array(m)), pa.float64()).to_numpy())
            naive = (EXCEL_EPOCH + pd.to_timedelta(days, unit="D")).dt.round("ms")
            self.store_local(m, naive, date_only=int((days == days.round()).sum()))

    def numeric(self) -> None:
        """Numeric day/month/year: day-first or month-first as told, or as the column itself decides."""
        m = self.take(_NUMERIC)
        if not m.any():
            return
        parts = self.extract(m, _NUMERIC)
        a, b = parts["a"], parts["b"]
        if self.dayfirst is None:
            self.dayfirst = self._decide_dayfirst(a, b, self.arr.filter(pa.array(m)), self.rows[m])
        day, month = (a, b) if self.dayfirst else (b, a)
        self.store_local(m, _from_parts(parts, month, day), date_only=int((parts["H"] < 0).sum()))

    def _decide_dayfirst(self, a: np.ndarray, b: np.ndarray, sub_text: pa.ChunkedArray, sub_rows: np.ndarray) -> bool:
        """Day-first when a value over 12 stands first, month-first when it stands second; both or neither
        (with values that read differently) is refused, naming the value and line."""
        column, source = self.column, self.source
        says_day = (a > 12) & (b <= 12)
        says_month = (b > 12) & (a <= 12)
        if says_day.any() and says_month.any():
            v1, l1 = _first(sub_text, says_day, sub_rows)
            v2, l2 = _first(sub_text, says_month, sub_rows)
            raise IngestError(
                f"dates are day-first in some rows ({v1!r}, line {l1}) and month-first in others "
                f"({v2!r}, line {l2}); fix the export or pass --dayfirst/--monthfirst",
                source=source, column=column)
        if says_day.any():
            v, line = _first(sub_text, says_day, sub_rows)
            self.warnings.append(f"column {column!r}: dates read day-first (DD/MM/YYYY), inferred from "
                                 f"{v!r} on line {line}")
            return True
        if says_month.any():
            v, line = _first(sub_text, says_month, sub_rows)
            self.warnings.append(f"column {column!r}: dates read month-first (MM/DD/YYYY), inferred from "
                                 f"{v!r} on line {line}")
            return False
        ambiguous = (a != b) & (a <= 12) & (b <= 12)
        if ambiguous.any():
            v, line = _first(sub_text, ambiguous, sub_rows)
            i = int(np.flatnonzero(ambiguous)[0])
            d1, m1 = int(a[i]), int(b[i])
            raise IngestError(
                f"ambiguous date {v!r}: it can be {d1} {_MONTH_NAMES[m1 - 1]} (day-first) or "
                f"{m1} {_MONTH_NAMES[d1 - 1]} (month-first) and no value in the column decides it; "
                "pass --dayfirst or --monthfirst",
                source=source, line=line, column=column)
        return True  # every value reads the same either way

    def year_first_and_month_names(self) -> None:
        """Year-first with slashes or dots (2024/03/01, never ambiguous), then month names
        (01/Mar/24 10:02 AM, 1 March 2024, Mar 1, 2024 9:15 AM)."""
        m = self.take(_YMD)
        if m.any():
            parts = self.extract(m, _YMD)
            self.store_local(m, _from_parts(parts, parts["b"], parts["a"]), date_only=int((parts["H"] < 0).sum()))
        for pattern in (_DAY_MON, _MON_DAY):
            m = self.take(pattern)
            if not m.any():
                continue
            parts = self.extract(m, pattern)
            month = np.array([_MONTHS.get(x, -1) for x in parts["mon"]], dtype="int64")  # per distinct-ish name
            ok = month > 0
            m[np.flatnonzero(m)[~ok]] = False
            if m.any():
                parts = {k: v[ok] for k, v in parts.items()}
                self.store_local(m, _from_parts(parts, month[ok], parts["a"]), date_only=int((parts["H"] < 0).sum()))

    # ---- the outcome
    def result(self) -> ParsedTimes:
        """The UTC values, a named error per value that is not one, and the warnings with their counts."""
        column, timezone, rows, dst, present = self.column, self.timezone, self.rows, self.dst, self.present
        index = self.values.index
        out = pd.Series(self.out_ns, index=index).dt.tz_localize("UTC")
        errors = pd.Series(pd.array(pa.nulls(len(index), pa.large_string()), dtype="string"), index=index)
        bad = present & np.isnat(self.out_ns)
        if bad.any():
            errors.iloc[np.flatnonzero(bad & self.recognised)] = IMPOSSIBLE
            errors.iloc[np.flatnonzero(bad & ~self.recognised)] = UNRECOGNISED
            errors.iloc[np.flatnonzero(bad & self.out_of_range)] = OUT_OF_RANGE
        warnings = self.warnings
        if dst.nonexistent:
            warnings.append(f"column {column!r}: {dst.nonexistent:,} local times do not exist in {timezone} "
                            f"(daylight-saving gap, first on line {rows[dst.first_nonexistent]}); read as the same "
                            "wall-clock time after the clock change (shifted forward by the gap)")
        if dst.ambiguous:
            warnings.append(f"column {column!r}: {dst.ambiguous:,} local times occur twice in {timezone} "
                            f"(daylight-saving overlap, first on line {rows[dst.first_ambiguous]}); read as the first "
                            "occurrence (summer time); give timestamps with a UTC offset to decide")
        naive_count, offset_count = self.naive_count, self.offset_count
        if naive_count and offset_count:
            warnings.append(f"column {column!r} mixes {offset_count:,} timestamps with a UTC offset and "
                            f"{naive_count:,} without; those without were read as {timezone}")
        elif naive_count:
            warnings.append(f"column {column!r}: {naive_count:,} timestamps have no UTC offset; read as {timezone} "
                            "(use --timezone to change)")
        if self.date_only:
            warnings.append(f"column {column!r}: {self.date_only:,} values are dates without a time of day (read "
                            "as 00:00)")
        return ParsedTimes(values=out, errors=errors, warnings=warnings, naive=naive_count, with_offset=offset_count,
                           column=column)
