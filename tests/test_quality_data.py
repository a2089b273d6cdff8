"""The audit on the demo exports (planted imperfections, exact case ids) and on real logs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from processmining.quality import QualityConfig, audit

REPO = Path(__file__).resolve().parent.parent
EVENTLOGS = REPO / "eventlogs"


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((EVENTLOGS / "ground_truth.json").read_text(encoding="utf-8"))


def _audit_demo(truth: dict, name: str, **config):
    from processmining.ingest import read_log

    entry = truth["logs"][name]
    log = read_log(EVENTLOGS / entry["file"], preset=entry["preset"])
    cfg = QualityConfig(now=pd.Timestamp(truth["export_time"]), **config)
    return log, entry, audit(log, config=cfg)


def _one(report, check: str):
    found = report.by_check(check)
    assert len(found) == 1, f"{check}: {[f.title for f in found]}"
    return found[0]


def test_jira_demo_planted_imperfections_are_found_exactly(truth):
    log, entry, report = _audit_demo(truth, "jira", stale_after=pd.Timedelta(days=30))
    imp = {k: v for k, v in entry["imperfections"].items()}

    batch = _one(report, "batch_entry_by_case")
    assert batch.case_ids == set(imp["batch_entry"]["cases"]) and batch.cases_affected == imp["batch_entry"]["count"]

    synonyms = _one(report, "synonymous_labels")
    assert synonyms.case_ids == set(imp["synonym_labels"]["cases"])
    assert synonyms.details["mapping"] == imp["synonym_labels"]["synonyms"]

    dups = _one(report, "duplicate_events")
    assert dups.case_ids == set(imp["duplicate_histories"]["cases"])
    assert dups.count == dups.details["exact"] == imp["duplicate_histories"]["count"]

    # the detector is not exact on real-looking data: an agent back from a 101-day holiday is silent > 90 days too.
    # Stated, not tuned away: every departed-agent ticket is found (recall 1.0); by account the precision is 1/2,
    # by case 3 of 20 (the holiday agent's 17 tickets after the return are the false positives)
    departed = _one(report, "returning_accounts")
    truly = set(imp["departed_agent"]["cases"])
    assert truly <= departed.case_ids  # recall 1.0
    assert departed.case_ids - truly == set(imp["agent_on_holiday"]["cases"])
    assert (len(truly), len(departed.case_ids)) == (3, 20)
    assert departed.details["accounts"] == sorted([imp["departed_agent"]["display_name"],
                                                   imp["agent_on_holiday"]["display_name"]])

    bots = _one(report, "system_accounts")
    assert bots.details["accounts"] == [imp["bot_account"]["display_name"]]
    assert bots.case_ids == set(imp["bot_account"]["cases"])

    date_only = _one(report, "timestamp_precision")
    assert date_only.case_ids == set(imp["date_only_timestamps"]["cases"])
    assert date_only.count == imp["date_only_timestamps"]["count"]

    # never-closed tickets: no end activity, and idle for > 30 days at the export - the planted ones and the
    # near-limit ones 1 s / 1 min / 5 min over (exactly 30 days is not over), and nothing else
    stale = _one(report, "stale_open_cases")
    assert stale.case_ids == set(entry["limits"]["never-closed-30d"]["stuck"]) > set(
        entry["planted"]["never_closed"]["cases"])
    no_end = [f for f in report.by_check("incomplete_cases") if f.details["kind"] == "no end"][0]
    assert set(entry["planted"]["never_closed"]["cases"]) <= no_end.case_ids

    # the ingest report's note about naive values is passed on
    offsets = _one(report, "mixed_offsets")
    assert offsets.count == imp["date_only_timestamps"]["count"]


def test_salesforce_demo_stuck_deals_and_collapsed_artefacts(truth):
    log, entry, report = _audit_demo(truth, "salesforce")
    stale = _one(report, "stale_open_cases")
    # at the export: the planted stuck deals and the open deals idle over 60 days by chance or by 1 s - 5 min
    assert stale.case_ids == set(entry["limits"]["stuck-60d"]["stuck"]) > set(entry["planted"]["stuck_open"]["cases"])
    # the importer collapsed the repeated-stage rows, so no duplicate is left for the audit
    assert log.report.collapsed_duplicates == entry["imperfections"]["export_artefacts"]["rows"]
    assert report.by_check("duplicate_events") == [] and report.by_check("synonymous_labels") == []


def test_hubspot_demo_date_only_cells(truth):
    _, entry, report = _audit_demo(truth, "hubspot")
    date_only = _one(report, "timestamp_precision")
    assert date_only.case_ids == set(entry["imperfections"]["date_only_cells"]["cases"])
    # interval rows: a stage's exit equals the next stage's entry by construction, which is not batch entry
    assert report.by_check("batch_entry_by_case") == []


# ------------------------------------------------------------ real logs
def _read_real(shared_datasets: Path, name: str):
    from processmining.xes import read_xes

    return read_xes(shared_datasets / "real" / name)


REAL_NOW = QualityConfig(now=pd.Timestamp("2026-01-01", tz="UTC"))


def test_running_example_is_clean(shared_datasets):
    report = audit(_read_real(shared_datasets, "running-example.xes"), config=REAL_NOW)
    assert report.findings == ()
    assert report.overall_score == 100.0
    assert set(report.skipped) == {"events_before_creation", "long_cases"}


def test_receipt_log_findings(shared_datasets):
    report = audit(_read_real(shared_datasets, "receipt.xes.gz"), config=REAL_NOW)
    counts = {f.check: (f.count, f.cases_affected) for f in report.findings}
    assert counts["single_event_cases"] == (116, 116)
    assert counts["near_duplicate_events"] == (3, 3)
    assert counts["batch_entry_by_case"] == (23, 11)
    assert counts["returning_accounts"] == (386, 99)
    assert "synonymous_labels" not in counts and "duplicate_events" not in counts
    completeness = report.by_check("attribute_completeness")[0].details["completeness"]
    assert completeness["case:group"] == 0.4247
    assert report.summary["events"] == 8577 and report.summary["cases"] == 1434


def test_bpic2013_incidents_findings(shared_datasets):
    report = audit(_read_real(shared_datasets, "bpic2013_incidents.xes.gz"), config=REAL_NOW)
    counts = {f.check: (f.count, f.cases_affected) for f in report.findings}
    # "Siebel" (the ticketing system) records bulk updates
    assert report.by_check("batch_entry_by_resource")[0].details["accounts"] == ["Siebel"]
    assert counts["batch_entry_by_resource"] == (399, 399)
    # sub-status changes of one status within a minute (lifecycle:transition distinguishes real ones)
    assert counts["near_duplicate_events"] == (4599, 4129)
    assert counts["incomplete_cases"] == (8, 8)
    assert report.summary["end_activities"] == ["Completed"]
    assert len(report.by_check("returning_accounts")[0].details["accounts"]) == 74
