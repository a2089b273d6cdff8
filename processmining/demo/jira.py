"""Seeded IT support desk: Jira Cloud issues with ``expand=changelog`` (REST JSON shape).

Tickets are simulated one at a time (a state machine over the support lines;
1,500 tickets take well under a second), then authors are assigned from the
final times so that the "departed agent" imperfection is exact. Timestamps:
``fields.created`` in UTC (``+0000``), history ``created`` in the service
desk's local time with a ``±hhmm`` offset, as the REST API returns them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .clock import (
    DAY_S,
    EXPORT_LOCAL,
    NEAR_LIMIT_OFFSETS,
    OFFICE_TZ,
    SECOND,
    WEEK,
    WINDOW_START_LOCAL,
    format_jira,
    local_to_utc,
    random_business_times,
    scalar_snap,
    utc_to_local,
)
from .limits import idle_truth, sla_truth
from .people import jira_account_id, person_names
from .truth import LogTruth, Planted

FILE_NAME = "jira_changelog.json"
OPEN, L1, L2, L3, WAIT, RESOLVED, CLOSED, REOPENED, WAIT_SUPPORT = STATUSES = (
    "Open",
    "1st Line Support",
    "2nd Line Support",
    "3rd Line Support",
    "Waiting for Customer",
    "Resolved",
    "Closed",
    "Reopened",
    "Waiting for Support",
)
STATUS_IDS = {OPEN: "1", REOPENED: "4", RESOLVED: "5", CLOSED: "6", L1: "10001", L2: "10002", L3: "10003",
              WAIT: "10004", WAIT_SUPPORT: "10005"}
LINES = (L1, L2, L3)
#: distorted spellings of "Waiting for Customer" planted in a few rows
SYNONYMS = ("Waiting for customer", "Waiting For Customer ", "Wating for Customer")
FIRST_RESPONSE_SLA_HOURS = 4
#: a planted driver: this share of the first-response breaches are tickets about one topic
SLOW_TOPIC = "SSO login loop"
SLOW_TOPIC_SHARE = 0.7
HIGH_RESOLUTION_SLA_DAYS = 5
NEVER_CLOSED_IDLE_DAYS = 30
DEPARTED_SILENCE_DAYS = 90
BOT_NAME = "Automation for Jira"
BOT_ACCOUNT = "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077"
#: the departed agent's last working day (local)
DEPARTURE = np.datetime64("2024-05-31T18:00:00", "s")
#: a 2nd-line agent's long holiday (local): silent for more than the 90-day check, yet not departed -
#: the natural false positive a departed-account detector meets in real exports
HOLIDAY = (np.datetime64("2024-07-01T00:00:00", "s"), np.datetime64("2024-10-10T00:00:00", "s"))

PLANTED_DESCRIPTIONS = {
    "ping_pong": ("moved back down to a lower support line and up again (e.g. 1st -> 2nd -> 1st -> 2nd)", False),
    "reopened": ("reopened after Resolved (goes back to 1st Line Support or the last line)", True),
    "sla_first_response": (f"first move from Open to 1st Line Support later than {FIRST_RESPONSE_SLA_HOURS} h "
                           "after creation", True),
    "sla_resolution_high": (f"priority High and first Resolved later than {HIGH_RESOLUTION_SLA_DAYS} days "
                            "after creation", True),
    "never_closed": (f"not Closed at export and no event for more than {NEVER_CLOSED_IDLE_DAYS} days", None),
}
SUMMARIES = (
    "VPN drops every few minutes", "Cannot log in to the customer portal", "Invoice PDF shows wrong VAT",
    "Password reset mail not received", "Printer on 3rd floor offline", "Laptop will not boot after update",
    "Access request for shared drive", "Outlook calendar not syncing", "API returns 502 on order endpoint",
    "New starter needs accounts", "License key rejected", "Export to Excel times out",
    "Mobile app crashes on start", "Email bounces from partner domain", "Dashboard numbers look wrong",
    "SSO login loop", "Report scheduler stopped", "Wi-Fi slow in meeting rooms", "Data import fails at row 1200",
    "Request for admin rights",
)


@dataclass
class Ticket:
    """One simulated ticket: statuses entered, local times, which role acted, and what was planted."""

    index: int
    priority: str
    kind: str | None
    statuses: list[str] = field(default_factory=list)
    times: list[np.datetime64] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)  # "L1" / "L2" / "L3" / "bot"; "" for Open
    detail: dict[str, object] = field(default_factory=dict)
    open_at_export: bool = False

    def go(self, status: str, t: np.datetime64, role: str) -> None:
        self.statuses.append(status)
        self.times.append(t)
        self.roles.append(role)


class _Clock:
    """Scalar helpers over the vectorised clock functions (a ticket is short)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def hours(self, median: float, sigma: float, cap: float) -> np.timedelta64:
        h = min(self.rng.lognormal(np.log(median), sigma), cap)
        return int(max(h, 0.05) * 3600) * SECOND

    def work(self, t: np.datetime64, median_h: float, cap_h: float) -> np.datetime64:
        """An agent's next action: ``t`` plus a lognormal wait, snapped into office hours."""
        return scalar_snap(t + self.hours(median_h, 0.8, cap_h), self.rng)


