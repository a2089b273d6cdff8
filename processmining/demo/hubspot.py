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
    SECOND,
    WEEK,
    WINDOW_START_LOCAL,
    format_minutes,
    local_to_utc,
    lognormal_seconds,
    random_business_times,
    snap_to_business_hours,
    weeks_to_shift,
)
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
    gap = (rng.uniform(1, 45, n_deals) * DAY_S).astype(np.int64) * SECOND
    deadline = np.where(is_open, EXPORT_LOCAL - gap, EXPORT_LOCAL - DAY_S * SECOND)
    shift = weeks_to_shift(last, deadline)
    shift = np.where(is_open, shift, np.maximum(shift, 0))
    times = times - shift[:, None] * WEEK

    cells = np.full((n_deals, k), "", dtype=object)
    flat = times[~np.isnat(times)]
    cells[~np.isnat(times)] = format_minutes(local_to_utc(flat))
    utc_days = np.full((n_deals, k), "", dtype=object)
    utc_days[~np.isnat(times)] = local_to_utc(flat).strftime("%Y-%m-%d").to_numpy(dtype=object)

    # date-only cells: only where the previous stage was entered on an earlier day, so the order is kept
    date_only = Planted("'Date entered' (and the previous stage's 'Date exited') holds a bare date YYYY-MM-DD; "
                        "read as midnight it still follows the previous stage")
    eligible = [(i, j) for i in range(n_deals) for j in range(1, lengths[i]) if utc_days[i, j] > utc_days[i, j - 1]]
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
    truth = LogTruth(
        file=FILE_NAME, system="HubSpot deals CSV export (wide: Date entered/exited per stage)",
        preset="hubspot-deals", reference_model=None, n_cases=n_deals, n_rows=n_deals, n_events=n_events,
        activities=list(STAGES), planted={"skipped_stage": skipped_truth},
        imperfections={"date_only_cells": date_only}, normal_cases=normal, open_cases=open_cases,
        facts={"outcomes": outcomes, "lost_after": {k: sorted(v) for k, v in lost_after.items()},
               "open_at": {k: sorted(open_at[k]) for k in OPEN_STAGES if k in open_at}, "owners": owners,
               "drivers": [driver]},
    )
    return frame, truth
