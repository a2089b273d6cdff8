"""XES attribute values: raw texts collected per (type, key) become typed columns.

``string``/``id`` → ``string``, ``int`` → ``Int64`` (exact, also past 2**53),
``float`` → ``Float64`` (``INF``, ``NaN`` as xs:double writes them),
``boolean`` → ``boolean``, ``date`` → ``datetime64[UTC]`` (dates outside
what the type holds exactly are flagged, never wrapped). A value that is not
valid for its type is flagged as unreadable (the reader keeps its text and
says where it was); a key written with different types becomes a text column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

SIMPLE_TYPES = ("string", "date", "int", "float", "boolean", "id")
CONTAINER_TYPES = ("list", "container")


def local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


OFFSET = r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"


def _parse_dates(raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """ISO 8601 / xs:dateTime texts → UTC timestamps (NaT where unreadable); naive = UTC.

    Also returns the mask of dates outside what the time type holds exactly
    (before 1677-09-21 or after 2262-04-11): those are NaT, never wrapped to
    another date, so events sort right and the reader can say why.
    """
    from ..ingest.timestamps import to_ns

    text = raw.str.strip()
    parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    ns, oor = to_ns(np.asarray(parsed.dt.tz_localize(None).to_numpy()))
    retry = np.flatnonzero(np.isnat(ns) & ~oor & text.notna().to_numpy())
    for i in retry:  # lenient second chance (lower-case z, comma fraction) and extreme years pandas gave up on
        stamp = _fromisoformat(text.iloc[i])
        if stamp is not pd.NaT:
            one, bad = to_ns(np.array([stamp.tz_localize(None).to_datetime64()]))
            ns[i], oor[i] = one[0], bad[0]
    parsed = pd.Series(ns, index=raw.index).dt.tz_localize("UTC")
    ints = ns[~np.isnat(ns)].view("i8")
    if (ints % 1000 == 0).all():
        parsed = parsed.dt.as_unit("us")
    return parsed, oor


def _fromisoformat(value: str) -> pd.Timestamp:
    try:
        stamp = dt.datetime.fromisoformat(value[:-1] + "Z" if value.endswith("z") else value)
    except ValueError:
        return pd.NaT
    return pd.Timestamp(stamp).tz_localize("UTC") if stamp.tzinfo is None else pd.Timestamp(stamp).tz_convert("UTC")


def as_strings(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Texts (``None`` = missing) as the ``string`` column type, converted by Arrow in one C pass."""
    import pyarrow as pa

    try:
        return pd.arrays.ArrowStringArray(pa.array(values, type=pa.large_string(), from_pandas=True))
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not plain text (cannot happen for XML attribute values)
        return pd.array(values, dtype="string")


_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


def _typed(xes_type: str, raw: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series, np.ndarray]:
    """Convert raw texts (``None`` = absent) to the column type.

    Returns (values, unreadable mask, texts as string, dates outside the time type's range).
    """
    text = pd.Series(as_strings(raw.to_numpy()), index=raw.index)
    present = text.notna()
    no_oor = np.zeros(len(raw), dtype=bool)
    if xes_type in ("string", "id", "list", "container"):
        return text, pd.Series(False, index=raw.index), text, no_oor
    out_of_range = None
    if xes_type == "date":
        values, out_of_range = _parse_dates(text)
    elif xes_type == "int":
        ok = text.str.fullmatch(r"\s*[+-]?\d{1,18}\s*").fillna(False).astype(bool)
        # Build the int64 data and its mask directly: a masked assignment into an
        # Int64 Series goes through float64 and rounds values above 2**53.
        ints = np.zeros(len(text), dtype=np.int64)
        known = ok.to_numpy(copy=True)
        if known.any():
            ints[known] = text[ok].str.strip().astype("int64").to_numpy()
        big = present & ~ok & text.str.fullmatch(r"\s*[+-]?\d+\s*").fillna(False).astype(bool)
        for i in np.flatnonzero(big.to_numpy()):  # 19+ digits: rare, exact check in Python
            number = int(text.iloc[i])
            if -(2**63) <= number < 2**63:
                ints[i] = number
                known[i] = True
        values = pd.Series(pd.arrays.IntegerArray(ints, ~known), index=raw.index)
    elif xes_type == "float":
        # xs:double also allows INF, -INF and NaN; NaN is read as a missing value
        stripped = text.str.strip().replace({"INF": "inf", "+INF": "inf", "-INF": "-inf"})
        values = pd.to_numeric(stripped, errors="coerce").astype("Float64")
        nan_text = stripped.eq("NaN").fillna(False).astype(bool)
    elif xes_type == "boolean":
        low = text.str.strip().str.lower()
        values = pd.Series(pd.array([pd.NA] * len(text), dtype="boolean"), index=raw.index)
        values[low.isin(_TRUE).fillna(False).astype(bool)] = True
        values[low.isin(_FALSE).fillna(False).astype(bool)] = False
    else:  # pragma: no cover - callers only pass known types
        raise ValueError(xes_type)
    bad = present & values.isna()
    if xes_type == "float":
        bad = bad & ~nan_text
    return values, bad, text, (no_oor if out_of_range is None else out_of_range)


