"""Unit tests of the Xetra transforms on inline rows (chispa), given / when / then."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest
from chispa import assert_df_equality
from pyspark.sql import Observation
from pyspark.sql import functions as F
from pyspark.sql.types import DateType, DoubleType, LongType, StringType

from jobs.xetra.transform import (
    REPORT_COLUMNS,
    currency_code,
    currency_number,
    daily_figures,
    daily_report,
    date_totals,
    dedupe_trades,
    minute_of_day,
    parse_trades,
    partition_files,
    quarantine_rows,
    read_metrics,
    with_date_totals,
    with_input_partition,
)
from lib.spark.io import observed

pytestmark = pytest.mark.spark


def reasons(frame):
    return [row.reject_reason for row in frame.orderBy("raw.Time", "raw.ISIN").collect()]


def test_a_good_row_parses_to_typed_values(raw_rows):
    parsed = raw_rows([{}]).transform(parse_trades)
    row = parsed.first()
    assert row.reject_reason is None
    assert row.isin == "DE0005190003"
    assert row.trade_date == dt.date(2017, 7, 3)
    assert (row.start_price, row.max_price, row.min_price, row.end_price) == (80, 81, 79.5, 80.5)
    assert (row.traded_volume, row.number_of_trades) == (100, 3)
    assert row.raw.SecurityDesc == "BAY.MOTOREN WERKE AG ST"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"ISIN": ""}, "missing_isin"),
        ({"Currency": " "}, "missing_currency"),
        ({"Currency": "eur"}, "unparsable_currency"),  # an ISO 4217 code: three letters A-Z
        ({"Currency": "EURO"}, "unparsable_currency"),
        ({"Currency": "€"}, "unparsable_currency"),
        ({"Currency": "EUR\u2028"}, "unparsable_currency"),  # Java's $ would let it pass
        ({"Time": "08:00\u2028"}, "unparsable_time"),
        ({"TradedVolume": "100\u0085"}, "unparsable_traded_volume"),
        ({"EndPrice": None}, "missing_end_price"),
        ({"NumberOfTrades": None}, "missing_number_of_trades"),
        ({"Date": "03.07.2017", "_file_day": "2017-07-03"}, "unparsable_date"),
        ({"Date": "2017-02-30", "_file_day": "2017-07-03"}, "unparsable_date"),
        ({"Time": "8:00"}, "unparsable_time"),
        ({"Time": "25:00"}, "unparsable_time"),
        ({"StartPrice": "1,5"}, "unparsable_start_price"),
        ({"MaxPrice": "abc"}, "unparsable_max_price"),
        ({"MaxPrice": "1e400"}, "unparsable_max_price"),  # beyond a double: infinity
        ({"EndPrice": "-1e309"}, "unparsable_end_price"),
        ({"MaxPrice": "1e12"}, "price_out_of_range"),  # beyond the change's decimal(20,8)
        ({"EndPrice": "1.7976931348623157E308"}, "price_out_of_range"),
        ({"TradedVolume": "9223372036854775808"}, "unparsable_traded_volume"),  # beyond a long
        ({"NumberOfTrades": "1" * 19}, "unparsable_number_of_trades"),
        ({"TradedVolume": "12.5"}, "unparsable_traded_volume"),
        ({"MinPrice": "-1"}, "negative_price"),
        ({"TradedVolume": "-5"}, "negative_volume"),
        ({"NumberOfTrades": "-1"}, "negative_trades"),
        ({"MinPrice": "82"}, "min_above_max"),
        ({"Date": "2017-07-04", "_file_day": "2017-07-03"}, "date_mismatch"),
    ],
)
def test_every_quarantine_reason(raw_rows, overrides, reason):
    parsed = raw_rows([overrides]).transform(parse_trades)
    assert reasons(parsed) == [reason]


def test_malformed_rows_are_quarantined(raw_rows):
    parsed = raw_rows([{}, {"Time": "08:01"}], corrupt=[None, "a,b,c"]).transform(parse_trades)
    assert reasons(parsed) == [None, "malformed_row"]


def test_zero_volume_and_shortest_number_forms_are_fine(raw_rows):
    parsed = raw_rows(
        [{"TradedVolume": "0", "StartPrice": "109", "MaxPrice": "109", "MinPrice": ".5"}]
    ).transform(parse_trades)
    row = parsed.first()
    assert row.reject_reason is None
    assert row.min_price == 0.5


def test_duplicates_count_once_and_bad_rows_are_not_duplicates(raw_rows):
    parsed = raw_rows(
        [
            {},
            {},  # the same (ISIN, Date, Time) again
            {"_file_hour": 9},  # the same row delivered in another hour file
            {"Time": "08:01"},
            {"Time": "08:01", "MinPrice": "90"},  # same key but bad: quarantined, not duplicate
        ]
    ).transform(parse_trades)
    trades = parsed.transform(dedupe_trades)
    assert sorted((row.minute, row.copies) for row in trades.collect()) == [
        (8 * 60, 3),
        (8 * 60 + 1, 1),
    ]
    # the kept copy is the first by source file: hour 08 before hour 09
    kept = trades.where(F.col("minute") == 8 * 60).select(currency_code("currency_number")).first()
    assert kept[0] == "EUR"
    day = dt.date(2017, 7, 3)
    read = observe(parsed, read_metrics([day]))
    assert (read["read"], read["good"]) == (5, 4)
    assert json.loads(read["rejected_files"]) == ["2017-07-03_BINS_XETR08.csv"]
    daily = trades.transform(daily_figures).repartition("trade_date").transform(with_date_totals)
    used = observe(daily, [date_totals()])
    assert json.loads(used["per_date"]) == [{"date": "2017-07-03", "used": 2, "good": 4, "rows": 1}]


def observe(frame, metrics):
    """The observed metrics of one action over `frame` (a real action, as in the job)."""
    seen = Observation()
    frame.observe(seen, *metrics).write.format("noop").mode("overwrite").save()
    return observed(seen, timeout_seconds=30)


def test_rows_of_other_dates_are_not_counted(raw_rows):
    parsed = raw_rows([{}, {"Time": "08:01", "MinPrice": "-3"}]).transform(parse_trades)
    parsed = parsed.transform(with_input_partition)
    other = dt.date(2017, 7, 4)
    read = observe(parsed, [*read_metrics([other]), partition_files([other])])
    assert (read["read"], read["good"]) == (0, 0)
    assert json.loads(read["rejected_files"]) == []  # the rejected row is of another date
    assert json.loads(read["partition_files"]) == []


def test_date_totals_hold_one_entry_per_date_whatever_the_partitioning(raw_rows):
    rows = [{}, {"Time": "08:01"}, {"ISIN": "DE0007100000"}, {"Time": "08:01", "_file_hour": 9}]
    rows += [{"Date": "2017-07-04", "_file_day": "2017-07-04"}]
    daily = raw_rows(rows).transform(parse_trades).transform(dedupe_trades)
    daily = daily.transform(daily_figures).repartition(3, "trade_date")
    used = observe(daily.transform(with_date_totals), [date_totals()])
    assert sorted(json.loads(used["per_date"]), key=lambda entry: entry["date"]) == [
        {"date": "2017-07-03", "used": 3, "good": 4, "rows": 2},
        {"date": "2017-07-04", "used": 1, "good": 1, "rows": 1},
    ]


def test_partition_files_pair_each_file_with_the_partition_that_read_it(raw_rows):
    parsed = (
        raw_rows([{}, {"_file_hour": 9}, {"Time": "08:01", "MinPrice": "-3"}])
        .repartition(1)
        .transform(parse_trades)
        .transform(with_input_partition)
    )
    seen = observe(parsed, [partition_files([dt.date(2017, 7, 3)])])
    assert sorted(pair["p"] for pair in json.loads(seen["partition_files"])) == [0, 0]


def test_the_kept_duplicate_does_not_depend_on_row_order(raw_rows):
    rows = [{"_file_hour": 9, "EndPrice": "80.75"}, {"EndPrice": "80.25"}]
    for given in (rows, rows[::-1]):
        [kept] = raw_rows(given).transform(parse_trades).transform(dedupe_trades).collect()
        assert (kept.end_price, kept.copies) == (80.25, 2)  # the one from hour 08


def test_copies_of_one_hour_keep_the_same_one_whatever_the_order(raw_rows):
    copies = [
        {"EndPrice": "80.75"},
        {"EndPrice": "80.25"},
        {"EndPrice": "80.25", "Currency": "USD"},
        {"TradedVolume": "7"},
    ]
    given = {
        (row.end_price, row.traded_volume, row.currency)
        for row in raw_rows(copies).transform(parse_trades).collect()
    }
    kept = set()
    for order in (copies, copies[::-1], copies[1:] + copies[:1]):
        frame = raw_rows(order).repartition(3).transform(parse_trades).transform(dedupe_trades)
        [row] = frame.select(
            "copies", *frame.columns[2:-1], currency_code("currency_number").alias("currency")
        ).collect()
        assert row.copies == 4
        # one of the copies, whole (no column taken from another)
        assert (row.end_price, row.traded_volume, row.currency) in given
        kept.add(tuple(row))
    assert len(kept) == 1


@pytest.mark.parametrize("ansi", ["false", "true"])
def test_the_earliest_hour_is_kept_for_every_hour_a_file_name_can_hold(spark, raw_rows, ansi):
    copies = [{"_file_hour": 45, "EndPrice": "80.75"}, {"_file_hour": 8, "EndPrice": "80.25"}]
    copies += [{"_file_hour": 99, "EndPrice": "80.0"}, {"_file_hour": 32, "EndPrice": "80.1"}]
    before = spark.conf.get("spark.sql.ansi.enabled")
    spark.conf.set("spark.sql.ansi.enabled", ansi)
    try:
        [kept] = raw_rows(copies).transform(parse_trades).transform(dedupe_trades).collect()
    finally:
        spark.conf.set("spark.sql.ansi.enabled", before)
    assert (kept.end_price, kept.copies) == (80.25, 4)


def test_copies_that_differ_in_a_zeros_sign_only_give_one_result(raw_rows):
    copies = [{"MinPrice": "-0"}, {"MinPrice": "0"}]
    for order in (copies, copies[::-1]):
        [kept] = raw_rows(order).transform(parse_trades).transform(dedupe_trades).collect()
        assert math.copysign(1.0, kept.min_price) == 1.0


def test_currency_numbers_sort_as_the_codes_and_give_them_back(spark):
    codes = ["AAA", "AAZ", "CNY", "EUR", "GBP", "SEK", "USD", "ZZZ"]
    frame = spark.createDataFrame([(code,) for code in codes], "code string")
    rows = frame.select(
        "code", currency_number("code").alias("number"), currency_code(currency_number("code"))
    ).collect()
    assert [row[2] for row in rows] == codes
    assert sorted(rows, key=lambda row: row.number) == rows
    assert (rows[0].number, rows[-1].number) == (0, 26**3 - 1)


def trades(spark, rows):
    """Typed trades: (isin, day, time, start, max, min, end, volume, trades[, currency])."""
    return spark.createDataFrame(
        [
            (
                r[0],
                r[9] if len(r) > 9 else "EUR",
                dt.date.fromisoformat(r[1]),
                r[2],
                *map(float, r[3:7]),
                r[7],
                r[8],
            )
            for r in rows
        ],
        "isin string, currency string, trade_date date, time string, start_price double, "
        "max_price double, min_price double, end_price double, traded_volume long, "
        "number_of_trades long",
    ).select(
        "isin",
        currency_number("currency").alias("currency_number"),
        "trade_date",
        minute_of_day("time").alias("minute"),
        "start_price",
        "max_price",
        "min_price",
        "end_price",
        "traded_volume",
        "number_of_trades",
        F.lit(1).cast("long").alias("copies"),
    )


def test_opening_is_the_earliest_start_and_closing_the_latest_end(spark):
    given = trades(
        spark,
        [
            ("A", "2017-07-03", "09:30", 11, 12, 10, 11.5, 10, 1),
            ("A", "2017-07-03", "08:05", 10, 10.5, 9.5, 10.2, 5, 2),  # earliest, out of order
            ("A", "2017-07-03", "15:59", 12, 13, 11.9, 12.7, 0, 1),  # latest
        ],
    )
    report = given.transform(daily_report()).first()
    assert report.opening_price == 10
    assert report.closing_price == 12.7
    assert report.minimum_price == 9.5
    assert report.maximum_price == 13
    assert report.daily_traded_volume == 15
    assert report.number_of_trades == 4
    assert report.change_prev_closing_pct is None


def test_report_columns_order_and_types(spark):
    report = trades(spark, [("A", "2017-07-03", "09:30", 1, 1, 1, 1, 1, 1)]).transform(
        daily_report()
    )
    assert tuple(report.columns) == REPORT_COLUMNS
    types = [field.dataType for field in report.schema.fields]
    assert types == [
        StringType(),
        DateType(),
        StringType(),
        DoubleType(),
        DoubleType(),
        DoubleType(),
        DoubleType(),
        LongType(),
        LongType(),
        DoubleType(),
    ]


def closing_day(isin, day, close):
    return (isin, day, "12:00", close, close, close, close, 1, 1)


def test_change_uses_the_previous_trading_date_across_a_weekend_and_a_holiday(spark):
    given = trades(
        spark,
        [
            closing_day("A", "2017-07-07", 100),  # Friday
            closing_day("A", "2017-07-10", 110),  # Monday: 3 days after
            closing_day("A", "2017-07-12", 99),  # Wednesday after a closed Tuesday
            closing_day("B", "2017-07-10", 50),  # another ISIN has its own history
        ],
    )
    report = {
        (r.isin, str(r.trade_date)): r.change_prev_closing_pct
        for r in given.transform(daily_report(lookback_days=14)).collect()
    }
    assert report == {
        ("A", "2017-07-07"): None,
        ("A", "2017-07-10"): 10.0,
        ("A", "2017-07-12"): -10.0,
        ("B", "2017-07-10"): None,
    }


def test_lookback_limit_in_calendar_days(spark):
    given = trades(
        spark,
        [
            closing_day("A", "2017-07-01", 100),
            closing_day("A", "2017-07-15", 101),  # 14 days later: inside
            closing_day("A", "2017-07-30", 102),  # 15 days later: outside
        ],
    )
    report = {
        str(r.trade_date): r.change_prev_closing_pct
        for r in given.transform(daily_report(lookback_days=14)).collect()
    }
    assert report == {"2017-07-01": None, "2017-07-15": 1.0, "2017-07-30": None}


@pytest.mark.parametrize(
    ("previous", "close", "expected"),
    [
        (8.0, 8.01, 0.12),  # 0.125 -> 0.12 (half-even: 2 is even)
        (8.0, 8.03, 0.38),  # 0.375 -> 0.38 (half-even: 8 is even)
        (8.0, 7.99, -0.12),  # -0.125 -> -0.12
        (3.0, 4.0, 33.33),
        (0.0, 4.0, None),  # no change from a zero price
    ],
)
def test_change_is_rounded_half_even_to_2_decimals(spark, previous, close, expected):
    given = trades(
        spark, [closing_day("A", "2017-07-03", previous), closing_day("A", "2017-07-04", close)]
    )
    report = given.transform(daily_report()).where(F.col("trade_date") == "2017-07-04").first()
    assert report.change_prev_closing_pct == expected


def test_prices_are_not_rounded(spark):
    given = trades(spark, [("A", "2017-07-03", "09:00", 1.23456, 2.34567, 0.12345, 1.98765, 1, 1)])
    row = given.transform(daily_report()).first()
    assert (row.opening_price, row.closing_price) == (1.23456, 1.98765)


def test_end_to_end_transform_chain_with_chispa(spark, raw_rows):
    given = raw_rows(
        [
            {"Time": "08:00", "StartPrice": "10", "MaxPrice": "11", "MinPrice": "9",
             "EndPrice": "10.5", "TradedVolume": "7", "NumberOfTrades": "1"},
            {"Time": "08:00", "StartPrice": "10", "MaxPrice": "11", "MinPrice": "9",
             "EndPrice": "10.5", "TradedVolume": "7", "NumberOfTrades": "1"},  # duplicate
            {"Time": "09:00", "StartPrice": "10.5", "MaxPrice": "12", "MinPrice": "10",
             "EndPrice": "11", "TradedVolume": "3", "NumberOfTrades": "2"},
            {"Time": "10:00", "MinPrice": "-3"},  # quarantined
        ]
    )  # fmt: skip
    parsed = given.transform(parse_trades)
    report = parsed.transform(dedupe_trades).transform(daily_report())
    expected = spark.createDataFrame(
        [("DE0005190003", dt.date(2017, 7, 3), "EUR", 10.0, 11.0, 9.0, 12.0, 10, 3, None)],
        report.schema,
    )
    assert_df_equality(report, expected, ignore_nullable=True)
    quarantined = quarantine_rows(parsed).collect()
    assert [(r.source_date, r.reject_reason, r.MinPrice) for r in quarantined] == [
        ("2017-07-03", "negative_price", "-3")
    ]
    assert quarantined[0].source_file.endswith("2017-07-03_BINS_XETR08.csv")
