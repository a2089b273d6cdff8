"""Drivers: over-represented attribute values among bad cases, with exact numbers on a log built here."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from scipy.stats import fisher_exact
from typer.testing import CliRunner

from processmining.cli import app
from processmining.errors import AnalysisError
from processmining.model import ACTIVITY, CASE, RESOURCE, TIMESTAMP, EventLog
from processmining.report.drivers import bad_cases, drivers, parse_target


def planted_log() -> EventLog:
    """100 deals: team A (c000-c039) loses 20, B (c040-c079) loses 4, C (c080-c099) loses 2.

    Region "Island" holds only 2 cases (both lost): a tiny group with a large lift that must not
    outrank team A. Team C needs 3 days from Start to Decision (the others 1 hour): the planted
    cause of lateness for "Start->Decision<=1d".
    """
    lost = set(range(0, 20)) | set(range(40, 44)) | {80, 81}
    rows = []
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    for i in range(100):
        team = "A" if i < 40 else "B" if i < 80 else "C"
        case = f"c{i:03d}"
        start = t0 + pd.Timedelta(hours=i)
        decision = start + (pd.Timedelta(days=3) if team == "C" else pd.Timedelta(hours=1))
        end = "Closed Lost" if i in lost else "Closed Won"
        region = "Island" if i in (42, 43) else "Mainland"
        rep = {"A": "ann", "B": "bob", "C": "cid"}[team]
        for act, t, res in (("Start", start, "bot"), ("Decision", decision, rep), (end, decision + pd.Timedelta(hours=1), rep)):
            rows.append({CASE: case, ACTIVITY: act, TIMESTAMP: t, RESOURCE: res, "case:team": team, "case:region": region})
    return EventLog.from_frame(pd.DataFrame(rows), name="planted.csv")


def test_lost_drivers_exact_numbers() -> None:
    log = planted_log()
    bc = bad_cases(log, "lost", lost="Closed Lost")
    assert len(bc.bad) == 26 and len(bc.population) == 100
    d = drivers(log, bc, min_cases=1)
    top = d.iloc[0]
    # case:team = A and org:resource = ann hold the same 40 cases; the tie goes to the attribute name
    assert (top["attribute"], top["value"], top["cases"], top["group_cases"]) == ("case:team", "A", 20, 40)
    assert top["rate"] == 0.5 and top["base_rate"] == 0.26
    assert top["lift"] == pytest.approx(0.5 / 0.26)
    assert top["share_of_bad"] == pytest.approx(20 / 26)
    # the p-value is Fisher's exact test (one-sided) on the 2x2 table
    assert top["p_value"] == pytest.approx(fisher_exact([[20, 20], [6, 54]], alternative="greater")[1])
    assert bool(top["significant"])
    assert (d.iloc[1]["attribute"], d.iloc[1]["value"]) == ("org:resource", "ann")
    # the 2-case island: lift 1/0.26 = 3.85 but not significant, ranked below the real effect
    island = d[(d["attribute"] == "case:region") & (d["value"] == "Island")].iloc[0]
    assert island["lift"] == pytest.approx(1 / 0.26)
    assert not bool(island["significant"])
    assert island.name > 1
    # with the default min_cases=5 the island is not tested at all
    assert "Island" not in set(drivers(log, bc)["value"])
    # only team A / ann are significant
    sig = drivers(log, bc)
    assert sig.loc[sig["significant"], ["attribute", "value"]].values.tolist() == [["case:team", "A"], ["org:resource", "ann"]]


def test_late_drivers_population_is_measured_cases() -> None:
    log = planted_log()
    bc = bad_cases(log, "late:Start->Decision<=1d")
    assert len(bc.bad) == 20 and len(bc.population) == 100
    d = drivers(log, bc)
    top = d.iloc[0]
    assert (top["attribute"], top["value"], top["cases"], top["group_cases"]) == ("case:team", "C", 20, 20)
    assert top["lift"] == pytest.approx(5.0)
    assert top["p_value"] == pytest.approx(fisher_exact([[20, 0], [0, 80]], alternative="greater")[1])


def test_nothing_planted_nothing_significant() -> None:
    # the same log, bad cases = every 4th case: no attribute explains them
    log = planted_log()
    bc = bad_cases(log, "lost", lost="Closed Lost")
    from processmining.report.drivers import BadCases

    even = BadCases("lost", "x", frozenset(f"c{i:03d}" for i in range(0, 100, 4)), bc.population)
    d = drivers(log, even)
    assert not d["significant"].any()


def test_targets_and_errors() -> None:
    assert parse_target("late:Open->Resolved<=5d") == ("late", "Open->Resolved<=5d")
    assert parse_target("stuck") == ("stuck", None)
    with pytest.raises(AnalysisError, match="--target must be one of late:SLA, deviating, lost, stuck; got 'slow'"):
        parse_target("slow")
    with pytest.raises(AnalysisError, match="--target late needs an SLA"):
        parse_target("late")
    with pytest.raises(AnalysisError, match="target 'deviating' needs a reference model"):
        bad_cases(planted_log(), "deviating")


def test_drivers_cli(tmp_path) -> None:
    path = tmp_path / "planted.csv"
    df = planted_log().df.drop(columns=["@@index"])
    df.rename(columns={CASE: "case", ACTIVITY: "activity", TIMESTAMP: "timestamp", RESOURCE: "resource",
                       "case:team": "team", "case:region": "region"}).to_csv(path, index=False)
    out = tmp_path / "drivers.csv"
    res = CliRunner().invoke(app, ["drivers", str(path), "--case", "case", "--activity", "activity", "--timestamp",
                                   "timestamp", "--resource", "resource", "--target", "lost", "--lost", "Closed Lost",
                                   "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "26 bad cases of 100 (lost)" in res.output
    assert "* team = A: 20/40 cases, rate 50.0% vs 26.0%, lift 1.92" in res.output
    table = pd.read_csv(out)
    # read from CSV the team is an event column "team"; tied with org:resource = ann, ordered by name
    assert table.loc[:1, ["attribute", "value", "cases"]].values.tolist() == [["org:resource", "ann", 20], ["team", "A", 20]]
    bad = CliRunner().invoke(app, ["drivers", str(path), "--case", "case", "--activity", "activity", "--timestamp",
                                   "timestamp", "--target", "slow"])
    assert bad.exit_code == 2 and "error: --target must be one of" in bad.output


def test_demo_planted_drivers_rank_first(repo_root) -> None:
    """The demo generator's planted effects (eventlogs/ground_truth.json, key "drivers") are ranked first."""
    from processmining.ingest import read_log
    from processmining.ingest.presets import analysis_defaults

    truth = json.loads((repo_root / "eventlogs" / "ground_truth.json").read_text(encoding="utf-8"))
    planted = truth.get("drivers")
    if planted is None:
        pytest.skip("ground_truth.json has no 'drivers' key yet (planted by the demo generator's branch)")
    assert planted, "the demo plants at least one driver"
    for entry in planted:
        log = read_log(repo_root / "eventlogs" / entry["log"])
        d = analysis_defaults(log.report.preset if log.report else None)
        target = entry["target"] + (f":{entry['sla']}" if entry["target"] == "late" else "")
        bc = bad_cases(log, target, lost=d.get("lost"), idle=d.get("idle"), end_activities=d.get("ends"))
        table = drivers(log, bc)
        sig = table[table["significant"]]
        assert len(sig), entry
        top = sig.iloc[0]
        assert (top["attribute"], str(top["value"])) == (entry["attribute"], str(entry["value"])), entry


