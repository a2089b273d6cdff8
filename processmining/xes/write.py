"""XES export: typed attributes, the standard extensions, vectorised and chunked.

:func:`write_xes` writes an :class:`~processmining.model.EventLog` as IEEE XES
that :func:`processmining.xes.read_xes` (and pm4py) read back unchanged.
"""

from __future__ import annotations

import gzip
import os
from typing import IO

import numpy as np
import pandas as pd

from .. import safe_input
from ..errors import ProcessMiningError
from ..model import ACTIVITY, CASE, LIFECYCLE, RESOURCE, TIMESTAMP, EventLog

__all__ = ["write_xes"]

_TRACE_KEY = "concept:name"  # the XES key of a trace's id

# ======================================================================= writing
_EXTENSIONS = (
    ("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
    ("Time", "time", "http://www.xes-standard.org/time.xesext"),
    ("Organizational", "org", "http://www.xes-standard.org/org.xesext"),
    ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
)
_INVALID_XML_CHARS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]"
_WRITE_CHUNK = 50_000


def _escape(s: pd.Series) -> pd.Series:
    """XML attribute escaping, vectorised; tabs and newlines as references so they survive."""
    for old, new in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"),
                     ("\t", "&#9;"), ("\n", "&#10;"), ("\r", "&#13;")):
        s = s.str.replace(old, new, regex=False)
    return s


def _escape_text(text: str) -> str:
    return _escape(pd.Series([text], dtype="string")).iloc[0]


def _xes_type(series: pd.Series) -> str:
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        return "date"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if dtype is np.dtype(object):
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        return {"boolean": "boolean", "integer": "int", "floating": "float", "datetime": "date"}.get(inferred, "string")
    return "string"


