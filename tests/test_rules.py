"""Rules: each family on small logs built in code, the YAML loader's errors (rule id + line), conditions."""

from __future__ import annotations

import pandas as pd
import pytest

from processmining.errors import RuleError
from processmining.model import EventLog
from processmining.rules import check, load_rules, read_roles


def _log(rows: list[tuple[str, str, str, str]], **case_attrs: dict[str, object]) -> EventLog:
    frame = pd.DataFrame(rows, columns=["case:concept:name", "concept:name", "time:timestamp", "org:resource"])
    frame["time:timestamp"] = pd.to_datetime(frame["time:timestamp"], utc=True)
    for attr, per_case in case_attrs.items():
        frame[attr] = frame["case:concept:name"].map(per_case)
    return EventLog.from_frame(frame)


def _rules(yaml_text: str):
    return load_rules(yaml_text.encode(), name="r.yaml")


LOG = _log([
    # c1: quote and approval by different people, quote after 10 days: fine
    ("c1", "Create", "2024-01-01 09:00", "ann"), ("c1", "Quote", "2024-01-11 09:00", "ann"),
    ("c1", "Approve", "2024-01-12 09:00", "mgr"), ("c1", "Close", "2024-01-13 09:00", "ann"),
    # c2: the same person quotes and approves (SoD), quote after 40 days (SLA), never closed
    ("c2", "Create", "2024-01-01 09:00", "bob"), ("c2", "Quote", "2024-02-10 09:00", "bob"),
    ("c2", "Approve", "2024-02-11 09:00", "bob"),
    # c3: approval without a quote (precedence), closed twice (existence max), stage moved back
    ("c3", "Create", "2024-01-01 09:00", "cy"), ("c3", "Approve", "2024-01-02 09:00", "mgr"),
    ("c3", "Close", "2024-01-03 09:00", "cy"), ("c3", "Create", "2024-01-04 09:00", "cy"),
    ("c3", "Close", "2024-01-05 09:00", "cy"),
], **{"case:Discount": {"c1": 25, "c2": 10, "c3": 30}})


def test_segregation_of_duties_and_four_eyes():
    d = check(LOG, _rules("rules:\n  - {id: sod, type: segregation_of_duties, activities: [Quote, Approve]}\n"
                          "  - {id: eyes, type: four_eyes, activities: [Quote, Approve]}\n"))
    assert d.groupby("rule_id").case_id.apply(list).to_dict() == {"eyes": ["c2"], "sod": ["c2"]}
    row = d.iloc[0]
    assert (row.kind, row.activity, row.resource, row.evidence) == ("rule", "Approve", "bob", "5 6")
    assert row.message == "Quote and Approve were both done by bob"


def test_max_duration_reports_the_time_taken():
    d = check(LOG, _rules("rules:\n  - {id: sla, type: max_duration, from: Create, to: Quote, limit: 30d}\n"))
    assert d.case_id.tolist() == ["c2"]
    assert d.message.iloc[0] == "Quote came 40.0 days after Create (limit 30.0 days)"
    assert d.observed.iloc[0] == "40.0 days" and d.timestamp.iloc[0] == pd.Timestamp("2024-02-10 09:00", tz="UTC")


def test_precedence_response_existence_absence():
    d = check(LOG, _rules("""rules:
  - {id: pre, type: precedence, activity: Approve, after: Quote}
  - {id: resp, type: response, activity: Quote, followed_by: Close}
  - {id: once, type: existence, activity: Close, min: 1, max: 1}
  - {id: never, type: absence, activity: Create, max: 1}
"""))
    got = d.groupby("rule_id").case_id.apply(sorted).to_dict()
    assert got == {"never": ["c3"], "once": ["c2", "c3"], "pre": ["c3"], "resp": ["c2"]}
    msgs = dict(zip(d.rule_id + "/" + d.case_id, d.message, strict=True))
    assert msgs["pre/c3"] == "Approve happened without an earlier Quote"
    assert msgs["resp/c2"] == "Quote was not followed by Close"
    assert msgs["once/c2"] == "Close is missing (0 times, at least 1 required)"
    assert msgs["once/c3"] == "Close happened 2 times (at most 1 allowed)"
    assert msgs["never/c3"] == "Create happened 2 times, but at most 1 are allowed"


def test_no_backward_moves_with_allowed_loop():
    rules = _rules("rules:\n  - id: fwd\n    type: no_backward_moves\n    order: [Create, Quote, Approve, Close]\n"
                   "    allow: [[Approve, Quote]]\n")
    d = check(LOG, rules)
    assert d.case_id.tolist() == ["c3"]
    assert d.message.iloc[0] == "moved back from Close to Create" and d.evidence.iloc[0] == "9 10"


