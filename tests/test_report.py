"""The audit report: numbers equal the CLI analyses, planted problems become findings, catalogues are complete."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from processmining.cli import app
from processmining.model import ACTIVITY, RESOURCE
from processmining.report.i18n import LANGUAGES, LOCALE_DIR, Texts, catalogue

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / "bpmn_models" / "lead_to_order.bpmn"
SLA = "Prospecting->Proposal/Price Quote<=30d"
STAGES = "Prospecting,Qualification,Needs Analysis,Proposal/Price Quote,Negotiation/Review,Closed Won,Order Booked"
FINAL = ["Closed Won", "Closed Lost", "Order Booked"]
FULL = ["Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won",
        "Order Booked"]


def deals_frame() -> pd.DataFrame:
    """61 deals with planted problems (the report must find each):

    - c00-c09 (owner eve): the quote comes after 40 days: late for the 30-day SLA (drivers: owner = eve);
    - c20-c24 skip Needs Analysis: a deviation from the model;
    - c40-c54 are lost right after Qualification: the drop-out stage;
    - c55-c59 stop at Needs Analysis months before the log ends: stuck (60 days idle, no end);
    - c60 starts in September so that the log runs long enough for the others to be idle.
    """
    rows = []
    for i in range(61):
        case = f"c{i:02d}"
        t = pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(days=i)
        if i == 60:
            t = pd.Timestamp("2024-09-01", tz="UTC")
        owner = "eve" if i < 10 else ("ann" if i % 2 else "bob")
        if 40 <= i < 55:
            steps = [("Prospecting", 0), ("Qualification", 2), ("Closed Lost", 5)]
        elif 55 <= i < 60:
            steps = [("Prospecting", 0), ("Qualification", 2), ("Needs Analysis", 4)]
        else:
            quote = 40 if i < 10 else 6
            offsets = [0, 2, 4, quote, quote + 3, quote + 5, quote + 6]
            steps = [(a, d) for a, d in zip(FULL, offsets, strict=True) if not (20 <= i < 25 and a == "Needs Analysis")]
        for act, d in steps:
            rows.append({"deal": case, "stage": act, "changed": (t + pd.Timedelta(days=d)).isoformat(),
                         "user": owner, "owner": owner, "amount": 1000 * (i + 1)})
    return pd.DataFrame(rows)


MAPPING = ["--case", "deal", "--activity", "stage", "--timestamp", "changed", "--resource", "user"]
ANALYSIS = ["--sla", SLA, "--idle", "60d", "--stages", STAGES, "--lost", "Closed Lost",
            *[x for f in FINAL for x in ("--final", f)]]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("report")
    csv = tmp / "deals.csv"
    deals_frame().to_csv(csv, index=False)
    runner = CliRunner()
    html = tmp / "audit.html"
    res = runner.invoke(app, ["report", str(csv), *MAPPING, *ANALYSIS, "--model", str(MODEL), "-o", str(html), "-q"])
    assert res.exit_code == 0, res.output
    bott = tmp / "bottlenecks.xlsx"
    res = runner.invoke(app, ["bottlenecks", str(csv), *MAPPING, *ANALYSIS, "-o", str(bott), "-q"])
    assert res.exit_code == 0, res.output
    dev, summary = tmp / "deviations.csv", tmp / "summary.json"
    res = runner.invoke(app, ["conform", str(csv), str(MODEL), *MAPPING, "-o", str(dev), "--summary", str(summary), "-q"])
    assert res.exit_code == 0, res.output
    return {"csv": csv, "html": html, "evidence": tmp / "audit_evidence.xlsx", "bottlenecks": bott, "deviations": dev,
            "summary": summary}


def sheet(path: Path, name: str) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name=name, dtype={"case": str, "case_id": str})


def findings_of(run: dict[str, Path], ftype: str) -> pd.DataFrame:
    f = sheet(run["evidence"], "findings")
    return f[f["type"] == ftype]


def cases_of(run: dict[str, Path], finding: str) -> set[str]:
    fc = sheet(run["evidence"], "finding_cases")
    return set(fc.loc[fc["finding"] == finding, "case"])


def test_sla_finding_equals_cli_breaches(run) -> None:
    cli = sheet(run["bottlenecks"], "sla_breaches")
    # the planted late quotes, and the stuck cases that are open and already over the limit
    assert set(cli.loc[cli["status"] == "late", "case"]) == {f"c{i:02d}" for i in range(10)}
    assert set(cli.loc[cli["status"] == "open", "case"]) == {f"c{i:02d}" for i in range(55, 60)}
    f = findings_of(run, "sla_breach")
    assert len(f) == 1
    row = f.iloc[0]
    assert row["cases"] == 15 and row["impact:late"] == sheet(run["bottlenecks"], "sla_summary")["late"].iloc[0]
    assert cases_of(run, row["finding"]) == set(cli["case"])
    # the annex carries the same breach list as the CLI
    assert sheet(run["evidence"], "sla_breaches")["case"].tolist() == cli["case"].tolist()
    # drivers: owner eve (and the same people as resource) explain the lateness
    d = sheet(run["evidence"], "drivers")
    top = d[d["finding"] == row["finding"]].iloc[0]
    assert top["value"] == "eve" and top["cases"] == 10 and top["group_cases"] == 10


def test_lost_and_stuck_equal_cli(run) -> None:
    funnel = sheet(run["bottlenecks"], "funnel").set_index("stage")
    assert funnel.loc["Qualification", "lost_here"] == 15
    lost = findings_of(run, "lost").iloc[0]
    assert lost["title:stage"] == "Qualification" and lost["cases"] == 15
    assert cases_of(run, lost["finding"]) == {f"c{i:02d}" for i in range(40, 55)}
    cli = sheet(run["bottlenecks"], "stuck_cases")
    open_idle = set(cli.loc[cli["idle_exceeded"] & cli["no_end_activity"], "case"])
    assert open_idle == {f"c{i:02d}" for i in range(55, 60)}
    stuck = findings_of(run, "stuck").iloc[0]
    assert cases_of(run, stuck["finding"]) == open_idle


def test_conformance_equals_cli(run) -> None:
    summary = json.loads(run["summary"].read_text(encoding="utf-8"))
    cli_dev = pd.read_csv(run["deviations"], dtype={"case_id": str}, comment="#")
    rep_dev = sheet(run["evidence"], "deviations")
    assert sorted(rep_dev["case_id"]) == sorted(cli_dev["case_id"])
    html = run["html"].read_text(encoding="utf-8")
    tx = Texts("en")
    assert f"<th>Fitness</th><td>{tx.num(summary['fitness'], 4)}</td>" in html
    assert f"<th>Precision</th><td>{tx.num(summary['precision'], 4)}</td>" in html
    conforming = f"{tx.num(summary['conforming_cases'])} ({tx.pct(summary['conformance_rate'])})"
    assert conforming in html
    missing = findings_of(run, "deviation")
    skip = missing[(missing["title:kind"] == "missing") & (missing["title:activity"] == "Needs Analysis")]
    assert cases_of(run, skip.iloc[0]["finding"]) == {f"c{i:02d}" for i in range(20, 25)}


def test_report_text_and_bottleneck_numbers(run) -> None:
    html = run["html"].read_text(encoding="utf-8")
    tx = Texts("en")
    rank = sheet(run["bottlenecks"], "bottlenecks")
    arcs = rank[rank["kind"] == "arc"].head(3)
    for r in arcs.itertuples():
        assert f"<td>{r.name}</td><td class=\"n\">{tx.num(r.frequency)}</td>" in html
        assert tx.pct(r.share) in html
    assert "Service level Prospecting-&gt;Proposal/Price Quote&lt;=30d is breached" in html
    assert "10 cases finished late and 5 are open and already late" in html
    assert "owner = eve" in html
    assert "sha256:" in html and "deals.csv" in html
    # no rules file: the control-rules section is left out and the annex is section 12
    for heading in ("1. Scope and data", "2. Summary of findings", "7. Conformance with the reference model",
                    "12. Evidence annex and provenance"):
        assert heading in html


def test_catalogues_complete_and_consistent() -> None:
    en = catalogue("en")
    fields = string.Formatter()
    for lang in LANGUAGES:
        cat = catalogue(lang)
        assert set(cat) == set(en), (lang, set(en) ^ set(cat))
        for key, text in en.items():
            names = {f for _, f, _, _ in fields.parse(text) if f}
            assert {f for _, f, _, _ in fields.parse(cat[key]) if f} == names, (lang, key)
    # every message id the template and the code name is in the catalogue
    used = set()
    for path in [LOCALE_DIR.parent / "templates" / "report.html.j2", *LOCALE_DIR.parent.glob("*.py")]:
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_.]+)["']""", path.read_text(encoding="utf-8")))
    assert used and used <= set(en), used - set(en)


