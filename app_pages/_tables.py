"""Tables as people read them: durations in days with the unit in the column name, not ``idle_s``."""

from __future__ import annotations

import pandas as pd

#: suffixes of the library's duration columns (seconds)
_SECONDS = "_s"


def readable(df: pd.DataFrame) -> pd.DataFrame:
    """A copy for display: every ``*_s`` column (seconds) becomes ``* (days)``; underscores become spaces."""
    out = {}
    for col in df.columns:
        name = str(col)
        if name.endswith(_SECONDS) and pd.api.types.is_numeric_dtype(df[col]):
            out[f"{name[:-2].replace('_', ' ')} (days)"] = df[col].astype(float) / 86400.0
        else:
            out[name.replace("_", " ") if name.isidentifier() else name] = df[col]
    return pd.DataFrame(out, index=df.index)
