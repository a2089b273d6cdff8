"""Variants: the distinct activity sequences of a log, computed once on integer codes (polars)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model import EventLog


def variant_table(log: EventLog) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Variants of ``log`` computed on integer codes (polars, no per-case Python work).

    Returns ``(table, case_variant, case_ids)``: ``table`` has one row per variant
    (``codes``: list of activity codes, ``cases``, duration stats, ``first_case``
    code), unsorted; ``case_variant[i]`` is the row of case ``i`` in ``table``.
    """
    import polars as pl
    import pyarrow as pa

    c = log.codes
    names = c.act_names
    n, n_cases = len(c.act), c.n_cases
    # each case's activity codes as one list, cut from the sorted events at the case bounds (no grouping)
    offsets = pa.array(np.append(c.starts, n).astype(np.int64))
    seqs = pl.from_arrow(pa.LargeListArray.from_arrays(offsets, pa.array(c.act.astype(np.int32))))
    spans = np.maximum.reduceat(c.ts, c.starts) - np.minimum.reduceat(c.ts, c.starts) if n else np.zeros(0, np.int64)
    per_case = pl.DataFrame({"c": np.arange(n_cases, dtype=np.int64), "a": seqs, "d": spans})
    table = per_case.group_by("a").agg(
        pl.col("c").alias("members"), pl.len().alias("cases"),
        (pl.col("d").mean() / 1e9).alias("mean_duration_s"), (pl.col("d").median() / 1e9).alias("median_duration_s"),
        pl.col("c").min().alias("first_case"),
    ).sort("a").rename({"a": "codes"})  # variant v is the v-th sequence in sort order
    case_variant = np.empty(n_cases, dtype=np.int64)
    sizes = table["members"].list.len().to_numpy()
    case_variant[table["members"].explode().to_numpy()] = np.repeat(np.arange(len(table), dtype=np.int64), sizes)
    out = pd.DataFrame({
        "codes": table["codes"].to_list(),
        "cases": table["cases"].to_numpy(),
        "mean_duration_s": table["mean_duration_s"].to_numpy(),
        "median_duration_s": table["median_duration_s"].to_numpy(),
        "first_case": table["first_case"].to_numpy(),
    })
    out["activities"] = [tuple(str(names[k]) for k in codes) for codes in out["codes"]]
    if not log.has_timestamps:  # order-only log: durations are unknown, not zero
        out["mean_duration_s"] = np.nan
        out["median_duration_s"] = np.nan
    return out, case_variant, c.case_ids


def variants(log: EventLog) -> pd.DataFrame:
    """The case variants (distinct activity sequences), most frequent first.

    Columns: ``variant`` ("V1", "V2", ... by rank), ``activities`` (tuple),
    ``length``, ``cases``, ``share`` (of cases), ``cumulative_share``,
    ``mean_duration_s`` / ``median_duration_s`` (first to last event of the
    case), ``example_case``. Ties in ``cases`` are ordered by the sequence.

    >>> v = variants(log)
    >>> v.loc[0, "cases"], v.loc[0, "activities"]
    """
    cols = ["variant", "activities", "length", "cases", "share", "cumulative_share",
            "mean_duration_s", "median_duration_s", "example_case"]
    if log.n_events == 0:
        return pd.DataFrame(columns=cols)
    v, _, case_ids = variant_table(log)
    n_cases = len(case_ids)
    v = v.sort_values(["cases", "activities"], ascending=[False, True], ignore_index=True)
    v["length"] = [len(a) for a in v["activities"]]
    v["share"] = v["cases"] / n_cases
    v["cumulative_share"] = v["cases"].cumsum() / n_cases
    v["variant"] = [f"V{i + 1}" for i in range(len(v))]
    v["example_case"] = case_ids[v["first_case"].to_numpy()]
    return v[cols]


def variant_coverage(log: EventLog, top_n: int) -> float:
    """Share of cases (0..1) that follow one of the ``top_n`` most frequent variants.

    >>> variant_coverage(log, 10)   # "the top 10 variants cover 83 % of cases"
    0.83
    """
    if top_n <= 0:
        return 0.0
    v = variants(log)
    if v.empty:
        return 0.0
    return float(v["cumulative_share"].iloc[min(top_n, len(v)) - 1])