def _visible_words(html: str) -> list[str]:
    html = re.sub(r"<style.*?</style>|<svg.*?</svg>|<code>.*?</code>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    text = re.sub(r"\S*[_./@:]\S*", " ", text)  # identifiers, file and sheet names, SLA texts
    return re.findall(r"[A-Za-z]{4,}", text)


@pytest.fixture(scope="module")
def built():
    import tempfile

    from processmining.bpmn import read_bpmn
    from processmining.ingest import read_log
    from processmining.model import ColumnMapping
    from processmining.report.build import build_report

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "deals.csv"
        deals_frame().to_csv(path, index=False)
        log = read_log(path, mapping=ColumnMapping(case="deal", activity="stage", timestamp="changed", resource="user"))
    rep = build_report(log, model=read_bpmn(MODEL), slas=[SLA], stages=STAGES.split(","), lost="Closed Lost",
                       idle="60d", end_activities=FINAL)
    return log, rep


@pytest.mark.parametrize("lang", ["pl", "ru"])
def test_no_english_leftovers(built, lang) -> None:
    from processmining.report.html import render_html

    log, rep = built

    def words(texts) -> set[str]:
        return {w.lower() for text in texts for w in re.findall(r"[A-Za-z]{4,}", re.sub(r"\{\w+\}", " ", str(text)))}

    # words that are the log's own data (activities, people, column names, sheet names of the annex) stay as they are
    data = words(pd.unique(log.df[[ACTIVITY, RESOURCE, "owner"]].astype(str).values.ravel())) | words(log.df.columns)
    data |= words(rep.tables)
    # an English word the target language uses as well (pl "Model", "limit", "start"; "fitness") is not a leftover
    english = words(catalogue("en").values()) - data - words(catalogue(lang).values())
    html = render_html(rep, lang=lang)
    leftovers = sorted({w for w in _visible_words(html) if w.lower() in english})
    assert leftovers == []
    tx = Texts(lang)
    assert tx.t("h.conformance") in html and tx.t("rec.sla_breach") in html
    # numbers follow the language: Polish and Russian use a comma as the decimal sign
    assert tx.num(1234.5, 1) in ("1\xa0234,5", "1 234,5", "1\u202f234,5")
    # the map's start / end labels are translated
    assert f">{tx.t('map.start')}<" in html


def test_pseudonymized_report_hides_ids(tmp_path, run) -> None:
    html = tmp_path / "p.html"
    res = CliRunner().invoke(app, ["report", str(run["csv"]), *MAPPING, *ANALYSIS, "--pseudonymize", "k3y",
                                   "-o", str(html), "-q"])
    assert res.exit_code == 0, res.output
    text = html.read_text(encoding="utf-8")
    assert not re.search(r"\b(c03|eve|ann|bob)\b", text) and "case-" in text and "res-" in text
    fc = sheet(tmp_path / "p_evidence.xlsx", "finding_cases")
    assert fc["case"].str.startswith("case-").all()


#: names planted in free text and people columns: none may survive a pseudonymised report or annex
PLANTED = ("Nakatomi", "Hans Gruber", "Holly Gennero", "Greta Moreau", "Ana Yilmaz", "Takagi")


def test_pseudonymized_report_and_annex_name_nobody_in_free_text(tmp_path) -> None:
    df = deals_frame()
    i = df["deal"].str[1:].astype(int)
    # HubSpot's "Deal Name" names the customer and a contact; a Jira-like summary names a person and marks
    # exactly the late deals (the driver analysis would rank it, as it ranked Jira summaries before this test);
    # "Deal owner" holds full names that are not the resources (user); "next step" is unnamed free text
    df["Deal Name"] = "Nakatomi Trading " + i.astype(str) + " - renewal (Hans Gruber)"
    df["summary"] = i.map(lambda k: "Call back Holly Gennero" if k < 10 else "Routine renewal")
    df["Deal owner"] = i.map(lambda k: "Greta Moreau" if k % 2 else "Ana Yilmaz")
    df["next step"] = "send the quote to Takagi for deal " + i.astype(str)
    df["priority"] = i.map(lambda k: "High" if k < 30 else "Low")
    csv = tmp_path / "named.csv"
    df.to_csv(csv, index=False)
    html = tmp_path / "named.html"
    res = CliRunner().invoke(app, ["report", str(csv), *MAPPING, *ANALYSIS, "--model", str(MODEL), "--pseudonymize",
                                   "k3y", "-o", str(html), "-q"])
    assert res.exit_code == 0, res.output
    text = html.read_text(encoding="utf-8")
    assert [n for n in PLANTED if n in text] == []
    assert not re.search(r"\b(c03|eve|ann|bob)\b", text)
    # the scope says what was hashed and what was left out
    assert ("Left out of the report and annex as free text that may name people or customers: "
            "Deal Name, summary, next step.") in text
    assert "columns: case:concept:name, org:resource, owner, Deal owner." in text
    book = pd.read_excel(tmp_path / "named_evidence.xlsx", sheet_name=None, header=None)
    cells = {str(v) for frame in book.values() for v in frame.to_numpy().ravel() if pd.notna(v)}
    assert [n for n in PLANTED if any(n in c for c in cells)] == []
    # the categorical column is kept (a driver may use it), the owner full names are pseudonyms
    prov = dict(book["provenance"].dropna().to_numpy()[:, :2])
    assert "left out as free text that may name people or customers: Deal Name, summary, next step" in \
        prov["parameters.pseudonymization"]


def test_report_cli_errors(tmp_path, run) -> None:
    res = CliRunner().invoke(app, ["report", str(run["csv"]), *MAPPING, "-o", str(tmp_path / "a.docx")])
    assert res.exit_code == 2 and "error: -o must end in .html or .pdf, got 'a.docx'" in res.output
    res = CliRunner().invoke(app, ["report", str(run["csv"]), *MAPPING, "--lang", "de", "-o", str(tmp_path / "a.html")])
    assert res.exit_code == 2 and "error: --lang must be one of en, pl, ru, got 'de'" in res.output


def test_findings_without_cases_say_what_they_count() -> None:
    """A finding about the organisation (work resting on one person) names its unit and has no case count."""
    from processmining.report.findings import Finding
    from processmining.report.html import finding_text

    unit = ("unit", "activities")
    f = Finding(type="people_spof", section="people", severity="low", severity_rule="sev.quality",
                severity_params={"check": ("check", "resource_concentration")},
                title_params={"check": ("check", "resource_concentration"), "count": ("num", 10), "unit": unit},
                case_ids=[], share=0.0, evidence_sheet="quality",
                impact_params={"cases": ("num", 0), "units": ("num", 10), "unit": unit}, case_based=False)
    en, pl = Texts("en"), Texts("pl")
    assert finding_text(en, f, "title") == "Single point of dependency: work concentrated on one person (activities: 10)"
    assert finding_text(en, f, "impact") == ("Not about single cases (the organisation); activities that depend on "
                                             "one person: 10.")
    assert finding_text(en, f, "severity") == "Severity of the data-quality check “work concentrated on one person”."
    assert finding_text(pl, f, "title").endswith("(czynności: 10)")
    # a data-quality finding about the whole log (attribute completeness) says so instead of "0 cases affected"
    q = Finding(type="quality", section="quality", severity="medium", severity_rule="sev.quality",
                severity_params={}, title_params={}, case_ids=[], share=0.0, evidence_sheet="quality",
                impact_params={"cases": ("num", 0), "units": ("num", 7), "unit": ("unit", "attributes")},
                case_based=False)
    assert finding_text(en, q, "impact") == "Not about single cases (the log as a whole); attributes: 7."


def test_trend_chart_period_labels_do_not_overlap() -> None:
    from processmining.report.compare import trend_svg

    tr = pd.DataFrame({"period": [f"2006-{m:02d}" for m in range(1, 13)] + ["2007-01", "2007-02"],
                       "median_cycle_s": [float(i) for i in range(14)]})
    svg = trend_svg(tr, "median_cycle_s")
    # 572 px of plot width hold 10 labels of ~56 px: every second of the 14 periods is labelled
    assert re.findall(r">(\d{4}-\d\d)</text>", svg) == ["2006-01", "2006-03", "2006-05", "2006-07", "2006-09",
                                                         "2006-11", "2007-01"]


def test_trend_chart_of_a_constant_series_has_one_value() -> None:
    from processmining.report.compare import trend_svg

    tr = pd.DataFrame({"period": ["2024-01", "2024-02", "2024-03"], "conformance_rate": [1.0, 1.0, 1.0]})
    svg = trend_svg(tr, "conformance_rate", fmt=lambda v: f"{v:.0%}")
    # receipt.xes.gz conforms 100 % every month: the axis said 100 % .. 200 % before
    assert re.findall(r'text-anchor="end">([^<]+)</text>', svg) == ["100%"]


def test_two_findings_of_one_quality_check_have_their_own_titles() -> None:
    # sepsis: incomplete_cases reports cases without an end (123) and without a start (55), both were titled
    # "incomplete cases"
    from processmining.report.sections import _check_label

    assert _check_label("incomplete_cases", {"kind": "no end"}) == "incomplete_cases.no_end"
    assert _check_label("incomplete_cases", {"kind": "no start"}) == "incomplete_cases.no_start"
    assert _check_label("impossible_durations", {"kind": "case too long"}) == "impossible_durations.case_too_long"
    assert _check_label("duplicate_events", {}) == "duplicate_events"
    assert Texts("ru").t("check.incomplete_cases.no_end") == "случаи без конечного действия"


def test_sub_statuses_in_the_lifecycle_column_are_named() -> None:
    # BPIC 2013 keeps its sub-status ("In Progress", "Wait") in lifecycle:transition: the report says why an
    # activity then repeats; standard XES transitions (start, complete) are not mentioned
    from processmining.model import CASE, LIFECYCLE, TIMESTAMP, EventLog
    from processmining.report.sections import _lifecycle_other

    t = pd.Timestamp("2024-01-01", tz="UTC")
    rows = [("i1", "Accepted", t, "In Progress"), ("i1", "Accepted", t + pd.Timedelta(hours=1), "Wait"),
            ("i1", "Completed", t + pd.Timedelta(hours=2), "Closed"), ("i2", "Accepted", t, "In Progress"),
            ("i2", "Completed", t + pd.Timedelta(hours=3), "complete")]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP, LIFECYCLE]), name="i.xes")
    assert _lifecycle_other(log) == {"n": 3, "events": 4, "examples": "In Progress, Closed, Wait"}
    standard = EventLog.from_frame(log.df.assign(**{LIFECYCLE: "complete"}), name="c.xes")
    assert _lifecycle_other(standard) is None


