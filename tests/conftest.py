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


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """``../shared/datasets`` (real logs and BPMN files written by other people).

    Skipped with a reason only when the folder is absent; in CI it is always there.
    """
    found = _find_shared_datasets()
    if found is None:
        pytest.skip("../shared/datasets not found (set PROCESSMINING_DATASETS to its path)")
    return found


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO
