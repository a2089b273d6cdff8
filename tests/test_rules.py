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
    # without unless_last the end activities are inferred from the data (Close ends every case that has it):
    # c1 and c3 ended in January but are finished, so never idle; c2 is running and idle 18.6 days
    no_ends = _rules('rules:\n  - {id: idle, type: max_idle, limit: 15d, as_of: "2024-03-01"}\n')
    assert check(LOG, no_ends).case_id.tolist() == ["c2"]
    # boundary: exactly at the limit is within it, one second more is over it
    at = _rules('rules:\n  - {id: idle, type: max_idle, limit: 18d 15h, as_of: "2024-03-01"}\n')
    assert check(LOG, at).empty
    over = _rules('rules:\n  - {id: idle, type: max_idle, limit: P18DT14H59M59S, as_of: "2024-03-01"}\n')
    assert check(LOG, over).case_id.tolist() == ["c2"]


def test_max_duration_counts_open_cases_like_the_bottlenecks_sla():
    from processmining.performance import sla_breaches

    # o1: Create, no Quote yet, running, 40 days by the log's end (over 30d): an open breach
    # o2: Create, no Quote, but Closed: finished without the target, not judged
    # o3: Create then Quote after exactly 30 days: within the limit (its Note shows Note is no end activity)
    log = _log([
        ("o1", "Create", "2024-01-01 09:00", "ann"), ("o1", "Note", "2024-01-05 09:00", "ann"),
        ("o2", "Create", "2024-01-01 09:00", "bob"), ("o2", "Close", "2024-01-03 09:00", "bob"),
        ("o3", "Create", "2024-01-11 09:00", "cy"), ("o3", "Note", "2024-01-12 09:00", "cy"),
        ("o3", "Quote", "2024-02-10 09:00", "cy"),
        ("o3", "Close", "2024-02-10 09:00", "cy"),
    ])
    rule = _rules("rules:\n  - {id: sla, type: max_duration, from: Create, to: Quote, limit: 30d}\n")
    d = check(log, rule)
    assert d.case_id.tolist() == ["o1"]
    assert d.message.iloc[0] == ("Quote has not happened 40.0 days after Create and the case is still open "
                                 "(limit 30.0 days, as of 2024-02-10 09:00 UTC)")
    breaches, summary = sla_breaches(log, ["Create->Quote<=30d"])
    assert breaches[["case", "status"]].values.tolist() == [["o1", "open"]]
    assert summary.iloc[0][["met", "late", "open_breached", "not_reached"]].tolist() == [1, 0, 1, 1]
    one_less = _rules("rules:\n  - {id: sla, type: max_duration, from: Create, to: Quote, limit: 29d 23h 59m 59s}\n")
    assert sorted(check(log, one_less).case_id) == ["o1", "o3"]


def test_max_duration_to_occurrence_last_is_honoured():
    # r1: Create, Quote after 5 days, Quote again after 40 days
    log = _log([("r1", "Create", "2024-01-01", "a"), ("r1", "Quote", "2024-01-06", "a"),
                ("r1", "Quote", "2024-02-10", "a"), ("r1", "Close", "2024-02-11", "a")])
    first = _rules("rules:\n  - {id: s, type: max_duration, from: Create, to: Quote, limit: 30d}\n")
    last = _rules("rules:\n  - {id: s, type: max_duration, from: Create, to: Quote, limit: 30d, "
                  "to_occurrence: last}\n")
    assert check(log, first).empty
    assert check(log, last).observed.tolist() == ["40.0 days"]
    with pytest.raises(RuleError, match=r"r.yaml, line 2: rule 's' \(max_duration\): to_occurrence must be one of "
                                        r"first, last, got 'final'"):
        _rules("rules:\n  - {id: s, type: max_duration, from: A, to: B, limit: 1d, to_occurrence: final}\n")


def test_every_field_of_the_registry_is_read_by_its_checker():
    """A field the schema accepts is never ignored: each optional field changes the result on a log built for it."""
    from processmining.rules.registry import REGISTRY

    optional = {t.name: set(t.optional) for t in REGISTRY.values()}
    assert optional == {
        "segregation_of_duties": set(), "four_eyes": set(),
        "max_duration": {"from_occurrence", "to_occurrence", "as_of", "end_activities"},
        "max_idle": {"as_of", "unless_last"}, "precedence": set(), "response": set(),
        "no_backward_moves": {"allow"}, "existence": {"min", "max"}, "absence": {"max"}, "role": {"role", "lane"},
    }
    log = _log([("r1", "Create", "2024-01-01", "a"), ("r1", "Create", "2024-01-20", "a"),
                ("r1", "Quote", "2024-01-25", "a"), ("r2", "Create", "2024-01-01", "b")])
    base = "rules:\n  - {id: s, type: max_duration, from: Create, to: Quote, limit: 10d"
    assert check(log, _rules(base + "}\n")).case_id.tolist() == ["r1", "r2"]
    assert check(log, _rules(base + ", from_occurrence: last}\n")).case_id.tolist() == ["r2"]
    assert check(log, _rules(base + ", end_activities: [Create]}\n")).case_id.tolist() == ["r1"]
    assert check(log, _rules(base + ", as_of: '2024-01-05'}\n")).case_id.tolist() == ["r1"]


@pytest.mark.parametrize(("text", "message"), [
    ("rules:\n  - {id: x, type: nonsense}\n", "r.yaml, line 2: rule 'x': unknown type 'nonsense'"),
    ("rules:\n  - {id: x, type: max_duration, from: A}\n", "r.yaml, line 2: rule 'x' (max_duration) is missing to, limit"),
    ("rules:\n  - {id: x, type: max_duration, from: A, to: B, limit: soon}\n",
     "r.yaml, line 2: rule 'x': limit 'soon' is not a duration like 30d, 4h, 1d 12h or P1DT12H"),
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


def test_rule_names_match_log_labels_after_trimming_and_case_folding():
    # the log writes RESOLVED and ' close '; the rules say Resolved and Close: one label normaliser
    log = _log([("t1", "Open", "2024-01-01", "a"), ("t1", "RESOLVED", "2024-01-09", "a"),
                ("t1", "close", "2024-01-10", "a")])
    rules = _rules("rules:\n  - {id: res-5d, type: max_duration, from: Open, to: Resolved, limit: 5d}\n"
                   "  - {id: close-after, type: precedence, activity: Close, after: Resolved}\n")
    d = check(log, rules)
    assert d[["rule_id", "case_id", "activity"]].values.tolist() == [["res-5d", "t1", "RESOLVED"]]


def test_bundled_rules_apply_only_where_they_fit_the_log():
    rules = _rules("rules:\n  - {id: res-5d, type: max_duration, from: Open, to: Resolved, limit: 5d}\n"
                   "  - {id: sod, type: four_eyes, activities: [Quote, Approve]}\n")
    fit = rules.fit(["OPEN", "Resolved", "Closed"])
    assert [r.id for r in fit.applicable] == ["res-5d"]
    assert fit.applicable.rules[0].params["from"] == "OPEN"
    assert dict(fit.skipped) == {"sod": ("Approve", "Quote")}
    assert (fit.named, fit.in_log) == (4, 2)
    assert fit.describe() == ("2 of 4 activities the rules name occur in the log; 1 rule(s) apply; "
                              "not applied: sod (no 'Approve', 'Quote')")
