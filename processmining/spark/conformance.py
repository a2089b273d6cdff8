"""Conformance on Spark: variants on the cluster, each variant aligned on an executor, deviations as a table.

1. The variants (distinct activity sequences) are computed on the cluster.
2. ``mapInPandas`` over batches of variants runs the project's own aligner
   (:func:`processmining.conformance.alignment.align`, the function the local
   engine calls per variant) on the executors; the compiled net travels with
   the task. Only one alignment per *variant* comes back to the driver.
3. The driver turns alignments into deviation templates, fitness, precision
   and traversal counts with the local engine's functions.
4. The templates are joined to the cases and their events on the cluster;
   the per-case deviation table is written to ``deviations_to`` (Parquet path
   or table name) and never collected. The summary needs only per-variant
   numbers plus median case durations per pattern (one aggregate).
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
from ..conformance.alignment import MOVE_COST, align
from ..conformance.check import _PRECISION_METHODS, alignment_fitness
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

    def deviation_table(self) -> pd.DataFrame:
        """The per-case deviations on the driver, as the local engine's table: cases in id order, each case's
        deviations in model order, timestamps in UTC. Only for results that fit one machine."""
        out = self.deviations.orderBy("case_id", "step").drop("step").toPandas()
        ts = pd.to_datetime(out["timestamp"])
        out["timestamp"] = ts.dt.tz_localize("UTC") if ts.dt.tz is None else ts.dt.tz_convert("UTC")
        return out


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
    df = log.df
    if mapping:
        lookup = F.create_map(*[F.lit(x) for kv in mapping.items() for x in kv])
        df = df.withColumn(ACTIVITY, F.coalesce(F.element_at(lookup, F.col(ACTIVITY)), F.col(ACTIVITY)))
    if ignore:
        df = df.filter(~F.col(ACTIVITY).isin(sorted(ignore)))
    return SparkLog(df=df, report=log.report, name=log.name), renamed, dropped


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
    variant_timeout_s: float = 10.0,
    label_mapping: Mapping[str, str] | None = None,
    activity_map: Mapping[str, str] | None = None,
    ignore_activities: Iterable[str] = (),
    running: Literal["auto", "none"] = "auto",
    precision: bool = True,
    deviations_to: str | None = None,
    progress: ProgressFn = no_progress,
) -> SparkConformanceResult:
    """Check ``log`` against ``model`` on Spark; the numbers of :func:`processmining.conformance.conform`.

    Alignment mode only, without audit rules or accepted deviations (run
    those locally on the deviation table). ``running`` is ``"auto"`` or
    ``"none"``. The per-case deviations are written to ``deviations_to``.

    >>> result = conform(read_events(spark, "lake.crm_events"), read_bpmn("lead_to_order.bpmn"),  # doctest: +SKIP
    ...                  deviations_to="lake.crm_deviations")
    >>> result.summary["fitness"], result.summary["deviating_cases"]                              # doctest: +SKIP
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    started = time.perf_counter()
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
    ends = running_ends(log, fallback=net.end_labels()) if running == "auto" else None
    seqs = case_sequences(log)  # cached with the log
    per_variant = seqs.groupBy("seq").agg(F.count(F.lit(1)).alias("cases"), F.min("c").alias("first_case"))
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
    aligned = aligned.sort_values("first_case", ignore_index=True)  # the local engine's variant order
    traces = [tuple(str(a) for a in s) for s in aligned["seq"]]
    vcounts = aligned["cases"].to_numpy(dtype=np.int64)
    empty = np.array([], dtype=np.int64)
    variants = Variants(traces, vcounts, np.array([], dtype=object), empty, empty, empty)
    full = [pickle.loads(b) for b in aligned["full"]]
    pref = [pickle.loads(b) for b in aligned["pref"]]
    running_variant = aligned["running"].to_numpy(dtype=bool)
    chosen = [p if p is not None else f for f, p in zip(full, pref, strict=True)]
    as_prefix = [p is not None for p in pref]
    costs = np.array([r.cost if r is not None else -1 for r in full], dtype=np.int64)
    not_computed = [v for v, r in enumerate(full) if r is None]
    rows = []
    for v, r in enumerate(chosen):
        if r is not None and r.cost >= MOVE_COST:
            for k, t in enumerate(variant_templates(traces[v], r, element_of_transition=ref.element_of_transition,
                                                    element_of_label=ref.element_of_label)):
                rows.append((v, k, t.kind, t.activity, t.position, t.element, t.expected, t.observed, t.message))
    for v in not_computed:
        rows.append((v, 0, "not_computed", None, -1, None, None, None,
                     f"no alignment within {variant_timeout_s:g} s for this sequence of {len(traces[v])} events; "
                     "the case is left out of fitness"))
    tmpl = pd.DataFrame(rows, columns=["v", "k", "kind", "activity", "position", "bpmn_element_id", "expected",
                                       "observed", "message"])
    progress(n_variants, max(n_variants, 1), "expanding deviations to cases")
    deviations, location = _expand(log, seqs, aligned, tmpl, deviations_to)
    fitness = alignment_fitness(variants, costs, bwc_result.cost)
    element_counts, flow_counts, untraced = traversal_counts(net, ref.records, ref.initial_record, chosen,
                                                             as_prefix, vcounts)
    prec = None
    if precision:
        from ..conformance.precision import etc_precision

        prec = etc_precision(net, traces, vcounts)
    unknown = sorted({a for t in traces for a in t} - ref.labels)
    summary = _summary(seqs, aligned, tmpl, fitness=fitness, precision=prec, costs=costs,
                       not_computed=not_computed, unknown=unknown, model_only=ref.model_only, renamed=renamed,
                       ignored=ignored, running=int(vcounts[running_variant].sum()) if len(vcounts) else 0)
    summary["precision_method"] = _PRECISION_METHODS["token_replay"] if precision else "not computed"
    if summary["events"] and not log.has_timestamps:
        summary["time_note"] = "the log has no timestamps: throughput times need them"
    summary["seconds"] = round(time.perf_counter() - started, 3)
    summary["alignment_work"] = {"engine": "spark", "variants": int(n_variants), "partitions": int(parts)}
    if log is not original:  # renamed / dropped activities: a log of its own, released here
        log.unpersist()
    nc = pd.DataFrame({"variant": [" → ".join(traces[v]) for v in not_computed],
                       "events": [len(traces[v]) for v in not_computed],
                       "cases": [int(vcounts[v]) for v in not_computed]})
    vt = pd.DataFrame({"variant": [" → ".join(t) for t in traces], "cases": vcounts, "cost": costs,
                       "fitting": [c >= 0 and c < MOVE_COST for c in costs], "running": running_variant})
    params = {"mode": "alignments", "engine": "spark", "variant_timeout_s": variant_timeout_s, "running": running,
              "activity_map": dict(activity_map or {}), "ignore_activities": sorted(ignored_set),
              "label_mapping": dict(label_mapping or {})}
    return SparkConformanceResult(deviations=deviations, summary=summary, not_computed=nc, unknown_activities=unknown,
                                  variants=vt, parameters=params, element_counts=element_counts,
                                  flow_counts=flow_counts, untraced_cases=untraced, deviations_location=location)


