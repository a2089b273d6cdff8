"""The app's session switches: pseudonymised downloads (issue #11) and the editable end activities (issue #10).

AppTest on the five-ticket log of ``test_app`` (case ids ``T1``..``T5``,
resources ``agent0`` / ``agent1``) and a four-task BPMN model built here.
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import pandas as pd
import pytest
from test_app import app_with, small_log, texts

from app_pages import _state as app_state
from processmining.pseudonyms import pseudonym

NS = 'xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"'
#: the tickets' main path: T4 (ping-pong) and T5 (skips the support line) deviate
MODEL = (f'<?xml version="1.0"?><definitions {NS} id="d"><process id="P"><startEvent id="s"/>'
         '<task id="open" name="Open"/><task id="l1" name="1st Line Support"/><task id="res" name="Resolved"/>'
         '<task id="closed" name="Closed"/><endEvent id="e"/>'
         + "".join(f'<sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>' for i, (a, b) in enumerate(
             [("s", "open"), ("open", "l1"), ("l1", "res"), ("res", "closed"), ("closed", "e")]))
         + "</process></definitions>").encode()
#: a case id or a resource of the log standing as a word (not "01T10:00" inside a timestamp)
NAMES = re.compile(r"(?<![\w-])(T[1-5]|agent[01])(?![\w-])")
KEY = "session-key"


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict:
    """File name -> bytes of every download button drawn (built at once, or deferred and built here)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    seen: dict = {}
    add, add_deferred = MediaFileManager.add, MediaFileManager.add_deferred

    def spy(self, data, mimetype, coordinates, file_name=None, **kw):  # noqa: ANN001
        if file_name:
            seen[file_name] = data
        return add(self, data, mimetype, coordinates, file_name, **kw)

    def spy_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kw):  # noqa: ANN001
        seen[file_name] = data_callable
        return add_deferred(self, data_callable, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add", spy)
    monkeypatch.setattr(MediaFileManager, "add_deferred", spy_deferred)
    return seen


def as_text(name: str, data: object) -> str:
    """Everything a file holds, as text: XLSX / ZIP members unpacked, Parquet read back with its metadata."""
    raw = data() if callable(data) else data
    raw = raw.encode() if isinstance(raw, str) else bytes(raw)
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(raw))
        meta = {k.decode(): v.decode(errors="replace") for k, v in (table.schema.metadata or {}).items()}
        return table.to_pandas().to_csv() + json.dumps(meta) + " ".join(table.column_names)
    if name.endswith(".xlsx"):  # the cell values (the XML's cell references "T1" are not data)
        sheets = pd.read_excel(io.BytesIO(raw), sheet_name=None, header=None)
        return "\n".join(f"{sheet}\n{frame.to_csv()}" for sheet, frame in sheets.items())
    if name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            return "\n".join(z.read(n).decode("utf-8", errors="replace") for n in z.namelist())
    return raw.decode("utf-8", errors="replace")


def _with_model(at):  # noqa: ANN001, ANN202 - AppTest in, AppTest out
    at.switch_page("app_pages/conformance.py").run()
    at.radio(key="keep_cf_source").set_value("Upload a BPMN file").run()
    at.file_uploader(key="cf_upload").upload("tickets.bpmn", MODEL, "application/xml").run()
    return at


def _visit_everything(at, downloads: dict) -> dict[str, str]:  # noqa: ANN001
    """Every page that offers a download, each download's content as text."""
    at.switch_page("app_pages/quality.py").run()
    at.switch_page("app_pages/bottlenecks.py").run()
    _with_model(at)
    at.button(key="cf_run").click().run()
    assert not at.exception and "Deviating cases" in {m.label for m in at.metric}
    at.switch_page("app_pages/report.py").run()
    at.button(key="rp_build").click().run()
    assert not at.exception
    return {name: as_text(name, data) for name, data in downloads.items()}


