"""``processmining demo``: write the seeded demo exports (Salesforce, HubSpot, Jira) and their ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from . import app

#: event-log formats ``--format`` accepts besides the raw exports
LOG_FORMATS = ("xes", "xes.gz", "csv", "parquet")


@app.command()
def demo(
    outdir: Annotated[Path, typer.Argument(help="Folder to write into (created if missing).", show_default=False)],
    scale: Annotated[float, typer.Option("--scale", help="Multiply the number of cases per file (1.0 = 2,000 "
                                                         "opportunities, 1,000 deals, 1,500 tickets).")] = 1.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed writes the same bytes.")] = 7,
    formats: Annotated[list[str] | None, typer.Option(
        "--format", help="What to write; repeatable: 'exports' (the three source-system files + ground_truth.json, "
                         "the default) and/or an event-log format (xes, xes.gz, csv, parquet) to also write each "
                         "export converted with its preset, as <export>_log.<format>).", show_default=False)] = None,
) -> None:
    """Write realistic demo exports with planted deviations, and ground_truth.json saying which case has which.

    With the default seed and scale this reproduces the bundled eventlogs/ folder byte for byte.

    Example: processmining demo demo_data --scale 0.5 --seed 11 --format exports --format xes
    """
    from ..errors import ProcessMiningError

    wanted = [f.lower().lstrip(".") for f in (formats or ["exports"])]
    unknown = [f for f in wanted if f not in ("exports", *LOG_FORMATS)]
    if unknown:
        raise ProcessMiningError(f"--format {unknown[0]!r} is not known; use exports, {', '.join(LOG_FORMATS)}")
    if outdir.exists() and not outdir.is_dir():
        raise ProcessMiningError(f"{outdir}: exists and is not a folder")
    from ..demo import FILES, GROUND_TRUTH_FILE, generate_demo

    files, truth = generate_demo(seed=seed, scale=scale)
    outdir.mkdir(parents=True, exist_ok=True)
    for key, name in FILES.items():
        lt = truth.logs[key]
        if "exports" in wanted:
            (outdir / name).write_bytes(files[name])
            typer.echo(f"wrote {outdir / name} ({lt.n_cases:,} cases, {lt.n_events:,} events, {lt.preset})")
        log_formats = [f for f in wanted if f != "exports"]
        if log_formats:
            from ..ingest import read_log, write_log

            log = read_log(files[name], name=name, preset=lt.preset)
            for fmt in log_formats:
                target = outdir / f"{Path(name).stem}_log.{fmt}"  # never overwrites the CSV exports
                write_log(log, target)
                typer.echo(f"wrote {target} ({log.n_events:,} events, {log.n_cases:,} cases)")
    if "exports" in wanted:
        (outdir / GROUND_TRUTH_FILE).write_bytes(files[GROUND_TRUTH_FILE])
        typer.echo(f"wrote {outdir / GROUND_TRUTH_FILE} (planted deviations per case; see eventlogs/README.md)")