def _value_texts(series: pd.Series, xes_type: str) -> pd.Series:
    """The XES lexical form of every value (``<NA>`` where missing), as a string Series."""
    if xes_type == "date":
        values = pd.to_datetime(series, utc=True)
        arr = values.dt.tz_localize(None).to_numpy()
        ints = arr.view("int64")[~np.isnat(arr)]
        per_second = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[np.datetime_data(arr.dtype)[0]]
        out_unit = "ns"
        for cand, factor in (("ms", 10**3), ("us", 10**6), ("ns", 10**9)):
            # the coarsest of ms / us / ns that still writes every value exactly
            if per_second <= factor or not (ints % (per_second // factor)).any():
                out_unit = cand
                break
        text = pd.Series(np.datetime_as_string(arr, unit=out_unit), index=series.index, dtype="string")
        return (text + "+00:00").where(values.notna())
    if xes_type == "boolean":
        return series.map({True: "true", False: "false"}, na_action="ignore").astype("string")
    if xes_type == "int":
        return series.astype("Int64").astype("string")
    if xes_type == "float":
        arr = series.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        text = pd.Series(arr.astype(str), index=series.index, dtype="string")
        text = text.mask(np.isposinf(arr), "INF").mask(np.isneginf(arr), "-INF")
        return text.where(~np.isnan(arr))
    return series.astype("string")


def _check_writable(series: pd.Series, texts: pd.Series, column: str, cases: pd.Series) -> None:
    bad = texts.str.contains(_INVALID_XML_CHARS, regex=True).fillna(False).to_numpy(dtype=bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ProcessMiningError(
            f"value {series.iloc[i]!r} of case {cases.iloc[i]!r} contains a control character that XML 1.0 "
            f"cannot hold ({int(bad.sum()):,} values in this column); remove control characters before exporting",
            column=column,
        )


def _snippets(texts: pd.Series, xes_type: str, key: str, indent: str) -> np.ndarray:
    """``<type key="k" value="..."/>`` lines (``""`` where the value is missing), as an object array."""
    head = f'{indent}<{xes_type} key="{_escape_text(key)}" value="'
    lines = head + _escape(texts) + '"/>\n'
    return lines.fillna("").to_numpy(dtype=object)


def write_xes(log: EventLog, dest: str | os.PathLike | IO[bytes], *, compress: bool | None = None) -> None:
    """Write ``log`` as an IEEE XES document (UTF-8), gzip-compressed when asked.

    Every case becomes a ``<trace>`` with ``concept:name`` = the case id and
    its ``case:<key>`` columns as typed trace attributes (a ``case:`` column
    whose value changes within a case is written per event under its full
    name instead, so it is not lost); every event becomes an ``<event>`` with one typed attribute per
    non-missing value (string, int, float, boolean, date in UTC with the
    precision the data has). The extensions concept, time, org and lifecycle
    are declared. Columns starting with ``@@`` are internal and not written.
    ``compress=None`` gzips when ``dest`` is a path ending in ``.gz``.

    Reading the file back with :func:`read_xes` gives the same events,
    cases, timestamps, resources and typed attributes.

    >>> write_xes(log, "out.xes.gz")                   # doctest: +SKIP
    """
    df = log.df
    case_codes = pd.factorize(df[CASE])[0]
    if len(df) and (np.diff(case_codes) < 0).any():  # a case's events not contiguous: group them, stably
        df = df.iloc[np.argsort(case_codes, kind="stable")]
        case_codes = pd.factorize(df[CASE])[0]
    cases = df[CASE].astype("string")
    is_first = np.ones(len(df), dtype=bool)
    is_first[1:] = case_codes[1:] != case_codes[:-1]
    is_last = np.ones(len(df), dtype=bool)
    is_last[:-1] = is_first[1:]

    # case:<key> columns become trace attributes when they hold one value per case; a column
    # that varies within a case is written per event under its full name, so nothing is lost
    # and reading it back gives the same column
    grouped = df.groupby(case_codes, sort=False) if len(df) else None
    trace_cols = [c for c in df.columns if c.startswith("case:") and c != CASE
                  and (grouped is None or grouped[c].nunique(dropna=False).max() <= 1)]
    event_cols = [c for c in df.columns if not c.startswith("@@") and c != CASE and c not in trace_cols]
    event_cols.sort(key=lambda c: c not in (ACTIVITY, TIMESTAMP, RESOURCE, LIFECYCLE))

    header = ['<?xml version="1.0" encoding="UTF-8"?>\n',
              '<log xes.version="1849-2016" xes.features="" xmlns="http://www.xes-standard.org/">\n']
    header += [f'\t<extension name="{n}" prefix="{p}" uri="{u}"/>\n' for n, p, u in _EXTENSIONS]
    header.append('\t<classifier name="Activity" keys="concept:name"/>\n')

    path_like = isinstance(dest, (str, os.PathLike))
    if compress is None:
        compress = path_like and os.fspath(dest).endswith(".gz")
    if path_like:
        safe_input.refuse_url(dest)
    types = {c: _xes_type(df[c]) for c in event_cols + trace_cols}

    def chunks():
        yield "".join(header).encode("utf-8")
        for start in range(0, len(df), _WRITE_CHUNK):
            part = df.iloc[start : start + _WRITE_CHUNK]
            part_cases = cases.iloc[start : start + _WRITE_CHUNK]
            first = is_first[start : start + _WRITE_CHUNK]
            last = is_last[start : start + _WRITE_CHUNK]
            ev = np.full(len(part), "\t\t<event>\n", dtype=object)
            for col in event_cols:
                texts = _value_texts(part[col], types[col])
                if types[col] == "string":
                    _check_writable(part[col], texts, col, part_cases)
                ev = ev + _snippets(texts, types[col], col, "\t\t\t")
            ev = ev + "\t\t</event>\n"
            opener = "\t<trace>\n" + _snippets(part_cases.astype("string"), "string", _TRACE_KEY, "\t\t")
            _check_writable(part_cases, part_cases, CASE, part_cases)
            for col in trace_cols:
                texts = _value_texts(part[col], types[col])
                if types[col] == "string":
                    _check_writable(part[col], texts, col, part_cases)
                opener = opener + _snippets(texts, types[col], col[len("case:") :], "\t\t")
            body = np.where(first, opener, "") + ev + np.where(last, "\t</trace>\n", "")
            yield "".join(body.tolist()).encode("utf-8")
        yield b"</log>\n"

    _write_all(chunks(), dest, compress=bool(compress), path_like=path_like)


def _write_all(parts, dest, *, compress: bool, path_like: bool) -> None:
    if path_like:
        with safe_input.atomic_output(dest) as tmp, open(tmp, "wb") as raw:
            _write_stream(parts, raw, compress)
    else:
        _write_stream(parts, dest, compress)


def _write_stream(parts, fh: IO[bytes], compress: bool) -> None:
    if compress:
        with gzip.GzipFile(fileobj=fh, mode="wb", compresslevel=6, mtime=0) as gz:
            for p in parts:
                gz.write(p)
    else:
        for p in parts:
            fh.write(p)
