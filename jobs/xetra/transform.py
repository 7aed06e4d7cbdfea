"""Pure DataFrame -> DataFrame steps of the Xetra job: parse, validate, de-duplicate, report.

Input rows come from the Deutsche Börse PDS CSVs read with :data:`RAW_SCHEMA` (every field a
string, so nothing is lost to a failed cast) plus ``source_file`` and ``file_date`` columns.

    parsed = raw.transform(with_file_date).transform(parse_trades)
    report = parsed.transform(dedupe_trades).transform(daily_report(lookback_days=14))
    quarantine = parsed.transform(quarantine_rows)

The job takes the daily figures from :func:`daily_figures_of_trades` (one aggregation, no
de-duplication) over the lines the JVM line parser takes (:func:`parse_lines`,
:func:`line_trades`; or, without it, over :func:`good_trades`), and uses the de-duplicated path
above only for the dates where a time repeats or the parser left a line.

Every input row is either rejected (``reject_reason`` set: quarantined) or good; each good row
is kept once per (ISIN, Date, Time) or counted as a duplicate (``copies``), so rows read =
used + duplicates + quarantined.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import (
    DateType,
    DecimalType,
    DoubleType,
    IntegerType,
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
QUARANTINE_SCHEMA = StructType(
    [StructField(name, StringType()) for name in ("source_date", "source_file", "reject_reason")]
    + list(RAW_SCHEMA.fields)
)

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
# Java patterns; \z ends the text (Java's $ also matches before a final line terminator, so
# "EUR\u2028" would pass as a currency and "08:00\u2028" as a time)
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}\z"
TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d\z"
CURRENCY_PATTERN = r"^[A-Z]{3}\z"  # the shape of an ISO 4217 code (not a check of the list)
NUMBER_PATTERN = r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\z"
INTEGER_PATTERN = r"^-?\d{1,18}\z"  # fits a long: the cast cannot overflow (ANSI on or off)
FILE_NAME_PATTERN = r"^\d{4}-\d{2}-\d{2}_BINS_XETR\d{2}\.csv\z"

# Prices are decimal text with at most 4-6 decimals: decimal(20,8) holds them exactly, and a
# division in it keeps 14 decimals. Larger prices are rejected (price_out_of_range).
EXACT = DecimalType(20, 8)
PRICE_LIMIT = 1e12  # decimal(20,8) holds less


def _blank(column: Column) -> Column:
    return column.isNull() | (F.trim(column) == "")


def _first_reason(rules: list[tuple[Column, str]]) -> Column:
    """The reason of the first rule that holds, else null."""
    (condition, name), *others = rules
    reason = F.when(condition, F.lit(name))
    for condition, name in others:
        reason = reason.when(condition, F.lit(name))
    return reason


def with_file_date(raw: DataFrame, names_checked: bool = False) -> DataFrame:
    """``file_date`` and ``file_hour`` from ``source_file`` (…/<date>_BINS_XETR<HH>.csv), both
    null for other names.

    The pattern runs on the file name only: on the whole path it cost more than the parse. With
    `names_checked`, the caller has matched every source file's name already (the job, on its
    listing: ``read_sources`` refuses other names and names each file by its key), and the
    pattern is not matched again on every row (that took about 0.3 s of the warm July run);
    other names then get whatever the fixed places hold (a cast error with ANSI on)."""
    name = F.substring_index("source_file", "/", -1)
    file_date = F.substring(name, 1, 10).cast(DateType())
    file_hour = F.substring(name, 21, 2).cast(IntegerType())
    if not names_checked:
        known = name.rlike(FILE_NAME_PATTERN)
        file_date, file_hour = F.when(known, file_date), F.when(known, file_hour)
    return raw.withColumns({"file_date": file_date, "file_hour": file_hour})


def parse_trades(raw: DataFrame) -> DataFrame:
    """Typed columns plus ``reject_reason`` (null for a good row); the raw fields are kept in
    one struct column ``raw`` (the source columns and the corrupt record). A rejected row's
    typed values are null where the text did not parse, and a price beyond a double's range is
    infinite (``unparsable_<price>``).

    Values are cast only after their text matched the expected shape, so the casts never fail
    (also with spark.sql.ansi.enabled). Two projections: the first evaluates each trim, pattern
    and cast once; the rules of the second only compare its columns. (One projection inlined
    every typed value into each rule that used it: several regex matches per field and row, in
    a generated method too long for the JIT; that made this step six times slower.)
    """
    text = {name: F.trim(F.col(name)) for name, _ in REQUIRED}
    date = F.when(text["Date"].rlike(DATE_PATTERN), text["Date"].cast(DateType()))
    # each field's text is cast once: a check of the cast value here would cast it a second
    # time (Spark shares an expression between a condition and the value it guards only when
    # both always run: parsing the prices twice cost about 0.15 s of the warm July run); a
    # number too large for a double (1e400) casts to infinity, which the second projection
    # rejects
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
        text["Currency"].rlike(CURRENCY_PATTERN).alias("_currency_ok"),
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
        (~F.col("_currency_ok"), "unparsable_currency"),
    ]
    rules += [(F.col(snake).isNull() | (F.abs(snake) == float("inf")), f"unparsable_{snake}")
              for _, snake in PRICES]  # fmt: skip
    rules += [(F.col(snake).isNull(), f"unparsable_{snake}") for _, snake in COUNTS]
    rules += [
        (F.least(*[F.col(snake) for _, snake in PRICES]) < 0, "negative_price"),
        (F.greatest(*[F.col(snake) for _, snake in PRICES]) >= PRICE_LIMIT, "price_out_of_range"),
        (F.col("traded_volume") < 0, "negative_volume"),
        (F.col("number_of_trades") < 0, "negative_trades"),
        (F.col("min_price") > F.col("max_price"), "min_above_max"),
        (F.col("file_date").isNull(), "unknown_source_file"),
        (F.col("trade_date") != F.col("file_date"), "date_mismatch"),
    ]
    helpers = [
        "_malformed",
        "_time_ok",
        "_currency_ok",
        *[f"_missing_{snake}" for _, snake in REQUIRED],
    ]
    return values.select(
        *[name for name in values.columns if name not in helpers],
        _first_reason(rules).alias("reject_reason"),
    )


# The JVM line parser of jobs/xetra/java (built into the jobs' jar): one line of an hour file and
# its file's path -> LINE_SCHEMA. It takes only lines that are certainly good rows under the
# rules above (see the class's documentation) and gives their values exactly as parse_trades
# and good_trades would; every other line is LINE_OTHER, and the job reads that line's date
# again with Spark's CSV reader and those rules.
LINE_PARSER_CLASS = "datalake.jobs.xetra.TradeLineParser"
LINE_TRADE, LINE_HEADER, LINE_OTHER = 0, 1, 2
LINE_SCHEMA = StructType(
    [
        StructField("status", IntegerType()),
        StructField("file_date", DateType()),
        StructField("isin", StringType()),
        StructField("currency_number", IntegerType()),
        StructField("minute", IntegerType()),
        *[StructField(snake, DoubleType()) for _, snake in PRICES],
        *[StructField(snake, LongType()) for _, snake in COUNTS],
    ]
)


def parse_lines(lines: DataFrame, parser: str) -> DataFrame:
    """``lines`` (``value``: a line of an hour file, ``source_file``) through the registered
    line parser `parser` (:data:`LINE_PARSER_CLASS`): the columns of :data:`LINE_SCHEMA` and
    ``source_file``, one row per line, header lines included (``status`` LINE_HEADER). A
    LINE_TRADE row is a good row with its values (``file_date`` is its ``trade_date``); a
    LINE_OTHER row has only ``file_date`` (null for a name that is not a real day)."""
    line = F.call_udf(parser, F.col("value"), F.col("source_file"))
    # two projections: Spark keeps a non-trivial expression used more than once in its own
    return lines.select(line.alias("line"), "source_file").select("line.*", "source_file")


def line_trades(lines: DataFrame) -> DataFrame:
    """The good rows of :func:`parse_lines` as the aggregations take them (as
    :func:`good_trades` gives them: the parser gives no negative zero)."""
    return lines.where(F.col("status") == LINE_TRADE).select(
        "isin",
        F.col("file_date").alias("trade_date"),
        "minute",
        *[snake for _, snake in PRICES + COUNTS],
        "currency_number",
    )


def line_metrics(dates: Sequence[date]) -> list[Column]:
    """:func:`read_metrics` over :func:`parse_lines`' rows (header lines are not rows): rows
    read, good (LINE_TRADE) and ``other`` of the source dates `dates`, ``rejected_files`` (none:
    the parser rejects nothing) and ``other_files``, the names of the files of any date with
    LINE_OTHER lines (a JSON list)."""
    in_dates = F.col("file_date").isin(list(dates))
    status = F.col("status")
    name = F.substring_index("source_file", "/", -1)
    return [
        F.count_if(in_dates & (status != LINE_HEADER)).alias("read"),
        F.count_if(in_dates & (status == LINE_TRADE)).alias("good"),
        F.count_if(in_dates & (status == LINE_OTHER)).alias("other"),
        F.lit("[]").alias("rejected_files"),
        F.to_json(F.collect_set(F.when(status == LINE_OTHER, name))).alias("other_files"),
    ]


def minute_of_day(time: str | Column) -> Column:
    """A checked ``HH:MM`` as minutes since midnight (sorts as the text does)."""
    return F.substring(time, 1, 2).cast(IntegerType()) * 60 + F.substring(time, 4, 2).cast(
        IntegerType()
    )


def currency_number(currency: str | Column) -> Column:
    """A checked currency code (three letters A-Z) as a number below 26**3 that sorts as the
    code does: aggregations over numbers run in Spark's hash aggregation (over text, they need a
    sort of every row)."""
    letters = [F.ascii(F.substring(currency, index, 1)) - 65 for index in (1, 2, 3)]
    return (letters[0] * 26 + letters[1]) * 26 + letters[2]


def currency_code(number: str | Column) -> Column:
    """The code of a :func:`currency_number`."""
    value = F.col(number) if isinstance(number, str) else number
    return F.concat(*[F.char(F.floor(value / 26**power) % 26 + 65) for power in (2, 1, 0)])


def good_trades(parsed: DataFrame, *extra: Column) -> DataFrame:
    """The good rows of `parsed` as the aggregations take them: ``isin``, ``trade_date``,
    ``minute`` (:func:`minute_of_day`), the prices and counts, ``currency_number``
    (:func:`currency_number`), and `extra` (over `parsed`'s columns)."""
    # -0.0 + 0.0 is 0.0: copies that differ only in a zero's sign are the same copy (xxhash64
    # gives both zeros one hash, so the choice could not tell them apart), and both ways to the
    # figures see the same zero
    prices = [(F.col(snake) + F.lit(0.0)).alias(snake) for _, snake in PRICES]
    return parsed.where(F.col("reject_reason").isNull()).select(
        "isin",
        "trade_date",
        minute_of_day("time").alias("minute"),
        *prices,
        *[snake for _, snake in COUNTS],
        currency_number("currency").alias("currency_number"),
        *extra,
    )


def dedupe_trades(parsed: DataFrame) -> DataFrame:
    """The good rows, one per (ISIN, Date, Time), with ``copies``: how many good rows had it,
    the time as its :func:`minute_of_day` (``minute``: a checked time has one, and a number
    shuffles and hashes cheaper than its text; in alternated runs on the real July files the
    report's Spark jobs took 5.93 s against 6.30 s, medians of five) and the currency as its
    :func:`currency_number` (``currency_number``).

    Among repeats the row kept is the first by source file, then the one whose values (prices,
    volume, trades, currency) hash lowest (a zero price's sign aside): a fixed choice, whatever
    the partitioning or the order of the rows. The source file is compared by its hour
    (``file_hour``): a good row's Date is its file's date, so every copy of a trade comes from
    the same date folder, whose files differ only in the hour. The choice is one long per row,
    the hour and then the low 56 bits of the values' xxhash64 (two differing copies of one hour
    file whose 56 bits are equal, at odds of 2**-56, are kept in the order they come), so both
    aggregations here run in Spark's hash aggregation. A struct of the values (the choice
    before) needs a sort of every row and an aggregation Spark does not compile: on the real
    July 2017 files, this Spark job took 4.8 s against 1.9 s now. The rows are clustered by ISIN
    first: the daily aggregation and the previous-close window need no other shuffle.
    """
    values = [snake for _, snake in PRICES + COUNTS]
    # hours 00-99 (the file name's two digits) fit below 2**63 with 56 bits of hash
    choice = F.col("file_hour").cast(LongType()) * F.lit(1 << 56) + F.xxhash64(
        *values, "currency"
    ).bitwiseAND(F.lit((1 << 56) - 1))
    trades = (
        good_trades(parsed, choice.alias("choice"))
        .repartition("isin")
        .groupBy("isin", "trade_date", "minute")
        .agg(
            F.count(F.lit(1)).alias("copies"),
            *[F.min_by(name, "choice").alias(name) for name in (*values, "currency_number")],
        )
    )  # fmt: skip
    return trades.select("isin", "currency_number", "trade_date", "minute", *values, "copies")


def _daily_aggregates() -> list[Column]:
    """The report's aggregates per ISIN and date over trades with ``minute`` and
    ``currency_number``: every buffer fixed-width, so Spark runs a hash aggregation."""
    return [
        currency_code(F.max("currency_number")).alias("currency"),
        F.min_by("start_price", "minute").alias("opening_price"),
        F.max_by("end_price", "minute").alias("closing_price"),
        F.min("min_price").alias("minimum_price"),
        F.max("max_price").alias("maximum_price"),
        F.sum("traded_volume").alias("daily_traded_volume"),
        F.sum("number_of_trades").alias("number_of_trades"),
    ]


def daily_figures(trades: DataFrame) -> DataFrame:
    """Per ISIN and trading date: the report's aggregates, plus ``trades_used`` (rows kept)
    and ``trades_read`` (good rows read, repeats included), from de-duplicated trades (one per
    ISIN, date and time, as :func:`dedupe_trades` gives them). Times and currencies are
    compared as numbers (``minute``, ``currency_number``): a hash aggregation."""
    return trades.groupBy("isin", "trade_date").agg(
        *_daily_aggregates(),
        F.count(F.lit(1)).alias("trades_used"),
        F.sum("copies").alias("trades_read"),
    )


MINUTE_WORDS = 23  # a bit per minute of the day: 1,440 bits in 64-bit words


def daily_figures_of_good_rows(parsed: DataFrame) -> DataFrame:
    """:func:`daily_figures` straight from the good rows of `parsed` (``reject_reason`` null),
    not de-duplicated: one aggregation, partly computed before its shuffle, instead of a
    shuffle of every good row and two aggregations (on the real July 2017 files the warm run
    took 5.19 s against 5.56 s, medians of seven runs alternated in one session).

    ``trades_read`` counts the good rows and ``trades_used`` their distinct times (a bit per
    minute of the day, OR-ed). A group whose times are all distinct (``trades_used`` =
    ``trades_read``) gets exactly the figures the de-duplicated trades give; a group with a
    repeated time may count a repeat twice or open and close on either copy, so its figures
    must come from :func:`dedupe_trades` and :func:`daily_figures` instead (the job does that
    for every date that has such a group).
    """
    return good_trades(parsed).transform(daily_figures_of_trades)


def daily_figures_of_trades(trades: DataFrame) -> DataFrame:
    """:func:`daily_figures_of_good_rows` over good rows as :func:`good_trades` (or
    :func:`line_trades`) gives them."""
    minute = F.col("minute")
    word, bit = (
        F.shiftright(minute, 6),
        F.call_function("shiftleft", F.lit(1).cast(LongType()), minute.bitwiseAND(63)),
    )
    words = [F.bit_or(F.when(word == index, bit).otherwise(0)).alias(f"_minutes_{index}")
             for index in range(MINUTE_WORDS)]  # fmt: skip
    figures = trades.groupBy("isin", "trade_date").agg(
        *_daily_aggregates(), F.count(F.lit(1)).alias("trades_read"), *words
    )
    used = F.bit_count(figures["_minutes_0"])
    for index in range(1, MINUTE_WORDS):
        used = used + F.bit_count(figures[f"_minutes_{index}"])
    return figures.select(
        *[name for name in figures.columns if not name.startswith("_minutes_")],
        used.cast(LongType()).alias("trades_used"),
    )


def repeated_times() -> Column:
    """Over figures of :func:`daily_figures_of_good_rows`: whether the group had a time more
    than once (then its figures are not the de-duplicated ones)."""
    return F.col("trades_used") < F.col("trades_read")


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


def read_metrics(dates: Sequence[date]) -> list[Column]:
    """Aggregates for ``DataFrame.observe`` over parsed rows (computed during the pass that
    needs the rows anyway, not by a pass of their own), over the rows of source dates `dates`:
    rows read (``read``), good rows (``good``) and ``rejected_files``, the names of the files
    with rejected rows (a JSON list).

    Totals, not one count per date: each aggregate is evaluated on every row, so per-date counts
    would cost rows x dates (a first run over years of dates would take hours). The per-date
    figures come from the daily figures and the quarantine (see :func:`date_totals`)."""
    in_dates = F.col("file_date").isin(list(dates))
    good = F.col("reject_reason").isNull()
    name = F.substring_index("source_file", "/", -1)
    return [
        F.count_if(in_dates).alias("read"),
        F.count_if(in_dates & good).alias("good"),
        F.to_json(F.collect_set(F.when(in_dates & ~good, name))).alias("rejected_files"),
    ]


def with_input_partition(parsed: DataFrame) -> DataFrame:
    """``input_partition``: the index of the row's partition in the stage that reads it."""
    return parsed.withColumn("input_partition", F.spark_partition_id())


def partition_files(dates: Sequence[date]) -> Column:
    """An aggregate for ``DataFrame.observe`` over parsed rows with ``input_partition``:
    ``partition_files``, the (input partition, file) pairs of the files of `dates` (a JSON
    list of {p, f})."""
    pair = F.struct(F.col("input_partition").alias("p"), F.col("source_file").alias("f"))
    in_dates = F.col("file_date").isin(list(dates))
    return F.to_json(F.collect_set(F.when(in_dates, pair))).alias("partition_files")


def with_date_totals(daily: DataFrame) -> DataFrame:
    """Daily figures plus their date's totals on every row: ``date_used`` (trades used),
    ``date_good`` (good rows they came from: used + duplicates), ``date_rows`` (report rows).

    A window over ``trade_date``: on figures already clustered by date (the report's
    ``repartition("trade_date")``) it adds no shuffle, and its sort is the one the
    partitioned write needs anyway."""
    by_date = Window.partitionBy("trade_date")
    return daily.withColumns(
        {
            "date_used": F.sum("trades_used").over(by_date),
            "date_good": F.sum("trades_read").over(by_date),
            "date_rows": F.count(F.lit(1)).over(by_date),
        }
    )


def date_totals() -> Column:
    """An aggregate for ``DataFrame.observe`` over :func:`with_date_totals`' rows: ``per_date``,
    one {date, used, good, rows} per trading date (a JSON list, as many entries as dates)."""
    totals = F.struct(
        F.col("trade_date").cast(StringType()).alias("date"),
        F.col("date_used").alias("used"),
        F.col("date_good").alias("good"),
        F.col("date_rows").alias("rows"),
    )
    return F.to_json(F.collect_set(totals)).alias("per_date")
