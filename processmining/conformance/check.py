"""``conform``: a log against a reference model (BPMN or PNML) and audit rules, one deviation row per case and finding."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..discovery.variants import variant_text
from ..errors import ConformanceError
from ..memory import release_freed_memory
from ..model import ACTIVITY, TIMESTAMP, EventLog, ProgressFn, no_progress
from ..status import running_case_ids
from .accepted import AcceptedDeviations
from .alignment import MOVE_COST, CompiledNet, align
from .deviations import empty_deviations, expand_to_cases, variant_templates
from .engine import align_variants
from .reference import ReferenceNet, reference_net
from .summary import summarise
from .traversal import traversal_counts
from .variants import Variants, log_variants

Mode = Literal["alignments", "token_replay"]
PrecisionMethod = Literal["token_replay", "alignments"]

@dataclass
class ConformanceResult:
    """What :func:`conform` found.

    ``deviations``: one row per case and deviation, columns
    :data:`processmining.model.DEVIATION_COLUMNS`. ``summary``: a JSON-ready
    dict (see :func:`processmining.conformance.summary.summarise`).
    ``not_computed``: the variants (activity sequences) with no alignment
    within the budget and their number of cases. ``unknown_activities``: log
    activities the model does not know (map them with ``activity_map`` or
    drop them with ``ignore_activities``).

    ``element_counts`` / ``flow_counts``: how many times each BPMN element
    (task, gateway, event, sub-process) was executed and each sequence flow
    traversed, summed over all cases, along the model run each case's
    alignment chose (mode ``alignments`` only; empty for token replay). A
    task counts once per execution (each loop iteration counts), a gateway
    once per token it passes on (a parallel join once per synchronisation),
    a sub-process once per activation. Skipped tasks (model moves) are part
    of that run and counted; unexpected events (log moves) are not in the
    model and never counted. Running cases count their run up to their last
    event, with the merges and pass-through events right after it that the
    net fires together with it (tokens pass those at once); an open decision
    or a join still waiting is not counted. Variants not aligned within the
    budget are not counted.
    ``untraced_cases`` says how many cases are missing from the counts for
    any other reason (0 unless a run could not be rebuilt). Elements and flows
    never traversed are absent (read them as 0).
    """

    deviations: pd.DataFrame
    summary: dict[str, Any]
    not_computed: pd.DataFrame
    unknown_activities: list[str]
    variants: pd.DataFrame
    parameters: dict[str, Any] = field(default_factory=dict)
    element_counts: dict[str, int] = field(default_factory=dict)
    flow_counts: dict[str, int] = field(default_factory=dict)
    untraced_cases: int = 0


def conform(
    log: EventLog,
    model: Any,
    *,
    rules: Any | None = None,
    mode: Mode = "alignments",
    variant_timeout_s: float = 10.0,
    time_budget_s: float | None = None,
    processes: int | None = None,
    label_mapping: Mapping[str, str] | None = None,
    activity_map: Mapping[str, str] | None = None,
    ignore_activities: Iterable[str] = (),
    running: Literal["auto", "none"] | Iterable[str] = "auto",
    accepted: AcceptedDeviations | None = None,
    roles: Mapping[str, str] | None = None,
    precision: bool | PrecisionMethod = True,
    progress: ProgressFn = no_progress,
) -> ConformanceResult:
    """Check ``log`` against the reference ``model`` (and ``rules``); one deviation row per case and finding.

    ``model``: a BPMN model (:func:`processmining.bpmn.read_bpmn`), a Petri net
    (:func:`processmining.pnml.read_pnml`), a pm4py ``(net, im, fm)`` or a
    :class:`ReferenceNet` compiled before.

    * ``mode="alignments"``: optimal alignments, once per variant, with pm4py's
      standard costs; ``summary["fitness"]`` is pm4py's alignment-based
      ``log_fitness`` (``1 - Σ cost / Σ best-worst cost`` over all cases,
      silent steps costing 1) and ``summary["fitting_cases"]`` counts cases
      without log or model moves (pm4py's ``percFitTraces`` counts the same,
      which is why it can read 100 while ``log_fitness`` is just below 1).
      ``mode="token_replay"``: pm4py's token-based replay per variant (fast,
      coarser deviations); fitness is then pm4py's token-based log fitness.
    * ``summary["precision"]``: pm4py's ETC precision, computed on the
      compiled net over the prefix tree of the variants:
      ``precision=True`` / ``"token_replay"`` gives
      ``precision_token_based_replay``, ``"alignments"`` gives
      ``precision_alignments`` (more robust with silent steps and loops);
      ``False`` skips it.
    * Variants without an alignment within ``variant_timeout_s`` give one
      ``not_computed`` row per case and are left out of fitness.
      ``time_budget_s`` bounds all of the work (compiling the model, the
      alignments, precision): variants not reached in time are not computed,
      and precision is ``None`` (``summary["precision_note"]`` says why).
    * Running cases (``running="auto"``: the cases that
      :func:`processmining.status.running_case_ids` does not see as finished,
      from the end activities of the data; or an explicit list of case ids)
      are checked as prefixes: nothing is "missing" for the part that has not
      happened yet. A case that ended is checked in full, whatever its last
      activity.
      Fitness still aligns them in full, exactly as pm4py does.
    * ``activity_map`` renames log activities first (e.g. a misspelt status),
      ``ignore_activities`` drops them (both counted in the summary); activity
      labels that differ from a task name only in case or spaces are matched
      automatically.
    * ``rules``: a :class:`processmining.rules.RuleSet`; ``roles`` maps
      resource → role for ``role`` rules (the BPMN lanes give the activity's role).
    * ``accepted``: patterns kept in the table with ``accepted=True`` and
      excluded from ``conformance_rate``.
    * A log without timestamps (order only) is checked all the same; the
      throughput figures of the summary are then ``None`` and
      ``summary["time_note"]`` says they need times.

    >>> result = conform(log, model, rules=load_rules("bpmn_models/lead_to_order.rules.yaml"))  # doctest: +SKIP
    >>> result.deviations.query("kind == 'out_of_order'")[["case_id", "message"]].iloc[0].tolist()  # doctest: +SKIP
    ['006Hs00005SNyUSIA1', 'Negotiation/Review happened before Proposal/Price Quote; ...']
    """
    started = time.perf_counter()
    if mode not in ("alignments", "token_replay"):
        raise ConformanceError(f"unknown mode {mode!r}: use 'alignments' or 'token_replay'")
    if variant_timeout_s <= 0:
        raise ConformanceError(f"variant_timeout_s must be positive, got {variant_timeout_s}")
    if time_budget_s is not None and time_budget_s <= 0:
        raise ConformanceError(f"time_budget_s must be positive, got {time_budget_s}")
    method = _precision_method(precision)
    deadline = None if time_budget_s is None else started + time_budget_s
    original = log
    progress(0, 1, "compiling the model")
    ref = model if isinstance(model, ReferenceNet) else reference_net(
        model, log.activities, label_mapping=label_mapping, explore=False)
    if not ref.net.explored:
        ref.net.explore(deadline=deadline)
    log, renamed, ignored = _prepare_log(log, ref, activity_map or {}, set(ignore_activities))
    unknown = sorted(set(log.activities) - ref.labels)
    net = ref.net
    bwc_result = align(net, (), timeout_s=_remaining(deadline, max(variant_timeout_s, 30.0)))
    if bwc_result is None:
        if deadline is not None and time.perf_counter() >= deadline:
            raise ConformanceError(f"the time budget of {time_budget_s} s ran out before the model's cheapest run "
                                   "was found", source=ref.name)
        raise ConformanceError("the model's end cannot be reached from its start: no run of the model exists",
                               source=ref.name)
    variants = log_variants(log)
    progress(0, max(variants.n_variants, 1), "aligning variants")
    # running="auto": the one case status (processmining.status) decides; a case that ended is checked in full
    auto = isinstance(running, str) and running == "auto"
    running_ids = running_case_ids(log, fallback=net.end_labels()) if auto else running
    running_variant = _running_variants(variants, running_ids)

    work: dict[str, int] = {}
    if mode == "alignments":
        templates, not_computed, costs, fitness, counts = _by_alignments(
            ref, variants, running_variant, bwc_result.cost, variant_timeout_s=variant_timeout_s,
            processes=processes, deadline=deadline, work=work, progress=progress)
        element_counts, flow_counts, untraced = counts
    else:
        from .replay import token_replay_variants

        templates, fitness, costs = token_replay_variants(ref, variants)
        not_computed = []
        element_counts, flow_counts, untraced = {}, {}, 0
    deviations = expand_to_cases(log, variants, templates, not_computed, variant_timeout_s=variant_timeout_s)
    del templates  # one object per deviation of every variant: precision and the summary do not need them
    if rules is not None:
        from ..rules import check

        rule_rows = check(original if not renamed and not ignored else log, rules, roles=roles, lanes=ref.lanes,
                          model_activities=ref.labels, element_of_label=ref.element_of_label)
        if not rule_rows.empty:
            deviations = pd.concat([d for d in (deviations, rule_rows) if not d.empty], ignore_index=True)
    if accepted is not None:
        deviations = accepted.apply(deviations)
    if deviations.empty:
        deviations = empty_deviations()
    prec, prec_note = precision_of(net, variants.traces, variants.counts, method, deadline=deadline,
                                   progress=progress)
    summary = summarise(
        log, variants, deviations, fitness=fitness, precision=prec, costs=costs, mode=mode,
        not_computed=not_computed, unknown_activities=unknown, model_only=ref.model_only,
        renamed=renamed, ignored=ignored, running=int(variants.counts[running_variant].sum()) if len(variants.counts) else 0,
    )
    if ref is not model:  # compiled here: its state-space caches go before the tables are built
        big = net.cached_markings >= _COLLECT_MARKINGS
        del ref, net
        if big:  # the net's solvers and the search's closures refer back to it: only a collection frees it
            gc.collect()
    release_freed_memory()  # the summary's groups: the caller (an export, the app) starts from what is held
    summary["precision_method"] = _PRECISION_METHODS.get(method or "", "not computed")
    if prec_note:
        summary["precision_note"] = prec_note
    if log.n_events and log.df[TIMESTAMP].isna().all():
        summary["time_note"] = "the log has no timestamps: throughput times need them"
    summary["seconds"] = round(time.perf_counter() - started, 3)
    #: variants aligned in-process / in the worker pool, and the pool's size
    summary["alignment_work"] = work
    params = {"mode": mode, "variant_timeout_s": variant_timeout_s, "time_budget_s": time_budget_s,
              "processes": processes, "precision": method, "running": running if isinstance(running, str) else "list",
              "activity_map": dict(activity_map or {}), "ignore_activities": sorted(ignored),
              "label_mapping": dict(label_mapping or {})}
    nc_table = not_computed_table(variants.traces, variants.counts, not_computed)
    v_table = variant_table(variants.traces, variants.counts, costs, running_variant)
    release_freed_memory()  # the tables' chunks (bpic2019 p2p: the variant table holds 9 of its 16 MB peak)
    progress(variants.n_variants, max(variants.n_variants, 1), "done")
    return ConformanceResult(deviations=deviations, summary=summary, not_computed=nc_table,
                             unknown_activities=unknown, variants=v_table,
                             parameters=params, element_counts=element_counts, flow_counts=flow_counts,
                             untraced_cases=untraced)


_PRECISION_METHODS = {
    "token_replay": "pm4py ETC precision (token-based replay), precision_token_based_replay",
    "alignments": "pm4py align-ETC precision, precision_alignments",
}


def _precision_method(precision: bool | str) -> str | None:
    if precision is True:
        return "token_replay"
    if precision is False or precision is None:
        return None
    if precision not in _PRECISION_METHODS:
        raise ConformanceError(f"precision must be True, False, 'token_replay' or 'alignments', got {precision!r}")
    return str(precision)


def _remaining(deadline: float | None, cap: float) -> float:
    if deadline is None:
        return cap
    return max(0.001, min(cap, deadline - time.perf_counter()))


def precision_of(net: CompiledNet, traces: Sequence[Sequence[str]], counts: np.ndarray, method: str | None, *,
                 deadline: float | None = None, progress: ProgressFn = no_progress) -> tuple[float | None, str | None]:
    """``(precision, note)`` by ``method`` (see :func:`_precision_method`) over the variants; both engines."""
    if method is None:
        return None, None
    from .precision import align_etc_precision, etc_precision

    fn = etc_precision if method == "token_replay" else align_etc_precision
    value = fn(net, traces, counts, progress=progress, deadline=deadline)
    if value is None and len(traces):
        return None, "the time budget ran out before precision was computed"
    return value, None


def _by_alignments(ref: ReferenceNet, variants: Variants, running_variant: np.ndarray, bwc: int, *,
                   variant_timeout_s: float, processes: int | None, deadline: float | None,
                   work: dict[str, int], progress: ProgressFn) -> tuple[dict, list[int], np.ndarray, float | None, tuple]:
    """Align every variant (running ones again as prefixes where they deviate); templates, costs, fitness, traversals."""
    net = ref.net
    release_freed_memory()  # what reading, discovery and the variants freed: the workers' results come on top of it
    full = align_variants(net, variants.traces, variant_timeout_s=variant_timeout_s, processes=processes,
                          deadline=deadline, stats=work, progress=progress)
    costs = np.array([r.cost if r is not None else -1 for r in full], dtype=np.int64)
    need_prefix = [v for v in range(variants.n_variants) if running_variant[v] and full[v] is not None
                   and full[v].cost >= MOVE_COST]
    prefix_res = align_variants(net, [variants.traces[v] for v in need_prefix], variant_timeout_s=variant_timeout_s,
                                processes=processes, prefix=[True] * len(need_prefix),
                                deadline=deadline) if need_prefix else []
    chosen = list(full)
    as_prefix = [False] * variants.n_variants
    for v, r in zip(need_prefix, prefix_res, strict=True):
        chosen[v] = r if r is not None else full[v]
        as_prefix[v] = r is not None
    not_computed = [v for v in range(variants.n_variants) if full[v] is None]
    fitness = alignment_fitness(variants, costs, bwc)
    # the traversals first: their temporaries are freed before the templates are made
    counts = traversal_counts(net, ref.records, ref.initial_record, chosen, as_prefix, variants.counts)
    del full, prefix_res
    templates = {}
    for v, r in enumerate(chosen):
        if r is not None and r.cost >= MOVE_COST:
            templates[v] = variant_templates(variants.traces[v], r, element_of_transition=ref.element_of_transition,
                                             element_of_label=ref.element_of_label)
    del chosen
    release_freed_memory()  # the alignments' moves and search state: the deviation expansion starts from what is held
    return templates, not_computed, costs, fitness, counts


def not_computed_table(traces: Sequence[Sequence[str]], counts: np.ndarray, not_computed: Sequence[int]) -> pd.DataFrame:
    """The variants over the time budget: activities, events, cases (local and Spark conformance)."""
    which = np.asarray(not_computed, dtype=np.intp)
    return pd.DataFrame({
        "variant": variant_text(traces, which),
        "events": np.array([len(traces[v]) for v in which], dtype=np.int64),
        "cases": np.asarray(counts, dtype=np.int64)[which],
    })


def variant_table(traces: Sequence[Sequence[str]], counts: np.ndarray, costs: np.ndarray,
                  running_variant: np.ndarray) -> pd.DataFrame:
    """One row per variant: activities, cases, alignment cost, fitting, running (local and Spark conformance)."""
    return pd.DataFrame({
        "variant": variant_text(traces),
        "cases": counts,
        "cost": costs,
        "fitting": (costs >= 0) & (costs < MOVE_COST),
        "running": running_variant,
    })


#: a net conform compiled is collected before the tables are built when its cache holds this many markings: a
#: collection takes 30-50 ms (a22f0n50: 5 % of conform, for 149 markings), bpic2019 p2p's 10,000-20,000 hold 8-30 MB
_COLLECT_MARKINGS = 5_000

def _prepare_log(log: EventLog, ref: ReferenceNet, activity_map: Mapping[str, str],
                 ignore: set[str]) -> tuple[EventLog, dict[str, int], dict[str, int]]:
    from ..bpmn.labels import normalise_label

    by_norm = {normalise_label(lbl): lbl for lbl in ref.labels}
    mapping = dict(activity_map)
    for act in log.activities:
        if act not in ref.labels and act not in mapping and normalise_label(act) in by_norm:
            mapping[act] = by_norm[normalise_label(act)]
    if not mapping and not ignore:
        return log, {}, {}
    df = log.df
    acts = df[ACTIVITY]
    counts = acts.value_counts()
    renamed = {f"{k} → {v}": int(counts.get(k, 0)) for k, v in mapping.items() if counts.get(k, 0)}
    dropped = {a: int(counts.get(a, 0)) for a in ignore if counts.get(a, 0)}
    frame = df.copy()
    if mapping:
        frame[ACTIVITY] = acts.replace(mapping)
    if ignore:
        frame = frame[~frame[ACTIVITY].isin(ignore)]
    step = "conformance: " + "; ".join(
        [f"renamed {k}" for k in renamed] + [f"ignored {a} ({n} events)" for a, n in dropped.items()])
    return log.with_frame(frame, step=step), renamed, dropped


def _running_variants(variants: Variants, running: Any) -> np.ndarray:
    n = variants.n_variants
    if isinstance(running, str):
        if running == "none" or n == 0:
            return np.zeros(n, dtype=bool)
        raise ConformanceError(f"running must be 'auto', 'none' or a list of case ids, got {running!r}")
    # explicit case ids: a variant is checked as a prefix only if all its cases are running
    wanted = {str(c) for c in running}
    is_running = pd.Series(variants.case_id_texts, dtype=object).isin(wanted).to_numpy()
    all_running = np.ones(n, dtype=bool)
    np.logical_and.at(all_running, variants.case_variant, is_running)
    return all_running


def alignment_fitness(variants: Variants, costs: np.ndarray, bwc: int) -> float | None:
    """pm4py's alignment-based log fitness from the per-variant costs (None when no variant was aligned)."""
    ok = costs >= 0
    if not ok.any():
        return None
    lengths = np.array([len(t) for t in variants.traces], dtype=np.int64)
    w = variants.counts[ok].astype(np.float64)
    sum_cost = float((costs[ok] * w).sum())
    sum_bwc = float(((lengths[ok] * MOVE_COST + bwc) * w).sum())
    return 1.0 - sum_cost / sum_bwc if sum_bwc > 0 else 0.0