def test_when_condition_selects_cases():
    # approval required above a 20 % discount: c1 (25) has it, c3 (30) has it, c2 (10) is not in scope
    rules = _rules('rules:\n  - id: appr\n    type: existence\n    activity: Approve\n'
                   '    when: {attribute: "case:Discount", op: ">", value: 20}\n'
                   '  - id: q\n    type: existence\n    activity: Quote\n'
                   '    when: [{attribute: "case:Discount", op: ">=", value: 25}]\n')
    d = check(LOG, rules)
    assert d.groupby("rule_id").case_id.apply(list).to_dict() == {"q": ["c3"]}
    bad = _rules('rules:\n  - id: w\n    type: existence\n    activity: Quote\n'
                 '    when: {attribute: "case:Nope", op: "==", value: 1}\n')
    with pytest.raises(RuleError, match="rule 'w': the log has no attribute 'case:Nope'"):
        check(LOG, bad)


def test_role_rule_with_lanes_and_mapping():
    roles = read_roles(b"resource,role\nann,Sales Representative\nbob,Sales Representative\nmgr,Sales Manager\n")
    rules = _rules("rules:\n  - {id: mgr, type: role, activity: Approve, lane: true}\n"
                   "  - {id: rep, type: role, activity: Close, role: Sales Representative}\n")
    d = check(LOG, rules, roles=roles, lanes={"Approve": "Sales Manager"})
    got = dict(zip(d.rule_id + "/" + d.case_id, d.message, strict=True))
    assert got == {
        "mgr/c2": "Approve was done by bob (role Sales Representative), not by a Sales Manager",
        "rep/c3": "Close was done by cy (no known role), not by a Sales Representative",
    }
    with pytest.raises(RuleError, match="needs a resource → role mapping"):
        check(LOG, rules, lanes={"Approve": "Sales Manager"})


def test_max_idle():
    # c2 ends with Approve on 2024-02-11 09:00: 18.6 days idle by 2024-03-01; c1 and c3 end with Close
    rules = _rules('rules:\n  - {id: idle, type: max_idle, limit: 15d, as_of: "2024-03-01", unless_last: [Close]}\n')
    d = check(LOG, rules)
    assert d.case_id.tolist() == ["c2"]
    assert d.message.iloc[0] == "no event for 18.6 days since Approve (limit 15.0 days, as of 2024-03-01 00:00 UTC)"
    # without unless_last every case counts, finished or not: c1 and c3 ended in January
    no_ends = _rules('rules:\n  - {id: idle, type: max_idle, limit: 20d, as_of: "2024-03-01"}\n')
    assert check(LOG, no_ends).case_id.tolist() == ["c1", "c3"]


@pytest.mark.parametrize(("text", "message"), [
    ("rules:\n  - {id: x, type: nonsense}\n", "r.yaml, line 2: rule 'x': unknown type 'nonsense'"),
    ("rules:\n  - {id: x, type: max_duration, from: A}\n", "r.yaml, line 2: rule 'x' (max_duration) is missing to, limit"),
    ("rules:\n  - {id: x, type: max_duration, from: A, to: B, limit: soon}\n",
     "r.yaml, line 2: rule 'x': limit 'soon' is not a duration like 30d, 4h or 90m"),
    ("rules:\n  - {type: absence, activity: A}\n", "r.yaml, line 2: rule 1 has no id"),
    ("rules:\n  - {id: a, type: absence, activity: A}\n  - {id: a, type: absence, activity: B}\n",
     "r.yaml, line 3: rule id 'a' is used twice"),
    ("rules:\n  - {id: a, type: absence, activity: A, colour: red}\n",
     "r.yaml, line 2: rule 'a' (absence) has unknown field(s) colour"),
    ("rules:\n  - {id: s, type: four_eyes, activities: [A]}\n",
     "r.yaml, line 2: rule 's': activities must list at least two different activities"),
    ("rules: [a, b\n", "r.yaml, line 2: not valid YAML"),
    ("just text\n", "r.yaml: expected a mapping with a list under 'rules:'"),
])
def test_loader_errors_name_rule_and_line(text, message):
    with pytest.raises(RuleError) as err:
        _rules(text)
    assert str(err.value).startswith(message)


def test_activity_in_neither_log_nor_model_names_the_rule():
    rules = _rules("rules:\n  - {id: ok, type: absence, activity: Close}\n"
                   "  - {id: typo, type: precedence, activity: Aprove, after: Quote}\n")
    with pytest.raises(RuleError) as err:
        check(LOG, rules)
    assert str(err.value) == ("r.yaml, line 3: rule 'typo' (precedence) names 'Aprove', which is in neither "
                              "the log nor the model")
    # an activity only the model knows is fine
    assert check(LOG, _rules("rules:\n  - {id: m, type: absence, activity: Escalate}\n"),
                 model_activities=["Escalate"]).empty


def test_demo_rule_files_load(repo_root):
    sales = load_rules(repo_root / "bpmn_models" / "lead_to_order.rules.yaml")
    assert [r.id for r in sales][:3] == ["sod-quote-approval", "quote-within-30d", "approval-above-20pct"]
    assert sales.rules[1].params["limit"] == pd.Timedelta(days=30)
    ticket = load_rules(repo_root / "bpmn_models" / "it_support_ticket.rules.yaml")
    assert ticket.rules[0].params["limit"] == pd.Timedelta(hours=4)
    assert len(read_roles(repo_root / "bpmn_models" / "lead_to_order.roles.csv")) == 32
