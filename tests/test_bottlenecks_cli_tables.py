"""The bottlenecks CLI prints arcs and "waiting before" rows as separate tables, each with shares of its own total."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from processmining.cli import app
from processmining.model import ACTIVITY, CASE, TIMESTAMP


def test_arcs_and_waiting_before_are_two_tables_whose_shares_add_up(tmp_path) -> None:
    t0 = pd.Timestamp("2024-03-04 09:00", tz="UTC")
    h = pd.Timedelta(hours=1)
    # c1: A -1h-> B -2h-> C;  c2: A -3h-> C.  Waiting: 6 h in all
    rows = [("c1", "A", t0), ("c1", "B", t0 + h), ("c1", "C", t0 + 3 * h),
            ("c2", "A", t0), ("c2", "C", t0 + 3 * h)]
    path = tmp_path / "log.csv"
    pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP]).to_csv(path, index=False)
    res = CliRunner().invoke(app, ["bottlenecks", str(path)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    start = lines.index("Where is time lost between two steps (arcs), share of the total waiting time (6.0 h; "
                        "this table's shares add up to 100 %):")
    # before: one table mixing "arc" and "waiting before" rows, shares adding up to 200 %
    assert lines[start + 1:start + 7] == [
        "   50.0%      3.0 h total     3.0 h median  A → C",
        "   33.3%      2.0 h total     2.0 h median  B → C",
        "   16.7%      1.0 h total     1.0 h median  A → B",
        "Where is time lost before an activity (all waiting that ends there), share of the total waiting time "
        "(6.0 h; this table's shares add up to 100 %):",
        "   83.3%      5.0 h total     2.5 h median  C",
        "   16.7%      1.0 h total     1.0 h median  B",
    ]
