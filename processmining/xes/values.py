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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

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
    ns = _plain_dates(text)
    if ns is not None:
        return _in_unit(pd.Series(ns, index=raw.index).dt.tz_localize("UTC"), ns), np.zeros(len(ns), dtype=bool)
    parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    ns, oor = to_ns(np.asarray(parsed.dt.tz_localize(None).to_numpy()))
    retry = np.flatnonzero(np.isnat(ns) & ~oor & text.notna().to_numpy())
    for i in retry:  # lenient second chance (lower-case z, comma fraction) and extreme years pandas gave up on
        stamp = _fromisoformat(text.iloc[i])
        if stamp is not pd.NaT:
            one, bad = to_ns(np.array([stamp.tz_localize(None).to_datetime64()]))
            ns[i], oor[i] = one[0], bad[0]
    return _in_unit(pd.Series(ns, index=raw.index).dt.tz_localize("UTC"), ns), oor


def _in_unit(parsed: pd.Series, ns: np.ndarray) -> pd.Series:
    """Microseconds when no value needs nanoseconds (what the XES writers give), else nanoseconds."""
    ints = ns[~np.isnat(ns)].view("i8")
    return parsed.dt.as_unit("us") if (ints % 1000 == 0).all() else parsed


#: the plain xs:dateTime XES writers produce, always with a zone offset: for these Arrow's ISO 8601 cast
#: gives what pandas gives, in a fraction of the time
_PLAIN_DATETIME = (r"^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])[T ](?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d"
                   r"(?:\.\d{1,9})?(?:Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)$")