# Start -> Decision -> Closed Won; a lost deal deviates from it
WON_NET = b"""<?xml version="1.0" encoding="UTF-8"?>
<pnml><net id="n" type="http://www.pnml.org/version-2009/grammar/pnmlcoremodel"><page id="p">
  <place id="i"><initialMarking><text>1</text></initialMarking></place><place id="m1"/><place id="m2"/>
  <place id="o"><finalMarking><text>1</text></finalMarking></place>
  <transition id="t1"><name><text>Start</text></name></transition>
  <transition id="t2"><name><text>Decision</text></name></transition>
  <transition id="t3"><name><text>Closed Won</text></name></transition>
  <arc id="1" source="i" target="t1"/><arc id="2" source="t1" target="m1"/><arc id="3" source="m1" target="t2"/>
  <arc id="4" source="t2" target="m2"/><arc id="5" source="m2" target="t3"/><arc id="6" source="t3" target="o"/>
</page></net></pnml>"""


def test_drivers_cli_takes_a_pnml_model_and_prints_only_significant_rows(tmp_path) -> None:
    path = tmp_path / "planted.csv"
    df = planted_log().df.drop(columns=["@@index"])
    df.rename(columns={CASE: "case", ACTIVITY: "activity", TIMESTAMP: "timestamp", RESOURCE: "resource",
                       "case:team": "team", "case:region": "region"}).to_csv(path, index=False)
    (tmp_path / "won.pnml").write_bytes(WON_NET)
    args = ["drivers", str(path), "--case", "case", "--activity", "activity", "--timestamp", "timestamp",
            "--resource", "resource", "--target", "deviating", "--model", str(tmp_path / "won.pnml"), "-q"]
    res = CliRunner().invoke(app, args[:-1])
    # before: "error: ... root <pnml>, expected <definitions>"
    assert res.exit_code == 0, res.output
    assert "26 bad cases of 100 (deviating)" in res.output
    lines = [ln for ln in res.output.splitlines() if " = " in ln]
    assert [ln.split(", lift")[0] for ln in lines[:2]] == [
        "* org:resource = ann: 20/40 cases, rate 50.0% vs 26.0%", "* team = A: 20/40 cases, rate 50.0% vs 26.0%"]
    table = drivers(planted_log(), bad_cases(planted_log(), "lost", lost="Closed Lost"))  # the same 26 cases
    assert len(lines) == int(table["significant"].sum()) == 2
    assert all(ln.startswith("*") for ln in lines)  # no q = 1 rows by default
    hidden = int((~table["significant"]).sum())
    assert hidden == len(table) - 2 > 0
    assert f"{hidden:,} attribute values that are not significant (q ≥ 0.05 or lift ≤ 1) are not shown; --all " \
           "prints them, -o writes the full table" in res.output
    everything = CliRunner().invoke(app, [*args[:-1], "--all", "--top", "100"])
    assert len([ln for ln in everything.output.splitlines() if " = " in ln]) == len(table)
