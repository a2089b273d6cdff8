"""Conformance on Spark: variants on the cluster, each variant aligned on an executor, deviations as a table.

1. The variants (distinct activity sequences) are computed on the cluster.
2. ``mapInPandas`` over batches of variants runs the project's own aligner
   (:func:`processmining.conformance.alignment.align`, the function the local
   engine calls per variant) on the executors; the compiled net travels with
   the task. Only one alignment per *variant* comes back to the driver.
3. The driver turns alignments into deviation templates, fitness, precision
   and traversal counts with the local engine's functions (``mode="token_replay"``:
   the local token replay of each variant, on the driver).
3b. Audit rules run on the executors, the local checkers over batches of
   whole cases (:mod:`.rules`); accepted deviation patterns are marked on the
   executors by the local :meth:`AcceptedDeviations.apply`.
4. The templates are joined to the cases and their events on the cluster;
   the per-case deviation table is written to ``deviations_to`` (Parquet path
   or table name) and never collected. The summary needs per-variant numbers
   plus a few aggregates over that table (cases and median case duration per
   pattern).
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..conformance import ConformanceResult, ReferenceNet, reference_net
from ..conformance.accepted import AcceptedDeviations
from ..conformance.alignment import MOVE_COST, align
from ..conformance.check import (
    _PRECISION_METHODS,
    _precision_method,
    alignment_fitness,
    not_computed_table,
    precision_of,
    variant_table,
)
from ..conformance.deviations import SEVERITY, variant_templates
from ..conformance.summary import KIND_ORDER
from ..conformance.traversal import traversal_counts
from ..conformance.variants import Variants
from ..errors import ConformanceError
from ..model import ACTIVITY, DEVIATION_COLUMNS, ProgressFn, no_progress
from .discovery import case_sequences
from .frame import SparkLog
from .status import running_ends

#: variants per executor batch: enough to amortise the Python worker, small enough to spread long ones
BATCH_VARIANTS = 8


@dataclass
class SparkConformanceResult(ConformanceResult):
    """What :func:`conform` found: a :class:`processmining.conformance.ConformanceResult` whose
    ``deviations`` is a Spark DataFrame (columns ``DEVIATION_COLUMNS`` plus ``step``, the deviation's rank
    within its case), written to ``deviations_location`` when one was given; all else is small, on the driver.
    """

    deviations_location: str | None = None
    #: the rule ids in the order of the rule set (the local table lists each rule's rows after the model's)
    rule_order: tuple[str, ...] = ()

    def deviation_table(self) -> pd.DataFrame:
        """The per-case deviations on the driver, as the local engine's table: the model's deviations (cases in
        id order, each case's in model order), then each rule's violations in rule order (cases in id order);
        timestamps in UTC. Only for results that fit one machine."""
        from pyspark.sql import functions as F

        keys: list[Any] = ["case_id", "step"]
        if self.rule_order:  # (a bare literal would be read as a column position)
            keys.insert(0, F.coalesce(_rule_rank(self.rule_order), F.lit(0)))
        out = self.deviations.orderBy(*keys).drop("step").toPandas()
        ts = pd.to_datetime(out["timestamp"])
        out["timestamp"] = ts.dt.tz_localize("UTC") if ts.dt.tz is None else ts.dt.tz_convert("UTC")
        return out

    def unpersist(self) -> None:
        """Release what this result keeps on the cluster (after its table was collected or written)."""
        if self.deviations_location is None:
            self.deviations.unpersist()


def _prepare(log: SparkLog, ref: ReferenceNet, activity_map: Mapping[str, str], ignore: set[str],
             counts: dict[str, int]) -> tuple[SparkLog, dict[str, int], dict[str, int]]:
    """Rename / drop activities on the cluster, as the local ``conform`` does before aligning."""
    from pyspark.sql import functions as F

    from ..bpmn.labels import normalise_label

    by_norm = {normalise_label(lbl): lbl for lbl in ref.labels}
    mapping = dict(activity_map)
    for act in sorted(counts):
        if act not in ref.labels and act not in mapping and normalise_label(act) in by_norm:
            mapping[act] = by_norm[normalise_label(act)]
    if not mapping and not ignore:
        return log, {}, {}
    renamed = {f"{k} → {v}": counts[k] for k, v in mapping.items() if counts.get(k, 0)}
    dropped = {a: counts[a] for a in ignore if counts.get(a, 0)}
    lookup = F.create_map(*[F.lit(x) for kv in mapping.items() for x in kv]) if mapping else None

    def prepared(df: Any) -> Any:
        if lookup is not None:
            df = df.withColumn(ACTIVITY, F.coalesce(F.element_at(lookup, F.col(ACTIVITY)), F.col(ACTIVITY)))
        return df.filter(~F.col(ACTIVITY).isin(sorted(ignore))) if ignore else df

    core = prepared(log.core) if log.core is not None else None
    return SparkLog(df=prepared(log.df), report=log.report, name=log.name, core=core), renamed, dropped


def _aligner(net: Any, timeout_s: float, ends: frozenset[str] | None, running: bool):  # noqa: ANN202
    """The function ``mapInPandas`` runs on the executors: one full (and, for running cases, prefix) alignment
    per variant, pickled."""

    def run(batches):  # noqa: ANN001, ANN202
        for batch in batches:
            full_out, pref_out, run_out = [], [], []
            for seq in batch["seq"]:
                trace = tuple(str(a) for a in seq)
                full = align(net, trace, timeout_s=timeout_s)
                is_running = running and ends is not None and bool(trace) and trace[-1] not in ends
                pref = align(net, trace, timeout_s=timeout_s, prefix=True) \
                    if is_running and full is not None and full.cost >= MOVE_COST else None
                full_out.append(pickle.dumps(full))
                pref_out.append(pickle.dumps(pref))
                run_out.append(is_running)
            yield batch.assign(full=full_out, pref=pref_out, running=run_out)

    return run


def _cores(spark: Any) -> int:
    """The cluster's task slots: ``defaultParallelism``; through Spark Connect (no SparkContext there) the
    ``spark.default.parallelism`` setting where the cluster sets it, else the shuffle partitions."""
    try:
        return max(1, int(spark.sparkContext.defaultParallelism))
    except Exception:  # noqa: BLE001 - Spark Connect has no SparkContext
        pass
    for key in ("spark.default.parallelism", "spark.sql.shuffle.partitions"):
        try:
            value = spark.conf.get(key, None)
        except Exception:  # noqa: BLE001 - a cluster may refuse to show a setting
            value = None
        if value and str(value).isdigit():
            return max(1, int(value))
    return 1


def _write(df: Any, dest: str) -> None:
    writer = df.write.mode("overwrite")
    if "/" in dest or dest.lower().endswith(".parquet"):
        writer.parquet(dest)
    else:
        writer.saveAsTable(dest)


def conform(
    log: SparkLog,
    model: Any,
    *,
    rules: Any | None = None,
    mode: Literal["alignments", "token_replay"] = "alignments",
    variant_timeout_s: float = 10.0,
    label_mapping: Mapping[str, str] | None = None,
    activity_map: Mapping[str, str] | None = None,
    ignore_activities: Iterable[str] = (),
    running: Literal["auto", "none"] = "auto",
    end_activities: Iterable[str] | None = None,
    accepted: AcceptedDeviations | None = None,
    roles: Mapping[str, str] | None = None,
    precision: bool | str = True,
    deviations_to: str | None = None,
    progress: ProgressFn = no_progress,
) -> SparkConformanceResult:
    """Check ``log`` against ``model`` (and ``rules``) on Spark; the numbers of
    :func:`processmining.conformance.conform`.

    ``mode="alignments"`` aligns each variant on the executors;
    ``"token_replay"`` replays each variant with the local function on the
    driver (variants only). ``rules`` (with ``roles``) are checked on the
    executors by the local checkers (:mod:`.rules`); ``accepted`` patterns are
    marked on the executors by :meth:`AcceptedDeviations.apply`. ``running``
    is ``"auto"`` or ``"none"``; with ``end_activities`` the cases that end
    otherwise are running (the local ``--end-activity``). The per-case deviations are written to
    ``deviations_to``.

    >>> result = conform(read_events(spark, "lake.crm_events"), read_bpmn("lead_to_order.bpmn"),  # doctest: +SKIP
    ...                  rules=load_rules("lead_to_order.rules.yaml"), deviations_to="lake.crm_deviations")
    >>> result.summary["fitness"], result.summary["deviating_cases"]                              # doctest: +SKIP
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    started = time.perf_counter()
    if mode not in ("alignments", "token_replay"):
        raise ConformanceError(f"unknown mode {mode!r}: use 'alignments' or 'token_replay'")
    if variant_timeout_s <= 0:
        raise ConformanceError(f"variant_timeout_s must be positive, got {variant_timeout_s}")
    if running not in ("auto", "none"):
        raise ConformanceError("on the Spark engine, running must be 'auto' or 'none'")
    counts = {r[0]: int(r[1]) for r in log.events().groupBy("a").count().collect()}
    ref = model if isinstance(model, ReferenceNet) else reference_net(model, sorted(counts),
                                                                      label_mapping=label_mapping)
    ignored_set = set(ignore_activities)
    original = log
    log, renamed, ignored = _prepare(log, ref, activity_map or {}, ignored_set, counts)
    net = ref.net
    bwc_result = align(net, (), timeout_s=max(variant_timeout_s, 30.0))
    if bwc_result is None:
        raise ConformanceError("the model's end cannot be reached from its start: no run of the model exists",
                               source=ref.name)
    # running="auto": the one case status decides (end activities inferred from the data, else the model's)
    ends = running_ends(log, fallback=net.end_labels(), end_activities=end_activities) if running == "auto" else None
    seqs = case_sequences(log)  # cached with the log
    per_variant = seqs.groupBy("seq").agg(F.count(F.lit(1)).alias("cases"), F.min("c").alias("first_case"))
    parts = 0
    if mode == "alignments":
        n_variants = per_variant.count()
        progress(0, max(n_variants, 1), "aligning variants on the cluster")
        # an explicit partition count (adaptive execution would put a few KB of variants into one task), at most
        # one task per core: a task keeps the aligner's memoised net steps warm for all of its variants
        parts = max(1, min(-(-n_variants // BATCH_VARIANTS), _cores(seqs.sparkSession)))
        schema = T.StructType(per_variant.schema.fields + [
            T.StructField("full", T.BinaryType()), T.StructField("pref", T.BinaryType()),
            T.StructField("running", T.BooleanType())])
        aligned = per_variant.repartition(parts).mapInPandas(
            _aligner(net, variant_timeout_s, frozenset(ends) if ends is not None else None, ends is not None),
            schema).toPandas()
    else:  # token replay: per variant, on the driver (the variants only)
        aligned = per_variant.toPandas()
        n_variants = len(aligned)
        aligned["running"] = [ends is not None and len(s) > 0 and str(s[-1]) not in ends for s in aligned["seq"]]
    aligned = aligned.sort_values("first_case", ignore_index=True)  # the local engine's variant order
    traces = [tuple(str(a) for a in s) for s in aligned["seq"]]
    vcounts = aligned["cases"].to_numpy(dtype=np.int64)
    empty = np.array([], dtype=np.int64)
    variants = Variants(traces, vcounts, np.array([], dtype=object), empty, empty, empty)
    running_variant = aligned["running"].to_numpy(dtype=bool)
    rows = []
    if mode == "alignments":
        full = [pickle.loads(b) for b in aligned["full"]]
        pref = [pickle.loads(b) for b in aligned["pref"]]
        chosen = [p if p is not None else f for f, p in zip(full, pref, strict=True)]
        as_prefix = [p is not None for p in pref]
        costs = np.array([r.cost if r is not None else -1 for r in full], dtype=np.int64)
        not_computed = [v for v, r in enumerate(full) if r is None]
        templates = {v: variant_templates(traces[v], r, element_of_transition=ref.element_of_transition,
                                          element_of_label=ref.element_of_label)
                     for v, r in enumerate(chosen) if r is not None and r.cost >= MOVE_COST}
        fitness = alignment_fitness(variants, costs, bwc_result.cost)
        element_counts, flow_counts, untraced = traversal_counts(net, ref.records, ref.initial_record, chosen,
                                                                 as_prefix, vcounts)
    else:
        from ..conformance.replay import token_replay_variants

        templates, fitness, costs = token_replay_variants(ref, variants)
        not_computed = []
        element_counts, flow_counts, untraced = {}, {}, 0
    for v, temps in sorted(templates.items()):
        for k, t in enumerate(temps):
            rows.append((v, k, t.kind, t.activity, t.position, t.element, t.expected, t.observed, t.message))
    for v in not_computed:
        rows.append((v, 0, "not_computed", None, -1, None, None, None,
                     f"no alignment within {variant_timeout_s:g} s for this sequence of {len(traces[v])} events; "
                     "the case is left out of fitness"))
    tmpl = pd.DataFrame(rows, columns=["v", "k", "kind", "activity", "position", "bpmn_element_id", "expected",
                                       "observed", "message"])
    progress(n_variants, max(n_variants, 1), "expanding deviations to cases")
    deviations = _expand(log, seqs, aligned, tmpl)
    rule_order: tuple[str, ...] = ()
    if rules is not None:
        from .rules import rule_deviations

        progress(n_variants, max(n_variants, 1), "checking the rules on the cluster")
        rule_rows, rule_order = rule_deviations(original if log is original else log, rules, roles=roles,
                                                lanes=ref.lanes, model_activities=ref.labels,
                                                element_of_label=ref.element_of_label)
        deviations = deviations.unionByName(_ranked(rule_rows, rule_order))
    if accepted is not None and accepted.patterns:
        deviations = _accept(deviations, accepted)
    deviations = _stepped(deviations)
    deviations, location = _store(deviations, deviations_to)
    method = _precision_method(precision)  # the variants are on the driver: precision is computed there, as locally
    prec, _ = precision_of(net, traces, vcounts, method)
    unknown = sorted({a for t in traces for a in t} - ref.labels)
    summary = _summary(seqs, aligned, deviations, mode=mode, fitness=fitness, precision=prec, costs=costs,
                       not_computed=not_computed, unknown=unknown, model_only=ref.model_only, renamed=renamed,
                       ignored=ignored, running=int(vcounts[running_variant].sum()) if len(vcounts) else 0)
    summary["precision_method"] = _PRECISION_METHODS.get(method or "", "not computed")
    if summary["events"] and not log.has_timestamps:
        summary["time_note"] = "the log has no timestamps: throughput times need them"
    summary["seconds"] = round(time.perf_counter() - started, 3)
    summary["alignment_work"] = {"engine": "spark", "variants": int(n_variants), "partitions": int(parts)}
    if log is not original:  # renamed / dropped activities: a log of its own (the deviations are cached by now)
        log.unpersist()
    nc = not_computed_table(traces, vcounts, not_computed)
    vt = variant_table(traces, vcounts, costs, running_variant)
    params = {"mode": mode, "engine": "spark", "variant_timeout_s": variant_timeout_s, "running": running,
              "activity_map": dict(activity_map or {}), "ignore_activities": sorted(ignored_set),
              "label_mapping": dict(label_mapping or {})}
    return SparkConformanceResult(deviations=deviations, summary=summary, not_computed=nc, unknown_activities=unknown,
                                  variants=vt, parameters=params, element_counts=element_counts,
                                  flow_counts=flow_counts, untraced_cases=untraced, deviations_location=location,
                                  rule_order=rule_order)


def _expand(log: SparkLog, seqs: Any, aligned: pd.DataFrame, tmpl: pd.DataFrame) -> Any:
    """One row per case and model deviation, on the cluster: templates × cases, event facts joined by position;
    ``_src`` 0 and ``_k1`` / ``_k2`` (position, template) order a case's rows as locally."""
    from pyspark.sql import functions as F

    spark = seqs.sparkSession
    keys = pd.DataFrame({"v": np.arange(len(aligned)), "seq": aligned["seq"]})
    tdf = tmpl.merge(keys, on="v")
    schema = ("v long, k long, kind string, activity string, position long, bpmn_element_id string, "
              "expected string, observed string, message string, seq array<string>")
    templates = spark.createDataFrame(tdf[["v", "k", "kind", "activity", "position", "bpmn_element_id", "expected",
                                           "observed", "message", "seq"]].astype(object).where(tdf.notna(), None)
                                      if len(tdf) else [], schema)
    cases = seqs.join(F.broadcast(templates), "seq").select("c", *[c for c in templates.columns if c != "seq"])
    # µs by integer division (a double division rounds ms times of today to ...999 µs)
    ev = log.events().select(F.col("c").alias("ec"), F.col("pos").alias("epos"),
                             F.expr("tns div 1000").alias("t"), "r", "o")
    # keyed by case only (the position is a residual condition, not a join key): both sides are already
    # partitioned by case, so the events are neither shuffled nor sorted again
    joined = cases.join(ev, (cases["c"] == ev["ec"]) & ((cases["position"] - ev["epos"]) == 0), "left")
    has_event = F.col("position") >= 0
    severity = F.create_map(*[F.lit(x) for kv in SEVERITY.items() for x in kv])
    out = joined.select(
        F.col("c").alias("case_id"), "kind", "activity", "message", F.lit(None).cast("string").alias("rule_id"),
        "bpmn_element_id", "expected", "observed",
        F.when(has_event, F.timestamp_micros(F.col("t"))).alias("timestamp"),
        F.when(has_event, F.col("r")).alias("resource"), F.element_at(severity, F.col("kind")).alias("severity"),
        F.when(has_event, F.col("o").cast("string")).otherwise(F.lit("")).alias("evidence"),
        F.lit(False).alias("accepted"), F.lit(None).cast("string").alias("accepted_reason"),
        F.lit(0).cast("long").alias("_src"), F.col("position").alias("_k1"), F.col("k").alias("_k2"))
    return out.select(*DEVIATION_COLUMNS, "_src", "_k1", "_k2")


def _rule_rank(rule_order: tuple[str, ...]) -> Any:
    """Each row's rule in the rule set's order (1, 2, ...; null for a model deviation), as a column."""
    from pyspark.sql import functions as F

    rank = F.create_map(*[F.lit(x) for i, r in enumerate(rule_order) for x in (r, i + 1)])
    return F.element_at(rank, F.col("rule_id"))


def _ranked(rule_rows: Any, rule_order: tuple[str, ...]) -> Any:
    """Rule rows with the order keys of :func:`_expand`: after the model's, in rule order, then as the local
    checker returned them."""
    from pyspark.sql import functions as F

    return rule_rows.select(*DEVIATION_COLUMNS, _rule_rank(rule_order).cast("long").alias("_src"),
                            F.col("_seq").alias("_k1"), F.lit(0).cast("long").alias("_k2"))


def _accept(deviations: Any, accepted: AcceptedDeviations) -> Any:
    """``accepted`` / ``accepted_reason`` set on the executors by :meth:`AcceptedDeviations.apply` (row by row,
    so a batch gets what the whole table would)."""

    def run(batches):  # noqa: ANN001, ANN202 - runs on the executors
        for batch in batches:
            got = accepted.apply(batch)
            got["accepted"] = got["accepted"].astype(bool)
            got["accepted_reason"] = got["accepted_reason"].astype(object).where(got["accepted_reason"].notna(),
                                                                                 None)
            yield got

    return deviations.mapInPandas(run, deviations.schema)


def _stepped(deviations: Any) -> Any:
    """The deviation table: ``DEVIATION_COLUMNS`` plus ``step`` (the row's rank in its case, the local order)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    step = F.row_number().over(Window.partitionBy("case_id").orderBy("_src", "_k1", "_k2")) - 1
    return deviations.select(*DEVIATION_COLUMNS, step.alias("step"))


def _store(deviations: Any, dest: str | None) -> tuple[Any, str | None]:
    """Written to ``dest`` and read back from there; without ``dest`` kept on the cluster (the summary and the
    collected table read it)."""
    if dest:
        _write(deviations, dest)
        spark = deviations.sparkSession
        return (spark.read.parquet(dest) if ("/" in dest or dest.lower().endswith(".parquet"))
                else spark.table(dest)), dest
    return deviations.persist(), None


def _r(x: Any) -> float | None:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return None
    return round(float(x), 4)


def _summary(seqs: Any, aligned: pd.DataFrame, dev: Any, *, mode: str, fitness: float | None,
             precision: float | None, costs: np.ndarray, not_computed: list[int], unknown: list[str],
             model_only: list[str], renamed: dict[str, int], ignored: dict[str, int], running: int) -> dict[str, Any]:
    """The summary of :func:`processmining.conformance.summary.summarise`: per-variant numbers from the driver,
    and a few aggregates over the deviation table on the cluster (cases per kind, activity and pattern, their
    median case duration, that of the conforming cases)."""
    from pyspark.sql import functions as F

    counts = aligned["cases"].to_numpy(dtype=np.int64)
    n_cases = int(counts.sum())
    n_events = int(sum(len(s) * c for s, c in zip(aligned["seq"], counts, strict=True)))
    computed = costs >= 0
    fitting = int(counts[computed & (costs < MOVE_COST)].sum()) if mode == "alignments" else \
        int(counts[costs == 0].sum())
    rows = {bool(r[0]): int(r[1]) for r in dev.groupBy("accepted").count().collect()}
    accepted_n, n_open = rows.get(True, 0), rows.get(False, 0)
    days = (F.col("d").cast("double") / 1e9 / 86_400.0).alias("days")
    durations = seqs.select(F.col("c").alias("case_id"), days)
    by_kind = dict.fromkeys(KIND_ORDER, 0.0)
    by_activity: dict[str, float] = {}
    patterns: list[dict[str, Any]] = []
    deviating = 0
    if n_open:
        def share(n: int) -> float:
            return round(n / n_cases, 6) if n_cases else 0.0

        open_dev = dev.filter(~F.col("accepted"))
        # a rule is one pattern whatever activity its rows name (e.g. max_idle names each case's last stage)
        act_key = F.when(F.col("kind") == "rule", F.lit("")).otherwise(F.coalesce(F.col("activity"), F.lit("")))
        for r in open_dev.groupBy("kind").agg(F.countDistinct("case_id").alias("n")).collect():
            by_kind[r["kind"]] = share(int(r["n"]))
        acts = open_dev.filter(F.col("activity").isNotNull()).groupBy("activity").agg(
            F.countDistinct("case_id").alias("n")).collect()
        by_activity = {str(r["activity"]): share(int(r["n"])) for r in sorted(acts, key=lambda r: r["activity"])}
        keyed = open_dev.select("case_id", "kind", act_key.alias("_act"),
                                F.coalesce(F.col("rule_id"), F.lit("")).alias("_rule")).distinct()
        per_pattern = keyed.join(durations, "case_id", "left").groupBy("kind", "_act", "_rule").agg(
            F.count(F.lit(1)).alias("n"), F.median("days").alias("m")).collect()
        rest = durations.join(open_dev.select("case_id").distinct(), "case_id", "left_anti").agg(
            F.count(F.lit(1)).alias("n"), F.median("days").alias("m")).first()
        deviating = n_cases - int(rest["n"])
        conforming = None if rest["m"] is None or not int(rest["n"]) else float(rest["m"])
        for r in per_pattern:
            n, m = int(r["n"]), r["m"]
            patterns.append({
                "kind": r["kind"], "activity": r["_act"] or None, "rule_id": r["_rule"] or None, "cases": n,
                "share": share(n), "median_throughput_days": _r(m),
                "median_throughput_days_conforming": _r(conforming),
                "throughput_delta_days": _r(m - conforming) if conforming is not None and m is not None else None})
        patterns.sort(key=lambda p: (-p["cases"], p["kind"], p["activity"] or "", p["rule_id"] or ""))
    return {
        "fitness": fitness,
        "fitness_method": "pm4py alignment-based log_fitness (1 - sum of alignment costs / sum of best-worst costs)"
        if mode == "alignments" else "pm4py token-based replay log fitness",
        "precision": precision,
        "precision_method": "pm4py ETC precision (token-based replay), precision_token_based_replay",
        "cases": n_cases, "events": n_events, "variants": len(aligned), "fitting_cases": fitting,
        "running_cases": running, "deviating_cases": deviating, "conforming_cases": n_cases - deviating,
        "conformance_rate": round((n_cases - deviating) / n_cases, 6) if n_cases else None,
        "accepted_deviations": accepted_n, "deviations": n_open, "share_by_kind": by_kind,
        "share_by_activity": by_activity, "patterns": patterns,
        "not_computed_variants": len(not_computed),
        "not_computed_cases": int(sum(int(counts[v]) for v in not_computed)),
        "unknown_activities": unknown, "model_only_activities": model_only,
        "renamed_activities": renamed, "ignored_activities": ignored,
    }