def _simulate_ticket(i: int, kind: str | None, created: np.datetime64, clock: _Clock) -> Ticket:
    rng = clock.rng
    priority = "High" if kind == "sla_resolution_high" else str(rng.choice(["High", "Medium", "Medium", "Low"]))
    if kind in ("ping_pong", "reopened", "sla_first_response", "never_closed"):
        priority = str(rng.choice(["Medium", "Low"]))
    tk = Ticket(i, priority, kind)
    tk.go(OPEN, created, "")
    if kind == "sla_first_response":
        pickup = int(rng.uniform(FIRST_RESPONSE_SLA_HOURS + 0.05, 30) * 3600) * SECOND
    else:  # now and then a normal ticket waits longer than the 4-hour first-response target too
        pickup = clock.hours(0.6, 0.7, 8.0)
    t = created + pickup
    tk.go(L1, t, "L1")
    slow = kind == "sla_resolution_high"
    line = L1

    def maybe_wait(t: np.datetime64, line: str, p: float) -> np.datetime64:
        if rng.random() < p:
            t = clock.work(t, 3, 16)
            tk.go(WAIT, t, role_of(line))
            t = clock.work(t + clock.hours(18, 0.7, 72), 1, 4)
            tk.go(line, t, role_of(line))
        return t

    if kind == "never_closed":
        stop = str(rng.choice([WAIT, L1, L2]))
        if stop == WAIT:
            tk.go(WAIT, clock.work(t, 3, 16), "L1")
        elif stop == L2:
            tk.go(L2, clock.work(t, 5, 30), "L1")
        tk.detail["status"] = tk.statuses[-1]
        return tk
    if kind == "ping_pong":
        low, high = (L1, L2) if rng.random() < 0.7 else (L2, L3)
        if low == L2:
            t = clock.work(t, 5, 30)
            tk.go(L2, t, "L1")
        bounces = int(rng.integers(1, 3))
        for _ in range(bounces):
            t = clock.work(t, 8, 40)
            tk.go(high, t, role_of(tk.statuses[-1]))
            t = clock.work(t, 8, 40)
            tk.go(low, t, role_of(high))
        t = clock.work(t, 8, 40)
        tk.go(high, t, role_of(low))
        line = high
        tk.detail.update({"pair": [low, high], "bounces": bounces})
    else:
        t = maybe_wait(t, L1, 0.2)
        if rng.random() < 0.35 or slow:
            t = clock.work(t, 5, 30)
            tk.go(L2, t, "L1")
            line = L2
            t = maybe_wait(t, L2, 0.15)
            if rng.random() < 0.25:
                t = clock.work(t, 10, 40)
                tk.go(L3, t, "L2")
                line = L3
    t = clock.work(t, {L1: 4, L2: 20, L3: 30}[line], {L1: 30, L2: 60, L3: 80}[line])
    if slow:
        t = max(t, created + int(rng.uniform(HIGH_RESOLUTION_SLA_DAYS + 0.05, 12) * DAY_S) * SECOND)
        t = scalar_snap(t, rng)
    tk.go(RESOLVED, t, role_of(line))
    if kind == "reopened":
        t = clock.work(t + int(rng.uniform(1, 3.5) * DAY_S) * SECOND, 1, 4)
        tk.go(REOPENED, t, role_of(line))
        back = L1 if rng.random() < 0.5 else line
        t = clock.work(t, 1, 6)
        tk.go(back, t, role_of(back))
        t = clock.work(t, 6, 40)
        tk.go(RESOLVED, t, role_of(back))
        tk.detail["back_to"] = back
    _close(tk, t, rng, clock)
    return tk


