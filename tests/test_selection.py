"""processmining.selection: numeric ranges, one case in detail, the dotted chart."""

from __future__ import annotations

import pandas as pd
import pytest

from processmining import selection
from processmining.errors import AnalysisError
from processmining.model import ACTIVITY, CASE, TIMESTAMP, EventLog

T0 = pd.Timestamp("2024-03-01", tz="UTC")


def deals() -> EventLog:
    """Three deals: amounts 500, 5,000 and none (text in the export, as CRMs write it)."""
    rows = [("D1", "Open", 0, "500"), ("D1", "Won", 24, "500"),
            ("D2", "Open", 1, "5000"), ("D2", "Lost", 49, "5000"),
            ("D3", "Open", 2, None), ("D3", "Won", 3, None)]
    df = pd.DataFrame([(c, a, T0 + pd.Timedelta(hours=h), v) for c, a, h, v in rows],
                      columns=[CASE, ACTIVITY, TIMESTAMP, "case:Amount"])
    return EventLog.from_frame(df, name="deals.csv")


def test_numeric_columns_read_numbers_written_as_text() -> None:
    assert selection.numeric_columns(deals()) == ["case:Amount"]


def test_cases_in_a_numeric_range() -> None:
    log = deals()
    big = selection.filter_numeric_range(log, "case:Amount", low=1000)
    assert sorted(big.df[CASE].unique()) == ["D2"]
    assert big.history[-1] == "filter: cases with case:Amount >= 1000"
    small = selection.filter_numeric_range(log, "case:Amount", high=1000, keep=False)
    assert sorted(small.df[CASE].unique()) == ["D2", "D3"]  # D3 has no amount: never in a range
    with pytest.raises(AnalysisError, match="no column 'case:Nope'"):
        selection.filter_numeric_range(log, "case:Nope", low=1)


def test_one_case_in_detail() -> None:
    ev = selection.case_events(deals(), "D2")
    assert ev[ACTIVITY].tolist() == ["Open", "Lost"]
    assert ev["since_start_s"].tolist() == [0.0, 48 * 3600.0]
    assert selection.case_attributes(deals(), "D2") == {"case:Amount": "5000"}
    with pytest.raises(AnalysisError, match="no case 'D9'"):
        selection.case_events(deals(), "D9")


def test_dotted_chart_rows_by_case_start_and_sampling() -> None:
    dots, total = selection.dotted_chart(deals())
    assert total == 3 and dots.groupby("case")["row"].first().to_dict() == {"D1": 0, "D2": 1, "D3": 2}
    sample, total = selection.dotted_chart(deals(), max_cases=2)
    assert total == 3 and sample["case"].nunique() == 2 and sorted(sample["row"].unique()) == [0, 1]
