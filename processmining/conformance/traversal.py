"""How often each BPMN element and sequence flow was traversed, read off the alignments.

An alignment lists the visible steps of the model run it chose (synchronous
and model moves); the silent steps in between (gateways, events) are folded
away by the search. :func:`model_run` puts them back: the cheapest silent
interleaving that fires exactly those visible transitions in that order --
as cheap as the alignment's own, so it is an optimal alignment too. Each
transition of the net carries the BPMN elements it executes and the sequence
flows it marks (recorded while the net is built and kept through the
silent-step reductions, see :class:`processmining.bpmn.netcore.Trans`), so
summing them along the run gives the traversals of one variant; multiplied
by the variant's number of cases, the log's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from .alignment import MOVE_COST, AlignmentResult, CompiledNet, Marking
from .net import silent_path

#: (elements executed, sequence flows marked) by one firing, with repetitions
Record = tuple[tuple[str, ...], tuple[str, ...]]


def model_run(net: CompiledNet, visible: Sequence[int], *, prefix: bool = False,
              max_cost: int | None = None) -> list[int] | None:
    """Every transition (silent ones too) of the cheapest run that fires ``visible`` in order.

    ``visible`` are transition indices of ``net``. The run ends in the final
    marking, or (``prefix``) right after the last visible step, in a marking
    from which the final marking can still be reached. ``None`` when there is
    no such run. ``max_cost``: the silent cost of a run known to exist (the
    alignment's); markings that cannot lead to a run that cheap are dropped.

    First the lazy run (before each visible step only the silent steps it
    needs): when it is as cheap as ``max_cost`` it is an optimal run. Else one
    layer of markings per visible step, each reached through the net's
    memoised silent closures (shared with the alignments), keeping the least
    silent cost; only the chosen run's silent segments are searched again, to
    list their transitions.

    >>> net = CompiledNet.from_arcs(places=3, transitions=[("a", "A", ((0, 1),), ((1, 1),)),
    ...     ("tau", None, ((1, 1),), ((2, 1),))], initial={0: 1}, final={2: 1})
    >>> model_run(net, [0])
    [0, 1]
    """
    if max_cost is not None:
        quick = _lazy_run(net, visible, prefix=prefix, max_cost=max_cost)
        if quick is not None:
            return quick
    tau_dist = net._tau_dist if not prefix else None
    bound = _INF if max_cost is None else max_cost
    layer: dict[Marking, int] = {net.initial: 0}
    links: list[dict[Marking, Marking]] = []  # per step: marking after it -> marking before its silent steps
    for t in visible:
        label = net.labels[t]
        nxt: dict[Marking, int] = {}
        link: dict[Marking, Marking] = {}
        for m, g in layer.items():
            for t2, m2, d in net.sync_steps(m, label):  # type: ignore[arg-type]
                if t2 != t or g + d >= nxt.get(m2, _INF):
                    continue
                rest = 0 if tau_dist is None else tau_dist.get(m2, _INF)
                if g + d + rest <= bound:
                    nxt[m2] = g + d
                    link[m2] = m
        if not nxt:
            return None
        links.append(link)
        layer = nxt
    tau_dist = net._tau_dist
    end: tuple[int, Marking, Marking] | None = None  # (cost, marking after the last visible step, last marking)
    for m, g in layer.items():
        if prefix:
            if (tau_dist is None or m in tau_dist) and (end is None or g < end[0]):
                end = (g, m, m)
        else:
            d = net.silent_closure(m).get(net.final)
            if d is not None and (end is None or g + d < end[0]):
                end = (g + d, m, net.final)
    if end is None:
        return None
    _cost, m, last = end
    run = _silent_path(net, m, last)
    for t, link in zip(reversed(visible), reversed(links), strict=True):
        before = link[m]
        silent, x = _silent_path_to(net, before, t, m)
        run = silent + [t] + run
        m = before
    return run


_INF = 1 << 62


def _lazy_run(net: CompiledNet, visible: Sequence[int], *, prefix: bool, max_cost: int) -> list[int] | None:
    """Fire each visible step after the fewest silent steps that enable it; ``None`` unless that costs ``max_cost``."""
    m = net.initial
    run: list[int] = []
    for t in visible:
        pre = net.pre[t]
        try:
            silent, m = _search(net, m, lambda x, pre=pre: all(x[p] >= w for p, w in pre))
        except ValueError:
            return None
        run += silent
        run.append(t)
        m = _fire(net, m, t)
        if len(run) > len(visible) + max_cost:
            return None
    if prefix:
        tau_dist = net._tau_dist
        if tau_dist is not None and m not in tau_dist:
            return None
    else:
        try:
            silent, m = _search(net, m, lambda x: x == net.final)
        except ValueError:
            return None
        run += silent
    return run if len(run) - len(visible) == max_cost else None


def _fire(net: CompiledNet, m: Marking, t: int) -> Marking:
    for t2, m2 in net.successors(m):
        if t2 == t:
            return m2
    raise ValueError(f"transition {net.names[t]} is not enabled")


def _silent_path(net: CompiledNet, start: Marking, goal: Marking) -> list[int]:
    """The silent transitions of a shortest silent path from ``start`` to ``goal``."""
    path, _x = _search(net, start, lambda m: m == goal)
    return path


def _silent_path_to(net: CompiledNet, start: Marking, t: int, after: Marking) -> tuple[list[int], Marking]:
    """A shortest silent path from ``start`` to a marking where firing ``t`` gives ``after``."""
    return _search(net, start, lambda m: any(t2 == t and m2 == after for t2, m2 in net.successors(m)))


def _search(net: CompiledNet, start: Marking, goal) -> tuple[list[int], Marking]:  # noqa: ANN001
    """Breadth-first over silent steps (unit costs, so the first goal found is a cheapest one)."""
    parent: dict[Marking, tuple[Marking, int] | None] = {}
    for m, _d in net.silent_walk(start, parent):
        if goal(m):
            return silent_path(parent, m), m
    raise ValueError("no silent path between two markings of a silent closure")


def traversal_counts(
    net: CompiledNet,
    records: Mapping[str, Record],
    initial: Record,
    alignments: Sequence[AlignmentResult | None],
    prefix: Sequence[bool],
    cases: np.ndarray,
) -> tuple[dict[str, int], dict[str, int], int]:
    """``(element_counts, flow_counts, untraced_cases)`` over all variants.

    ``alignments[v]`` is variant ``v``'s alignment (``None``: not computed, not
    counted), ``prefix[v]`` whether it was aligned as a running case,
    ``cases[v]`` its number of cases. ``records`` maps transition names to
    their :data:`Record`; ``initial`` is what the initial marking already did
    (a start event and its flow folded into it). ``untraced_cases``: cases of
    aligned variants whose run could not be rebuilt (none in practice).
    """
    index = {name: i for i, name in enumerate(net.names)}
    # the counts are linear in the firings: per transition, how often the runs fire it (times their cases);
    # the records are added up once at the end, so nothing per variant and element is held
    fired = np.zeros(len(net.names), dtype=np.int64)
    traced = 0
    untraced = 0
    for v, res in enumerate(alignments):
        if res is None:
            continue
        if res.run is not None and not prefix[v]:
            run: Sequence[int] | None = res.run  # the search kept the whole run, silent steps included
        else:
            visible = [index[m.transition] for m in res.moves if m.kind in ("sync", "model") and m.transition in index]
            moves = sum(m.kind in ("log", "model") for m in res.moves)
            run = model_run(net, visible, prefix=bool(prefix[v]), max_cost=res.cost - MOVE_COST * moves)
        if run is None:
            untraced += int(cases[v])
            continue
        traced += int(cases[v])
        if run:
            fired += np.bincount(np.asarray(run, dtype=np.intp), minlength=len(fired)) * int(cases[v])
    out: list[dict[str, int]] = []
    for side in (0, 1):
        totals: Counter[str] = Counter()
        for key in initial[side]:
            totals[key] += traced
        for t in np.flatnonzero(fired):
            n = int(fired[t])
            for key in records.get(net.names[t], ((), ()))[side]:
                totals[key] += n
        out.append({key: totals[key] for key in sorted(totals) if totals[key]})
    return out[0], out[1], untraced
