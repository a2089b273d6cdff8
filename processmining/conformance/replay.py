"""Token-based replay per variant (the fast mode): pm4py's replay, our deviation records."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .deviations import Template, _between_event

if TYPE_CHECKING:
    from .reference import ReferenceNet
    from .variants import Variants


def token_replay_variants(ref: ReferenceNet, variants: Variants) -> tuple[dict[int, list[Template]], float | None, np.ndarray]:
    """Replay each variant once with pm4py's token replay.

    Returns the deviation templates per variant, pm4py's token-based log
    fitness (``0.5 (1 - Σmissing/Σconsumed) + 0.5 (1 - Σremaining/Σproduced)``
    weighted by cases), and per variant ``0`` if it fits else ``1``.
    Events whose transition fired without being enabled are ``unexpected``;
    a case that leaves tokens behind or misses the end gets one ``missing``
    record for the model's end.
    """
    from pm4py.algo.conformance.tokenreplay import algorithm as executor
    from pm4py.objects.log.obj import Event, EventLog, Trace

    net, im, fm = ref.pm4py_net
    log = EventLog([Trace([Event({"concept:name": a}) for a in t]) for t in variants.traces])
    res = executor.apply(log, net, im, fm, variant=executor.Variants.TOKEN_REPLAY,
                         parameters={"show_progress_bar": False}) if variants.n_variants else []
    templates: dict[int, list[Template]] = {}
    costs = np.zeros(variants.n_variants, dtype=np.int64)
    m = c = r = p = 0.0
    for v, (trace, rr) in enumerate(zip(variants.traces, res, strict=True)):
        w = float(variants.counts[v])
        m += rr["missing_tokens"] * w
        c += rr["consumed_tokens"] * w
        r += rr["remaining_tokens"] * w
        p += rr["produced_tokens"] * w
        # pm4py's replay skips events whose activity has no transition: they still are deviations
        if rr["trace_is_fit"] and all(a in ref.labels for a in trace):
            continue
        costs[v] = 1
        temps: list[Template] = []
        problem_labels = {t.label for t in rr["transitions_with_problems"] if t.label is not None}
        for pos, act in enumerate(trace):
            if act not in ref.labels or act in problem_labels:
                where = _between_event(trace, pos)
                msg = (f"{act} happened {where}, but the model has no such activity" if act not in ref.labels
                       else f"{act} happened {where} although the model did not enable it")
                temps.append(Template("unexpected", act, pos, ref.element_of_label.get(act), None, where, msg))
                problem_labels.discard(act)
        if rr["remaining_tokens"] or (not temps and not rr["trace_is_fit"]):
            last = trace[-1] if trace else "the start"
            temps.append(Template("missing", "(end of process)", -1, None, f"after {last}", None,
                                  f"the case stops after {last} before the model's end"))
        templates[v] = temps
    fitness = None
    if c > 0 and p > 0:
        fitness = 0.5 * (1 - m / c) + 0.5 * (1 - r / p)
    return templates, fitness, costs
