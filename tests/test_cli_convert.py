"""``processmining convert`` through the CLI entry point, as users run it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import processmining.cli

FIX = Path(__file__).parent / "fixtures" / "ingest"


def run(*args: str):
    return CliRunner().invoke(processmining.cli.app, ["convert", *args])


def test_list_presets():
    result = run("--list-presets")
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.output.splitlines()]
    assert names == ["salesforce-opportunity-history", "salesforce-field-history", "hubspot-deals", "hubspot-history",
                     "pipedrive-flow", "jira-changelog", "jira-issue-history", "zendesk-audits", "servicenow-audit"]


def test_convert_with_preset_writes_log_and_report(tmp_path):
    out, rep = tmp_path / "log.csv", tmp_path / "report.json"
    result = run(str(FIX / "salesforce_opportunity_field_history.csv"), "--preset", "salesforce-field-history",
                 "-o", str(out), "--report", str(rep))
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stdout and "(6 events, 2 cases)" in result.stdout
    # the summary goes to stderr
    assert "6 events in 2 cases from 12 rows (transition, preset salesforce-field-history)" in result.stderr
    report = json.loads(rep.read_text())
    assert (report["rows_read"], report["events"], report["cases"], report["collapsed_duplicates"]) == (12, 6, 2, 1)
    assert report["quarantined"][0] == {"row": 11, "reason": "impossible date or time: '2024-02-30T10:00:00.000Z'",
                                        "column": "CreatedDate", "value": "2024-02-30T10:00:00.000Z"}
    assert report["mapping"]["case"] == "OpportunityId"
    assert len(pd.read_csv(out)) == 6


def test_convert_with_explicit_columns_and_timezone(tmp_path):
    src = tmp_path / "tickets.csv"
    src.write_text("Ticket,State,When,Agent\nT-1,Open,2024-01-15 09:00,ana\nT-1,Closed,2024-01-15 10:00,ben\n")
    out = tmp_path / "log.csv"
    result = run(str(src), "-o", str(out), "--case", "Ticket", "--activity", "State", "--timestamp", "When",
                 "--resource", "Agent", "--timezone", "Europe/Berlin")
    assert result.exit_code == 0, result.output
    df = pd.read_csv(out)
    assert df["time:timestamp"].tolist() == ["2024-01-15T08:00:00.000000+00:00", "2024-01-15T09:00:00.000000+00:00"]
    assert df["org:resource"].tolist() == ["ana", "ben"]


def test_ambiguous_dates_exit_2_with_one_line(tmp_path):
    src = tmp_path / "e.csv"
    src.write_text("case,activity,time\n1,A,03/04/2024\n")
    result = run(str(src), "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "error: e.csv, line 2, column 'time': ambiguous date '03/04/2024': it can be 3 April (day-first) or 4 March "
        "(month-first) and no value in the column decides it; pass --dayfirst or --monthfirst")
    assert "Traceback" not in result.output
    ok = run(str(src), "-o", str(tmp_path / "o.csv"), "--dayfirst")
    assert ok.exit_code == 0
    assert pd.read_csv(tmp_path / "o.csv")["time:timestamp"].tolist() == ["2024-04-03T00:00:00.000000+00:00"]


@pytest.mark.parametrize(("content", "message"), [
    ("", "error: empty.csv: the file is empty"),
    ("case,activity,time\n", "error: empty.csv: the file has a header row (3 columns) but no data rows"),
])
def test_unusable_files_exit_2(tmp_path, content, message):
    src = tmp_path / "empty.csv"
    src.write_text(content)
    result = run(str(src), "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 2
    assert result.stderr.strip() == message


def test_missing_file_and_url_exit_2(tmp_path):
    result = run(str(tmp_path / "nope.csv"), "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 2 and "file not found" in result.stderr
    result = run("https://example.com/x.csv", "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 2 and "URLs are not read" in result.stderr


def test_unknown_output_extension_exit_2(tmp_path):
    result = run(str(FIX / "jira_issue_history.csv"), "-o", str(tmp_path / "log.txt"))
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: cannot write 'log.txt': use .xes, .xes.gz, .csv or .parquet"


def test_stage_labels_file(tmp_path):
    labels = tmp_path / "states.csv"
    labels.write_text("value,label\n2,In Progress\n6,Resolved\n7,Closed\n")
    out = tmp_path / "log.csv"
    result = run(str(FIX / "servicenow_sys_audit.csv"), "--preset", "servicenow-audit", "--stage-labels", str(labels),
                 "-o", str(out))
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out)["concept:name"].tolist() == ["In Progress", "In Progress", "Resolved", "Closed"]


def test_convert_to_xes(tmp_path):
    out = tmp_path / "log.xes"
    result = run(str(FIX / "jira_changelog.json"), "-o", str(out))
    assert result.exit_code == 0, result.output
    from processmining.ingest import read_log

    back = read_log(out)
    assert (back.n_cases, back.n_events) == (3, 6)


def test_real_xes_converts_to_csv_and_back_unchanged(tmp_path, shared_datasets):
    from processmining.ingest import read_log
    from processmining.model import ACTIVITY, CASE, TIMESTAMP

    src = shared_datasets / "real" / "receipt.xes.gz"
    out = tmp_path / "receipt.csv"
    result = run(str(src), "-o", str(out))
    assert result.exit_code == 0, result.output
    # pm4py.read_xes reports 1,434 traces and 8,577 events for this file
    assert "(8,577 events, 1,434 cases)" in result.stdout
    original, back = read_log(src), read_log(out)
    key = [CASE, ACTIVITY, TIMESTAMP]
    a = original.df[key].sort_values(key, ignore_index=True)
    b = back.df[key].sort_values(key, ignore_index=True)
    assert (a[CASE].tolist(), a[ACTIVITY].tolist()) == (b[CASE].tolist(), b[ACTIVITY].tolist())
    ns = "datetime64[ns, UTC]"
    assert a[TIMESTAMP].astype(ns).tolist() == b[TIMESTAMP].astype(ns).tolist()


def test_parquet_timestamps_are_microseconds_unless_a_value_has_nanoseconds(tmp_path):
    """Spark (and other lake engines) refuse Parquet TIMESTAMP(NANOS): a converted log is written in µs, which
    loses nothing at the export's millisecond times; a log with nanoseconds keeps them (ns)."""
    import pyarrow.parquet as pq

    from processmining.ingest import read_log, write_log
    from processmining.model import TIMESTAMP, EventLog

    src = Path(__file__).parent.parent / "eventlogs" / "jira_changelog.json"
    out = tmp_path / "jira.parquet"
    assert run(str(src), "-o", str(out)).exit_code == 0
    assert str(pq.read_schema(out).field(TIMESTAMP).type) == "timestamp[us, tz=UTC]"
    log = read_log(src)
    back = read_log(out)
    assert back.df[TIMESTAMP].tolist() == log.df[TIMESTAMP].tolist()
    assert (back.n_events, back.n_cases) == (7587, 1500)

    df = log.df.copy()
    df.loc[0, TIMESTAMP] += pd.Timedelta(1, "ns")
    fine = tmp_path / "ns.parquet"
    write_log(EventLog(df=df, name="ns"), fine)
    assert str(pq.read_schema(fine).field(TIMESTAMP).type) == "timestamp[ns, tz=UTC]"
    assert read_log(fine).df[TIMESTAMP].iloc[0] == df[TIMESTAMP].iloc[0]
