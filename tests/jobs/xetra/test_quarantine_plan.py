"""The quarantine's pass: the rejected rows of the files, with their reasons, and a plan in which
the filter on reject_reason stays above the parse (pushed below it, every rule re-evaluated each
typed value and the pass took 4x the time of the report's over the same files)."""

from __future__ import annotations

from datetime import date

import pytest

from jobs.xetra.job import read_quarantine
from jobs.xetra.transform import HEADER
from lib.storage import LocalStore

pytestmark = pytest.mark.spark
GOOD = '"DE0005190003","BMW","BMW AG ST","Common stock","EUR",2504287,"2024-01-04","08:00",80,81,79,80.5,100,3'  # noqa: E501
NO_PRICE = GOOD.replace(",80.5,", ",abc,")
MIN_ABOVE_MAX = GOOD.replace(",81,79,", ",79,81,")


def filters(plan: str) -> list[str]:
    return [line for line in plan.splitlines() if line.lstrip(" :+-").startswith("Filter")]


def test_the_quarantine_holds_the_rejected_rows_and_filters_them_above_the_parse(spark, tmp_path):
    day = tmp_path / "2024-01-04"
    day.mkdir()
    (day / "2024-01-04_BINS_XETR08.csv").write_text(f"{HEADER}\n{GOOD}\n{NO_PRICE}\n")
    (day / "2024-01-04_BINS_XETR09.csv").write_text(f"{HEADER}\n{MIN_ABOVE_MAX}\n{GOOD}\n")
    store = LocalStore(str(tmp_path))
    files = list(store.list("2024-01-04/"))

    quarantine = read_quarantine(spark, tmp_path.as_uri(), files, [date(2024, 1, 4)])

    rows = sorted((r.source_date, r.source_file.rsplit("/", 1)[-1], r.reject_reason, r.EndPrice)
                  for r in quarantine.collect())  # fmt: skip
    assert rows == [
        ("2024-01-04", "2024-01-04_BINS_XETR08.csv", "unparsable_end_price", "abc"),
        ("2024-01-04", "2024-01-04_BINS_XETR09.csv", "min_above_max", "80.5"),
    ]
    plan = quarantine._jdf.queryExecution().optimizedPlan().toString()
    on_reason = [line for line in filters(plan) if "reject_reason" in line]
    assert on_reason, plan
    # no filter evaluates the rules' typed values (the price pattern) row by row
    assert not [line for line in filters(plan) if "[eE]" in line], plan
    assert read_quarantine(spark, tmp_path.as_uri(), files, [date(2024, 1, 5)]).count() == 0
