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

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import IngestError

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


def check_timezone(timezone: str) -> str:
    """Return ``timezone`` if pandas knows it, else raise :class:`IngestError`."""
    try:
        pd.Timestamp("2024-01-01").tz_localize(timezone)
    except (ValueError, KeyError, TypeError) as exc:
        raise IngestError(f"unknown time zone {timezone!r} ({exc}); use an IANA name like 'Europe/Berlin' or 'UTC'") \
            from None
    return timezone


def _localize(naive: pd.Series | np.ndarray, timezone: str) -> np.ndarray:
    """Naive wall-clock times in ``timezone`` → naive UTC ``datetime64[ns]``.

    DST gaps shift forward; repeated (ambiguous) hours take the first (summer-time) reading.
    """
    values = np.asarray(naive, dtype="datetime64[ns]")
    if timezone.upper() == "UTC":
        return values
    flags = np.ones(len(values), dtype=bool)
    local = pd.Series(values).dt.tz_localize(timezone, ambiguous=flags, nonexistent="shift_forward")
    return np.asarray(local.dt.tz_convert("UTC").dt.tz_localize(None), dtype="datetime64[ns]")


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


def _iso(sub: pa.ChunkedArray, *, aware: bool) -> np.ndarray:
    """ISO 8601 strings → naive UTC (aware) or naive wall-clock datetime64[ns]; NaT for impossible values."""
    if pc.any(pc.match_substring(sub, ",")).as_py():
        sub = pc.replace_substring(sub, ",", ".")
    try:
        ts = pc.cast(sub, pa.timestamp("ns", "UTC") if aware else pa.timestamp("ns"))
        return np.asarray(ts.to_numpy(), dtype="datetime64[ns]")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # some value is impossible: parse per value
        objs = pd.Series(sub.to_numpy(zero_copy_only=False))
        parsed = pd.to_datetime(objs, format="ISO8601", utc=aware, errors="coerce")
        if aware:
            parsed = parsed.dt.tz_localize(None)
        return np.asarray(parsed, dtype="datetime64[ns]")


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
    n = len(values)
    rows = np.arange(1, n + 1) if rows is None else np.asarray(rows)
    arr = as_arrow_text(values)
    present = arr.is_valid().to_numpy(zero_copy_only=False)
    remaining = present.copy()
    recognised = np.zeros(n, dtype=bool)
    warnings: list[str] = []
    naive_count = 0
    offset_count = 0
    date_only = 0

    out_ns = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")

    def take(pattern: str) -> np.ndarray:
        if not remaining.any():
            return remaining.copy()
        hit = pc.match_substring_regex(arr, f"^(?:{pattern})$").fill_null(False)
        return hit.to_numpy(zero_copy_only=False) & remaining

    def store(mask: np.ndarray, utc_naive: np.ndarray | pd.Series) -> None:
        nonlocal remaining
        out_ns[mask] = np.asarray(utc_naive, dtype="datetime64[ns]")
        recognised[mask] = True
        remaining = remaining & ~mask

    def extract(mask: np.ndarray, pattern: str) -> dict[str, np.ndarray]:
        parts = pc.extract_regex(arr.filter(pa.array(mask)), f"^(?:{pattern})$").combine_chunks()
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

    # 0. fast path: the whole column is ISO 8601 (Arrow's parser), all with or all without an offset
    if present.all() and n:
        for aware in (True, False):
            try:
                ts = pc.cast(arr, pa.timestamp("ns", "UTC") if aware else pa.timestamp("ns"))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
            if not pc.all(pc.greater_equal(pc.binary_length(arr), 10)).as_py():
                break  # Arrow also reads bare years or year-months; those go through the checks below
            values_ns = np.asarray(ts.to_numpy(), dtype="datetime64[ns]")
            if aware:
                offset_count = n
            else:
                values_ns = _localize(values_ns, timezone)
                naive_count = n
                date_only = int(pc.sum(pc.equal(pc.binary_length(arr), 10)).as_py() or 0)
            store(present, values_ns)
            break
    # 1. ISO with an explicit offset
    m = take(ISO_OFFSET)
    if m.any():
        store(m, _iso(arr.filter(pa.array(m)), aware=True))
        offset_count += int(m.sum())
    # 2. naive ISO (with or without a time)
    m = take(ISO_NAIVE)
    if m.any():
        sub = arr.filter(pa.array(m))
        date_only += int(pc.sum(pc.equal(pc.binary_length(sub), 10)).as_py() or 0)
        store(m, _localize(_iso(sub, aware=False), timezone))
        naive_count += int(m.sum())
    # 3. epoch seconds / milliseconds (UTC by definition)
    for pattern, unit in ((EPOCH_S, "s"), (EPOCH_MS, "ms")):
        m = take(pattern)
        if m.any():
            num = pc.cast(arr.filter(pa.array(m)), pa.float64()).to_numpy()
            store(m, pd.to_datetime(pd.Series(num), unit=unit, errors="coerce"))
            offset_count += int(m.sum())
    # 4. Excel serial day numbers (local wall-clock time)
    m = take(EXCEL)
    if m.any():
        days = pd.Series(pc.cast(arr.filter(pa.array(m)), pa.float64()).to_numpy())
        naive = (EXCEL_EPOCH + pd.to_timedelta(days, unit="D")).dt.round("ms")
        store(m, _localize(naive.astype("datetime64[ns]"), timezone))
        naive_count += int(m.sum())
        date_only += int((days == days.round()).sum())
    # 5. numeric day/month/year: needs a day-first rule
    m = take(_NUMERIC)
    if m.any():
        parts = extract(m, _NUMERIC)
        a, b = parts["a"], parts["b"]
        sub_rows = rows[m]
        sub_text = arr.filter(pa.array(m))
        if dayfirst is None:
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
                dayfirst = True
                v, line = _first(sub_text, says_day, sub_rows)
                warnings.append(f"column {column!r}: dates read day-first (DD/MM/YYYY), inferred from "
                                f"{v!r} on line {line}")
            elif says_month.any():
                dayfirst = False
                v, line = _first(sub_text, says_month, sub_rows)
                warnings.append(f"column {column!r}: dates read month-first (MM/DD/YYYY), inferred from "
                                f"{v!r} on line {line}")
            else:
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
                dayfirst = True  # every value reads the same either way
        day, month = (a, b) if dayfirst else (b, a)
        date_only += int((parts["H"] < 0).sum())
        store(m, _localize(_from_parts(parts, month, day).astype("datetime64[ns]"), timezone))
        naive_count += int(m.sum())
    # 6. year-first with slashes or dots (2024/03/01): never ambiguous
    m = take(_YMD)
    if m.any():
        parts = extract(m, _YMD)
        date_only += int((parts["H"] < 0).sum())
        store(m, _localize(_from_parts(parts, parts["b"], parts["a"]).astype("datetime64[ns]"), timezone))
        naive_count += int(m.sum())
    # 7. month names: 01/Mar/24 10:02 AM, 1 March 2024, Mar 1, 2024 9:15 AM
    for pattern in (_DAY_MON, _MON_DAY):
        m = take(pattern)
        if m.any():
            parts = extract(m, pattern)
            month = np.array([_MONTHS.get(x, -1) for x in parts["mon"]], dtype="int64")  # per distinct-ish name
            ok = month > 0
            m[np.flatnonzero(m)[~ok]] = False
            if m.any():
                parts = {k: v[ok] for k, v in parts.items()}
                date_only += int((parts["H"] < 0).sum())
                naive = _from_parts(parts, month[ok], parts["a"])
                store(m, _localize(naive.astype("datetime64[ns]"), timezone))
                naive_count += int(m.sum())

    out = pd.Series(out_ns, index=values.index).dt.tz_localize("UTC")
    errors = pd.Series(pd.NA, index=values.index, dtype="string")
    bad = present & np.isnat(out_ns)
    if bad.any():
        errors.iloc[np.flatnonzero(bad & recognised)] = IMPOSSIBLE
        errors.iloc[np.flatnonzero(bad & ~recognised)] = UNRECOGNISED
    if naive_count and offset_count:
        warnings.append(f"column {column!r} mixes {offset_count:,} timestamps with a UTC offset and "
                        f"{naive_count:,} without; those without were read as {timezone}")
    elif naive_count:
        warnings.append(f"column {column!r}: {naive_count:,} timestamps have no UTC offset; read as {timezone} "
                        "(use --timezone to change)")
    if date_only:
        warnings.append(f"column {column!r}: {date_only:,} values are dates without a time of day (read as 00:00)")
    return ParsedTimes(values=out, errors=errors, warnings=warnings, naive=naive_count, with_offset=offset_count)