def role_of(status: str) -> str:
    return {L1: "L1", L2: "L2", L3: "L3"}.get(status, "L1")


def _close(tk: Ticket, resolved: np.datetime64, rng: np.random.Generator, clock: _Clock) -> None:
    if rng.random() < 0.6:  # the automation closes resolved tickets after 5 days, on its hourly run
        t = resolved + 5 * DAY_S * SECOND
        t = t.astype("datetime64[h]").astype("datetime64[s]") + (3600 + int(rng.integers(2, 40))) * SECOND
        tk.go(CLOSED, t, "bot")
    else:  # the customer confirmed; the agent closes
        tk.go(CLOSED, clock.work(resolved, 20, 70), tk.roles[-1])


def simulate_tickets(n: int, rng: np.random.Generator) -> list[Ticket]:
    """``n`` tickets in creation order (planted kinds at exact counts, see PLANTED_DESCRIPTIONS)."""
    rates = {"ping_pong": 0.025, "reopened": 0.04, "sla_first_response": 0.02, "sla_resolution_high": 0.02,
             "never_closed": 0.02}
    kinds: list[str | None] = [None] * n
    counts = [int(round(r * n)) for r in rates.values()]
    positions = rng.permutation(n)[: sum(counts)]
    for pos, kind in zip(positions.tolist(), np.repeat(list(rates), counts).tolist(), strict=True):
        kinds[pos] = kind
    n_recent = int(round(0.015 * n))  # normal tickets still being worked on at export time
    created = random_business_times(rng, n, start=WINDOW_START_LOCAL, end=EXPORT_LOCAL - 21 * DAY_S * SECOND)
    recent = [i for i in rng.permutation(n).tolist() if kinds[i] is None][:n_recent]
    created[recent] = random_business_times(rng, len(recent), start=EXPORT_LOCAL - 4 * DAY_S * SECOND,
                                            end=EXPORT_LOCAL - 3600 * SECOND)
    clock = _Clock(rng)
    tickets = []
    for i in range(n):
        tk = _simulate_ticket(i, kinds[i], created[i], clock)
        _place(tk, recent=i in set(recent), rng=rng)
        tickets.append(tk)
    _near_limits(tickets, rng)
    tickets.sort(key=lambda tk: (int(tk.times[0].astype(np.int64)), tk.index))
    return tickets


def _place(tk: Ticket, *, recent: bool, rng: np.random.Generator) -> None:
    """Shift a ticket by whole weeks so that it fits before the export, and cut in-progress tickets."""
    times = np.array(tk.times)
    if tk.kind == "never_closed":
        idle = int(rng.uniform(NEVER_CLOSED_IDLE_DAYS + 5, 150) * DAY_S) * SECOND
        over = (times[-1] - (EXPORT_LOCAL - idle)) / SECOND
        weeks = int(np.ceil(over / (7 * DAY_S)))
        times = times - weeks * WEEK
        export_utc, last_utc = local_to_utc(np.array([EXPORT_LOCAL, times[-1]]))
        tk.detail["days_since_last_event"] = round((export_utc - last_utc).total_seconds() / DAY_S, 1)
        tk.open_at_export = True
    elif recent:
        keep = int(np.searchsorted(times, EXPORT_LOCAL))
        keep = max(2, min(keep, len(times) - 2))  # in progress: never already Resolved/Closed
        tk.statuses, tk.roles, times = tk.statuses[:keep], tk.roles[:keep], times[:keep]
        if times[-1] >= EXPORT_LOCAL:
            times = times - WEEK
        tk.open_at_export = True
    else:
        weeks = max(0, int(np.ceil(((times[-1] - (EXPORT_LOCAL - 3600 * SECOND)) / SECOND) / (7 * DAY_S))))
        times = times - weeks * WEEK
    tk.times = list(times)