def _expand(log: SparkLog, seqs: Any, aligned: pd.DataFrame, tmpl: pd.DataFrame,
            dest: str | None) -> tuple[Any, str | None]:
    """One row per case and deviation, on the cluster: templates × cases, event facts joined by position."""
    from pyspark.sql import Window
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
    ev = log.events().select(F.col("c").alias("ec"), F.col("pos").alias("epos"),
                             (F.col("tns") / F.lit(1000)).cast("long").alias("t"), "r", "o")
    # keyed by case only (the position is a residual condition, not a join key): both sides are already
    # partitioned by case, so the events are neither shuffled nor sorted again
    joined = cases.join(ev, (cases["c"] == ev["ec"]) & ((cases["position"] - ev["epos"]) == 0), "left")
    has_event = F.col("position") >= 0
    severity = F.create_map(*[F.lit(x) for kv in SEVERITY.items() for x in kv])
    step = F.row_number().over(Window.partitionBy("c").orderBy("position", "k")) - 1
    out = joined.select(
        F.col("c").alias("case_id"), "kind", "activity", "message", F.lit(None).cast("string").alias("rule_id"),
        "bpmn_element_id", "expected", "observed",
        F.when(has_event, F.timestamp_micros(F.col("t"))).alias("timestamp"),
        F.when(has_event, F.col("r")).alias("resource"), F.element_at(severity, F.col("kind")).alias("severity"),
        F.when(has_event, F.col("o").cast("string")).otherwise(F.lit("")).alias("evidence"),
        F.lit(False).alias("accepted"), F.lit(None).cast("string").alias("accepted_reason"), step.alias("step"))
    out = out.select(*DEVIATION_COLUMNS, "step")
    if dest:
        _write(out, dest)
        out = spark.read.parquet(dest) if ("/" in dest or dest.lower().endswith(".parquet")) else spark.table(dest)
    return out, dest


