"""Column-wise timestamp parsing: formats, offsets, time zones, ambiguity, bad values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from processmining.errors import IngestError
from processmining.ingest.timestamps import IMPOSSIBLE, UNRECOGNISED, parse_timestamps


def utc(values, **kw) -> list[str | None]:
    r = parse_timestamps(pd.Series(values, dtype="object"), column="t", **kw)
    return [None if pd.isna(v) else v.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] for v in r.values]


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-03-01T09:15:02.000Z", "2024-03-01 09:15:02.000"),        # Salesforce API
    ("2024-03-01T10:02:11.431+0100", "2024-03-01 09:02:11.431"),    # Jira: offset without colon
    ("2024-03-01T10:02:11+01:00", "2024-03-01 09:02:11.000"),
    ("2024-03-01 09:20:11", "2024-03-01 09:20:11.000"),              # ServiceNow, naive
    ("2024-03-01 09:15", "2024-03-01 09:15:00.000"),                 # HubSpot export
    ("1709284502", "2024-03-01 09:15:02.000"),                       # epoch seconds
    ("1709284502000", "2024-03-01 09:15:02.000"),                    # epoch milliseconds
    ("45383.5", "2024-04-01 12:00:00.000"),                          # Excel serial
    ("01/Mar/24 10:02 AM", "2024-03-01 10:02:00.000"),               # Jira CSV
    ("Mar 1, 2024 9:15 PM", "2024-03-01 21:15:00.000"),
    ("2024/03/01 09:15", "2024-03-01 09:15:00.000"),
    ("12/04/2024 12:30 AM", "2024-04-12 00:30:00.000"),              # 12 AM is midnight
])
def test_single_formats(text, expected):
    # a lone numeric d/m value is only unambiguous when the day is > 12 or equals the month
    assert utc([text], dayfirst=True) == [expected]


def test_locale_month_first_with_am_pm():
    # Salesforce report export in a US locale; 3/13 decides month-first
    assert utc(["3/1/2024 9:15 AM", "3/13/2024 5:40 PM"]) == ["2024-03-01 09:15:00.000", "2024-03-13 17:40:00.000"]


def test_bad_values_are_reported_per_row_and_do_not_spoil_the_column():
    r = parse_timestamps(pd.Series(["2024-03-01T10:00:00Z", "2024-02-30T10:00:00Z", "garbage", None, "  ",
                                    "31/02/2024", "2024-03-01 25:00"]), column="t", dayfirst=True)
    assert r.errors.tolist()[:3] == [pd.NA, IMPOSSIBLE, UNRECOGNISED]
    assert r.errors.isna().tolist()[3:5] == [True, True]          # blanks are not errors: missing, not bad
    assert r.errors.tolist()[5] == IMPOSSIBLE
    assert r.values.notna().tolist() == [True, False, False, False, False, False, False]


def test_naive_times_take_the_declared_zone_including_dst():
    # 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer
    assert utc(["2024-01-15 09:00", "2024-07-15 09:00"], timezone="Europe/Berlin") == [
        "2024-01-15 08:00:00.000", "2024-07-15 07:00:00.000"]
    # the spring-forward gap (02:30 does not exist) is read with the offset before the gap (= 03:30 CEST),
    # so times inside the gap keep their distance instead of all becoming 03:00 (issue 11); it is counted
    assert utc(["2024-03-31 02:30"], timezone="Europe/Berlin") == ["2024-03-31 01:30:00.000"]


def test_offsets_are_not_touched_by_the_declared_zone():
    assert utc(["2024-01-15T09:00:00+01:00"], timezone="America/New_York") == ["2024-01-15 08:00:00.000"]


def test_warnings_count_naive_mixed_and_date_only_values():
    r = parse_timestamps(pd.Series(["2024-03-01T10:00:00Z", "2024-03-02", "2024-03-03 10:00"]), column="Created")
    assert r.warnings == [
        "column 'Created' mixes 1 timestamps with a UTC offset and 2 without; those without were read as UTC",
        "column 'Created': 1 values are dates without a time of day (read as 00:00)",
    ]
    assert (r.naive, r.with_offset) == (2, 1)


def test_ambiguous_column_names_the_first_ambiguous_line():
    with pytest.raises(IngestError) as exc:
        parse_timestamps(pd.Series(["01/01/2024", "02/03/2024"]), column="When", rows=np.array([7, 9]),
                         source="e.csv")
    # 01/01 reads the same both ways; 02/03 on line 9 does not
    assert str(exc.value).startswith("e.csv, line 9, column 'When': ambiguous date '02/03/2024'")


def test_same_day_and_month_everywhere_needs_no_choice():
    assert utc(["01/01/2024", "05/05/2024"]) == ["2024-01-01 00:00:00.000", "2024-05-05 00:00:00.000"]


def test_large_column_is_parsed_column_wise():
    n = 50_000
    values = pd.Series(pd.date_range("2024-01-01", periods=n, freq="min").strftime("%d/%m/%Y %H:%M"))
    values.iloc[123] = "garbage"
    r = parse_timestamps(values, column="t")
    assert int(r.values.isna().sum()) == 1
    assert r.values.iloc[-1] == pd.Timestamp("2024-02-04 17:19", tz="UTC")