def _near_limits(tickets: list[Ticket], rng: np.random.Generator) -> None:
    """Normal tickets placed exactly at, and a second / minutes around, each limit of the bundled rules (in place).

    Two tickets per offset: first response 4 h +- offset after creation (the ticket from then on moves with
    it), High tickets first resolved 5 days +- offset after creation, and tickets in progress whose last event
    is 30 days +- offset before the export. Measured in UTC; the changed event gets the creation's
    milliseconds (``_same_millis``), so "exactly at" is exact to the millisecond.
    """
    offsets = np.repeat(np.array(NEAR_LIMIT_OFFSETS, dtype=np.int64), 2)
    export_utc = local_to_utc(np.array([EXPORT_LOCAL]))[0]
    used: set[int] = set()

    def pool(ok) -> list[Ticket]:
        free = [tk for tk in tickets if tk.kind is None and not tk.open_at_export and tk.index not in used
                and EXPORT_LOCAL - tk.times[-1] > 7 * DAY_S * SECOND and ok(tk)]
        return _pick(rng, free, offsets.size, used)

    def shift_from(tk: Ticket, j: int, target_utc: pd.Timestamp) -> None:
        delta = utc_to_local(target_utc)[0] - tk.times[j]
        tk.times = tk.times[:j] + [t + delta for t in tk.times[j:]]
        tk.detail.setdefault("_same_millis", []).append(j)

    for tk, off in zip(pool(lambda tk: True), offsets.tolist(), strict=False):
        created = local_to_utc(np.array(tk.times[:1]))[0]
        shift_from(tk, 1, created + pd.Timedelta(seconds=FIRST_RESPONSE_SLA_HOURS * 3600 + off))
    quick = [tk for tk in tickets if RESOLVED in tk.statuses]
    for tk, off in zip(pool(lambda tk: tk in quick and tk.times[tk.statuses.index(RESOLVED)] - tk.times[0]
                            < int(4.5 * DAY_S) * SECOND), offsets.tolist(), strict=False):
        tk.priority = "High"
        created = local_to_utc(np.array(tk.times[:1]))[0]
        shift_from(tk, tk.statuses.index(RESOLVED), created + pd.Timedelta(seconds=HIGH_RESOLUTION_SLA_DAYS * DAY_S + off))
    for tk, off in zip(pool(lambda tk: len(tk.times) >= 4), offsets.tolist(), strict=False):
        keep = int(rng.integers(2, len(tk.times) - 1))  # in progress: never already Resolved / Closed
        tk.statuses, tk.roles, tk.times = tk.statuses[:keep], tk.roles[:keep], tk.times[:keep]
        target = utc_to_local(export_utc - pd.Timedelta(seconds=NEVER_CLOSED_IDLE_DAYS * DAY_S + off))[0]
        delta = target - tk.times[-1]
        tk.times = [t + delta for t in tk.times]
        tk.detail["_zero_millis"] = len(tk.times) - 1  # the export was taken on the full second
        tk.open_at_export = True


# ---------------------------------------------------------------- people and imperfections
@dataclass
class Desk:
    """The service desk: agents per line (index 0 of line 1 is the departed agent, index 0 of line 2 the one
    on holiday) and their account ids."""

    lines: dict[str, list[tuple[str, str]]]  # role -> [(accountId, displayName)]
    departed: tuple[str, str]
    holiday: tuple[str, str]  # index 0 of line 2: away during HOLIDAY


def _desk(rng: np.random.Generator, n_tickets: int) -> Desk:
    """8 / 5 / 3 agents per line for 1,500 tickets; fewer for small demos (so nobody idles for months)."""
    names = person_names(rng, 16)
    people = [(jira_account_id(rng), n) for n in names]
    f = min(1.0, n_tickets / 1500)
    sizes = (max(3, round(8 * f)), max(2, round(5 * f)), max(1, round(3 * f)))
    lines = {"L1": people[: sizes[0]], "L2": people[8: 8 + sizes[1]], "L3": people[13: 13 + sizes[2]]}
    return Desk(lines, people[0], people[8])


def _assign_authors(tickets: list[Ticket], desk: Desk, rng: np.random.Generator) -> list[Ticket]:
    """Set ``detail["_authors"]`` (accountId, displayName) per event; return the departed agent's return tickets."""
    candidates = [tk for tk in tickets if tk.kind is None and not tk.open_at_export
                  and tk.times[0] > np.datetime64("2024-09-16T00:00:00")]
    returns: list[Ticket] = rng.permutation(np.array(candidates, dtype=object))[:3].tolist()
    returning = {id(tk) for tk in returns}
    for tk in tickets:
        chosen: dict[str, tuple[str, str]] = {}
        for role, pool in desk.lines.items():
            if role == "L1" and id(tk) in returning:
                chosen[role] = desk.departed
                continue
            l1_end = max((t for t, r in zip(tk.times, tk.roles, strict=True) if r == "L1"), default=tk.times[0])
            usable = pool if (role != "L1" or l1_end < DEPARTURE) else pool[1:]
            chosen[role] = usable[int(rng.integers(len(usable)))]
        tk.detail["_authors"] = [None if r == "" else (BOT_ACCOUNT, BOT_NAME) if r == "bot" else chosen[r]
                                 for r in tk.roles]
    _send_on_holiday(tickets, desk)
    return returns


