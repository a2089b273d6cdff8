"""PNML reference models: the reader (what it takes, what it refuses) and a22.pnml against pm4py's alignments."""

from __future__ import annotations

import pandas as pd
import pytest

from processmining.conformance import conform
from processmining.errors import ConformanceError
from processmining.model import ACTIVITY, CASE, ORDER, TIMESTAMP, EventLog
from processmining.pnml import read_pnml

# A -> (B | silent skip) -> C, silent transition marked the ProM way; no final marking given
NET = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<pnml><net id="n" type="http://www.pnml.org/version-2009/grammar/pnmlcoremodel"><page id="p">
  <place id="i"><initialMarking><text>1</text></initialMarking></place><place id="m1"/><place id="m2"/><place id="o"/>
  <transition id="ta"><name><text>A</text></name></transition>
  <transition id="tb"><name><text>B</text></name></transition>
  <transition id="skip"><name><text>tau</text></name><toolspecific tool="ProM" version="6.4" activity="$invisible$"/></transition>
  <transition id="tc"><name><text>C</text></name></transition>
  <arc id="1" source="i" target="ta"/><arc id="2" source="ta" target="m1"/>
  <arc id="3" source="m1" target="tb"/><arc id="4" source="tb" target="m2"/>
  <arc id="5" source="m1" target="skip"/><arc id="6" source="skip" target="m2"/>
  <arc id="7" source="m2" target="tc"/><arc id="8" source="tc" target="o"/>
