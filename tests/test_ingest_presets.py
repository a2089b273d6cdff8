"""Every preset on a small fixture in that system's real export layout (tests/fixtures/ingest/)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from processmining.errors import IngestError
from processmining.ingest import PRESETS, list_presets, read_log
from processmining.model import ACTIVITY, CASE, RESOURCE, START_TIMESTAMP, TIMESTAMP

FIX = Path(__file__).parent / "fixtures" / "ingest"


def trace(log, case: str) -> list[str]:
    return log.df.loc[log.df[CASE] == case, ACTIVITY].tolist()


def times(log, case: str) -> list[str]:
    return log.df.loc[log.df[CASE] == case, TIMESTAMP].dt.strftime("%Y-%m-%d %H:%M:%S").tolist()


def test_every_required_preset_exists():
    required = {"salesforce-opportunity-history", "salesforce-field-history", "hubspot-deals", "hubspot-history",
                "pipedrive-flow", "jira-changelog", "jira-issue-history", "zendesk-audits", "servicenow-audit"}
    assert required <= set(PRESETS)
    assert [p.name for p in list_presets()][:2] == ["salesforce-opportunity-history", "salesforce-field-history"]


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(IngestError, match="unknown preset 'salesforce'; known presets: salesforce-opportunity-history"):
        read_log(FIX / "salesforce_opportunity_history.csv", preset="salesforce")


def test_salesforce_opportunity_history_collapses_amount_only_rows():
    log = read_log(FIX / "salesforce_opportunity_history.csv", preset="salesforce-opportunity-history")
    r = log.report
    # row 3 repeats Prospecting because only the Amount changed: an export artefact
    assert (r.rows_read, r.events, r.cases, r.collapsed_duplicates) == (8, 7, 2, 1)
    # the revised-quote loop (Negotiation/Review -> Proposal/Price Quote) is a real backward move: kept
    assert trace(log, "006Hs00000XyZ12IAF") == ["Prospecting", "Proposal/Price Quote", "Negotiation/Review",
                                                 "Proposal/Price Quote", "Closed Won"]
    assert log.df.loc[0, RESOURCE] == "005Hs000001CcDdIAK"
    # other columns stay event attributes, as text
    assert log.df.loc[log.df[CASE] == "006Hs00000XyZ12IAF", "Amount"].tolist()[0] == "50000"


def test_salesforce_field_history_created_row_gives_first_stage():
    log = read_log(FIX / "salesforce_opportunity_field_history.csv", preset="salesforce-field-history")
    r = log.report
    assert (r.rows_read, r.events, r.cases, r.collapsed_duplicates) == (12, 6, 2, 1)
    # first stage = OldValue of the first StageName row, at the 'created' row's time; the
    # Qualification -> Qualification row (line 5) is collapsed; the backward move to Qualification is kept
    assert trace(log, "006Hs00000XyZ12IAF") == ["Prospecting", "Qualification", "Needs Analysis", "Qualification"]
    assert times(log, "006Hs00000XyZ12IAF")[0] == "2024-03-01 09:15:02"
    # the created row comes after the stage row in the file (line 10 vs 9): order is by time
    assert trace(log, "006Hs00000AbC34IAF") == ["Prospecting", "Qualification"]
    assert r.filtered == {"Field is 'Amount', not a stage field": 1, "Field is 'Discount__c', not a stage field": 1}
    # latest value of other fields kept as case attributes
    assert set(log.df.loc[log.df[CASE] == "006Hs00000XyZ12IAF", "case:Discount__c"]) == {"25"}
    assert set(log.df.loc[log.df[CASE] == "006Hs00000XyZ12IAF", "case:Amount"]) == {"65000"}
    assert [(q.row, q.reason.split(":")[0]) for q in r.quarantined] == [
        (11, "impossible date or time"), (12, "missing case id"), (13, "missing activity")]
    assert r.quarantined[2].reason == ("missing activity: creation row, but the first stage is unknown "
                                       "(no stage change with an old value)")


def test_salesforce_case_history_uses_caseid_and_status():
    log = read_log(FIX / "salesforce_case_history.csv", preset="salesforce-field-history")
    assert log.report.mapping["case"] == "CaseId"
    assert trace(log, "500Hs00001QwErTIAZ") == ["New", "Working", "Closed"]
    assert log.report.filtered == {"Field is 'Owner', not a stage field": 1}


def test_hubspot_deals_wide_export_is_melted():
    log = read_log(FIX / "hubspot_deals.csv", preset="hubspot-deals")
    r = log.report
    # 7 entered cells + 1 row without any stage date (quarantined, so it is not lost)
    assert (r.rows_read, r.events, r.cases) == (8, 7, 3)
    assert [(q.row, q.reason) for q in r.quarantined] == [(5, "no stage date in this row (no event)")]
    assert trace(log, "18231452001") == ["Appointment Scheduled", "Qualified To Buy", "Closed Won"]
    first = log.df[log.df[CASE] == "18231452001"].iloc[0]
    # entered = start, exited = the event's (completion) time
    assert str(first[START_TIMESTAMP]) == "2024-03-01 09:15:00+00:00"
    assert str(first[TIMESTAMP]) == "2024-03-05 11:02:00+00:00"
    assert first["case:Deal owner"] == "Ana Ruiz"
    assert any("keep only the latest entry per stage" in w for w in r.warnings)
    assert "column 'Date entered …': 2 values are dates without a time of day (read as 00:00)" in r.warnings


def test_hubspot_contacts_single_quoted_headers():
    data = (b"Record ID,Lifecycle Stage,Date entered 'Lead (Lifecycle Stage Pipeline)',"
            b"Date entered 'Customer (Lifecycle Stage Pipeline)'\n"
            b"501,customer,2024-03-01 09:00,2024-03-20 10:00\n")
    log = read_log(data, name="contacts.csv", preset="hubspot-deals")
    assert trace(log, "501") == ["Lead", "Customer"]


def test_hubspot_history_sorts_newest_first_and_maps_stage_ids():
    labels = {"appointmentscheduled": "Appointment Scheduled", "qualifiedtobuy": "Qualified To Buy",
              "closedwon": "Closed Won"}
    log = read_log(FIX / "hubspot_deals_history.json", preset="hubspot-history", stage_labels=labels)
    assert trace(log, "18231452001") == ["Appointment Scheduled", "Qualified To Buy", "Closed Won"]
    # a custom numeric stage id without a label stays an id, and the report says so
    assert trace(log, "18231452002") == ["Appointment Scheduled", "123456789"]
    assert "1 stage ids have no label in the stage lookup and are kept as ids: '123456789'" in log.report.warnings
    # epoch milliseconds read as UTC; resource falls back to sourceId for automation
    assert times(log, "18231452002")[1] == "2024-03-07 17:00:00"
    assert log.df.loc[log.df[CASE] == "18231452001", RESOURCE].tolist() == ["1234567", "enrollmentId:98", "1234567"]


@pytest.mark.parametrize("fixture", ["pipedrive_flow.csv", "pipedrive_deal_flow.json"])
def test_pipedrive_flow_csv_and_json(fixture):
    log = read_log(FIX / fixture, preset="pipedrive-flow")
    # add_time gives the first stage (old_value_formatted of the first stage_id change); backward move kept
    assert trace(log, "1042") == ["Qualified", "Proposal Made", "Contact Made"]
    assert times(log, "1042")[0] == "2024-03-01 09:15:02"
    assert log.report.rows_read == 4 and log.report.events == 3
    assert sum(log.report.filtered.values()) == 1


def test_jira_changelog_synthesises_first_status_and_warns_on_truncation():
    log = read_log(FIX / "jira_changelog.json", preset="jira-changelog")
    r = log.report
    # histories come unordered; +0100 offsets are honoured
    assert trace(log, "SUP-101") == ["Open", "1st Line Support", "Resolved"]
    assert times(log, "SUP-101") == ["2024-03-01 09:15:02", "2024-03-01 09:32:11", "2024-03-02 09:00:00"]
    # an issue that never changed status starts (and stays) in its current status
    assert trace(log, "SUP-102") == ["Open"]
    assert log.df.loc[log.df[CASE] == "SUP-103", RESOURCE].tolist()[1] == "Automation for Jira"
    assert set(log.df.loc[log.df[CASE] == "SUP-101", "case:priority"]) == {"High"}
    assert (r.rows_read, r.events, r.cases) == (9, 6, 3)
    assert r.filtered == {"field is 'resolution', not a stage field": 1, "field is 'assignee', not a stage field": 1,
                          "field is 'priority', not a stage field": 1}
    assert any(w.startswith("1 issues have truncated changelogs") for w in r.warnings)


def test_jira_issue_history_data_pipeline_export():
    log = read_log(FIX / "jira_issue_history.csv", preset="jira-issue-history")
    # ping-pong between lines is kept: it is the point
    assert trace(log, "10001") == ["1st Line Support", "2nd Line Support", "1st Line Support", "Resolved"]
    assert log.df.loc[log.df[CASE] == "10001", RESOURCE].tolist()[1] == "ben.okafor"
    assert log.report.filtered == {"field is 'assignee', not a stage field": 1,
                                   "field is 'resolution', not a stage field": 1}


def test_zendesk_audits_create_and_reopen():
    log = read_log(FIX / "zendesk_audits.json", preset="zendesk-audits")
    assert trace(log, "4711") == ["new", "open", "solved", "open"]
    r = log.report
    assert (r.rows_read, r.events) == (7, 4)
    assert r.filtered["Zendesk audit event of type 'Comment' (not a field change)"] == 1
    assert r.filtered["field_name is 'priority', not a stage field"] == 1


def test_servicenow_audit_state_choices_and_labels():
    log = read_log(FIX / "servicenow_sys_audit.csv", preset="servicenow-audit",
                   stage_labels={"1": "New", "2": "In Progress", "6": "Resolved", "7": "Closed"})
    assert trace(log, "9c573169c611228700193229fff72400") == ["In Progress", "Resolved", "Closed"]
    # state 2 -> 2 an hour later is a repeat of the current state: collapsed
    assert trace(log, "46d44a23a9fe19810012d100cca80666") == ["In Progress"]
    assert log.report.collapsed_duplicates == 1
    assert log.report.filtered == {"fieldname is 'priority', not a stage field": 1}


@pytest.mark.parametrize(("fixture", "preset"), [
    ("salesforce_opportunity_history.csv", "salesforce-opportunity-history"),
    ("salesforce_opportunity_field_history.csv", "salesforce-field-history"),
    ("hubspot_deals.csv", "hubspot-deals"),
    ("hubspot_deals_history.json", "hubspot-history"),
    ("pipedrive_flow.csv", "pipedrive-flow"),
    ("pipedrive_deal_flow.json", "pipedrive-flow"),
    ("jira_changelog.json", "jira-changelog"),
    ("jira_issue_history.csv", "jira-issue-history"),
    ("zendesk_audits.json", "zendesk-audits"),
    ("servicenow_sys_audit.csv", "servicenow-audit"),
])
def test_layout_is_recognised_without_a_preset(fixture, preset):
    log = read_log(FIX / fixture)
    assert log.report.preset == preset
    assert any(w.startswith(f"layout recognised as preset {preset!r}") for w in log.report.warnings)
    assert log.n_events == read_log(FIX / fixture, preset=preset).n_events


def test_explicit_columns_override_the_detected_layout():
    # with flags, a field-history file is read as a plain long table
    log = read_log(FIX / "salesforce_case_history.csv", mapping=_m(case="CaseId", activity="Field",
                                                                    timestamp="CreatedDate"))
    assert log.report.preset is None and log.report.shape == "long"
    assert trace(log, "500Hs00001QwErTIAZ") == ["created", "Status", "Owner", "Status"]


def _m(**kw):
    from processmining.model import ColumnMapping

    return ColumnMapping(**kw)


def test_demo_exports_load_with_their_presets(tmp_path):
    from processmining import demo

    paths = demo.write_demo(tmp_path, scale=0.05)
    truth = json.loads(Path(paths["ground_truth"]).read_text())["logs"]
    sf = read_log(paths["salesforce"], preset="salesforce-field-history")
    hs = read_log(paths["hubspot"], preset="hubspot-deals")
    jr = read_log(paths["jira"], preset="jira-changelog")
    assert sf.n_cases == 100 and hs.n_cases == 50 and jr.n_cases == 75
    assert set(sf.activities) <= {"Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote",
                                  "Discount Approval", "Negotiation/Review", "Closed Won", "Closed Lost",
                                  "Order Booked"}
    assert "case:Discount__c" in sf.df.columns
    assert isinstance(sf.df[TIMESTAMP].dtype, pd.DatetimeTZDtype)
    # the generator's own accounting: stage events (Salesforce, HubSpot); Jira's duplicates are kept
    assert sf.n_events == truth["salesforce"]["events"]
    assert hs.n_events == truth["hubspot"]["events"]
    assert jr.n_events == truth["jira"]["events"] + jr.report.duplicate_events


def test_field_history_newest_first_keeps_latest_case_attribute_and_order():
    # an export sorted newest first (as API histories often are): order comes from the times, and the
    # latest Amount is the newest row's, not the last line's
    data = (b"OpportunityId,Field,OldValue,NewValue,CreatedById,CreatedDate\n"
            b"006A,Amount,50,100,005X,2024-03-05T10:00:00.000Z\n"
            b"006A,StageName,Qualification,Closed Won,005X,2024-03-04T10:00:00.000Z\n"
            b"006A,StageName,Prospecting,Qualification,005X,2024-03-02T10:00:00.000Z\n"
            b"006A,Amount,,50,005X,2024-03-01T11:00:00.000Z\n"
            b"006A,created,,,005X,2024-03-01T10:00:00.000Z\n")
    log = read_log(data, name="history.csv", preset="salesforce-field-history")
    assert trace(log, "006A") == ["Prospecting", "Qualification", "Closed Won"]
    assert set(log.df["case:Amount"]) == {"100"}


@pytest.mark.parametrize(("fixture", "preset"), [
    ("salesforce_opportunity_field_history.csv", "salesforce-field-history"),   # transition shape
    ("hubspot_deals.csv", "hubspot-deals"),                                       # wide shape
    ("salesforce_opportunity_history.csv", "salesforce-opportunity-history"),   # long shape
])
def test_every_shape_reads_the_same_from_xlsx_and_json(fixture, preset):
    import io

    import openpyxl

    csv_log = read_log(FIX / fixture, preset=preset)
    frame = pd.read_csv(FIX / fixture, dtype=str, keep_default_na=False)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        ws.append([v if v != "" else None for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    xlsx_log = read_log(buf.getvalue(), name=fixture.replace(".csv", ".xlsx"), preset=preset)
    records = [{k: (v if v != "" else None) for k, v in r.items()} for r in frame.to_dict("records")]
    json_log = read_log(json.dumps(records).encode(), name=fixture.replace(".csv", ".json"), preset=preset)
    key = [CASE, ACTIVITY, TIMESTAMP]
    for other in (xlsx_log, json_log):
        pd.testing.assert_frame_equal(other.df[key], csv_log.df[key])
        assert other.report.rows_read == csv_log.report.rows_read
        assert len(other.report.quarantined) == len(csv_log.report.quarantined)
    # XLSX rows are spreadsheet rows (header = row 1), like CSV lines; JSON rows are record numbers
    assert [q.row for q in xlsx_log.report.quarantined] == [q.row for q in csv_log.report.quarantined]
    assert [q.row for q in json_log.report.quarantined] == [q.row - 1 for q in csv_log.report.quarantined]


def test_hubspot_api_objects_with_stage_date_properties():
    # CRM API JSON (properties hs_v2_date_entered_<stage id>), read with the wide preset and a stage lookup
    doc = {"results": [{"id": "901", "properties": {
        "dealname": "Acme", "hs_v2_date_entered_appointmentscheduled": "2024-03-01T09:15:02.000Z",
        "hs_v2_date_entered_closedwon": "2024-04-02T17:30:12.345Z", "hs_v2_date_exited_appointmentscheduled":
        "2024-04-02T17:30:12.345Z", "hs_v2_date_entered_closedlost": None}}]}
    log = read_log(json.dumps(doc).encode(), name="deals.json", preset="hubspot-deals",
                   stage_labels={"appointmentscheduled": "Appointment Scheduled", "closedwon": "Closed Won"})
    assert trace(log, "901") == ["Appointment Scheduled", "Closed Won"]
    assert set(log.df["case:properties.dealname"]) == {"Acme"}


def test_stage_lookup_is_applied_before_collapsing():
    # 6 (Resolved) and 7 (Closed) mapped to one label: consecutive, so the second is a repeat of the current stage
    log = read_log(FIX / "servicenow_sys_audit.csv", preset="servicenow-audit",
                   stage_labels={"2": "In Progress", "6": "Done", "7": "Done"})
    assert trace(log, "9c573169c611228700193229fff72400") == ["In Progress", "Done"]
    assert log.report.collapsed_duplicates == 2
    log.report.check_balance()