def _r(x: Any) -> float | None:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return None
    return round(float(x), 4)


def _summary(seqs: Any, aligned: pd.DataFrame, tmpl: pd.DataFrame, *, fitness: float | None,
             precision: float | None, costs: np.ndarray, not_computed: list[int], unknown: list[str],
             model_only: list[str], renamed: dict[str, int], ignored: dict[str, int], running: int) -> dict[str, Any]:
    """The summary of :func:`processmining.conformance.summary.summarise`, from per-variant numbers and one
    cluster aggregate (median case duration per deviation pattern and of the conforming cases)."""
    from pyspark.sql import functions as F

    counts = aligned["cases"].to_numpy(dtype=np.int64)
    n_cases = int(counts.sum())
    n_events = int(sum(len(s) * c for s, c in zip(aligned["seq"], counts, strict=True)))
    dev_v = sorted(set(tmpl["v"].tolist()))
    deviating = int(counts[dev_v].sum()) if dev_v else 0
    computed = costs >= 0
    fitting = int(counts[computed & (costs < MOVE_COST)].sum())

    def share_of(vs: Iterable[int]) -> float:
        vs = sorted(set(vs))
        return round(int(counts[vs].sum()) / n_cases, 6) if n_cases and vs else 0.0

    by_kind = {k: share_of(tmpl.loc[tmpl["kind"] == k, "v"]) for k in KIND_ORDER}
    acts = tmpl.dropna(subset=["activity"])
    by_activity = {str(a): share_of(g["v"]) for a, g in acts.groupby("activity", sort=True)}
    keyed = tmpl.assign(_act=tmpl["activity"].fillna(""))[["v", "kind", "_act"]].drop_duplicates()
    patterns: list[dict[str, Any]] = []
    if len(keyed):
        spark = seqs.sparkSession
        keys = pd.DataFrame({"v": np.arange(len(aligned)), "seq": aligned["seq"]})
        pv = spark.createDataFrame(keyed.merge(keys, on="v")[["seq", "kind", "_act"]].astype(object),
                                   "seq array<string>, kind string, _act string")
        days = (F.col("d").cast("double") / 1e9 / 86_400.0)
        med = {(r["kind"], r["_act"]): r["m"] for r in
               seqs.join(F.broadcast(pv), "seq").groupBy("kind", "_act").agg(F.median(days).alias("m")).collect()}
        dev_seqs = spark.createDataFrame(keys.iloc[dev_v][["seq"]].astype(object), "seq array<string>")
        conf_row = seqs.join(F.broadcast(dev_seqs), "seq", "left_anti").agg(F.median(days)).first()[0] \
            if deviating < n_cases else None
        conforming = None if conf_row is None else float(conf_row)
        for (kind, act), g in keyed.groupby(["kind", "_act"], sort=False):
            n = int(counts[sorted(set(g["v"]))].sum())
            m = med.get((kind, act))
            patterns.append({
                "kind": kind, "activity": act or None, "rule_id": None, "cases": n,
                "share": round(n / n_cases, 6) if n_cases else 0.0, "median_throughput_days": _r(m),
                "median_throughput_days_conforming": _r(conforming),
                "throughput_delta_days": _r(m - conforming) if conforming is not None and m is not None else None})
        patterns.sort(key=lambda p: (-p["cases"], p["kind"], p["activity"] or "", p["rule_id"] or ""))
    n_dev_rows = int(sum(int(counts[v]) for v in tmpl["v"]))
    return {
        "fitness": fitness,
        "fitness_method": "pm4py alignment-based log_fitness (1 - sum of alignment costs / sum of best-worst costs)",
        "precision": precision,
        "precision_method": "pm4py ETC precision (token-based replay), precision_token_based_replay",
        "cases": n_cases, "events": n_events, "variants": len(aligned), "fitting_cases": fitting,
        "running_cases": running, "deviating_cases": deviating, "conforming_cases": n_cases - deviating,
        "conformance_rate": round((n_cases - deviating) / n_cases, 6) if n_cases else None,
        "accepted_deviations": 0, "deviations": n_dev_rows, "share_by_kind": by_kind,
        "share_by_activity": by_activity, "patterns": patterns,
        "not_computed_variants": len(not_computed),
        "not_computed_cases": int(sum(int(counts[v]) for v in not_computed)),
        "unknown_activities": unknown, "model_only_activities": model_only,
        "renamed_activities": renamed, "ignored_activities": ignored,
    }
