"""Reading an event log into Spark: Parquet, CSV, a table name or a Spark DataFrame.

The same column mapping and presets as :func:`processmining.ingest.read_log`
(long and transition / field-history shapes), the same timestamp parser (run
on the executors, one Arrow batch at a time), the same quarantine reasons and
the same row accounting::

    rows_read == events + quarantined + collapsed_duplicates + sum(filtered)

Quarantined rows are written to ``quarantine_to`` (a Parquet path or a table
name) on the cluster and only counted on the driver.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import IngestError
from ..ingest.assemble import MISSING_ACTIVITY, MISSING_CASE, MISSING_TIMESTAMP
from ..ingest.presets import Preset, detect_preset, get_preset
from ..model import (
    ACTIVITY,
    CASE,
    ORDER,
    RESOURCE,
    SOURCE_ROW,
    START_TIMESTAMP,
    TIMESTAMP,
    ColumnMapping,
)
from .frame import SparkLog
from .lifecycle import lifecycle_note, pair_lifecycle

DELTA_MISSING = ("Spark cannot read it as delta: this Spark has no Delta Lake (the cluster needs the "
                 "io.delta:delta-spark_2.13 jar of its Spark version and the Delta session extensions; see the README, "
                 "\"Running on a Spark cluster\"), or read a catalog table by name with --source-format table")
UNKNOWN_FIRST_STAGE = "creation row, but the first stage is unknown (no stage change with an old value)"
CANONICAL = ColumnMapping(case=CASE, activity=ACTIVITY, timestamp=TIMESTAMP)


@dataclass
class SparkIngestReport:
    """What happened to every input row; like :class:`~processmining.model.IngestReport`, counted on the cluster.

    ``quarantined`` is a number; the rows themselves (row, reason, column,
    value) are in ``quarantine_location`` (or ``quarantine`` as a DataFrame).
    """

    source: str
    shape: str = "long"
    preset: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    timezone: str = "UTC"
    rows_read: int = 0
    events: int = 0
    cases: int = 0
    quarantined: int = 0
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    collapsed_duplicates: int = 0
    duplicate_events: int = 0
    filtered: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    quarantine_location: str | None = None
    quarantine: Any = field(default=None, repr=False)
    #: False for an order-only table (no event has a time): the input order is the event order
    has_timestamps: bool = True
    #: start/complete pairing counts, as the local report's (see :mod:`.lifecycle`)
    lifecycle: dict[str, int] = field(default_factory=dict)

    def check_balance(self) -> None:
        accounted = self.events + self.quarantined + self.collapsed_duplicates + sum(self.filtered.values())
        if accounted != self.rows_read:
            raise AssertionError(f"ingest accounting broken for {self.source}: rows_read={self.rows_read} but "
                                 f"events + quarantined + collapsed + filtered = {accounted}")

    def summary(self) -> str:
        lines = [f"{self.source}: {self.events:,} events in {self.cases:,} cases from {self.rows_read:,} rows "
                 f"({self.shape}{', preset ' + self.preset if self.preset else ''}; Spark)"]
        if self.quarantined:
            where = f" (written to {self.quarantine_location})" if self.quarantine_location else \
                " (pass --quarantine-to to keep them)"
            lines.append(f"  quarantined: {self.quarantined:,} rows{where}")
            for reason, n in sorted(self.quarantined_by_reason.items(), key=lambda kv: -kv[1])[:5]:
                lines.append(f"    {n:,} × {reason}")
        if self.collapsed_duplicates:
            lines.append(f"  collapsed consecutive repeated stages: {self.collapsed_duplicates:,}")
        if self.duplicate_events:
            lines.append(f"  duplicate events kept: {self.duplicate_events:,}")
        for reason, n in self.filtered.items():
            lines.append(f"  not used: {n:,} rows ({reason})")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


# ------------------------------------------------------------------ raw input
def read_source(spark: Any, source: Any, *, fmt: str = "auto") -> tuple[Any, str, str]:
    """``(DataFrame, kind, name)`` for a path (Parquet file/folder, CSV/TSV), a table name or a DataFrame."""
    from pyspark.sql import DataFrame

    if isinstance(source, DataFrame) or type(source).__name__ == "DataFrame":
        return source, "dataframe", "dataframe"
    text = str(source)
    if text.startswith(("http://", "https://")):
        raise IngestError("refusing to read a URL; give a path, a table name or a DataFrame", source=text)
    low = text.lower().rstrip("/")
    if fmt == "auto":
        import os

        if low.endswith((".csv", ".tsv", ".txt", ".csv.gz")):
            fmt = "csv"
        elif low.endswith(".parquet") or os.path.isdir(text) or "://" in text:
            fmt = "parquet"
        elif os.path.exists(text):
            raise IngestError("the Spark engine reads Parquet and CSV files or table names; convert other "
                              "formats first (processmining convert)", source=text)
        else:
            fmt = "table"
    try:
        if fmt == "csv":
            sep = "\t" if low.endswith(".tsv") else ","
            df = spark.read.csv(text, header=True, sep=sep, inferSchema=False, escape='"', multiLine=False)
        elif fmt == "parquet":
            df = spark.read.parquet(text)
        elif fmt in ("table", "delta"):
            df = spark.read.format("delta").load(text) if fmt == "delta" else spark.read.table(text)
        else:
            raise IngestError(f"unknown source format {fmt!r}: use auto, parquet, csv, delta or table", source=text)
    except IngestError:
        raise
    except Exception as exc:  # noqa: BLE001 - AnalysisException and friends become one line
        if fmt == "delta" and "DATA_SOURCE_NOT_FOUND" in str(exc):
            raise IngestError(DELTA_MISSING, source=text) from None
        # py4j puts "An error occurred while calling o123.load." before the Java message
        lines = [ln.strip().lstrip(": ") for ln in str(exc).splitlines()
                 if ln.strip() and not ln.startswith("An error occurred while calling")]
        first = (lines or [type(exc).__name__])[0]
        raise IngestError(f"Spark cannot read it as {fmt}: {first[:300]}", source=text) from None
    return df, fmt, text


def with_row_numbers(df: Any, start: int) -> tuple[Any, int]:
    """``_order`` (0-based input position) and ``_row`` (``_order + start``), exact and without a global sort;
    and the number of rows.

    ``monotonically_increasing_id`` is (partition << 33) + index in partition;
    one count per partition turns it into the global position.
    """
    from pyspark.sql import functions as F

    tagged = df.withColumn("_mid", F.monotonically_increasing_id())
    counts = sorted((r["p"], r["n"]) for r in
                    tagged.groupBy(F.shiftright(F.col("_mid"), 33).alias("p")).agg(F.count(F.lit(1)).alias("n")).collect())
    offsets, total = [], 0
    for p, n in counts:
        offsets += [F.lit(int(p)), F.lit(total)]
        total += n
    part = F.shiftright(F.col("_mid"), 33)
    offset = F.element_at(F.create_map(*offsets), part) if offsets else F.lit(0)
    order = (offset + (F.col("_mid") - F.shiftleft(part, 33))).cast("long")
    return tagged.withColumn("_order", order).withColumn("_row", order + start).drop("_mid"), total


def _column(df: Any, name: str | None, role: str, source: str) -> str:
    if name is None:
        raise IngestError(f"no {role} column given; columns are: {', '.join(map(repr, df.columns))}", source=source)
    if name in df.columns:
        return name
    lowered = {c.lower(): c for c in df.columns}
    if name.lower() in lowered:
        return lowered[name.lower()]
    raise IngestError(f"{role} column {name!r} not found; columns are: {', '.join(map(repr, df.columns))}",
                      source=source)


def _first_present(df: Any, candidates: tuple[str, ...], role: str, source: str) -> str:
    lowered = {c.lower(): c for c in df.columns}
    for c in candidates:
        if c in df.columns or c.lower() in lowered:
            return c if c in df.columns else lowered[c.lower()]
    raise IngestError(f"{role} column not found: expected one of {', '.join(map(repr, candidates))}",
                      source=source)


def _blank_to_null(col: Any) -> Any:
    from pyspark.sql import functions as F

    text = col.cast("string")
    return F.when(F.trim(text) == "", F.lit(None).cast("string")).otherwise(text)


def _parse_times(df: Any, column: str, out: str, *, dayfirst: bool | None, timezone: str, source: str) -> Any:
    """Add ``out`` (UTC timestamp) and ``out + '_err'`` for ``column``: typed columns as they are, text parsed
    on the executors by :func:`processmining.ingest.timestamps.parse_timestamps` (the local parser)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    kind = df.schema[column].dataType
    if isinstance(kind, T.TimestampType):
        return df.withColumn(out, F.col(column)).withColumn(out + "_err", F.lit(None).cast("string"))
    if isinstance(kind, (T.TimestampNTZType, T.DateType)):
        return df.withColumn(out, F.to_utc_timestamp(F.col(column).cast("timestamp_ntz"), timezone)) \
                 .withColumn(out + "_err", F.lit(None).cast("string"))
    schema = T.StructType([T.StructField("t", T.TimestampType()), T.StructField("e", T.StringType())])

    @F.pandas_udf(schema)
    def parse(values):  # noqa: ANN001, ANN202 - runs on the executors
        import pandas as pd

        from processmining.ingest.timestamps import parse_timestamps

        got = parse_timestamps(values.astype("string"), column=column, source=source, dayfirst=dayfirst,
                               timezone=timezone)
        return pd.DataFrame({"t": got.values.dt.tz_convert("UTC"), "e": got.errors.astype(object)})

    parsed = parse(_blank_to_null(F.col(column)))
    return df.withColumn("_p", parsed).withColumn(out, F.col("_p.t")).withColumn(out + "_err", F.col("_p.e")) \
             .drop("_p")


