"""The Salesforce OpportunityFieldHistory export of the simulated pipeline (:mod:`.salesforce`) and its ground truth.

The simulation gives one canonical event per stage change; this module writes
them as the rows a Data Loader export of ``OpportunityFieldHistory`` has
(``StageName`` and the other tracked fields, old and new value, the user, the
time), with the export's artefacts planted, and records what was planted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .clock import DAY_S, EXPORT_LOCAL, SECOND, format_salesforce_arrow, local_to_utc
from .limits import idle_truth, sla_truth
from .salesforce import (
    APPROVAL_THRESHOLD,
    COLUMNS,
    CW,
    DA,
    FILE_NAME,
    LEAVE,
    NA,
    NR,
    PLANTED_DESCRIPTIONS,
    PQ,
    SLA_QUOTE_DAYS,
    STAGES,
    STUCK_DAYS,
    Q,
    SalesSimulation,
    _strings,
    simulate_sales,
)
from .truth import GroundTruth, LogTruth, Planted


def _num(values: np.ndarray) -> np.ndarray:
    return np.array([f"{v:g}" for v in values.tolist()], dtype=object)


def field_history_frame(sim: SalesSimulation, rng: np.random.Generator) -> tuple[pd.DataFrame, dict[int, tuple[str, int]]]:
    """The OpportunityFieldHistory rows (sorted like a Data Loader export) and the planted artefact rows.

    Returns the frame and ``{row position: (stage, case index)}`` of the
    repeated-stage artefact rows.
    """
    ev = sim.events
    cases, steps = ev["case"].to_numpy(), ev["step"].to_numpy()
    acts, times, users = ev["activity"].to_numpy(), ev["t"].to_numpy(), ev["user"].to_numpy()
    prev_act = np.concatenate([[""], acts[:-1]])
    first = steps == 0
    blocks: list[dict[str, np.ndarray]] = []

    def block(mask, field_name, dtype, old, new, user, t, seq):
        n = int(mask.sum())
        blocks.append({
            "case": cases[mask], "Field": np.full(n, field_name, dtype=object), "DataType": np.full(n, dtype, dtype=object),
            "OldValue": old, "NewValue": new, "CreatedById": user, "t": t, "seq": seq,
        })

    empty = np.full(len(ev), "", dtype=object)
    block(first, "created", "", empty[first], empty[first], users[first], times[first], steps[first] * 10)
    stage = ~first
    block(stage, "StageName", "DynamicEnum", prev_act[stage], acts[stage], users[stage], times[stage], steps[stage] * 10)

    # Amount: first estimate when qualified, final figure with the first quote
    at_q = (acts == Q) & (steps == 1)
    c = cases[at_q]
    block(at_q, "Amount", "Currency", empty[at_q], _num(sim.amount0[c]), users[at_q], times[at_q], steps[at_q] * 10 + 1)
    is_pq = acts == PQ
    first_pq = is_pq & ~pd.Series(is_pq).groupby(cases).shift(1, fill_value=False).pipe(
        lambda s: s.groupby(cases).cummax()).to_numpy()
    c = cases[first_pq]
    changed = sim.amount0[c] != sim.amount[c]
    mask = first_pq.copy()
    mask[np.flatnonzero(first_pq)[~changed]] = False
    c2 = cases[mask]
    block(mask, "Amount", "Currency", _num(sim.amount0[c2]), _num(sim.amount[c2]), users[mask], times[mask], steps[mask] * 10 + 1)
    block(first_pq, "Discount__c", "Percent", empty[first_pq], _num(sim.discount[c]), users[first_pq], times[first_pq],
          steps[first_pq] * 10 + 2)

    # CloseDate pushed out and Probability lowered by hand in some negotiations
    is_nr = acts == NR
    first_nr = is_nr & ~pd.Series(is_nr).groupby(cases).shift(1, fill_value=False).pipe(
        lambda s: s.groupby(cases).cummax()).to_numpy()
    n_nr = int(first_nr.sum())
    push = first_nr.copy()
    push[np.flatnonzero(first_nr)[rng.random(n_nr) >= 0.4]] = False
    start_day = pd.Series(times).groupby(cases).transform("min").to_numpy().astype("datetime64[D]")
    planned = start_day[push] + np.timedelta64(90, "D")
    pushed = planned + rng.choice(np.array([30, 45, 60]), int(push.sum())).astype("timedelta64[D]")
    block(push, "CloseDate", "DateOnly", np.datetime_as_string(planned).astype(object),
          np.datetime_as_string(pushed).astype(object), users[push], times[push], steps[push] * 10 + 3)
    prob = first_nr.copy()
    prob[np.flatnonzero(first_nr)[rng.random(n_nr) >= 0.15]] = False
    n_prob = int(prob.sum())
    block(prob, "Probability", "Percent", np.full(n_prob, "90", dtype=object), np.full(n_prob, "70", dtype=object),
          users[prob], times[prob], steps[prob] * 10 + 4)

    # export artefacts: the CPQ sync re-saves the current stage (OldValue == NewValue)
    tpl = sim.template_of_case
    closed_normal = np.array([t.kind is None and t.outcome in ("won", "lost") and len(t.path) >= 4
                              for t in sim.templates])[tpl]
    candidates = np.flatnonzero(closed_normal)
    n_art = int(round(0.03 * len(tpl)))
    chosen = np.sort(rng.choice(candidates, size=min(n_art, candidates.size), replace=False))
    lengths = np.bincount(cases, minlength=len(tpl))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    at = starts[chosen] + rng.integers(1, lengths[chosen] - 1)  # an intermediate stage event
    frac = rng.uniform(0.2, 0.8, chosen.size)
    gap = ((times[at + 1] - times[at]) / SECOND).astype(np.int64)
    art_t = times[at] + (gap * frac).astype(np.int64) * SECOND
    blocks.append({
        "case": chosen, "Field": np.full(chosen.size, "StageName", dtype=object),
        "DataType": np.full(chosen.size, "DynamicEnum", dtype=object), "OldValue": acts[at], "NewValue": acts[at],
        "CreatedById": np.full(chosen.size, sim.team.integration.user_id, dtype=object), "t": art_t,
        "seq": steps[at] * 10 + 5, "artefact": np.ones(chosen.size, dtype=bool),
    })

    for b in blocks:
        b.setdefault("artefact", np.zeros(len(b["case"]), dtype=bool))
    cols = {k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]}
    order = np.lexsort((cols["seq"], cols["case"], cols["t"]))
    cols = {k: v[order] for k, v in cols.items()}
    # plain object columns: one DataFrame build, no per-block string conversions
    frame = pd.DataFrame({
        "OpportunityId": _strings(sim.case_ids, cols["case"]),
        **{c: pd.Series(cols[c], dtype=object) for c in ("Field", "DataType", "OldValue", "NewValue", "CreatedById")},
        "CreatedDate": pd.array(format_salesforce_arrow(local_to_utc(cols["t"])), dtype="string"),
        "case": cols["case"],
    })
    artefacts = {int(i): (str(cols["NewValue"][i]), int(cols["case"][i])) for i in np.flatnonzero(cols["artefact"])}
    return frame, artefacts


def sales_truth(sim: SalesSimulation, frame: pd.DataFrame, artefacts: dict[int, tuple[str, int]]) -> LogTruth:
    """The ground truth of one simulated export, derived from the templates and the generated times."""
    ids = sim.case_ids
    tpl = sim.template_of_case
    planted = {k: Planted(d, fits_reference_model=f) for k, (d, f) in PLANTED_DESCRIPTIONS.items()}
    ev = sim.events
    utc = pd.Series(local_to_utc(ev["t"].to_numpy()), index=ev.index)
    first_t = utc.groupby(ev["case"]).min()
    idle_days = ((local_to_utc(np.array([EXPORT_LOCAL]))[0] - utc.groupby(ev["case"]).max())
                 / pd.Timedelta(days=1)).to_dict()
    is_pq = (ev["activity"] == PQ).to_numpy()
    quote_days = ((utc[is_pq].groupby(ev["case"][is_pq]).min() - first_t) / pd.Timedelta(days=1)).to_dict()
    is_da = (ev["activity"] == DA).to_numpy()
    approver = ev.loc[is_da].groupby("case")["user"].first().to_dict()
    by_id = {p.user_id: p for p in sim.team.everyone}
    lost_after: dict[str, list[str]] = {s: [] for s in (Q, NA, PQ, NR)}
    open_at: dict[str, list[str]] = {}
    outcomes = {"won": 0, "lost": 0, "open": 0, "booked_without_won": 0}
    open_cases, normal_cases = [], []
    for case in range(len(tpl)):
        t = sim.templates[tpl[case]]
        cid = ids[case]
        if t.outcome in ("open", "stuck"):
            outcomes["open"] += 1
        else:
            outcomes[t.outcome if CW in t.path or t.outcome == "lost" else "booked_without_won"] += 1
        if t.outcome in ("open", "stuck"):
            open_cases.append(cid)
            open_at.setdefault(t.path[-1], []).append(cid)
        if t.outcome == "lost":
            lost_after[t.path[-2]].append(cid)
        if t.kind is None:
            normal_cases.append(cid)
            continue
        kind = planted[t.kind]
        if t.kind == "skipped_approval":
            kind.add(cid, {"discount": float(sim.discount[case])})
        elif t.kind == "sod_breach":
            user = approver[case]
            kind.add(cid, {"user": user, "user_name": by_id[user].name, "discount": float(sim.discount[case])})
        elif t.kind == "backward_move":
            kind.add(cid, dict(t.detail))
        elif t.kind == "sla_breach":
            kind.add(cid, {"days": round(float(quote_days[case]), 2)})
        elif t.kind == "stuck_open":
            kind.add(cid, {"stage": t.path[-1], "days_since_last_event": round(float(idle_days[case]), 1)})
        else:
            kind.add(cid)
    art = Planted("StageName rows whose OldValue equals NewValue (the CPQ sync re-saved the stage); the importer "
                  "collapses them, the case stays normal", fits_reference_model=True)
    for row, (stage, case) in sorted(artefacts.items()):
        art.cases.append(ids[case])
        art.details.setdefault(ids[case], []).append({"stage": stage, "line": row + 2})
    art.cases = sorted(set(art.cases))
    art.extra = {"rows": len(artefacts)}
    away = sim.team.reps[0]
    leave = Planted(f"a sales rep on parental leave {str(LEAVE[0])[:10]} - {str(LEAVE[1])[:10]}, then back: silent "
                    "for more than 90 days but not departed; cases = their deals after the return", fits_reference_model=True)
    back = (ev["user"] == away.user_id).to_numpy() & (ev["t"].to_numpy() >= LEAVE[1])
    leave.cases = sorted(set(ids[ev["case"].to_numpy()[back]].tolist()))
    leave.extra = {"user": away.user_id, "user_name": away.name, "away_from": str(LEAVE[0])[:10],
                   "back_on": str(LEAVE[1])[:10], "stand_in": sim.team.reps[4].user_id}
    export_s = local_to_utc(np.array([EXPORT_LOCAL]))[0].value / 1e9
    running = np.array([sim.templates[i].outcome in ("open", "stuck") for i in tpl])
    ns = (utc - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    start_s = ns.groupby(ev["case"]).min().reindex(range(len(tpl))).to_numpy()
    last_s = ns.groupby(ev["case"]).max().reindex(range(len(tpl))).to_numpy()
    quote_s = ns[is_pq].groupby(ev["case"][is_pq]).min().reindex(range(len(tpl))).to_numpy()
    limits = {
        "quote-within-30d": sla_truth(ids, start_s, quote_s, running, limit_s=SLA_QUOTE_DAYS * DAY_S, as_of_s=export_s,
                                      rule="Prospecting->Proposal/Price Quote<=30d"),
        "stuck-60d": idle_truth(ids, last_s, running, limit_s=STUCK_DAYS * DAY_S, as_of_s=export_s,
                                rule="idle 60d unless last in [Closed Won, Closed Lost, Order Booked]"),
        "approval-above-20pct": {"rule": "case:Discount__c > 20 needs Discount Approval", "limit": APPROVAL_THRESHOLD,
                                 "at_limit": sorted(ids[sim.discount == APPROVAL_THRESHOLD].tolist())},
    }
    return LogTruth(
        file=FILE_NAME, system="Salesforce OpportunityFieldHistory (Data Loader / SOQL export, UTC)",
        preset="salesforce-field-history", reference_model="bpmn_models/lead_to_order.bpmn",
        n_cases=len(ids), n_rows=len(frame), n_events=len(ev), activities=list(STAGES),
        planted=planted, imperfections={"export_artefacts": art, "rep_on_leave": leave}, limits=limits,
        normal_cases=normal_cases, open_cases=open_cases,
        facts={
            "rules": {"approval_above_discount": APPROVAL_THRESHOLD, "quote_sla_days": SLA_QUOTE_DAYS,
                      "stuck_after_days": STUCK_DAYS},
            "outcomes": outcomes,
            "lost_after": {k: sorted(v) for k, v in lost_after.items()},
            "open_at": {k: sorted(open_at[k]) for k in STAGES if k in open_at},
            "users": [p.to_dict() for p in sim.team.everyone],
        },
    )


def generate_sales_field_history(n_opportunities: int = 2000, *, seed: int = 7) -> tuple[pd.DataFrame, GroundTruth]:
    """A Salesforce OpportunityFieldHistory export of ``n_opportunities`` deals, and its ground truth.

    The frame has exactly the export columns ``OpportunityId, Field, DataType,
    OldValue, NewValue, CreatedById, CreatedDate`` (all text, ``CreatedDate``
    like ``2024-03-01T09:15:02.000Z``), rows in CreatedDate order. The ground
    truth's ``logs["salesforce"]`` says which opportunity carries which planted
    deviation. Same seed, same rows.

    Example::

        rows, truth = generate_sales_field_history(500, seed=3)
        sorted(truth.logs["salesforce"].planted)  # ['backward_move', 'order_without_won', ...]
    """
    if n_opportunities < 1:
        raise ValueError(f"n_opportunities must be at least 1, got {n_opportunities}")
    rng = np.random.default_rng([seed, 1])
    sim = simulate_sales(n_opportunities, rng)
    frame, artefacts = field_history_frame(sim, rng)
    truth = sales_truth(sim, frame, artefacts)
    gt = GroundTruth(seed=seed, scale=n_opportunities / 2000,
                     export_time=str(local_to_utc(np.array([EXPORT_LOCAL]))[0].isoformat()).replace("+00:00", "Z"),
                     logs={"salesforce": truth})
    return frame[list(COLUMNS)].copy(), gt
