"""ETC precision on the compiled net, over the prefix tree of the variants.

pm4py counts every prefix of every case and replays each distinct prefix on
its own. Here the variants form one prefix tree: each node (a distinct
prefix) is computed once from its parent -- one step of the net's memoised
state space -- and weighted by the number of cases that continue after it.
The tree is walked depth first over the sorted variants and never built:
only the prefixes of one trace are held. No pm4py, no per-case work.

Two flavours, as pm4py has them:

* :func:`etc_precision` -- ``pm4py.precision_token_based_replay``: after a
  prefix the model is in the one marking pm4py's token replay reaches (its
  silent-step heuristic, ported step for step in :mod:`.tokenstep`); a
  prefix that replay cannot do is left out, even where another silent route
  exists. ``replay="cheapest"`` is the documented alternative: each event
  fires after the fewest silent steps that enable it, and only prefixes no
  silent route can replay are left out.
* :func:`align_etc_precision` -- ``pm4py.precision_alignments``: after a
  prefix the model is in every marking that an optimal prefix alignment made
  of synchronous and silent moves only can stop in; a prefix with no such
  alignment (an event the model cannot do there) is left out.

In both, the activities "activated" after a prefix are the visible
transitions enabled from those markings through silent steps, the
"escaping" ones those activated that no case does next, and precision is
``1 - Σ escaping / Σ activated`` over all prefixes weighted by cases (the
empty prefix included, with the log's start activities).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Literal

import numpy as np

from ..model import ProgressFn, no_progress
from .alignment import CompiledNet, Marking
from .tokenstep import TokenReplayStep


def etc_precision(net: CompiledNet, traces: Sequence[Sequence[str]], counts: np.ndarray, *, deadline: float | None = None,
                  progress: ProgressFn = no_progress, replay: Literal["pm4py", "cheapest"] = "pm4py") -> float | None:
    """pm4py's ``precision_token_based_replay`` on ``net`` for variants ``traces`` with ``counts`` cases each.

    Events whose activity the net does not have are skipped (as pm4py's replay
    does). ``replay="pm4py"`` replays each prefix as pm4py's token replay does
    (identical values); ``replay="cheapest"`` walks the cheapest silent route
    instead (never gives up on a prefix the model can do). Returns ``None``
    for an empty log, or when ``deadline`` (a ``time.perf_counter()`` value)
    passes first.
    """
    if len(traces) == 0:
        return None
    known = net.visible_labels
    stepper = TokenReplayStep.of(net) if replay == "pm4py" else None

    def fire(m: Marking, a: str) -> Marking | None:
        if a not in known:
            return m
        if stepper is not None:
            return stepper.fire(m, a)
        steps = net.sync_steps(m, a)
        return steps[0][1] if steps else None

    sums = _prefix_sums(traces, counts, net.initial, fire, net.visible_after, deadline, progress)
    return None if sums is None else _precision(*sums, _root_counts(net, traces, counts))


def align_etc_precision(net: CompiledNet, traces: Sequence[Sequence[str]], counts: np.ndarray, *, deadline: float | None = None,
                        progress: ProgressFn = no_progress) -> float | None:
    """pm4py's ``precision_alignments`` (align-ETC) on ``net``; ``None`` for an empty log.

    Per prefix the layer ``{marking: least silent cost}`` of the markings right
    after its last synchronous move is derived from the parent prefix's layer;
    the markings of least cost are where optimal prefix alignments stop (no
    such alignment, an event the model cannot do there: the prefix and its
    extensions are left out). ``None`` also when ``deadline`` passes first.
    """
    if len(traces) == 0:
        return None

    # Prefixes of different variants often end in the same layer up to a constant cost (a loop gone round
    # once more, the same activities in another order): the step is computed once per relative layer.
    memo: dict[tuple[frozenset[tuple[Marking, int]], str], tuple[dict[Marking, int] | None, int]] = {}
    held = [0]  # markings referenced by the memo's keys and layers

    def fire(before: dict[Marking, int], a: str) -> dict[Marking, int] | None:
        least = min(before.values())
        key = (frozenset((m, g - least) for m, g in before.items()), a)
        found = memo.get(key)
        if found is None:
            layer = net.sync_layer(before, a) or None
            held[0] += len(before) + len(layer or ())
            if held[0] > _LAYER_MEMO_MARKINGS:  # bounded: start again rather than hold every layer of a huge log
                memo.clear()
                held[0] = len(before) + len(layer or ())
            found = memo[key] = (layer, least)
        layer, at = found
        if layer is None or at == least:
            return layer
        return {m: g - at + least for m, g in layer.items()}

    def activated(layer: dict[Marking, int]) -> set[str]:
        least = min(layer.values())
        out: set[str] = set()
        for m, g in layer.items():
            if g == least:
                out |= net.visible_after(m)
        return out

    sums = _prefix_sums(traces, counts, {net.initial: 0}, fire, activated, deadline, progress)
    return None if sums is None else _precision(*sums, _root_counts(net, traces, counts))


_LAYER_MEMO_MARKINGS = 500_000  # about 50 MB of keys and layers at most


def _precision(sum_at: int, sum_ee: int, root: tuple[int, int]) -> float:
    sum_at, sum_ee = sum_at + root[0], sum_ee + root[1]
    return 1.0 - sum_ee / sum_at if sum_at > 0 else 1.0


def _prefix_sums(traces: Sequence[Sequence[str]], counts: np.ndarray, initial: Any,
                 fire: Callable[[Any, str], Any], activated: Callable[[Any], AbstractSet[str]],
                 deadline: float | None, progress: ProgressFn) -> tuple[int, int] | None:
    """``(Σ activated, Σ escaping)`` over the non-empty prefixes of the variants, each prefix once, weighted by
    the cases that continue after it; None when ``deadline`` passes first.

    The traces are walked in sorted order, so the variants sharing a prefix come one after the other: only
    the prefixes of the current trace are held (a depth-first walk of the prefix tree without building it).
    A prefix's state is ``fire(parent's state, activity)`` (None: the prefix and its extensions are left
    out); when the walk leaves a prefix, its ``activated(state)`` are counted against the activities the
    cases do next.
    """
    seqs = [tuple(t) for t in traces]
    weights = counts.tolist()
    order = sorted(range(len(seqs)), key=seqs.__getitem__)
    # per prefix of the current trace (depth 1, 2, ...): state, cases that continue after it, next activities
    states: list[Any] = []
    cont: list[int] = []
    nexts: list[set[str]] = []
    sum_at = sum_ee = 0

    def leave(depth: int) -> None:  # count the prefixes deeper than ``depth``, deepest first
        nonlocal sum_at, sum_ee
        while len(states) > depth:
            state, c, after = states.pop(), cont.pop(), nexts.pop()
            if state is not None and c:
                act = activated(state)
                sum_at += len(act) * c
                sum_ee += len(act - after) * c

    previous: tuple[str, ...] = ()
    step = min(256, max(1, len(seqs) // 100))
    for n, i in enumerate(order):
        if n % step == 0:
            progress(n, len(seqs), "precision")
            if deadline is not None and time.perf_counter() > deadline:
                return None
        trace, c = seqs[i], weights[i]
        shared = 0
        for a, b in zip(previous, trace):  # noqa: B905 - the common prefix of two traces of any lengths
            if a != b:
                break
            shared += 1
        leave(shared)
        for d in range(shared, len(trace)):
            parent = states[d - 1] if d else initial
            states.append(None if parent is None else fire(parent, trace[d]))
            cont.append(0)
            nexts.append(set())
        for d in range(len(trace) - 1):  # the prefixes this trace continues after (the empty one: root counts)
            cont[d] += c
            nexts[d].add(trace[d + 1])
        previous = trace
    leave(0)
    progress(len(seqs), len(seqs), "precision")
    return sum_at, sum_ee


def _root_counts(net: CompiledNet, traces: Sequence[Sequence[str]], counts: np.ndarray) -> tuple[int, int]:
    """The empty prefix, as pm4py counts it: every case, against the log's start activities."""
    initially = net.visible_after(net.initial)
    starts = {t[0] for t in traces if len(t)}
    n = int(counts.sum())
    return n * len(initially), n * len(initially - starts)
