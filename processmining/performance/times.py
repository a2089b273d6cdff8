"""Where the time goes: activity and case times, throughput, stuck cases, rework, backward moves, funnel.

All functions take an :class:`~processmining.model.EventLog` and return a
pandas table (durations in seconds, float) computed with vectorised
operations over the sorted event table. Waiting times per arc live on the
process map (:func:`processmining.discovery.process_map`); SLA targets and the
bottleneck ranking in :mod:`processmining.bottlenecks`; handovers, ping-pong
and workload in :mod:`processmining.handover`.

Timing basis: with start and complete timestamps (``start_timestamp``) an
activity has a processing time (complete − start) and the gap between
activities is waiting time. With completion times only — the usual CRM stage
history or ticket changelog — only the time *between* completions is known;
:func:`timing_note` says which applies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ..codes import pair_counts
from ..errors import AnalysisError
from ..model import ORDER, RESOURCE, TIMESTAMP, EventLog


# ------------------------------------------------------------------ durations
def parse_duration(value: str | float | int | pd.Timedelta | None) -> float:
    """THE duration grammar: seconds from ``"4h"``, ``"36h"``, ``"30d"``, ``"1d 12h"``, ``"45min"``, ``"90m"``,
    ``"2w"``, ``"30 days"``, ISO 8601 ``"P1DT12H"``, a Timedelta or a number of seconds.

    >>> parse_duration("4h"), parse_duration("1d 12h"), parse_duration("P1DT12H"), parse_duration(90)
    (14400.0, 129600.0, 129600.0, 90.0)
    """
    if value is None:
        raise AnalysisError("a duration is required")
    if isinstance(value, pd.Timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = str(value).strip()
        try:
            if not text or text[0] in "+-" or not any(ch.isdigit() for ch in text):
                raise ValueError(text)
            norm = re.sub(r"(\d)\s*w(?:eeks?)?\b", r"\1W", text) if not text.upper().startswith("P") else text
            seconds = pd.Timedelta(norm).total_seconds()
        except (OverflowError, pd.errors.OutOfBoundsTimedelta) as exc:
            raise AnalysisError(f"{text!r} is longer than the ~292 years a duration can hold") from exc
        except (ValueError, TypeError) as exc:
            raise AnalysisError(f"{text!r} is not a duration; write e.g. 4h, 36h, 30d, 1d 12h, 45min, P1DT12H") from exc
    if not np.isfinite(seconds) or seconds < 0:
        raise AnalysisError(f"duration must be a non-negative time, got {value!r}")
    return float(seconds)


def format_duration(value: float | pd.Timedelta | None, *, short: bool = False) -> str:
    """THE duration formatter: ``41.2 days``, ``5.5 hours``, ``90 minutes``, ``12 seconds`` (the unit an auditor reads).

    ``short=True`` is the same duration for a diagram label or a narrow column: ``42 s``, ``45 min``,
    ``3.2 h``, ``3.2 d``, ``14 d``, ``1.3 y`` (``–`` when unknown).

    >>> format_duration(129600), format_duration(pd.Timedelta("90min"))
    ('36.0 hours', '90 minutes')
    >>> format_duration(2700, short=True), format_duration(3.2 * 86400, short=True), format_duration(0.4, short=True)
    ('45 min', '3.2 d', '0.4 s')
    """
    secs = float("nan") if value is None else value.total_seconds() if isinstance(value, pd.Timedelta) else float(value)
    if short:
        return _short_duration(secs)
    if not np.isfinite(secs):
        return "unknown"
    if abs(secs) >= 2 * 86_400:
        return f"{secs / 86_400:.1f} days"
    if abs(secs) >= 2 * 3_600:
        return f"{secs / 3_600:.1f} hours"
    if abs(secs) >= 120:
        return f"{secs / 60:.0f} minutes"
    return f"{secs:.0f} seconds"


def _short_duration(secs: float) -> str:
    if not np.isfinite(secs):
        return "–"
    sign = "-" if secs < 0 else ""
    s = abs(secs)
    v, unit = s / (365 * 86400), "y"
    for limit, div, name in ((60, 1, "s"), (3600, 60, "min"), (86400, 3600, "h"), (365 * 86400, 86400, "d")):
        if s < limit:
            v, unit = s / div, name
            break
    whole = unit == "min" or (unit == "s" and v >= 1) or (unit != "s" and v >= 10)
    text = f"{v:.0f}" if whole else f"{v:.1f}"
    return f"{sign}{text} {unit}"


def require_timestamps(log: EventLog, what: str) -> None:
    """Refuse a time-based analysis on an order-only log, saying so plainly."""
    if not log.has_timestamps:
        raise AnalysisError(f"the log has no timestamps (only the order of events): {what} needs times",
                            source=log.name)


def timing_note(log: EventLog) -> str:
    """One sentence saying which times the log supports (shown next to every performance view)."""
    if not log.has_timestamps:
        return ("The log has no timestamps, only the order of events: maps (frequency), variants, discovery and "
                "conformance work; waiting, processing and case times are not available.")
    if log.has_start_times:
        pairs = (log.report.lifecycle.get("paired", 0) if log.report is not None else 0)
        lc = (f" ({pairs:,} start/complete event pairs were joined into activity instances)" if pairs else "")
        return ("The log has start and complete timestamps" + lc + ": processing time per activity "
                "(complete − start) and waiting time (previous complete → start) are separated.")
    return ("The log has one timestamp per event: only waiting times between completions are known; "
            "processing time within an activity cannot be separated from waiting time.")


def to_timestamps(seconds: np.ndarray | pd.Series) -> pd.Series:
    """Seconds since the epoch (float) as UTC timestamps (NaN -> NaT), rounded to the nanosecond."""
    ns = np.asarray(seconds, dtype=float) * 1e9
    known = ~np.isnan(ns)
    if not (np.abs(ns[known]) < 9.2e18).all():  # int64 ns: the years 1677-2262
        raise AnalysisError("a time lies outside the years 1677-2262 that a timestamp can hold")
    out = np.full(len(ns), np.iinfo(np.int64).min, dtype=np.int64)  # NaT
    out[known] = np.round(ns[known])
    # no time at all: pandas' unit for such a column (seconds), as the app and exports have always shown it
    return pd.Series(out, dtype="datetime64[ns, UTC]" if known.any() else "datetime64[s, UTC]")


def as_of_seconds(log: EventLog, as_of: str | pd.Timestamp | None) -> float:
    """The "now" of an analysis in seconds: ``as_of`` (naive = UTC), or the last event of the log."""
    if as_of is None:
        if log.n_events == 0:
            return float("nan")
        return log.df[TIMESTAMP].max().value / 1e9
    t = pd.Timestamp(as_of)
    t = t.tz_localize("UTC") if t.tzinfo is None else t
    return t.value / 1e9


# ------------------------------------------------------------------ activities and cases
def activity_performance(log: EventLog) -> pd.DataFrame:
    """Per activity: how often, how long before it happens, and (with start times) how long it takes.

    Columns: ``events``, ``cases``; ``wait_before_mean_s`` / ``wait_before_median_s`` /
    ``wait_before_total_s`` (time from the previous event of the case to this
    one: the waiting time "into" the activity; the first event of a case has
    none); ``processing_mean_s`` / ``processing_median_s`` / ``processing_total_s``
    (complete − start; NaN without start timestamps — see :func:`timing_note`).
    Sorted by total waiting time, largest first.

    >>> activity_performance(log).head(3)
    """
    require_timestamps(log, "activity times")
    ev = log.codes
    prev_gap = np.full(len(ev.t), np.nan)
    if len(ev.t) > 1:
        prev_gap[1:] = ev.t[1:] - ev.t[:-1]
        prev_gap[ev.starts] = np.nan
    if ev.start is not None:
        st = ev.start / 1e9  # unknown start -> its completion
        proc = ev.processing
        if len(ev.t) > 1:  # wait until the activity starts, not until it completes
            prev_gap[1:] = np.maximum(st[1:], ev.t[:-1]) - ev.t[:-1]
            prev_gap[ev.starts] = np.nan
    else:
        proc = None  # no start times: processing is unknown, so its statistics are NaN (not computed)
    c = log.codes
    n_act = len(c.act_names)
    frame = pd.DataFrame({"activity": c.act, "wait": prev_gap} | ({"proc": proc} if proc is not None else {}))
    g = frame.groupby("activity", sort=True)
    cases = c.cases_per_activity if n_act else np.zeros(0)
    size = g.size()
    unknown = pd.Series(np.nan, index=size.index)
    out = pd.DataFrame({
        "events": size,
        "cases": cases,
        "wait_before_mean_s": g["wait"].mean(),
        "wait_before_median_s": g["wait"].median(),
        "wait_before_total_s": g["wait"].sum(min_count=1),
        "processing_mean_s": g["proc"].mean() if proc is not None else unknown,
        "processing_median_s": g["proc"].median() if proc is not None else unknown,
        "processing_total_s": g["proc"].sum(min_count=1) if proc is not None else unknown,
    })
    out.index = pd.Index([c.act_names[i] for i in out.index], name="activity")
    return out.sort_values(["wait_before_total_s", "events"], ascending=False, na_position="last")


def case_durations(log: EventLog) -> pd.DataFrame:
    """One row per case: ``case``, ``start``, ``end``, ``events``, ``duration_s`` (first to last event).

    >>> case_durations(log)["duration_s"].median() / 86400   # median days per case
    """
    require_timestamps(log, "case durations")
    ev = log.codes
    if len(ev.t) == 0:
        return pd.DataFrame(columns=["case", "start", "end", "events", "duration_s"])
    first, last = np.minimum.reduceat(ev.t, ev.starts), np.maximum.reduceat(ev.t, ev.starts)
    return pd.DataFrame({"case": ev.case_ids, "start": to_timestamps(first), "end": to_timestamps(last),
                         "events": np.diff(np.append(ev.starts, len(ev.t))), "duration_s": last - first})


def case_duration_stats(log: EventLog) -> dict[str, float]:
    """Distribution of case durations in seconds: count, mean, min, p10, p25, median, p75, p90, p95, max."""
    d = case_durations(log)["duration_s"].astype(float)
    if d.empty:
        return {"count": 0}
    q = d.quantile([0.1, 0.25, 0.5, 0.75, 0.9, 0.95]).to_numpy()
    return {"count": int(len(d)), "mean": float(d.mean()), "min": float(d.min()), "p10": float(q[0]),
            "p25": float(q[1]), "median": float(q[2]), "p75": float(q[3]), "p90": float(q[4]),
            "p95": float(q[5]), "max": float(d.max())}


def throughput_time(log: EventLog, a: str, b: str) -> pd.DataFrame:
    """Per case, the time from the first ``a`` to the first ``b`` after it.

    Columns: ``case``, ``from_time``, ``to_time``, ``duration_s``. Cases without
    ``a``, or without a ``b`` after it, are not listed (use
    :func:`processmining.bottlenecks.sla_breaches` for still-open ones).

    >>> throughput_time(log, "Prospecting", "Proposal/Price Quote")["duration_s"].median()
    """
    require_timestamps(log, "a throughput time")
    pairs = first_pairs(log, a, b)
    done = pairs[pairs["to_pos"] >= 0]
    return pd.DataFrame({"case": done["case"].to_numpy(), "from_time": to_timestamps(done["from_t"]),
                         "to_time": to_timestamps(done["to_t"]),
                         "duration_s": (done["to_t"] - done["from_t"]).to_numpy()})


def first_pairs(log: EventLog, a: str | None, b: str, *, from_occurrence: str = "first",
                to_occurrence: str = "first") -> pd.DataFrame:
    """Per case with an ``a`` (``None``: the case start): positions / times of the clock's start and stop.

    The clock starts at the first (``from_occurrence="last"``: the last) ``a`` and
    stops at the first (``to_occurrence="last"``: the last) ``b`` after it.
    ``to_pos`` is -1 and ``to_t`` NaN when no ``b`` follows. Building block of
    throughput times, SLA targets and the ``max_duration`` rule.
    """
    for name, occ in (("from_occurrence", from_occurrence), ("to_occurrence", to_occurrence)):
        if occ not in ("first", "last"):
            raise AnalysisError(f"{name} must be 'first' or 'last', got {occ!r}")
    ev = log.codes
    n_cases = len(ev.starts)
    pos = np.arange(len(ev.t))
    big = np.iinfo(np.int64).max
    if a is None:
        from_pos = ev.starts.astype(np.int64)
        has_a = np.ones(n_cases, dtype=bool)
    else:
        rows = pos[ev.act_mask([a])]
        if from_occurrence == "first":
            from_pos = np.full(n_cases, big, dtype=np.int64)
            np.minimum.at(from_pos, ev.case[rows], rows)
            has_a = from_pos != big
        else:
            from_pos = np.full(n_cases, -1, dtype=np.int64)
            np.maximum.at(from_pos, ev.case[rows], rows)
            has_a = from_pos >= 0
    rows = pos[ev.act_mask([b])]
    later = has_a[ev.case[rows]] & (rows > from_pos[ev.case[rows]])
    if to_occurrence == "first":
        to_pos = np.full(n_cases, big, dtype=np.int64)
        np.minimum.at(to_pos, ev.case[rows[later]], rows[later])
        to_found = to_pos != big
    else:
        to_pos = np.full(n_cases, -1, dtype=np.int64)
        np.maximum.at(to_pos, ev.case[rows[later]], rows[later])
        to_found = to_pos >= 0
    sel = np.flatnonzero(has_a)
    fp = from_pos[sel]
    tp = np.where(to_found[sel], to_pos[sel], -1)
    return pd.DataFrame({"case": ev.case_ids[sel], "from_pos": fp, "to_pos": tp, "from_t": ev.t[fp],
                         "to_t": np.where(tp >= 0, ev.t[np.maximum(tp, 0)], np.nan)})


# ------------------------------------------------------------------ stuck / open
def stuck_cases(
    log: EventLog,
    *,
    idle: str | float | pd.Timedelta | None = None,
    end_activities: Iterable[str] | None = None,
    as_of: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """The stuck cases at ``as_of`` (default: the log's last timestamp): running and idle longer than ``idle``.

    "Running" and "finished" come from :func:`processmining.status.case_status`:
    a case is finished when its last event is an end activity (``end_activities``,
    or inferred from the data when ``None``). A finished case is never stuck;
    exactly ``idle`` is not over it. Columns: ``case``, ``last_activity``,
    ``last_time``, ``idle_s``, ``status`` (always ``"stuck"``), and for older
    callers ``idle_exceeded`` / ``no_end_activity`` (both true). Most idle first;
    ``attrs`` carries the status decision (see :func:`processmining.status.status_note`).

    >>> stuck_cases(log, idle="60d", end_activities=["Closed Won", "Closed Lost", "Order Booked"])
    """
    from ..status import case_status

    if idle is None:
        raise AnalysisError("give idle=... (e.g. 30d): a case is stuck when it is running and has had no event "
                            "for longer than that")
    return stuck_from_status(case_status(log, end_activities=end_activities, idle=idle, as_of=as_of))


def stuck_from_status(st: pd.DataFrame) -> pd.DataFrame:
    """The table of :func:`stuck_cases` from a :func:`~processmining.status.case_status` table."""
    out = st[st["status"] == "stuck"].assign(idle_exceeded=True, no_end_activity=True)
    out = out.sort_values(["idle_s", "case"], ascending=[False, True], ignore_index=True)
    out.attrs.update(st.attrs)
    out.attrs["counts"] = {k: int(v) for k, v in st["status"].value_counts().items()}
    return out


# ------------------------------------------------------------------ rework and backward moves
def rework(log: EventLog, *, level: str = "activity") -> pd.DataFrame:
    """Activities repeated within a case.

    ``level="activity"``: per activity ``cases_with_rework`` (cases doing it more
    than once), ``share_of_cases`` (of the cases that do it at all),
    ``extra_executions`` (executions beyond the first). ``level="case"``: one
    row per repeated (case, activity) with ``executions``.

    >>> rework(log).loc["Proposal/Price Quote", "cases_with_rework"]
    """
    c = log.codes
    n_act = max(len(c.act_names), 1)
    keys, execs = pair_counts(c.case, c.act, n_act, c.n_cases)
    counts = pd.DataFrame({"case": c.case_ids[keys // n_act],
                           "activity": np.array(c.act_names, dtype=object)[keys % n_act] if len(keys) else [],
                           "executions": execs})
    repeated = counts[counts["executions"] > 1]
    if level == "case":
        return repeated.sort_values(["executions", "case"], ascending=[False, True], ignore_index=True)
    if level != "activity":
        raise AnalysisError(f"level must be 'activity' or 'case', got {level!r}")
    acode = keys % n_act
    rep = execs > 1
    out = pd.DataFrame({
        "cases": np.bincount(acode, minlength=n_act),
        "cases_with_rework": np.bincount(acode[rep], minlength=n_act),
        "extra_executions": np.bincount(acode, weights=execs - 1, minlength=n_act).astype(np.int64),
    }, index=pd.Index(c.act_names or ["-"], name="activity"))
    out = out[out["cases"] > 0]
    out["share_of_cases"] = out["cases_with_rework"] / out["cases"]
    return out.sort_values(["cases_with_rework", "extra_executions"], ascending=False, kind="stable")


def backward_moves(
    log: EventLog,
    order: Sequence[str],
    *,
    allowed: Iterable[tuple[str, str]] = (),
) -> pd.DataFrame:
    """Moves to an earlier stage of the pipeline ``order`` (e.g. Negotiation/Review → Needs Analysis).

    Only events of the listed stages are considered (others are skipped over);
    ``allowed`` lists expected backward moves (e.g. a revised quote). One row per
    move: ``case``, ``from_stage``, ``to_stage``, ``time``, ``resource``,
    ``steps_back`` (how many stages back), ``from_index`` / ``to_index`` (the
    ``@@index`` of the two events: evidence). The ``no_backward_moves`` rule calls this.

    >>> moves = backward_moves(log, STAGES, allowed=[("Negotiation/Review", "Proposal/Price Quote")])
    >>> moves.groupby(["from_stage", "to_stage"]).size()
    """
    rank = {s: i for i, s in enumerate(order)}
    if len(rank) != len(order):
        raise AnalysisError("the stage order lists a stage twice")
    df = log.df
    codes = log.codes  # cached integer codes: no string work per event
    names = np.array(codes.act_names, dtype=object)
    code_rank = np.array([rank.get(a, -1) for a in codes.act_names], dtype=np.int64)
    rk_all = code_rank[codes.act] if len(codes.act) else np.array([], dtype=np.int64)
    idx = np.flatnonzero(rk_all >= 0)
    case, rk, act_code = codes.case[idx], rk_all[idx], codes.act[idx]
    if len(rk) < 2:
        return pd.DataFrame(columns=["case", "from_stage", "to_stage", "time", "resource", "steps_back",
                                     "from_index", "to_index"])
    back = (case[1:] == case[:-1]) & (rk[1:] < rk[:-1])
    allow = {(a, b) for a, b in allowed}
    if allow:
        n_act = len(names)
        index = {a: i for i, a in enumerate(codes.act_names)}
        allowed_pairs = [index[a] * n_act + index[b] for a, b in allow if a in index and b in index]
        back &= ~np.isin(act_code[:-1] * n_act + act_code[1:], allowed_pairs)
    j = np.flatnonzero(back) + 1
    rows = idx[j]
    res = df[RESOURCE].iloc[rows].to_numpy(dtype=object) if RESOURCE in df.columns else np.full(len(rows), None)
    order_col = df[ORDER].to_numpy()
    return pd.DataFrame({"case": codes.case_ids[case[j]], "from_stage": names[act_code[j - 1]],
                         "to_stage": names[act_code[j]], "time": df[TIMESTAMP].iloc[rows].to_numpy(), "resource": res,
                         "steps_back": (rk[j - 1] - rk[j]).astype(np.int64),
                         "from_index": order_col[idx[j - 1]], "to_index": order_col[rows]})


# ------------------------------------------------------------------ funnel
def funnel(log: EventLog, stages: Sequence[str], *, lost: str | Iterable[str] | None = None,
           end_activities: Iterable[str] | None = None) -> pd.DataFrame:
    """A sales funnel over the pipeline ``stages`` (in order).

    Per stage: ``reached`` (cases that got at least this far: the stage or any
    later one), ``visited`` (cases with an event of the stage itself),
    ``conversion`` (reached / reached of the previous stage; 1.0 for the
    first), ``still_open`` (running cases whose furthest stage is this one: not
    lost, only not there yet - :func:`processmining.status.case_status` with
    ``end_activities``, inferred when ``None``), and, when ``lost`` names the lost activity (e.g. ``"Closed Lost"``),
    ``lost_here``: lost cases whose furthest stage before being lost was this one
    (the drop-out stage), and ``lost_share`` of all lost cases.

    >>> funnel(log, ["Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote",
    ...              "Negotiation/Review", "Closed Won"], lost="Closed Lost")
    """
    stages = list(stages)
    if not stages:
        raise AnalysisError("funnel needs at least one stage")
    rank = {s: i for i, s in enumerate(stages)}
    ev = log.codes
    n_cases = len(ev.starts)
    r = ev.act_values(rank)
    has = ~np.isnan(r)
    furthest = np.full(n_cases, -1.0)
    np.maximum.at(furthest, ev.case[has], r[has])
    visited = np.zeros((n_cases, len(stages)), dtype=bool)
    visited[ev.case[has], r[has].astype(np.int64)] = True
    reached = np.array([(furthest >= i).sum() for i in range(len(stages))], dtype=np.int64)
    out = pd.DataFrame({"stage": stages, "reached": reached, "visited": visited.sum(axis=0).astype(np.int64)})
    from ..status import case_status

    st = case_status(log, end_activities=end_activities)
    running = np.isin(st["status"].to_numpy(), ["running", "stuck"])
    here = running & (furthest >= 0)
    out["still_open"] = np.bincount(furthest[here].astype(np.int64), minlength=len(stages))[: len(stages)]
    out.attrs["end_activities"] = st.attrs["end_activities"]
    prev = np.concatenate([[reached[0]], reached[:-1]]).astype(float)
    out["conversion"] = np.divide(reached, prev, out=np.zeros(len(stages)), where=prev > 0)
    if lost is not None:
        lost_acts = [lost] if isinstance(lost, str) else list(lost)
        is_lost = ev.act_mask(lost_acts)
        pos = np.arange(len(ev.t))
        first_lost = np.full(n_cases, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first_lost, ev.case[is_lost], pos[is_lost])
        lost_case = first_lost != np.iinfo(np.int64).max
        before = has & (pos < first_lost[ev.case])
        drop = np.full(n_cases, -1.0)
        np.maximum.at(drop, ev.case[before], r[before])
        add_lost_columns(out, lost_case, drop)
    out.attrs["cases"] = n_cases
    return out


def add_lost_columns(out: pd.DataFrame, lost_case: np.ndarray, drop: np.ndarray) -> None:
    """The funnel's ``lost_here`` / ``lost_share`` columns (and ``attrs``) from, per case, whether it was lost and
    the index of the last stage it reached before (-1: none); both engines call it."""
    counts = np.bincount(drop[lost_case & (drop >= 0)].astype(np.int64), minlength=len(out))
    out["lost_here"] = counts[: len(out)]
    total_lost = int(lost_case.sum())
    out["lost_share"] = out["lost_here"] / total_lost if total_lost else 0.0
    out.attrs["lost_cases"] = total_lost
    out.attrs["lost_before_any_stage"] = int((lost_case & (drop < 0)).sum())


def lost_cases(log: EventLog, stages: Sequence[str], *, lost: str | Iterable[str]) -> pd.DataFrame:
    """The lost cases with their drop-out stage (furthest of ``stages`` before the first ``lost`` event).

    Columns: ``case``, ``drop_out_stage`` (None if lost before any stage), ``lost_time``.
    """
    rank = {s: i for i, s in enumerate(stages)}
    lost_acts = [lost] if isinstance(lost, str) else list(lost)
    ev = log.codes
    n_cases = len(ev.starts)
    pos = np.arange(len(ev.t))
    is_lost = ev.act_mask(lost_acts)
    first_lost = np.full(n_cases, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_lost, ev.case[is_lost], pos[is_lost])
    lost_case = first_lost != np.iinfo(np.int64).max
    r = ev.act_values(rank)
    before = ~np.isnan(r) & (pos < first_lost[ev.case])
    drop = np.full(n_cases, -1.0)
    np.maximum.at(drop, ev.case[before], r[before])
    sel = np.flatnonzero(lost_case)
    names = np.array([*stages, None], dtype=object)
    return pd.DataFrame({"case": ev.case_ids[sel], "drop_out_stage": names[drop[sel].astype(np.int64)],
                         "lost_time": to_timestamps(ev.t[first_lost[sel]])})
