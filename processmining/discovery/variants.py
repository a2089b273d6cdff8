"""Variants: the distinct activity sequences of a log, computed once on integer codes (polars)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model import EventLog
from .map import event_codes


def variant_table(log: EventLog) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Variants of ``log`` computed on integer codes (polars, no per-case Python work).

    Returns ``(table, case_variant, case_ids)``: ``table`` has one row per variant
    (``codes``: list of activity codes, ``cases``, duration stats, ``first_case``
    code), unsorted; ``case_variant[i]`` is the row of case ``i`` in ``table``.
    """
    import polars as pl

    c = event_codes(log)
    case_codes, act_codes, ts = c.case, c.act, c.ts
    names = c.act_names
    frame = pl.DataFrame({"c": case_codes, "a": act_codes.astype(np.int32), "t": ts})
    per_case = frame.group_by("c", maintain_order=True).agg(
        pl.col("a"), (pl.col("t").max() - pl.col("t").min()).alias("d"))
    per_case = per_case.with_columns(pl.col("a").rank("dense").cast(pl.Int64).alias("v") - 1)
    table = per_case.group_by("v").agg(
        pl.col("a").first().alias("codes"), pl.len().alias("cases"),
        (pl.col("d").mean() / 1e9).alias("mean_duration_s"), (pl.col("d").median() / 1e9).alias("median_duration_s"),
        pl.col("c").min().alias("first_case"),
    ).sort("v")
    out = pd.DataFrame({
        "codes": table["codes"].to_list(),
        "cases": table["cases"].to_numpy(),
        "mean_duration_s": table["mean_duration_s"].to_numpy(),
        "median_duration_s": table["median_duration_s"].to_numpy(),
        "first_case": table["first_case"].to_numpy(),
    })
    out["activities"] = [tuple(str(names[k]) for k in codes) for codes in out["codes"]]
    return out, per_case["v"].to_numpy(), c.case_ids


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
