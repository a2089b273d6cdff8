"""Getting a SparkSession: local mode (``local[*]``) or Spark Connect (``sc://host:15002``).

PySpark is an optional extra (``pip install processmining[spark]``); nothing
outside :mod:`processmining.spark` imports it. Every failure to get a session
(no PySpark, no Java, an unreachable Connect server) is an
:class:`~processmining.errors.EngineError` with one line that says what to do.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from ..errors import ProcessMiningError


class EngineError(ProcessMiningError):
    """The Spark engine cannot be used: PySpark or Java missing, the cluster unreachable, a bad address."""


#: settings every session gets: UTC (timestamps are UTC throughout), Arrow transfers, no UI on local runs
BASE_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}
DEFAULT_CONNECT_PORT = 15002


@dataclass(frozen=True)
class SessionConfig:
    """How to reach Spark: ``remote`` (Spark Connect URL) or ``master`` (``local[2]``, ``yarn``, ...)."""

    master: str | None = None
    remote: str | None = None
    shuffle_partitions: int | None = None
    conf: dict[str, str] = field(default_factory=dict)

    def settings(self) -> dict[str, str]:
        """The Spark settings this config applies (the session builder's ``config`` calls)."""
        out = dict(BASE_CONF)
        parts = self.shuffle_partitions
        if self.remote is None:
            out.update(LOCAL_CONF)
            parts = parts or local_cores(self.master or "local[*]")
        if parts:
            out["spark.sql.shuffle.partitions"] = str(parts)
        out.update(self.conf)
        return out


def local_cores(master: str | None) -> int | None:
    """The task slots of a local master (``local[2]`` -> 2, ``local[*]`` -> the machine's cores), else ``None``.

    In local mode every task costs a fixed few milliseconds to seconds (scheduling, a sort and a cache
    buffer per task) and there is no other machine to spread to: one shuffle partition per core is the
    fastest (measured on the 1M-event benchmark log, 2 cores: 2 partitions instead of 4 halved the map).
    Adaptive execution still coalesces small partitions.

    >>> local_cores("local[3]"), local_cores("local"), local_cores("yarn")
    (3, 1, None)
    """
    import re

    got = re.fullmatch(r"local(?:\[(\d+|\*)(?:,\s*\d+)?\])?", (master or "").strip())
    if got is None:
        return None
    n = got.group(1)
    if n is None:  # plain "local": one thread
        return 1
    return (os.cpu_count() or 1) if n == "*" else max(1, int(n))


def parse_remote(url: str) -> str:
    """Check a Spark Connect address (``sc://host[:port][/;param=value]``); returns it with the port made explicit.

    >>> parse_remote("sc://spark.example.org")
    'sc://spark.example.org:15002'
    """
    text = (url or "").strip()
    parsed = urlparse(text)
    if parsed.scheme != "sc" or not parsed.hostname:
        raise EngineError(f"--spark-remote must look like sc://host:15002, got {url!r}")
    try:
        port = parsed.port or DEFAULT_CONNECT_PORT
    except ValueError:
        raise EngineError(f"--spark-remote has an invalid port: {url!r}") from None
    rest = text.split("://", 1)[1]
    tail = rest[len(parsed.netloc):]
    return f"sc://{parsed.hostname}:{port}{tail}"


def session_config(*, master: str | None = None, remote: str | None = None,
                   shuffle_partitions: int | None = None, conf: dict[str, str] | None = None) -> SessionConfig:
    """A checked :class:`SessionConfig`; ``remote`` wins over ``master`` and is validated here (no network)."""
    if remote and master:
        raise EngineError("give either --spark-remote (a Spark Connect cluster) or --spark-master, not both")
    if remote:
        return SessionConfig(remote=parse_remote(remote), shuffle_partitions=shuffle_partitions, conf=dict(conf or {}))
    return SessionConfig(master=master or "local[*]", shuffle_partitions=shuffle_partitions, conf=dict(conf or {}))


def check_reachable(remote: str, *, timeout_s: float = 5.0) -> None:
    """Fail fast, with one line, when nothing listens at the Spark Connect address (the gRPC client would
    retry for minutes)."""
    import socket

    parsed = urlparse(remote)
    host, port = parsed.hostname or "", parsed.port or DEFAULT_CONNECT_PORT
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise EngineError(f"cannot reach Spark Connect at {remote}: {reason} (is the Connect server running, "
                          "and is the port open to this machine?)") from None


def _require_pyspark(remote: bool) -> None:
    try:
        import pyspark  # noqa: F401
    except ModuleNotFoundError:
        raise EngineError("the Spark engine needs PySpark: pip install 'processmining[spark]'") from None
    if remote:
        try:
            import grpc  # noqa: F401
            import pyspark.sql.connect  # noqa: F401
        except ModuleNotFoundError as exc:
            raise EngineError(f"Spark Connect needs {exc.name}: pip install 'processmining[spark]'") from None


def spark_session(config: SessionConfig | None = None, **kwargs: Any) -> Any:
    """A SparkSession for ``config`` (or ``session_config(**kwargs)``); reuses an active one with the same master.

    Spark Connect sessions are checked with one tiny query, so an unreachable
    cluster fails here with one line instead of later with a gRPC trace.
    """
    config = config or session_config(**kwargs)
    _require_pyspark(config.remote is not None)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    if config.remote is not None:
        check_reachable(config.remote)
        builder = builder.remote(config.remote)
    else:
        if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
            raise EngineError("Spark local mode needs a Java runtime (17 or newer): install one, e.g. "
                              "apt-get install openjdk-17-jre-headless, or use --spark-remote")
        builder = builder.master(config.master or "local[*]").appName("processmining")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the executors run this interpreter
    for key, value in config.settings().items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
        if config.remote is not None:
            spark.range(1).collect()
    except Exception as exc:  # noqa: BLE001 - py4j / gRPC errors become one line
        where = config.remote or config.master
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EngineError(f"cannot reach Spark at {where}: {first[:300]}") from None
    if config.remote is None:
        for key, value in config.settings().items():  # an existing session takes the SQL settings too
            if key == "spark.sql.shuffle.partitions" and not config.shuffle_partitions:
                continue  # only a default: the running session's own choice stays
            if key.startswith("spark.sql.") and spark.conf.isModifiable(key):
                spark.conf.set(key, value)
    return spark
