"""The Xetra job on the real PDS files in ../shared/data/xetra (file://; skipped when absent)."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest

from jobs.xetra.__main__ import main
from jobs.xetra.job import read_report

pytestmark = pytest.mark.spark
DATES = ("2017-07-03", "2017-07-04", "2017-07-05")


def independent_daily(xetra: Path, day: str) -> dict[str, dict]:
    """The report definition computed with the csv module, nothing shared with the job."""
    rows_by_isin: dict[str, list[dict]] = defaultdict(list)
    for path in sorted((xetra / day).glob("*.csv")):
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                rows_by_isin[row["ISIN"]].append(row)
    daily = {}
    for isin, rows in rows_by_isin.items():
        first = min(rows, key=lambda r: r["Time"])
        last = max(rows, key=lambda r: r["Time"])
        daily[isin] = {
            "opening_price": float(first["StartPrice"]),
            "closing_price": float(last["EndPrice"]),
            "closing_text": last["EndPrice"],
            "minimum_price": min(float(r["MinPrice"]) for r in rows),
            "maximum_price": max(float(r["MaxPrice"]) for r in rows),
            "daily_traded_volume": sum(int(r["TradedVolume"]) for r in rows),
            "number_of_trades": sum(int(r["NumberOfTrades"]) for r in rows),
        }
    return daily


def data_rows(xetra: Path, day: str) -> int:
    return sum(len(path.read_text().splitlines()) - 1 for path in (xetra / day).glob("*.csv"))


def test_real_days_accounting_and_spot_values(spark, shared_data, tmp_path):
    xetra = shared_data / "xetra"
    target = tmp_path / "lake"
    code = main(
        ["--env", "local", "--source", xetra.as_uri(), "--target", target.as_uri(),
         "--start", DATES[0], "--end", DATES[-1], "--set", "logging.log_path="]
    )  # fmt: skip
    assert code == 0
    summary = json.loads(next((target / "_state/xetra/runs").glob("*.json")).read_text())
    assert summary["dates_deduplicated"] == []  # no time repeats: the files were read once

    # row accounting holds exactly, and every data line of the three days was read
    for day in DATES:
        figures = summary["per_date"][day]
        assert figures["read"] == data_rows(xetra, day)
        assert figures["read"] == figures["used"] + figures["duplicates"] + figures["quarantined"]
    assert summary["rows"]["read"] == sum(data_rows(xetra, day) for day in DATES) > 150_000

    report = {
        (r.isin, str(r.trade_date)): r.asDict()
        for r in read_report(spark, target.as_uri()).collect()
    }
    expected = {day: independent_daily(xetra, day) for day in DATES}
    assert len(report) == sum(len(daily) for daily in expected.values())
    isins = sorted(set(expected["2017-07-03"]) & set(expected["2017-07-04"]))
    spot = [isins[0], isins[len(isins) // 2], isins[-1], "DE0005190003"]  # BMW among them
    for isin in spot:
        for day in DATES[:2]:
            got = report[(isin, day)]
            want = expected[day][isin]
            for column in ("opening_price", "closing_price", "minimum_price", "maximum_price",
                           "daily_traded_volume", "number_of_trades"):  # fmt: skip
                assert got[column] == want[column], (isin, day, column)
        previous = Decimal(expected["2017-07-03"][isin]["closing_text"])
        close = Decimal(expected["2017-07-04"][isin]["closing_text"])
        pct = ((close - previous) * 100 / previous).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
        assert report[(isin, "2017-07-04")]["change_prev_closing_pct"] == float(pct)
