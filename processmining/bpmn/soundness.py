"""Soundness of a converted net, decided within a time limit.

Sound here means what conformance checking needs: the net is bounded, from
every reachable marking the final marking can still be reached (no
deadlock, no livelock), and every transition can fire in some run (no dead
parts of the model).
"""

from __future__ import annotations

from dataclasses import dataclass

from .netcore import can_reach, explore, freeze
from .petri import ConvertedNet


@dataclass(frozen=True)
class SoundnessResult:
    """``sound`` is True / False, or None when not decided within the time limit; ``reason`` says why."""

    sound: bool | None
    reason: str
    states: int = 0


def check_soundness(converted: ConvertedNet, *, timeout_s: float = 10, max_states: int = 200_000) -> SoundnessResult:
    """Decide whether the converted net is sound, giving up after ``timeout_s`` seconds.

    Example::

        >>> res = check_soundness(to_petri_net(read_bpmn("bpmn_models/lead_to_order.bpmn")))
        >>> res.sound, res.reason
        (True, 'sound: 14 reachable states, ...')
    """
    core = converted.core
    if core is None:
        return SoundnessResult(None, "no internal net attached to this conversion")
    space = explore(core, core.initial, max_states=max_states, timeout_s=timeout_s)
    if not space.complete:
        if space.unbounded_place is not None:
            return SoundnessResult(False, f"not sound: the net is unbounded ({space.reason})", len(space.markings))
        return SoundnessResult(None, f"not decided: {space.reason}", len(space.markings))
    final = freeze(core.final)
    targets = {i for i, m in enumerate(space.markings) if m == final}
    if not targets:
        return SoundnessResult(False, "not sound: the end state (all branches finished) is never reached",
                               len(space.markings))
    ok = can_reach(space, targets)
    stuck = [i for i, good in enumerate(ok) if not good]
    if stuck:
        m = space.markings[stuck[0]]
        where = _describe_marking(converted, m)
        kind = "deadlock" if not space.edges[stuck[0]] else "livelock"
        return SoundnessResult(
            False,
            f"not sound: {len(stuck)} reachable state(s) cannot finish ({kind}, e.g. tokens at {where})",
            len(space.markings),
        )
    fired = {t for out in space.edges for t, _ in out}
    dead = [t for i, t in enumerate(core.trans) if t.alive and i not in fired]
    if dead:
        names = sorted({t.label or t.element for t in dead})
        return SoundnessResult(
            False,
            f"not sound: {len(dead)} transition(s) can never fire (dead model parts: {', '.join(names[:6])})",
            len(space.markings),
        )
    return SoundnessResult(True, f"sound: {len(space.markings)} reachable states, end always reachable, no dead parts",
                           len(space.markings))


def _describe_marking(converted: ConvertedNet, marking) -> str:
    core = converted.core
    assert core is not None
    return ", ".join(core.places[p].split("#")[0] for p, _ in marking)
