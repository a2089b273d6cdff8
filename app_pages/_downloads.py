"""Download buttons for tables: CSV / XLSX / JSON through :mod:`processmining.export`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from processmining import app_state
from processmining.model import Provenance

MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "zip": "application/zip",
}


def table_downloads(tables: Mapping[str, pd.DataFrame | Mapping[str, Any]], *, stem: str, key: str,
                    provenance: Provenance | None = None, cache_parts: Any = None,
                    formats: tuple[str, ...] = ("csv", "xlsx", "json")) -> None:
    """One download button per format, side by side.

    Formula-like cells are neutralised and provenance travels with XLSX / JSON
    (see :mod:`processmining.export`). ``cache_parts`` identifies the tables
    (e.g. log fingerprint + parameters) so the bytes are built once per session.
    """
    from processmining import export

    cols = st.columns(len(formats))
    for fmt, col in zip(formats, cols, strict=True):
        def build(fmt: str = fmt) -> bytes:
            return export.to_bytes(tables, fmt=fmt, provenance=provenance)

        data = (app_state.cached(f"download:{fmt}", (key, cache_parts), build)
                if cache_parts is not None else build())
        col.download_button(f"Download {fmt.upper()}", data, file_name=f"{stem}.{fmt}",
                            mime=MIME[fmt], key=f"{key}_{fmt}")
