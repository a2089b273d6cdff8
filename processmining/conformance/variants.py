"""Variants of an event log, computed once, vectorised: the unit of work for alignments."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

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


def log_variants(log: EventLog) -> Variants:
    """The variants of ``log`` (its frame is sorted by case, time, order).

    The log's cached code table (activity codes, case blocks), one pass that slices each case's
    activity codes as bytes, one factorisation of those byte strings: no
    per-event Python work.

    >>> import pandas as pd
    >>> from processmining.model import EventLog
    >>> log = EventLog.from_frame(pd.DataFrame({"case:concept:name": ["1", "1", "2", "2", "3"],
    ...     "concept:name": ["a", "b", "a", "b", "a"],
    ...     "time:timestamp": pd.to_datetime(["2024-01-01"] * 5, utc=True)}))
    >>> v = log_variants(log)
    >>> v.traces, v.counts.tolist()
    ([('a', 'b'), ('a',)], [2, 1])
    """
    df = log.df
    if df.empty:
        empty = np.array([], dtype=np.int64)
        return Variants([], empty, np.array([], dtype=object), empty, empty, empty)
    # the log's cached code table (case blocks, activity codes): no object array of the case ids per event
    table = log.codes
    starts = table.starts.astype(np.int64)
    ends = table.ends.astype(np.int64) + 1
    labels = table.act_names
    width = np.uint16 if len(labels) < 65_535 else np.uint32
    buf = table.act.astype(width)
    keys = [buf[s:e].tobytes() for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
    variant_of_case, unique_keys = pd.factorize(pd.Series(keys, dtype=object), sort=False)
    traces = [tuple(labels[c] for c in np.frombuffer(k, dtype=width)) for k in unique_keys]
    counts = np.bincount(variant_of_case, minlength=len(traces)).astype(np.int64)
    return Variants(
        traces=traces,
        counts=counts,
        case_ids=table.case_ids,
        case_variant=variant_of_case.astype(np.int64),
        case_start=starts,
        case_len=ends - starts,
    )