# ------------------------------------------------------------------ shapes
def _long(df: Any, m: dict[str, str], *, dayfirst: bool | None, timezone: str, source: str) -> tuple[Any, dict]:
    from pyspark.sql import functions as F

    cols = {"case": _column(df, m.get("case"), "case", source),
            "activity": _column(df, m.get("activity"), "activity", source),
            "timestamp": _column(df, m.get("timestamp"), "timestamp", source)}
    for role in ("resource", "end_timestamp"):
        if m.get(role):
            cols[role] = _column(df, m[role], role.replace("_", " "), source)
    staged = df.withColumn("_case", _blank_to_null(F.col(cols["case"]))) \
               .withColumn("_activity", _blank_to_null(F.col(cols["activity"])))
    staged = _parse_times(staged, cols["timestamp"], "_ts", dayfirst=dayfirst, timezone=timezone, source=source)
    staged = staged.withColumn("_ts_col", F.lit(cols["timestamp"])) \
                   .withColumn("_ts_raw", F.col(cols["timestamp"]).cast("string"))
    if "end_timestamp" in cols:
        staged = _parse_times(staged, cols["end_timestamp"], "_end", dayfirst=dayfirst, timezone=timezone,
                              source=source)
        bad_end = F.col("_end_err").isNotNull() & F.col("_ts_err").isNull()
        staged = staged.withColumn("_start", F.col("_ts")) \
            .withColumn("_ts_col", F.when(bad_end, F.lit(cols["end_timestamp"])).otherwise(F.col("_ts_col"))) \
            .withColumn("_ts_raw", F.when(bad_end, F.col(cols["end_timestamp"]).cast("string"))
                        .otherwise(F.col("_ts_raw"))) \
            .withColumn("_ts_err", F.when(bad_end, F.col("_end_err")).otherwise(F.col("_ts_err"))) \
            .withColumn("_ts", F.coalesce(F.col("_end"), F.col("_ts")))
    if "resource" in cols:
        staged = staged.withColumn("_resource", _blank_to_null(F.col(cols["resource"])))
    return staged.withColumn("_reason_activity", F.lit(None).cast("string")), cols


