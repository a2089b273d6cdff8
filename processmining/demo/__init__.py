"""Seeded demo data: realistic CRM and ticket exports with planted deviations, and their ground truth.

``write_demo(folder)`` writes the three bundled exports and ``ground_truth.json``
(what ``eventlogs/`` holds; see ``eventlogs/README.md`` for every key).
``generate_sales_log`` and ``generate_sales_field_history`` make large logs
for benchmarks. Everything is deterministic for a given seed: same seed, same
bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ProcessMiningError
from . import hubspot, jira, salesforce
from .clock import EXPORT_LOCAL, local_to_utc
from .salesforce import generate_sales_log
from .salesforce_export import generate_sales_field_history
from .truth import GroundTruth, LogTruth, Planted, load_ground_truth

DEFAULT_SEED = 7
GROUND_TRUTH_FILE = "ground_truth.json"
#: cases per file at scale 1.0
BASE_SIZES = {"salesforce": 2000, "hubspot": 1000, "jira": 1500}
FILES = {"salesforce": salesforce.FILE_NAME, "hubspot": hubspot.FILE_NAME, "jira": jira.FILE_NAME}

__all__ = [
    "BASE_SIZES",
    "DEFAULT_SEED",
    "FILES",
    "GROUND_TRUTH_FILE",
    "GroundTruth",
    "LogTruth",
    "Planted",
    "generate_demo",
    "generate_sales_field_history",
    "generate_sales_log",
    "load_ground_truth",
    "write_demo",
]


def _export_time() -> str:
    return local_to_utc(np.array([EXPORT_LOCAL]))[0].strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_demo(*, seed: int = DEFAULT_SEED, scale: float = 1.0) -> tuple[dict[str, bytes], GroundTruth]:
    """The demo files as bytes (keyed by file name, ground truth included) and the :class:`GroundTruth`.

    ``scale`` multiplies the number of cases per file (2,000 opportunities,
    1,000 deals, 1,500 tickets at 1.0). Each file has its own random stream,
    so changing one generator never changes the others' bytes.

    Example::

        files, truth = generate_demo(seed=7, scale=0.1)
        sorted(files)  # ['ground_truth.json', 'hubspot_deals.csv', 'jira_changelog.json', 'salesforce_...csv']
        truth.logs["jira"].cases("ping_pong")  # {'SUP-...', ...}
    """
    if not (scale > 0):
        raise ProcessMiningError(f"--scale must be a positive number, got {scale}")
    sizes = {k: max(20, int(round(v * scale))) for k, v in BASE_SIZES.items()}
    files: dict[str, bytes] = {}

    sf_rows, sf_truth = generate_sales_field_history(sizes["salesforce"], seed=seed)
    files[salesforce.FILE_NAME] = sf_rows.to_csv(index=False, lineterminator="\n").encode("utf-8")

    hs_rows, hs_truth = hubspot.hubspot_export(sizes["hubspot"], np.random.default_rng([seed, 2]))
    files[hubspot.FILE_NAME] = hs_rows.to_csv(index=False, lineterminator="\n").encode("utf-8")

    jira_data, jira_truth = jira.jira_export(sizes["jira"], np.random.default_rng([seed, 3]))
    files[jira.FILE_NAME] = jira.jira_json_text(jira_data).encode("utf-8")

    truth = GroundTruth(seed=seed, scale=scale, export_time=_export_time(),
                        logs={"salesforce": sf_truth.logs["salesforce"], "hubspot": hs_truth, "jira": jira_truth})
    files[GROUND_TRUTH_FILE] = truth.to_json().encode("utf-8")
    return files, truth


def write_demo(folder: str | Path, *, seed: int = DEFAULT_SEED, scale: float = 1.0) -> dict[str, Path]:
    """Write the three demo exports and ``ground_truth.json`` into ``folder``; return their paths.

    Keys: ``salesforce``, ``hubspot``, ``jira``, ``ground_truth``. The default
    seed and scale reproduce the committed ``eventlogs/`` byte for byte.

    Example::

        paths = write_demo("demo", seed=7)
        paths["jira"]  # PosixPath('demo/jira_changelog.json')
    """
    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise ProcessMiningError(f"{out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    files, _ = generate_demo(seed=seed, scale=scale)
    names = {**FILES, "ground_truth": GROUND_TRUTH_FILE}
    paths = {}
    for key, name in names.items():
        path = out / name
        path.write_bytes(files[name])
        paths[key] = path
    return paths
