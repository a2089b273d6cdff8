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
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .net import MOVE_COST, Marking

if TYPE_CHECKING:
    from .equation import MarkingEquation

_INF = 1 << 62
_EPS = 1e-6


class SplitEquation:
    """The extended marking equation of ``trace`` with ``splits`` (sorted event positions), on one HiGHS model."""

    def __init__(self, me: MarkingEquation, trace: Sequence[str], splits: Sequence[int]) -> None:
        import highspy

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
        h.run()
        self.solved += 1
        if h.getModelStatus() != self._optimal:
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



#: traces up to this many events get the certified fitting plan first (:func:`fitting_run`); the all-split
#: LP grows with the trace (bpic2019 p2p: about 0.05 s cold at 10 events, 3-4 s at 80 under load 8-10)
PLAN_MAX_EVENTS = 100
#: firings one segment's ordering may try before the plan is given up (a plan that cannot be ordered)
ORDER_BUDGET = 5_000


def fitting_run(me: MarkingEquation, trace: Sequence[str]) -> tuple[int, list[int], list[int]] | None:
    """A fitting alignment proven optimal by the extended marking equation with every event a split point.

    ``(cost, run, positions)``: ``run`` lists every transition fired (silent
    ones too), ``positions[k]`` the index in ``run`` of event ``k``'s
    synchronous move; ``cost`` is the run's number of silent steps. ``None``
    when there is no such certificate: an event the model lacks, a bound of a
    log or model move (10,000) or more, a fractional LP solution, or a plan
    whose firings cannot be put in order.

    With a split point at every event the LP's segments are the stretches of
    silent steps between two synchronous moves, each a marking equation of its
    own; its optimum is a lower bound of every alignment's cost
    (:class:`SplitEquation`). When the optimum is integral and each segment's
    silent firings can be put in an order the net allows, the plan *is* an
    alignment of that cost, hence an optimal one. On the inductive-miner net
    of bpic2019 p2p the bound equalled the optimum on every variant sampled;
    one LP per variant replaces the 100-200 of the search (whose states are
    the interleavings of silent steps).
    """
    net = me.net
    n = len(trace)
    if not n or n > PLAN_MAX_EVENTS or any(a not in me.transitions_of for a in trace):
        return None
    eq = SplitEquation(me, trace, range(1, n))
    bound, _vec = eq.solve(net.initial, 0)
    if bound >= MOVE_COST:
        return None
    x = np.asarray(eq._highs.getSolution().col_value)
    r = np.rint(x)
    if np.abs(x - r).max() > _EPS:
        return None
    r = r.astype(np.int64)
    labels = net.labels
    n_t, width = eq.n_t, eq.width
    # the synchronous move of each event: event 0 in segment 0's z columns, event a >= 1 in its y columns
    sync_of: list[int] = []
    col = eq.y_first
    y_of: dict[int, int] = {}
    for a, s in enumerate(eq.splits, start=1):
        for t in me.transitions_of[trace[s]]:
            if r[col]:
                y_of[a] = t
            col += 1
    m = net.initial
    run: list[int] = []
    positions: list[int] = []
    for a in range(n):
        if a:
            t = y_of.get(a)
            m2 = None if t is None else dict(net.successors(m)).get(t)
            if m2 is None:
                return None
            positions.append(len(run))
            run.append(t)  # type: ignore[arg-type]
            m = m2
        block = r[a * width:(a + 1) * width]
        need: dict[int, int] = {}
        for t in np.flatnonzero(block[:n_t]):
            if labels[t] is not None:
                return None  # a model move: not a fitting plan
            need[int(t)] = int(block[t])
        for k in np.flatnonzero(block[n_t:]):
            need[me.visible[k]] = need.get(me.visible[k], 0) + int(block[n_t + k])  # event 0's synchronous move
        order = _order(net, m, need)
        if order is None:
            return None
        for t in order:
            if labels[t] is not None:
                positions.append(len(run))
            run.append(t)
            m = dict(net.successors(m))[t]
    if m != net.final or len(positions) != n:
        return None
    cost = sum(1 for t in run if labels[t] is None)
    return (cost, run, positions) if cost == bound else None


def _order(net, m: Marking, need: dict[int, int]) -> list[int] | None:  # noqa: ANN001
    """A firing sequence of exactly the multiset ``need`` from ``m`` (depth first, failed states remembered)."""
    left = sum(need.values())
    if left > ORDER_BUDGET // 10:
        return None  # (depth-first: one frame per firing)
    out: list[int] = []
    failed: set[tuple[Marking, tuple[tuple[int, int], ...]]] = set()
    tries = 0

    def go(m: Marking, left: int) -> bool:
        nonlocal tries
        if not left:
            return True
        key = (m, tuple(sorted((t, c) for t, c in need.items() if c)))
        if key in failed:
            return False
        for t, m2 in net.successors(m):
            if need.get(t, 0) > 0:
                tries += 1
                if tries > ORDER_BUDGET:
                    return False
                need[t] -= 1
                out.append(t)
                if go(m2, left - 1):
                    return True
                out.pop()
                need[t] += 1
        failed.add(key)
        return False

    return out if go(m, left) else None