def _transition(df: Any, preset: Preset, m: dict[str, str], *, dayfirst: bool | None, timezone: str,
                source: str) -> tuple[Any, dict, Any]:
    """Field-history rows: stage-field rows become events, creation rows the first stage, other fields filtered."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    lowered = {c.lower() for c in df.columns}
    cols = {"case": m.get("case") or _first_present(df, preset.case, "case", source),
            "field": _column(df, preset.field, "field", source),
            "activity": _column(df, m.get("activity") or preset.activity, "new value", source),
            "timestamp": _column(df, m.get("timestamp") or preset.timestamp, "timestamp", source)}
    old = preset.old_value if preset.old_value and preset.old_value.lower() in lowered else None
    if old:
        cols["old_value"] = _column(df, old, "old value", source)
    res = m.get("resource") or (preset.resource if preset.resource and preset.resource.lower() in lowered else None)
    if res:
        cols["resource"] = _column(df, res, "resource", source)
    fld = F.trim(F.col(cols["field"]).cast("string"))
    low = F.coalesce(F.lower(fld), F.lit(""))
    is_stage = low.isin([s.lower() for s in preset.stage_fields])
    is_created = low.isin([s.lower() for s in preset.created_values]) & ~is_stage if preset.created_values \
        else F.lit(False)
    activity = _blank_to_null(F.col(cols["activity"]))
    if preset.activity_fallback and preset.activity_fallback in df.columns:
        activity = F.coalesce(activity, _blank_to_null(F.col(preset.activity_fallback)))
    old_s = _blank_to_null(F.col(cols["old_value"])) if old else F.lit(None).cast("string")
    if preset.old_value_fallback and preset.old_value_fallback in df.columns:
        old_s = F.coalesce(old_s, _blank_to_null(F.col(preset.old_value_fallback)))
    staged = df.withColumn("_fld", fld).withColumn("_is_stage", is_stage).withColumn("_is_created", is_created) \
        .withColumn("_case", _blank_to_null(F.col(cols["case"]))).withColumn("_new", activity)
    # the whole column is parsed, as locally: other fields' times order their values too
    staged = _parse_times(staged, cols["timestamp"], "_ts", dayfirst=dayfirst, timezone=timezone, source=source)
    other = staged.filter(~F.col("_is_stage") & ~F.col("_is_created"))
    staged = staged.filter(F.col("_is_stage") | F.col("_is_created")).withColumn("_old", old_s)
    # the first stage of a case: the old value of its earliest stage change (unparseable times last)
    w = Window.partitionBy("_case").orderBy(F.col("_ts").asc_nulls_last(), F.col("_order"))
    firsts = staged.filter(F.col("_is_stage") & F.col("_case").isNotNull()) \
        .withColumn("_k", F.row_number().over(w)).filter(F.col("_k") == 1) \
        .select(F.col("_case").alias("_fc"), F.col("_old").alias("_first_old"))
    staged = staged.join(firsts, staged["_case"] == firsts["_fc"], "left").drop("_fc")
    first_stage = F.col("_first_old")
    if preset.nested == "jira" and "current" in df.columns:
        first_stage = F.coalesce(first_stage, _blank_to_null(F.col("current")))
    staged = staged.withColumn("_activity", F.when(F.col("_is_created"), first_stage).otherwise(F.col("_new"))) \
        .withColumn("_reason_activity", F.when(F.col("_is_created") & F.col("_activity").isNull(),
                                               F.lit(UNKNOWN_FIRST_STAGE)).otherwise(F.lit(None).cast("string"))) \
        .withColumn("_ts_col", F.lit(cols["timestamp"])).withColumn("_ts_raw", F.col(cols["timestamp"]).cast("string"))
    if res:
        staged = staged.withColumn("_resource", _blank_to_null(F.col(cols["resource"])))
    staged, names = _case_attributes(staged, other)
    return staged, cols, other, names


def _case_attributes(staged: Any, other: Any) -> tuple[Any, list[str]]:
    """The latest value per case of each other field as the case attribute ``case:<Field>`` (the most frequent
    fields, in name order), as the local transition shape keeps them; joined onto the events by case."""
    from pyspark.sql import functions as F

    from ..ingest.shapes import MAX_CASE_ATTRIBUTES

    fields = [r["_fld"] for r in other.filter(F.coalesce(F.col("_fld"), F.lit("")) != "")
              .groupBy("_fld").count().orderBy(F.desc("count"), "_fld").limit(MAX_CASE_ATTRIBUTES).collect()]
    if not fields:
        return staged, []
    # by time (unparseable times count as oldest), then input order; the last one wins
    key = F.coalesce(F.unix_micros(F.col("_ts")), F.lit(-(2 ** 63)))
    latest = other.filter(F.col("_case").isNotNull() & F.col("_fld").isin(fields)) \
        .groupBy("_case", "_fld").agg(F.max(F.struct(key.alias("k"), F.col("_order"), F.col("_new"))).alias("_l")) \
        .groupBy(F.col("_case").alias("_ac")).pivot("_fld", sorted(fields)).agg(F.first(F.col("_l._new")))
    names = [f"case:{f}" for f in sorted(fields)]
    latest = latest.select("_ac", *[F.col(f"`{f}`").cast("string").alias(n) for f, n in zip(sorted(fields), names, strict=True)])
    return staged.join(latest, staged["_case"] == latest["_ac"], "left").drop("_ac"), names


# ------------------------------------------------------------------ the log
def read_events(
    spark: Any,
    source: Any,
    *,
    fmt: str = "auto",
    preset: str | None = None,
    mapping: ColumnMapping | None = None,
    dayfirst: bool | None = None,
    timezone: str = "UTC",
    quarantine_to: str | None = None,
    name: str | None = None,
    lifecycle: str = "instances",
    stage_labels: Mapping[str, str] | None = None,
) -> SparkLog:
    """Read ``source`` (Parquet / CSV path, table name, Spark DataFrame) into a :class:`SparkLog`.

    A table that already has the canonical columns (``case:concept:name``,
    ``concept:name``, ``time:timestamp``, e.g. written by ``processmining
    convert`` or :func:`processmining.ingest.write_log`) needs no mapping;
    otherwise pass ``preset`` or ``mapping`` as for the local ingest (a preset
    is recognised from the columns when neither is given). ``lifecycle``:
    start / complete events are paired into activity instances as locally
    (``"instances"``, see :mod:`.lifecycle`), named ``activity+transition``
    (``"classifier"``) or kept as read (``"events"``). In the long shape every
    other input column is kept as an event attribute (text), as locally.
    ``stage_labels`` maps stage ids (HubSpot, ServiceNow, Pipedrive) to labels
    before repeated stages are collapsed, as locally.

    The event order (``@@index``, the tie-break of equal times and the event
    numbers a deviation's ``evidence`` cites) of a Parquet or CSV file is the
    row's position in the file, as the local ingest numbers it; a canonical
    file's own ``@@index`` and ``@@source_row`` (a converted export, perhaps
    re-sorted since) are kept as the attributes ``index (input)`` and
    ``source_row (input)``, as locally. A table or a DataFrame has no file
    order: its ``@@index`` is its event order.

    >>> log = read_events(spark, "s3://lake/crm/opportunity_history/", preset="salesforce-field-history")  # doctest: +SKIP
    >>> log.report.rows_read, log.report.events, log.report.quarantined                              # doctest: +SKIP
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    raw, kind, label = read_source(spark, source, fmt=fmt)
    label = name or label
    chosen = get_preset(preset) if preset else None
    m = mapping.to_dict() if mapping else {}
    warnings: list[str] = []
    canonical = {CASE, ACTIVITY, TIMESTAMP} <= set(raw.columns)
    if chosen is None and not m and not canonical:
        chosen = detect_preset(list(raw.columns))
        if chosen is None:
            raise IngestError("name the columns (--case/--activity/--timestamp) or a --preset; columns are: "
                              + ", ".join(map(repr, raw.columns)), source=label)
        warnings.append(f"layout recognised as preset {chosen.name!r}")
    plain = chosen is None and not m  # canonical columns, no mapping
    if chosen is None and not m:
        m = CANONICAL.to_dict()
        for role, col in (("resource", RESOURCE), ("end_timestamp", None)):
            if col and col in raw.columns:
                m[role] = col
    # an order-only table (canonical columns, no event time at all), as the local XES / CSV readers allow
    order_only = canonical and plain and \
        raw.filter(F.col(TIMESTAMP).isNotNull()).limit(1).count() == 0 and raw.limit(1).count() > 0
    if order_only:
        raw = raw.withColumn(TIMESTAMP, F.lit(None).cast("timestamp"))
        warnings.append("no timestamps: events are ordered as in the table; time-based analyses are unavailable")
    stored_order = ORDER in raw.columns and canonical and not chosen and kind in ("table", "delta", "dataframe")
    if stored_order:
        df = raw.withColumn("_order", F.col(ORDER).cast("long"))
        df = df.withColumn("_row", F.col(SOURCE_ROW).cast("long") if SOURCE_ROW in raw.columns
                           else F.col("_order") + 1)
        rows_read = None
    else:
        df, rows_read = with_row_numbers(raw, 2 if kind == "csv" else 1)
    other, case_attrs = None, []
    if chosen is not None and chosen.shape == "transition" and not (m and chosen.shape == "long"):
        staged, cols, other, case_attrs = _transition(df, chosen, m, dayfirst=dayfirst, timezone=timezone,
                                                      source=label)
    elif chosen is not None and chosen.shape == "wide":
        raise IngestError(f"preset {chosen.name!r} (wide shape) is not supported on the Spark engine; convert it "
                          "first with processmining convert", source=label)
    else:
        if chosen is not None:
            base = {"case": _first_present(df, chosen.case, "case", label), "activity": chosen.activity,
                    "timestamp": chosen.timestamp, "end_timestamp": chosen.end_timestamp,
                    "resource": chosen.resource if chosen.resource in df.columns else None}
            m = {**{k: v for k, v in base.items() if v}, **m}
        staged, cols = _long(df, m, dayfirst=dayfirst, timezone=timezone, source=label)
    unlabelled = None
    if stage_labels:
        staged, unlabelled = _apply_stage_labels(staged, stage_labels)
    if START_TIMESTAMP in raw.columns and canonical and "_start" not in staged.columns:
        staged = staged.withColumn("_start", F.col(START_TIMESTAMP).cast("timestamp"))
    # quarantine: the first missing piece wins, as in the local assemble step
    reason = (F.when(F.col("_case").isNull(), F.lit(MISSING_CASE))
              .when(F.col("_activity").isNull(),
                    F.when(F.col("_reason_activity").isNull(), F.lit(MISSING_ACTIVITY))
                    .otherwise(F.concat(F.lit(MISSING_ACTIVITY + ": "), F.col("_reason_activity"))))
              .when(F.col("_ts_err").isNotNull(),
                    F.concat(F.col("_ts_err"), F.lit(": '"), F.col("_ts_raw"), F.lit("'")))
              .when(F.col("_ts").isNull() & F.lit(not order_only), F.lit(MISSING_TIMESTAMP)))
    column = (F.when(F.col("_case").isNull(), F.lit(cols["case"]))
              .when(F.col("_activity").isNull(), F.lit(cols.get("activity")))
              .otherwise(F.col("_ts_col")))
    staged = staged.withColumn("_reason", reason).withColumn("_qcol", column)
    # text times are parsed by Python on the executors, field histories joined and windowed: keep such staged
    # rows while reading; typed long tables are only scanned again (cheaper than building a cache of them)
    expensive = (chosen is not None and chosen.shape == "transition") or \
        any(not _typed(raw, cols[k]) for k in ("timestamp", "end_timestamp") if k in cols)
    cached: list[Any] = []
    if expensive:
        staged = staged.persist()
        cached.append(staged)
    if unlabelled is not None:
        warnings.extend(_unlabelled_note(staged, unlabelled))
    bad = staged.filter(F.col("_reason").isNotNull()).select(
        F.col("_row").alias("row"), F.col("_reason").alias("reason"), F.col("_qcol").alias("column"),
        F.when(F.col("_ts_err").isNotNull() & F.col("_case").isNotNull() & F.col("_activity").isNotNull(),
               F.col("_ts_raw")).alias("value"))
    ok = staged.filter(F.col("_reason").isNull())
    # order, collapse repeated stages (export artefacts), count exact duplicates
    res_col = F.col("_resource") if "_resource" in ok.columns else F.lit(None).cast("string")
    w = Window.partitionBy("_case").orderBy("_ts", "_order")
    same_act = F.lag("_activity").over(w).eqNullSafe(F.col("_activity"))
    exact = same_act & F.lag("_ts").over(w).eqNullSafe(F.col("_ts")) & F.lag(res_col).over(w).eqNullSafe(res_col)
    collapse = bool(chosen and chosen.collapse_repeats)
    ok = ok.withColumn("_drop", same_act & ~exact if collapse else F.lit(False))
    select = [F.col("_case").alias(CASE), F.col("_activity").alias(ACTIVITY), F.col("_ts").alias(TIMESTAMP)]
    if "_resource" in ok.columns:
        select.append(F.col("_resource").alias(RESOURCE))
    if "_start" in ok.columns:
        select.append(F.col("_start").alias(START_TIMESTAMP))
    select += [F.col("_order").alias(ORDER), F.col("_row").alias(SOURCE_ROW)]
    select += _attributes(raw, ok, cols, chosen, case_attrs, order_used=stored_order)
    # every row's fate in one job: quarantined by reason (first word), or kept (null)
    by_reason: dict[str, int] = {}
    n_ok = 0
    for r in staged.groupBy(F.split(F.col("_reason"), ":")[0].alias("r")).count().collect():
        if r["r"] is None:
            n_ok = int(r["count"])
        else:
            by_reason[r["r"]] = by_reason.get(r["r"], 0) + int(r["count"])
    n_bad = sum(by_reason.values())
    if rows_read is None:  # the long shape keeps every row in the staged frame
        rows_read = n_ok + n_bad
    filtered: dict[str, int] = {}
    if other is not None:
        for r in other.groupBy(F.coalesce(F.col("_fld"), F.lit("")).alias("f")).count().collect():
            label_f = f"{cols['field']} is {r['f']!r}, not a stage field" if r["f"] else f"{cols['field']} is blank"
            filtered[label_f] = int(r["count"])
    location = None
    if quarantine_to and n_bad:
        writer = bad.write.mode("overwrite")
        if quarantine_to.lower().endswith((".parquet", "/")) or "/" in quarantine_to:
            writer.parquet(quarantine_to)
        else:
            writer.saveAsTable(quarantine_to)
        location = quarantine_to
    events_df = ok.filter(~F.col("_drop")).select(*select)
    core = None
    if chosen is None or chosen.shape != "transition":  # a field history's attributes are text already
        from ..model import RESERVED_COLUMNS, SUSPENDED

        # the analyses read the canonical columns only: they are taken before the attributes' rendering
        # (Python on the executors, which Spark cannot prune columns through)
        core = events_df.select(*[c for c in events_df.columns if c in RESERVED_COLUMNS or c == SUSPENDED])
        events_df = _as_local_text(events_df, [c for c in events_df.columns
                                               if c not in RESERVED_COLUMNS and c != SUSPENDED])
    report = SparkIngestReport(
        source=label, shape=chosen.shape if chosen else "long", preset=chosen.name if chosen else None,
        mapping={k: v for k, v in cols.items() if v}, timezone=timezone, rows_read=int(rows_read),
        quarantined=n_bad, quarantined_by_reason=by_reason, filtered=filtered, warnings=warnings,
        quarantine_location=location, quarantine=bad, has_timestamps=not order_only)
    got = pair_lifecycle(events_df, mode=lifecycle, cached=cached) if lifecycle != "events" else None
    if got is None:  # the events as read: counted on the log's ordered event frame, which every analysis uses
        out = SparkLog(df=events_df, report=report, name=label, cached=cached, core=core)
        out._times = not order_only
        n, cases, dup = _event_counts(out.events(), ["c", "a", "tns", "r"], first=F.col("pos") == 0)
        report.events, report.cases, report.duplicate_events = n, cases, dup
        report.collapsed_duplicates = n_ok - n
        report.check_balance()
        return out
    marked = ok.filter(~F.col("_drop")).select("_case", "_activity", "_ts", res_col.alias("_r"))
    w_case = Window.partitionBy("_case").orderBy("_ts")
    n, cases, dup = _event_counts(marked.withColumn("_first", F.row_number().over(w_case) == 1),
                                  ["_case", "_activity", "_ts", "_r"], first=F.col("_first"))
    report.events, report.cases, report.duplicate_events = n, cases, dup
    report.collapsed_duplicates = n_ok - n
    report.check_balance()
    paired, counts, filtered_lc, cases = got
    report.filtered = {**report.filtered, **filtered_lc}
    report.lifecycle = counts
    report.warnings = [*report.warnings, lifecycle_note(counts)]
    report.events, report.cases = counts.get("instances", counts.get("classifier", 0)), cases
    report.check_balance()
    out = SparkLog(df=paired, report=report, name=label, cached=cached)
    out._times = not order_only
    return out