def _send_on_holiday(tickets: list[Ticket], desk: Desk) -> None:
    """The holiday agent's work inside :data:`HOLIDAY` goes to the colleagues of their line (no random draw)."""
    agent, pool = desk.holiday, desk.lines["L2"]
    others = [p for p in pool if p != agent]
    if not others:
        return
    for tk in tickets:
        authors = tk.detail["_authors"]
        if agent in authors and any(HOLIDAY[0] <= t < HOLIDAY[1] for t, a in zip(tk.times, authors, strict=True)
                                    if a == agent):
            stand_in = others[tk.index % len(others)]
            tk.detail["_authors"] = [stand_in if a == agent else a for a in authors]


def _pick(rng: np.random.Generator, pool: list[Ticket], k: int, used: set[int]) -> list[Ticket]:
    free = [tk for tk in pool if tk.index not in used]
    picked = [free[i] for i in sorted(rng.choice(len(free), size=min(k, len(free)), replace=False).tolist())]
    used.update(tk.index for tk in picked)
    return picked


# ---------------------------------------------------------------- JSON export
def jira_export(n_tickets: int, rng: np.random.Generator) -> tuple[dict, LogTruth]:
    """The Jira search response (``{"issues": [...]}``) of ``n_tickets`` tickets, and its ground truth."""
    desk = _desk(rng, n_tickets)
    tickets = simulate_tickets(n_tickets, rng)
    returns = _assign_authors(tickets, desk, rng)
    planted = {k: Planted(d, fits_reference_model=f) for k, (d, f) in PLANTED_DESCRIPTIONS.items()}
    keys = {tk.index: f"SUP-{101 + pos}" for pos, tk in enumerate(tickets)}

    # data-quality imperfections on normal, finished tickets (each ticket carries at most one)
    used = {tk.index for tk in returns}
    finished = [tk for tk in tickets if tk.kind is None and not tk.open_at_export]
    agent_closed = [tk for tk in finished if tk.roles[-1] != "bot" and tk.priority != "High"]
    batch = _pick(rng, agent_closed, int(round(0.01 * n_tickets)), used)
    for tk in batch:
        tk.times[-1] = tk.times[-2]
    waiting = [tk for tk in finished if WAIT in tk.statuses]
    synonym_tickets = _pick(rng, waiting, 3 * max(1, int(round(0.002 * n_tickets))), used)
    for j, tk in enumerate(synonym_tickets):
        tk.statuses = [SYNONYMS[j % 3] if s == WAIT else s for s in tk.statuses]
        tk.detail["_synonym"] = SYNONYMS[j % 3]
    look_alike = _pick(rng, waiting, max(1, int(round(0.01 * n_tickets))), used)
    for tk in look_alike:  # the customer answered: the desk's turn again ("Waiting for Support" in JSM)
        k = tk.statuses.index(WAIT)
        mid = tk.times[k] + (tk.times[k + 1] - tk.times[k]) // 2
        tk.statuses.insert(k + 1, WAIT_SUPPORT)
        tk.times.insert(k + 1, mid)
        tk.roles.insert(k + 1, tk.roles[k + 1])
        tk.detail["_authors"].insert(k + 1, tk.detail["_authors"][k + 1])
    dup_tickets = _pick(rng, finished, max(1, int(round(0.005 * n_tickets))), used)
    date_only_pool = []
    for tk in agent_closed:
        utc = local_to_utc(np.array(tk.times[-2:]))
        if utc[0].normalize() < utc[1].normalize() and tk.index not in used:
            date_only_pool.append(tk)
    date_only = _pick(rng, date_only_pool, max(1, int(round(0.004 * n_tickets))), used)

    # global history ids in time order, with gaps (other fields' histories)
    flat = sorted((int(t.astype(np.int64)), pos, j) for pos, tk in enumerate(tickets) for j, t in enumerate(tk.times)
                  if j > 0)
    hist_ids = 10_000 + np.cumsum(rng.integers(1, 6, len(flat)))
    hid = {(pos, j): str(h) for (_, pos, j), h in zip(flat, hist_ids.tolist(), strict=True)}

    all_times = np.array([t for tk in tickets for t in tk.times])
    utc_all = local_to_utc(all_times)
    millis = rng.integers(0, 1000, len(all_times))
    starts = np.cumsum([0] + [len(tk.times) for tk in tickets])
    for pos, tk in enumerate(tickets):
        if tk.index in {b.index for b in batch}:  # one save: the very same instant, milliseconds included
            millis[starts[pos + 1] - 1] = millis[starts[pos + 1] - 2]
        for j in tk.detail.get("_same_millis", ()):  # a near-limit duration, exact to the millisecond
            millis[starts[pos] + j] = millis[starts[pos]]
        if "_zero_millis" in tk.detail:
            millis[starts[pos] + tk.detail["_zero_millis"]] = 0
    exact = utc_all + pd.to_timedelta(millis, unit="ms")
    hist_str = format_jira(utc_all, millis, tz=OFFICE_TZ)
    created_str = format_jira(utc_all, millis, tz="UTC")

    issues, offset = [], 0
    imperf = {
        "batch_entry": Planted("Resolved and Closed written with the identical timestamp (entered afterwards in one go)"),
        "synonym_labels": Planted("'Waiting for Customer' spelled differently in these tickets' status items"),
        "duplicate_histories": Planted("one changelog history appears twice (same id, same content)"),
        "departed_agent": Planted(f"a 1st-line agent who left on {str(DEPARTURE)[:10]} acts again "
                                  f"after more than {DEPARTED_SILENCE_DAYS} days of silence"),
        "bot_account": Planted(f"'{BOT_NAME}' closes resolved tickets 5 days later, at any hour"),
        "agent_on_holiday": Planted(f"a 2nd-line agent away {int((HOLIDAY[1] - HOLIDAY[0]) / SECOND / DAY_S)} days "
                                    f"(holiday), then back at work: silent for more than {DEPARTED_SILENCE_DAYS} "
                                    "days but not departed; cases = their tickets after the return"),
        "date_only_timestamps": Planted("history 'created' is a bare date (YYYY-MM-DD, read as midnight UTC); "
                                        "the event order is unchanged"),
        "look_alike_labels": Planted(f"'{WAIT_SUPPORT}' (the customer answered, the desk's turn) next to "
                                     f"'{WAIT}': a different status with a similar name, never to be merged"),
    }
    for kind in ("batch_entry", "synonym_labels", "duplicate_histories", "date_only_timestamps"):
        imperf[kind].fits_reference_model = kind in ("batch_entry", "date_only_timestamps")
    batch_ids = {tk.index for tk in batch}
    dup_ids = {tk.index for tk in dup_tickets}
    date_only_ids = {tk.index for tk in date_only}
    return_ids = {tk.index for tk in returns}
    normal, open_cases = [], []
    for pos, tk in enumerate(tickets):
        key = keys[tk.index]
        n = len(tk.times)
        histories = []
        for j in range(1, n):
            acc, name = tk.detail["_authors"][j]
            author = {"accountId": acc, "displayName": name}
            items = [{"field": "status", "fieldtype": "jira", "from": STATUS_IDS.get(tk.statuses[j - 1], "10004"),
                      "fromString": tk.statuses[j - 1], "to": STATUS_IDS.get(tk.statuses[j], "10004"),
                      "toString": tk.statuses[j]}]
            if tk.statuses[j] == RESOLVED:
                items.append({"field": "resolution", "fieldtype": "jira", "from": None, "fromString": None,
                              "to": "10000", "toString": "Done"})
            created = hist_str[offset + j]
            if tk.index in date_only_ids and j == n - 1:
                created = str(tk.times[j])[:10]
                imperf["date_only_timestamps"].add(key, {"history_id": hid[(pos, j)], "created": created})
            histories.append({"id": hid[(pos, j)], "author": author, "created": created, "items": items})
            if acc == BOT_ACCOUNT:
                imperf["bot_account"].details.setdefault(key, []).append(hid[(pos, j)])
            if tk.index in dup_ids and j == 1 + (tk.index % max(1, n - 2)):  # never the closing history
                histories.append(json.loads(json.dumps(histories[-1])))
                imperf["duplicate_histories"].add(key, {"history_id": hid[(pos, j)], "status": tk.statuses[j]})
        status = tk.statuses[-1]
        resolved = [k for k in range(n) if tk.statuses[k] == RESOLVED]
        res_date = created_str[offset + resolved[-1]] if status in (RESOLVED, CLOSED) and resolved else None
        issues.append({
            "id": str(10_100 + pos),
            "key": key,
            "fields": {
                "summary": SUMMARIES[int(rng.integers(len(SUMMARIES)))],
                "issuetype": {"name": "Incident" if rng.random() < 0.6 else "Service Request"},
                "priority": {"name": tk.priority},
                "status": {"name": status},
                "created": created_str[offset],
                "resolutiondate": res_date,
            },
            "changelog": {"startAt": 0, "maxResults": len(histories), "total": len(histories), "histories": histories},
        })
        offset += n
        if tk.kind == "sla_first_response":  # measured on the exported (UTC, millisecond) times
            tk.detail["hours"] = round((exact[offset - n + 1] - exact[offset - n]).total_seconds() / 3600, 2)
        elif tk.kind == "sla_resolution_high":
            first_res = offset - n + tk.statuses.index(RESOLVED)
            tk.detail["days"] = round((exact[first_res] - exact[offset - n]).total_seconds() / DAY_S, 2)
        if tk.kind is not None:
            detail = {k: v for k, v in tk.detail.items() if not k.startswith("_")}
            planted[tk.kind].add(key, detail or None)
        else:
            normal.append(key)
        if tk.open_at_export:
            open_cases.append(key)
        if tk.index in batch_ids:
            imperf["batch_entry"].add(key, {"statuses": [tk.statuses[-2], tk.statuses[-1]],
                                            "history_ids": [hid[(pos, n - 2)], hid[(pos, n - 1)]],
                                            "created": hist_str[offset - 1]})
        if tk in look_alike:
            imperf["look_alike_labels"].add(key)
        if "_synonym" in tk.detail:
            imperf["synonym_labels"].add(key, {"label": tk.detail["_synonym"], "canonical": WAIT})
        if tk.index in return_ids:
            imperf["departed_agent"].add(key)
        if any(a == desk.holiday and t >= HOLIDAY[1] for t, a in zip(tk.times, tk.detail["_authors"], strict=True)):
            imperf["agent_on_holiday"].add(key)
    # a root cause for driver analysis: most first-response breaches are SSO tickets (the 1st line cannot
    # take them). Drawn after everything else, so no other value of the export changes.
    late_keys = [keys[tk.index] for tk in tickets if tk.kind == "sla_first_response"]
    slow = {k for k, r in zip(late_keys, rng.random(len(late_keys)).tolist(), strict=True) if r < SLOW_TOPIC_SHARE}
    for issue in issues:
        if issue["key"] in slow:
            issue["fields"]["summary"] = SLOW_TOPIC
    driver = {"log": FILE_NAME, "target": "late", "sla": f"Open->{L1}<={FIRST_RESPONSE_SLA_HOURS}h",
              "attribute": "case:summary", "value": SLOW_TOPIC}
    imperf["synonym_labels"].extra = {"synonyms": {s: WAIT for s in SYNONYMS}}
    imperf["look_alike_labels"].fits_reference_model = False
    imperf["look_alike_labels"].extra = {"labels": {WAIT_SUPPORT: WAIT}, "merge": False}
    imperf["bot_account"].cases = sorted(imperf["bot_account"].details)
    imperf["bot_account"].extra = {"account_id": BOT_ACCOUNT, "display_name": BOT_NAME,
                                   "histories": sum(len(v) for v in imperf["bot_account"].details.values())}
    imperf["bot_account"].details = {}
    imperf["departed_agent"].extra = _departed_facts(tickets, desk)
    imperf["agent_on_holiday"].fits_reference_model = True
    imperf["agent_on_holiday"].extra = {"account_id": desk.holiday[0], "display_name": desk.holiday[1],
                                        "away_from": str(HOLIDAY[0])[:10], "back_on": str(HOLIDAY[1])[:10]}
    n_events = sum(len(tk.times) for tk in tickets)
    truth = LogTruth(
        file=FILE_NAME, system="Jira Cloud REST search with expand=changelog",
        preset="jira-changelog", reference_model="bpmn_models/it_support_ticket.bpmn",
        n_cases=len(tickets), n_rows=n_events + len(imperf["duplicate_histories"].cases), n_events=n_events,
        activities=list(STATUSES), planted=planted, imperfections=imperf, normal_cases=normal,
        open_cases=open_cases, limits=_limits_truth(tickets, keys, exact),
        facts={
            "rules": {"first_response_sla_hours": FIRST_RESPONSE_SLA_HOURS,
                      "high_resolution_sla_days": HIGH_RESOLUTION_SLA_DAYS,
                      "never_closed_idle_days": NEVER_CLOSED_IDLE_DAYS,
                      "departed_silence_days": DEPARTED_SILENCE_DAYS},
            "agents": {role: [{"account_id": a, "name": nm} for a, nm in pool] for role, pool in desk.lines.items()},
            "drivers": [driver],
        },
    )
    return {"expand": "schema,names", "startAt": 0, "maxResults": len(issues), "total": len(issues),
            "issues": issues}, truth


