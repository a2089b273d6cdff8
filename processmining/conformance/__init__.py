"""Conformance: what happened versus the reference BPMN model and the audit rules.

:func:`conform` aligns every **variant** once (in parallel, each within a time
budget), turns the alignments into one deviation record per case (kinds
``missing``, ``unexpected``, ``out_of_order``, ``not_computed``), adds the
rule violations (kind ``rule``) from :mod:`processmining.rules`, marks the
accepted ones, and summarises: fitness and precision as pm4py defines them,
fitting cases, deviating-case shares per kind and activity, and for every
deviation pattern its effect on throughput time.

>>> from processmining.bpmn import read_bpmn                              # doctest: +SKIP
>>> result = conform(log, read_bpmn("bpmn_models/lead_to_order.bpmn"))    # doctest: +SKIP
>>> result.summary["fitness"], len(result.deviations)                     # doctest: +SKIP
(0.9921, 412)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import ConformanceError
from ..model import ACTIVITY, TIMESTAMP, EventLog, ProgressFn, no_progress
from .accepted import AcceptedDeviations, AcceptedPattern, read_accepted
from .alignment import MOVE_COST, CompiledNet, align
from .deviations import empty_deviations, expand_to_cases, variant_templates
from .engine import align_variants
from .summary import summarise
from .traversal import Record, traversal_counts
from .variants import Variants, log_variants

__all__ = [
    "AcceptedDeviations",
    "AcceptedPattern",
    "CompiledNet",
    "ConformanceResult",
    "ReferenceNet",
    "conform",
    "read_accepted",
    "reference_net",
]

Mode = Literal["alignments", "token_replay"]


@dataclass
class ReferenceNet:
    """The net conformance runs against, with what ties it back to the BPMN diagram.

    ``pm4py_net`` (``net, im, fm``) is built on first use only (precision, token
    replay): plain alignments never import pm4py.
    """

    net: CompiledNet
    element_of_transition: dict[str, str]
    element_of_label: dict[str, str]
    labels: frozenset[str]
    name: str = "model"
    sha256: str = ""
    model_only: list[str] = field(default_factory=list)
    lanes: dict[str, str] = field(default_factory=dict)
    #: per transition name: (BPMN elements executed, sequence flows marked) by one firing
    records: dict[str, Record] = field(default_factory=dict)
    #: what the initial marking already did (a start event and its outgoing flow)
    initial_record: Record = ((), ())
    _pm4py: tuple[Any, Any, Any] | None = field(default=None, repr=False)
    _source: Any = field(default=None, repr=False)
    _label_map: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def pm4py_net(self) -> tuple[Any, Any, Any]:
        if self._pm4py is None:
            from ..bpmn import to_petri_net

            converted = to_petri_net(self._source, label_map=self._label_map)
            self._pm4py = (converted.net, converted.initial_marking, converted.final_marking)
        return self._pm4py


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


def reference_net(model: Any, activities: Iterable[str] = (), *, label_mapping: Mapping[str, str] | None = None) -> ReferenceNet:
    """Compile ``model`` for alignments.

    ``model`` is a :class:`processmining.bpmn.BpmnModel` (labels matched to
    ``activities`` with :func:`processmining.bpmn.match_labels`, compiled from
    the converter's internal net without importing pm4py), a
    :class:`processmining.bpmn.ConvertedNet`, or a pm4py ``(net, im, fm)``
    tuple (transition names are then taken as element ids).
    """
    if isinstance(model, tuple) and len(model) == 3:
        net, im, fm = model
        compiled = CompiledNet.from_pm4py(net, im, fm)
        trans_elem = {str(t.name): str(t.name) for t in net.transitions}
        return _finish(compiled, trans_elem, name="model", sha="", pm4py=(net, im, fm))
    from ..bpmn import ConvertedNet, match_labels

    if isinstance(model, ConvertedNet):
        compiled = CompiledNet.from_pm4py(model.net, model.initial_marking, model.final_marking)
        ref = _finish(compiled, dict(model.transition_element), name="model", sha=model.model_sha256,
                      pm4py=(model.net, model.initial_marking, model.final_marking))
        if model.core is not None:
            ref.records = {t.name: (t.hits, t.flows) for t in model.core.live()}
            ref.initial_record = (model.core.initial_hits, model.core.initial_flows)
        return ref
    from ..bpmn import compile_net

    match = match_labels(model, list(activities), mapping=label_mapping)
    core = compile_net(model)  # raises the BpmnError that names the elements
    renames = {" ".join(k.split()): v for k, v in match.label_map.items()}
    live = sorted(core.live(), key=lambda t: t.name)
    used = sorted({p for t in live for p in (*t.pre, *t.post)} | set(core.initial) | set(core.final))
    index = {p: i for i, p in enumerate(used)}
    compiled = CompiledNet.from_arcs(
        places=len(used),
        transitions=[(t.name, None if t.label is None else renames.get(t.label, t.label),
                      tuple((index[p], w) for p, w in t.pre.items()), tuple((index[p], w) for p, w in t.post.items()))
                     for t in live],
        initial={index[p]: n for p, n in core.initial.items()},
        final={index[p]: n for p, n in core.final.items()},
    )
    lanes = {}
    for task in model.tasks:
        lane = model.lane_of(task.label) if task.label else None
        if lane:
            lanes[match.label_map.get(task.name, task.label)] = lane
    ref = _finish(compiled, {t.name: t.element for t in live}, name=model.source or "model", sha=model.sha256)
    ref.records = {t.name: (t.hits, t.flows) for t in live}
    ref.initial_record = (core.initial_hits, core.initial_flows)
    ref.model_only = list(match.model_only)
    ref.lanes = lanes
    ref._source = model
    ref._label_map = dict(match.label_map)
    return ref


def _finish(compiled: CompiledNet, trans_elem: dict[str, str], *, name: str, sha: str,
            pm4py: tuple[Any, Any, Any] | None = None) -> ReferenceNet:
    compiled.explore()
    elem_of_label: dict[str, str] = {}
    for t_name, label in zip(compiled.names, compiled.labels, strict=True):
        if label is not None:
            elem_of_label.setdefault(label, trans_elem.get(t_name, t_name))
    return ReferenceNet(compiled, trans_elem, elem_of_label, compiled.visible_labels, name=str(name), sha256=sha,
                        records={t: ((e,), ()) for t, e in trans_elem.items()}, _pm4py=pm4py)


def conform(
    log: EventLog,
    model: Any,
    *,
    rules: Any | None = None,
    mode: Mode = "alignments",
    variant_timeout_s: float = 10.0,
    processes: int | None = None,
    label_mapping: Mapping[str, str] | None = None,
    activity_map: Mapping[str, str] | None = None,
    ignore_activities: Iterable[str] = (),
    running: Literal["auto", "none"] | Iterable[str] = "auto",
    accepted: AcceptedDeviations | None = None,
    roles: Mapping[str, str] | None = None,
    precision: bool = True,
    progress: ProgressFn = no_progress,
) -> ConformanceResult:
    """Check ``log`` against the reference ``model`` (and ``rules``); one deviation row per case and finding.

    * ``mode="alignments"``: optimal alignments, once per variant, with pm4py's
      standard costs; ``summary["fitness"]`` is pm4py's alignment-based
      ``log_fitness`` (``1 - Σ cost / Σ best-worst cost`` over all cases,
      silent steps costing 1) and ``summary["fitting_cases"]`` counts cases
      without log or model moves (pm4py's ``percFitTraces`` counts the same,
      which is why it can read 100 while ``log_fitness`` is just below 1).
      ``mode="token_replay"``: pm4py's token-based replay per variant (fast,
      coarser deviations); fitness is then pm4py's token-based log fitness.
    * ``summary["precision"]``: pm4py's ETC precision with token replay
      (``precision_token_based_replay``), computed from prefix counts over
      variants -- the same number as pm4py's, without the per-case pass.
    * Variants without an alignment within ``variant_timeout_s`` give one
      ``not_computed`` row per case and are left out of fitness.
    * Running cases (``running="auto"``: the last event is not an activity
      the model can end with; or an explicit list of case ids) are checked as
      prefixes: nothing is "missing" for the part that has not happened yet.
      Fitness still aligns them in full, exactly as pm4py does.
    * ``activity_map`` renames log activities first (e.g. a misspelt status),
      ``ignore_activities`` drops them (both counted in the summary); activity
      labels that differ from a task name only in case or spaces are matched
      automatically.
    * ``rules``: a :class:`processmining.rules.RuleSet`; ``roles`` maps
      resource → role for ``role`` rules (the BPMN lanes give the activity's role).
    * ``accepted``: patterns kept in the table with ``accepted=True`` and
      excluded from ``conformance_rate``.

    >>> result = conform(log, model, rules=load_rules("bpmn_models/lead_to_order.rules.yaml"))  # doctest: +SKIP
    >>> result.deviations.query("kind == 'out_of_order'")[["case_id", "message"]].iloc[0].tolist()  # doctest: +SKIP
    ['006Hs00005SNyUSIA1', 'Negotiation/Review happened before Proposal/Price Quote; ...']
    """
    if mode not in ("alignments", "token_replay"):
        raise ConformanceError(f"unknown mode {mode!r}: use 'alignments' or 'token_replay'")
    if variant_timeout_s <= 0:
        raise ConformanceError(f"variant_timeout_s must be positive, got {variant_timeout_s}")
    original = log
    ref = model if isinstance(model, ReferenceNet) else None
    if ref is None:
        ref = reference_net(model, log.activities, label_mapping=label_mapping)
    log, renamed, ignored = _prepare_log(log, ref, activity_map or {}, set(ignore_activities))
    unknown = sorted(set(log.activities) - ref.labels)
    net = ref.net
    bwc_result = align(net, (), timeout_s=max(variant_timeout_s, 30.0))
    if bwc_result is None:
        raise ConformanceError("the model's end cannot be reached from its start: no run of the model exists",
                               source=ref.name)
    bwc = bwc_result.cost
    variants = log_variants(log)
    progress(0, max(variants.n_variants, 1), "aligning variants")
    running_variant = _running_variants(variants, net, running)

    if mode == "alignments":
        full = align_variants(net, variants.traces, variant_timeout_s=variant_timeout_s, processes=processes,
                              progress=progress)
        costs = np.array([r.cost if r is not None else -1 for r in full], dtype=np.int64)
        need_prefix = [v for v in range(variants.n_variants) if running_variant[v] and full[v] is not None
                       and full[v].cost >= MOVE_COST]
        prefix_res = align_variants(net, [variants.traces[v] for v in need_prefix], variant_timeout_s=variant_timeout_s,
                                    processes=processes, prefix=[True] * len(need_prefix)) if need_prefix else []
        chosen = list(full)
        as_prefix = [False] * variants.n_variants
        for v, r in zip(need_prefix, prefix_res, strict=True):
            chosen[v] = r if r is not None else full[v]
            as_prefix[v] = r is not None
        templates = {}
        for v, r in enumerate(chosen):
            if r is not None and r.cost >= MOVE_COST:
                templates[v] = variant_templates(variants.traces[v], r, element_of_transition=ref.element_of_transition,
                                                 element_of_label=ref.element_of_label)
        not_computed = [v for v in range(variants.n_variants) if full[v] is None]
        fitness = _alignment_fitness(variants, costs, bwc)
        element_counts, flow_counts, untraced = traversal_counts(net, ref.records, ref.initial_record, chosen,
                                                                 as_prefix, variants.counts)
    else:
        from .replay import token_replay_variants

        templates, fitness, costs = token_replay_variants(ref, variants)
        not_computed = []
        element_counts, flow_counts, untraced = {}, {}, 0
    deviations = expand_to_cases(log, variants, templates, not_computed, variant_timeout_s=variant_timeout_s)
    rule_rows = None
    if rules is not None:
        from ..rules import check

        rule_rows = check(original if not renamed and not ignored else log, rules, roles=roles, lanes=ref.lanes,
                          model_activities=ref.labels, element_of_label=ref.element_of_label)
        deviations = pd.concat([d for d in (deviations, rule_rows) if not d.empty], ignore_index=True) \
            if not rule_rows.empty else deviations
    if accepted is not None:
        deviations = accepted.apply(deviations)
    if deviations.empty:
        deviations = empty_deviations()
    prec = None
    if precision and mode in ("alignments", "token_replay"):
        from .precision import etc_precision

        prec = etc_precision(ref, variants)
    summary = summarise(
        log, variants, deviations, fitness=fitness, precision=prec, costs=costs, mode=mode,
        not_computed=not_computed, unknown_activities=unknown, model_only=ref.model_only,
        renamed=renamed, ignored=ignored, running=int(variants.counts[running_variant].sum()) if len(variants.counts) else 0,
    )
    nc = pd.DataFrame({
        "variant": [" → ".join(variants.traces[v]) for v in not_computed],
        "events": [len(variants.traces[v]) for v in not_computed],
        "cases": [int(variants.counts[v]) for v in not_computed],
    })
    vt = pd.DataFrame({
        "variant": [" → ".join(t) for t in variants.traces],
        "cases": variants.counts,
        "cost": costs,
        "fitting": [c >= 0 and c < MOVE_COST for c in costs],
        "running": running_variant,
    })
    params = {"mode": mode, "variant_timeout_s": variant_timeout_s, "processes": processes,
              "running": running if isinstance(running, str) else "list",
              "activity_map": dict(activity_map or {}), "ignore_activities": sorted(ignored),
              "label_mapping": dict(label_mapping or {})}
    progress(variants.n_variants, max(variants.n_variants, 1), "done")
    return ConformanceResult(deviations=deviations, summary=summary, not_computed=nc, unknown_activities=unknown,
                             variants=vt, parameters=params, element_counts=element_counts,
                             flow_counts=flow_counts, untraced_cases=untraced)


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


def _running_variants(variants: Variants, net: CompiledNet, running: Any) -> np.ndarray:
    n = variants.n_variants
    if isinstance(running, str):
        if running == "none" or n == 0:
            return np.zeros(n, dtype=bool)
        if running != "auto":
            raise ConformanceError(f"running must be 'auto', 'none' or a list of case ids, got {running!r}")
        ends = net.end_labels()
        if ends is None:
            return np.zeros(n, dtype=bool)
        return np.array([bool(t) and t[-1] not in ends for t in variants.traces], dtype=bool)
    # explicit case ids: a variant is checked as a prefix only if all its cases are running
    wanted = {str(c) for c in running}
    is_running = pd.Series(variants.case_ids.astype(str)).isin(wanted).to_numpy()
    all_running = np.ones(n, dtype=bool)
    np.logical_and.at(all_running, variants.case_variant, is_running)
    return all_running


def _alignment_fitness(variants: Variants, costs: np.ndarray, bwc: int) -> float | None:
    ok = costs >= 0
    if not ok.any():
        return None
    lengths = np.array([len(t) for t in variants.traces], dtype=np.int64)
    w = variants.counts[ok].astype(np.float64)
    sum_cost = float((costs[ok] * w).sum())
    sum_bwc = float(((lengths[ok] * MOVE_COST + bwc) * w).sum())
    return 1.0 - sum_cost / sum_bwc if sum_bwc > 0 else 0.0


def _case_durations(log: EventLog, variants: Variants) -> pd.Series:
    ts = log.df[TIMESTAMP].to_numpy()
    first = ts[variants.case_start]
    last = ts[variants.case_start + variants.case_len - 1]
    return pd.Series(last - first, index=variants.case_ids.astype(str))
