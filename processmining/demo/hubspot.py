"""Seeded HubSpot deals: the *wide* CSV export (one row per deal, "Date entered/exited" per stage).

HubSpot keeps only the latest entry date per stage, so this export cannot
show backward moves; it shows the funnel, skipped stages and timing. Cells
are ``YYYY-MM-DD HH:MM`` in UTC without an offset (the export's account time
zone is UTC), a few are date-only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .clock import (
    DAY_S,
    EXPORT_LOCAL,
    NEAR_LIMIT_OFFSETS,
    SECOND,
    WEEK,
    WINDOW_START_LOCAL,
    format_minutes,
    local_to_utc,
    lognormal_seconds,
    random_business_times,
    snap_to_business_hours,
    utc_to_local,
    weeks_to_shift,
)
from .limits import idle_truth, sla_truth
from .people import person_names
from .truth import LogTruth, Planted

FILE_NAME = "hubspot_deals.csv"
PIPELINE = "Sales Pipeline"
AS, QTB, PS, DMBI, CS, CW, CL = STAGES = (
    "Appointment Scheduled",
    "Qualified To Buy",
    "Presentation Scheduled",
    "Decision Maker Bought-In",
    "Contract Sent",
    "Closed Won",
    "Closed Lost",
)
OPEN_STAGES = STAGES[:5]
COMPANIES = (
    "Acme", "Globex", "Initech", "Umbrella", "Stark Industries", "Wayne Enterprises", "Hooli", "Vandelay Imports",
    "Soylent", "Tyrell", "Wonka", "Cyberdyne", "Gringotts", "Oceanic", "Monarch", "Nakatomi", "Pied Piper",
    "Dunder Mifflin", "Sterling Cooper", "Massive Dynamic",
)
PRODUCTS = ("renewal", "pilot", "expansion", "new licences", "support upgrade", "onboarding package", "API add-on")
#: share of the lost deals that are given to the one owner who loses far more deals (a planted driver)
LOSING_OWNER_SHARE = 0.3
#: median days spent in each stage before the next one
_STAY_DAYS = {AS: 3.0, QTB: 6.0, PS: 7.0, DMBI: 8.0, CS: 6.0}
#: the preset's defaults (processmining.ingest.presets): Appointment Scheduled -> Contract Sent <= 60d, idle 60d
SLA_CONTRACT_DAYS = 60
IDLE_DAYS = 60
#: HubSpot cells have minutes only: the near-limit offsets that it can show
MINUTE_OFFSETS = tuple(sorted({o for o in NEAR_LIMIT_OFFSETS if o % 60 == 0}))


def columns() -> list[str]:
    """The export's header, in HubSpot's order: properties, then entered/exited per stage."""
    base = ["Record ID", "Deal Name", "Deal Stage", "Pipeline", "Amount", "Deal owner", "Create Date"]
    entered = [f'Date entered "{s} ({PIPELINE})"' for s in STAGES]
    exited = [f'Date exited "{s} ({PIPELINE})"' for s in STAGES]
    return base + entered + exited


def hubspot_export(n_deals: int, rng: np.random.Generator) -> tuple[pd.DataFrame, LogTruth]:
    """The wide deal export of ``n_deals`` deals and its ground truth."""
    owners = person_names(rng, 10)
    # outcome per deal: how far it got, then won / lost / still open
    reach = rng.choice(5, size=n_deals, p=[0.2, 0.2, 0.15, 0.1, 0.35])  # index of the last open stage
    late = rng.choice(np.array(["won", "lost", "open"]), size=n_deals, p=[0.65, 0.22, 0.13])
    early = rng.choice(np.array(["lost", "open"]), size=n_deals, p=[0.82, 0.18])
    outcome = np.where(reach == 4, late, early)  # Closed Won only from Contract Sent
    n_skip = int(round(0.03 * n_deals))
    skip_pos = rng.permutation(np.flatnonzero(outcome == "won"))[:n_skip]
    skipped = np.full(n_deals, -1)
    skipped[skip_pos] = rng.integers(1, 4, n_skip)  # skip Qualified To Buy, Presentation or Decision Maker

    paths = []
    for i in range(n_deals):
        path = [s for j, s in enumerate(OPEN_STAGES[: reach[i] + 1]) if j != skipped[i]]
        if outcome[i] != "open":
            path.append(CW if outcome[i] == "won" else CL)
        paths.append(path)
    lengths = np.array([len(p) for p in paths])
    k = int(lengths.max())
    times = np.full((n_deals, k), np.datetime64("NaT"), dtype="datetime64[s]")
    times[:, 0] = random_business_times(rng, n_deals, start=WINDOW_START_LOCAL, end=EXPORT_LOCAL - 40 * DAY_S * SECOND)
    for j in range(1, k):
        live = lengths > j
        prev = np.array([paths[i][j - 1] for i in np.flatnonzero(live)])
        median = np.array([_STAY_DAYS[s] for s in prev])
        wait = (lognormal_seconds(rng, int(live.sum()), median_days=1.0, sigma=0.8, cap_days=30) * median).astype(np.int64)
        times[live, j] = snap_to_business_hours(times[live, j - 1] + wait * SECOND, rng)
    last = times[np.arange(n_deals), lengths - 1]
    is_open = outcome == "open"
    # open deals idle 1-90 days: some over the 60-day idle limit, some started more than 60 days ago
    gap = (rng.uniform(1, 90, n_deals) * DAY_S).astype(np.int64) * SECOND
    deadline = np.where(is_open, EXPORT_LOCAL - gap, EXPORT_LOCAL - DAY_S * SECOND)
    shift = weeks_to_shift(last, deadline)
    shift = np.where(is_open, shift, np.maximum(shift, 0))
    times = times - shift[:, None] * WEEK
    near = _near_limits(times, paths, lengths, is_open, rng)

    cells = np.full((n_deals, k), "", dtype=object)
    flat = times[~np.isnat(times)]
    cells[~np.isnat(times)] = format_minutes(local_to_utc(flat))
    utc_days = np.full((n_deals, k), "", dtype=object)
    utc_days[~np.isnat(times)] = local_to_utc(flat).strftime("%Y-%m-%d").to_numpy(dtype=object)

    # date-only cells: only where the previous stage was entered on an earlier day, so the order is kept
    date_only = Planted("'Date entered' (and the previous stage's 'Date exited') holds a bare date YYYY-MM-DD; "
                        "read as midnight it still follows the previous stage")
    eligible = [(i, j) for i in range(n_deals) for j in range(1, lengths[i])
                if utc_days[i, j] > utc_days[i, j - 1] and i not in near]
    pick = rng.choice(len(eligible), size=min(int(round(0.02 * n_deals)), len(eligible)), replace=False)
    only_date = {eligible[p] for p in pick.tolist()}

    order = np.argsort(times[:, 0], kind="stable")
    record_ids = 17_500_000_000 + np.cumsum(rng.integers(1_000, 900_000, n_deals))
    rid = np.empty(n_deals, dtype=np.int64)
    rid[order] = record_ids
    amount = np.round(rng.lognormal(np.log(18_000), 0.8, n_deals) / 100) * 100
    rows = []
    lost_after: dict[str, list[str]] = {s: [] for s in OPEN_STAGES}
    open_at: dict[str, list[str]] = {}
    skipped_truth = Planted("one stage skipped on the way to Closed Won (e.g. Appointment Scheduled -> "
                            "Presentation Scheduled)")
    normal, open_cases, outcomes = [], [], {"won": 0, "lost": 0, "open": 0}
    n_events = 0
    for i in order.tolist():
        deal = str(rid[i])
        entered = dict.fromkeys(STAGES, "")
        exited = dict.fromkeys(STAGES, "")
        for j, stage in enumerate(paths[i]):
            value = utc_days[i, j] if (i, j) in only_date else cells[i, j]
            entered[stage] = value
            if j > 0:
                exited[paths[i][j - 1]] = value
            if (i, j) in only_date:
                date_only.add(deal, {"stage": stage, "value": value})
        n_events += len(paths[i])
        outcomes[str(outcome[i])] += 1
        if outcome[i] == "lost":
            lost_after[paths[i][-2]].append(deal)
        if outcome[i] == "open":
            open_cases.append(deal)
            open_at.setdefault(paths[i][-1], []).append(deal)
        if skipped[i] >= 0:
            skipped_truth.add(deal, {"skipped": OPEN_STAGES[skipped[i]]})
        else:
            normal.append(deal)
        company = COMPANIES[int(rng.integers(len(COMPANIES)))]
        product = PRODUCTS[int(rng.integers(len(PRODUCTS)))]
        amt = "" if (rng.random() < 0.05 and outcome[i] != "won") else f"{amount[i]:.0f}"
        rows.append([deal, f"{company} - {product}", paths[i][-1], PIPELINE, amt, owners[int(rng.integers(10))],
                     cells[i, 0]] + [entered[s] for s in STAGES] + [exited[s] for s in STAGES])
    frame = pd.DataFrame(rows, columns=columns(), dtype=object)
    # a root cause for driver analysis: one owner loses far more deals (a third of the lost deals are
    # theirs). Drawn after everything else, so no other value of the export changes.
    lost_rows = np.flatnonzero(frame["Deal Stage"].to_numpy() == CL)
    theirs = lost_rows[rng.random(lost_rows.size) < LOSING_OWNER_SHARE]
    frame.loc[theirs, "Deal owner"] = owners[0]
    driver = {"log": FILE_NAME, "target": "lost", "attribute": "case:Deal owner", "value": owners[0]}
    limits = _limits_truth(frame)
    truth = LogTruth(
        file=FILE_NAME, system="HubSpot deals CSV export (wide: Date entered/exited per stage)",
        preset="hubspot-deals", reference_model=None, n_cases=n_deals, n_rows=n_deals, n_events=n_events,
        activities=list(STAGES), planted={"skipped_stage": skipped_truth},
        imperfections={"date_only_cells": date_only}, normal_cases=normal, open_cases=open_cases, limits=limits,
        facts={"outcomes": outcomes, "lost_after": {k: sorted(v) for k, v in lost_after.items()},
               "open_at": {k: sorted(open_at[k]) for k in OPEN_STAGES if k in open_at}, "owners": owners,
               "drivers": [driver]},
    )
    return frame, truth


def _near_limits(times: np.ndarray, paths: list[list[str]], lengths: np.ndarray, is_open: np.ndarray,
                 rng: np.random.Generator) -> set[int]:
    """Deals placed exactly at and minutes around the preset's limits (in place); returns their rows.

    Two deals per offset reach Contract Sent 60 days +- offset after Appointment Scheduled (the appointment
    is moved back; measured on the exported minutes); two open deals per offset had their last stage change
    60 days +- offset before the export.
    """
    offsets = np.repeat(np.array(MINUTE_OFFSETS, dtype=np.int64), 2)
    export_utc = local_to_utc(np.array([EXPORT_LOCAL]))[0]
    reach_cs = np.array([CS in p for p in paths])
    pool = np.flatnonzero(reach_cs)
    quick = pool[[(times[i, paths[i].index(CS)] - times[i, 0]) < 55 * DAY_S * SECOND for i in pool]]
    sla = np.sort(rng.choice(quick, size=min(offsets.size, quick.size), replace=False))
    for i, off in zip(sla.tolist(), offsets.tolist(), strict=False):
        cs_utc = local_to_utc(times[i, paths[i].index(CS): paths[i].index(CS) + 1])[0].floor("min")
        times[i, 0] = utc_to_local(cs_utc - pd.Timedelta(seconds=SLA_CONTRACT_DAYS * DAY_S + off))[0]
    idle_pool = np.setdiff1d(np.flatnonzero(is_open), sla)
    idle = np.sort(rng.choice(idle_pool, size=min(offsets.size, idle_pool.size), replace=False))
    for i, off in zip(idle.tolist(), offsets.tolist(), strict=False):
        target = utc_to_local(export_utc - pd.Timedelta(seconds=IDLE_DAYS * DAY_S + off))[0]
        last = lengths[i] - 1
        times[i, : last + 1] = times[i, : last + 1] + (target - times[i, last])
    return set(sla.tolist()) | set(idle.tolist())


def _limits_truth(frame: pd.DataFrame) -> dict[str, object]:
    """The preset's SLA and idle limit, measured on the exported cells (a bare date is midnight UTC)."""
    entered = frame[[f'Date entered "{s} ({PIPELINE})"' for s in STAGES]]
    seconds = entered.apply(lambda col: pd.to_datetime(col.replace("", None), utc=True, format="mixed"))
    seconds = seconds.apply(lambda col: (col - pd.Timestamp(0, tz="UTC")).dt.total_seconds()).to_numpy(dtype=float)
    ids = frame["Record ID"].to_numpy(dtype=object)
    running = ~frame["Deal Stage"].isin([CW, CL]).to_numpy()
    export_s = local_to_utc(np.array([EXPORT_LOCAL]))[0].value / 1e9
    sla = f"{AS}->{CS}<={SLA_CONTRACT_DAYS}d"
    return {
        "preset-sla": sla_truth(ids, seconds[:, 0], seconds[:, STAGES.index(CS)], running,
                                limit_s=SLA_CONTRACT_DAYS * DAY_S, as_of_s=export_s, rule=sla),
        "preset-idle": idle_truth(ids, np.nanmax(seconds, axis=1), running, limit_s=IDLE_DAYS * DAY_S,
                                  as_of_s=export_s, rule=f"idle {IDLE_DAYS}d unless last in [{CW}, {CL}]"),
    }
