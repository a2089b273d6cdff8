"""pm4py's ETC precision (token-based), from prefix counts over variants instead of a pass over every case."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import ReferenceNet
    from .variants import Variants


def etc_precision(ref: ReferenceNet, variants: Variants) -> float | None:
    """ETC precision exactly as ``pm4py.precision_token_based_replay`` computes it.

    pm4py counts every prefix of every case; here each variant's prefixes are
    counted once and weighted by its number of cases, then pm4py's own token
    replay finds the enabled activities after each distinct prefix.
    Returns ``None`` for an empty log.
    """
    if variants.n_variants == 0:
        return None
    from pm4py.algo.conformance.tokenreplay import algorithm as executor
    from pm4py.algo.conformance.tokenreplay.variants import token_replay
    from pm4py.algo.evaluation.precision import utils as precision_utils
    from pm4py.objects.petri_net.utils.align_utils import (
        get_visible_transitions_eventually_enabled_by_marking,
    )
    from pm4py.util import constants

    net, im, fm = ref.pm4py_net
    sep = constants.DEFAULT_VARIANT_SEP
    prefixes: dict[str, set[str]] = {}
    prefix_count: Counter[str] = Counter()
    for trace, count in zip(variants.traces, variants.counts.tolist(), strict=True):
        for i in range(1, len(trace)):
            key = sep.join(trace[:i])
            prefixes.setdefault(key, set()).add(trace[i])
            prefix_count[key] += count
    keys = list(prefixes)
    fake_log = precision_utils.form_fake_log(keys, activity_key="concept:name")
    params = {
        token_replay.Parameters.SHOW_PROGRESS_BAR: False,
        token_replay.Parameters.CONSIDER_REMAINING_IN_FITNESS: False,
        token_replay.Parameters.TRY_TO_REACH_FINAL_MARKING_THROUGH_HIDDEN: False,
        token_replay.Parameters.STOP_IMMEDIATELY_UNFIT: True,
        token_replay.Parameters.WALK_THROUGH_HIDDEN_TRANS: True,
        token_replay.Parameters.CLEANING_TOKEN_FLOOD: False,
        token_replay.Parameters.ACTIVITY_KEY: "concept:name",
    }
    replayed = executor.apply(fake_log, net, im, fm, variant=executor.Variants.TOKEN_REPLAY, parameters=params) \
        if keys else []
    start_activities = {t[0] for t in variants.traces if t}
    enabled_initially = {t.label for t in get_visible_transitions_eventually_enabled_by_marking(net, im)}
    n_traces = int(variants.counts.sum())
    sum_at = n_traces * len(enabled_initially)
    sum_ee = n_traces * len(enabled_initially - start_activities)
    for key, res in zip(keys, replayed, strict=True):
        if res["trace_is_fit"]:
            activated = {t.label for t in res["enabled_transitions_in_marking"] if t.label is not None}
            sum_at += len(activated) * prefix_count[key]
            sum_ee += len(activated - prefixes[key]) * prefix_count[key]
    return 1.0 - sum_ee / sum_at if sum_at > 0 else 1.0
