"""`processmining conform` end to end through the CLI entry point: exports, provenance, pseudonyms, accepted."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
from typer.testing import CliRunner

import processmining.cli
from processmining.export import pseudonym

runner = CliRunner()

CSV = (
    "case,activity,time,user\n"
    # c1 follows the model; c2 negotiates before quoting; c3's activity is a formula (item 29)
    "c1,Prospecting,2024-01-01 09:00,=cmd|' /C calc'!A0\n"
    "c1,Qualification,2024-01-02 09:00,ann\nc1,Closed Lost,2024-01-03 09:00,ann\n"
    "c2,Prospecting,2024-01-01 09:00,bob\nc2,Qualification,2024-01-02 09:00,bob\n"
    "c2,Needs Analysis,2024-01-03 09:00,bob\nc2,Negotiation/Review,2024-01-04 09:00,bob\n"
    "c2,Proposal/Price Quote,2024-01-05 09:00,bob\nc2,Closed Lost,2024-01-06 09:00,bob\n"
    "c3,Prospecting,2024-01-01 09:00,cy\nc3,@SUM(1+1),2024-01-02 09:00,cy\nc3,Closed Lost,2024-01-03 09:00,cy\n"
)
MAP = ["--case", "case", "--activity", "activity", "--timestamp", "time", "--resource", "user"]


def _run(tmp_path, *extra: str):
    log = tmp_path / "log.csv"
    log.write_text(CSV)
    model = processmining.cli.__file__.replace("processmining/cli/__init__.py", "bpmn_models/lead_to_order.bpmn")
    return runner.invoke(processmining.cli.app, ["conform", str(log), model, *MAP, "--processes", "1", *extra])


def test_csv_export_with_summary_and_provenance(tmp_path):
    out, summary = tmp_path / "dev.csv", tmp_path / "summary.json"
    res = _run(tmp_path, "-o", str(out), "--summary", str(summary))
    assert res.exit_code == 0, res.output
    assert "written: " in res.output and "fitness " in res.output
    dev = pd.read_csv(out, keep_default_na=False)
    assert sorted(set(dev.case_id)) == ["c2", "c3"]
    # negotiation before the quote, then lost: the model allows P, Q, NA, PQ, Closed Lost, so the early
    # Negotiation/Review is simply unexpected there
    assert dev[dev.case_id == "c2"].kind.tolist() == ["unexpected"]
    assert dev[dev.case_id == "c2"].activity.tolist() == ["Negotiation/Review"]
    # the formula-like activity is neutralised in the CSV, the text otherwise intact
    assert "'@SUM(1+1)" in dev[dev.case_id == "c3"].activity.tolist()
    doc = json.loads(summary.read_text())
    assert doc["cases"] == 3 and doc["deviating_cases"] == 2 and doc["unknown_activities"] == ["@SUM(1+1)"]
    assert doc["provenance"]["inputs"]["log"].startswith("log.csv sha256:")
    assert doc["provenance"]["inputs"]["model"].startswith("lead_to_order.bpmn sha256:")
    assert doc["provenance"]["parameters"]["mode"] == "alignments"
    side = json.loads((tmp_path / "dev.provenance.json").read_text())
    assert side["inputs"] == doc["provenance"]["inputs"]


def test_xlsx_pseudonymised_with_accepted_patterns(tmp_path):
    accepted = tmp_path / "accepted.yaml"
    accepted.write_text("accepted:\n  - kind: unexpected\n    activity: Negotiation/Review\n"
                        "    reason: pilot customers negotiate first\n")
    out = tmp_path / "dev.xlsx"
    res = _run(tmp_path, "-o", str(out), "--accepted", str(accepted), "--pseudonymize", "s3cret")
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["deviations", "summary", "provenance"]
    rows = list(wb["deviations"].iter_rows(values_only=True))
    header, body = rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert "case_id" in header
    cases = {r["case_id"] for r in body}
    assert cases == {pseudonym("c2", "s3cret", prefix="case-"), pseudonym("c3", "s3cret", prefix="case-")}
    blob = " ".join(str(v) for r in body for v in r.values())
    assert "bob" not in blob and "c2" not in cases
    acc = [r for r in body if r["activity"] == "Negotiation/Review"][0]
    assert acc["accepted"] is True and acc["accepted_reason"] == "pilot customers negotiate first"
    summary = dict(list(wb["summary"].iter_rows(values_only=True))[1:])
    assert summary["deviating_cases"] == 1 and summary["accepted_deviations"] == 1
    prov = dict(list(wb["provenance"].iter_rows(values_only=True))[1:])
    assert prov["parameters.pseudonymized"] is True
    assert prov["inputs.accepted"].startswith("accepted.yaml sha256:")
    # the key is never written
    assert "s3cret" not in json.dumps([list(ws.iter_rows(values_only=True)) for ws in wb], default=str)


def test_bad_rules_file_is_one_line_and_exit_2(tmp_path):
    rules = tmp_path / "r.yaml"
    rules.write_text("rules:\n  - {id: x, type: precedence, activity: Order Booked, after: Closed Wonn}\n")
    res = _run(tmp_path, "-o", str(tmp_path / "d.json"), "--rules", str(rules))
    assert res.exit_code == 2
    assert res.output.strip().splitlines()[-1] == (
        "error: r.yaml, line 2: rule 'x' (precedence) names 'Closed Wonn', which is in neither the log nor the model")


def test_json_export_token_replay(tmp_path):
    out = tmp_path / "d.json"
    res = _run(tmp_path, "-o", str(out), "--mode", "token-replay", "--ignore", "@SUM(1+1)")
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert list(doc)[:3] == ["provenance", "deviations", "summary"]
    assert doc["summary"]["ignored_activities"] == {"@SUM(1+1)": 1}
    assert doc["provenance"]["parameters"]["mode"] == "token_replay"
    assert "c2" in {d["case_id"] for d in doc["deviations"]}


def test_unknown_output_format_is_refused(tmp_path):
    res = _run(tmp_path, "-o", str(tmp_path / "d.txt"))
    assert res.exit_code == 2
    assert res.output.strip().splitlines()[-1].startswith("error: cannot tell the export format of")


def test_precision_measure_is_chosen_by_flag(tmp_path):
    from processmining.conformance import (
        align_etc_precision,
        etc_precision,
        read_model,
        reference_net,
    )
    from processmining.conformance.variants import log_variants
    from processmining.ingest import read_log
    from processmining.model import ColumnMapping

    got = {}
    for measure in ("token-replay", "alignments", "none"):
        summary = tmp_path / f"{measure}.json"
        res = _run(tmp_path, "-o", str(tmp_path / "dev.csv"), "--summary", str(summary), "--precision", measure)
        assert res.exit_code == 0, res.output
        doc = json.loads(summary.read_text())
        got[measure] = (doc["precision"], doc["precision_method"])
    log = read_log(tmp_path / "log.csv", mapping=ColumnMapping(case="case", activity="activity", timestamp="time",
                                                               resource="user"))
    model = processmining.cli.__file__.replace("processmining/cli/__init__.py", "bpmn_models/lead_to_order.bpmn")
    ref, v = reference_net(read_model(model), log.activities), log_variants(log)
    assert got == {
        "token-replay": (etc_precision(ref.net, v.traces, v.counts),
                         "pm4py ETC precision (token-based replay), precision_token_based_replay"),
        "alignments": (align_etc_precision(ref.net, v.traces, v.counts), "pm4py align-ETC precision, precision_alignments"),
        "none": (None, "not computed"),
    }
    res = _run(tmp_path, "-o", str(tmp_path / "dev.csv"), "--precision", "fast")
    assert res.exit_code == 2
    assert "--precision must be token-replay, alignments or none, got 'fast'" in res.output



def test_the_summary_names_the_deviating_kinds_or_says_none_deviate(tmp_path):
    res = _run(tmp_path, "-o", str(tmp_path / "dev.csv"))
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    at = next(k for k, line in enumerate(lines) if line.startswith("fitness "))
    assert lines[at + 1:at + 6] == [
        "fitting cases 1 · conforming 1 (33.3%) · running 0",
        "deviating cases by kind: missing 33.3%, unexpected 66.7%",
        "       1 case   missing      Qualification  (median throughput +0.0 d vs conforming)",
        "       1 case   unexpected   @SUM(1+1)  (median throughput +0.0 d vs conforming)",
        "       1 case   unexpected   Negotiation/Review  (median throughput +3.0 d vs conforming)"]
    only_c1 = tmp_path / "c1.csv"
    only_c1.write_text("".join(line + "\n" for line in CSV.splitlines() if line.startswith(("case,", "c1,"))))
    model = processmining.cli.__file__.replace("processmining/cli/__init__.py", "bpmn_models/lead_to_order.bpmn")
    res = runner.invoke(processmining.cli.app, ["conform", str(only_c1), model, *MAP, "--processes", "1",
                                                "-o", str(tmp_path / "none.csv")])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    at = next(k for k, line in enumerate(lines) if line.startswith("fitness "))
    assert lines[at + 1:at + 4] == ["fitting cases 1 · conforming 1 (100.0%) · running 0", "deviating cases: none",
                                    f"written: {tmp_path / 'none.csv'}"]
