"""Seeded B2B sales pipeline: Salesforce OpportunityFieldHistory export and canonical event log.

The simulation is vectorised per *path template*: every opportunity follows one
template (a fixed stage sequence such as "won with discount approval" or the
planted "wrong order"), and all opportunities of one template get their waiting
times, business-hour snapping and users as numpy arrays, one column (stage) at
a time. A million events take a few seconds.

Normal templates conform to the reference model ``bpmn_models/lead_to_order.bpmn``;
each planted template carries exactly one planted kind (see ``eventlogs/README.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from ..model import ACTIVITY, CASE, ORDER, RESOURCE, TIMESTAMP
from .clock import (
    DAY_S,
    EXPORT_LOCAL,
    NEAR_LIMIT_OFFSETS,
    SECOND,
    WEEK,
    WINDOW_START_LOCAL,
    local_to_utc,
    lognormal_seconds,
    random_business_times,
    snap_to_business_hours,
    utc_to_local,
    weeks_to_shift,
)
from .people import Person, person_names, salesforce_ids

FILE_NAME = "salesforce_opportunity_field_history.csv"
COLUMNS = ("OpportunityId", "Field", "DataType", "OldValue", "NewValue", "CreatedById", "CreatedDate")

P, Q, NA, PQ, DA, NR, CW, CL, OB = STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Proposal/Price Quote",
    "Discount Approval",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
    "Order Booked",
)
#: Discount__c above this (percent) requires a Discount Approval
APPROVAL_THRESHOLD = 20.0
#: Proposal/Price Quote must follow Prospecting within this many days
SLA_QUOTE_DAYS = 30
#: an open opportunity without any event for longer than this is "stuck"
STUCK_DAYS = 60
#: a sales rep's parental leave (local): silent for more than the 90-day returning-account check, then back
LEAVE = (np.datetime64("2024-06-07T18:00:00", "s"), np.datetime64("2024-09-23T08:00:00", "s"))

# (median days, sigma, cap days) of the wait before entering a stage. The caps
# of Q + NA + PQ (4 + 5 + 6 days, plus weekend and holiday snaps) keep a normal
# opportunity inside the 30-day quote SLA; the near-limit ones are placed on
# purpose (_near_limits), and open ones may pass it before their first quote.
_WAIT = {
    Q: (1.5, 0.8, 4.0),
    NA: (2.5, 0.7, 5.0),
    PQ: (3.0, 0.6, 6.0),
    DA: (0.8, 0.7, 4.0),
    NR: (5.0, 0.7, 20.0),
    CW: (9.0, 0.8, 35.0),
    CL: (7.0, 0.9, 35.0),
    OB: (1.5, 0.6, 6.0),
}
_REVISED_QUOTE_WAIT = (3.0, 0.6, 10.0)


@dataclass(frozen=True)
class Template:
    """One path through the pipeline that a group of opportunities follows."""

    name: str
    path: tuple[str, ...]
    #: "none" (never quoted), "low" (Discount__c <= 20) or "high" (> 20)
    discount: str
    #: "won", "lost", "open" (in progress) or "stuck" (open, silent > 60 days)
    outcome: str
    #: relative weight among normal templates, or share of all cases for planted ones
    weight: float
    kind: str | None = None
    #: wait overrides by step index: (median days, sigma, cap days[, floor days])
    waits: dict[int, tuple[float, ...]] = field(default_factory=dict)
    #: roles by step index overriding the default (rep, DA: manager, OB: order management)
    roles: dict[int, str] = field(default_factory=dict)
    detail: dict[str, object] = field(default_factory=dict)

    def wait(self, step: int) -> tuple[float, ...]:
        if step in self.waits:
            return self.waits[step]
        if self.path[step] == PQ and step > 0 and NR in self.path[:step] and self.path[step - 1] == NR:
            return _REVISED_QUOTE_WAIT
        return _WAIT[self.path[step]]

    def role(self, step: int) -> str:
        if step in self.roles:
            return self.roles[step]
        return {DA: "manager", OB: "order"}.get(self.path[step], "rep")


def _normal_templates() -> list[Template]:
    head = (P, Q, NA)
    quote = {"low": (PQ,), "high": (PQ, DA)}
    out: list[Template] = []
    won_w = {("low", 0): 0.16, ("high", 0): 0.09, ("low", 1): 0.04, ("high", 1): 0.03}
    for (disc, loops), w in won_w.items():
        path = head + quote[disc] + (NR,) + (quote[disc] + (NR,)) * loops + (CW, OB)
        out.append(Template(f"won_{disc}{'_revised' * loops}", path, disc, "won", w))
    out += [
        Template("lost_after_qualification", (P, Q, CL), "none", "lost", 0.12),
        Template("lost_after_needs_analysis", (P, Q, NA, CL), "none", "lost", 0.10),
        Template("lost_after_quote", (P, Q, NA, PQ, CL), "low", "lost", 0.07),
        Template("lost_after_negotiation_low", (P, Q, NA, PQ, NR, CL), "low", "lost", 0.06),
        Template("lost_after_negotiation_high", (P, Q, NA, PQ, DA, NR, CL), "high", "lost", 0.04),
        Template("lost_after_revised_quote", (P, Q, NA, PQ, NR, PQ, NR, CL), "low", "lost", 0.03),
        Template("open_at_qualification", (P, Q), "none", "open", 0.03),
        Template("open_at_needs_analysis", (P, Q, NA), "none", "open", 0.03),
        Template("open_at_quote", (P, Q, NA, PQ), "low", "open", 0.02),
        Template("open_at_approval", (P, Q, NA, PQ, DA), "high", "open", 0.01),
        Template("open_at_negotiation_low", (P, Q, NA, PQ, NR), "low", "open", 0.03),
        Template("open_at_negotiation_high", (P, Q, NA, PQ, DA, NR), "high", "open", 0.02),
    ]
    return out


def _planted_templates() -> list[Template]:
    won_low = (P, Q, NA, PQ, NR, CW, OB)
    sla_wait = {3: (34.0, 0.25, 55.0, 30.05)}
    return [
        Template("skipped_approval", won_low, "high", "won", 0.015, kind="skipped_approval"),
        Template("sod_breach", (P, Q, NA, PQ, DA, NR, CW, OB), "high", "won", 0.01, kind="sod_breach",
                 roles={3: "manager"}),
        # Q + NA + NR + PQ caps (4 + 5 + 4 + 3 days) keep the late quote inside the SLA
        Template("wrong_order", (P, Q, NA, NR, PQ, CW, OB), "low", "won", 0.01, kind="wrong_order",
                 waits={3: (2.0, 0.6, 4.0), 4: (1.5, 0.6, 3.0)}),
        Template("backward_negotiation_to_needs_analysis", (P, Q, NA, PQ, NR, NA, PQ, NR, CW, OB), "low", "won",
                 0.01, kind="backward_move", detail={"from": NR, "to": NA, "step": 5}),
        Template("backward_quote_to_qualification", (P, Q, NA, PQ, Q, NA, PQ, NR, CW, OB), "low", "won",
                 0.01, kind="backward_move", detail={"from": PQ, "to": Q, "step": 4}),
        Template("sla_breach_low", won_low, "low", "won", 0.01, kind="sla_breach", waits=sla_wait),
        Template("sla_breach_high", (P, Q, NA, PQ, DA, NR, CW, OB), "high", "won", 0.01, kind="sla_breach",
                 waits=sla_wait),
        Template("order_without_won", (P, Q, NA, PQ, NR, OB), "low", "won", 0.0075, kind="order_without_won"),
        Template("stuck_at_quote", (P, Q, NA, PQ), "low", "stuck", 0.01, kind="stuck_open"),
        Template("stuck_at_negotiation", (P, Q, NA, PQ, NR), "low", "stuck", 0.01, kind="stuck_open"),
    ]


PLANTED_DESCRIPTIONS = {
    "skipped_approval": ("Discount__c > 20 but no Discount Approval stage", True),
    "sod_breach": ("the same CreatedById moved the deal into Proposal/Price Quote and into Discount Approval", True),
    "wrong_order": ("Negotiation/Review before Proposal/Price Quote (and no other deviation)", False),
    "backward_move": ("exactly one move back to an earlier stage (other than the allowed revised-quote loop "
                      "Negotiation/Review -> Proposal/Price Quote)", False),
    "sla_breach": (f"first Proposal/Price Quote more than {SLA_QUOTE_DAYS} days after Prospecting", True),
    "order_without_won": ("Order Booked without Closed Won", False),
    "stuck_open": (f"open deal (already quoted) without any event for more than {STUCK_DAYS} days before the export",
                   None),
}


@dataclass
class SalesTeam:
    reps: list[Person]
    managers: list[Person]
    order: list[Person]
    integration: Person

    @property
    def everyone(self) -> list[Person]:
        return [*self.reps, *self.managers, *self.order, self.integration]


def _team(rng: np.random.Generator) -> SalesTeam:
    names = person_names(rng, 32)
    ids = salesforce_ids("005", np.sort(rng.choice(np.arange(3_000_000, 3_500_000), size=32, replace=False)))
    managers = [Person(ids[i], names[i], "Sales Manager", team=i) for i in range(4)]
    reps = [Person(ids[4 + i], names[4 + i], "Sales Representative", team=i % 4) for i in range(24)]
    order = [Person(ids[28 + i], names[28 + i], "Order Management") for i in range(3)]
    integration = Person(ids[31], "Integration User", "Integration (CPQ sync)")
    return SalesTeam(reps, managers, order, integration)


@dataclass
class SalesSimulation:
    """Everything the writers need: the events (one row per stage event) and per-case attributes."""

    templates: list[Template]
    template_of_case: np.ndarray
    case_ids: np.ndarray
    events: pd.DataFrame  # case (int), step, activity, t (local datetime64[s]), user (str)
    amount0: np.ndarray
    amount: np.ndarray
    discount: np.ndarray
    rep: np.ndarray
    team: SalesTeam


def simulate_sales(n_cases: int, rng: np.random.Generator) -> SalesSimulation:
    """Simulate ``n_cases`` opportunities (vectorised per template); see the module docstring."""
    normal, planted = _normal_templates(), _planted_templates()
    templates = normal + planted
    team = _team(rng)
    tpl = _assign_templates(n_cases, normal, planted, rng)

    # per-case attributes
    amount = np.round(rng.lognormal(np.log(42_000), 0.7, n_cases) / 500) * 500 + 500
    amount0 = np.round(amount * rng.uniform(0.75, 1.2, n_cases) / 500) * 500
    disc_kind = np.array([t.discount for t in templates])[tpl]
    low = rng.choice(np.array([0, 0, 0, 5, 10, 10, 12.5, 15, 15, 20.0]), n_cases)
    high = rng.choice(np.array([22.5, 25, 25, 30, 35.0]), n_cases)
    discount = np.where(disc_kind == "high", high, np.where(disc_kind == "low", low, np.nan))
    amount0 = np.where(disc_kind == "none", amount, amount0)
    rep = rng.integers(0, len(team.reps), n_cases)
    order_user = rng.integers(0, len(team.order), n_cases)
    rep_ids = np.array([p.user_id for p in team.reps], dtype=object)
    manager_ids = np.array([team.managers[p.team].user_id for p in team.reps], dtype=object)
    order_ids = np.array([p.user_id for p in team.order], dtype=object)

    parts = []
    for ti, t in enumerate(templates):
        idx = np.flatnonzero(tpl == ti)
        if idx.size == 0:
            continue
        times = _simulate_times(t, idx.size, rng)
        k = len(t.path)
        by_role = {"rep": rep_ids[rep[idx]], "manager": manager_ids[rep[idx]], "order": order_ids[order_user[idx]]}
        users = np.stack([by_role[t.role(j)] for j in range(k)], axis=1)
        parts.append(pd.DataFrame({
            "case": np.repeat(idx, k),
            "step": np.tile(np.arange(k), idx.size),
            # object columns keep shared Python strings (pandas would copy them into Arrow and back)
            "activity": pd.Series(np.tile(np.array(t.path, dtype=object), idx.size), dtype=object),
            "t": times.ravel(),
            "user": pd.Series(users.ravel(), dtype=object),
        }))
    events = pd.concat(parts, ignore_index=True).sort_values(["case", "step"], kind="stable", ignore_index=True)
    _near_limits(events, templates, tpl, rng)
    _parental_leave(events, team)
    # record ids grow with creation time, like real Salesforce ids
    first = events.loc[events["step"] == 0].sort_values(["t", "case"], kind="stable")
    numbers = 5_000_000_000 + np.cumsum(rng.integers(1, 4000, n_cases))
    case_ids = np.empty(n_cases, dtype=object)
    case_ids[first["case"].to_numpy()] = salesforce_ids("006", numbers)
    return SalesSimulation(templates, tpl, case_ids, events, amount0, amount, discount, rep, team)


def _near_limits(events: pd.DataFrame, templates: list[Template], tpl: np.ndarray, rng: np.random.Generator) -> None:
    """Normal deals placed exactly at, and seconds / minutes around, the quote SLA and the stuck limit (in place).

    Two closed deals per offset get their first quote 30 days +- offset after Prospecting (Prospecting is
    moved back; measured in UTC, as exported); two open, quoted deals per offset are moved so that their last
    event is 60 days +- offset before the export; two open, unquoted deals per offset started 30 days +-
    offset before the export. Real exports have such cases; a detector must put each on the right side.
    """
    n_off = len(NEAR_LIMIT_OFFSETS)
    offsets = np.repeat(np.array(NEAR_LIMIT_OFFSETS, dtype=np.int64), 2)
    normal = np.array([t.kind is None for t in templates])
    closed_quoted = np.array([t.outcome in ("won", "lost") and PQ in t.path for t in templates]) & normal
    open_quoted = np.array([t.outcome == "open" and PQ in t.path for t in templates]) & normal
    open_unquoted = np.array([t.outcome == "open" and PQ not in t.path for t in templates]) & normal
    pools = [np.flatnonzero(m[tpl]) for m in (closed_quoted, open_quoted, open_unquoted)]
    picked = [np.sort(rng.choice(p, size=min(2 * n_off, p.size), replace=False)) for p in pools]
    cases = events["case"].to_numpy()
    t = events["t"].to_numpy().copy()
    starts = np.searchsorted(cases, np.arange(len(tpl)))
    export_utc = local_to_utc(np.array([EXPORT_LOCAL]))[0]
    first_pq = np.array([t.path.index(PQ) if PQ in t.path else -1 for t in templates])[tpl[picked[0]]]
    # quote exactly 30 days +- offset after Prospecting: move Prospecting back
    quote_utc = local_to_utc(t[starts[picked[0]] + first_pq])
    t[starts[picked[0]]] = utc_to_local(quote_utc - pd.to_timedelta(SLA_QUOTE_DAYS * DAY_S + offsets[:picked[0].size],
                                                                        unit="s"))
    # open and idle exactly 60 days +- offset: shift the whole deal
    ends = np.searchsorted(cases, picked[1], side="right") - 1
    target = utc_to_local(export_utc - pd.to_timedelta(STUCK_DAYS * DAY_S + offsets[:picked[1].size], unit="s"))
    delta = target - t[ends]
    per_case = np.zeros(len(tpl), dtype="timedelta64[s]")
    per_case[picked[1]] = delta
    # open, not quoted, Prospecting exactly 30 days +- offset before the export: shift the whole deal
    target = utc_to_local(export_utc - pd.to_timedelta(SLA_QUOTE_DAYS * DAY_S + offsets[:picked[2].size], unit="s"))
    per_case[picked[2]] = target - t[starts[picked[2]]]
    events["t"] = t + per_case[cases]


def _parental_leave(events: pd.DataFrame, team: SalesTeam) -> None:
    """The first sales rep is away during :data:`LEAVE`; a colleague of the same team does their work (in place)."""
    away, stand_in = team.reps[0], team.reps[4]
    t = events["t"].to_numpy()
    users = events["user"].to_numpy()
    during = np.flatnonzero((t >= LEAVE[0]) & (t < LEAVE[1]))
    during = during[users[during] == away.user_id]
    if during.size:
        users = users.copy()
        users[during] = stand_in.user_id
        events["user"] = pd.Series(users, dtype=object)


def _assign_templates(n: int, normal: list[Template], planted: list[Template], rng: np.random.Generator) -> np.ndarray:
    """Template index per case: exact counts for planted templates, weighted draw for the rest."""
    weights = np.array([t.weight for t in normal])
    tpl = rng.choice(len(normal), size=n, p=weights / weights.sum())
    counts = [int(round(t.weight * n)) for t in planted]
    positions = rng.permutation(n)[: sum(counts)]
    tpl[positions] = np.repeat(np.arange(len(normal), len(normal) + len(planted)), counts)
    return tpl


def _simulate_times(t: Template, m: int, rng: np.random.Generator) -> np.ndarray:
    """(m, len(path)) local times: lognormal waits snapped to business hours, placed relative to the export."""
    k = len(t.path)
    times = np.empty((m, k), dtype="datetime64[s]")
    times[:, 0] = random_business_times(rng, m, start=WINDOW_START_LOCAL, end=EXPORT_LOCAL - 30 * DAY_S * SECOND)
    for j in range(1, k):
        median, sigma, cap, *floor = t.wait(j)
        wait = lognormal_seconds(rng, m, median_days=median, sigma=sigma, cap_days=cap)
        if floor:
            wait = np.maximum(wait, int(floor[0] * DAY_S))
        times[:, j] = snap_to_business_hours(times[:, j - 1] + wait * SECOND, rng)
    if t.outcome in ("won", "lost"):
        shift = np.maximum(weeks_to_shift(times[:, -1], EXPORT_LOCAL - DAY_S * SECOND), 0)
    elif t.outcome == "open" and PQ not in t.path:
        # not yet quoted: Prospecting 2-50 days ago (some already over the 30-day quote SLA), last event
        # at least a day before the export
        gap = (rng.uniform(2, 50, m) * DAY_S).astype(np.int64)
        shift = np.maximum(weeks_to_shift(times[:, 0], EXPORT_LOCAL - gap * SECOND),
                           weeks_to_shift(times[:, -1], EXPORT_LOCAL - DAY_S * SECOND))
    else:
        # open deals idle 2-80 days (some over the 60-day stuck limit by chance), planted stuck ones 61-190
        lo, hi = (2, 80) if t.outcome == "open" else (61, 190)
        gap = (rng.uniform(lo, hi, m) * DAY_S).astype(np.int64)
        shift = weeks_to_shift(times[:, -1], EXPORT_LOCAL - gap * SECOND)
    return times - shift[:, None] * WEEK


# ---------------------------------------------------------------- canonical log
def sales_event_log(sim: SalesSimulation) -> pd.DataFrame:
    """The simulation as a canonical event log frame (what the importer should produce)."""
    ev = sim.events
    cases = ev["case"].to_numpy()
    return pd.DataFrame({
        CASE: _strings(sim.case_ids, cases),
        ACTIVITY: _strings(*_factorize(ev["activity"])),
        TIMESTAMP: local_to_utc(ev["t"].to_numpy()),
        RESOURCE: _strings(*_factorize(ev["user"])),
        "case:Amount": sim.amount[cases],
        "case:Discount__c": sim.discount[cases],
        ORDER: np.arange(len(ev), dtype=np.int64),
    })


def _factorize(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(column)  # hashing, no sort
    return np.asarray(uniques, dtype=object), codes


def _strings(values: np.ndarray, codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``values[codes]`` as a pandas string array, gathered in Arrow (no per-row Python objects)."""
    return pd.array(pa.array(values.astype(str)).take(pa.array(codes)), dtype="string")


def generate_sales_log(n_events: int = 1_000_000, *, seed: int = 7) -> pd.DataFrame:
    """A canonical sales event log with exactly ``n_events`` events, for benchmarks.

    Columns: ``case:concept:name`` (18-character opportunity ids),
    ``concept:name`` (stage), ``time:timestamp`` (UTC), ``org:resource`` (user
    id), ``case:Amount``, ``case:Discount__c`` (percent, NaN when never quoted)
    and ``@@index``; sorted by case and time. Same seed, same frame. The last
    case may be cut short to hit the exact event count.

    Example::

        df = generate_sales_log(200_000, seed=7)
        len(df)  # 200000
    """
    if n_events < 1:
        raise ValueError(f"n_events must be at least 1, got {n_events}")
    n_cases = max(int(n_events / 5.9 * 1.02), 10)
    while True:
        rng = np.random.default_rng([seed, 1])
        sim = simulate_sales(n_cases, rng)
        if len(sim.events) >= n_events:
            break
        n_cases = int(n_cases * 1.2) + 10
    return sales_event_log(sim).iloc[:n_events].reset_index(drop=True)
