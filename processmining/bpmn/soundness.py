"""Soundness of a converted net, decided within a time limit.

Sound here means what conformance checking needs: the net is bounded, from
every reachable marking the final marking can still be reached (no
deadlock, no livelock), and every transition can fire in some run (no dead
parts of the model).
"""

from __future__ import annotations

from dataclasses import dataclass

from collections.abc import Mapping

from .model import BpmnModel
from .netcore import CoreNet, can_reach, explore, freeze
from .petri import ConvertedNet, compile_net, element_names


@dataclass(frozen=True)
class SoundnessResult:
    """``sound`` is True / False, or None when not decided within the time limit; ``reason`` says why."""

    sound: bool | None
    reason: str
    states: int = 0


def check_soundness(converted: ConvertedNet | BpmnModel, *, timeout_s: float = 10,
                    max_states: int = 200_000) -> SoundnessResult:
    """Decide whether the converted net (or a model's own compiled net, no pm4py) is sound, giving up after
    ``timeout_s`` seconds.

    Example::

        >>> res = check_soundness(to_petri_net(read_bpmn("bpmn_models/lead_to_order.bpmn")))
        >>> res.sound, res.reason
        (True, 'sound: 14 reachable states, ...')
        >>> check_soundness(read_bpmn("bpmn_models/lead_to_order.bpmn")).sound   # compile_net: pm4py not imported
        True
    """
    if isinstance(converted, BpmnModel):
        core: CoreNet | None = compile_net(converted)
        names = element_names(converted)
    else:
        core, names = converted.core, converted.element_names
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
        # a state with no way on (deadlock) says best where the model gets stuck
        first = next((i for i in stuck if not space.edges[i]), stuck[0])
        where = _describe_marking(core, names, space.markings[first])
        kind = "deadlock" if not space.edges[first] else "livelock"
        return SoundnessResult(
            False,
            f"not sound: {len(stuck)} reachable state(s) cannot finish ({kind}, e.g. a run stops with tokens "
            f"{where})",
            len(space.markings),
        )
    fired = {t for out in space.edges for t, _ in out}
    dead = [t for i, t in enumerate(core.trans) if t.alive and i not in fired]
    if dead:
        dead_names = sorted({names.get(t.element, t.label or t.element) for t in dead})
        return SoundnessResult(
            False,
            f"not sound: {len(dead)} transition(s) can never fire (dead model parts: {', '.join(dead_names[:6])}): "
            "no run of the model reaches them; connect them to the flow or remove them",
            len(space.markings),
        )
    return SoundnessResult(True, f"sound: {len(space.markings)} reachable states, end always reachable, no dead parts",
                           len(space.markings))


def _describe_marking(core: CoreNet, names: Mapping[str, str], marking) -> str:
    """Where the tokens of a marking are, in BPMN terms (complement places of OR-join tests left out)."""
    out = []
    for p, _ in marking:
        if p in core.complement_of or core.places[p].startswith("not-finished#"):
            continue
        kind, _, ref = core.places[p].split("#")[0].partition(":")
        if kind == "in" and ref in names:
            out.append(f"before {names[ref]}")
        elif kind == "flow":
            out.append(f"on {names.get(ref, f'sequence flow {ref!r}')}")
        elif ref in names:
            out.append(f"{kind} {names[ref]}")
        else:
            out.append(core.places[p].split("#")[0])
    return ", ".join(out[:6]) + (f" and {len(out) - 6} more" if len(out) > 6 else "")
