"""Pure DataFrame -> DataFrame steps of the Xetra job: parse, validate, de-duplicate, report.

Input rows come from the Deutsche Börse PDS CSVs read with :data:`RAW_SCHEMA` (every field a
string, so nothing is lost to a failed cast) plus ``source_file`` and ``file_date`` columns.

    parsed = raw.transform(with_file_date).transform(parse_trades)
    report = parsed.transform(dedupe_trades).transform(daily_report(lookback_days=14))
    quarantine = parsed.transform(quarantine_rows)

Every input row is either rejected (``reject_reason`` set: quarantined) or good; each good row
is kept once per (ISIN, Date, Time) or counted as a duplicate (``copies``), so rows read =
used + duplicates + quarantined.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import (
    DateType,
    DecimalType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
)

SOURCE_COLUMNS = (
    "ISIN",
    "Mnemonic",
    "SecurityDesc",
    "SecurityType",
    "Currency",
    "SecurityID",
    "Date",
    "Time",
    "StartPrice",
    "MaxPrice",
    "MinPrice",
    "EndPrice",
    "TradedVolume",
    "NumberOfTrades",
)
HEADER = ",".join(SOURCE_COLUMNS)
CORRUPT_COLUMN = "_corrupt_record"
RAW_SCHEMA = StructType(
    [StructField(name, StringType()) for name in SOURCE_COLUMNS]
    + [StructField(CORRUPT_COLUMN, StringType())]
)
REPORT_SCHEMA = StructType(
    [
        StructField("isin", StringType(), nullable=False),
        StructField("trade_date", DateType(), nullable=False),
        StructField("currency", StringType(), nullable=False),
        StructField("opening_price", DoubleType(), nullable=False),
        StructField("closing_price", DoubleType(), nullable=False),
        StructField("minimum_price", DoubleType(), nullable=False),
        StructField("maximum_price", DoubleType(), nullable=False),
        StructField("daily_traded_volume", LongType(), nullable=False),
        StructField("number_of_trades", LongType(), nullable=False),
        StructField("change_prev_closing_pct", DoubleType(), nullable=True),
    ]
)
REPORT_COLUMNS = tuple(field.name for field in REPORT_SCHEMA.fields)

REQUIRED = (
    ("ISIN", "isin"),
    ("Currency", "currency"),
    ("Date", "date"),
    ("Time", "time"),
    ("StartPrice", "start_price"),
    ("MaxPrice", "max_price"),
    ("MinPrice", "min_price"),
    ("EndPrice", "end_price"),
    ("TradedVolume", "traded_volume"),
    ("NumberOfTrades", "number_of_trades"),
)
PRICES = (
    ("StartPrice", "start_price"),
    ("MaxPrice", "max_price"),
    ("MinPrice", "min_price"),
    ("EndPrice", "end_price"),
)
COUNTS = (("TradedVolume", "traded_volume"), ("NumberOfTrades", "number_of_trades"))
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"
NUMBER_PATTERN = r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"
INTEGER_PATTERN = r"^-?\d+$"
FILE_NAME_PATTERN = r"^\d{4}-\d{2}-\d{2}_BINS_XETR\d{2}\.csv$"

# Prices are decimal text with at most 4-6 decimals: decimal(20,8) holds them exactly, and a
# division in it keeps 14 decimals.
EXACT = DecimalType(20, 8)


def _blank(column: Column) -> Column:
    return column.isNull() | (F.trim(column) == "")


def _first_reason(rules: list[tuple[Column, str]]) -> Column:
    """The reason of the first rule that holds, else null."""
    reason = F.lit(None).cast(StringType())
    for condition, name in reversed(rules):
        reason = F.when(condition, F.lit(name)).otherwise(reason)
    return reason


def with_file_date(raw: DataFrame) -> DataFrame:
    """``file_date`` from ``source_file`` (…/<date>_BINS_XETR<HH>.csv), null for other names.

    The pattern runs on the file name only: on the whole path it cost more than the parse."""
    name = F.substring_index("source_file", "/", -1)
    day = F.substring(name, 1, 10).cast(DateType())
    return raw.withColumn("file_date", F.when(name.rlike(FILE_NAME_PATTERN), day))


def parse_trades(raw: DataFrame) -> DataFrame:
    """Typed columns plus ``reject_reason`` (null for a good row); the raw fields are kept in
    one struct column ``raw`` (the source columns and the corrupt record).

    Values are cast only after their text matched the expected shape, so the casts never fail
    (also with spark.sql.ansi.enabled). Two projections: the first evaluates each trim, pattern
    and cast once; the rules of the second only compare its columns. (One projection inlined
    every typed value into each rule that used it: several regex matches per field and row, in
    a generated method too long for the JIT; that made this step six times slower.)
    """
    text = {name: F.trim(F.col(name)) for name, _ in REQUIRED}
    date = F.when(text["Date"].rlike(DATE_PATTERN), text["Date"].cast(DateType()))
    typed = {snake: F.when(text[name].rlike(NUMBER_PATTERN), text[name].cast(DoubleType()))
             for name, snake in PRICES}  # fmt: skip
    typed |= {snake: F.when(text[name].rlike(INTEGER_PATTERN), text[name].cast(LongType()))
              for name, snake in COUNTS}  # fmt: skip
    kept = [name for name in raw.columns if name not in (*SOURCE_COLUMNS, CORRUPT_COLUMN)]
    values = raw.select(
        F.struct(*SOURCE_COLUMNS, CORRUPT_COLUMN).alias("raw"),
        *kept,
        F.col(CORRUPT_COLUMN).isNotNull().alias("_malformed"),
        text["ISIN"].alias("isin"),
        text["Currency"].alias("currency"),
        date.alias("trade_date"),
        text["Time"].alias("time"),
        text["Time"].rlike(TIME_PATTERN).alias("_time_ok"),
        *[value.alias(snake) for snake, value in typed.items()],
        *[_blank(F.col(name)).alias(f"_missing_{snake}") for name, snake in REQUIRED],
    )
    rules: list[tuple[Column, str]] = [
        # too few or too many fields, or broken quoting: Spark keeps the line here
        (F.col("_malformed"), "malformed_row"),
    ]
    rules += [(F.col(f"_missing_{snake}"), f"missing_{snake}") for _, snake in REQUIRED]
    rules += [
        (F.col("trade_date").isNull(), "unparsable_date"),
        (~F.col("_time_ok"), "unparsable_time"),
    ]
    rules += [(F.col(snake).isNull(), f"unparsable_{snake}") for _, snake in PRICES + COUNTS]
    rules += [
        (F.least(*[F.col(snake) for _, snake in PRICES]) < 0, "negative_price"),
        (F.col("traded_volume") < 0, "negative_volume"),
        (F.col("number_of_trades") < 0, "negative_trades"),
        (F.col("min_price") > F.col("max_price"), "min_above_max"),
        (F.col("file_date").isNull(), "unknown_source_file"),
        (F.col("trade_date") != F.col("file_date"), "date_mismatch"),
    ]
    helpers = ["_malformed", "_time_ok", *[f"_missing_{snake}" for _, snake in REQUIRED]]
    return values.select(
        *[name for name in values.columns if name not in helpers],
        _first_reason(rules).alias("reject_reason"),
    )


def keep_raw_of_rejected(parsed: DataFrame) -> DataFrame:
    """The same columns, with ``raw`` nulled on good rows: what a run caches.

    Downstream only the quarantine needs the raw fields, and only of rejected rows; caching
    them for every row made the cache cost more than the parse.
    """
    rejected = F.col("reject_reason").isNotNull()
    return parsed.withColumn("raw", F.when(rejected, F.col("raw")))


def dedupe_trades(parsed: DataFrame) -> DataFrame:
    """The good rows, one per (ISIN, Date, Time), with ``copies``: how many good rows had it.

    Among repeats the row kept is the first by source file, then by prices, volume and
    currency, so the choice does not depend on partitioning. The rows are clustered by ISIN
    first: the daily aggregation and the previous-close window need no other shuffle.
    """
    kept = F.min(
        F.struct(
            "source_file",
            "start_price",
            "end_price",
            "min_price",
            "max_price",
            "traded_volume",
            "number_of_trades",
            "currency",
        )
    )
    return (
        parsed.where(F.col("reject_reason").isNull())
        .repartition("isin")
        .groupBy("isin", "trade_date", "time")
        .agg(F.count(F.lit(1)).alias("copies"), kept.alias("kept"))
        .select(
            "isin",
            F.col("kept.currency").alias("currency"),
            "trade_date",
            "time",
            *[F.col(f"kept.{snake}").alias(snake) for _, snake in PRICES + COUNTS],
            "copies",
        )
    )


def daily_figures(trades: DataFrame) -> DataFrame:
    """Per ISIN and trading date: the report's aggregates, plus ``trades_used`` (rows kept)
    and ``trades_read`` (good rows read, repeats included), from de-duplicated trades."""
    return trades.groupBy("isin", "trade_date").agg(
        F.max("currency").alias("currency"),
        F.min(F.struct("time", "start_price")).getField("start_price").alias("opening_price"),
        F.max(F.struct("time", "end_price")).getField("end_price").alias("closing_price"),
        F.min("min_price").alias("minimum_price"),
        F.max("max_price").alias("maximum_price"),
        F.sum("traded_volume").alias("daily_traded_volume"),
        F.sum("number_of_trades").alias("number_of_trades"),
        F.count(F.lit(1)).alias("trades_used"),
        F.sum("copies").alias("trades_read"),
    )


def with_change(lookback_days: int = 14) -> Callable[[DataFrame], DataFrame]:
    """``change_prev_closing_pct`` = (closing - prev) / prev * 100, half-even to 2 decimals,
    where prev is the closing of the ISIN's most recent earlier trading date at most
    `lookback_days` calendar days before (null when there is none, or when prev is 0)."""

    def transform(daily: DataFrame) -> DataFrame:
        by_isin = Window.partitionBy("isin").orderBy("trade_date")
        previous_close = F.lag("closing_price").over(by_isin)
        previous_date = F.lag("trade_date").over(by_isin)
        # in decimal, so that 0.375 is 0.375 (not 0.37499999) before rounding half-even
        close = F.col("closing_price").cast(EXACT)
        before = previous_close.cast(EXACT)
        change = F.when(
            previous_date.isNotNull()
            & (F.datediff("trade_date", previous_date) <= lookback_days)
            & (previous_close != 0),
            F.bround((close - before) * 100 / before, 2).cast(DoubleType()),
        )
        return daily.withColumn("change_prev_closing_pct", change)

    return transform


def daily_report(lookback_days: int = 14) -> Callable[[DataFrame], DataFrame]:
    """De-duplicated trades -> one row per ISIN and trading date, REPORT_COLUMNS in order.

    opening = StartPrice at the day's earliest Time, closing = EndPrice at its latest Time;
    change_prev_closing_pct as in :func:`with_change`.
    """

    def transform(trades: DataFrame) -> DataFrame:
        figures = trades.transform(daily_figures).transform(with_change(lookback_days))
        return figures.select(*REPORT_COLUMNS)

    return transform


def quarantine_rows(parsed: DataFrame) -> DataFrame:
    """The rejected rows as they came in, with where they came from and why."""
    return parsed.where(F.col("reject_reason").isNotNull()).select(
        F.col("file_date").cast(StringType()).alias("source_date"),
        "source_file",
        "reject_reason",
        *[F.col(f"raw.{name}").alias(name) for name in (*SOURCE_COLUMNS, CORRUPT_COLUMN)],
    )


def row_counts(parsed: DataFrame) -> DataFrame:
    """Rows read per source date and reject reason (null: good rows)."""
    return parsed.groupBy(
        F.col("file_date").cast(StringType()).alias("source_date"), "reject_reason"
    ).count()


def trade_counts(figures: DataFrame) -> DataFrame:
    """Per trading date (= source date of a good row): rows used, duplicates, report rows."""
    return figures.groupBy(F.col("trade_date").cast(StringType()).alias("source_date")).agg(
        F.sum("trades_used").alias("used"),
        (F.sum("trades_read") - F.sum("trades_used")).alias("duplicates"),
        F.count(F.lit(1)).alias("report_rows"),
    )
