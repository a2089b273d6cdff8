"""Who hands work to whom, ping-pong between people, teams or support lines, and workload over time.

``attribute`` selects the level of analysis: ``org:resource`` (people), a
group column such as ``org:group`` (teams), or ``concept:name`` (support
lines when the statuses are lines, as in a ticket changelog).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import AnalysisError
from ..model import ACTIVITY, CASE, RESOURCE, TIMESTAMP, EventLog

if TYPE_CHECKING:
    import networkx as nx


def _column(log: EventLog, attribute: str) -> pd.Series:
    if attribute not in log.df.columns:
        cols = [c for c in log.df.columns if not c.startswith("@@")]
        raise AnalysisError(f"column {attribute!r} not in the log; columns: {', '.join(cols)}", source=log.name)
    return log.df[attribute]


def handovers(log: EventLog, *, attribute: str = RESOURCE) -> pd.DataFrame:
    """Handovers of work: consecutive events of a case done by different ``attribute`` values.

    One row per ordered pair: ``source``, ``target``, ``handovers`` (count),
    ``cases``, ``median_delay_s`` / ``mean_delay_s`` (time between the two
    events). Events without a value are skipped over. Most frequent first.

    >>> handovers(log, attribute="org:group").head()
    """
    col = _column(log, attribute)
    c = log.codes
    vcodes, vnames = pd.factorize(col, sort=True)  # -1 for missing values
    keep = vcodes >= 0
    case = c.case[keep]
    val = vcodes[keep]
    t = c.ts[keep] / 1e9
    if len(val) < 2:
        return pd.DataFrame(columns=["source", "target", "handovers", "cases", "median_delay_s", "mean_delay_s"])
    hit = (case[1:] == case[:-1]) & (val[1:] != val[:-1])
    j = np.flatnonzero(hit)
    names = np.asarray(vnames, dtype=object)
    frame = pd.DataFrame({"s": val[j], "t": val[j + 1], "case": case[j], "delay": t[j + 1] - t[j]})
    g = frame.groupby(["s", "t"], sort=True)
    out = pd.DataFrame({"handovers": g.size(), "cases": g["case"].nunique(),
                        "median_delay_s": g["delay"].median(), "mean_delay_s": g["delay"].mean()}).reset_index()
    out.insert(0, "source", names[out.pop("s").to_numpy()])
    out.insert(1, "target", names[out.pop("t").to_numpy()])
    return out.sort_values(["handovers", "source", "target"], ascending=[False, True, True], ignore_index=True)


def handover_counts(log: EventLog, *, attribute: str = RESOURCE) -> pd.Series:
    """Per case (indexed by case id, sorted): how many times consecutive events changed ``attribute``.

    Events without a value are skipped over, as in :func:`handovers`; a case
    with no handover counts 0. The KPI "share of tickets handed over more than
    N times" is ``(handover_counts(log) > N).mean()``.

    >>> (handover_counts(log) > 3).mean()
    """
    col = _column(log, attribute)
    c = log.codes
    vcodes, _ = pd.factorize(col)  # -1 for missing values
    keep = vcodes >= 0
    case, val = c.case[keep], vcodes[keep]
    hit = (case[1:] == case[:-1]) & (val[1:] != val[:-1])
    counts = np.bincount(case[1:][hit], minlength=c.n_cases).astype(np.int64)
    out = pd.Series(counts, index=pd.Index(c.case_ids, name=CASE), name="handovers")
    return out if out.index.is_monotonic_increasing else out.sort_index(kind="stable")


def handover_network(log: EventLog, *, attribute: str = RESOURCE) -> nx.DiGraph:
    """The handover-of-work network as a networkx DiGraph.

    Nodes carry ``events`` (work items done); edges carry ``handovers``,
    ``cases``, ``median_delay_s`` and ``mean_delay_s`` (see :func:`handovers`).

    >>> g = handover_network(log)
    >>> sorted(g.out_degree(weight="handovers"), key=lambda kv: -kv[1])[:5]
    """
    import networkx as nx

    table = handovers(log, attribute=attribute)
    g = nx.DiGraph(attribute=attribute)
    counts = _column(log, attribute).value_counts()
    for node, n in counts.items():
        g.add_node(node, events=int(n))
    for row in table.itertuples(index=False):  # one per pair, not per event
        g.add_edge(row.source, row.target, handovers=int(row.handovers), cases=int(row.cases),
                   median_delay_s=float(row.median_delay_s), mean_delay_s=float(row.mean_delay_s))
    return g


def ping_pong(log: EventLog, *, attribute: str = ACTIVITY, ignore: Iterable[str] = ()) -> pd.DataFrame:
    """Ping-pong: a case going A → B → A between values of ``attribute`` (people, teams, support lines).

    Consecutive events with the same value are merged first (A, A, B, A is one
    A → B → A); values in ``ignore`` (e.g. ``"Waiting for Customer"``) and empty
    values are skipped over. One row per ordered pair (A, B): ``occurrences``
    (A → B → A patterns; A → B → A → B → A counts twice), ``cases``.

    >>> ping_pong(log, ignore=["Waiting for Customer"])   # 1st ↔ 2nd Line Support
    """
    return _ping_pong_rows(log, attribute=attribute, ignore=ignore, per_case=False)


def ping_pong_cases(log: EventLog, *, attribute: str = ACTIVITY, ignore: Iterable[str] = ()) -> pd.DataFrame:
    """Per case and pair: ``case``, ``a``, ``b``, ``occurrences`` of A → B → A (see :func:`ping_pong`)."""
    return _ping_pong_rows(log, attribute=attribute, ignore=ignore, per_case=True)


def _matching_values(col: pd.Series, labels: Iterable[str]) -> list[object]:
    """The values of ``col`` that match one of ``labels`` as every label match does (trimmed, case-folded:
    :func:`processmining.bpmn.labels.normalise_label`); computed per distinct value."""
    from ..bpmn.labels import normalise_label

    wanted = {normalise_label(x) for x in labels}
    if not wanted:
        return []
    return [v for v in pd.unique(col.dropna()) if normalise_label(str(v)) in wanted]


def _ping_pong_rows(log: EventLog, *, attribute: str, ignore: Iterable[str], per_case: bool) -> pd.DataFrame:
    col = _column(log, attribute)
    keep = (col.notna() & ~col.isin(_matching_values(col, ignore))).to_numpy()
    case = log.df[CASE].to_numpy(dtype=object)[keep]
    val = col.to_numpy(dtype=object)[keep]
    if len(val):  # merge runs of the same value within a case
        new = np.ones(len(val), dtype=bool)
        new[1:] = (case[1:] != case[:-1]) | (val[1:] != val[:-1])
        case, val = case[new], val[new]
    cols = ["case", "a", "b", "occurrences"] if per_case else ["a", "b", "occurrences", "cases"]
    if len(val) < 3:
        return pd.DataFrame(columns=cols)
    hit = (case[2:] == case[:-2]) & (val[2:] == val[:-2])
    j = np.flatnonzero(hit)
    frame = pd.DataFrame({"case": case[j], "a": val[j], "b": val[j + 1]})
    if per_case:
        out = frame.groupby(["case", "a", "b"], sort=True).size().rename("occurrences").reset_index()
        return out.sort_values(["occurrences", "case"], ascending=[False, True], ignore_index=True)
    g = frame.groupby(["a", "b"], sort=True)
    out = pd.DataFrame({"occurrences": g.size(), "cases": g["case"].nunique()}).reset_index()
    return out.sort_values(["occurrences", "a", "b"], ascending=[False, True, True], ignore_index=True)


def workload(log: EventLog, *, attribute: str = RESOURCE, freq: str = "W") -> pd.DataFrame:
    """Events per ``attribute`` value per period (``freq``: ``"D"``, ``"W"``, ``"M"``, ``"Q"``).

    Rows: values of ``attribute`` (busiest first); columns: period start dates (UTC); cells: event counts.

    >>> workload(log, freq="M")
    """
    col = _column(log, attribute)
    if freq not in {"D", "W", "M", "Q", "Y"}:
        raise AnalysisError(f"freq must be one of D, W, M, Q, Y; got {freq!r}")
    periods = log.df[TIMESTAMP].dt.tz_convert(None).dt.to_period(freq).dt.start_time
    table = pd.crosstab(col.rename(attribute), periods.rename("period"))
    return table.loc[table.sum(axis=1).sort_values(ascending=False, kind="stable").index]
