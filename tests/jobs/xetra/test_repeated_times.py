"""The job's daily figures come from one aggregation of the good rows, not de-duplicated; a date
on which an ISIN has a time more than once gets its figures from its de-duplicated trades
instead (its files read again). These runs repeat times across hour files with other values,
so figures taken from the single aggregation would be wrong: volumes counted twice, the close
taken from either copy."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.xetra.__main__ import main
from jobs.xetra.job import read_report
from jobs.xetra.transform import (
    HEADER,
    daily_figures,
    daily_figures_of_good_rows,
    dedupe_trades,
    parse_trades,
    repeated_times,
)

pytestmark = pytest.mark.spark
ISIN = "DE0005190003"
OTHER = "DE0007100000"


def trade(isin, day, time, start, high, low, end, volume, trades=1) -> str:
    return (f'"{isin}","X","AN INSTRUMENT","Common stock","EUR",1,"{day}","{time}",'
            f"{start},{high},{low},{end},{volume},{trades}")  # fmt: skip


# (date, hour) -> rows; a repeated (ISIN, date, time) keeps the copy of the earliest hour file
FILES = {
    ("2024-01-03", 8): [
        trade(ISIN, "2024-01-03", "08:00", 10, 11, 9, 10.5, 100),
        trade(ISIN, "2024-01-03", "08:59", 10.5, 12, 10, 11, 50),
    ],
    ("2024-01-03", 9): [trade(ISIN, "2024-01-03", "08:59", 10.5, 13, 10, 13, 50)],  # repeat
    ("2024-01-04", 8): [
        trade(ISIN, "2024-01-04", "08:00", 11, 12, 10.5, 12, 100),
        trade(OTHER, "2024-01-04", "08:10", 50, 51, 49, 50, 7),
    ],
    ("2024-01-04", 9): [
        trade(ISIN, "2024-01-04", "08:00", 15, 15, 9, 14, 999, 9),  # repeat, other values
        trade(ISIN, "2024-01-04", "09:30", 12, 12.5, 11.5, 12.5, 10),
    ],
    ("2024-01-05", 8): [trade(ISIN, "2024-01-05", "08:00", 12.5, 13, 12.5, 13, 5)],
}


def write_files(root, files=FILES) -> None:
    for (day, hour), rows in files.items():
        path = root / day / f"{day}_BINS_XETR{hour:02d}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([HEADER, *rows]) + "\n")


def run(source, target, start, end) -> dict:
    code = main(
        ["--env", "local", "--source", source.as_uri(), "--target", target.as_uri(),
         "--start", start, "--end", end, "--set", "logging.log_path="]
    )  # fmt: skip
    assert code == 0
    [summary] = [json.loads(path.read_text()) for path in (target / "_state/xetra/runs").glob("*")]
    return summary


def test_dates_with_repeated_times_get_the_figures_of_their_deduplicated_trades(spark, tmp_path):
    write_files(tmp_path / "pds")
    summary = run(tmp_path / "pds", tmp_path / "lake", "2024-01-04", "2024-01-05")

    # 2024-01-03 is read for the lookback only, and has a repeat too
    assert summary["dates_deduplicated"] == ["2024-01-03", "2024-01-04"]
    assert summary["rows"]["read"] == 5 and summary["rows"]["duplicates"] == 1
    assert summary["per_date"]["2024-01-04"]["used"] == 3
    report = {
        (row.isin, str(row.trade_date)): row.asDict()
        for row in read_report(spark, (tmp_path / "lake").as_uri()).collect()
    }
    assert set(report) == {(ISIN, "2024-01-04"), (OTHER, "2024-01-04"), (ISIN, "2024-01-05")}
    day = report[(ISIN, "2024-01-04")]
    # the 08:00 copy of hour 08 (not hour 09's 15 / 999 / 9), then 09:30
    assert (day["opening_price"], day["closing_price"]) == (11.0, 12.5)
    assert (day["minimum_price"], day["maximum_price"]) == (10.5, 12.5)
    assert (day["daily_traded_volume"], day["number_of_trades"]) == (110, 2)
    # 2024-01-03 closed at 11 (hour 08's 08:59 copy, not hour 09's 13): (12.5 - 11) / 11
    assert day["change_prev_closing_pct"] == 13.64
    assert report[(ISIN, "2024-01-05")]["change_prev_closing_pct"] == 4.0  # (13 - 12.5) / 12.5
    assert report[(OTHER, "2024-01-04")]["daily_traded_volume"] == 7


def test_a_run_without_repeated_times_reads_its_files_once(spark, tmp_path):
    write_files(tmp_path / "pds", {key: rows for key, rows in FILES.items() if key[1] == 8})
    summary = run(tmp_path / "pds", tmp_path / "lake", "2024-01-04", "2024-01-05")
    assert summary["dates_deduplicated"] == []
    assert summary["rows"]["read"] == summary["rows"]["used"] == 3
    report = read_report(spark, (tmp_path / "lake").as_uri()).where(f"isin = '{ISIN}'")
    closes = {str(row.trade_date): row.closing_price for row in report.collect()}
    assert closes == {"2024-01-04": 12.0, "2024-01-05": 13.0}


trade_rows = st.lists(
    st.fixed_dictionaries(
        {
            "ISIN": st.sampled_from(["DE0005190003", "DE0007100000"]),
            "Date": st.sampled_from(["2017-07-03", "2017-07-04"]),
            # minutes of every one of the 23 words of the bitmap, and its edges
            "Time": st.sampled_from(["00:00", "01:03", "01:04", "08:00", "12:47", "23:59"]),
            "StartPrice": st.sampled_from(["1", "2.5", "-0.0", "0"]),
            "EndPrice": st.sampled_from(["1", "3", "0.0"]),
            "MaxPrice": st.just("5"),
            "MinPrice": st.sampled_from(["-0.0", "0.5"]),
            "TradedVolume": st.integers(0, 9).map(str),
            "Currency": st.sampled_from(["EUR", "USD"]),
            "_file_hour": st.sampled_from([8, 9]),
        }
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=trade_rows)
def test_single_pass_figures_are_the_deduplicated_ones_where_no_time_repeats(raw_rows, rows):
    parsed = raw_rows(rows).transform(parse_trades)
    single = parsed.transform(daily_figures_of_good_rows)
    repeated = {(row.isin, row.trade_date) for row in single.where(repeated_times()).collect()}
    keys = [(row["ISIN"], dt.date.fromisoformat(row["Date"]), row["Time"]) for row in rows]
    assert repeated == {key[:2] for key in keys if keys.count(key) > 1}
    exact = parsed.transform(dedupe_trades).transform(daily_figures)
    expected = {(row.isin, row.trade_date): row.asDict() for row in exact.collect()}
    found = {(row.isin, row.trade_date): row.asDict() for row in single.collect()}
    assert found.keys() == expected.keys()
    for key, figures in found.items():
        if key in repeated:  # the job takes these from the de-duplicated trades
            assert figures["trades_read"] == expected[key]["trades_read"] > figures["trades_used"]
        else:
            assert figures == expected[key]


@pytest.mark.parametrize(
    ("body", "quarantined"),
    [
        ("\n".join([HEADER, trade(ISIN, "2024-01-04", "08:00", -1, 11, 9, 10.5, 100),
                    trade(ISIN, "2024-01-04", "25:00", 1, 1, 1, 1, 1)]) + "\n",
         {"negative_price": 1, "unparsable_time": 1}),
        ("", {}),  # an empty file
        (HEADER, {}),  # the header without its line end: not a header-only file, no rows
    ],
)  # fmt: skip
def test_a_run_without_a_good_row_still_accounts_for_every_row(spark, tmp_path, body, quarantined):
    """No figures at all: the observations of the single pass must still arrive (adaptive
    execution drops the stages over an empty shuffle, and the persisted plan's observations
    with them, unless it is planned with them kept)."""
    path = tmp_path / "pds/2024-01-04/2024-01-04_BINS_XETR08.csv"
    path.parent.mkdir(parents=True)
    path.write_text(body)
    summary = run(tmp_path / "pds", tmp_path / "lake", "2024-01-04", "2024-01-05")
    count = sum(quarantined.values())
    assert summary["rows"] == {"read": count, "used": 0, "duplicates": 0, "quarantined": count,
                               "quarantined_by_reason": quarantined}  # fmt: skip
    assert summary["dates_deduplicated"] == [] and summary["report_rows"] == 0
