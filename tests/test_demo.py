"""The demo generator: determinism, the large benchmark generators, and the ``processmining demo`` command."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import processmining.cli
from processmining.demo import (
    FILES,
    GROUND_TRUTH_FILE,
    generate_demo,
    generate_sales_field_history,
    generate_sales_log,
    load_ground_truth,
    write_demo,
)
from processmining.demo.clock import scalar_snap, snap_to_business_hours
from processmining.demo.people import salesforce_checksum
from processmining.model import ACTIVITY, CASE, ORDER, RESOURCE, TIMESTAMP, EventLog


# ------------------------------------------------------------------ determinism
def test_same_seed_same_bytes_and_other_seed_other_bytes():
    a, _ = generate_demo(seed=3, scale=0.1)
    b, _ = generate_demo(seed=3, scale=0.1)
    c, _ = generate_demo(seed=4, scale=0.1)
    assert a.keys() == {*FILES.values(), GROUND_TRUTH_FILE}
    assert a == b
    assert all(a[name] != c[name] for name in a)


def test_write_demo_writes_the_four_files(tmp_path):
    paths = write_demo(tmp_path / "out", seed=5, scale=0.05)
    assert {k: p.name for k, p in paths.items()} == {**FILES, "ground_truth": GROUND_TRUTH_FILE}
    truth = load_ground_truth(paths["ground_truth"])
    # scale 0.05: 100 opportunities, 50 deals, 75 tickets
    assert {k: v["cases"] for k, v in truth["logs"].items()} == {"salesforce": 100, "hubspot": 50, "jira": 75}
    assert truth["seed"] == 5 and truth["scale"] == 0.05
    issues = json.loads(paths["jira"].read_text(encoding="utf-8"))["issues"]
    assert len(issues) == 75 and issues[0]["key"] == "SUP-101"


def test_load_ground_truth_refuses_other_json(tmp_path):
    other = tmp_path / "x.json"
    other.write_text('{"logs": {}}', encoding="utf-8")
    with pytest.raises(ValueError, match="not a processmining demo ground-truth file"):
        load_ground_truth(other)


# ------------------------------------------------------------------ clock helpers
def test_business_hours_snapping():
    rng = np.random.default_rng(0)
    t = np.array(["2024-03-01T19:00:00",   # Friday evening -> Monday morning
                  "2024-03-02T10:00:00",   # Saturday -> Monday morning
                  "2024-03-04T07:00:00",   # Monday before opening -> same Monday
                  "2024-03-04T09:00:00"],  # inside office hours -> unchanged
                 dtype="datetime64[s]")
    out = snap_to_business_hours(t, rng)
    assert [str(x)[:10] for x in out] == ["2024-03-04"] * 4
    assert out[3] == t[3]
    assert all(np.datetime64("2024-03-04T08:00:00") <= x < np.datetime64("2024-03-04T09:30:00") for x in out[:3])
    assert [str(scalar_snap(x, rng))[:10] for x in t] == ["2024-03-04"] * 4



def test_snapping_skips_office_closed_days():
    rng = np.random.default_rng(0)
    # Christmas Eve (closed), 2024-12-25/26 (closed), then Friday 27th; 1 May (closed) -> 2 May
    t = np.array(["2024-12-24T10:00:00", "2024-05-01T09:00:00", "2024-04-30T19:00:00"], dtype="datetime64[s]")
    assert [str(x)[:10] for x in snap_to_business_hours(t, rng)] == ["2024-12-27", "2024-05-02", "2024-05-02"]
    assert [str(scalar_snap(x, rng))[:10] for x in t] == ["2024-12-27", "2024-05-02", "2024-05-02"]


def test_salesforce_checksum_matches_known_ids():
    # the ids in Salesforce's documentation examples
    assert salesforce_checksum("006Hs00000XyZ12") == "IAF"
    assert salesforce_checksum("005Hs000001AaBb") == "IAK"


# ------------------------------------------------------------------ benchmark generators
def test_generate_sales_log_exact_size_canonical_and_deterministic():
    df = generate_sales_log(20_000, seed=11)
    assert len(df) == 20_000
    assert list(df.columns) == [CASE, ACTIVITY, TIMESTAMP, RESOURCE, "case:Amount", "case:Discount__c", ORDER]
    assert str(df[TIMESTAMP].dt.tz) == "UTC"
    assert df[ORDER].tolist() == list(range(20_000))
    assert set(df[ACTIVITY]) <= {"Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote",
                                 "Discount Approval", "Negotiation/Review", "Closed Won", "Closed Lost",
                                 "Order Booked"}
    # grouped by case, strictly increasing times within each case, every case starts at Prospecting
    assert df.groupby(CASE, sort=False)[TIMESTAMP].apply(lambda s: s.is_monotonic_increasing).all()
    assert (df.groupby(CASE, sort=False)[ACTIVITY].first() == "Prospecting").all()
    assert (df[CASE] != df[CASE].shift(fill_value="")).sum() == df[CASE].nunique()
    # a case attribute is constant within its case; discounts only where a quote was made
    assert df.groupby(CASE)["case:Amount"].nunique().eq(1).all()
    quoted = df.groupby(CASE)[ACTIVITY].agg(lambda s: "Proposal/Price Quote" in set(s))
    has_discount = df.groupby(CASE)["case:Discount__c"].first().notna()
    assert (has_discount[quoted.index[quoted]]).all()
    assert pd.testing.assert_frame_equal(df, generate_sales_log(20_000, seed=11)) is None
    assert EventLog.from_frame(df).n_events == 20_000


def test_generate_sales_log_rejects_nonsense():
    with pytest.raises(ValueError, match="n_events must be at least 1"):
        generate_sales_log(0)


def test_generate_sales_field_history_layout_and_truth():
    rows, truth = generate_sales_field_history(4000, seed=2)
    assert list(rows.columns) == ["OpportunityId", "Field", "DataType", "OldValue", "NewValue", "CreatedById",
                                  "CreatedDate"]
    assert (rows["Field"] == "created").sum() == 4000
    assert rows["CreatedDate"].is_monotonic_increasing  # a Data Loader export sorted by CreatedDate
    lt = truth.logs["salesforce"]
    # planted kinds scale exactly with the number of opportunities
    assert {k: len(p.cases) for k, p in lt.planted.items()} == {
        "skipped_approval": 60, "sod_breach": 40, "wrong_order": 40, "backward_move": 80, "sla_breach": 80,
        "order_without_won": 30, "stuck_open": 80}
    assert lt.cases("sod_breach") == set(lt.planted["sod_breach"].details)
    with pytest.raises(KeyError, match="no planted kind or imperfection 'nope'"):
        lt.cases("nope")
    stage = rows[rows["Field"] == "StageName"]
    assert len(stage) - lt.imperfections["export_artefacts"].extra["rows"] == lt.n_events - 4000


# ------------------------------------------------------------------ CLI
def test_cli_demo_writes_exports_and_event_logs(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(processmining.cli.app, ["demo", str(out), "--scale", "0.05", "--seed", "9",
                                                        "--format", "exports", "--format", "csv"])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([*FILES.values(), GROUND_TRUTH_FILE, "salesforce_opportunity_field_history_log.csv",
                            "hubspot_deals_log.csv", "jira_changelog_log.csv"])
    canonical = pd.read_csv(out / "jira_changelog_log.csv", dtype=str)
    assert {CASE, ACTIVITY, TIMESTAMP}.issubset(canonical.columns)
    assert canonical[CASE].nunique() == 75
    assert re.search(r"wrote .*jira_changelog_log\.csv \(\d[\d,]* events, 75 cases\)", result.output)
    files, _ = generate_demo(seed=9, scale=0.05)
    assert (out / FILES["jira"]).read_bytes() == files[FILES["jira"]]


def test_cli_demo_bad_options_are_one_line_errors(tmp_path):
    runner = CliRunner()
    bad_format = runner.invoke(processmining.cli.app, ["demo", str(tmp_path), "--format", "pdf"])
    assert bad_format.exit_code == 2
    assert "--format 'pdf' is not known; use exports, xes, xes.gz, csv, parquet" in bad_format.output
    bad_scale = runner.invoke(processmining.cli.app, ["demo", str(tmp_path), "--scale", "-1"])
    assert bad_scale.exit_code == 2
    assert "--scale must be a positive number, got -1.0" in bad_scale.output
    a_file = tmp_path / "f.txt"
    a_file.write_text("x", encoding="utf-8")
    not_dir = runner.invoke(processmining.cli.app, ["demo", str(a_file)])
    assert not_dir.exit_code == 2 and "exists and is not a folder" in not_dir.output