def test_no_case_id_or_resource_survives_in_any_download_when_pseudonymisation_is_on(downloads: dict) -> None:
    at = app_with(small_log())
    at.session_state[app_state.PSEUDO_ON] = True
    at.session_state[app_state.PSEUDO_KEY] = KEY
    files = _visit_everything(at.run(), downloads)
    # the downloads of the quality, bottleneck, conformance and report pages, the fixed log and the workspace
    for expected in ("tickets.csv.log.csv", "tickets.csv.log.parquet", "tickets.csv.quality.json",
                     "tickets.csv.quality.html", "tickets.csv.bottlenecks.xlsx", "tickets.csv.bottlenecks.zip",
                     "tickets.csv.bottlenecks.json", "tickets.csv.deviations.csv", "tickets.csv.deviations.xlsx",
                     "tickets.csv.deviations.json", "tickets.csv.audit.en.html", "tickets.csv.evidence.xlsx",
                     "processmining-workspace.json"):
        assert expected in files, sorted(files)
    leaks = {name: sorted(set(NAMES.findall(text))) for name, text in files.items() if NAMES.search(text)}
    assert leaks == {}
    # and they carry the pseudonyms the CLI's --pseudonymize gives with the same key
    t4 = pseudonym("T4", KEY, prefix="case-")
    assert t4 in files["tickets.csv.deviations.csv"] and t4 in files["tickets.csv.log.csv"]
    assert pseudonym("agent1", KEY, prefix="res-") in files["tickets.csv.log.csv"]
    deviations = pd.read_csv(io.StringIO(files["tickets.csv.deviations.csv"]))
    assert sorted(deviations["case_id"].unique()) == sorted([t4, pseudonym("T5", KEY, prefix="case-")])


def test_without_pseudonymisation_the_same_downloads_name_the_cases(downloads: dict) -> None:
    at = app_with(small_log()).run()
    at.switch_page("app_pages/quality.py").run()
    _with_model(at)
    at.button(key="cf_run").click().run()
    files = {name: as_text(name, data) for name, data in downloads.items()}
    assert sorted(pd.read_csv(io.StringIO(files["tickets.csv.deviations.csv"]))["case_id"].unique()) == ["T4", "T5"]
    assert {"T1", "T5", "agent0", "agent1"} <= set(NAMES.findall(files["tickets.csv.log.csv"]))


def test_edited_end_activities_change_the_case_status_on_every_page() -> None:
    at = app_with(small_log()).run()
    at.switch_page("app_pages/bottlenecks.py").run()
    # inferred from the data: every ticket ends with Closed
    assert at.multiselect(key="status_ends").value == ["Closed"]
    assert "End activities inferred from the data" in texts(at)
    at.text_input(key="keep_bn_idle").set_value("1h").run()
    assert "5 finished cases: finished = last event is Closed (given); stuck = running and no event for more " \
           "than 60 minutes." in texts(at)
    assert "**0 stuck cases**" in texts(at)
    # an analyst says a ticket is done once Resolved: now no ticket ended; the four idle over an hour are stuck
    at.multiselect(key="status_ends").set_value(["Resolved"]).run()
    assert "End activities edited by you." in texts(at)
    assert "1 running, 4 stuck cases" in texts(at)
    stuck = next(d.value for d in at.dataframe if "idle (days)" in d.value.columns)
    assert sorted(stuck["case"]) == ["T1", "T2", "T3", "T4"]
    # the Cases page shows the same list and status
    at.switch_page("app_pages/cases.py").run()
    assert at.multiselect(key="status_ends").value == ["Resolved"]
    assert {m.label: m.value for m in at.metric}["Status"] == "stuck"  # T1, the first case
    # conformance checks the (now running) cases as prefixes, the report uses the list
    _with_model(at)
    assert "5 running cases (not ended by Resolved) are checked as prefixes" in texts(at)
    at.switch_page("app_pages/report.py").run()
    assert "Finished cases end with Resolved (change it on the Bottlenecks or Cases page)." in texts(at)