def _apply_stage_labels(staged: Any, labels: Mapping[str, str]) -> tuple[Any, str]:
    """``staged`` with its stage ids replaced by ``labels`` (ids without a label kept), as the local
    ``_apply_stage_labels``; and the name of the column that marks the ids without a label."""
    from pyspark.sql import functions as F

    lookup = F.create_map(*[F.lit(str(x)) for pair in labels.items() for x in pair])
    label = F.try_element_at(lookup, F.col("_activity"))
    return staged.withColumn("_unlabelled", F.col("_activity").isNotNull() & label.isNull()) \
                 .withColumn("_activity", F.coalesce(label, F.col("_activity"))), "_unlabelled"


def _unlabelled_note(staged: Any, column: str) -> list[str]:
    """The local warning about stage ids that have no label (none when every id has one)."""
    from pyspark.sql import functions as F

    from ..ingest import unlabelled_stages_note

    return unlabelled_stages_note(sorted(r["_activity"] for r in
                                         staged.filter(F.col(column)).select("_activity").distinct().collect()))


def _typed(raw: Any, column: str) -> bool:
    """Whether ``column`` holds timestamps or dates already (no text to parse)."""
    from pyspark.sql import types as T

    return column in raw.columns and isinstance(raw.schema[column].dataType,
                                                (T.TimestampType, T.TimestampNTZType, T.DateType))