def _departed_facts(tickets: list[Ticket], desk: Desk) -> dict[str, object]:
    acc = desk.departed[0]
    times = sorted(t for tk in tickets for t, a in zip(tk.times, tk.detail["_authors"], strict=True)
                   if a is not None and a[0] == acc)
    gaps = np.diff(np.array(times)) / SECOND / DAY_S
    big = int(np.argmax(gaps))
    by_account: dict[tuple[str, str], list[np.datetime64]] = {}
    for tk in tickets:
        for t, a in zip(tk.times, tk.detail["_authors"], strict=True):
            if a is not None and a[0] != acc:
                by_account.setdefault(a, []).append(t)
    limit = pd.Timedelta(days=DEPARTED_SILENCE_DAYS)
    others = sorted(name for (_, name), ts in by_account.items()
                    if (np.diff(local_to_utc(np.sort(np.array(ts)))) > limit).any())
    return {"account_id": acc, "display_name": desk.departed[1],
            "other_silent_accounts": others,
            "last_event_before_gap": str(local_to_utc(np.array([times[big]]))[0].isoformat()),
            "first_event_after_gap": str(local_to_utc(np.array([times[big + 1]]))[0].isoformat()),
            "silence_days": round(float(gaps[big]), 1)}


def jira_json_text(data: dict) -> str:
    """Compact JSON text with one issue per line (diff-friendly, deterministic)."""
    lines = ",\n".join(json.dumps(issue, ensure_ascii=False, separators=(",", ":")) for issue in data["issues"])
    head = {k: v for k, v in data.items() if k != "issues"}
    return json.dumps(head, separators=(",", ":"))[:-1] + ',"issues":[\n' + lines + "\n]}\n"