</page></net></pnml>"""


def _order_only_log(cases: dict[str, list[str]]) -> EventLog:
    """A log without timestamps, as an order-only XES loads: events in file order, every timestamp NaT."""
    rows = [(c, a) for c, acts in cases.items() for a in acts]
    df = pd.DataFrame(rows, columns=[CASE, ACTIVITY]).astype("string")
    df[TIMESTAMP] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    df[ORDER] = range(len(df))
    return EventLog(df=df, name="order-only")


def test_reader_takes_labels_silent_steps_weights_and_guesses_the_final_marking():
    net = read_pnml(NET, name="abc.pnml")
    assert [(t.id, t.label) for t in net.transitions] == [("ta", "A"), ("tb", "B"), ("skip", None), ("tc", "C")]
    assert net.initial == {"i": 1}
    assert net.final == {"o": 1}  # the only place without outgoing arcs
    assert net.notes == ["no final marking in the file: one token on each place without outgoing arcs (o)"]
    weighted = read_pnml(NET.replace(b'<arc id="8" source="tc" target="o"/>',
                                     b'<arc id="8" source="tc" target="o"><inscription><text>2</text></inscription></arc>'))
    assert weighted.transitions[3].post == {"o": 2}
    assert net.labels == frozenset({"A", "B", "C"})


def test_reader_refuses_what_it_cannot_use():
    with pytest.raises(ConformanceError, match=r"^x\.pnml: the net has no initial marking"):
        read_pnml(NET.replace(b"<initialMarking><text>1</text></initialMarking>", b""), name="x.pnml")
    with pytest.raises(ConformanceError, match=r"^x\.pnml, line 12, element 9: arc from 'ta' to 'tb' does not join"):
        read_pnml(NET.replace(b"</page>", b'<arc id="9" source="ta" target="tb"/></page>'), name="x.pnml")
    with pytest.raises(ConformanceError, match=r"inhibitor arcs are not supported"):
        read_pnml(NET.replace(b'<arc id="1" source="i" target="ta"/>',
                              b'<arc id="1" source="i" target="ta"><arctype><text>inhibitor</text></arctype></arc>'),
                  name="x.pnml")
    with pytest.raises(ConformanceError, match=r"expected a whole number of tokens, got 'two'"):
        read_pnml(NET.replace(b"<text>1</text></initialMarking>", b"<text>two</text></initialMarking>"), name="x.pnml")


def test_conform_on_a_pnml_net_without_timestamps():
    # A C fits with one silent skip; X is no activity of the net; A B stops before C
    log = _order_only_log({"fit": ["A", "B", "C"], "skip": ["A", "C"], "extra": ["A", "X", "B", "C"],
                           "short": ["A", "B"]})
    r = conform(log, read_pnml(NET, name="abc.pnml"), processes=1, running="none")
    s = r.summary
    assert (s["cases"], s["fitting_cases"]) == (4, 2)
    assert sorted(set(r.deviations.case_id)) == ["extra", "short"]
    # costs: fit 0, skip 1 (silent), extra 10000 (log move X), short 10000 (model move C); per case pm4py
    # divides by 10000 per event plus the cheapest model run (A, skip, C as model moves: 20001)
    assert s["fitness"] == pytest.approx(1 - (0 + 1 + 10000 + 10000) / ((3 + 2 + 4 + 2) * 10000 + 4 * 20001),
                                         abs=1e-15)
    assert s["time_note"] == "the log has no timestamps: throughput times need them"
    assert all(p["median_throughput_days"] is None for p in s["patterns"])


#: variants per noise level checked against pm4py (all of their cases): pm4py needs ~0.15 s per a22 variant,
#: about 2.5 minutes for a whole a22 log; bench/bench_conformance.py compares the whole logs
SAMPLE_VARIANTS = 30


@pytest.mark.parametrize("name", ["a22f0n00", "a22f0n10", "a22f0n50"])
def test_a22_fitness_and_deviating_cases_equal_pm4py_alignments(shared_datasets, name):
    import pm4py
    from pm4py.algo.evaluation.replay_fitness.variants import alignment_based
    from pm4py.objects.log.obj import EventLog as Pm4pyLog

    synthetic = shared_datasets / "synthetic"
    # pm4py's dataframe interface wants a date column: its own log object aligns in file order
    plog = pm4py.read_xes(str(synthetic / f"{name}.xes.gz"), return_legacy_log_object=True)
    assert not any("time:timestamp" in e for t in plog for e in t)  # order only
    keep = list(dict.fromkeys(tuple(e["concept:name"] for e in t) for t in plog))[:SAMPLE_VARIANTS]
    sample = Pm4pyLog([t for t in plog if tuple(e["concept:name"] for e in t) in set(keep)])
    cases = {str(t.attributes["concept:name"]): [e["concept:name"] for e in t] for t in sample}
    ours = conform(_order_only_log(cases), read_pnml(synthetic / "a22.pnml"), processes=1, running="none",
                   precision=False, variant_timeout_s=60)
    net, im, fm = pm4py.read_pnml(str(synthetic / "a22.pnml"))
    diag = pm4py.conformance_diagnostics_alignments(sample, net, im, fm)
    expected = alignment_based.evaluate(diag)["log_fitness"]
    deviating = sorted(c for c, a in zip(cases, diag, strict=True) if a["cost"] >= 10_000)
    assert ours.summary["not_computed_cases"] == 0
    assert ours.summary["fitness"] == pytest.approx(expected, abs=1e-15)
    assert sorted(set(ours.deviations.case_id)) == deviating
    # the costs per variant too (pm4py: per case, equal within a variant)
    cost_of = {tuple(t): a["cost"] for t, a in zip(cases.values(), diag, strict=True)}
    assert dict(zip(ours.variants.variant, ours.variants.cost, strict=True)) == \
        {" → ".join(t): c for t, c in cost_of.items()}


def test_cli_conform_takes_a_pnml_model(tmp_path):
    from typer.testing import CliRunner

    from processmining.cli import app

    (tmp_path / "net.pnml").write_bytes(NET)
    (tmp_path / "log.csv").write_text("case,activity,time\n1,A,2024-01-01T10:00:00Z\n1,C,2024-01-01T11:00:00Z\n"
                                      "2,A,2024-01-01T10:00:00Z\n2,X,2024-01-01T10:30:00Z\n2,C,2024-01-01T11:00:00Z\n")
    out = tmp_path / "dev.csv"
    result = CliRunner().invoke(app, ["conform", str(tmp_path / "log.csv"), str(tmp_path / "net.pnml"), "-o", str(out),
                                      "--case", "case", "--activity", "activity", "--timestamp", "time", "--quiet"])
    assert result.exit_code == 0, result.output
    dev = pd.read_csv(out, comment="#")
    assert sorted(set(dev.case_id.astype(str))) == ["2"]
    assert set(dev.kind) == {"unexpected"}


def test_cli_conform_checks_every_case_of_an_order_only_log_in_full(shared_datasets, tmp_path):
    """A benchmark log without times has no export time for a case to be running at: by default every case is
    checked in full (the 103 deviating cases of a22f0n10, pm4py's count above); ``--end-activity`` makes the cases
    that do not end with it running, checked as prefixes (36 cases; 30 fewer cases deviate)."""
    import json

    from typer.testing import CliRunner

    from processmining.cli import app

    synthetic = shared_datasets / "synthetic"
    args = ["conform", str(synthetic / "a22f0n10.xes.gz"), str(synthetic / "a22.pnml"), "-o", str(tmp_path / "d.csv"),
            "--summary", str(tmp_path / "s.json"), "--quiet"]
    runs = {}
    for extra in ([], ["--end-activity", "E"], ["--running", "none"]):
        result = CliRunner().invoke(app, args + extra)
        assert result.exit_code == 0, result.output
        s = json.loads((tmp_path / "s.json").read_text())
        runs[" ".join(extra)] = (s["running_cases"], s["deviating_cases"], round(s["fitness"], 10))
    assert runs == {"": (0, 103, 0.9888896162), "--end-activity E": (36, 73, 0.9888896162),
                    "--running none": (0, 103, 0.9888896162)}
    bad = CliRunner().invoke(app, args + ["--end-activity", "nope"])
    assert bad.exit_code == 2
    assert "--end-activity 'nope' is not an activity of the log" in bad.output
