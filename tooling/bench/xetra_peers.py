"""The Xetra daily report computed by peers: DuckDB, Polars (lazy) and pandas (course style).

Each peer computes the project's report definition (jobs.xetra.transform.daily_report) from
the same hourly files: per ISIN and date, the currency, the StartPrice at the earliest Time,
the EndPrice at the latest Time, min/max prices, summed volume and trades, and the change
against the previous trading date's closing within the lookback, half-even to 2 decimals.
They neither validate nor de-duplicate: the benchmark checks that the project quarantined and
de-duplicated nothing on its workload, so the definitions agree there.

Every function returns a pandas DataFrame in REPORT_COLUMNS order (trade_date as ISO text),
for rows whose trade_date is in [start, end].
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from jobs.xetra.transform import REPORT_COLUMNS, SOURCE_COLUMNS
from lib.storage import file_uri

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

TYPES = {
    "ISIN": "VARCHAR",
    "Mnemonic": "VARCHAR",
    "SecurityDesc": "VARCHAR",
    "SecurityType": "VARCHAR",
    "Currency": "VARCHAR",
    "SecurityID": "VARCHAR",
    "Date": "DATE",
    "Time": "VARCHAR",
    "StartPrice": "DOUBLE",
    "MaxPrice": "DOUBLE",
    "MinPrice": "DOUBLE",
    "EndPrice": "DOUBLE",
    "TradedVolume": "BIGINT",
    "NumberOfTrades": "BIGINT",
}
assert tuple(TYPES) == SOURCE_COLUMNS
# the change may differ by one unit in the last place where a float peer meets an exact tie
CHANGE_TOLERANCE = 0.01 + 1e-9


class PeerMismatch(AssertionError):
    """A peer's report differs from the project's: its time does not count."""


def duckdb_report(files: Sequence[Path], start: date, end: date, lookback: int) -> pd.DataFrame:
    import duckdb

    query = """
    WITH raw AS (
        SELECT * FROM read_csv($files, header = true, delim = ',', quote = '"', escape = '"',
                               auto_detect = false, columns = $columns)
    ), daily AS (
        SELECT ISIN AS isin, Date AS trade_date, max(Currency) AS currency,
               arg_min(StartPrice, Time) AS opening_price,
               arg_max(EndPrice, Time) AS closing_price,
               min(MinPrice) AS minimum_price, max(MaxPrice) AS maximum_price,
               sum(TradedVolume) AS daily_traded_volume, sum(NumberOfTrades) AS number_of_trades
        FROM raw GROUP BY ISIN, Date
    ), lagged AS (
        SELECT *, lag(closing_price) OVER w AS prev_close, lag(trade_date) OVER w AS prev_date
        FROM daily WINDOW w AS (PARTITION BY isin ORDER BY trade_date)
    )
    SELECT isin, strftime(trade_date, '%Y-%m-%d') AS trade_date, currency, opening_price,
           closing_price, minimum_price, maximum_price, daily_traded_volume::BIGINT
               AS daily_traded_volume, number_of_trades::BIGINT AS number_of_trades,
           CASE WHEN prev_date IS NOT NULL AND trade_date - prev_date <= $lookback
                     AND prev_close <> 0
                THEN round_even((closing_price - prev_close) * 100 / prev_close, 2) END
               AS change_prev_closing_pct
    FROM lagged WHERE trade_date BETWEEN $start AND $end
    """
    with duckdb.connect() as connection:
        params = {"files": [str(f) for f in files], "columns": TYPES, "start": start,
                  "end": end, "lookback": lookback}  # fmt: skip
        return connection.execute(query, params).df()[list(REPORT_COLUMNS)]


def polars_report(files: Sequence[Path], start: date, end: date, lookback: int) -> pd.DataFrame:
    import polars as pl

    kinds = {"VARCHAR": pl.String, "DATE": pl.String, "DOUBLE": pl.Float64, "BIGINT": pl.Int64}
    schema = {name: kinds[kind] for name, kind in TYPES.items()}
    trades = pl.scan_csv([str(f) for f in files], schema=schema, quote_char='"').with_columns(
        pl.col("Date").str.to_date("%Y-%m-%d")
    )
    daily = trades.group_by("ISIN", "Date").agg(
        pl.col("Currency").max().alias("currency"),
        pl.col("StartPrice").sort_by("Time").first().alias("opening_price"),
        pl.col("EndPrice").sort_by("Time").last().alias("closing_price"),
        pl.col("MinPrice").min().alias("minimum_price"),
        pl.col("MaxPrice").max().alias("maximum_price"),
        pl.col("TradedVolume").sum().alias("daily_traded_volume"),
        pl.col("NumberOfTrades").sum().alias("number_of_trades"),
    )
    previous_close = pl.col("closing_price").shift(1).over("ISIN")
    previous_date = pl.col("Date").shift(1).over("ISIN")
    change = (
        pl.when(
            previous_date.is_not_null()
            & ((pl.col("Date") - previous_date).dt.total_days() <= lookback)
            & (previous_close != 0)
        )
        .then(((pl.col("closing_price") - previous_close) * 100 / previous_close).round(2))
        .otherwise(None)
    )
    report = (
        daily.sort("ISIN", "Date")
        .with_columns(change.alias("change_prev_closing_pct"))
        .filter(pl.col("Date").is_between(start, end))
        .rename({"ISIN": "isin"})
        .with_columns(pl.col("Date").dt.to_string("%Y-%m-%d").alias("trade_date"))
        .select(REPORT_COLUMNS)
    )
    return report.collect().to_pandas()


def pandas_report(files: Sequence[Path], start: date, end: date, lookback: int) -> pd.DataFrame:
    """As the Xetra ETL course does it: read every file, concat, sort, groupby, shift."""
    frames = [pd.read_csv(path) for path in files]
    df = pd.concat(frames, ignore_index=True)
    df = df.sort_values(by=["Time"])
    by_day = df.groupby(["ISIN", "Date"])
    df["opening_price"] = by_day["StartPrice"].transform("first")
    df["closing_price"] = by_day["EndPrice"].transform("last")
    df = df.groupby(["ISIN", "Date"], as_index=False).agg(
        currency=("Currency", "max"),
        opening_price=("opening_price", "min"),
        closing_price=("closing_price", "min"),
        minimum_price=("MinPrice", "min"),
        maximum_price=("MaxPrice", "max"),
        daily_traded_volume=("TradedVolume", "sum"),
        number_of_trades=("NumberOfTrades", "sum"),
    )
    df = df.sort_values(by=["ISIN", "Date"])
    df["prev_closing_price"] = df.groupby("ISIN")["closing_price"].shift(1)
    dates = pd.to_datetime(df["Date"])
    gap = (dates - df.groupby("ISIN")["Date"].shift(1).pipe(pd.to_datetime)).dt.days
    change = (df["closing_price"] - df["prev_closing_price"]) / df["prev_closing_price"] * 100
    usable = (gap <= lookback) & (df["prev_closing_price"] != 0)
    df["change_prev_closing_pct"] = change.where(usable).round(2)
    df = df[(df["Date"] >= start.isoformat()) & (df["Date"] <= end.isoformat())]
    df = df.rename(columns={"ISIN": "isin", "Date": "trade_date"})
    return df[list(REPORT_COLUMNS)]


SPARK_TYPES = {"VARCHAR": "STRING", "DATE": "DATE", "DOUBLE": "DOUBLE", "BIGINT": "BIGINT"}


def write_spark_report(
    spark: SparkSession, files: Sequence[Path], start: date, end: date, lookback: int,
    target: Path,
) -> None:  # fmt: skip
    """Spark's own floor for the report on this machine: the job's session, a typed CSV read,
    the daily aggregate and the previous-close window, and a Parquet write partitioned by
    date into `target`; none of the job's validation, de-duplication, quarantine, counts,
    run state or file listing. What the job would cost if it trusted its input.

    The aggregate is the job's own (``daily_figures``: opening and closing by the minute of
    the day, the currency as a number), over the typed rows taken as de-duplicated trades: every
    buffer fixed-width, so Spark runs a hash aggregation, partly before the shuffle (structs
    and a text max would make it a sort aggregation, about 10 % slower here). The numbers
    assume what the job checks: times `HH:MM`, currencies three letters A-Z; on other input the
    floor's report is wrong (the bench checks every run equal to the job's report, so it would
    stop with PeerMismatch)."""
    from pyspark.sql import functions as F

    from jobs.xetra.transform import (
        COUNTS,
        PRICES,
        currency_number,
        daily_figures,
        minute_of_day,
        with_change,
    )

    schema = ", ".join(f"`{name}` {SPARK_TYPES[kind]}" for name, kind in TYPES.items())
    trades = spark.read.csv([file_uri(path) for path in files], schema=schema, header=True)
    daily = trades.select(
        F.col("ISIN").alias("isin"),
        F.col("Date").alias("trade_date"),
        minute_of_day("Time").alias("minute"),
        currency_number("Currency").alias("currency_number"),
        *[F.col(name).alias(snake) for name, snake in PRICES + COUNTS],
        F.lit(1).cast("long").alias("copies"),  # trusted: every row one trade
    ).transform(daily_figures)
    report = (
        daily.transform(with_change(lookback))
        .where(F.col("trade_date").between(start, end))
        .select(*REPORT_COLUMNS)
        .repartition("trade_date")
    )
    report.write.mode("overwrite").partitionBy("trade_date").parquet(file_uri(target))


PEERS = {"duckdb": duckdb_report, "polars": polars_report, "pandas": pandas_report}


def normalised(report: pd.DataFrame) -> pd.DataFrame:
    frame = report[list(REPORT_COLUMNS)].copy()
    frame["trade_date"] = frame["trade_date"].astype(str).str.slice(0, 10)
    for name in ("isin", "currency"):
        frame[name] = frame[name].astype(str)
    for name in ("daily_traded_volume", "number_of_trades"):
        frame[name] = frame[name].astype("int64")
    for name in (*REPORT_COLUMNS[3:7], "change_prev_closing_pct"):
        frame[name] = frame[name].astype("float64")
    return frame.sort_values(["isin", "trade_date"]).reset_index(drop=True)


def check_equal(name: str, expected: pd.DataFrame, actual: pd.DataFrame) -> int:
    """Raise PeerMismatch unless `actual` is the project's report; returns the rows compared.

    Every column is compared exactly, but the change, which may differ by 0.01 at an exact
    half-way tie (the project rounds in decimal, float peers in binary)."""
    want, got = normalised(expected), normalised(actual)
    if len(want) != len(got):
        raise PeerMismatch(f"{name}: {len(got)} report rows, the project has {len(want)}")
    keys = ["isin", "trade_date"]
    if not want[keys].equals(got[keys]):
        raise PeerMismatch(f"{name}: the (isin, trade_date) keys differ")
    for column in REPORT_COLUMNS[2:-1]:
        differs = want[column] != got[column]
        if differs.any():
            row = want[differs].iloc[0]
            raise PeerMismatch(
                f"{name}: {int(differs.sum())} rows differ in {column}, e.g. {row['isin']} "
                f"{row['trade_date']}: {row[column]} vs {got[differs].iloc[0][column]}"
            )
    change_want, change_got = want["change_prev_closing_pct"], got["change_prev_closing_pct"]
    if not change_want.isna().equals(change_got.isna()):
        raise PeerMismatch(f"{name}: change_prev_closing_pct is null on other rows")
    worst = (change_want - change_got).abs().max()
    if pd.notna(worst) and worst > CHANGE_TOLERANCE:
        raise PeerMismatch(f"{name}: change_prev_closing_pct differs by up to {worst}")
    return len(want)
