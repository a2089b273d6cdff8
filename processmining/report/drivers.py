"""Root causes: which case and event attributes are over-represented among the "bad" cases.

For a set of bad cases (late for an SLA, deviating from the model, lost, stuck)
and the population they come from, every value of every usable attribute is
tested: ``cases`` (bad cases with the value), ``group_cases`` (population cases
with it), ``rate`` (bad share inside the group), ``base_rate`` (bad share of the
population), ``lift`` (rate / base rate), ``share_of_bad`` (of all bad cases),
a 95 % Wilson interval of the rate (``lift_low`` / ``lift_high`` divide it by the
base rate), the one-sided hypergeometric (Fisher exact) ``p_value`` that the
group holds this many bad cases by chance, and ``q_value`` (Benjamini–Hochberg
over all values tested). Rows are ranked by significance, then by ``lift_low``
-- the lift the data supports at worst -- so a group of 3 cases with lift 4 does
not outrank 300 cases with lift 2.

Attributes: case attributes (``case:*``), event attributes such as
``org:resource`` / ``org:group`` (a case has a value when any of its events has
it), the month the case started, and numeric columns (amounts) cut into
quartile bands. Columns whose values are (almost) unique per case are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import AnalysisError
from ..model import ACTIVITY, CASE, ORDER, START_TIMESTAMP, TIMESTAMP, EventLog

TARGETS = ("late", "deviating", "lost", "stuck")
DRIVER_COLUMNS = ["attribute", "value", "cases", "group_cases", "rate", "base_rate", "lift", "lift_low",
                  "lift_high", "share_of_bad", "p_value", "q_value", "significant"]
MONTH = "case start month"


@dataclass(frozen=True)
class BadCases:
    """The bad cases of a driver analysis and the population they are compared with."""

    target: str
    label: str
    bad: frozenset[str]
    population: frozenset[str]


def parse_target(text: str) -> tuple[str, str | None]:
    """``"late:Open->Resolved<=5d"`` -> ``("late", "Open->Resolved<=5d")``; ``"lost"`` -> ``("lost", None)``."""
    kind, _, arg = (text or "").partition(":")
    kind = kind.strip().lower()
    if kind not in TARGETS:
        raise AnalysisError(f"--target must be one of late:SLA, deviating, lost, stuck; got {text!r}")
    if kind == "late" and not arg.strip():
        raise AnalysisError("--target late needs an SLA, e.g. late:\"Open->Resolved<=5d\"")
    return kind, (arg.strip() or None)


def bad_cases(
    log: EventLog,
    target: str,
    *,
    sla: str | None = None,
    deviating: Iterable[str] | None = None,
    lost: str | Sequence[str] | None = None,
    idle: str | None = None,
    end_activities: Sequence[str] | None = None,
) -> BadCases:
    """The bad cases for ``target`` from the library analyses.

    ``late``: the cases :func:`processmining.performance.sla_breaches` lists (late or open and over the
    limit), judged by :func:`processmining.performance.sla_cases`; population: the cases where the clock
    started. ``deviating``: the case ids
    given in ``deviating`` (from :func:`processmining.conformance.conform`).
    ``lost``: cases with a ``lost`` activity. ``stuck``: the cases of
    :func:`processmining.performance.stuck_cases` (``idle``, ``end_activities``).
    """
    from ..performance import sla_cases, stuck_cases

    all_cases = frozenset(log.df[CASE].astype(str).unique().tolist())
    kind, arg = parse_target(target) if ":" in target or target in TARGETS else (target, None)
    sla = arg or sla
    if kind == "late":
        if not sla:
            raise AnalysisError("target 'late' needs an SLA")
        # THE SLA primitive: every case where the clock started (within the target's "where"), and its status
        judged = sla_cases(log, sla, end_activities=end_activities)
        late = judged.loc[judged["status"].isin(["late", "open"]), "case"]  # what sla_breaches lists
        return BadCases("late", sla, frozenset(late.astype(str).tolist()),
                        frozenset(judged["case"].astype(str).tolist()))
    if kind == "deviating":
        if deviating is None:
            raise AnalysisError("target 'deviating' needs a reference model (--model)")
        return BadCases("deviating", "deviating", frozenset(map(str, deviating)) & all_cases, all_cases)
    if kind == "lost":
        if not lost:
            raise AnalysisError("target 'lost' needs the lost activity (--lost, or a preset that names it)")
        acts = [lost] if isinstance(lost, str) else list(lost)
        bad = frozenset(log.df.loc[log.df[ACTIVITY].isin(acts), CASE].astype(str).unique().tolist())
        return BadCases("lost", ", ".join(acts), bad, all_cases)
    if idle is None:
        raise AnalysisError("target 'stuck' needs --idle (or a preset that names it)")
    # running and idle too long (processmining.status); end activities given, else inferred from the data
    stuck = stuck_cases(log, idle=idle, end_activities=end_activities)
    return BadCases("stuck", f"idle>{idle}", frozenset(stuck["case"].astype(str).tolist()), all_cases)


# ------------------------------------------------------------------ attribute table
_SKIP = {CASE, ACTIVITY, TIMESTAMP, START_TIMESTAMP, ORDER}


def _numeric(values: pd.Series) -> pd.Series | None:
    num = pd.to_numeric(values, errors="coerce")
    present = values.notna().sum()
    if present == 0 or num.notna().sum() < 0.9 * present or num.nunique() <= 12:
        return None
    return num


def _bands(num: pd.Series) -> pd.Series:
    q = num.quantile([0.25, 0.5, 0.75]).to_numpy()
    edges = np.unique(np.concatenate([[num.min()], q, [num.max()]]))
    if len(edges) < 3:
        return num.astype("string")
    cut = pd.cut(num, edges, include_lowest=True, duplicates="drop")
    labels = {iv: f"{_fmt(iv.left)}–{_fmt(iv.right)}" for iv in cut.cat.categories}
    return cut.map(labels).astype("string")


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:g}"


def attribute_table(log: EventLog, *, attributes: Sequence[str] | None = None, max_values: int = 50) -> pd.DataFrame:
    """Long table ``case``, ``attribute``, ``value`` (one row per case and distinct value).

    Columns that restate the process state (most of their values are activity
    names, like a CRM's current "Deal Stage") are left out: they would explain
    lost deals by the lost stage itself.
    """
    from ..bpmn.labels import normalise_label

    df = log.df
    stages = {normalise_label(a) for a in log.activities}
    cols = [c for c in df.columns if c not in _SKIP and not c.startswith("@@")
            and not pd.api.types.is_datetime64_any_dtype(df[c])]
    if attributes is not None:
        unknown = [a for a in attributes if a not in df.columns and a != MONTH]
        if unknown:
            raise AnalysisError(f"attribute(s) not in the log: {', '.join(unknown)}", source=log.name)
        cols = [c for c in attributes if c != MONTH]
    n_cases = max(log.n_cases, 1)
    parts = []
    case = df[CASE].astype(str)
    for col in cols:
        values = df[col]
        num = _numeric(values)
        if num is not None:
            values = _bands(num)
        pair = pd.DataFrame({"case": case, "value": values.astype("string")}).dropna().drop_duplicates()
        nunique = pair["value"].nunique()
        if nunique < 2 or nunique > max_values or (num is None and nunique > 0.5 * n_cases):
            continue
        if num is None and sum(normalise_label(v) in stages for v in pair["value"].unique()) > nunique / 2:
            continue  # the column restates the stage
        pair.insert(1, "attribute", col)
        parts.append(pair)
    if attributes is None or MONTH in attributes:
        first = df.groupby(case, sort=False)[TIMESTAMP].min()
        if first.notna().any():
            month = first.dt.strftime("%Y-%m")
            if month.nunique() >= 2:
                parts.append(pd.DataFrame({"case": first.index, "attribute": MONTH, "value": month.to_numpy()}))
    if not parts:
        return pd.DataFrame(columns=["case", "attribute", "value"])
    return pd.concat(parts, ignore_index=True)


# ------------------------------------------------------------------ the analysis
def drivers(
    log: EventLog,
    bad: BadCases,
    *,
    attributes: Sequence[str] | None = None,
    min_cases: int = 5,
    alpha: float = 0.05,
    top: int | None = None,
) -> pd.DataFrame:
    """Attribute values over-represented among ``bad.bad`` compared with ``bad.population``.

    Only values held by at least ``min_cases`` population cases are tested.
    ``significant`` is ``q_value < alpha`` with ``lift > 1``. See the module
    docstring for the columns and the ranking.

    >>> drivers(log, bad_cases(log, "lost", lost="Closed Lost")).head(5)
    """
    from scipy.stats import hypergeom, norm

    table = attribute_table(log, attributes=attributes)
    pop = bad.population
    table = table[table["case"].isin(pop)]
    n_pop, n_bad = len(pop), len(bad.bad & pop)
    if n_pop == 0 or n_bad == 0 or table.empty:
        return pd.DataFrame(columns=DRIVER_COLUMNS)
    table = table.assign(bad=table["case"].isin(bad.bad))
    g = table.groupby(["attribute", "value"], sort=True)["bad"].agg(["size", "sum"]).reset_index()
    g = g[g["size"] >= min_cases]
    if g.empty:
        return pd.DataFrame(columns=DRIVER_COLUMNS)
    n, k = g["size"].to_numpy(dtype=float), g["sum"].to_numpy(dtype=float)
    base = n_bad / n_pop
    rate = k / n
    z = float(norm.ppf(0.975))
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    p = hypergeom.sf(k - 1, n_pop, n_bad, n)
    out = pd.DataFrame({
        "attribute": g["attribute"].to_numpy(), "value": g["value"].to_numpy(), "cases": k.astype(np.int64),
        "group_cases": n.astype(np.int64), "rate": rate, "base_rate": base, "lift": rate / base,
        "lift_low": np.maximum(centre - half, 0) / base, "lift_high": (centre + half) / base,
        "share_of_bad": k / n_bad, "p_value": np.clip(p, 0, 1)})
    out["q_value"] = _bh(out["p_value"].to_numpy())
    out["significant"] = (out["q_value"] < alpha) & (out["lift"] > 1)
    out = out.sort_values(["significant", "lift_low", "cases", "attribute", "value"],
                          ascending=[False, False, False, True, True], ignore_index=True)
    out.attrs.update({"bad_cases": n_bad, "population": n_pop, "target": bad.target, "label": bad.label})
    return out.head(top) if top else out


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values."""
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


__all__ = ["DRIVER_COLUMNS", "MONTH", "TARGETS", "BadCases", "attribute_table", "bad_cases", "drivers",
           "parse_target"]