def _plain_dates(text: pd.Series) -> np.ndarray | None:
    """``datetime64[ns]`` (NaT where absent) when every value is a plain xs:dateTime in range; else None."""
    import pyarrow.compute as pc

    values = pa.chunked_array([pa.array(text.array)]) if not isinstance(text.array, pd.arrays.ArrowStringArray) \
        else text.array.__arrow_array__()
    present = values.drop_null()
    if not len(present) or not pc.all(pc.match_substring_regex(present, _PLAIN_DATETIME)).as_py():
        return None
    try:  # all or nothing: a day that does not exist (02-30) or a year outside 1677-2262 raises
        stamps = values.cast(pa.timestamp("ns", "UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return stamps.cast(pa.timestamp("ns")).to_numpy()


def _fromisoformat(value: str) -> pd.Timestamp:
    try:
        stamp = dt.datetime.fromisoformat(value[:-1] + "Z" if value.endswith("z") else value)
    except ValueError:
        return pd.NaT
    return pd.Timestamp(stamp).tz_localize("UTC") if stamp.tzinfo is None else pd.Timestamp(stamp).tz_convert("UTC")


def as_strings(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Texts (``None`` = missing) as the ``string`` column type, converted by Arrow in one C pass."""
    try:
        return pd.arrays.ArrowStringArray(pa.array(values, type=pa.large_string(), from_pandas=True))
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not plain text (cannot happen for XML attribute values)
        return pd.array(values, dtype="string")


_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


def _typed(xes_type: str, texts: pa.Array) -> tuple[pd.Series, pd.Series, pd.Series, np.ndarray]:
    """Convert raw texts (Arrow ``large_string``, null = absent) to the column type.

    Returns (values, unreadable mask, texts as string, dates outside the time type's range).
    """
    text = pd.Series(pd.arrays.ArrowStringArray(texts))
    raw = text
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


#: one (element tag incl. namespace, key) slot: the rows it occurs in and its raw texts (``None`` = no
#: ``value``), as Python lists (the streaming reader) or as numpy rows and Arrow texts (the byte scan)
Slot = tuple[Sequence[int] | np.ndarray, Sequence[str | None] | pa.Array]


@dataclass
class Scan:
    """Everything collected from one pass over the XML, by either scanner (:mod:`.read`, :mod:`.lexer`)."""

    n_events: int = 0
    n_traces: int = 0
    #: per event: index of its trace
    ev_trace: list[int] | np.ndarray = field(default_factory=list)
    #: XML line of event ``i`` (1-based); the byte scan computes lines only for the events asked about
    event_line: Callable[[int], int] = lambda i: 0  # noqa: ARG005
    #: element tag incl. namespace -> key -> slot; nested dicts are much faster for the streaming
    #: reader than (tag, key) tuples, which would be built and hashed per attribute
    ev_values: dict[str, dict[str | None, Slot]] = field(default_factory=dict)
    tr_values: dict[str, dict[str | None, Slot]] = field(default_factory=dict)
    #: (tag, key) in order of first appearance: the column order
    ev_order: list[tuple[str, str | None]] = field(default_factory=list)
    tr_order: list[tuple[str, str | None]] = field(default_factory=list)
    flattened: dict[str, int] = field(default_factory=dict)


@dataclass
class Column:
    key: str
    xes_type: str
    values: Any
    raw: pd.Series
    bad: pd.Series
    out_of_range: np.ndarray


def _arrow_slot(slot: Slot) -> tuple[np.ndarray | range, pa.Array | pa.ChunkedArray]:
    """Rows as int64 (a ``range`` stays one) and texts as Arrow ``large_string`` (chunks of the byte scan stay
    chunks: no copy)."""
    rows, vals = slot
    if not isinstance(vals, (pa.Array, pa.ChunkedArray)):
        vals = pa.array(vals, type=pa.large_string())
    elif vals.type != pa.large_string():
        vals = vals.cast(pa.large_string())
    return rows if isinstance(rows, range) else np.asarray(rows, dtype=np.int64), vals


def _concat(parts: list[pa.Array | pa.ChunkedArray]) -> pa.Array | pa.ChunkedArray:
    if len(parts) == 1:
        return parts[0]
    return pa.chunked_array([c for p in parts for c in (p.chunks if isinstance(p, pa.ChunkedArray) else [p])],
                            type=pa.large_string())


def build_columns(
    stores: dict[str, dict[str | None, Slot]],
    order: list[tuple[str, str | None]],
    n: int,
    warnings: list[str],
    what: str,
    forced: dict[str, str],
    release: Callable[[], None] = lambda: None,
) -> dict[str, Column]:
    """One typed column per attribute key; ``forced`` maps a key to the type it must have.

    Takes the slots out of ``stores`` as it goes (each raw text is held once: in the store, then in its column).
    """
    by_key: dict[str, dict[str, tuple[np.ndarray, pa.Array]]] = {}
    for tag, key in order:
        rows, vals = _arrow_slot(stores[tag].pop(key))
        kind = local_name(tag)
        if key is None:
            warnings.append(f"{len(rows):,} {what} <{kind}> elements without a key attribute were ignored")
            continue
        if kind not in SIMPLE_TYPES and kind not in CONTAINER_TYPES:
            warnings.append(f"{len(rows):,} unknown {what} elements <{kind} key={key!r}> were ignored")
            continue
        if kind in CONTAINER_TYPES and vals.null_count:  # an empty <list/> is an empty list, not a missing value
            vals = vals.fill_null("[]" if kind == "list" else "{}")
        if kind in by_key.get(key, {}):  # the same key and type in another XML namespace: keep it apart
            ns = tag[1:].partition("}")[0] if tag.startswith("{") else ""
            alt = f"{key} [{ns or 'no namespace'}]"
            warnings.append(f"{len(rows):,} {what} attributes <{kind} key={key!r}> in namespace {ns or 'none'!r} "
                            f"have the key of attributes in another namespace; kept as column {alt!r}")
            key = alt
        by_key.setdefault(key, {})[kind] = (rows, vals)
    stores.clear()
    columns: dict[str, Column] = {}
    for key in list(by_key):
        kinds = by_key.pop(key)
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
        texts = _concat([vals for _, vals in slots])
        if len(slots) == 1 and isinstance(slots[0][0], range):  # the byte scan's rows of an attribute every
            rows = slots[0][0]  # event (or trace) has
            idx = None if rows == range(n) else np.asarray(rows, dtype=np.int64)
        else:
            idx = np.concatenate([np.asarray(rows, dtype=np.int64) for rows, _ in slots])
        if idx is None or (len(idx) == n and (n == 0 or (idx[0] == 0 and (np.diff(idx) == 1).all()))):
            full = texts  # in every row exactly once, in order (the common case)
            n_dup = 0
        else:
            # position of each row's value in ``texts`` (-1: none); a later value of the same row wins
            where = np.full(n, -1, dtype=np.int64)
            n_dup = len(idx) - len(np.unique(idx))
            if n_dup:
                np.maximum.at(where, idx, np.arange(len(idx), dtype=np.int64))
            else:
                where[idx] = np.arange(len(idx), dtype=np.int64)
            full = texts.take(pa.array(where, mask=where < 0))
        if n_dup:
            warnings.append(f"{n_dup:,} {what}s have attribute {key!r} more than once; the last value was kept")
        values, bad, text, oor = _typed(xes_type, full)
        columns[key] = Column(key, xes_type, values, text, bad, oor)
        del full, texts, slots, kinds
        release()  # the conversion's temporaries (glibc and Arrow's pool each keep what they freed)
    return columns
