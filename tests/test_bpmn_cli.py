"""``processmining bpmn check|render`` through the CLI entry point, and the SVG diagrams."""

from __future__ import annotations

import json
import re

from lxml import etree
from typer.testing import CliRunner

from processmining.bpmn import Overlay, check_soundness, read_bpmn, render_svg, to_petri_net
from processmining.cli import app

NS = 'xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"'
runner = CliRunner()


def _write(tmp_path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(f'<?xml version="1.0"?><definitions {NS}><process id="P" name="Demo">{body}</process></definitions>')
    return str(path)


def test_check_usable_model_exits_0_with_report(repo_root):
    res = runner.invoke(app, ["bpmn", "check", str(repo_root / "bpmn_models" / "lead_to_order.bpmn")])
    assert res.exit_code == 0, res.output
    assert "lead_to_order.bpmn: process 'Lead to Order' (usable for conformance)" in res.output
    assert "20 mapped, 0 approximated, 0 ignored, 0 refused; diagram (DI): yes" in res.output
    assert "soundness: sound:" in res.output


def test_check_json(repo_root):
    res = runner.invoke(app, ["bpmn", "check", str(repo_root / "bpmn_models" / "it_support_ticket.bpmn"), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["usable"] is True
    assert data["soundness"]["sound"] is True
    assert data["lanes"]["3rd Line Support"] == "3rd Line"
    assert data["tasks"].count("Waiting for Customer") == 3
    assert data["counts"] == {"mapped": 23, "approximated": 0, "ignored": 0, "refused": 0}


def test_check_refused_model_exits_2_with_one_line(tmp_path):
    path = _write(tmp_path, "end.bpmn", '<startEvent id="s"/><task id="A" name="Approve"/><endEvent id="e"/>'
                  '<sequenceFlow id="f1" sourceRef="s" targetRef="e"/><sequenceFlow id="f2" sourceRef="e" targetRef="A"/>')
    res = runner.invoke(app, ["bpmn", "check", path])
    assert res.exit_code == 2
    assert "refused: sequenceFlow (id f2): leaves endEvent (id e): an end event must not have outgoing" in res.output
    assert "error: end.bpmn: not usable for conformance: sequence flow 'f2' (line 1) leaves endEvent (id e): an " \
           "end event must not have outgoing sequence flows (BPMN 2.0 10.5.3); make it an intermediate (throw) " \
           "event if the process goes on after it" in res.output
    assert "Traceback" not in res.output


def test_check_unsound_model_exits_2_with_reason(tmp_path):
    # BAD_INPUTS 26: an XOR split joined by an AND join deadlocks
    path = _write(tmp_path, "unsound.bpmn",
                  '<startEvent id="s"/><exclusiveGateway id="x"/><task id="A" name="A"/><task id="B" name="B"/>'
                  '<parallelGateway id="j"/><endEvent id="e"/>'
                  '<sequenceFlow id="f1" sourceRef="s" targetRef="x"/><sequenceFlow id="f2" sourceRef="x" targetRef="A"/>'
                  '<sequenceFlow id="f3" sourceRef="x" targetRef="B"/><sequenceFlow id="f4" sourceRef="A" targetRef="j"/>'
                  '<sequenceFlow id="f5" sourceRef="B" targetRef="j"/><sequenceFlow id="f6" sourceRef="j" targetRef="e"/>')
    result = check_soundness(to_petri_net(read_bpmn(path)))
    assert result.sound is False
    assert result.reason.startswith("not sound: the end state (all branches finished) is never reached")
    res = runner.invoke(app, ["bpmn", "check", path])
    assert res.exit_code == 2
    assert "error: unsound.bpmn: not usable for conformance: not sound" in res.output
    # the first line agrees with the exit code (it used to say "usable for conformance")
    assert res.output.splitlines()[0] == "unsound.bpmn: process 'Demo' (NOT usable: not sound)"
    json_res = runner.invoke(app, ["bpmn", "check", path, "--json"])
    assert json_res.exit_code == 2
    assert json.loads(json_res.output.split("\nerror:")[0])["usable"] is False


def test_check_hostile_xml_and_missing_file(tmp_path):
    path = tmp_path / "xxe.bpmn"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<definitions/>')
    res = runner.invoke(app, ["bpmn", "check", str(path)])
    assert res.exit_code == 2
    assert "error: xxe.bpmn, line 2: XML entity declarations are refused" in res.output
    res = runner.invoke(app, ["bpmn", "check", str(tmp_path / "nope.bpmn")])
    assert res.exit_code == 2
    assert "file not found" in res.output


def test_check_picks_process(tmp_path):
    path = tmp_path / "two.bpmn"
    path.write_text(f'<definitions {NS}><process id="P1" name="One"><task id="a" name="A"/></process>'
                    '<process id="P2" name="Two"><task id="b" name="B"/></process></definitions>')
    res = runner.invoke(app, ["bpmn", "check", str(path), "--process", "Two", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["process_id"] == "P2"


def test_render_svg_file(tmp_path, repo_root):
    out = tmp_path / "model.svg"
    res = runner.invoke(app, ["bpmn", "render", str(repo_root / "bpmn_models" / "lead_to_order.bpmn"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "from diagram interchange" in res.output
    root = etree.fromstring(out.read_bytes())
    drawn = {g.get("data-element") for g in root.iter("{http://www.w3.org/2000/svg}g")}
    model = read_bpmn(repo_root / "bpmn_models" / "lead_to_order.bpmn")
    assert set(model.nodes) | set(model.flows) | set(model.lanes) <= drawn


def test_render_refuses_other_suffix(tmp_path, repo_root):
    res = runner.invoke(app, ["bpmn", "render", str(repo_root / "bpmn_models" / "lead_to_order.bpmn"),
                              "-o", str(tmp_path / "m.pdf")])
    assert res.exit_code == 2
    assert "output must end in .svg or .png" in res.output


def test_svg_overlays_and_notation(repo_root):
    model = read_bpmn(repo_root / "bpmn_models" / "lead_to_order.bpmn")
    svg = render_svg(
        model,
        element_overlays={"Task_DiscountApproval": Overlay(fill="#fde2e1", badge="17", label="17 skipped")},
        flow_overlays={"Flow_14": Overlay(fill="#d1242f", stroke_width=5, badge="42")},
        title="Lead to Order <deviations>",
    )
    root = etree.fromstring(svg.encode())  # well-formed XML, title escaped
    assert root.get("aria-label") == "Lead to Order <deviations>"
    group = next(g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("data-element") == "Task_DiscountApproval")
    text = etree.tostring(group).decode()
    assert 'fill="#fde2e1"' in text and ">17<" in text and "17 skipped" in text
    flow = next(g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("data-element") == "Flow_14")
    path = flow.find("{http://www.w3.org/2000/svg}path")
    assert path.get("stroke") == "#d1242f" and path.get("stroke-width") == "5.00"
    # the default flow carries the slash marker, tasks are rounded, gateways are diamonds
    assert path.get("marker-start") == "url(#default)"
    assert len(re.findall(r'<rect [^>]*rx="10"', svg)) == 9
    assert svg.count("<polygon") >= 8
    # lanes are drawn with their names
    for lane in ("Sales Representative", "Sales Manager", "Order Management"):
        assert f">{lane}</text>" in svg


def test_svg_auto_layout_without_di(tmp_path):
    path = _write(tmp_path, "nodi.bpmn",
                  '<startEvent id="s"/><task id="A" name="A"/><exclusiveGateway id="x"/><task id="B" name="B"/>'
                  '<subProcess id="sp" name="Sub"><startEvent id="ss"/><task id="C" name="C"/><endEvent id="se"/>'
                  '<sequenceFlow id="g1" sourceRef="ss" targetRef="C"/><sequenceFlow id="g2" sourceRef="C" '
                  'targetRef="se"/></subProcess><endEvent id="e"/>'
                  '<sequenceFlow id="f1" sourceRef="s" targetRef="A"/><sequenceFlow id="f2" sourceRef="A" targetRef="x"/>'
                  '<sequenceFlow id="f3" sourceRef="x" targetRef="B"/><sequenceFlow id="f4" sourceRef="x" targetRef="sp"/>'
                  '<sequenceFlow id="f5" sourceRef="B" targetRef="e"/><sequenceFlow id="f6" sourceRef="sp" targetRef="e"/>')
    model = read_bpmn(path)
    assert not model.diagram
    svg = render_svg(model)
    root = etree.fromstring(svg.encode())
    drawn = {g.get("data-element") for g in root.iter("{http://www.w3.org/2000/svg}g")}
    assert set(model.nodes) | set(model.flows) <= drawn
    # left to right: the start event is left of the end event
    from processmining.bpmn.layout import auto_layout

    d = auto_layout(model)
    assert d.shapes["s"].bounds.x < d.shapes["A"].bounds.x < d.shapes["e"].bounds.x
    # the sub-process encloses its task
    sp, c = d.shapes["sp"].bounds, d.shapes["C"].bounds
    assert sp.x < c.x and c.x + c.width < sp.x + sp.width


def test_soundness_on_the_compiled_net_equals_the_pm4py_conversion(tmp_path, repo_root):
    # bpmn check decides soundness on the model's own compiled net (no pm4py); same verdict, reason and
    # state count as on the net handed to pm4py, for a sound model and a deadlock (XOR split, AND join:
    # the end is never reached)
    deadlock = _write(tmp_path, "deadlock.bpmn",
                      '<startEvent id="s"/><exclusiveGateway id="x"/><task id="A" name="A"/><task id="B" name="B"/>'
                      '<parallelGateway id="j"/><endEvent id="e"/>'
                      '<sequenceFlow id="f1" sourceRef="s" targetRef="x"/><sequenceFlow id="f2" sourceRef="x" '
                      'targetRef="A"/><sequenceFlow id="f3" sourceRef="x" targetRef="B"/><sequenceFlow id="f4" '
                      'sourceRef="A" targetRef="j"/><sequenceFlow id="f5" sourceRef="B" targetRef="j"/>'
                      '<sequenceFlow id="f6" sourceRef="j" targetRef="e"/>')
    models = {"lead_to_order": read_bpmn(repo_root / "bpmn_models" / "lead_to_order.bpmn"),
              "deadlock": read_bpmn(deadlock)}
    results = {name: (check_soundness(m), check_soundness(to_petri_net(m))) for name, m in models.items()}
    assert {name: own == pm4py_net for name, (own, pm4py_net) in results.items()} == {"lead_to_order": True,
                                                                                       "deadlock": True}
    assert results["lead_to_order"][0].reason == "sound: 11 reachable states, end always reachable, no dead parts"
    assert results["deadlock"][0].sound is False
    assert results["deadlock"][0].reason.startswith("not sound: the end state (all branches finished) is never "
                                                    "reached")
