"""Download buttons: tables as CSV / XLSX / JSON / Parquet through :mod:`processmining.export`, pseudonymised when
the session says so, with progress for large files.

Every download of the app goes through here (or calls :func:`pseudonymizer` itself for a file that is not a
table, like the quality report), so the session's pseudonymisation switch covers all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

from app_pages import _state as app_state
from processmining.model import Provenance

MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "jsonl": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
    "zip": "application/zip",
    "html": "text/html",
}
#: tables with more rows than this (all tables together) are built on a button press, with progress
BIG_ROWS = 50_000
_BUILT = "pm:dl_built"


def pseudonymizer() -> Any:
    """The session's pseudonymizer for the current log (``None`` when pseudonymisation is off)."""
    return app_state.pseudonymizer(app_state.current())


def _rows(tables: Mapping[str, Any]) -> int:
    return sum(len(t) for t in tables.values() if isinstance(t, pd.DataFrame))


def _fingerprint(tables: Mapping[str, Any], pseudo: Any) -> str:
    """What identifies a built file: the tables' shapes and a sample of their content, and the pseudonymizer."""
    parts = [(name, t.shape, int(pd.util.hash_pandas_object(t.head(50).astype(str), index=False).sum()))
             if isinstance(t, pd.DataFrame) else (name, repr(t)[:200]) for name, t in tables.items()]
    return app_state.cache_key("download", (parts, id(pseudo) if pseudo is not None else None))


def prepared_download(label: str, build: Callable[[], bytes], *, file_name: str, mime: str, key: str,
                      what: str, col: Any = None, ident: str = "", help: str | None = None) -> None:  # noqa: A002
    """A large file: a button builds it (a status box with the time it took), then a download button serves it.

    ``ident`` identifies the content: a built file is offered again only for the same content.
    """
    place = col if col is not None else st
    built: dict[str, tuple[str, bytes]] = st.session_state.setdefault(_BUILT, {})
    have = built.get(key)
    if have is not None and have[0] == ident:
        place.download_button(f"{label} ({len(have[1]) / 1024**2:,.1f} MB)", have[1], file_name=file_name, mime=mime,
                              key=f"{key}_get", on_click="ignore", width="stretch", type="primary", help=help)
        return
    if place.button(f"Prepare {label.removeprefix('Download ')}", key=f"{key}_make", width="stretch", help=help):
        import time

        with place.status(f"Building {file_name}: {what}…", expanded=True) as status:
            t0 = time.perf_counter()
            data = build()
            status.update(label=f"{file_name}: {len(data) / 1024**2:,.1f} MB in {time.perf_counter() - t0:.1f} s",
                          state="complete", expanded=False)
        built[key] = (ident, data)
        place.download_button(f"{label} ({len(data) / 1024**2:,.1f} MB)", data, file_name=file_name, mime=mime,
                              key=f"{key}_get", on_click="ignore", width="stretch", type="primary", help=help)


def table_downloads(tables: Mapping[str, pd.DataFrame | Mapping[str, Any]], *, stem: str, key: str,
                    provenance: Provenance | None = None,
                    formats: tuple[str, ...] = ("csv", "xlsx", "json")) -> None:
    """One download button per format, side by side.

    Formula-like cells are neutralised and provenance travels with XLSX / JSON /
    ZIP / Parquet (see :mod:`processmining.export`). With the session's
    pseudonymisation on, every table, header and the provenance name nobody.
    Small files are built when their button is clicked (off the page script);
    past :data:`BIG_ROWS` rows a "Prepare" button builds the file with a status
    box first, then it downloads at once.
    """
    from processmining import export

    tables = dict(tables)
    pseudo = pseudonymizer()
    prov = app_state.pseudonymised_provenance(provenance, pseudo) if provenance is not None else None
    n_rows = _rows(tables)
    big = n_rows > BIG_ROWS
    ident = _fingerprint(tables, pseudo) if big else ""
    cols = st.columns(len(formats))
    for fmt, col in zip(formats, cols, strict=True):
        def build(fmt: str = fmt) -> bytes:
            return export.to_bytes(tables, fmt=fmt, provenance=prov, pseudonymizer=pseudo)

        label = f"Download {fmt.upper()}"
        if big:
            prepared_download(label, build, file_name=f"{stem}.{fmt}", mime=MIME[fmt], key=f"{key}_{fmt}",
                              what=f"{n_rows:,} rows", col=col, ident=ident)
        else:
            col.download_button(label, build, file_name=f"{stem}.{fmt}", mime=MIME[fmt], key=f"{key}_{fmt}",
                                on_click="ignore", width="stretch")
