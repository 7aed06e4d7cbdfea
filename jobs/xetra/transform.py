"""Pure DataFrame -> DataFrame steps of the Xetra job: parse, validate, de-duplicate, report.

Input rows come from the Deutsche Börse PDS CSVs read with :data:`RAW_SCHEMA` (every field a
string, so nothing is lost to a failed cast) plus ``source_file`` and ``file_date`` columns.

    flagged = raw.transform(parse_trades).transform(flag_duplicates)
    report = flagged.transform(used_trades).transform(daily_report(lookback_days=14))

Every input row ends in exactly one ``status``: ``used``, ``duplicate`` or ``quarantined`` (with
a ``reject_reason``), so rows read = used + duplicates + quarantined by construction.
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
FILE_DATE_PATTERN = r"(\d{4}-\d{2}-\d{2})_BINS_XETR\d{2}\.csv$"

# Prices are decimal text with at most 4-6 decimals: decimal(20,8) holds them exactly, and a
# division in it keeps 14 decimals.
EXACT = DecimalType(20, 8)

STATUS_USED = "used"
STATUS_DUPLICATE = "duplicate"
STATUS_QUARANTINED = "quarantined"


def raw_name(column: str) -> str:
    """Raw fields are kept as ``raw_<Header>``: Spark's names are case-insensitive, and
    ``ISIN``/``isin`` would clash with the typed columns."""
    return f"raw_{column}"


def _blank(column: Column) -> Column:
    return column.isNull() | (F.trim(column) == "")


def _first_reason(rules: list[tuple[Column, str]]) -> Column:
    """The reason of the first rule that holds, else null."""
    reason = F.lit(None).cast(StringType())
    for condition, name in reversed(rules):
        reason = F.when(condition, F.lit(name)).otherwise(reason)
    return reason


def with_file_date(raw: DataFrame) -> DataFrame:
    """``file_date`` from ``source_file`` (…/<date>_BINS_XETR<HH>.csv)."""
    extracted = F.regexp_extract("source_file", FILE_DATE_PATTERN, 1)
    return raw.withColumn("file_date", F.when(extracted != "", extracted.cast(DateType())))


def parse_trades(raw: DataFrame) -> DataFrame:
    """Typed columns plus ``reject_reason`` (null for a good row); raw fields are kept (raw_*).

    Values are cast only after their text matched the expected shape, so the casts never fail
    (also with spark.sql.ansi.enabled).
    """
    renamed = raw.select(
        *[F.col(name).alias(raw_name(name)) for name in SOURCE_COLUMNS],
        *[name for name in raw.columns if name not in SOURCE_COLUMNS],
    )
    text = {name: F.trim(F.col(raw_name(name))) for name, _ in REQUIRED}
    date = F.when(text["Date"].rlike(DATE_PATTERN), text["Date"].cast(DateType()))
    typed = {name: F.when(text[name].rlike(NUMBER_PATTERN), text[name].cast(DoubleType()))
             for name, _ in PRICES}  # fmt: skip
    typed |= {name: F.when(text[name].rlike(INTEGER_PATTERN), text[name].cast(LongType()))
              for name, _ in COUNTS}  # fmt: skip
    rules: list[tuple[Column, str]] = [
        # too few or too many fields, or broken quoting: Spark keeps the line here
        (F.col(CORRUPT_COLUMN).isNotNull(), "malformed_row"),
    ]
    rules += [(_blank(F.col(raw_name(name))), f"missing_{snake}") for name, snake in REQUIRED]
    rules += [
        (date.isNull(), "unparsable_date"),
        (~text["Time"].rlike(TIME_PATTERN), "unparsable_time"),
    ]
    rules += [(typed[name].isNull(), f"unparsable_{snake}") for name, snake in PRICES + COUNTS]
    rules += [
        (F.least(*[typed[name] for name, _ in PRICES]) < 0, "negative_price"),
        (typed["TradedVolume"] < 0, "negative_volume"),
        (typed["NumberOfTrades"] < 0, "negative_trades"),
        (typed["MinPrice"] > typed["MaxPrice"], "min_above_max"),
        (F.col("file_date").isNull(), "unknown_source_file"),
        (date != F.col("file_date"), "date_mismatch"),
    ]
    return renamed.select(
        "*",
        text["ISIN"].alias("isin"),
        text["Currency"].alias("currency"),
        date.alias("trade_date"),
        text["Time"].alias("time"),
        *[typed[name].alias(snake) for name, snake in PRICES + COUNTS],
        _first_reason(rules).alias("reject_reason"),
    )


def flag_duplicates(parsed: DataFrame) -> DataFrame:
    """``status``: quarantined (bad), duplicate (a repeat of (ISIN, Date, Time)), or used.

    Among repeats the row kept is the first by source file, then by prices and volume, so the
    choice does not depend on partitioning.
    """
    good = F.col("reject_reason").isNull()
    order = [
        "source_file",
        "start_price",
        "end_price",
        "min_price",
        "max_price",
        "traded_volume",
        "number_of_trades",
    ]
    window = Window.partitionBy("isin", "trade_date", "time").orderBy(*order)
    rank = F.when(good, F.row_number().over(window))
    return parsed.withColumn(
        "status",
        F.when(~good, F.lit(STATUS_QUARANTINED))
        .when(rank == 1, F.lit(STATUS_USED))
        .otherwise(F.lit(STATUS_DUPLICATE)),
    )


def used_trades(flagged: DataFrame) -> DataFrame:
    return flagged.where(F.col("status") == STATUS_USED).select(
        "isin",
        "currency",
        "trade_date",
        "time",
        "start_price",
        "max_price",
        "min_price",
        "end_price",
        "traded_volume",
        "number_of_trades",
    )


def daily_report(lookback_days: int = 14) -> Callable[[DataFrame], DataFrame]:
    """One row per ISIN and trading date, in REPORT_COLUMNS order and types.

    opening = StartPrice at the day's earliest Time, closing = EndPrice at its latest Time;
    change_prev_closing_pct = (closing - prev) / prev * 100, half-even to 2 decimals, where prev
    is the closing of the ISIN's most recent earlier trading date at most `lookback_days`
    calendar days before (null when there is none, or when prev is 0).
    """

    def transform(trades: DataFrame) -> DataFrame:
        daily = trades.groupBy("isin", "trade_date").agg(
            F.max("currency").alias("currency"),
            F.min(F.struct("time", "start_price")).getField("start_price").alias("opening_price"),
            F.max(F.struct("time", "end_price")).getField("end_price").alias("closing_price"),
            F.min("min_price").alias("minimum_price"),
            F.max("max_price").alias("maximum_price"),
            F.sum("traded_volume").alias("daily_traded_volume"),
            F.sum("number_of_trades").alias("number_of_trades"),
        )
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
        return daily.withColumn("change_prev_closing_pct", change).select(*REPORT_COLUMNS)

    return transform


def quarantine_rows(flagged: DataFrame) -> DataFrame:
    """The rejected rows as they came in, with where they came from and why."""
    return flagged.where(F.col("status") == STATUS_QUARANTINED).select(
        F.col("file_date").cast(StringType()).alias("source_date"),
        "source_file",
        "reject_reason",
        *[F.col(raw_name(name)).alias(name) for name in SOURCE_COLUMNS],
        CORRUPT_COLUMN,
    )


def row_counts(flagged: DataFrame) -> DataFrame:
    """Rows per source date, status and reason: the run's accounting in one aggregation."""
    return flagged.groupBy(
        F.col("file_date").cast(StringType()).alias("source_date"), "status", "reject_reason"
    ).count()
