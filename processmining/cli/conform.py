"""``processmining conform``: deviations of a log from a reference BPMN model and audit rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from . import app
from .engine import spark_conform, with_engine
from .options import (
    DEFAULT_LOG_OPTIONS,
    LogArg,
    LogOptions,
    check_outputs,
    progress_bar,
    with_log_options,
)

PRECISIONS: dict[str, str | bool] = {"token-replay": "token_replay", "token_replay": "token_replay",
                                     "alignments": "alignments", "none": False}


def checked_flags(*, mode: str, running: str, end_activity: list[str] | None, output: Path,
                  alias: list[str] | None, precision: str = "token-replay") -> tuple[str, dict[str, str], str | bool]:
    """The checks of ``conform``'s flags both engines make before reading anything: the mode's name, the
    ``--alias`` pairs and the precision measure, or a :class:`ConformanceError` naming the flag."""
    from ..errors import ConformanceError
    from ..export import infer_format

    modes = {"alignments": "alignments", "token-replay": "token_replay", "token_replay": "token_replay"}
    if mode not in modes:
        raise ConformanceError(f"--mode must be alignments or token-replay, got {mode!r}")
    if precision not in PRECISIONS:
        raise ConformanceError(f"--precision must be token-replay, alignments or none, got {precision!r}")
    if running not in ("auto", "none"):
        raise ConformanceError(f"--running must be auto or none, got {running!r}")
    if end_activity and running == "none":
        raise ConformanceError("--end-activity decides which cases are running: it cannot go with --running none")
    try:
        infer_format(output)
    except ValueError as exc:
        raise ConformanceError(str(exc)) from None
    aliases: dict[str, str] = {}
    for item in alias or []:
        if "=" not in item:
            raise ConformanceError(f"--alias needs 'LOG LABEL=MODEL LABEL', got {item!r}")
        left, right = item.split("=", 1)
        aliases[left] = right
    return modes[mode], aliases, PRECISIONS[precision]


@app.command()
@with_log_options
@with_engine(spark_conform, deviations=True)
def conform(
    log_path: LogArg,
    model_path: Annotated[Path, typer.Argument(help="Reference model: BPMN 2.0 XML, or a Petri net (.pnml).", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Deviation list: .csv, .xlsx, .json or .zip.")],
    rules_path: Annotated[Path | None, typer.Option("--rules", help="Audit rules (RULES.yaml).")] = None,
    roles_path: Annotated[Path | None, typer.Option("--roles", help="Resource → role mapping (CSV resource,role).")] = None,
    mapping_path: Annotated[
        Path | None, typer.Option("--mapping", help="Task → activity label mapping (CSV task,activity or YAML).")
    ] = None,
    alias: Annotated[
        list[str] | None,
        typer.Option("--alias", help="Rename a log activity before checking: 'LOG LABEL=MODEL LABEL' (repeatable)."),
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", help="Leave out a log activity the model does not know (repeatable).")
    ] = None,
    accepted_path: Annotated[
        Path | None, typer.Option("--accepted", help="Accepted deviation patterns (YAML or CSV).")
    ] = None,
    pseudonymize: Annotated[
        str | None,
        typer.Option("--pseudonymize", help="Key: replace case ids and resources by keyed hashes (HMAC-SHA256) in the export."),
    ] = None,
    mode: Annotated[str, typer.Option("--mode", help="alignments (exact) or token-replay (fast).")] = "alignments",
    precision: Annotated[
        str,
        typer.Option("--precision", help="token-replay (pm4py's precision_token_based_replay), alignments "
                     "(precision_alignments: more robust with silent steps and loops) or none."),
    ] = "token-replay",
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per variant before it is reported as not computed.")] = 10.0,
    processes: Annotated[int | None, typer.Option("--processes", help="Worker processes (default: all cores).")] = None,
    summary_path: Annotated[Path | None, typer.Option("--summary", help="Also write the summary as JSON.")] = None,
    running: Annotated[
        str,
        typer.Option("--running", help="auto: running cases (not ended by an end activity, given or inferred from "
                     "the data) are checked as prefixes; none: every case is checked in full."),
    ] = "auto",
    end_activity: Annotated[
        list[str] | None,
        typer.Option("--end-activity", help="An activity that ends a case (repeatable); the other cases are running "
                     "and checked as prefixes (default: inferred from the data)."),
    ] = None,
    log_options: LogOptions = DEFAULT_LOG_OPTIONS,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
) -> None:
    """Check LOG against MODEL.bpmn (and --rules): one deviation per row, with provenance.

    Example: processmining conform eventlogs/salesforce_opportunity_field_history.csv
    bpmn_models/lead_to_order.bpmn --preset salesforce-field-history
    --rules bpmn_models/lead_to_order.rules.yaml --roles bpmn_models/lead_to_order.roles.csv -o deviations.xlsx
    """
    from ..bpmn import read_label_mapping
    from ..conformance import conform as run_conform
    from ..conformance import read_accepted, read_model
    from ..errors import ConformanceError
    from ..export import Pseudonymizer, write_tables
    from ..model import log_provenance
    from ..rules import load_rules, read_roles
    from ..safe_input import write_atomic

    mode_name, aliases, precision_method = checked_flags(mode=mode, running=running, end_activity=end_activity,
                                                         output=output, alias=alias, precision=precision)
    check_outputs(log_path, model_path, rules_path, roles_path, mapping_path, accepted_path,
                  output=output, summary=summary_path)
    log = log_options.load(log_path, quiet=quiet)
    model = read_model(model_path)
    rules = load_rules(rules_path) if rules_path else None
    roles = read_roles(roles_path) if roles_path else None
    label_mapping = read_label_mapping(mapping_path) if mapping_path else None
    accepted = read_accepted(accepted_path) if accepted_path else None
    running_cases: str | list[str] = running
    if end_activity:
        from ..status import running_case_ids

        missing = sorted(set(end_activity) - set(log.activities))
        if missing:
            raise ConformanceError(f"--end-activity {missing[0]!r} is not an activity of the log", source=str(log_path))
        running_cases = running_case_ids(log, end_activities=end_activity)
    with progress_bar("aligning variants", quiet=quiet) as progress:
        result = run_conform(log, model, rules=rules, mode=mode_name, variant_timeout_s=timeout, processes=processes,
                             label_mapping=label_mapping, activity_map=aliases, ignore_activities=ignore or (),
                             accepted=accepted, roles=roles, running=running_cases, precision=precision_method,  # type: ignore[arg-type]
                             progress=progress)
    if result.summary["cases"] == 0:
        raise ConformanceError("the log has no cases", source=str(log_path))
    inputs = {"model": (model_path.name, model.sha256)}
    for role_name, path, digest in (("rules", rules_path, rules.sha256 if rules else ""),
                                    ("roles", roles_path, None), ("mapping", mapping_path, None),
                                    ("accepted", accepted_path, accepted.sha256 if accepted else "")):
        if path is not None:
            inputs[role_name] = (path.name, digest or _sha256(path))
    params = {**result.parameters, **log_options.parameters(), "pseudonymized": bool(pseudonymize)}
    provenance = log_provenance(log, params, inputs=inputs)  # the log's source, hash and history
    deviations = result.deviations
    # every output (deviations, messages in them, the summary) names no case or resource, of any length
    pseudo = Pseudonymizer.from_log(log, key=pseudonymize) if pseudonymize else None
    summary = result.summary
    write_tables({"deviations": deviations, "summary": summary}, output, provenance=provenance, pseudonymizer=pseudo)
    if summary_path is not None:
        doc = {"provenance": provenance.to_dict(), **(pseudo.mapping(summary) if pseudo else summary)}  # type: ignore[dict-item]
        write_atomic(summary_path, json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n")
    if not quiet:
        typer.echo(_describe(summary, output))


def _sha256(path: Path) -> str:
    from ..model import sha256_file

    return sha256_file(path)


def _describe(s: dict, output: Path) -> str:
    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{100 * x:.1f}%"

    fit = "n/a" if s["fitness"] is None else f"{s['fitness']:.4f}"
    prec = "n/a" if s["precision"] is None else f"{s['precision']:.4f}"
    lines = [
        f"fitness {fit} · precision {prec} · {s['cases']:,} cases, {s['variants']:,} variants",
        f"fitting cases {s['fitting_cases']:,} · conforming {s['conforming_cases']:,} "
        f"({pct(s['conformance_rate'])}) · running {s['running_cases']:,}",
    ]
    shares = ", ".join(f"{k} {pct(v)}" for k, v in s["share_by_kind"].items() if v)
    lines.append(f"deviating cases by kind: {shares}" if shares else "deviating cases: none")
    for p in s["patterns"][:8]:
        what = p["rule_id"] or p["activity"] or ""
        delta = p["throughput_delta_days"]
        cases = f"{p['cases']:>6,} case" + ("s" if p["cases"] != 1 else " ")
        lines.append(f"  {cases}  {p['kind']:<12} {what}"
                     + (f"  (median throughput {delta:+.1f} d vs conforming)" if delta is not None else ""))
    if s["not_computed_cases"]:
        lines.append(f"not computed: {s['not_computed_cases']:,} cases in {s['not_computed_variants']} variants "
                     "(raise --timeout)")
    if s["unknown_activities"]:
        lines.append("activities the model does not know: " + ", ".join(s["unknown_activities"])
                     + " (use --alias or --ignore)")
    if s["accepted_deviations"]:
        lines.append(f"accepted deviations: {s['accepted_deviations']:,} (kept in the export, not counted)")
    lines.append(f"written: {output}")
    return "\n".join(lines)
