"""The extended marking equation of one trace: the LP heuristic with split points (van Dongen, 2018).

The marking equation (:class:`.equation.MarkingEquation`) only counts: it
may plan a synchronous move of an event on a transition that cannot fire
where that event is, because the firings it counts never have to be put in
order. Splitting the trace at events ``s_1 < ... < s_K`` cuts the plan into
segments, one firing vector per segment, and demands that after the first
segments the marking reached enables the move that consumes event ``s_k``
(a synchronous move of one of that activity's transitions, or its log
move). With no split point it is the marking equation; every split point
makes the bound tighter and it stays a lower bound of every completion's
cost (each real alignment gives a feasible solution).

Per segment ``a`` (events ``[s_a, s_{a+1})``; the first one starts where
the state stands) the columns are the model moves ``x_a`` (one per
transition), the synchronous moves ``z_a`` (one per visible transition, at
most the segment's events of its activity) and, for ``a >= 1``, the
synchronous moves ``y_a`` of event ``s_a`` (at most one in all; none is its
log move). The markings between segments are columns ``M_a >= 0``: the
marking after segment ``a - 1`` minus what ``y_a`` consumes. Rows, per
segment, one equality per place chaining them from the state's marking to
the final one::

    M_a + Post y_a + C (x_a + z_a) - Pre y_{a+1} - M_{a+1} = (-m if a = 0) + (m_final if a = K)

with ``M_0``/``y_0``/``M_{K+1}``/``y_{K+1}`` absent. One HiGHS model per
trace and split set; the states of the search are solved on it by changing
bounds (the segments before the state's position are fixed at zero, which
makes ``M`` up to the state's segment equal its marking), so every solve
starts from the last basis. Costs are pm4py's (sync 0, log and visible
model moves 10,000, silent 1).
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .net import MOVE_COST, Marking, silent_path

if TYPE_CHECKING:
    from .equation import MarkingEquation

_INF = 1 << 62
_EPS = 1e-6


class OutOfTime(Exception):  # noqa: N818 - a signal, not an error
    """An LP of :class:`SplitEquation` ran past its deadline: the search that asked for it stops."""


class SplitEquation:
    """The extended marking equation of ``trace`` with ``splits`` (sorted event positions), on one HiGHS model.

    ``deadline`` (``time.perf_counter()``) bounds each solve: past it :meth:`solve` raises :class:`OutOfTime`
    (one LP of a few hundred split points can take minutes).
    """

    def __init__(self, me: MarkingEquation, trace: Sequence[str], splits: Sequence[int],
                 deadline: float | None = None) -> None:
        import highspy

        self.deadline = deadline
        net = me.net
        self.me = me
        self.trace = tuple(trace)
        self.splits = list(splits)
        n, k_splits = len(trace), len(self.splits)
        n_p, n_t, n_act = net.n_places, len(net.labels), len(me.activities)
        n_vis = len(me.visible)
        width = n_t + n_vis
        self.n_p, self.n_t, self.n_act, self.width = n_p, n_t, n_act, width
        blocks = k_splits + 1
        place_rows = blocks * n_p
        act_row0 = place_rows
        conv_row0 = act_row0 + blocks * n_act
        n_rows = conv_row0 + k_splits
        self.act_row0, self.n_rows = act_row0, n_rows
        base_r, base_c, base_v = me.block_coo  # the (x, z) block: C in the place rows, 1 in the activity rows
        is_act = base_r >= n_p
        rows, cols, vals = [], [], []
        for a in range(blocks):
            rows.append(np.where(is_act, base_r - n_p + act_row0 + a * n_act, base_r + a * n_p))
            cols.append(base_c + a * width)
            vals.append(base_v)
        col = blocks * width
        cost = [np.tile(me.block_cost, blocks)]
        # y_a: the synchronous moves of event s_a (a = 1..K), then M_a (a = 1..K)
        self.y_first = col
        y_target: list[int] = []
        for a, s in enumerate(self.splits, start=1):
            for t in me.transitions_of.get(trace[s], ()):
                for p, w in net.post[t]:
                    rows.append(np.array([a * n_p + p]))
                    cols.append(np.array([col]))
                    vals.append(np.array([float(w)]))
                for p, w in net.pre[t]:
                    rows.append(np.array([(a - 1) * n_p + p]))
                    cols.append(np.array([col]))
                    vals.append(np.array([-float(w)]))
                rows.append(np.array([conv_row0 + a - 1]))
                cols.append(np.array([col]))
                vals.append(np.array([1.0]))
                y_target.append(me.sync_col[t])
                col += 1
        self.y_block = np.array([a for a, s in enumerate(self.splits, start=1)
                                 for _t in me.transitions_of.get(trace[s], ())], dtype=np.int64)
        cost.append(np.full(col - self.y_first, -float(MOVE_COST)))
        self.m_first = col
        places = np.arange(n_p)
        for a in range(1, blocks):
            mc = col + (a - 1) * n_p + places
            rows += [a * n_p + places, (a - 1) * n_p + places]
            cols += [mc, mc]
            vals += [np.ones(n_p), -np.ones(n_p)]
        n_cols = col + k_splits * n_p
        cost.append(np.zeros(k_splits * n_p))
        r = np.concatenate(rows).astype(np.int64)
        c = np.concatenate(cols).astype(np.int64)
        v = np.concatenate(vals).astype(np.float64)
        order = np.lexsort((r, c))
        r, c, v = r[order], c[order], v[order]
        starts = np.searchsorted(c, np.arange(n_cols + 1)).astype(np.int32)
        self.n_cols = n_cols
        # where each column's value goes in the aggregated vector (model moves per transition, then
        # synchronous moves per visible transition: the layout MarkingEquation's solutions have)
        agg = np.full(n_cols, -1, dtype=np.int64)
        agg[:blocks * width] = np.tile(np.arange(width), blocks)
        agg[self.y_first:self.m_first] = y_target
        self._agg_cols = np.flatnonzero(agg >= 0)
        self._agg_to = agg[self._agg_cols]
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n_cols, n_rows
        lp.col_cost_ = np.concatenate(cost)
        self._col_lower = np.zeros(n_cols)
        self._col_upper = np.full(n_cols, highspy.kHighsInf)
        self._col_upper[self.y_first:self.m_first] = 1.0
        lp.col_lower_ = self._col_lower
        lp.col_upper_ = self._col_upper.copy()
        self._row_lower = np.zeros(n_rows)
        self._row_upper = np.zeros(n_rows)
        self._row_lower[act_row0:] = -highspy.kHighsInf
        self._row_upper[conv_row0:] = 1.0
        lp.row_lower_ = self._row_lower.copy()
        lp.row_upper_ = self._row_upper.copy()
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = starts
        lp.a_matrix_.index_ = r.astype(np.int32)
        lp.a_matrix_.value_ = v
        self._highs = me.new_solver()
        self._highs.passModel(lp)
        self._inf = highspy.kHighsInf
        self._optimal = highspy.HighsModelStatus.kOptimal
        self._time_limit = highspy.HighsModelStatus.kTimeLimit
        self._all_rows = np.arange(n_rows, dtype=np.int32)
        self._all_cols = np.arange(n_cols, dtype=np.int32)
        self._final = np.asarray(net.final, dtype=np.float64)
        # per segment: the events of each activity in it (the first event of segment a >= 1 is y_a's)
        bounds = [0, *self.splits, n]
        self._seg_counts = np.zeros((blocks, n_act))
        col_of = {x: k for k, x in enumerate(me.activities)}
        for a in range(blocks):
            lo = bounds[a] + (1 if a >= 1 else 0)
            for e in trace[lo:bounds[a + 1]]:
                k = col_of.get(e)
                if k is not None:
                    self._seg_counts[a, k] += 1
        self._col_of = col_of
        self._active_from = -1
        self.solved = 0

    def covers(self, i: int) -> bool:
        """Whether a split point lies at or after position ``i`` (else the marking equation is the same LP)."""
        return bool(self.splits) and self.splits[-1] >= i

    def solve(self, m: Marking, i: int) -> tuple[int, np.ndarray | None]:
        """``(lower bound, aggregated LP solution)`` from marking ``m`` before event ``i``; ``_INF`` if infeasible."""
        n_p, n_act, width = self.n_p, self.n_act, self.width
        a0 = bisect.bisect_left(self.splits, i)  # splits before i are spent: their segments are fixed at zero
        h = self._highs
        if a0 != self._active_from:
            upper = self._col_upper.copy()
            upper[:a0 * width] = 0.0
            if a0:
                upper[self.y_first:self.y_first + int(np.searchsorted(self.y_block, a0, side="right"))] = 0.0
            h.changeColsBounds(self.n_cols, self._all_cols, self._col_lower, upper)
            self._active_from = a0
        lower, upper = self._row_lower, self._row_upper
        lower[:], upper[:] = self._row_lower_base(), self._row_upper_base()
        m_arr = np.asarray(m, dtype=np.float64)
        lower[:n_p] -= m_arr
        upper[:n_p] -= m_arr
        k_last = len(self.splits)
        lower[k_last * n_p:(k_last + 1) * n_p] += self._final
        upper[k_last * n_p:(k_last + 1) * n_p] += self._final
        seg = self._seg_counts.copy()
        seg[:a0] = 0.0
        end = self.splits[a0] if a0 < k_last else len(self.trace)
        seg[a0] = 0.0
        for e in self.trace[i:end]:
            k = self._col_of.get(e)
            if k is not None:
                seg[a0, k] += 1
        upper[self.act_row0:self.act_row0 + (k_last + 1) * n_act] = seg.ravel()
        h.changeRowsBounds(self.n_rows, self._all_rows, lower, upper)
        if self.deadline is not None:
            left = self.deadline - time.perf_counter()
            if left <= 0:
                raise OutOfTime
            h.setOptionValue("time_limit", float(left))
        h.run()
        self.solved += 1
        status = h.getModelStatus()
        if status != self._optimal:
            if status == self._time_limit:
                raise OutOfTime
            return _INF, None
        value = h.getObjectiveValue() + MOVE_COST * (len(self.trace) - i)
        x = np.asarray(h.getSolution().col_value)
        vec = np.bincount(self._agg_to, weights=x[self._agg_cols], minlength=width)
        return max(0, math.ceil(value - _EPS)), vec

    def _row_lower_base(self) -> np.ndarray:
        out = np.zeros(self.n_rows)
        out[self.act_row0:] = -self._inf
        return out

    def _row_upper_base(self) -> np.ndarray:
        out = np.zeros(self.n_rows)
        out[self.act_row0 + (len(self.splits) + 1) * self.n_act:] = 1.0
        return out



#: traces up to this many events get the certified fitting plan first (:func:`fitting_run`)
PLAN_MAX_EVENTS = 2_000
#: at most this many events per group of the first, coarse plan LP (a group is a run of one activity, see
#: :func:`fitting_run`); on 17 bpic2019 p2p variants of 101-250 events, 16 took 1.4 s of CPU, 8 took 2.5 s.
#: Short traces are grouped too: against a split point per event, on every 10th bpic2019 p2p variant of up to
#: 50 events (1,079) 18.3 s of CPU instead of 31.9 s (1,081 LPs instead of 1,084, all certified), bpic2013
#: 0.75 s instead of 1.17 s, sepsis 2.66 s and 2.68 s, the loan-kind log 1.33 s and 1.17 s (301 variants)
PLAN_GROUP = 16
#: a failed group is cut into this many pieces for the next LP
PLAN_REFINE = 2
#: firings one segment's ordering may try before the plan is given up (a plan that cannot be ordered)
ORDER_BUDGET = 5_000
#: LPs (each of the rest of a trace) the repair of a plan that cannot be ordered may solve (:func:`_repair`)
REPAIR_LPS = 32
#: markings one walk over silent steps of the repair may visit
REPAIR_MARKINGS = 20_000


def fitting_run(me: MarkingEquation, trace: Sequence[str], *, deadline: float | None = None,
                group: int | None = None) -> tuple[int, list[int], list[int]] | None:
    """A fitting alignment proven optimal by the extended marking equation, silent steps only.

    ``(cost, run, positions)``: ``run`` lists every transition fired (silent
    ones too), ``positions[k]`` the index in ``run`` of event ``k``'s
    synchronous move; ``cost`` is the run's number of silent steps. ``None``
    when there is no such certificate: an event the model lacks, no fitting
    plan (infeasible LP), a fractional LP solution or a plan whose firings
    cannot be put in order even with a split point at every event, or
    ``deadline`` (``time.perf_counter()``) passed during an LP.

    The LP is the extended marking equation (:class:`SplitEquation`) of
    fitting runs only (no log or model moves), the trace cut into groups of
    consecutive events: segment ``g`` is a stretch of silent firings
    ``x_g >= 0`` and synchronous moves ``z_g`` of the events inside group
    ``g - 1`` (as many per activity as the group has, in no order), then the
    synchronous move ``y_g`` of the group's first event (one of its
    activity's transitions, ``sum y_g = 1``), which the marking left before
    it (``R_g >= 0``) must enable. Every fitting alignment gives a feasible
    solution, so the optimum bounds the cost of every fitting alignment from
    below; every other alignment has a log or model move and costs at least
    10,000. When the optimum is integral and each segment's firings can be
    put in an order the net allows, with its events in the trace's order, the
    plan *is* a fitting alignment of that cost, hence an optimal one.

    Each segment but the last has columns only for the silent transitions
    that can help enable one of its events (``CompiledNet._leading_to``):
    any other silent step of a fitting run can be moved after those events
    (it puts no token where they or their helpers take one), so every
    fitting run still has a feasible solution of the same cost, and the LP
    is smaller and tighter (on bpic2019 p2p 57-59 of 90 silent transitions
    per segment; a loop's steps that borrow a token planned less often).

    The first LP cuts the trace where the activity changes and after every
    ``group`` events of one activity (default :data:`PLAN_GROUP`): a
    fraction of the rows and columns of one split point per event, whose LP
    grows faster than the trace (on bpic2019 p2p 2.7 s at 142 events). Groups of a fixed
    size instead (8 events, mixing activities) gave plans that a loop's
    iterations could not order and bounds that rose over three rounds of
    LPs; on 17 bpic2019 p2p variants of 101-250 events they took 51 LPs and
    7.8 s of CPU, the runs of one activity 17 LPs (one each) and 1.4 s.
    The groups around each segment that is fractional or cannot be ordered
    are cut in halves and the LP solved again (van Dongen's split points,
    added where the plan fails), until the plan is certified or no split
    point is left to add where it fails. Then :func:`_repair` searches on
    from the last real marking for a run of the LP's cost. On every 10th
    bpic2019 p2p variant of up to 50 events (1,079) 19 plans ended there
    with all silent columns in every segment, 5 with a split point per event
    and the restricted columns, 1 with groups; every one was repaired, at the
    cost A* found (A* had taken 58.9 s of CPU on the 19, 2 unfinished at 20 s).
    """
    net = me.net
    n = len(trace)
    if not n or n > PLAN_MAX_EVENTS or any(a not in me.transitions_of for a in trace):
        return None
    size = max(1, PLAN_GROUP if group is None else group)
    starts = _runs(trace, size)
    while True:
        solved = _plan_lp(me, trace, starts, deadline)
        if solved is None:
            return None
        value, x_of, y_of, fractional = solved
        failed = set(fractional)
        run, positions, real = _realise(me, trace, starts, x_of, y_of, failed)
        if not failed:
            cost = sum(1 for t in run if net.labels[t] is None)
            return (cost, run, positions) if cost == value < MOVE_COST else None
        # a segment that is fractional or cannot be ordered: its group and the next one are cut in PLAN_REFINE
        # pieces (cutting where its order stopped instead took more rounds of LPs, 1.3-1.7x slower on bpic2019)
        bounds = [*starts, n]
        cut = set(starts)
        for g in failed:
            for grp in (g - 1, g):
                if 0 <= grp < len(starts):
                    step = max(1, (bounds[grp + 1] - bounds[grp]) // PLAN_REFINE)
                    cut.update(range(bounds[grp], bounds[grp + 1], step))
        if len(cut) == len(starts):  # no split point left to add there: search from where the plan stops being real
            found = _repair(me, trace, value, starts, run, real, deadline) if real and value < MOVE_COST else None
            if found is None or sum(1 for t in found if net.labels[t] is None) != value:
                return None
            return value, found, [k for k, t in enumerate(found) if net.labels[t] is not None]
        starts = sorted(cut)


def _repair(me: MarkingEquation, trace: Sequence[str], value: int, starts: list[int], run: list[int],
            real: tuple[int, Marking, int], deadline: float | None) -> list[int] | None:
    """A fitting run of cost ``value`` (the plan LP's optimum, a lower bound) when the plan cannot be ordered.

    The LP with a split point at every event can plan firings that cannot be put in order (a loop's silent
    steps borrowing a token that only their own firing returns); the optimal run then usually costs the
    same but fires other silent steps. From the first such segment (``real``: its index, the marking before
    it, the length of ``run`` that is real there) this tries each way to do that segment's event (the silent
    steps that can help enable it, then one of its transitions; :func:`_sync_paths`), cheapest first, solves
    the plan LP of the rest of the trace from the marking reached, keeps it only while its bound still sums
    to ``value`` and orders it; where that plan fails again, the same from there (depth first). Every run
    it returns costs ``value``, so it is optimal. ``None`` after :data:`REPAIR_LPS` LPs, past ``deadline``, or
    when no run of that cost is found this way (the search is not exhaustive: the caller falls back on A*).
    """
    net = me.net
    n = len(trace)
    labels = net.labels
    lps = 0
    seen: dict[tuple[Marking, int], int] = {}  # the least cost each state was tried with

    def go(prefix: list[int], j: int, m: Marking) -> list[int] | None:
        # ``prefix``: a real run up to event ``j`` (exclusive), ending in marking ``m`` before that segment
        nonlocal lps
        paid = sum(1 for t in prefix if labels[t] is None)
        if j == n:  # the last segment: silent steps to the final marking
            path = _silent_path(net, m, net.final, value - paid)
            return None if path is None else [*prefix, *path]
        for t, path, m2, d in _sync_paths(net, m, trace[j], value - paid):
            if seen.get((m2, j + 1), value + 1) <= paid + d:
                continue
            seen[(m2, j + 1)] = paid + d
            if lps >= REPAIR_LPS or (deadline is not None and time.perf_counter() > deadline):
                return None
            rest = trace[j + 1:]
            starts = list(range(len(rest)))
            lps += 1
            solved = _plan_lp(me, rest, starts, deadline, start=m2)
            if solved is None or paid + d + solved[0] > value:
                continue
            _v, x_of, y_of, fractional = solved
            failed = set(fractional)
            more, _pos, real2 = _realise(me, rest, starts, x_of, y_of, failed, start=m2)
            head = [*prefix, *path, t]
            if real2 is None:
                return [*head, *more]
            g, m3, k = real2
            found = go([*head, *more[:k]], j + 1 + g, m3)
            if found is not None:
                return found
        return None

    g, m, k = real  # segment g starts after group g - 1's first event (its inner events are done in it)
    return go(run[:k], starts[g - 1] + 1 if g else 0, m)


def _sync_paths(net, m: Marking, label: str, budget: int) -> list[tuple[int, list[int], Marking, int]]:  # noqa: ANN001
    """``(transition, silent steps before it, marking after, their cost)`` for each marking a ``label`` step
    reaches from ``m`` after at most ``budget`` silent steps, cheapest first.

    Only the silent steps that can help enable ``label`` are walked (``CompiledNet._leading_to``; the others
    can fire after it, see ``CompiledNet.sync_layer``), at most :data:`REPAIR_MARKINGS` markings.
    """
    labels = net.labels
    parent: dict[Marking, tuple[Marking, int] | None] = {}
    out: list[tuple[int, list[int], Marking, int]] = []
    reached: set[Marking] = set()
    for x, d in net.silent_walk(m, parent, useful=net._leading_to(label), max_steps=budget,
                                max_markings=REPAIR_MARKINGS):
        if d > budget:
            break
        for t, x2 in net.successors(x):
            if labels[t] == label and x2 not in reached:
                reached.add(x2)
                out.append((t, silent_path(parent, x), x2, d))
    return out


def _silent_path(net, m: Marking, goal: Marking, budget: int) -> list[int] | None:  # noqa: ANN001
    """The silent steps of a cheapest walk from ``m`` to ``goal`` of at most ``budget`` steps (breadth first,
    at most :data:`REPAIR_MARKINGS` markings), ``None`` when there is none within those limits."""
    parent: dict[Marking, tuple[Marking, int] | None] = {}
    for x, _d in net.silent_walk(m, parent, max_steps=budget, max_markings=REPAIR_MARKINGS):
        if x == goal:
            break
    return silent_path(parent, goal) if goal in parent else None


def _runs(trace: Sequence[str], size: int) -> list[int]:
    """Where the plan's groups start: at every change of activity and after ``size`` events of one activity.

    >>> _runs(("a", "a", "a", "b", "a"), 2)
    [0, 2, 3, 4]
    """
    out = [0]
    for i in range(1, len(trace)):
        if trace[i] != trace[i - 1] or i - out[-1] >= size:
            out.append(i)
    return out


def _realise(me: MarkingEquation, trace: Sequence[str], starts: list[int], x_of: list[dict[int, int]],
             y_of: list[int | None], failed: set[int], start: Marking | None = None,
             ) -> tuple[list[int], list[int], tuple[int, Marking, int] | None]:
    """Put each segment's firings in order (silent ones and the group's events, in the trace's order).

    Adds the segments that cannot be ordered to ``failed``; returns the run and the positions of the
    synchronous moves (complete when ``failed`` stays empty), and where the run stops being real: ``(first
    failed segment, the marking before it, the run's length there)``, ``None`` when nothing failed.
    ``start``: the marking the run starts from (default the initial one).
    """
    net = me.net
    n = len(trace)
    bounds = [*starts, n]
    m = net.initial if start is None else start
    run: list[int] = []
    positions: list[int] = []
    real: tuple[int, Marking, int] | None = None
    for g in range(len(starts) + 1):
        before = (g, m, len(run))
        inner = trace[bounds[g - 1] + 1:bounds[g]] if g >= 1 else ()
        order = None if g in failed else _order(net, m, x_of[g], inner)
        if order is None:  # go on from the marking the LP plans after this segment (its counts, then y_g)
            failed.add(g)
            real = real or before
            y = y_of[g] if g < len(starts) else None
            if g < len(starts) and y is None:
                break
            after = np.asarray(m, dtype=np.int64)
            for t, k in [*x_of[g].items(), *([(y, 1)] if y is not None else [])]:
                places, delta = me.effect[t]
                after[places] += k * delta.astype(np.int64)
            m = tuple(int(a) for a in after)
            if min(m) < 0:
                break
            continue
        for t in order:
            if net.labels[t] is not None:
                positions.append(len(run))
            run.append(t)
            m = dict(net.successors(m))[t]
        if g < len(starts):
            m2 = dict(net.successors(m)).get(y_of[g]) if y_of[g] is not None else None
            if m2 is None:
                failed.add(g)
                return run, positions, real or before
            positions.append(len(run))
            run.append(y_of[g])
            m = m2
        elif m != net.final:
            failed.add(g)
            real = real or before
    return run, positions, real


def _plan_lp(me: MarkingEquation, trace: Sequence[str], starts: list[int], deadline: float | None,
             start: Marking | None = None) -> tuple[int, list[dict[int, int]], list[int | None], list[int]] | None:
    """Solve the fitting plan's LP with groups beginning at ``starts`` (``starts[0] == 0``), from ``start``
    (default the initial marking).

    ``(optimum, firings per segment (silent and the group's inner events), synchronous transition of each
    group's first event, segments whose values are fractional)``; ``None`` when infeasible or out of time.
    """
    import highspy

    net = me.net
    n, n_p = len(trace), net.n_places
    n_seg = len(starts) + 1
    bounds = [*starts, n]
    silent = [t for t, lbl in enumerate(net.labels) if lbl is None]
    rows, cols, vals = [], [], []
    col = 0
    seg_cols: list[list[tuple[int, int]]] = []  # per segment: (column, transition) of its x and z
    act_row = n_seg * n_p
    rhs_extra: list[float] = []
    for g in range(n_seg):  # x_g: segment g's silent firings (those that can help its events; all in the last)
        mine = silent if g == n_seg - 1 else _helpers(net, trace[bounds[g - 1] + 1 if g else 0:bounds[g] + 1])
        sr, sc, sv = _effects(me, mine)
        rows.append(sr + g * n_p)
        cols.append(sc + col)
        vals.append(sv)
        seg_cols.append([(col + j, t) for j, t in enumerate(mine)])
        col += len(mine)
    x_end = col
    for g in range(1, n_seg):  # z_g: the inner events of group g - 1, as many per activity as it has
        counts: dict[str, int] = {}
        for a in trace[bounds[g - 1] + 1:bounds[g]]:
            counts[a] = counts.get(a, 0) + 1
        for a, k in counts.items():
            for t in me.transitions_of[a]:
                zr, zc, zv = _effects(me, [t])
                rows += [zr + g * n_p, np.asarray([act_row], np.int64)]
                cols += [zc + col, np.asarray([col], np.int64)]
                vals += [zv, np.ones(1)]
                seg_cols[g].append((col, t))
                col += 1
            rhs_extra.append(float(k))
            act_row += 1
    conv0 = act_row
    y_start = col
    y_cols: list[list[tuple[int, int]]] = []
    for g, e in enumerate(starts):  # y_g: takes its inputs in segment g's rows, gives its outputs in g + 1's
        mine = []
        for t in me.transitions_of[trace[e]]:
            r = [g * n_p + p for p, _w in net.pre[t]] + [(g + 1) * n_p + p for p, _w in net.post[t]] + [conv0 + g]
            v = [-float(w) for _p, w in net.pre[t]] + [float(w) for _p, w in net.post[t]] + [1.0]
            rows.append(np.asarray(r, np.int64))
            cols.append(np.full(len(r), col, np.int64))
            vals.append(np.asarray(v))
            mine.append((col, t))
            col += 1
        y_cols.append(mine)
    y_end = col
    places = np.arange(n_p)
    for g in range(len(starts)):  # R_g: what is left before event starts[g]'s move, carried to segment g + 1
        c = col + g * n_p + places
        rows += [g * n_p + places, (g + 1) * n_p + places]
        cols += [c, c]
        vals += [-np.ones(n_p), np.ones(n_p)]
    n_cols, n_rows = col + len(starts) * n_p, conv0 + len(starts)
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    v = np.concatenate(vals)
    order = np.lexsort((r, c))
    r, c, v = r[order], c[order], v[order]
    rhs = np.zeros(n_rows)
    rhs[:n_p] = -np.asarray(net.initial if start is None else start, dtype=np.float64)
    rhs[(n_seg - 1) * n_p:n_seg * n_p] += np.asarray(net.final, dtype=np.float64)
    rhs[n_seg * n_p:conv0] = rhs_extra
    rhs[conv0:] = 1.0
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    cost = np.zeros(n_cols)
    cost[:x_end] = 1.0
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(n_cols)
    upper = np.full(n_cols, highspy.kHighsInf)
    upper[y_start:y_end] = 1.0
    lp.col_upper_ = upper
    lp.row_lower_ = rhs
    lp.row_upper_ = rhs.copy()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.searchsorted(c, np.arange(n_cols + 1)).astype(np.int32)
    lp.a_matrix_.index_ = r.astype(np.int32)
    lp.a_matrix_.value_ = v
    h = me.new_solver()
    if deadline is not None:
        left = deadline - time.perf_counter()
        if left <= 0:
            return None
        h.setOptionValue("time_limit", float(left))
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None  # no fitting run at all (or out of time)
    sol = np.asarray(h.getSolution().col_value)
    rounded = np.rint(sol[:y_end])
    off = np.abs(sol[:y_end] - rounded) > _EPS
    fractional: set[int] = set()
    x_of: list[dict[int, int]] = []
    for g, mine in enumerate(seg_cols):
        x_of.append({t: int(rounded[cc]) for cc, t in mine if rounded[cc] > 0})
        if any(off[cc] for cc, _t in mine):
            fractional.add(g)
    y_of: list[int | None] = []
    for g, mine in enumerate(y_cols):
        chosen = [t for cc, t in mine if rounded[cc] == 1]
        if len(chosen) != 1 or any(off[cc] for cc, _t in mine):
            fractional.add(g)
        y_of.append(chosen[0] if len(chosen) == 1 else None)
    return max(0, math.ceil(h.getObjectiveValue() - _EPS)), x_of, y_of, sorted(fractional)


def _helpers(net, events: Sequence[str]) -> list[int]:  # noqa: ANN001
    """The silent transitions that can help enable any of ``events`` (sorted; see ``CompiledNet._leading_to``)."""
    out: set[int] = set()
    for a in set(events):
        out |= net._leading_to(a)
    return sorted(out)


def _effects(me: MarkingEquation, transitions: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(place, column, change)`` of each transition's effect on the places (columns numbered from 0)."""
    parts = [me.effect[t] for t in transitions]
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)
    sizes = [len(p) for p, _v in parts]
    return (np.concatenate([p for p, _v in parts]), np.repeat(np.arange(len(parts), dtype=np.int64), sizes),
            np.concatenate([v for _p, v in parts]))


def _order(net, m: Marking, need: dict[int, int], events: Sequence[str] = ()) -> list[int] | None:  # noqa: ANN001
    """A firing sequence of exactly the multiset ``need`` from ``m`` whose visible firings have the labels ``events``
    in that order (depth first, failed states remembered).

    A needed transition that is enabled, may fire now (silent, or the next event's) and shares no input place
    with any other transition still needed is fired without trying the others: moved to the front of any
    completion it leaves every other firing enabled (it takes no token they need), so no order is lost. Only
    choices (shared input places) branch; concurrent silent steps are not interleaved (a segment of 21 silent
    steps on bpic2019 p2p's inductive net ran out of the budget before).
    """
    need = dict(need)
    left = sum(need.values())
    if left > ORDER_BUDGET // 10:
        return None  # (depth-first: one frame per firing)
    labels = net.labels
    rivals = _rivals(net)
    out: list[int] = []
    failed: set[tuple[int, tuple[tuple[int, int], ...]]] = set()
    tries = 0

    def go(m: Marking, left: int, k: int) -> bool:
        nonlocal tries
        if not left:
            return True
        key = (k, tuple(sorted((t, c) for t, c in need.items() if c)))  # the marking follows from what is left
        if key in failed:
            return False
        options = [(t, m2) for t, m2 in net.successors(m)
                   if need.get(t, 0) > 0 and (labels[t] is None or (k < len(events) and labels[t] == events[k]))]
        for t, m2 in options:
            if not any(need.get(u, 0) for u in rivals[t]):
                options = [(t, m2)]
                break
        for t, m2 in options:
            tries += 1
            if tries > ORDER_BUDGET:
                return False
            need[t] -= 1
            out.append(t)
            if go(m2, left - 1, k if labels[t] is None else k + 1):
                return True
            out.pop()
            need[t] += 1
        failed.add(key)
        return False

    return out if go(m, left, 0) else None


def _rivals(net) -> tuple[frozenset[int], ...]:  # noqa: ANN001
    """Per transition, the other transitions that share an input place with it (computed once per net)."""
    found = net.__dict__.get("_rivals")
    if found is None:
        found = tuple(frozenset(u for p, _w in net.pre[t] for u in net.consumers[p] if u != t)
                      for t in range(len(net.labels)))
        net.__dict__["_rivals"] = found
    return found
