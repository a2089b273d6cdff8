"""Done-when: on the real receipt log and BPMN, our fitness equals pm4py's alignment fitness."""

from __future__ import annotations

import pytest

from processmining.conformance import conform
from processmining.ingest import read_log

#: pm4py 2.7.23: conformance_diagnostics_alignments / fitness_alignments on receipt.xes.gz against
#: pm4py.convert_to_petri_net(pm4py.read_bpmn("receipt.bpmn")) -> log_fitness. pm4py's own pipeline takes
#: ~158 s here, so it is not recomputed in the test. Its percFitTraces is 100: every trace aligns with silent
#: moves only (cost // 10000 == 0), while log_fitness also counts each silent move as cost 1.
PM4PY_LOG_FITNESS = 0.9994225817204637


@pytest.mark.slow
def test_receipt_fitness_equals_pm4py(shared_datasets):
    import pm4py

    real = shared_datasets / "real"
    log = read_log(real / "receipt.xes.gz")
    net, im, fm = pm4py.convert_to_petri_net(pm4py.read_bpmn(str(real / "receipt.bpmn")))
    result = conform(log, (net, im, fm), precision=False, variant_timeout_s=120)
    s = result.summary
    assert s["not_computed_cases"] == 0
    assert s["fitness"] == pytest.approx(PM4PY_LOG_FITNESS, abs=1e-15)
    # pm4py's percFitTraces == 100: every case fits up to silent moves
    assert (s["cases"], s["fitting_cases"]) == (1434, 1434)
    assert result.deviations.empty
