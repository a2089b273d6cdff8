"""Auditor-grade exports: CSV, XLSX, JSON, JSON Lines, Parquet and ZIP, each carrying its :class:`Provenance`.

One entry point, :func:`write_tables`, writes named tables (deviation lists,
summaries, variant tables, quality findings ...) to a file or a binary stream;
:func:`to_bytes` returns the same bytes for the app's download buttons. The
cell rules live in :mod:`.cells`, the text and columnar writers in
:mod:`.writers`, the streaming XLSX writer in :mod:`.xlsx`; every writer
builds whole columns in Arrow (no Python loop per cell) and streams in
chunks of rows, so memory stays bounded.

What every format guarantees:

* **Provenance** travels with the data: an XLSX gets a ``provenance`` sheet, a
  JSON document a top-level ``"provenance"`` object, a CSV a sidecar file
  ``<name>.provenance.json`` (a ZIP -- ``fmt="zip"`` -- bundles all CSVs and
  ``provenance.json`` into one download).
* **Formula injection is neutralised** (OWASP "CSV injection"): a text cell that
  starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written
  as text. CSV: prefixed with ``'`` (the value is otherwise unchanged); XLSX:
  stored as a string cell, never a formula, and *not* prefixed, so the value
  survives byte for byte. JSON is data, not a spreadsheet, and stays verbatim.
* CSV is RFC 4180: UTF-8, CRLF line ends, fields with a comma, quote, CR or LF quoted.
* Timestamps are written in UTC: ISO 8601 text in CSV and JSON, real date
  cells (``yyyy-mm-dd hh:mm:ss``, UTC) in XLSX.
* A table value may also be a plain mapping (e.g. a summary dict): JSON keeps
  it as an object, CSV/XLSX flatten it to ``key, value`` rows
  (``share_by_kind.missing``).

>>> import io, pandas as pd
>>> buf = io.BytesIO()
>>> _ = write_tables({"deviations": pd.DataFrame({"activity": ["=HYPERLINK(1)"]})}, buf, fmt="csv")
>>> buf.getvalue().decode()
"activity\\r\\n'=HYPERLINK(1)\\r\\n"
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any, BinaryIO, Literal

import pandas as pd

from ..memory import release_freed_memory, system_arrow_pool
from ..model import Provenance
from ..pseudonyms import Pseudonymizer, pseudonym, pseudonymize, pseudonymize_table
from .cells import (
    FORMULA_PATTERN,
    FORMULA_TRIGGERS,
    INTERNAL_PREFIX,
    as_frame,
    is_formula_like,
    neutralise_arrow,
    neutralise_csv_cell,
)
from .writers import (
    provenance_json,
    safe_stem,
    write_csv,
    write_json,
    write_jsonl,
    write_parquet,
    write_zip,
)
from .xlsx import XLSX_MAX_ROWS, XLSX_MAX_TEXT, write_xlsx

__all__ = ["FORMATS", "FORMULA_PATTERN", "FORMULA_TRIGGERS", "INTERNAL_PREFIX", "XLSX_MAX_ROWS", "XLSX_MAX_TEXT",
           "Pseudonymizer", "as_frame", "infer_format", "is_formula_like", "neutralise_arrow", "neutralise_csv_cell",
           "pseudonym", "pseudonymize", "pseudonymize_table", "to_bytes", "write_tables"]

ExportFormat = Literal["csv", "xlsx", "json", "jsonl", "parquet", "zip"]
FORMATS: tuple[str, ...] = ("csv", "xlsx", "json", "jsonl", "parquet", "zip")


# ------------------------------------------------------------ public API
def infer_format(dest: str | PathLike[str]) -> ExportFormat:
    """The export format from a file name: ``.csv``, ``.xlsx``, ``.json``, ``.jsonl``, ``.parquet`` or ``.zip``."""
    suffix = Path(dest).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(f"cannot tell the export format of {str(dest)!r}: use a "
                         + ", ".join(f".{f}" for f in FORMATS[:-1]) + f" or .{FORMATS[-1]} name")
    return suffix  # type: ignore[return-value]


def _pseudonymised(tables: Mapping[str, Any], pseudonymizer: Pseudonymizer | None) -> Mapping[str, Any]:
    if pseudonymizer is None:
        return tables
    return {pseudonymizer.text(str(k)): pseudonymizer.mapping(as_frame(v) if isinstance(v, pd.DataFrame) else v)
            for k, v in tables.items()}


def _write_one(tables: Mapping[str, Any], fmt: str, provenance: Provenance | None, fh: BinaryIO) -> None:
    """The first table (csv, jsonl, parquet) or all tables (json, xlsx, zip) into ``fh``."""
    first = as_frame(next(iter(tables.values())))
    if fmt == "parquet":  # one Arrow table, written whole: the default pool
        write_parquet(first, fh, provenance)
        return
    with system_arrow_pool():  # the text writers' chunks: many short-lived buffers, none kept
        if fmt == "csv":
            write_csv(first, fh)
        elif fmt == "jsonl":
            write_jsonl(first, fh)
        elif fmt == "json":
            write_json(tables, provenance, fh)
        elif fmt == "xlsx":
            write_xlsx(tables, provenance, fh)
        elif fmt == "zip":
            write_zip(tables, provenance, fh)
        else:
            raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")


def to_bytes(
    tables: Mapping[str, pd.DataFrame | Mapping[str, Any]],
    *,
    fmt: ExportFormat,
    provenance: Provenance | None = None,
    pseudonymizer: Pseudonymizer | None = None,
) -> bytes:
    """The bytes of an export, e.g. for ``st.download_button``.

    ``fmt="csv"`` / ``"jsonl"`` / ``"parquet"`` hold only the first table
    (Parquet carries the provenance in its metadata; for CSV offer ``"zip"``
    -- all tables as CSV plus ``provenance.json`` -- or ``"xlsx"``/``"json"``
    when provenance must travel in the same file). With ``pseudonymizer``
    every table, header and nested value is pseudonymised.

    >>> import pandas as pd
    >>> to_bytes({"t": pd.DataFrame({"a": [1]})}, fmt="json")[:1]
    b'{'
    """
    if not tables:
        raise ValueError("nothing to export: no tables given")
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    buf = io.BytesIO()
    try:
        _write_one(_pseudonymised(tables, pseudonymizer), fmt, provenance, buf)
        return buf.getvalue()
    finally:
        del buf
        release_freed_memory()


def write_tables(
    tables: Mapping[str, pd.DataFrame | Mapping[str, Any]],
    dest: str | PathLike[str] | BinaryIO,
    *,
    fmt: ExportFormat | None = None,
    provenance: Provenance | None = None,
    pseudonymizer: Pseudonymizer | None = None,
) -> list[Path]:
    """Write named tables to ``dest`` (a path or a binary stream); returns the files written.

    * ``xlsx``: one sheet per table (split into ``name (2)`` ... past Excel's
      1,048,576 rows) plus a ``provenance`` sheet; written streaming.
    * ``json``: ``{"provenance": {...}, "<table>": [records] | {object}, ...}``.
    * ``csv`` / ``jsonl`` / ``parquet`` to a path: the first table in ``dest``,
      every further table in ``<stem>.<table>.<ext>`` beside it, provenance in
      ``<stem>.provenance.json`` (Parquet also in its metadata). To a stream:
      the first table only (use ``zip`` to bundle everything).
    * ``zip``: every table as CSV and ``provenance.json``.

    Every file is written to a temporary name and renamed when complete, so
    a failure never leaves half a file; a path that is one of the inputs of
    the running command, a missing folder or a symlink loop is refused
    (:class:`~processmining.errors.OutputError`). Internal ``@@`` columns are
    never written. The format comes from ``fmt`` or the file extension.

    >>> import pandas as pd, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> [p.name for p in write_tables({"deviations": pd.DataFrame({"a": [1]}), "summary": {"fitness": 1.0}},
    ...                               d / "out.csv")]
    ['out.csv', 'out.summary.csv']
    """
    is_path = isinstance(dest, (str, PathLike))
    if fmt is None:
        if not is_path:
            raise ValueError("give fmt= when writing to a stream")
        fmt = infer_format(dest)  # type: ignore[arg-type]
    if not tables:
        raise ValueError("nothing to export: no tables given")
    try:
        return _write_tables(_pseudonymised(tables, pseudonymizer), dest, fmt, provenance, is_path)
    finally:
        release_freed_memory()  # the chunks' text: later steps start from what is really held


def _write_tables(tables: Mapping[str, Any], dest: str | PathLike[str] | BinaryIO, fmt: str,
                  provenance: Provenance | None, is_path: bool) -> list[Path]:
    from ..safe_input import atomic_output, check_output_path

    if not is_path:
        _write_one(tables, fmt, provenance, dest)  # type: ignore[arg-type]
        return []
    path = Path(dest)  # type: ignore[arg-type]
    if fmt not in ("csv", "jsonl", "parquet"):
        with atomic_output(path) as tmp, open(tmp, "wb") as fh:
            _write_one(tables, fmt, provenance, fh)
        return [path]
    items = list(tables.items())
    plan = [(path, {items[0][0]: items[0][1]})]
    plan += [(path.with_name(f"{path.stem}.{safe_stem(name)}.{fmt}"), {name: table}) for name, table in items[1:]]
    side = path.with_name(f"{path.stem}.provenance.json") if provenance is not None else None
    for target, _ in plan:  # refuse before writing anything
        check_output_path(target)
    if side is not None:
        check_output_path(side)
    written = []
    for target, part in plan:
        with atomic_output(target) as tmp, open(tmp, "wb") as fh:
            _write_one(part, fmt, provenance, fh)
        written.append(target)
    if side is not None:
        with atomic_output(side) as tmp:
            tmp.write_bytes(provenance_json(provenance))  # type: ignore[arg-type]
        written.append(side)
    return written
