"""``processmining quality`` through the Typer entry point, as users run it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import processmining.cli

RUNNER = CliRunner()

# t1..t6 clean; s1 uses a misspelt status; d1 has one history row exported twice
CSV = """Ticket,Status,Changed,Agent
t1,Open,2024-03-01 09:00:00,ann
t1,Waiting for Customer,2024-03-01 10:00:00,ann
t1,Closed,2024-03-02 11:00:00,bob
t2,Open,2024-03-02 09:00:00,ann
t2,Waiting for Customer,2024-03-02 10:00:00,ann
t2,Closed,2024-03-03 11:00:00,bob
t3,Open,2024-03-03 09:00:00,ann
t3,Waiting for Customer,2024-03-03 10:00:00,ann
t3,Closed,2024-03-04 11:00:00,bob
t4,Open,2024-03-04 09:00:00,ann
t4,Waiting for Customer,2024-03-04 10:00:00,ann
t4,Closed,2024-03-05 11:00:00,bob
t5,Open,2024-03-05 09:00:00,ann
t5,Waiting for Customer,2024-03-05 10:00:00,ann
t5,Closed,2024-03-06 11:00:00,bob
t6,Open,2024-03-06 09:00:00,ann
t6,Waiting for Customer,2024-03-06 10:00:00,ann
t6,Closed,2024-03-07 11:00:00,bob
s1,Open,2024-03-06 09:00:00,ann
s1,Wating for Customer,2024-03-06 10:00:00,ann
s1,Closed,2024-03-07 11:00:00,bob
d1,Open,2024-03-06 09:00:00,ann
d1,Closed,2024-03-07 11:00:00,bob
d1,Closed,2024-03-07 11:00:00,bob
"""
MAPPING = ["--case", "Ticket", "--activity", "Status", "--timestamp", "Changed", "--resource", "Agent",
           "--now", "2024-12-31"]


@pytest.fixture()
def csv_path(tmp_path: Path) -> Path:
    path = tmp_path / "tickets.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def test_json_report(csv_path: Path, tmp_path: Path):
    out = tmp_path / "report.json"
    result = RUNNER.invoke(processmining.cli.app, ["quality", str(csv_path), "-o", str(out), *MAPPING])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    by = {f["check"]: f for f in report["findings"]}
    assert by["synonymous_labels"]["details"]["mapping"] == {"Wating for Customer": "Waiting for Customer"}
    assert (by["duplicate_events"]["count"], by["duplicate_events"]["cases_affected"]) == (1, 1)
    assert report["summary"]["events"] == 24 and report["summary"]["cases"] == 8
    assert report["config"]["now"] == "2024-12-31T00:00:00+00:00"
    assert f"wrote {out}" in result.output


def test_html_report_and_text_summary(csv_path: Path, tmp_path: Path):
    out = tmp_path / "report.html"
    result = RUNNER.invoke(processmining.cli.app, ["quality", str(csv_path), "-o", str(out), "-q", *MAPPING])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Wating for Customer" in page
    text = RUNNER.invoke(processmining.cli.app, ["quality", str(csv_path), "-q", *MAPPING])
    assert text.exit_code == 0
    assert "[high] synonymous_labels: 1 label variant of 1 label (1 event) (1 case)" in text.output


def test_fixes_are_applied_in_order_reported_and_written(csv_path: Path, tmp_path: Path):
    out, fixed = tmp_path / "report.json", tmp_path / "fixed.csv"
    result = RUNNER.invoke(processmining.cli.app, [
        "quality", str(csv_path), "-o", str(out), "--fix", "merge-labels", "--fix", "drop-duplicates",
        "--fixed-log", str(fixed), *MAPPING])
    assert result.exit_code == 0, result.output
    assert "fix: quality: merged 1 labels into 1 (1 events): 'Wating for Customer' -> 'Waiting for Customer'" \
        in result.output
    assert "fix: quality: dropped 1 exact duplicate events from 1 cases" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    # only the note that naive CSV times were read as UTC is left
    assert [(f["check"], f["severity"], f["count"]) for f in report["findings"]] == [("mixed_offsets", "low", 24)]
    assert len(report["summary"]["history"]) == 2
    assert len(fixed.read_text(encoding="utf-8").strip().splitlines()) == 1 + 23  # header + events


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["-o", "report.txt"], "the report must be .json or .html, got 'report.txt'"),
        (["--fix", "shift-timezone"], "--fix shift-timezone needs --declared-timezone"),
        (["--now", "yesterday-ish"], "--now 'yesterday-ish' is not a date or date-time"),
    ],
)
def test_unusable_options_are_one_line_errors(csv_path: Path, extra: list[str], message: str):
    result = RUNNER.invoke(processmining.cli.app, ["quality", str(csv_path), *MAPPING, *extra])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_file_is_a_one_line_error(tmp_path: Path):
    result = RUNNER.invoke(processmining.cli.app, ["quality", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2 and result.output.startswith("error: ")


def test_pseudonymized_report_and_fixed_log_name_nobody(csv_path: Path, tmp_path: Path):
    # the duplicate's case d1 and the agents ann / bob (three-letter names) must not survive anywhere
    from processmining.pseudonyms import pseudonym

    out, fixed = tmp_path / "report.json", tmp_path / "fixed.csv"
    result = RUNNER.invoke(processmining.cli.app, ["quality", str(csv_path), "-o", str(out), "-q", *MAPPING,
                                                   "--pseudonymize", "k3y", "--fixed-log", str(fixed)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    dup = {f["check"]: f for f in json.loads(text)["findings"]}["duplicate_events"]
    assert dup["cases_affected"] == 1
    assert pseudonym("d1", "k3y", prefix="case-") in text
    written = fixed.read_text(encoding="utf-8")
    assert pseudonym("ann", "k3y", prefix="res-") in written
    for name in ("d1", "s1", "t1", "ann", "bob"):
        assert f'"{name}"' not in text and f"'{name}'" not in text and f",{name}," not in written, name


def test_pseudonymized_fixed_log_leaves_out_free_text(tmp_path: Path):
    # Summary is free text naming a customer contact; Requester names people who are not agents
    rows = ["Ticket,Status,Changed,Agent,Summary,Requester,Priority"]
    for i in range(4):
        rows += [f"t{i},Open,2024-03-0{i + 1} 09:00:00,ann,Call Holly Gennero about invoice {i},Hans Gruber,High",
                 f"t{i},Closed,2024-03-0{i + 2} 11:00:00,bob,Call Holly Gennero about invoice {i},Hans Gruber,High"]
    path, out, fixed = tmp_path / "named.csv", tmp_path / "report.json", tmp_path / "fixed.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = RUNNER.invoke(processmining.cli.app, ["quality", str(path), "-o", str(out), "-q", *MAPPING,
                                                   "--pseudonymize", "k3y", "--fixed-log", str(fixed)])
    assert result.exit_code == 0, result.output
    written = fixed.read_text(encoding="utf-8")
    assert written.splitlines()[0] == ('"case:concept:name","concept:name","time:timestamp","org:resource",'
                                       '"Requester","Priority"')
    assert "Holly" not in written and "Hans Gruber" not in written and '"High"' in written
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["summary"]["pseudonymization"] == (
        "pseudonymized (keyed hashes): case:concept:name, org:resource, Requester; "
        "left out as free text that may name people or customers: Summary")
