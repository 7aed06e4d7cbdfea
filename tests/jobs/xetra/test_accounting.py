"""The Xetra job's accounting of observed counts (pure Python over what Spark observed)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from jobs.xetra.job import XetraJobError, _accounting, partition_figures

DATES = [date(2020, 1, 6), date(2020, 1, 7), date(2020, 1, 8)]
FILE_6 = "s3a://b/pds/2020-01-06/2020-01-06_BINS_XETR08.csv"
TOTALS = [
    {"date": "2020-01-06", "used": 10, "good": 12, "rows": 2},
    {"date": "2020-01-08", "used": 3, "good": 3, "rows": 1},
]
DAILY = {"per_date": json.dumps(TOTALS)}
READ = {"read": 25, "good": 15, "rejected_files": json.dumps(["2020-01-06_BINS_XETR08.csv"])}


def quarantine(source_date="2020-01-06", source_file=FILE_6, count=10):
    return [{"source_date": source_date, "source_file": source_file,
             "reject_reason": "negative_price", "count": count}]  # fmt: skip


def test_per_date_figures_add_up_from_the_three_counts():
    per_date = _accounting(READ, DAILY, quarantine(), DATES)
    assert per_date["2020-01-06"] == {
        "read": 22, "used": 10, "duplicates": 2, "quarantined": 10,
        "quarantined_by_reason": {"negative_price": 10}, "report_rows": 2,
    }  # fmt: skip
    assert per_date["2020-01-07"]["read"] == 0
    assert per_date["2020-01-08"]["read"] == 3


def test_quarantined_rows_under_another_date_than_their_files_fail_the_run():
    with pytest.raises(XetraJobError, match=r"2020-01-06_BINS_XETR08\.csv under 2020-01-08"):
        _accounting(READ, DAILY, quarantine(source_date="2020-01-08"), DATES)


def test_a_file_with_rejects_but_no_quarantined_rows_fails_the_run():
    with pytest.raises(XetraJobError, match="the quarantine has none of them"):
        _accounting(READ | {"read": 15}, DAILY, [], DATES)


@pytest.mark.parametrize(
    ("read", "message"),
    [({"read": 26}, "26 rows read, 15 good \\+ 10 quarantined \\(per date: 2020-01-06: 12 good"),
     ({"read": 26, "good": 16}, "16 good rows read, 15 used or duplicate")],
)  # fmt: skip
def test_totals_that_do_not_add_up_fail_with_the_figures_per_date(read, message):
    with pytest.raises(XetraJobError, match=message):
        _accounting(READ | read, DAILY, quarantine(), DATES)


def test_a_file_split_over_partitions_counts_once():
    observed = {"partition_files": json.dumps([{"p": 3, "f": FILE_6}, {"p": 1, "f": FILE_6},
                                               {"p": 3, "f": "other.csv"}])}  # fmt: skip
    figures = partition_figures(observed, quarantine())
    assert [(f.partition, f.files, f.rows_quarantined) for f in figures] == [(1, 1, 10), (3, 1, 0)]