def _event_counts(frame: Any, keys: list[str], *, first: Any) -> tuple[int, int, int]:
    """``(events, cases, duplicate events)`` in one job: ``first`` marks one event per case; duplicates are
    events equal in ``keys`` (case, activity, time, resource) to an earlier one. ``frame`` partitioned by
    case (the ordered event frame) is grouped without a shuffle."""
    from pyspark.sql import functions as F

    row = frame.groupBy(*keys).agg(F.count(F.lit(1)).alias("k"), F.sum(first.cast("long")).alias("f")).agg(
        F.sum("k").alias("n"), F.sum("f").alias("cases"), F.sum(F.col("k") - 1).alias("dup")).first()
    return int(row["n"] or 0), int(row["cases"] or 0), int(row["dup"] or 0)


#: columns of the staged frame that are ours, not the input's
_STAGING = frozenset({"_case", "_activity", "_ts", "_ts_err", "_ts_raw", "_ts_col", "_start", "_resource", "_row",
                      "_order", "_end", "_end_err", "_reason_activity", "_reason", "_qcol", "_drop", "_p", "_mid",
                      "_new", "_old", "_fld", "_is_stage", "_is_created", "_first_old", "_fc", "_k",
                      "_unlabelled"})


def _attributes(raw: Any, ok: Any, cols: dict[str, str], chosen: Preset | None, case_attrs: list[str], *,
                order_used: bool) -> list[Any]:
    """The other input columns as event attributes, named and typed as the local long shape keeps them
    (text, timestamps as they are; a name the log itself uses gets `` (input)``). A transition
    (field-history) table keeps its fields' case attributes and its own ``case:`` columns, as locally."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from ..model import RESERVED_COLUMNS, SUSPENDED, input_column_name

    if chosen is not None and chosen.shape == "transition":
        return [F.col(c) for c in case_attrs] + [F.col(c) for c in raw.columns
                                                 if c.startswith("case:") and c not in case_attrs]
    used = set(cols.values()) | ({ORDER, SOURCE_ROW} if order_used else set())
    if "_start" in ok.columns and START_TIMESTAMP in raw.columns and CASE in raw.columns:
        used.add(START_TIMESTAMP)
    taken = set(RESERVED_COLUMNS)
    out = []
    for c in raw.columns:
        if c in used or c in _STAGING:
            continue
        kept = input_column_name(c, taken)
        taken.add(kept)
        keep_type = not isinstance(raw.schema[c].dataType, T.StringType) or c == SUSPENDED
        out.append((F.col(c) if keep_type else F.col(c).cast("string")).alias(kept))
    return out


def _as_local_text(df: Any, columns: list[str]) -> Any:
    """``df`` with the attribute ``columns`` as the text the local ingest reads them as: a typed column
    (number, boolean, date, timestamp) as :func:`processmining.ingest.tabular.text_of` writes it (``2.0``
    as ``2``, timestamps as ISO 8601 with ``+00:00`` for instants), run on Arrow batches on the executors;
    an empty text as no value. Both engines then hold the same values, and a filter or a ``when`` condition
    compares the same text."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    cols = [c for c in columns if c in df.columns]
    typed = [c for c in cols if not isinstance(df.schema[c].dataType, T.StringType)]
    for c in cols:
        if c not in typed:
            df = df.withColumn(c, F.when(F.col(f"`{c}`") != "", F.col(f"`{c}`")))
    if not typed:
        return df
    schema = T.StructType([T.StructField(f.name, T.StringType(), True) if f.name in typed else f
                           for f in df.schema.fields])
    wanted = frozenset(typed)

    def render(batches):  # noqa: ANN001, ANN202 - runs on the executors
        import pyarrow as pa

        from processmining.ingest.tabular import arrow_text, timestamp_text

        for batch in batches:
            arrays = []
            for name, col in zip(batch.schema.names, batch.columns, strict=True):
                if name in wanted:
                    if pa.types.is_timestamp(col.type):
                        col = pa.array(timestamp_text(col.to_pandas()))
                    else:
                        col = arrow_text(col)
                    if isinstance(col, pa.ChunkedArray):
                        col = col.combine_chunks()
                    col = col.cast(pa.string())
                arrays.append(col)
            yield pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)

    return df.mapInArrow(render, schema)