def test_funnel_by_resource_segments_by_who_opened_the_case() -> None:
    # ann opens d1-d3 (two won), bob d4-d5 (both lost); "ops" books every won order: by "cases touched" ops would
    # show a conversion of 100 %, by the first event it is no segment at all
    from processmining.model import CASE, TIMESTAMP, EventLog
    from processmining.report.sections import _funnel_segments

    t = pd.Timestamp("2024-01-01", tz="UTC")
    rows = []
    for i, (who, won) in enumerate([("ann", True), ("ann", True), ("ann", False), ("bob", False), ("bob", False)]):
        steps = [("Prospecting", who), ("Qualification", who)]
        steps += [("Closed Won", who), ("Order Booked", "ops")] if won else [("Closed Lost", who)]
        rows += [(f"d{i + 1}", act, t + pd.Timedelta(days=i * 10 + k), res) for k, (act, res) in enumerate(steps)]
    log = EventLog.from_frame(pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP, RESOURCE]), name="d.csv")
    seg = _funnel_segments(log, ["Prospecting", "Qualification", "Closed Won", "Order Booked"], "Closed Lost")
    assert seg[["value", "cases", "reached_last", "lost"]].values.tolist() == [["ann", 3, 2, 1], ["bob", 2, 0, 2]]
    assert seg["conversion"].tolist() == [pytest.approx(2 / 3), 0.0]
    assert seg["by_first_event"].all()


def test_report_and_conform_share_one_provenance_builder(run) -> None:
    # model.log_provenance: the log as input "log" (its name and hash), its transformations as "log_history"
    conform = json.loads(run["summary"].read_text(encoding="utf-8"))["provenance"]
    annex = sheet(run["evidence"], "provenance")
    report = dict(zip(annex.iloc[:, 0], annex.iloc[:, 1], strict=True))
    assert conform["inputs"]["log"] == report["inputs.log"]
    assert re.fullmatch(r"deals\.csv sha256:[0-9a-f]{64}", conform["inputs"]["log"])
    assert conform["parameters"]["log_history"] == [] and report["parameters.log_history"] == "[]"
