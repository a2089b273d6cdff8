"""Cell values for every export format: formula neutralisation, plain JSON values, ISO 8601 timestamps.

The column functions are vectorised (Arrow compute, numpy): a column becomes one
Arrow text array, never a Python loop over its cells, except for object columns
that hold mixed values (summary tables, lists), which are small.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

#: first characters that make a spreadsheet treat a cell as a formula (or strip/shift it)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: the same triggers as :data:`FORMULA_TRIGGERS`, as a regular expression
FORMULA_PATTERN = "^[=+\\-@\t\r]"
#: columns that are internal to the event log and never written to a user-facing table
INTERNAL_PREFIX = "@@"


# ------------------------------------------------------------ formula neutralisation
def is_formula_like(value: object) -> bool:
    """True for text a spreadsheet would evaluate or mangle (``=1+1``, ``@SUM``, ``-2+3``, tab/CR first)."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def neutralise_csv_cell(value: object) -> object:
    """``'`` in front of formula-like text (BAD_INPUTS item 29); everything else unchanged.

    >>> neutralise_csv_cell("=cmd|' /C calc'!A0"), neutralise_csv_cell("Approve quote"), neutralise_csv_cell(-3)
    ("'=cmd|' /C calc'!A0", 'Approve quote', -3)
    """
    return "'" + value if is_formula_like(value) else value  # type: ignore[operator]


def neutralise_arrow(arr: Any) -> Any:
    """The Arrow string array with ``'`` in front of every formula-like value (the CSV rule, vectorised)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.string())
    first = pc.utf8_slice_codeunits(arr, 0, 1)  # one cheap pass, then a set lookup (no regex per cell)
    risky = pc.is_in(first, value_set=pa.array(list(FORMULA_TRIGGERS), type=arr.type)).fill_null(False)
    if not pc.any(risky).as_py():
        return arr
    return pc.if_else(risky, pc.binary_join_element_wise(pa.scalar("'", arr.type), arr, pa.scalar("", arr.type)),
                      arr)


# ------------------------------------------------------------ tables
def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for k, v in mapping.items():
        name = f"{prefix}{k}"
        if isinstance(v, Mapping):
            yield from _flatten(v, name + ".")
        elif isinstance(v, (list, tuple)):
            yield name, json.dumps(jsonable(v), ensure_ascii=False)
        else:
            yield name, v


def as_frame(table: pd.DataFrame | Mapping[str, Any]) -> pd.DataFrame:
    """A table as a DataFrame without internal ``@@`` columns; a mapping becomes ``key, value`` rows."""
    if isinstance(table, pd.DataFrame):
        internal = [c for c in table.columns if isinstance(c, str) and c.startswith(INTERNAL_PREFIX)]
        return table.drop(columns=internal) if internal else table
    if isinstance(table, Mapping):
        rows = list(_flatten(table))
        return pd.DataFrame({"key": [k for k, _ in rows], "value": pd.Series([v for _, v in rows], dtype=object)})
    raise TypeError(f"a table must be a pandas DataFrame or a mapping, got {type(table).__name__}")


# ------------------------------------------------------------ single values
def jsonable(value: Any) -> Any:
    """Plain JSON values: timestamps → ISO 8601 UTC, NaN/NA → null, numpy → python."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return iso(value)
    if isinstance(value, (dt.date,)):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return value.total_seconds()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA:
        return None
    return value


def iso(ts: pd.Timestamp | dt.datetime) -> str:
    """One timestamp as ISO 8601 text: UTC with ``Z`` when it has a zone, as written otherwise."""
    ts = pd.Timestamp(ts)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC")
        frac = f".{ts.microsecond:06d}" if ts.microsecond else ""
        if ts.nanosecond:
            frac = f".{ts.microsecond:06d}{ts.nanosecond:03d}"
        return ts.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"
    return ts.isoformat()


def cell_text(value: Any) -> Any:
    """A value inside an object column as text when it is a timestamp (ISO) or a container (JSON)."""
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return iso(value)
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        return json.dumps(jsonable(value), ensure_ascii=False)
    return value


def is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


