"""What the Spark test modules share: the one SparkSession (its fixture is in conftest), logs as Parquet, and
the table comparison.

"Identical" means: the same columns, rows, order, counts, names, ids and
statuses; per-case values (SLA clocks, idle times, last times) bit for bit,
because the Spark engine computes every per-event and per-case duration as
the same float the local engine does (integer nanoseconds, divided by 1e9);
aggregates (sums, means, medians, standard deviations over many events) to
the microsecond -- Spark adds the same floats in another order, which moves
the last bits of a sum, never a microsecond (``US_ATOL``, ``SUM_RTOL``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

UNDER_CI = bool(os.environ.get("CI"))
US_ATOL = 1e-6
#: the order of summation: a total of 1e9 s may move by ~1e-7 s
SUM_RTOL = 1e-15


def require_pyspark() -> None:
    """The Spark engine is an optional extra: skip without it, except under CI (there it is installed)."""
    if UNDER_CI:
        import pyspark  # noqa: F401 - under CI a missing PySpark fails the run
    else:
        pytest.importorskip("pyspark", reason="the Spark engine is an optional extra: pip install 'processmining[spark]'")


#: the Spark Connect server as a plugin of the test session's JVM: a real Connect endpoint, no second JVM
CONNECT_PLUGIN = "org.apache.spark.sql.connect.SparkConnectPlugin"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spark_session_for_tests(warehouse: Path):
    """The one local[2] session of a test run (the JVM starts once), which also serves Spark Connect on a
    loopback port (:func:`connect_url`); managed tables go to ``warehouse``.

    Tuned for many small jobs on tiny logs (the costs are per job, not per
    event): one shuffle partition, no adaptive execution, no code generation
    (interpreted expressions, no Java compiled per query), the JVM's quick
    JIT tier only, no UI. Results do not depend on any of these settings.
    """
    from processmining.spark.session import spark_session

    return spark_session(master="local[2]", shuffle_partitions=1, conf={
        "spark.default.parallelism": "2", "spark.sql.adaptive.enabled": "false",
        "spark.sql.codegen.wholeStage": "false", "spark.sql.codegen.factoryMode": "NO_CODEGEN",
        "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
        "spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
        "spark.sql.warehouse.dir": str(warehouse),
        "spark.plugins": CONNECT_PLUGIN, "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(free_port())})


def connect_url(spark) -> str:
    """The Spark Connect address the test session serves."""
    return f"sc://127.0.0.1:{spark.sparkContext.getConf().get('spark.connect.grpc.binding.port')}"


def to_parquet(log, path: Path) -> Path:
    """The local log's frame as Parquet (µs timestamps, as a data lake holds them)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(log.df, preserve_index=False), path, coerce_timestamps="us",
                   allow_truncated_timestamps=True)
    return path


_REAL: dict[str, tuple] = {}


def real_pair(spark, shared_datasets: Path, name: str) -> tuple:
    """``(local log, Spark log, Parquet path)`` of a real log, read once per test run (both modules share it):
    local from ``real/<name>.xes*``, Spark from the same events written as Parquet."""
    if name not in _REAL:
        import atexit
        import shutil
        import tempfile

        from processmining.ingest import read_log
        from processmining.spark.source import read_events

        local = read_log(next((shared_datasets / "real").glob(f"{name}.xes*")))
        folder = Path(tempfile.mkdtemp(prefix="pm_spark_test_"))
        atexit.register(shutil.rmtree, folder, True)
        path = to_parquet(local, folder / f"{name}.parquet")
        _REAL[name] = (local, read_events(spark, str(path)), path)
    return _REAL[name]


def demo_pair(spark, repo_root: Path) -> tuple:
    """The demo Salesforce field-history CSV through both ingests (read once per test run)."""
    if "demo" not in _REAL:
        from processmining.ingest import read_log
        from processmining.spark.source import read_events

        src = repo_root / "eventlogs" / "salesforce_opportunity_field_history.csv"
        _REAL["demo"] = (read_log(src), read_events(spark, str(src)))
    return _REAL["demo"]


def same_table(local: pd.DataFrame, spark: pd.DataFrame, *, exact: bool = False) -> None:
    """Same columns, index and rows in the same order; text, ids, counts and timestamps exactly; floats bit
    for bit with ``exact`` (per-case values), else to the microsecond (aggregates)."""
    assert list(spark.columns) == list(local.columns)
    assert list(spark.index) == list(local.index)
    for c in local.columns:
        a, b = local[c], spark[c]
        if pd.api.types.is_float_dtype(a) or pd.api.types.is_float_dtype(b):
            a, b = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
            assert np.array_equal(np.isnan(a), np.isnan(b)), c
            if exact:
                assert np.array_equal(a, b, equal_nan=True), c
            else:
                np.testing.assert_allclose(b, a, rtol=SUM_RTOL, atol=US_ATOL, err_msg=c)
        else:
            assert b.tolist() == a.tolist(), c