def _limits_truth(tickets: list[Ticket], keys: dict[int, str], exact: pd.DatetimeIndex) -> dict[str, object]:
    """The bundled rules' limits (it_support_ticket.rules.yaml), measured on the exported times."""
    sec = (exact - pd.Timestamp(0, tz="UTC")).total_seconds().to_numpy()
    starts = np.cumsum([0] + [len(tk.times) for tk in tickets])
    ids = np.array([keys[tk.index] for tk in tickets], dtype=object)

    def first(status: str) -> np.ndarray:
        return np.array([sec[starts[p] + tk.statuses.index(status)] if status in tk.statuses else np.nan
                         for p, tk in enumerate(tickets)])

    created = sec[starts[:-1]]
    last = np.array([sec[starts[p]: starts[p + 1]].max() for p in range(len(tickets))])
    running = np.array([tk.statuses[-1] != CLOSED for tk in tickets])
    high = np.array([tk.priority == "High" for tk in tickets])
    export_s = local_to_utc(np.array([EXPORT_LOCAL]))[0].value / 1e9
    return {
        "first-response-4h": sla_truth(ids, created, first(L1), running, limit_s=FIRST_RESPONSE_SLA_HOURS * 3600,
                                       as_of_s=export_s, rule=f"{OPEN}->{L1}<={FIRST_RESPONSE_SLA_HOURS}h"),
        "resolution-high-5d": sla_truth(ids, np.where(high, created, np.nan), first(RESOLVED), running,
                                        limit_s=HIGH_RESOLUTION_SLA_DAYS * DAY_S, as_of_s=export_s,
                                        rule=f"{OPEN}->{RESOLVED}<={HIGH_RESOLUTION_SLA_DAYS}d if priority=High"),
        "never-closed-30d": idle_truth(ids, last, running, limit_s=NEVER_CLOSED_IDLE_DAYS * DAY_S, as_of_s=export_s,
                                       rule=f"idle {NEVER_CLOSED_IDLE_DAYS}d unless last in [{CLOSED}]"),
    }