# ------------------------------------------------------------ whole columns (Arrow)
def is_datetime(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s.dtype)


def iso_arrow(s: pd.Series) -> Any:
    """A datetime column as ISO 8601 text (UTC ``Z`` for aware values; NaT = null), as an Arrow array.

    Whole seconds have no fraction, others six digits, nine when the value has nanoseconds (never
    truncated). Vectorised: each distinct day and time of day is formatted once.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    aware = isinstance(s.dtype, pd.DatetimeTZDtype)
    naive = s.dt.tz_convert("UTC").dt.tz_localize(None) if aware else s
    values = np.asarray(naive.to_numpy())
    per_s = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[np.datetime_data(values.dtype)[0]]
    nat = np.isnat(values)
    ints = np.where(nat, 0, values.view("i8"))
    secs = np.floor_divide(ints, per_s)
    frac = ints - secs * per_s
    days = np.floor_divide(secs, 86_400)
    tod = secs - days * 86_400
    day_values, day_of = np.unique(days, return_inverse=True)
    day_text = pa.array(np.datetime_as_string(day_values.astype("datetime64[D]")).tolist(), type=pa.string())
    parts = [day_text.take(pa.array(day_of.ravel())), "T"]
    for unit, sep in ((tod // 3600, ":"), (tod // 60 % 60, ":"), (tod % 60, None)):
        parts.append(pc.utf8_lpad(pa.array(unit).cast(pa.string()), 2, "0"))
        if sep:
            parts.append(sep)
    if per_s > 1 and frac.any():
        micro = pc.utf8_lpad(pa.array(frac * (1_000_000 // per_s) if per_s <= 1_000_000 else frac // 1_000)
                             .cast(pa.string()), 6, "0")
        text = pc.binary_join_element_wise(".", micro, "")
        if per_s == 1_000_000_000 and (frac % 1_000).any():
            nano = pc.binary_join_element_wise(".", pc.utf8_lpad(pa.array(frac).cast(pa.string()), 9, "0"), "")
            text = pc.if_else(pa.array(frac % 1_000 != 0), nano, text)
        parts.append(pc.if_else(pa.array(frac == 0), "", text))
    if aware:
        parts.append("Z")
    out = pc.binary_join_element_wise(*[pa.scalar(p) if isinstance(p, str) else p for p in parts], "")
    if nat.any():
        out = pc.if_else(pa.array(nat), pa.scalar(None, pa.string()), out)
    return out


def iso_column(s: pd.Series) -> pd.Series:
    """:func:`iso_arrow` as a pandas object column (``None`` for NaT)."""
    return pd.Series(iso_arrow(s).to_pylist(), index=s.index, dtype=object)


def arrow_strings(s: pd.Series) -> Any:
    """The column as an Arrow string array when it holds only text (and missing values), else None."""
    import pyarrow as pa

    if not (isinstance(s.dtype, pd.StringDtype) or s.dtype == object):
        return None
    try:
        arr = pa.array(s.array) if isinstance(s.dtype, pd.StringDtype) else pa.array(s.to_numpy(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_null(arr.type):
        return arr.cast(pa.string())
    return arr if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) else None


def float_text(s: pd.Series, *, keep_inf: bool) -> Any:
    """A float column as Python's ``repr`` text (``2.0``, ``1e-07``); NaN → null, ±inf → null unless kept."""
    import pyarrow as pa

    values = s.to_numpy(dtype="float64", na_value=np.nan).tolist()
    return pa.array([None if x != x or (not keep_inf and x in (math.inf, -math.inf)) else repr(x) for x in values],
                    type=pa.string())


def integer_text(s: pd.Series) -> Any:
    import pyarrow as pa

    arr = pa.array(s.array) if pd.api.types.is_extension_array_dtype(s.dtype) else pa.array(s.to_numpy())
    return arr.cast(pa.string())


def bool_text(s: pd.Series, true: str, false: str) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(s.array) if pd.api.types.is_extension_array_dtype(s.dtype) else pa.array(s.to_numpy())
    return pc.if_else(arr.cast(pa.bool_()), true, false)
