"""Download buttons for tables: CSV / XLSX / JSON through :mod:`processmining.export`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from processmining.model import Provenance

MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "zip": "application/zip",
}


def table_downloads(tables: Mapping[str, pd.DataFrame | Mapping[str, Any]], *, stem: str, key: str,
                    provenance: Provenance | None = None,
                    formats: tuple[str, ...] = ("csv", "xlsx", "json")) -> None:
    """One download button per format, side by side; the file is built when the button is clicked.

    Formula-like cells are neutralised and provenance travels with XLSX / JSON /
    ZIP (see :mod:`processmining.export`). Building runs on click, off the page
    script, so a large XLSX never slows the page down.
    """
    from processmining import export

    tables = dict(tables)
    cols = st.columns(len(formats))
    for fmt, col in zip(formats, cols, strict=True):
        def build(fmt: str = fmt) -> bytes:
            return export.to_bytes(tables, fmt=fmt, provenance=provenance)

        col.download_button(f"Download {fmt.upper()}", build, file_name=f"{stem}.{fmt}", mime=MIME[fmt],
                            key=f"{key}_{fmt}", on_click="ignore")
