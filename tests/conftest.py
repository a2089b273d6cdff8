"""Shared fixtures. Real data from ../shared/datasets is reached only through ``shared_datasets``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the property tests with a fixed seed so a landing never depends on luck;
# developers' runs keep exploring new examples (and .hypothesis/ remembers failures).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parent.parent


def _find_shared_datasets() -> Path | None:
    env = os.environ.get("PROCESSMINING_DATASETS")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "datasets")
    for c in candidates:
        if (c / "real").is_dir():
            return c
    return None


UNDER_CI = bool(os.environ.get("CI"))


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """``../shared/datasets`` (real logs and BPMN files written by other people).

    Outside CI a test that needs it is skipped with a reason when the folder is
    absent; under CI (where it is always there) its absence fails the run.
    """
    found = _find_shared_datasets()
    if found is None:
        reason = "../shared/datasets not found (set PROCESSMINING_DATASETS to its path)"
        if UNDER_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI nothing skips: a skip (missing data, binary or import) is reported as a failure."""
    outcome = yield
    report = outcome.get_result()
    if UNDER_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, where nothing may skip: {reason}"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """The one local[2] SparkSession of a test run, for the Spark tests (``tests/test_spark_*.py``).

    Those modules carry ``pytest.mark.xdist_group("spark")`` and the suite runs
    with ``--dist loadgroup``, so one worker runs them all and one JVM starts.
    The session also serves Spark Connect on a loopback port
    (``spark_compare.connect_url``).
    """
    from spark_compare import require_pyspark, spark_session_for_tests

    require_pyspark()
    return spark_session_for_tests(tmp_path_factory.mktemp("spark-warehouse"))
