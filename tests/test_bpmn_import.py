"""BPMN import: hostile XML, bad models, process choice, lanes, DI, the MIWG suite and the reference models."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from processmining.bpmn import (
    check_soundness,
    match_labels,
    read_bpmn,
    read_label_mapping,
    to_petri_net,
)
from processmining.errors import BpmnError, UnsafeInputError

NS = 'xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"'
SIMPLE = (
    f'<definitions {NS} id="d"><process id="P" name="Simple"><startEvent id="s"/><task id="A" name="Approve"/>'
    '<endEvent id="e"/><sequenceFlow id="f1" sourceRef="s" targetRef="A"/>'
    '<sequenceFlow id="f2" sourceRef="A" targetRef="e"/></process></definitions>'
)


# ------------------------------------------------------------------ BAD_INPUTS 1-8
def test_external_entity_is_refused_fast_with_line(tmp_path):
    # 1: the entity would read a local file into a task name
    bad = tmp_path / "xxe.bpmn"
    bad.write_text('<?xml version="1.0"?>\n<!DOCTYPE definitions [\n<!ENTITY x SYSTEM "file:///etc/hostname">\n]>\n'
                   + SIMPLE.replace("Approve", "&x;"))
    with pytest.raises(UnsafeInputError) as info:
        read_bpmn(bad)
    assert str(info.value).startswith("xxe.bpmn, line 2: XML entity declarations are refused")


def test_external_dtd_is_refused():
    # 2: a DTD over http would make a network request
    data = ('<?xml version="1.0"?><!DOCTYPE definitions SYSTEM "http://attacker.example/x.dtd">' + SIMPLE).encode()
    with pytest.raises(UnsafeInputError, match="external DTD references are refused"):
        read_bpmn(data, name="dtd.bpmn")


def test_billion_laughs_is_refused():
    # 3: entity expansion bomb
    lol = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    data = f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY l0 "lol">{lol}]>{SIMPLE.replace("Approve", "&l9;")}'
    with pytest.raises(UnsafeInputError, match="entity declarations are refused"):
        read_bpmn(data.encode(), name="lol.bpmn")


def test_gzipped_bpmn_is_read():
    # 4: gzip is detected by magic bytes and decompressed through the bounded reader
    model = read_bpmn(gzip.compress(SIMPLE.encode()), name="m.bpmn.gz")
    assert [t.name for t in model.tasks] == ["Approve"]


def test_deep_nesting_is_an_error_with_line():
    # 5: nesting deeper than libxml2's limit (256) without huge_tree
    data = f'<definitions {NS}>' + "<a>" * 3000 + "</a>" * 3000 + "</definitions>"
    with pytest.raises(BpmnError) as info:
        read_bpmn(data.encode(), name="deep.bpmn")
    assert "deep.bpmn, line 1" in str(info.value)
    assert "not well-formed XML" in str(info.value)


def test_truncated_file_is_refused_with_line():
    # 6: a truncated export: no partial model
    data = SIMPLE.replace("><", ">\n<")[:-40].encode()
    with pytest.raises(BpmnError, match=r"cut\.bpmn, line \d+: not well-formed XML"):
        read_bpmn(data, name="cut.bpmn")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html><body>Sign in</body></html>", "html.bpmn, line 1: root <html>, expected <definitions>"),
        (b'{"definitions": []}', "html.bpmn, line 1: not well-formed XML: this is JSON, not XML"),
        (b"", "html.bpmn: the file is empty"),
    ],
)
def test_html_json_empty_are_refused(data, message):
    # 7: the wrong file uploaded as .bpmn
    with pytest.raises(BpmnError) as info:
        read_bpmn(data, name="html.bpmn")
    assert str(info.value).startswith(message)


def test_url_is_refused_without_request():
    # 8: never fetched
    with pytest.raises(UnsafeInputError, match="URLs are not read"):
        read_bpmn("https://example.com/model.bpmn")


# ------------------------------------------------------------------ BAD_INPUTS 24/25 and model problems
def test_dangling_flow_reference_names_the_flow():
    data = SIMPLE.replace('targetRef="e"', 'targetRef="Ghost"').encode()
    model = read_bpmn(data, name="dangling.bpmn")
    assert not model.report.usable
    assert model.report.dangling_references == [
        "sequence flow 'f2' (line 1) refers to targetRef 'Ghost', which is not a flow node of the process"
    ]
    with pytest.raises(BpmnError, match="dangling.bpmn: the model cannot be converted: sequence flow 'f2'"):
        to_petri_net(model)


def test_empty_model_names_the_file():
    with pytest.raises(BpmnError, match="empty.bpmn: the file holds no process with flow nodes"):
        read_bpmn(f'<definitions {NS}><process id="P"/></definitions>'.encode(), name="empty.bpmn")


def test_process_choice_by_most_tasks_name_id_and_pool():
    two = (
        f'<definitions {NS}><collaboration id="c"><participant id="pool1" name="Back office" processRef="P1"/>'
        '<participant id="pool2" name="Front office" processRef="P2"/></collaboration>'
        '<process id="P1" name="Small"><task id="a" name="A"/></process>'
        '<process id="P2" name="Big"><task id="b" name="B"/><task id="c2" name="C"/>'
        '<sequenceFlow id="f" sourceRef="b" targetRef="c2"/></process></definitions>'
    ).encode()
    model = read_bpmn(two, name="two.bpmn")
    assert model.process_id == "P2"
    assert model.report.process_choice.startswith("'Big' (pool 'Front office'): most tasks (2) of 2 processes")
    assert read_bpmn(two, process="Small").process_id == "P1"
    assert read_bpmn(two, process="P1").process_id == "P1"
    assert read_bpmn(two, process="back office").process_id == "P1"
    with pytest.raises(BpmnError, match="no process or pool named 'Sales'"):
        read_bpmn(two, process="Sales")


def test_vendor_extensions_and_prefixes_are_ignored():
    data = (
        b'<bpmn2:definitions xmlns:bpmn2="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="urn:c">'
        b'<bpmn2:process id="P"><bpmn2:extensionElements><camunda:properties/></bpmn2:extensionElements>'
        b'<bpmn2:userTask id="A" name="A" camunda:assignee="x"><bpmn2:extensionElements><camunda:inputOutput/>'
        b"</bpmn2:extensionElements></bpmn2:userTask></bpmn2:process></bpmn2:definitions>"
    )
    model = read_bpmn(data)
    assert [(t.id, t.type) for t in model.tasks] == [("A", "userTask")]
    assert model.report.usable


def test_label_matching_trims_and_casefolds():
    # BAD_INPUTS 28: ' Approve ' in the model, 'approve' in the log; 'Ship' only in the log
    model = read_bpmn(SIMPLE.replace('"Approve"', '" Approve "').encode())
    match = match_labels(model, ["approve", "Ship"])
    assert match.label_map == {"Approve": "approve"}  # names are trimmed on import
    assert match.model_only == []
    assert match.log_only == ["Ship"]
    conv = to_petri_net(model, label_map=match.label_map)
    assert conv.activities == ["approve"]


def test_label_mapping_files(tmp_path):
    csv_file = tmp_path / "map.csv"
    csv_file.write_text("task,activity\nApprove,APPROVAL_DONE\n")
    yaml_file = tmp_path / "map.yaml"
    yaml_file.write_text("Approve: APPROVAL_DONE\n")
    assert read_label_mapping(csv_file) == {"Approve": "APPROVAL_DONE"}
    assert read_label_mapping(yaml_file) == {"Approve": "APPROVAL_DONE"}
    model = read_bpmn(SIMPLE.encode())
    match = match_labels(model, ["APPROVAL_DONE"], mapping=read_label_mapping(csv_file))
    assert match.label_map == {"Approve": "APPROVAL_DONE"} and match.complete
    bad = tmp_path / "bad.csv"
    bad.write_text("task,activity\nApprove,\n")
    with pytest.raises(BpmnError, match=r"bad.csv, line 2: expected two non-empty cells"):
        read_label_mapping(bad)


def test_large_model_converts_and_stays_small():
    # BAD_INPUTS 27 (model side): 300 tasks in 100 XOR/AND blocks convert without blow-up
    parts, flows = ['<startEvent id="s"/>'], []
    prev = "s"
    for i in range(100):
        kind = "exclusiveGateway" if i % 2 else "parallelGateway"
        parts.append(f'<{kind} id="g{i}a"/><{kind} id="g{i}b"/><task id="t{i}x" name="X{i}"/>'
                     f'<task id="t{i}y" name="Y{i}"/><task id="t{i}z" name="Z{i}"/>')
        flows += [(prev, f"g{i}a"), (f"g{i}a", f"t{i}x"), (f"g{i}a", f"t{i}y"), (f"t{i}x", f"g{i}b"),
                  (f"t{i}y", f"g{i}b"), (f"g{i}b", f"t{i}z")]
        prev = f"t{i}z"
    parts.append('<endEvent id="e"/>')
    flows.append((prev, "e"))
    body = "".join(parts) + "".join(f'<sequenceFlow id="f{k}" sourceRef="{a}" targetRef="{b}"/>'
                                    for k, (a, b) in enumerate(flows))
    model = read_bpmn(f'<definitions {NS}><process id="P">{body}</process></definitions>'.encode())
    conv = to_petri_net(model)
    assert len(conv.activities) == 300
    # XOR blocks need no silent transition, each AND block keeps one fork and one join at most
    assert sum(1 for t in conv.net.transitions if t.label is None) <= 100
    assert check_soundness(conv, timeout_s=5).sound is not False


# ------------------------------------------------------------------ real files
def _miwg_files() -> list[Path]:
    from conftest import _find_shared_datasets

    root = _find_shared_datasets()
    return sorted((root / "bpmn-miwg").rglob("*.bpmn")) if root else []


@pytest.mark.parametrize("path", _miwg_files(), ids=lambda p: f"{p.parent.name[:12]}/{p.name}")
def test_every_miwg_file_is_usable_or_clearly_refused(path):
    model = read_bpmn(path)
    assert model.report.process_choice
    assert len(model.report.elements) >= len(model.nodes)
    if model.report.usable:
        conv = to_petri_net(model)
        assert set(conv.transition_element.values()) <= set(model.nodes) | {model.process_id}
    else:
        # a refusal names an element id or a sequence flow
        assert any("(id " in p or "sequence flow '" in p for p in model.report.problems), model.report.problems
        with pytest.raises(BpmnError):
            to_petri_net(model)


def test_receipt_model_converts_and_matches_the_log(shared_datasets):
    from processmining.xes import read_xes

    model = read_bpmn(shared_datasets / "real" / "receipt.bpmn")
    assert model.report.usable and model.diagram
    assert len(model.tasks) == 27
    log = read_xes(shared_datasets / "real" / "receipt.xes.gz")
    acts = log.df["concept:name"].unique()
    match = match_labels(model, acts)
    assert match.model_only == [] and match.log_only == []
    conv = to_petri_net(model, label_map=match.label_map)
    assert len(conv.activities) == 27
    assert check_soundness(conv).sound is True
    # every transition maps back to an element of the model
    assert set(conv.transition_element.values()) <= set(model.nodes)


# ------------------------------------------------------------------ reference models
SALES = ["Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote", "Discount Approval",
         "Negotiation/Review", "Closed Won", "Closed Lost", "Order Booked"]
TICKET = ["Open", "1st Line Support", "2nd Line Support", "3rd Line Support", "Waiting for Customer", "Resolved",
          "Closed", "Reopened"]


@pytest.mark.parametrize(
    ("name", "tasks", "lanes"),
    [
        ("lead_to_order", SALES, {"Discount Approval": "Sales Manager", "Order Booked": "Order Management",
                                  "Prospecting": "Sales Representative"}),
        ("opportunity_pipeline", [s for s in SALES if s not in ("Discount Approval", "Order Booked")], {}),
        ("it_support_ticket", TICKET, {"Open": "Service Desk", "1st Line Support": "1st Line",
                                       "2nd Line Support": "2nd Line", "3rd Line Support": "3rd Line",
                                       "Waiting for Customer": "Customer"}),
    ],
)
def test_reference_models(repo_root, name, tasks, lanes):
    model = read_bpmn(repo_root / "bpmn_models" / f"{name}.bpmn")
    assert model.report.usable, model.report.problems
    assert {t.label for t in model.tasks} == set(tasks)
    for task, lane in lanes.items():
        assert model.lane_of(task) == lane
    # complete DI: a shape for every node and lane, an edge for every flow
    assert set(model.nodes) | set(model.lanes) <= set(model.diagram.shapes)
    assert set(model.flows) <= set(model.diagram.edges)
    conv = to_petri_net(model)
    assert sorted(conv.activities) == sorted(tasks)
    assert check_soundness(conv).sound is True
    assert conv.approximations == []


def test_label_matching_prefers_exact_spelling_and_lists_variants():
    # several log spellings of one task: the exact one becomes the label, the others stay visible
    model = read_bpmn(SIMPLE.encode())
    match = match_labels(model, ["approve ", "APPROVE", "Approve", "Ship"])
    assert match.label_map == {"Approve": "Approve"}
    assert match.variants == {"Approve": ["approve ", "APPROVE"]}
    assert match.log_only == ["approve ", "APPROVE", "Ship"]
