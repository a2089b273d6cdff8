"""``--lifecycle`` (the shared LOG flags): how start / complete events are read, on a real start/complete log."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

import processmining.cli


def run(*args: str):
    return CliRunner().invoke(processmining.cli.app, list(args))


LIFECYCLE_REPORT = {"instances": {"instances": 2278, "paired": 1452, "complete_only": 826, "start_only": 0},
                    "events": {}, "classifier": {"classifier": 3730}}


@pytest.mark.parametrize(("mode", "events", "self_loops"), [("instances", 2278, 0), ("events", 3730, 1452),
                                                              ("classifier", 3730, 0)])
def test_convert_reviewing_per_lifecycle_mode(shared_datasets, tmp_path, mode, events, self_loops):
    # reviewing.xes.gz: 100 cases, 3,730 events; 1,452 start/complete pairs + 826 completes without a start
    out, rep = tmp_path / "log.csv", tmp_path / "report.json"
    result = run("convert", str(shared_datasets / "real" / "reviewing.xes.gz"), "--lifecycle", mode,
                 "-o", str(out), "--report", str(rep))
    assert result.exit_code == 0, result.output
    assert f"({events:,} events, 100 cases)" in result.stdout
    df = pd.read_csv(out)
    assert len(df) == events
    # a start directly followed by its complete is an X -> X step when the pairs are kept as two events
    same = (df["concept:name"] == df.groupby("case:concept:name")["concept:name"].shift())
    assert int(same.sum()) == self_loops
    report = json.loads(rep.read_text())
    assert report["events"] == events and report["rows_read"] == 3730
    assert report.get("lifecycle", {}) == LIFECYCLE_REPORT[mode]
    named = df["concept:name"].str.endswith(("+start", "+complete"))
    assert int(named.sum()) == (3730 if mode == "classifier" else 0)


def test_lifecycle_flag_is_documented_and_checked():
    result = run("discover", "--help")
    assert "--lifecycle" in result.output and "classifier" in result.output
    bad = run("convert", "x.xes", "--lifecycle", "pairs")
    assert bad.exit_code == 2
    assert "'pairs' is not one of 'instances', 'classifier', 'events'" in bad.output
