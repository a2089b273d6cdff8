"""Done-when: on the real receipt log and BPMN, our fitness equals pm4py's alignment fitness.

pm4py's expected value is computed here, with the pm4py installed (pyproject allows a range), on the
cases of a sample of variants: pm4py needs ~1.4 s per receipt variant (about 160 s for the whole log,
which bench/bench_conformance.py compares). Our side also runs on the whole log against our own conversion of the model, where every case fits.
"""

from __future__ import annotations

import pytest

from processmining.bpmn import read_bpmn
from processmining.conformance import conform
from processmining.conformance.variants import log_variants
from processmining.ingest import read_log

#: variants whose cases are aligned by pm4py in the test (the most frequent ones: most of the cases)
SAMPLE_VARIANTS = 15


@pytest.mark.slow
def test_receipt_fitness_equals_pm4py(shared_datasets):
    import pm4py
    from pm4py.algo.evaluation.replay_fitness.variants import alignment_based

    real = shared_datasets / "real"
    log = read_log(real / "receipt.xes.gz")
    net, im, fm = pm4py.convert_to_petri_net(pm4py.read_bpmn(str(real / "receipt.bpmn")))
    # the whole log on our own conversion of the model (pm4py's net is tau-heavy: its longest variant
    # alone takes over a minute, so it is aligned only on the sample below)
    whole = conform(log, read_bpmn(real / "receipt.bpmn"), precision=False, variant_timeout_s=120)
    s = whole.summary
    assert s["not_computed_cases"] == 0
    # pm4py's percFitTraces == 100: every case fits up to silent moves
    assert (s["cases"], s["fitting_cases"]) == (1434, 1434)
    assert whole.deviations.empty

    v = log_variants(log)
    frequent = set(sorted(range(v.n_variants), key=lambda k: (-v.counts[k], v.traces[k]))[:SAMPLE_VARIANTS])
    keep = {str(c) for c, k in zip(v.case_ids, v.case_variant, strict=True) if k in frequent}
    df = log.df
    sample = log.with_frame(df[df["case:concept:name"].astype(str).isin(keep)], step="sample of variants")
    diag = pm4py.conformance_diagnostics_alignments(sample.to_pm4py(), net, im, fm)
    expected = alignment_based.evaluate(diag)["log_fitness"]
    ours = conform(sample, (net, im, fm), precision=False, variant_timeout_s=600).summary
    assert ours["cases"] == len(diag)
    assert ours["fitness"] == pytest.approx(expected, abs=1e-15)