@dataclass
class Column:
    key: str
    xes_type: str
    values: Any
    raw: pd.Series
    bad: pd.Series
    out_of_range: np.ndarray


def build_columns(
    stores: dict[str, dict[str | None, tuple[list[int], list[str | None]]]],
    order: list[tuple[str, str | None]],
    n: int,
    warnings: list[str],
    what: str,
    forced: dict[str, str],
) -> dict[str, Column]:
    """One typed column per attribute key; ``forced`` maps a key to the type it must have."""
    by_key: dict[str, dict[str, tuple[list[int], list[str | None]]]] = {}
    for tag, key in order:
        slot = stores[tag][key]
        kind = local_name(tag)
        if key is None:
            warnings.append(f"{len(slot[0]):,} {what} <{kind}> elements without a key attribute were ignored")
            continue
        if kind not in SIMPLE_TYPES and kind not in CONTAINER_TYPES:
            warnings.append(f"{len(slot[0]):,} unknown {what} elements <{kind} key={key!r}> were ignored")
            continue
        if kind in CONTAINER_TYPES and None in slot[1]:  # an empty <list/> is an empty list, not a missing value
            slot = (slot[0], [("[]" if kind == "list" else "{}") if v is None else v for v in slot[1]])
        if kind in by_key.get(key, {}):  # the same key and type in another XML namespace: keep it apart
            ns = tag[1:].partition("}")[0] if tag.startswith("{") else ""
            alt = f"{key} [{ns or 'no namespace'}]"
            warnings.append(f"{len(slot[0]):,} {what} attributes <{kind} key={key!r}> in namespace {ns or 'none'!r} "
                            f"have the key of attributes in another namespace; kept as column {alt!r}")
            key = alt
        by_key.setdefault(key, {})[kind] = slot
    columns: dict[str, Column] = {}
    for key, kinds in by_key.items():
        if key in forced:
            xes_type = forced[key]
        elif len(kinds) == 1:
            xes_type = next(iter(kinds))
        else:
            xes_type = "string"
            warnings.append(
                f"{what} attribute {key!r} is written as {', '.join(sorted(kinds))} in different places; "
                "kept as text"
            )
        slots = list(kinds.values())
        idx = np.concatenate([np.asarray(rows, dtype=np.int64) for rows, _ in slots])
        if len(slots) == 1 and len(idx) == n and (n == 0 or (idx[0] == 0 and (np.diff(idx) == 1).all())):
            full = np.array(slots[0][1], dtype=object)  # in every row exactly once (the common case)
            n_dup = 0
        else:
            full = np.full(n, None, dtype=object)
            for rows, vals in slots:
                full[np.asarray(rows, dtype=np.int64)] = vals
            n_dup = len(idx) - len(np.unique(idx))
        if n_dup:
            warnings.append(f"{n_dup:,} {what}s have attribute {key!r} more than once; the last value was kept")
        raw = pd.Series(full, dtype=object)
        values, bad, text, oor = _typed(xes_type, raw)
        columns[key] = Column(key, xes_type, values, text, bad, oor)
    return columns


