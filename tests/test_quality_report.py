"""The audit as a whole: scores, affected share, skipped checks, JSON golden file, HTML escaping."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from processmining.model import ACTIVITY, CASE, RESOURCE, TIMESTAMP, EventLog, IngestReport
from processmining.quality import CHECKS, QualityConfig, audit

GOLDEN = Path(__file__).parent / "golden" / "quality"
CFG = QualityConfig(now=pd.Timestamp("2024-12-31", tz="UTC"))


def ticket_log() -> EventLog:
    """A small support log with one planted imperfection per case (comments say which)."""
    rows = []
    for i in range(8):  # t0..t7: clean tickets
        d = i + 1
        rows += [(f"t{i}", "Open", f"2024-03-{d:02d}T09:00:00Z", "ann"),
                 (f"t{i}", "Waiting for Customer", f"2024-03-{d:02d}T11:30:00Z", "ann"),
                 (f"t{i}", "Resolved", f"2024-03-{d + 1:02d}T10:15:00Z", "bob"),
                 (f"t{i}", "Closed", f"2024-03-{d + 2:02d}T08:05:00Z", "Automation for Jira")]
    rows += [("s1", "Open", "2024-03-10T09:00:00Z", "ann"),  # misspelt status
             ("s1", "Wating for Customer", "2024-03-10T11:00:00Z", "ann"),
             ("s1", "Resolved", "2024-03-11T10:00:00Z", "bob"),
             ("s1", "Closed", "2024-03-12T09:00:00Z", "bob")]
    rows += [("d1", "Open", "2024-03-10T09:00:00Z", "ann"),  # duplicated history entry
             ("d1", "Resolved", "2024-03-11T10:00:00Z", "bob"),
             ("d1", "Resolved", "2024-03-11T10:00:00Z", "bob"),
             ("d1", "Closed", "2024-03-12T09:00:00Z", "bob")]
    rows += [("b1", "Open", "2024-03-10T09:00:00Z", "ann"),  # stages clicked through in one save
             ("b1", "Resolved", "2024-03-14T16:00:00Z", "bob"),
             ("b1", "Closed", "2024-03-14T16:00:00Z", "bob")]
    # never closed; date-only "Resolved"; a hostile account name (matched as a system account: "script")
    rows += [("n1", "Open", "2024-03-10T09:00:00Z", "<script>alert(1)</script>"),
             ("n1", "Resolved", "2024-03-11T00:00:00Z", "bob")]
    df = pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP, RESOURCE])
    df[TIMESTAMP] = pd.to_datetime(df[TIMESTAMP], utc=True)
    report = IngestReport(source="tickets.csv", sha256="0" * 64, timezone="UTC", rows_read=len(df), events=len(df),
                          cases=12)
    return EventLog.from_frame(df, report=report, name="tickets.csv")


def test_audit_findings_scores_and_share():
    report = audit(ticket_log(), config=CFG)
    by = {f.check: f for f in report.findings}
    assert sorted(by) == ["batch_entry_by_case", "duplicate_events", "incomplete_cases", "stale_open_cases",
                          "synonymous_labels", "system_accounts", "timestamp_precision"]
    assert sorted(by["synonymous_labels"].case_ids) == ["s1"]
    assert sorted(by["duplicate_events"].case_ids) == ["d1"]
    assert sorted(by["batch_entry_by_case"].case_ids) == ["b1"]
    assert sorted(by["timestamp_precision"].case_ids) == ["n1"]
    assert sorted(by["incomplete_cases"].case_ids) == ["n1"]
    assert sorted(by["stale_open_cases"].case_ids) == ["n1"]  # open since March at the export (2024-12-31)
    assert by["system_accounts"].details["accounts"] == ["Automation for Jira", "<script>alert(1)</script>"]
    assert by["system_accounts"].cases_affected == 9
    # t0..t7 (bot) + s1 + d1 + b1 + n1 = all 12 cases hit by something
    assert report.cases_affected_share == 1.0
    # labels: s1 high (1.0) of 12 cases -> 91.7; events: d1 high -> 91.7;
    # timestamps: b1 medium + n1 medium -> 100 * (1 - 1.0 / 12) = 91.7; cases: n1 medium -> 95.8;
    # resources: 9 cases low (0.2 each) -> 100 * (1 - 1.8 / 12) = 85.0; attributes complete -> 100
    assert report.scores == {"timestamps": 91.7, "labels": 91.7, "events": 91.7, "cases": 95.8,
                             "resources": 85.0, "attributes": 100.0}
    assert report.overall_score == 92.7  # (3 * 91.7 + 95.8 + 85.0 + 100) / 6
    assert report.summary["start_activities"] == ["Open"] and report.summary["end_activities"] == ["Closed"]
    assert report.summary["timestamp_precision"] == {"day": 1, "minute": 44, "second": 0, "sub-second": 0}
    # no creation time; only 12 cases; only 2 human accounts (ann, bob)
    assert set(report.skipped) == {"events_before_creation", "long_cases", "resource_concentration"}


def test_audit_json_matches_golden_file():
    text = audit(ticket_log(), config=CFG).to_json()
    golden = GOLDEN / "tickets_report.json"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text + "\n", encoding="utf-8")
    assert json.loads(text) == json.loads(golden.read_text(encoding="utf-8"))


def test_html_report_is_self_contained_and_escapes_log_values():
    page = audit(ticket_log(), config=CFG).to_html()
    assert page.startswith("<!DOCTYPE html>")
    # n1's hostile resource name is shown (system accounts table), escaped
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Wating for Customer" in page
    assert "http" not in page.split("</style>")[0]  # no external stylesheet or font
    assert page.count("<section") == 7


def test_html_escapes_values_that_appear_in_examples():
    log = ticket_log()
    df = log.df.copy()
    # a polluted label with markup: listed in the polluted-labels examples, never rendered as markup
    df.loc[df[ACTIVITY] == "Wating for Customer", ACTIVITY] = "Call <b onclick=x()>48213</b>"
    page = audit(log.with_frame(df, step="test"), config=CFG).to_html()
    assert "<b onclick" not in page
    assert "Call &lt;b onclick=x()&gt;48213&lt;/b&gt;" in page


def test_audit_of_an_empty_log_skips_every_check():
    df = ticket_log().df.iloc[0:0]
    report = audit(EventLog.from_frame(df), config=CFG)
    assert report.findings == () and len(report.skipped) == len(CHECKS)
    assert report.cases_affected_share == 0.0


def test_progress_is_reported_per_check():
    calls = []
    audit(ticket_log(), config=CFG, progress=lambda done, total, label: calls.append((done, total, label)))
    assert calls[0] == (0, len(CHECKS), "quality: batch_entry_by_case")
    assert calls[-1] == (len(CHECKS), len(CHECKS), "quality: done")


def test_case_table_lists_every_affected_case():
    table = audit(ticket_log(), config=CFG).case_table()
    assert list(table.columns) == ["check", "dimension", "severity", "title", CASE]
    by_check = table.groupby("check")[CASE].apply(sorted).to_dict()
    assert by_check["duplicate_events"] == ["d1"]
    assert by_check["system_accounts"] == ["n1", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7"]
    assert len(table) == 1 + 1 + 1 + 1 + 1 + 1 + 9  # batch, precision, synonyms, duplicates, no end, stale, bots
