"""The OMG MIWG interchange files and the other real models: what is usable, what is refused and why.

Usable = imports without problems and its net is sound (what conformance checking needs). Every other
file must be refused with a message that names the element and says what to change.
"""

from __future__ import annotations

import pytest

from processmining.bpmn import check_soundness, read_bpmn, to_petri_net

B20_STOP = ("not sound: 15 reachable state(s) cannot finish (deadlock, e.g. a run stops with tokens on sequence "
            "flow {flow!r} into parallelGateway 'Parallel Gateway 7' (id {gw}))")
REFUSED = {
    # B.2.0 starts either at a message or a signal start event; after the timer on Task 21 the message branch
    # reaches "Parallel Gateway 7", which waits for the signal branch forever (the OR-join is read now)
    "Reference/B.2.0.bpmn": B20_STOP.format(flow="_202c373c-f243-413d-904e-9132a0c0e923",
                                            gw="_df7727a0-f509-45eb-bb89-85753f439576"),
    "bpmn.io (Camunda Modeler) 18.6.1/B.2.0-roundtrip.bpmn": B20_STOP.format(
        flow="_202c373c-f243-413d-904e-9132a0c0e923", gw="_df7727a0-f509-45eb-bb89-85753f439576"),
    "SAP Signavio Process Manager 19.9.0/B.2.0-roundtrip.bpmn": B20_STOP.format(
        flow="_b9a903b5-4525-42d1-ae5b-24f26d774556", gw="_df7727a0-f509-45eb-bb89-85753f439576"),
    "SAP Signavio Process Manager 19.9.0/B.2.0-export.bpmn": B20_STOP.format(
        flow="sid-28800E99-8E8F-46D3-AA00-51A06CD3852A", gw="sid-BCEC0713-8F47-472F-AB22-F1A931FD2121"),
    # the export lost the incoming flow of "Report fraud"
    "SAP Signavio Process Manager 19.9.0/C.9.0-export.bpmn": (
        "not sound: 1 transition(s) can never fire (dead model parts: endEvent 'Application canceled due to fraud' "
        "(id TerminateEvent_ApplicationCanceledFraud)): no run of the model reaches them; connect them to the flow "
        "or remove them"),
}


def _verdict(path) -> tuple[str, list[str]]:
    model = read_bpmn(path)
    if model.report.problems:
        return model.report.problems[0], model.report.approximations
    sound = check_soundness(to_petri_net(model), timeout_s=10)
    return ("" if sound.sound else sound.reason), model.report.approximations


@pytest.mark.slow
def test_miwg_usable_and_refused_files(shared_datasets):
    root = shared_datasets / "bpmn-miwg"
    files = sorted(root.rglob("*.bpmn"))
    verdicts = {str(f.relative_to(root)): _verdict(f) for f in files}
    refused = {k: msg for k, (msg, _) in verdicts.items() if msg}
    assert len(files) == 114
    # 102 of 114 before call activities, OR-joins without a split, link names and stray nodes were read
    assert len(files) - len(refused) == 109
    assert refused == REFUSED
    # what each file approximates is in its report: the call activities read as one step, for instance
    calls = sorted(k for k, (_, approx) in verdicts.items() if any("call activity" in a for a in approx))
    assert calls == [
        "Reference/C.9.0.bpmn",
        "SAP Signavio Process Manager 19.9.0/B.1.0-export.bpmn",
        "SAP Signavio Process Manager 19.9.0/B.2.0-export.bpmn",
        "SAP Signavio Process Manager 19.9.0/C.5.0-export.1.bpmn",
        "bpmn.io (Camunda Modeler) 18.6.1/B.1.0-export.bpmn",
        "bpmn.io (Camunda Modeler) 18.6.1/B.2.0-export.bpmn",
        "bpmn.io (Camunda Modeler) 18.6.1/C.5.0-export.bpmn",
        "bpmn.io (Camunda Modeler) 18.6.1/C.9.0-export.bpmn",
        "bpmn.io (Camunda Modeler) 18.6.1/C.9.0-roundtrip.bpmn",
    ]


def test_other_real_models_are_usable(shared_datasets):
    files = sorted((shared_datasets / "models").glob("*.bpmn")) + sorted((shared_datasets / "real").glob("*.bpmn"))
    verdicts = {f.name: _verdict(f) for f in files}
    assert {k: msg for k, (msg, _) in verdicts.items() if msg} == {}
    assert len(verdicts) == 8
    assert verdicts["simple_model.bpmn"][1] == [
        "subProcess 'TestTask' (id sid-B0A4DE1B-3BD5-44F2-82CF-2FADACB84925): collapsed sub-process whose content "
        "is not in the file: read as one step 'TestTask'"]
