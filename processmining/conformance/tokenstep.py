"""pm4py's token-replay step on a compiled net: the marking ETC precision (token-based) is defined with.

pm4py's ``precision_token_based_replay`` replays every prefix of the log
with its token replay (``walk_through_hidden_trans``,
``stop_immediately_unfit``): before an event whose transition is not
enabled it fires silent transitions chosen by a heuristic (shortest silent
paths between places, two levels of recursion), and when that does not
enable the transition the prefix is "unfit" and left out of the measure,
even if some other silent route exists. The marking reached is the one the
heuristic leads to, not necessarily the cheapest. To be *identical* to
pm4py, this module ports that step (``apply_hidden_trans`` and
``enable_hidden_transitions`` of ``pm4py.algo.conformance.tokenreplay``,
non-exhaustive variant) to :class:`CompiledNet`, whose transitions and places
are indexed in name order, the order pm4py sorts them in. Where pm4py
iterates a set of arcs (the shortest-path table, ties between equally short
silent paths) its order is by object address; here it is by index, which
agrees whenever the shortest silent path between two places is unique.

The step depends only on the marking and the activity, so it is computed
once per (marking, activity) and shared by every prefix of every variant.

>>> net = CompiledNet.from_arcs(places=3, transitions=[
...     ("a", "A", ((0, 1),), ((1, 1),)), ("skip", None, ((1, 1),), ((2, 1),)), ("b", "B", ((2, 1),), ((2, 1),))],
...     initial={0: 1}, final={2: 1})
>>> steps = TokenReplayStep(net)
>>> steps.fire((0, 1, 0), "B")   # the silent "skip" is walked through
(0, 0, 1)
>>> steps.fire((1, 0, 0), "B") is None   # no silent path enables B: pm4py's replay gives up
True
"""

from __future__ import annotations

from .net import CompiledNet, Marking

#: pm4py's TechnicalParameters.MAX_REC_DEPTH (shortest-path table) and MAX_REC_DEPTH_HIDTRANSENABL
_MAX_PATH_DEPTH = 50
_MAX_HIDDEN_DEPTH = 2


class TokenReplayStep:
    """pm4py's replay of one event from a marking, memoised per (marking, activity)."""

    def __init__(self, net: CompiledNet) -> None:
        self.net = net
        # pm4py's trans_map: one transition per label, the last in name order
        self.by_label: dict[str, int] = {}
        for t, lbl in enumerate(net.labels):
            if lbl is not None:
                self.by_label[lbl] = t
        self.paths = _places_shortest_path_by_hidden(net)
        self._memo: dict[tuple[Marking, str], Marking | None] = {}

    @classmethod
    def of(cls, net: CompiledNet) -> TokenReplayStep:
        """The net's stepper, built once per process and kept on the net (not pickled)."""
        found = net.__dict__.get("_token_step")
        if found is None:
            found = net.__dict__["_token_step"] = cls(net)
        return found

    def fire(self, m: Marking, label: str) -> Marking | None:
        """The marking after replaying ``label`` from ``m``; ``None`` when pm4py's replay finds it unfit.

        An activity the net does not have leaves the marking as it is (pm4py skips it).
        """
        key = (m, label)
        if key in self._memo:
            return self._memo[key]
        t = self.by_label.get(label)
        if t is None:
            out: Marking | None = m
        else:
            for t2, _m2 in self.net.successors(m):  # an enabled transition with the label goes first
                if self.net.labels[t2] == label:
                    t = t2
                    break
            x = m
            if not self._enabled(t, x):
                x = self._apply_hidden(t, x, 0, set())
            out = self._fire(t, x) if self._enabled(t, x) else None
        self._memo[key] = out
        return out

    # -- pm4py's semantics on tuples
    def _enabled(self, t: int, m: Marking) -> bool:
        return all(m[p] >= w for p, w in self.net.pre[t])

    def _fire(self, t: int, m: Marking) -> Marking:
        new = list(m)
        for p, w in self.net.pre[t]:
            new[p] -= w
        for p, w in self.net.post[t]:
            new[p] += w
        return tuple(new)

    def _hidden_to_enable(self, m: Marking, missing: list[int]) -> list[list[int]]:
        """pm4py's get_hidden_transitions_to_enable: paths from marked to missing places, shortest first."""
        out = []
        for p1 in (p for p, n in enumerate(m) if n):
            row = self.paths.get(p1)
            if row is None:
                continue
            for p2 in missing:
                path = row.get(p2)
                if path is not None:
                    out.append(path)
        out.sort(key=len)  # stable, as Python's sorted in pm4py
        return out

    def _apply_hidden(self, t: int, m: Marking, depth: int, visited: set[int]) -> Marking:
        """pm4py's apply_hidden_trans (the non-exhaustive exploration), step for step."""
        if depth >= _MAX_HIDDEN_DEPTH or t in visited:
            return m
        visited.add(t)
        start = m
        missing = sorted(p for p, w in self.net.pre[t] if m[p] < w)
        groups = self._hidden_to_enable(m, missing)
        if groups:
            m = self._enable_hidden(m, visited, groups, t)
            if not self._enabled(t, m):
                for group in self._hidden_to_enable(m, missing):
                    for t4 in group:
                        if t4 != t and t4 not in visited:
                            if not self._enabled(t4, m):
                                m = self._apply_hidden(t4, m, depth + 1, visited)
                            if self._enabled(t4, m):
                                m = self._fire(t4, m)
                                visited.add(t4)
            if not self._enabled(t, m) and start != m:
                m = self._apply_hidden(t, m, depth + 1, visited)
        return m

    def _enable_hidden(self, m: Marking, visited: set[int], groups: list[list[int]], t: int) -> Marking:
        """pm4py's enable_hidden_transitions (non-exhaustive): walk the groups round robin."""
        j = [0] * len(groups)
        z = 0
        while True:
            g = z % len(groups)
            group = groups[g]
            changed = False
            for _k in range(j[g], len(group)):
                t3 = group[j[g]]
                if t3 != t and self._enabled(t3, m) and t3 not in visited:
                    m = self._fire(t3, m)
                    visited.add(t3)
                    changed = True
                j[g] += 1
                if self._enabled(t, m):
                    break
            if self._enabled(t, m) or not changed:
                return m
            z += 1


def _places_shortest_path_by_hidden(net: CompiledNet) -> dict[int, dict[int, list[int]]]:
    """pm4py's get_places_shortest_path_by_hidden: per place, the fewest silent transitions to each place.

    A depth-first walk over silent transitions (depth at most 50), replacing a
    path only by a strictly shorter one, as pm4py does; arcs in index order.
    """
    labels = net.labels
    silent_out: list[list[tuple[int, list[int]]]] = [
        [(t, sorted(q for q, _w in net.post[t])) for t in sorted(net.consumers[p]) if labels[t] is None]
        for p in range(net.n_places)
    ]
    table: dict[int, dict[int, list[int]]] = {}

    def walk(row: dict[int, list[int]], p: int, path: list[int], depth: int) -> None:
        if depth > _MAX_PATH_DEPTH:
            return
        for t, outs in silent_out[p]:
            for q in outs:
                known = row.get(q)
                if known is None or len(path) + 1 < len(known):
                    new = [*path, t]
                    row[q] = new
                    walk(row, q, new, depth + 1)

    for p in range(net.n_places):
        row: dict[int, list[int]] = {}
        table[p] = row
        walk(row, p, [], 0)
    return table
