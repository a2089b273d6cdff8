"""ETC precision on the compiled net, over the prefix tree of the variants.

pm4py counts every prefix of every case and replays each distinct prefix on
its own. Here the variants form one prefix tree: each node (a distinct
prefix) is computed once from its parent -- one step of the net's memoised
state space -- and weighted by the number of cases that continue after it.
No pm4py, no per-case work.

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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..model import ProgressFn, no_progress
from .alignment import CompiledNet, Marking
from .tokenstep import TokenReplayStep


@dataclass(frozen=True)
class PrefixTree:
    """The variants' prefixes, each once: node 0 is the empty prefix; parents come before children.

    ``parent[k]`` and ``label[k]`` say how node ``k`` extends its parent;
    ``children[k]`` maps the next activity to the child node; ``cont[k]`` is the
    number of cases whose trace continues after the prefix ``k``.
    """

    parent: list[int]
    label: list[str | None]
    children: list[dict[str, int]]
    cont: list[int]

    @classmethod
    def build(cls, traces: Sequence[Sequence[str]], counts: Sequence[int]) -> PrefixTree:
        parent, label, children, cont = [-1], [None], [{}], [0]
        for trace, c in zip(traces, counts, strict=True):
            node = 0
            for a in trace:
                cont[node] += c
                kids = children[node]
                nxt = kids.get(a)
                if nxt is None:
                    nxt = len(parent)
                    kids[a] = nxt
                    parent.append(node)
                    label.append(a)
                    children.append({})
                    cont.append(0)
                node = nxt
        return cls(parent, label, children, cont)

    def __len__(self) -> int:
        return len(self.parent)


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
    tree = PrefixTree.build(traces, counts.tolist())
    known = net.visible_labels
    state: list[Marking | None] = [net.initial] + [None] * (len(tree) - 1)
    sum_at, sum_ee = _root_counts(net, traces, counts)
    stepper = TokenReplayStep.of(net) if replay == "pm4py" else None
    step = min(256, max(1, len(tree) // 100))
    for k in range(1, len(tree)):
        if k % step == 0:
            progress(k, len(tree), "precision")
            if deadline is not None and time.perf_counter() > deadline:
                return None
        m = state[tree.parent[k]]
        if m is None:
            continue
        a = tree.label[k]
        if a in known:
            if stepper is not None:
                m = stepper.fire(m, a)  # type: ignore[arg-type]
            else:
                steps = net.sync_steps(m, a)  # type: ignore[arg-type]
                m = steps[0][1] if steps else None
        state[k] = m
        if m is None or not tree.cont[k]:
            continue
        activated = net.visible_after(m)
        sum_at += len(activated) * tree.cont[k]
        sum_ee += len(activated - tree.children[k].keys()) * tree.cont[k]
    progress(len(tree), len(tree), "precision")
    return 1.0 - sum_ee / sum_at if sum_at > 0 else 1.0


def align_etc_precision(net: CompiledNet, traces: Sequence[Sequence[str]], counts: np.ndarray, *, deadline: float | None = None,
                        progress: ProgressFn = no_progress) -> float | None:
    """pm4py's ``precision_alignments`` (align-ETC) on ``net``; ``None`` for an empty log.

    Per prefix node the layer ``{marking: least silent cost}`` of the markings
    right after its last synchronous move is derived from the parent's layer;
    the markings of least cost are where optimal prefix alignments stop. The
    tree is walked depth first, so only the layers along one path are held.
    ``None`` also when ``deadline`` passes first.
    """
    if len(traces) == 0:
        return None
    tree = PrefixTree.build(traces, counts.tolist())
    sum_at, sum_ee = _root_counts(net, traces, counts)
    layers: dict[int, dict[Marking, int]] = {0: {net.initial: 0}}
    left = [len(c) for c in tree.children]
    stack = list(reversed(tree.children[0].values()))
    done = 0
    step = min(256, max(1, len(tree) // 100))
    while stack:
        k = stack.pop()
        done += 1
        if done % step == 0:
            progress(done, len(tree), "precision")
            if deadline is not None and time.perf_counter() > deadline:
                return None
        p = tree.parent[k]
        before = layers[p]
        left[p] -= 1
        if not left[p]:
            del layers[p]
        a = tree.label[k]
        layer: dict[Marking, int] = {}
        for m, g in before.items():
            for _t, m2, d in net.sync_steps(m, a):  # type: ignore[arg-type]
                if g + d < layer.get(m2, 1 << 62):
                    layer[m2] = g + d
        if not layer:
            continue  # no prefix alignment without log moves: the whole subtree is left out
        if tree.cont[k]:
            least = min(layer.values())
            activated: set[str] = set()
            for m, g in layer.items():
                if g == least:
                    activated |= net.visible_after(m)
            sum_at += len(activated) * tree.cont[k]
            sum_ee += len(activated - tree.children[k].keys()) * tree.cont[k]
        if left[k]:
            layers[k] = layer
            stack.extend(reversed(tree.children[k].values()))
    progress(len(tree), len(tree), "precision")
    return 1.0 - sum_ee / sum_at if sum_at > 0 else 1.0


def _root_counts(net: CompiledNet, traces: Sequence[Sequence[str]], counts: np.ndarray) -> tuple[int, int]:
    """The empty prefix, as pm4py counts it: every case, against the log's start activities."""
    initially = net.visible_after(net.initial)
    starts = {t[0] for t in traces if len(t)}
    n = int(counts.sum())
    return n * len(initially), n * len(initially - starts)
