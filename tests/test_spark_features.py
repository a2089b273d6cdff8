"""Spark gives the local numbers for SLA conditions on typed columns, the log filters and working-time SLAs.

Logs built in code: a typed frame (numbers, booleans, timestamps) handed to both
engines as it is, and a small CSV read by both ingests for the filters. One
SparkSession serves the run; each Spark result is computed once per module.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
from spark_compare import require_pyspark
from typer.testing import CliRunner

from processmining import filters as lf
from processmining.cli import app
from processmining.errors import AnalysisError
from processmining.ingest import read_log
from processmining.model import ACTIVITY, CASE, ORDER, TIMESTAMP, ColumnMapping, EventLog
from processmining.performance import sla_breaches

require_pyspark()

from processmining.spark import filters as sf  # noqa: E402
from processmining.spark import performance as sperf  # noqa: E402
from processmining.spark.frame import SparkLog  # noqa: E402
from processmining.spark.source import read_events  # noqa: E402

# ------------------------------------------------------------------ SLA conditions on typed columns
# SLA A->B<=1d. c1 late (2 d), c2 met (1 h), c3 late (4 d), c4 met (2 h)
TYPED = [  # case, amount (integer), rate (float), vip (boolean, c3 unknown), due (timestamp), region (text)
    ("c1", 20500, 1.5, True, "2024-02-01", "EMEA", "2024-01-03 00:00"),
    ("c2", 3, 2.0, False, "2024-03-01", "US", "2024-01-01 01:00"),
    ("c3", 20500, 1.5, None, "2024-03-01", "EMEA", "2024-01-05 00:00"),
    ("c4", 20500, 2.0, True, "2024-02-01", "US", "2024-01-01 02:00"),
]
CONDITIONS = {  # condition -> (measured, met, late), the same on both engines
    "amount=20500.0": (3, 1, 2), "vip=FALSE": (1, 1, 0), "due=2024-03-01T01:00:00+01:00": (2, 1, 1),
    "region=EMEA": (2, 0, 2), "amount=7": (0, 0, 0),
}
#: the same reading of text values in the filters: condition -> cases kept
TYPED_FILTERS = {"case:amount=20500": ["c1", "c3", "c4"], "rate=2": ["c2", "c4"], "vip=true": ["c1", "c4"],
                 "due=2024-02-01": ["c1", "c4"]}


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def typed(spark):
    from pyspark.sql import types as T

    rows = []
    for i, (case, amount, rate, vip, due, region, b_time) in enumerate(TYPED):
        for j, (act, t) in enumerate((("A", "2024-01-01 00:00"), ("B", b_time))):
            rows.append((case, act, _utc(t), 2 * i + j, amount, rate, vip, _utc(due + " 00:00"), region))
    schema = T.StructType([T.StructField(CASE, T.StringType()), T.StructField(ACTIVITY, T.StringType()),
                           T.StructField(TIMESTAMP, T.TimestampType()), T.StructField(ORDER, T.LongType()),
                           T.StructField("case:amount", T.LongType()), T.StructField("rate", T.DoubleType()),
                           T.StructField("vip", T.BooleanType()), T.StructField("due", T.TimestampType()),
                           T.StructField("region", T.StringType())])
    names = [f.name for f in schema.fields]
    frame = pd.DataFrame(rows, columns=names).astype({"case:amount": "Int64", "rate": "Float64", "vip": "boolean"})
    frame["due"] = pd.to_datetime(frame["due"], utc=True)
    frame[TIMESTAMP] = pd.to_datetime(frame[TIMESTAMP], utc=True)
    local = EventLog.from_frame(frame)
    slog = SparkLog.from_dataframe(spark.createDataFrame(rows, schema), name="typed")
    targets = [f"A->B<=1d if {c}" for c in CONDITIONS]
    return (sla_breaches(local, targets, end_activities=["B"]), sperf.sla_breaches(slog, targets, end_activities=["B"]),
            local, slog)


def test_sla_conditions_compare_in_the_column_type_on_both_engines(typed):
    (lb, ls), (sb, ss), _, _ = typed
    want = [(f"A->B<=1d if {c}", *n) for c, n in CONDITIONS.items()]
    for summary in (ls, ss):
        assert [tuple(r) for r in summary[["target", "measured", "met", "late"]].itertuples(index=False)] == want
    assert sb.to_dict("records") == lb.to_dict("records")
    late = lb[lb["target"] == "A->B<=1d if due=2024-03-01T01:00:00+01:00"]
    assert late[["case", "duration_s", "excess_s"]].values.tolist() == [["c3", 345600.0, 259200.0]]


def test_filters_read_text_values_in_the_column_type_on_both_engines(typed):
    _, _, local, slog = typed
    for cond, cases in TYPED_FILTERS.items():
        column, value = cond.split("=")
        got = sf.filter_case_attribute(slog, column, [value]).df.select(CASE).distinct().toPandas()
        assert sorted(got[CASE]) == sorted(lf.filter_case_attribute(local, column, [value]).df[CASE].unique()) == cases


def test_a_value_that_is_not_of_the_column_type_is_one_message(typed):
    _, _, local, slog = typed
    for cond, msg in (("amount=abc", "column 'case:amount' holds numbers: 'abc' is not a number"),
                      ("vip=maybe", "column 'vip' holds booleans: 'maybe' is not true or false"),
                      ("due=soon", "column 'due' holds timestamps: 'soon' is not a date or timestamp")):
        for run in (lambda t: sla_breaches(local, [t]), lambda t: sperf.sla_breaches(slog, [t])):
            with pytest.raises(AnalysisError) as err:
                run(f"A->B<=1d if {cond}")
            assert str(err.value).endswith(msg)


def test_a_typed_parquet_file_reads_as_the_same_text_on_both_engines(spark, tmp_path):
    # a data-lake Parquet file with typed attributes: both ingests hold every attribute as the local text
    # (numbers as Arrow writes them, 20500.0 as 20500; instants ISO with +00:00; naive times without; an
    # empty text as no value), so a filter or an SLA condition keeps the same cases on both engines
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = pd.DataFrame({
        "case": ["c1", "c1", "c2", "c2"], "activity": ["A", "B", "A", "B"],
        "time": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-01", "2024-01-01 01:00"], utc=True,
                              format="ISO8601"),
        "due": pd.to_datetime(["2024-02-01", "2024-02-01", "2024-03-01 10:30:00.5", "2024-03-01 10:30:00.5"],
                              utc=True, format="ISO8601"),
        "local_due": pd.to_datetime(["2024-02-01", "2024-02-01", "2024-03-01", "2024-03-01"]),
        "amount": [20500.0, 20500.0, 1.5, 1e20], "n": [7, 7, 8, 8], "vip": [True, True, False, None],
        "note": ["x", "", None, "y"]})
    path = tmp_path / "typed.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    mapping = ColumnMapping(case="case", activity="activity", timestamp="time")
    local, slog = read_log(path, mapping=mapping), read_events(spark, str(path), mapping=mapping)
    attrs = ["due", "local_due", "amount", "n", "vip", "note"]
    got = slog.df.orderBy(ORDER).toPandas()[attrs]
    want = local.df[attrs]
    assert got.astype(object).where(got.notna(), None).values.tolist() == \
        want.astype(object).where(want.notna(), None).values.tolist() == [
        ["2024-02-01T00:00:00.000000+00:00", "2024-02-01T00:00:00.000000", "20500", "7", "true", "x"],
        ["2024-02-01T00:00:00.000000+00:00", "2024-02-01T00:00:00.000000", "20500", "7", "true", None],
        ["2024-03-01T10:30:00.500000+00:00", "2024-03-01T00:00:00.000000", "1.5", "8", "false", None],
        ["2024-03-01T10:30:00.500000+00:00", "2024-03-01T00:00:00.000000", "1e+20", "8", None, "y"]]
    for column, value, cases in (("due", "2024-02-01T00:00:00.000000+00:00", ["c1"]), ("due", "2024-02-01", []),
                                 ("amount", "20500", ["c1"]), ("amount", "20500.0", []), ("vip", "false", ["c2"])):
        kept = sf.filter_case_attribute(slog, column, [value]).df.select(CASE).distinct().toPandas()[CASE]
        assert sorted(kept) == sorted(lf.filter_case_attribute(local, column, [value]).df[CASE].unique()) == cases
    target = ["A->B<=1d if amount=20500"]  # c1 late (2 d); c2 is not measured
    (lb, _), (sb, _) = sla_breaches(local, target), sperf.sla_breaches(slog, target)
    assert sb.to_dict("records") == lb.to_dict("records")
    assert lb[["case", "duration_s"]].values.tolist() == [["c1", 172800.0]]


# ------------------------------------------------------------------ filters
FILTER_LOG = """case,activity,time,region,channel
c1,A,2024-01-01 09:00,EMEA,web
c1,B,2024-01-02 09:00,EMEA,
c1,C,2024-01-05 09:00,EMEA,mail
c2,A,2024-01-03 10:00,US,web
c2,C,2024-01-03 12:00,US,web
c3,B,2024-01-10 00:00,EMEA,mail
c3,A,2024-01-11 00:00,EMEA,
c3,B,2024-01-12 00:00,EMEA,web
c3,D,2024-01-20 00:00,EMEA,mail
c4,A,2024-01-15 00:00,APAC,web
c4,B,2024-01-15 01:00,APAC,web
c4,C,2024-01-16 00:00,APAC,
c5,A,2024-01-01 09:00,US,mail
c5,B,2024-01-02 09:00,US,mail
c5,C,2024-01-05 09:00,US,mail
c6,A,2024-02-01 00:00,EMEA,web
c6,E,2024-02-01 00:30,EMEA,web
c7,A,2024-01-08 08:00,US,
c7,B,2024-01-08 08:00,US,
c7,C,2024-01-09 08:00,US,web
"""
MAPPING = ["--case", "case", "--activity", "activity", "--timestamp", "time"]
# (name, filter call as (function name, args, kwargs), kept cases, kept events)
FILTERS = [
    ("contained", ("filter_time_frame", ("2024-01-02", "2024-01-10"), {"mode": "contained"}), ["c2", "c7"], 5),
    ("intersecting", ("filter_time_frame", ("2024-01-02", "2024-01-10"), {"mode": "intersecting"}),
     ["c1", "c2", "c3", "c5", "c7"], 15),
    ("started", ("filter_time_frame", ("2024-01-02", "2024-01-10 00:00"), {"mode": "started"}),
     ["c2", "c3", "c7"], 9),
    ("completed", ("filter_time_frame", ("2024-01-02", "2024-01-10"), {"mode": "completed"}),
     ["c1", "c2", "c5", "c7"], 11),
    ("trim", ("filter_time_frame", ("2024-01-02", "2024-01-10"), {"mode": "trim"}),
     ["c1", "c2", "c3", "c5", "c7"], 10),
    ("region", ("filter_case_attribute", ("region", ["EMEA"]), {}), ["c1", "c3", "c6"], 9),
    ("not region", ("filter_case_attribute", ("region", ["EMEA", "APAC"]), {"keep": False}), ["c2", "c5", "c7"], 8),
    ("channel", ("filter_event_attribute", ("channel", "web"), {}), ["c1", "c2", "c3", "c4", "c6", "c7"], 9),
    ("not channel", ("filter_event_attribute", ("channel", "web"), {"keep": False}),
     ["c1", "c3", "c4", "c5", "c7"], 11),
    ("activities", ("filter_activities", (["B", "D"],), {"keep": False}), ["c1", "c2", "c3", "c4", "c5", "c6", "c7"], 13),
    ("contains all", ("filter_contains", (["A", "B", "A"],), {"how": "all"}), ["c1", "c3", "c4", "c5", "c7"], 16),
    ("not contains", ("filter_contains", (["C", "E"],), {"keep": False}), ["c3"], 4),
    ("start", ("filter_start_activities", (["B"],), {}), ["c3"], 4),
    ("end", ("filter_end_activities", ("C",), {}), ["c1", "c2", "c4", "c5", "c7"], 14),
    ("top 1", ("filter_variants", (), {"top": 1}), ["c1", "c4", "c5", "c7"], 12),
    ("top 2", ("filter_variants", (), {"top": 2}), ["c1", "c2", "c4", "c5", "c7"], 14),
    ("not top 2", ("filter_variants", (), {"top": 2, "keep": False}), ["c3", "c6"], 6),
    ("listed", ("filter_variants", (), {"variants": [("A", "E"), ("B", "A", "B", "D")]}), ["c3", "c6"], 6),
    ("follows", ("filter_follows", ("A", "B"), {"within": "1d"}), ["c1", "c3", "c4", "c5", "c7"], 16),
    ("follows 2h", ("filter_follows", ("A", "B"), {"within": "2h"}), ["c4", "c7"], 6),
    ("B then A", ("filter_follows", ("B", "A"), {}), ["c3"], 4),
    ("directly", ("filter_follows", ("A", "B"), {"directly": True}), ["c1", "c3", "c4", "c5", "c7"], 16),
    ("not directly", ("filter_follows", ("A", "C"), {"directly": True, "keep": False}),
     ["c1", "c3", "c4", "c5", "c6", "c7"], 18),
    ("duration", ("filter_case_duration", (), {"min_duration": "1d", "max_duration": "4d"}),
     ["c1", "c4", "c5", "c7"], 12),
]


@pytest.fixture(scope="module")
def filter_logs(spark, tmp_path_factory):
    from processmining.model import ColumnMapping

    path = tmp_path_factory.mktemp("filters") / "log.csv"
    path.write_text(FILTER_LOG, encoding="utf-8")
    mapping = ColumnMapping(case="case", activity="activity", timestamp="time")
    return read_log(path, mapping=mapping), read_events(spark, str(path), mapping=mapping), path


@pytest.fixture(scope="module")
def filtered(filter_logs):
    """Per filter: (local cases, events, history), (Spark cases, events, history); the Spark results in one job."""
    from functools import reduce

    from pyspark.sql import functions as F

    local, slog, _ = filter_logs
    slog.activity_cases()  # the activity names the checks need, once
    out, frames = {}, []
    for name, (fn, args, kwargs), _, _ in FILTERS:
        lo = getattr(lf, fn)(local, *args, **kwargs)
        sp = getattr(sf, fn)(slog, *args, **kwargs)
        out[name] = (sorted(lo.df[CASE].unique().tolist()), lo.n_events, lo.history), sp.history
        frames.append(sp.df.select(F.lit(name).alias("f"), CASE))
    got = reduce(lambda a, b: a.unionAll(b), frames).groupBy("f", CASE).count().toPandas()
    for name, (lo, history) in out.items():
        part = got[got["f"] == name]
        out[name] = lo, (sorted(part[CASE].tolist()), int(part["count"].sum()), history)
    return out


@pytest.mark.parametrize("name, call, cases, events", FILTERS, ids=[f[0] for f in FILTERS])
def test_each_filter_keeps_the_same_cases_and_events(filtered, name, call, cases, events):
    local, spark = filtered[name]
    assert local[:2] == (cases, events)
    assert spark == local  # cases, events and the history step, word for word


def test_filter_errors_are_the_local_messages(filter_logs):
    local, slog, _ = filter_logs
    for log, mod in ((local, lf), (slog, sf)):
        with pytest.raises(AnalysisError, match=r"activity 'Bb' does not occur in the log; did you mean 'B'\?"):
            mod.filter_contains(log, ["A", "Bb"])
        with pytest.raises(AnalysisError, match="column 'regio' not in the log; columns: "):
            mod.filter_case_attribute(log, "regio", ["EMEA"])
        with pytest.raises(AnalysisError, match="time frame ends"):
            mod.filter_time_frame(log, "2024-02-01", "2024-01-01")
    assert sf.time_span(slog) == local.time_span


def test_cli_filters_on_both_engines(filter_logs, tmp_path):
    _, slog, path = filter_logs
    flags = ["--case-attr", "region=EMEA", "--case-attr", "region=US", "--end-activity", "C", "--follows", "A->B",
             "--within", "1d", "--top-variants", "1"]
    runner = CliRunner()
    lines = {}
    for engine in ("local", "spark"):
        out = tmp_path / f"{engine}.dot"
        res = runner.invoke(app, ["discover", str(path), *MAPPING, *flags, "-o", str(out), "--engine", engine])
        assert res.exit_code == 0, res.output
        lines[engine] = [ln for ln in res.stderr.splitlines() if ln.startswith(("  filter:", "wrote"))]
    assert lines["spark"][:-1] == lines["local"][:-1] == [
        "  filter: cases having region in ['EMEA', 'US']", "  filter: cases ending with ['C']",
        "  filter: cases where A is eventually followed by B within 1d", "  filter: cases in top 1 variants"]
    assert lines["local"][-1].endswith("3 of 3 activities, 2 of 2 paths, 3 cases")
    assert lines["spark"][-1].endswith("3 of 3 activities, 2 of 2 paths, 3 cases (Spark)")
    outs = {}
    for engine in ("local", "spark"):
        res = runner.invoke(app, ["bottlenecks", str(path), *MAPPING, "--not-contains", "E", "--min-duration", "1d",
                                  "--sla", "A->C<=3d", "--engine", engine])
        assert res.exit_code == 0, res.output
        outs[engine] = res.stdout
    assert outs["spark"] == outs["local"]
    assert "SLA A->C<=3d: 2 of 5 cases breached (2 late, 0 still open)" in outs["local"].splitlines()
    # nothing left: the local line; on Spark the same step of the CLI on the log read above (no second read)
    from processmining.cli.engine import _filtered

    res = runner.invoke(app, ["bottlenecks", str(path), *MAPPING, "--contains", "E", "--max-duration", "1m"])
    assert res.exit_code == 2
    want = f"{path}: no case is left after the filters: filter: cases containing all of ['E']; filter: case duration <= 1m"
    assert res.output.strip().splitlines()[-1] == f"error: {want}"
    with pytest.raises(AnalysisError) as err:
        _filtered(slog, {"contains": ["E"], "max_duration": "1m"}, path)
    assert str(err.value) == want


# ------------------------------------------------------------------ working-time SLA (--calendar)
def test_calendar_sla_in_working_time_on_both_engines(spark, tmp_path):
    """The local engine's exact test (test_bottlenecks_calendar): 3 of 3 cases breached in calendar time,
    1 of 3 (c2, excess 7,200 s) in working time, on both engines, through the CLI with a filter."""
    import json

    from test_bottlenecks_calendar import _files

    log, cal = _files(tmp_path)
    runner = CliRunner()
    docs, outs = {}, {}
    for engine in ("local", "spark"):
        out = tmp_path / f"{engine}.json"
        res = runner.invoke(app, ["bottlenecks", str(log), "--sla", "A->B<=4h", "--calendar", str(cal),
                                  "--min-duration", "1h", "-o", str(out), "--engine", engine])
        assert res.exit_code == 0, res.output
        outs[engine], docs[engine] = res.stdout, json.loads(out.read_text(encoding="utf-8"))
    assert outs["spark"] == outs["local"]
    lines = outs["spark"].splitlines()
    assert "SLA A->B<=4h: 1 of 3 cases breached (1 late, 0 still open)" in lines
    assert ("SLA breaches are measured in working time (calendar office.yaml, UTC); the ranking, case durations and "
            "idle times are calendar time") in lines
    for doc in docs.values():
        assert [(r["case"], r["duration_s"], r["excess_s"], r["measured_in"]) for r in doc["sla_breaches"]] == [
            ("c2", 21600.0, 7200.0, "working time (office.yaml)")]
        assert [(r["measured"], r["met"], r["late"], r["median_s"]) for r in doc["sla_summary"]] == [(3, 2, 1, 10800.0)]
    assert docs["spark"]["sla_summary"] == docs["local"]["sla_summary"]
    prov = [d["provenance"]["parameters"] for d in (docs["local"], docs["spark"])]
    assert prov[0]["log_history"] == prov[1]["log_history"] == ["filter: case duration >= 1h"]
    assert prov[0]["calendar"] == prov[1]["calendar"]
