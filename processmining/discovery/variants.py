"""Variants: the distinct activity sequences of a log -- the one variants engine.

:func:`log_variants` finds them once on the log's integer codes (each case's
activity codes as one Arrow list, grouped once by polars): conformance aligns its
variants, discovery ranks them (:func:`variants`), the filters pick cases by
them, and the Spark engine hands its cluster-counted variants over in the same
:class:`Variants` shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
import pandas as pd

from ..memory import system_arrow_pool
from ..model import EventLog


@dataclass(frozen=True)
class Variants:
    """Which case follows which activity sequence.

    ``traces[v]`` is variant ``v``'s activity sequence; ``counts[v]`` its number
    of cases. Per case (in log order): ``case_ids``, ``case_variant`` (variant
    index), ``case_start`` (row of its first event in ``log.df``) and
    ``case_len``.
    """

    traces: list[tuple[str, ...]]
    counts: np.ndarray
    case_ids: np.ndarray
    case_variant: np.ndarray
    case_start: np.ndarray
    case_len: np.ndarray

    @property
    def n_variants(self) -> int:
        return len(self.traces)

    @property
    def case_id_texts(self) -> np.ndarray:
        """The case ids as text: their Python strings where they are text already (no fixed-width copy)."""
        ids = self.case_ids
        return ids if ids.dtype == object else ids.astype(str)


def log_variants(log: EventLog) -> Variants:
    """The variants of ``log`` (its frame is sorted by case, time, order).

    Each case's activity codes are cut from the log's cached code table at the case bounds as one
    Arrow list array (no per-case Python work) and grouped once (polars); variants are numbered in
    the order of their first case.

    >>> import pandas as pd
    >>> from processmining.model import EventLog
    >>> log = EventLog.from_frame(pd.DataFrame({"case:concept:name": ["1", "1", "2", "2", "3"],
    ...     "concept:name": ["a", "b", "a", "b", "a"],
    ...     "time:timestamp": pd.to_datetime(["2024-01-01"] * 5, utc=True)}))
    >>> v = log_variants(log)
    >>> v.traces, v.counts.tolist()
    ([('a', 'b'), ('a',)], [2, 1])
    """
    import polars as pl
    import pyarrow as pa

    if log.df.empty:
        empty = np.array([], dtype=np.int64)
        return Variants([], empty, np.array([], dtype=object), empty, empty, empty)
    # the log's cached code table (case blocks, activity codes): no object array of the case ids per event
    table = log.codes
    starts = table.starts.astype(np.int64)
    ends = table.ends.astype(np.int64) + 1
    labels = table.act_names
    offsets = pa.array(np.append(starts, len(table.act)), type=pa.int64())
    seqs = pl.from_arrow(pa.LargeListArray.from_arrays(offsets, pa.array(table.act.astype(np.int32))))
    groups = pl.DataFrame({"a": seqs}).with_row_index("c").group_by("a", maintain_order=True).agg(pl.col("c"))
    members = groups["c"]
    counts = members.list.len().to_numpy().astype(np.int64)
    variant_of_case = np.empty(len(starts), dtype=np.int64)
    variant_of_case[members.explode().to_numpy()] = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    traces = [tuple(labels[c] for c in codes) for codes in groups["a"].to_list()]
    return Variants(
        traces=traces,
        counts=counts,
        case_ids=table.case_ids,
        case_variant=variant_of_case,
        case_start=starts,
        case_len=ends - starts,
    )


def variant_table(log: EventLog) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Variants of ``log`` with their cases and durations (no per-case Python work).

    Returns ``(table, case_variant, case_ids)``: ``table`` has one row per variant
    in the order of their first case (``activities``, ``cases``,
    ``mean_duration_s`` / ``median_duration_s`` from first to last event of the
    case, ``first_case`` code); ``case_variant[i]`` is the row of case ``i``.
    """
    import polars as pl

    v = log_variants(log)
    c = log.codes
    spans = (np.maximum.reduceat(c.ts, c.starts) - np.minimum.reduceat(c.ts, c.starts)) if len(c.act) else \
        np.zeros(0, np.int64)
    durations = pl.DataFrame({"v": v.case_variant, "d": spans}).group_by("v").agg(
        pl.col("d").cast(pl.Float64).sum().alias("total"),
        pl.col("d").quantile(0.5, "midpoint").alias("median"),  # the middle case, or the mean of the middle two
    ).sort("v")
    out = pd.DataFrame({
        "activities": v.traces,
        "cases": v.counts,
        "mean_duration_s": durations["total"].to_numpy() / v.counts / 1e9,
        "median_duration_s": durations["median"].to_numpy() / 1e9,
        "first_case": _first_cases(v),
    })
    if not log.has_timestamps:  # order-only log: durations are unknown, not zero
        out["mean_duration_s"] = np.nan
        out["median_duration_s"] = np.nan
    return out, v.case_variant, v.case_ids


def _first_cases(v: Variants) -> np.ndarray:
    """Each variant's first case: variants are numbered in the order of their first case, so variant k
    first appears where the running highest variant number reaches k."""
    highest = np.maximum.accumulate(v.case_variant)
    return np.flatnonzero(np.diff(highest, prepend=-1) > 0)


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


#: variants joined at a time by :func:`variant_text`
_TEXT_CHUNK = 2_048


def variant_text(traces: Sequence[Sequence[str]], which: np.ndarray | None = None) -> pd.Series:
    """``"A → B → C"`` per variant (all, or those in ``which``), as an Arrow string column (conformance, reports, app).

    Joined by Arrow from the labels (shared, not copied), a chunk of variants at a time, never as one Python
    string per variant (the arrow makes those 2 bytes a character). bpic2019 p2p (11,973 variants, 9.3 MB of
    text): the variant table's peak went from 53 MB to 17 MB above what was held before it, the table of
    not-computed variants (all of them) from 32 to 9 MB.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    picked = traces if which is None else [traces[v] for v in which]
    chunks = []
    with system_arrow_pool():  # the labels and lists of each chunk are freed at once
        for lo in range(0, len(picked), _TEXT_CHUNK):
            part = picked[lo:lo + _TEXT_CHUNK]
            offsets = np.zeros(len(part) + 1, dtype=np.int32)
            np.cumsum(np.fromiter((len(t) for t in part), dtype=np.int32, count=len(part)), out=offsets[1:])
            labels = pa.array(list(chain.from_iterable(part)), pa.string())
            chunks.append(pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), labels), " → "))
        return pa.chunked_array(chunks, pa.string()).to_pandas()  # pandas' ``str`` dtype
