"""One golden file per quality check and per rule family (the sqlglot way): a small fixture each.

Each fixture is a log built for its family (comments say what each case plants);
the output of every check / rule family is compared with
``tests/golden/checks/<check>.json`` / ``tests/golden/rules/<family>.json``.
Regenerate after an intended change with ``UPDATE_GOLDEN=1`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from processmining.model import ACTIVITY, CASE, RESOURCE, TIMESTAMP, EventLog, IngestReport
from processmining.quality import CHECKS, QualityConfig
from processmining.quality.findings import CheckSkipped, frame_records
from processmining.rules import check, load_rules

GOLDEN = Path(__file__).parent / "golden"
CFG = QualityConfig(now=pd.Timestamp("2024-12-31", tz="UTC"))


def _log(rows: list[tuple], name: str, **case_attrs: dict) -> EventLog:
    df = pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP, RESOURCE])
    df[TIMESTAMP] = pd.to_datetime(df[TIMESTAMP], utc=True, format="ISO8601")
    for attr, per_case in case_attrs.items():
        df[attr] = df[CASE].map(per_case)
    report = IngestReport(source=name, sha256="0" * 64, rows_read=len(df), events=len(df))
    return EventLog.from_frame(df, report=report, name=name)


def _normal(n: int, who: str = "ann", month: int = 3) -> list[tuple]:
    return [r for i in range(n) for r in (
        (f"n{i}", "Open", f"2024-{month:02d}-{i + 1:02d}T09:00:00Z", who),
        (f"n{i}", "Work", f"2024-{month:02d}-{i + 1:02d}T11:{10 + i:02d}:00Z", "bob"),
        (f"n{i}", "Closed", f"2024-{month:02d}-{i + 2:02d}T08:{10 + i:02d}:00Z", who))]


FIXTURES = {
    # timestamps: b1 saved Work and Closed at once; d1 a date-only event; f1 in the future; p1 in 1970
    "timestamps": lambda: _log(_normal(6) + [
        ("b1", "Open", "2024-03-10T09:00:00Z", "ann"), ("b1", "Work", "2024-03-12T16:00:00Z", "bob"),
        ("b1", "Closed", "2024-03-12T16:00:00Z", "bob"),
        ("d1", "Open", "2024-03-10T09:00:00Z", "ann"), ("d1", "Work", "2024-03-11T00:00:00Z", "bob"),
        ("d1", "Closed", "2024-03-12T09:30:00Z", "ann"),
        ("f1", "Open", "2024-03-10T09:00:00Z", "ann"), ("f1", "Closed", "2026-01-05T09:00:00Z", "ann"),
        ("p1", "Open", "1970-01-01T00:00:00Z", "ann"), ("p1", "Closed", "2024-03-12T09:00:00Z", "ann"),
    ], "timestamps.csv"),
    # labels: a misspelling and a case variant of Work; O_/A_ look-alikes that must stay apart; a label with an e-mail
    "labels": lambda: _log(_normal(8) + [
        ("s1", "Open", "2024-03-10T09:00:00Z", "ann"), ("s1", "Wrok", "2024-03-10T10:00:00Z", "ann"),
        ("s1", "Closed", "2024-03-11T09:00:00Z", "ann"),
        ("s2", "Open", "2024-03-10T09:00:00Z", "ann"), ("s2", "work ", "2024-03-10T10:00:00Z", "ann"),
        ("s2", "Closed", "2024-03-11T09:00:00Z", "ann"),
        ("o1", "Open", "2024-03-10T09:00:00Z", "ann"), ("o1", "A_DECLINED", "2024-03-10T10:00:00Z", "ann"),
        ("o1", "O_DECLINED", "2024-03-10T11:00:00Z", "ann"), ("o1", "Closed", "2024-03-11T09:00:00Z", "ann"),
        ("m1", "Open", "2024-03-10T09:00:00Z", "ann"), ("m1", "Mail to jo@example.com", "2024-03-10T10:00:00Z", "ann"),
        ("m1", "Closed", "2024-03-11T09:00:00Z", "ann"),
    ], "labels.csv"),
    # events: e1 repeats Work exactly; e2 records Work twice 20 s apart
    "events": lambda: _log(_normal(4) + [
        ("e1", "Open", "2024-03-10T09:00:00Z", "ann"), ("e1", "Work", "2024-03-10T10:00:00Z", "bob"),
        ("e1", "Work", "2024-03-10T10:00:00Z", "bob"), ("e1", "Closed", "2024-03-11T09:00:00Z", "ann"),
        ("e2", "Open", "2024-03-10T09:00:00Z", "ann"), ("e2", "Work", "2024-03-10T10:00:00Z", "bob"),
        ("e2", "Work", "2024-03-10T10:00:20Z", "bob"), ("e2", "Closed", "2024-03-11T09:00:00Z", "ann"),
    ], "events.csv"),
    # cases: x1 starts mid-way; x2 a single event; x3 stopped at Work on 2024-04-01, 4 months before the end
    "cases": lambda: _log(_normal(24) + [
        ("x1", "Work", "2024-03-10T10:00:00Z", "bob"), ("x1", "Closed", "2024-03-11T09:00:00Z", "ann"),
        ("x2", "Open", "2024-03-12T09:00:00Z", "ann"),
        ("x3", "Open", "2024-04-01T09:00:00Z", "ann"), ("x3", "Work", "2024-04-01T10:00:00Z", "bob"),
        ("z1", "Open", "2024-08-01T09:00:00Z", "ann"), ("z1", "Work", "2024-08-01T10:00:00Z", "bob"),
        ("z1", "Closed", "2024-08-02T09:00:00Z", "ann"),
    ], "cases.csv"),
    # resources: cy silent 5 months then active again; a bot account; dee does every Review
    "resources": lambda: _log(_normal(8) + [
        ("r1", "Open", "2024-01-05T09:00:00Z", "cy"), ("r1", "Closed", "2024-01-06T09:00:00Z", "cy"),
        ("r2", "Open", "2024-06-20T09:00:00Z", "cy"), ("r2", "Closed", "2024-06-21T09:00:00Z", "svc-integration"),
        *[(f"v{i}", a, f"2024-03-{i + 1:02d}T{9 + j}:00:00Z", "dee" if a == "Review" else ["ann", "bob", "eve"][i % 3])
          for i in range(24) for j, a in enumerate(["Open", "Review", "Closed"])],
    ], "resources.csv"),
    # attributes: case:priority missing in half the cases
    "attributes": lambda: _log(_normal(6), "attributes.csv",
                               **{"case:priority": {"n0": "High", "n1": "Low", "n2": "Low"}}),
}


def _family_of(check_fn) -> str:
    return check_fn.__module__.rsplit(".", 1)[-1]


def _check_output(check_fn, log: EventLog) -> dict:
    try:
        findings = check_fn(log, CFG)
    except CheckSkipped as exc:
        return {"skipped": str(exc)}
    out = []
    for f in findings:
        d = f.to_dict()
        d["case_ids"] = sorted(f.case_ids)
        out.append(d)
    return {"findings": out}


def _compare(path: Path, value: object) -> None:
    text = json.dumps(value, indent=1, ensure_ascii=False, sort_keys=True, default=str) + "\n"
    if os.environ.get("UPDATE_GOLDEN") or not path.exists():
        if not os.environ.get("UPDATE_GOLDEN") and os.environ.get("CI"):
            pytest.fail(f"golden file {path.name} is missing")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert json.loads(text) == json.loads(path.read_text(encoding="utf-8")), f"differs from {path}"


@pytest.mark.parametrize("check_fn", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_each_quality_check_matches_its_golden_file(check_fn):
    log = FIXTURES[_family_of(check_fn)]()
    _compare(GOLDEN / "checks" / f"{check_fn.__name__}.json", _check_output(check_fn, log))


def test_every_check_family_has_a_fixture():
    assert {_family_of(c) for c in CHECKS} == set(FIXTURES)


RULE_LOG = [
    # c1 fine (its Note shows Note is no end activity); c2: one person quotes and approves, quote after 40 days, never closed; c3: approval without quote,
    # stage moved back, closed twice; c4: still open, waiting for a quote for 70 days
    ("c1", "Create", "2024-01-01T09:00:00Z", "ann"), ("c1", "Quote", "2024-01-11T09:00:00Z", "ann"),
    ("c1", "Approve", "2024-01-12T09:00:00Z", "mgr"), ("c1", "Note", "2024-01-12T10:00:00Z", "ann"),
    ("c1", "Close", "2024-01-13T09:00:00Z", "ann"),
    ("c2", "Create", "2024-01-01T09:00:00Z", "bob"), ("c2", "Quote", "2024-02-10T09:00:00Z", "bob"),
    ("c2", "Approve", "2024-02-11T09:00:00Z", "bob"),
    ("c3", "Create", "2024-01-01T09:00:00Z", "cy"), ("c3", "Approve", "2024-01-02T09:00:00Z", "mgr"),
    ("c3", "Close", "2024-01-03T09:00:00Z", "cy"), ("c3", "Create", "2024-01-04T09:00:00Z", "cy"),
    ("c3", "Close", "2024-01-05T09:00:00Z", "cy"),
    ("c4", "Create", "2024-01-02T09:00:00Z", "dee"), ("c4", "Note", "2024-01-03T09:00:00Z", "dee"),
    ("c4", "Note", "2024-03-12T09:00:00Z", "dee"),
]
RULE_FAMILIES = {
    "duties": "rules:\n  - {id: sod, type: segregation_of_duties, activities: [Quote, Approve]}\n"
              "  - {id: eyes, type: four_eyes, activities: [Quote, Approve]}\n"
              "  - {id: mgr, type: role, activity: Approve, role: Manager}\n",
    "timing": "rules:\n  - {id: sla, type: max_duration, from: Create, to: Quote, limit: 30d}\n"
              "  - {id: sla-last, type: max_duration, from: Create, to: Close, limit: 2d, to_occurrence: last}\n"
              "  - {id: idle, type: max_idle, limit: 15d, unless_last: [Close], as_of: '2024-03-20'}\n",
    "ordering": "rules:\n  - {id: pre, type: precedence, activity: Approve, after: Quote}\n"
                "  - {id: resp, type: response, activity: Quote, followed_by: Close}\n"
                "  - {id: back, type: no_backward_moves, order: [Create, Quote, Approve, Close]}\n",
    "counting": "rules:\n  - {id: once, type: existence, activity: Close, min: 1, max: 1}\n"
                "  - {id: never, type: absence, activity: Create, max: 1}\n",
}


@pytest.mark.parametrize("family", sorted(RULE_FAMILIES))
def test_each_rule_family_matches_its_golden_file(family):
    log = _log(RULE_LOG, "rules.csv")
    roles = {"ann": "Rep", "bob": "Rep", "cy": "Rep", "dee": "Rep", "mgr": "Manager"}
    found = check(log, load_rules(RULE_FAMILIES[family].encode(), name=f"{family}.yaml"), roles=roles)
    records = frame_records(found.sort_values(["rule_id", "case_id", "evidence"], ignore_index=True))
    _compare(GOLDEN / "rules" / f"{family}.json", records)
