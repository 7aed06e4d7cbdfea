"""The Xetra job: pick the source dates, read their hourly CSVs, write report and quarantine.

Extract: list only the date prefixes the run needs (with a thread pool), fingerprint each date
(keys, sizes, ETags) and compare with the job state. Transform: the pure steps of
jobs.xetra.transform. Load: the report and the quarantine, replacing exactly the dates written;
then, and only then, one state record per processed date and the run summary.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pyspark import StorageLevel
from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from jobs.xetra.transform import (
    CORRUPT_COLUMN,
    HEADER,
    LINE_PARSER_CLASS,
    LINE_SCHEMA,
    QUARANTINE_SCHEMA,
    RAW_SCHEMA,
    REPORT_COLUMNS,
    REPORT_SCHEMA,
    SOURCE_COLUMNS,
    daily_figures,
    daily_figures_of_trades,
    date_totals,
    dedupe_trades,
    good_trades,
    line_metrics,
    line_trades,
    parse_lines,
    parse_trades,
    partition_files,
    quarantine_rows,
    read_metrics,
    repeated_times,
    with_change,
    with_date_totals,
    with_file_date,
    with_input_partition,
)
from lib.logging.executor import ExecutorLogConfig, task_logger
from lib.logging.logger import Logger
from lib.spark.io import empty_frame, job_description, observable, observed, write_partitions
from lib.state import JobState, StateRecord, fingerprint_of
from lib.storage import (
    LocalStore,
    ObjectStore,
    StoredObject,
    check_spark_path,
    join_uri,
    spark_uri,
)

SOURCE_KEY = re.compile(
    r"^(\d{4}-\d{2}-\d{2})/(\d{4}-\d{2}-\d{2})_BINS_XETR(\d{2})\.csv\Z", re.ASCII
)
HEADER_ONLY = (HEADER + "\n").encode()  # a file of an hour without trading
HEADER_ONLY_ETAG = hashlib.md5(HEADER_ONLY, usedforsecurity=False).hexdigest()
REPORT_TABLE = "xetra_daily_report"
LINE_PARSER = "xetra_trade_line"  # the JVM line parser's name in the session
QUARANTINE_TABLE = "quarantine/xetra"


@dataclass(frozen=True)
class XetraSettings:
    """The `jobs.xetra` section of the configuration."""

    source: str | None = None
    target: str | None = None
    first_date: str = "2022-01-01"
    lookback_days: int = 14
    format: Literal["parquet", "delta"] = "parquet"
    state_uri: str | None = None
    list_parallelism: int = 16


@dataclass(frozen=True)
class RunRequest:
    source: str
    target: str
    fmt: Literal["parquet", "delta"]
    start: date | None = None
    end: date | None = None
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def __post_init__(self) -> None:
        if (self.start is None) != (self.end is None):
            raise ValueError("give both --start and --end, or neither")
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"--start {self.start} is after --end {self.end}")
        check_spark_path(self.source)  # before anything is read or written
        check_spark_path(self.target)


class XetraJobError(RuntimeError):
    """The run cannot go on (its message is the one-line reason main prints)."""


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def list_dates(
    store: ObjectStore, dates: Iterable[date], parallelism: int
) -> dict[date, list[StoredObject]]:
    """The hour files under each `<date>/` prefix (nothing else is listed)."""
    wanted = sorted(set(dates))

    def one(day: date) -> list[StoredObject]:
        found = []
        for item in store.list(f"{day.isoformat()}/"):
            match = SOURCE_KEY.match(item.key)
            if match and match.group(1) == match.group(2) == day.isoformat():
                found.append(item)
        return sorted(found, key=lambda item: item.key)

    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        return dict(zip(wanted, pool.map(one, wanted), strict=True))


def plan(
    request: RunRequest,
    settings: XetraSettings,
    source: ObjectStore,
    state: JobState,
) -> tuple[list[date], dict[date, list[StoredObject]], dict[date, str]]:
    """(dates to process, listings of every date to read, why each date is processed)."""
    lookback = timedelta(days=settings.lookback_days)
    why: dict[date, str] = {}
    if request.start is not None and request.end is not None:
        dates = days(request.start, request.end)
        why = dict.fromkeys(dates, "requested")
        listings = list_dates(
            source, days(request.start - lookback, request.end), settings.list_parallelism
        )
        return dates, listings, why
    first = date.fromisoformat(settings.first_date)
    candidates = days(first - lookback, request.today)
    listings = list_dates(source, candidates, settings.list_parallelism)
    processed = set(state.units())
    for day in days(first, request.today):
        record = state.get(day.isoformat()) if day.isoformat() in processed else None
        fingerprint = fingerprint_of(listings[day])
        if record is None:
            if listings[day]:
                why[day] = "new"
        elif record.fingerprint != fingerprint:
            why[day] = "changed"
    changed = sorted(why)
    for day in changed:  # later dates whose change_prev_closing_pct may use a changed close
        for later in days(day + timedelta(days=1), min(day + lookback, request.today)):
            if later.isoformat() in processed and later not in why:
                why[later] = f"depends_on:{day.isoformat()}"
    return sorted(why), listings, why


def reports_without_sources(
    dates: list[date], listings: Mapping[date, list[StoredObject]], report_store: ObjectStore
) -> list[date]:
    """The dates to write that no source file was listed for, but whose report partition holds
    a file: a wrong source (a typo, a date's folder given as the root) or files gone. A day
    without trading has no files and no report, and passes."""
    return [
        day
        for day in dates
        if not listings.get(day)
        and next(iter(report_store.list(f"trade_date={day.isoformat()}/")), None) is not None
    ]


def header_only_files(store: ObjectStore, files: list[StoredObject], parallelism: int) -> set[str]:
    """The keys of the files that hold exactly the header line (hours without trading; Spark
    need not open them). Known by size and S3 ETag (the MD5 of a single-part object), else by
    reading their 136 bytes; a file of that size with anything else in it is read as data."""
    candidates = [item for item in files if item.size == len(HEADER_ONLY)]
    known = {item.key for item in candidates if item.etag.strip('"') == HEADER_ONLY_ETAG}
    unknown = [item for item in candidates if item.key not in known]
    if unknown:
        with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
            bodies = pool.map(lambda item: store.read_bytes(item.key), unknown)
            known |= {item.key for item, body in zip(unknown, bodies, strict=True)
                      if body == HEADER_ONLY}  # fmt: skip
    return known


def source_uris(source_root: str, files: list[StoredObject]) -> list[str]:
    """The URIs Spark reads `files` by: the root resolved once, the keys as listed (a key
    resolved with its path would name a linked file by its target, whose name is not the
    key's: its rows dated by another name). Every key must be of the PDS layout."""
    unknown = [item.key for item in files if not SOURCE_KEY.match(item.key)]
    if unknown:
        raise XetraJobError(f"not an hour file of the PDS layout: {', '.join(unknown[:5])}")
    root = spark_uri(source_root)
    return [join_uri(root, item.key) for item in files]


def register_line_parser(spark: SparkSession) -> str | None:
    """The name of the JVM line parser (transform.LINE_PARSER_CLASS) registered in `spark`, or
    None when its class is not on the session's class path (the jobs' jar, `make setup` locally
    and the deploy's --jars / --extra-jars on a cluster)."""
    try:
        spark.udf.registerJavaFunction(LINE_PARSER, LINE_PARSER_CLASS, LINE_SCHEMA)
    except AnalysisException:
        return None
    return LINE_PARSER


def read_lines(
    spark: SparkSession, source_root: str, files: list[StoredObject], parser: str
) -> DataFrame:
    """The lines of `files` through the line parser (transform.parse_lines)."""
    lines = spark.read.text(source_uris(source_root, files))
    return lines.withColumn("source_file", F.input_file_name()).transform(parse_lines, parser)


def read_sources(spark: SparkSession, source_root: str, files: list[StoredObject]) -> DataFrame:
    """The raw rows of the given hour files (header-only files are not read at all).

    Lines with too few or too many fields land in the corrupt-record column. Header lines are
    dropped here by exact match; anything else, a damaged header included, is a row and gets
    accounted for (quarantined). Every file's key must be ``<date>/<date>_BINS_XETR<HH>.csv``
    (as the listing keeps them), so the rows' file names need no check of their own
    (``with_file_date(names_checked=True)``).
    """
    uris = source_uris(source_root, files)
    if not uris:
        return empty_frame(spark, RAW_SCHEMA).withColumn("source_file", F.lit(""))
    raw = spark.read.csv(
        uris,
        schema=RAW_SCHEMA,
        header=False,
        mode="PERMISSIVE",
        columnNameOfCorruptRecord=CORRUPT_COLUMN,
        quote='"',
        escape='"',
    )
    is_header = F.lit(True)
    for name in SOURCE_COLUMNS:
        is_header = is_header & (F.col(name) == name)
    return raw.where(~is_header | is_header.isNull()).withColumn("source_file", F.input_file_name())


def parsed_sources(spark: SparkSession, source_root: str, files: list[StoredObject]) -> DataFrame:
    """The rows of `files` parsed (parse_trades), with their file's date and hour: the names
    need no check per row, read_sources took only hour files of the PDS layout."""
    return (
        read_sources(spark, source_root, files)
        .transform(with_file_date, names_checked=True)
        .transform(parse_trades)
    )


def parse_barrier(parsed: DataFrame) -> DataFrame:
    """`parsed` behind a node Spark's optimizer does not push filters through (an observed
    row count, never read). Without it, a filter on ``reject_reason`` is pushed below the
    parse with every typed value inlined into each rule (the trap parse_trades describes):
    the quarantine's pass then took 4x the time of the report's over the same files."""
    return parsed.observe(Observation(), F.count(F.lit(1)).alias("rows"))


def read_quarantine(
    spark: SparkSession, source_root: str, files: list[StoredObject], dates: Iterable[date]
) -> DataFrame:
    """The rejected rows of `files` (those of `dates`), parsed again with the same rules.

    The date filter sits above the barrier too: below it, Spark wrote it into the parse's
    generated method as one comparison per date (up to 10 dates), which took that method over
    HotSpot's 8,000-byte JIT limit (tests/jobs/xetra/test_generated_code.py)."""
    return (
        parsed_sources(spark, source_root, files)
        .transform(parse_barrier)
        .where(_date_filter("file_date", dates))
        .transform(quarantine_rows)
    )


def _date_filter(column: str, dates: Iterable[date]) -> Any:
    return F.col(column).isin([day.isoformat() for day in dates])


@dataclass(frozen=True)
class PartitionFigures:
    """What one input partition of the reading stage held of the run's dates (for the
    executors' log lines)."""

    partition: int
    files: int
    rows_quarantined: int


def partition_figures(
    observed: Mapping[str, Any], quarantined: Iterable[Any]
) -> list[PartitionFigures]:
    """Per input partition: the run's files it read (observed during the pass) and their rows
    quarantined (counted on the quarantine, per file). A file Spark split over several
    partitions counts once, for the first of them, so the figures add up to the run's."""
    rejected_in: dict[str, int] = defaultdict(int)
    for row in quarantined:
        rejected_in[row["source_file"]] += row["count"]
    first_partition: dict[str, int] = {}
    for pair in json.loads(observed["partition_files"]):
        first_partition[pair["f"]] = min(pair["p"], first_partition.get(pair["f"], pair["p"]))
    files: dict[int, list[str]] = defaultdict(list)
    for name, partition in first_partition.items():
        files[partition].append(name)
    return [
        PartitionFigures(index, len(names), sum(rejected_in[name] for name in names))
        for index, names in sorted(files.items())
    ]


def _log_partitions(
    spark: SparkSession, figures: list[PartitionFigures], log_config: ExecutorLogConfig
) -> None:
    """Executors report per-partition figures (files read, rows quarantined) to CloudWatch.

    The figures were counted while the rows were read (DataFrame.observe) and on the
    quarantine: one small task per partition logs them, instead of a second pass over the rows."""

    def report(figure: PartitionFigures) -> None:
        with task_logger(log_config) as log:
            log.info(
                "partition parsed",
                partition=figure.partition,
                files=figure.files,
                rows_quarantined=figure.rows_quarantined,
            )

    if figures:
        with job_description(spark, "xetra: executors' log lines"):
            spark.sparkContext.parallelize(figures, len(figures)).foreach(report)


def _metrics(observation: Observation, what: str) -> dict[str, Any]:
    metrics = observed(observation)
    if metrics is None:
        raise XetraJobError(f"the counts of the {what} were not observed (see the log)")
    return metrics


def _files_named(names: str, files: list[StoredObject]) -> list[StoredObject]:
    """The files of `files` whose names are in `names` (an observed JSON list of file names)."""
    wanted = set(json.loads(names))
    return [item for item in files if item.key.rsplit("/", 1)[-1] in wanted]


def figures_plan(
    spark: SparkSession,
    source_root: str,
    data_files: list[StoredObject],
    dates: list[date],
    per_partition: bool,
    parser: str | None = None,
) -> tuple[DataFrame, Observation]:
    """The daily figures of every date `data_files` hold, from one pass over the CSVs with no
    de-duplication (daily_figures_of_trades: exact where no time repeats), with the observation
    that pass fills: the rows read and good of `dates`, the files with rejected rows, and with
    `per_partition` which partition read which file. The lines are read by the JVM line
    parser registered as `parser` (the figures of the lines it takes; the observation names the
    files whose dates need Spark's CSV reader: ``other_files``, see transform.line_metrics), or,
    without one, by Spark's CSV reader and parse_trades."""
    if parser is None:
        rows = parsed_sources(spark, source_root, data_files).drop("raw")
        metrics, good = read_metrics(dates), good_trades
    else:
        rows = read_lines(spark, source_root, data_files, parser)
        metrics, good = line_metrics(dates), line_trades
    rows_seen = Observation("xetra_rows")
    if per_partition:
        rows = rows.transform(with_input_partition)
        metrics.append(partition_files(dates))
    # the good rows' filter sits above the observation, which Spark's optimizer does not push
    # a filter through: below it, the parser would run once for the filter and once more for
    # the values (parse_barrier tells the same of parse_trades)
    figures = rows.observe(rows_seen, *metrics).transform(good)
    return figures.transform(daily_figures_of_trades), rows_seen


def deduplicated_figures(
    spark: SparkSession, source_root: str, files: list[StoredObject], dates: list[date]
) -> tuple[DataFrame, Observation, Observation]:
    """The daily figures of the dates of `files` from their de-duplicated trades (the files
    read and parsed again, with the same rules), with two observations: their rows read and
    good of `dates` and their files with rejected rows (read_metrics; also the barrier
    parse_barrier describes), and the dates where an ISIN had a time more than once."""
    rows_seen, repeated_seen = Observation("xetra_rows_again"), Observation("xetra_repeated_again")
    figures = (
        parsed_sources(spark, source_root, files)
        .drop("raw")
        .observe(rows_seen, *read_metrics(dates))
        .transform(dedupe_trades)
        .transform(daily_figures)
    )
    return figures.observe(repeated_seen, repeated_dates()), rows_seen, repeated_seen


def repeated_dates() -> Column:
    """An aggregate for ``DataFrame.observe`` over daily figures: ``dates``, the dates where an
    ISIN had a time more than once (a JSON list)."""
    return F.to_json(F.collect_set(F.when(repeated_times(), F.col("trade_date")))).alias("dates")


def _dates_in(metrics: Mapping[str, Any]) -> list[date]:
    return sorted(date.fromisoformat(day) for day in json.loads(metrics["dates"]))


def report_plan(
    figures: DataFrame, dates: list[date], lookback_days: int
) -> tuple[DataFrame, Observation]:
    """The report of `dates` from the daily figures of every date read (report rows, one
    partition per date), with the observation its write fills: the figures' totals per date."""
    daily_seen = Observation("xetra_daily")
    report = (
        figures.transform(with_change(lookback_days))
        .where(_date_filter("trade_date", dates))
        .repartition("trade_date")  # one file per date
        .transform(with_date_totals)
        .observe(daily_seen, date_totals())
        .select(*REPORT_COLUMNS)
    )
    return report, daily_seen


@dataclass(frozen=True)
class ReportPass:
    """What the report's pass found: its counts, and which dates were read a second time."""

    read: dict[str, Any]  # the rows read and good of the run's dates, the files with rejects
    daily: dict[str, Any]  # the figures' totals per date (date_totals)
    deduplicated: list[date]  # dates where an ISIN had a time more than once
    read_again: list[date]  # dates whose figures came from a second read (repeats, other lines)
    line_parser: str  # "jvm": the JVM line parser read the files; "spark_csv": Spark's reader


def _report_pass(
    spark: SparkSession,
    request: RunRequest,
    settings: XetraSettings,
    data_files: list[StoredObject],
    dates: list[date],
    report_uri: str,
    report_store: ObjectStore,
    per_partition: bool,
) -> ReportPass:
    """One pass over the CSVs gives the daily figures of every date read (kept in memory: a
    few rows per ISIN and date), observing on the way the run's rows read and good and the
    files with rejected rows (and, for the executors' log lines, which partition read which
    file). With the JVM line parser on the class path the pass reads lines with it (several
    times faster than Spark's CSV reader and the field checks); without it, with Spark's CSV
    reader and parse_trades. The dates where an ISIN has a time more than once, and the dates
    with a line the JVM parser does not take, get their figures again from their de-duplicated
    trades, their files read a second time with Spark's CSV reader and parse_trades (and, for
    the latter, their counts too). Then the report's write, observing the figures' totals per
    date (trades used, good rows they came from, report rows)."""
    parser = register_line_parser(spark)
    single_pass, rows_seen = figures_plan(
        spark, request.source, data_files, dates, per_partition, parser
    )
    repeated_seen = Observation("xetra_repeated")
    figures = single_pass.observe(repeated_seen, repeated_dates())
    with observable(spark):  # the cached plan is planned now, with the conf of this moment
        figures = figures.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        with job_description(spark, "xetra: read, parse, daily figures"), observable(spark):
            figures.write.format("noop").mode("overwrite").save()  # the figures, kept
        read = _metrics(rows_seen, "rows read")
        repeated = _dates_in(_metrics(repeated_seen, "dates with repeated times"))
        again = sorted(set(repeated) | set(_dates_of_other_lines(read, data_files)))
        report_figures, again_seen, repeated_again = figures, None, None
        if again:
            names = {day.isoformat() for day in again}
            files = [item for item in data_files if item.key.split("/", 1)[0] in names]
            figures_again, again_seen, repeated_again = deduplicated_figures(
                spark, request.source, files, dates
            )
            report_figures = figures.where(~F.col("trade_date").isin(again)).unionByName(
                figures_again
            )
        report, daily_seen = report_plan(report_figures, dates, settings.lookback_days)
        values = [day.isoformat() for day in dates]
        with job_description(spark, "xetra: report"):
            write_partitions(report, report_uri, "trade_date", request.fmt, values=values,
                             store=report_store)  # fmt: skip
        again_in_run = sorted(set(again) & set(dates))
        if parser is not None and again_seen is not None and again_in_run:
            read = _counted_again(spark, read, figures, again_seen, again_in_run)
        if repeated_again is not None:  # the parser's first pass saw no repeats in lines it left
            repeated = _dates_in(_metrics(repeated_again, "dates read again with repeated times"))
    finally:
        figures.unpersist()
    return ReportPass(
        read=read,
        daily=_metrics(daily_seen, "daily figures"),
        deduplicated=repeated,
        read_again=again,
        line_parser="spark_csv" if parser is None else "jvm",
    )


def _dates_of_other_lines(read: Mapping[str, Any], files: list[StoredObject]) -> list[date]:
    """The dates of the files where the JVM line parser left lines (``other_files``)."""
    left = _files_named(read.get("other_files", "[]"), files)
    return sorted({date.fromisoformat(item.key.split("/", 1)[0]) for item in left})


def _counted_again(
    spark: SparkSession,
    read: Mapping[str, Any],
    figures: DataFrame,
    again_seen: Observation,
    again: list[date],
) -> dict[str, Any]:
    """The JVM parser's counts of the run's dates with those of `again` (run dates whose files
    were read a second time) replaced by the second read's: the rows read and good of those
    dates in the first pass are their good rows in its figures (``trades_read``) and every
    line it left (``other``: all of them are in those dates)."""
    second = _metrics(again_seen, "rows read again")
    with job_description(spark, "xetra: first counts of the dates read again"):
        first_good = (
            figures.where(F.col("trade_date").isin(again))
            .agg(F.coalesce(F.sum("trades_read"), F.lit(0)).alias("good"))
            .first()["good"]
        )
    return {
        **read,
        "read": read["read"] - first_good - read["other"] + second["read"],
        "good": read["good"] - first_good + second["good"],
        "rejected_files": second["rejected_files"],
    }


def run(
    spark: SparkSession,
    request: RunRequest,
    settings: XetraSettings,
    aws: Any,
    log: Logger,
    log_config: ExecutorLogConfig | None = None,
) -> dict[str, Any]:
    started = time.monotonic()
    source = ObjectStore.for_uri(request.source, aws)
    if isinstance(source, LocalStore) and not source.path.is_dir():
        # no files would mean empty reports for the dates asked, replacing the ones there
        what = "is not a folder" if source.path.exists() else "does not exist"
        raise XetraJobError(f"the source folder {source.path} {what}")
    spark_uri(request.source)  # resolved (a link or the working directory may bring in a glob)
    spark_uri(request.target)
    report_uri = join_uri(request.target, REPORT_TABLE)
    quarantine_uri = join_uri(request.target, QUARANTINE_TABLE)
    state = JobState(
        ObjectStore.for_uri(settings.state_uri or join_uri(request.target, "_state/xetra"), aws)
    )
    dates, listings, why = plan(request, settings, source, state)
    log.info("planned", dates=[d.isoformat() for d in dates], reasons={
        d.isoformat(): r for d, r in why.items()})  # fmt: skip
    summary: dict[str, Any] = {
        "run_id": request.run_id,
        "source": request.source,
        "target": request.target,
        "format": request.fmt,
        "dates": [day.isoformat() for day in dates],
    }
    if not dates:
        summary |= {"files": 0, "rows": {"read": 0}, "report_rows": 0, "dates_deduplicated": [],
                    "dates_read_again": [], "line_parser": None,
                    "seconds": round(time.monotonic() - started, 2)}  # fmt: skip
        log.info("nothing to do", **summary)
        state.write_summary(request.run_id, summary)
        return summary

    report_store = ObjectStore.for_uri(report_uri, aws)
    orphaned = reports_without_sources(dates, listings, report_store)
    if orphaned:
        raise XetraJobError(
            f"no source files for {', '.join(d.isoformat() for d in orphaned)}, whose report "
            f"is in {report_uri}: a wrong --source, or the files are gone; the run would "
            "replace that report with an empty one (delete the partition to do that)"
        )

    lookback = timedelta(days=settings.lookback_days)
    read_dates = sorted({d - timedelta(days=k) for d in dates for k in range(lookback.days + 1)})
    files = [item for day in read_dates for item in listings.get(day, [])]
    header_only = header_only_files(source, files, settings.list_parallelism)
    data_files = [item for item in files if item.key not in header_only]
    run_files = [item for day in dates for item in listings.get(day, [])]
    report_values = [d.isoformat() for d in dates]

    repeated: list[date] = []
    again: list[date] = []
    line_parser = None
    if data_files:
        report_pass = _report_pass(
            spark,
            request,
            settings,
            data_files,
            dates,
            report_uri,
            report_store,
            log_config is not None,
        )
        observed, daily = report_pass.read, report_pass.daily
        repeated, again = report_pass.deduplicated, report_pass.read_again
        line_parser = report_pass.line_parser
        if line_parser == "spark_csv":
            log.warning(
                f"the JVM line parser ({LINE_PARSER_CLASS}, in datalake-etl-jobs.jar) is not on "
                "the session's class path: Spark's CSV reader read the lines (the same results, "
                "slower); `make jobs-jar` builds it locally, the deploy ships it (--jars on EMR, "
                "--extra-jars on Glue)"
            )
    else:  # nothing to read: nothing counted (Spark drops observations over no rows)
        observed = {"read": 0, "good": 0, "rejected_files": "[]", "partition_files": "[]"}
        daily = {"per_date": "[]"}
        write_partitions(empty_frame(spark, REPORT_SCHEMA), report_uri, "trade_date",
                         request.fmt, values=report_values, store=report_store)  # fmt: skip

    # The quarantine: only the files that had rejected rows are read again, with the same rules.
    rejected_files = _files_named(observed["rejected_files"], run_files)
    if rejected_files:
        quarantine = read_quarantine(spark, request.source, rejected_files, dates).persist(
            StorageLevel.MEMORY_AND_DISK
        )
    else:
        quarantine = empty_frame(spark, QUARANTINE_SCHEMA)
    try:
        with job_description(spark, "xetra: quarantine"):
            quarantined = (
                quarantine.groupBy("source_date", "source_file", "reject_reason").count().collect()
                if rejected_files
                else []
            )
            write_partitions(
                quarantine,
                quarantine_uri,
                "source_date",
                request.fmt,
                values=report_values,
                store=ObjectStore.for_uri(quarantine_uri, aws),
            )
    finally:
        quarantine.unpersist()

    if log_config is not None:
        _log_partitions(spark, partition_figures(observed, quarantined), log_config)
    per_date = _accounting(observed, daily, quarantined, dates)
    for day in dates:
        figures = per_date[day.isoformat()]
        state.put(
            StateRecord(
                unit=day.isoformat(),
                fingerprint=fingerprint_of(listings.get(day, [])),
                objects=len(listings.get(day, [])),
                counts=figures,
                run_id=request.run_id,
            )
        )
    totals = _totals(per_date.values())
    summary |= {
        "reasons": {d.isoformat(): r for d, r in why.items()},
        "files": len(run_files),
        "files_read": sum(1 for item in run_files if item.key not in header_only),
        "rows": totals,
        "report_rows": sum(figures["report_rows"] for figures in per_date.values()),
        # the dates read (lookback included) where an ISIN had a time more than once: their
        # figures came from their de-duplicated trades, their files read a second time
        "dates_deduplicated": [day.isoformat() for day in repeated],
        # the dates read (lookback included) whose figures came from a second read of their
        # files with Spark's CSV reader: repeated times, or lines the JVM line parser left
        "dates_read_again": [day.isoformat() for day in again],
        # what read the lines: "jvm" (the jobs' jar), "spark_csv" (without it), null (no file)
        "line_parser": line_parser,
        "per_date": per_date,
        "seconds": round(time.monotonic() - started, 2),
    }
    summary["summary_uri"] = state.write_summary(request.run_id, summary)
    log.info("run finished", **{k: v for k, v in summary.items() if k != "per_date"})
    return summary


def read_report(spark: SparkSession, target: str, fmt: str = "parquet") -> DataFrame:
    """The report table as defined: REPORT_COLUMNS in order (partition columns come last in
    a Parquet read)."""
    from lib.spark.io import read_table

    return read_table(spark, join_uri(target, REPORT_TABLE), fmt).select(*REPORT_COLUMNS)


def _accounting(
    read: Mapping[str, Any],
    daily: Mapping[str, Any],
    quarantined: list[Any],
    dates: list[date],
) -> dict[str, dict[str, Any]]:
    """Per date figures from independent counts, checked against each other:

    - the rows read and the good rows of the run's dates, and the files with rejected rows,
      observed during the parse;
    - per date, the rows used and the good rows they came from, counted on the de-duplicated
      daily figures;
    - per date, file and reason, the rows quarantined, counted on the quarantine (read again
      from the files with rejected rows, with the same rules).

    The rows read must be exactly good + quarantined, the good rows exactly the used and
    duplicate rows of the daily figures, every quarantined row must come from a file the parse
    saw rejects in (a file that changed between the two reads fails here) and sit under that
    file's date (a guard against a change of the quarantine's date column), and each such file
    must have quarantined rows. A date's rows read are its used + duplicate + quarantined
    rows."""
    totals = {entry["date"]: entry for entry in json.loads(daily["per_date"])}
    per_date: dict[str, dict[str, Any]] = {}
    for day in (d.isoformat() for d in dates):
        figures = totals.get(day, {"used": 0, "good": 0, "rows": 0})
        per_date[day] = {
            "read": figures["good"],
            "used": figures["used"],
            "duplicates": figures["good"] - figures["used"],
            "quarantined": 0,
            "quarantined_by_reason": {},
            "report_rows": figures["rows"],
        }
    rejected_files = set(json.loads(read["rejected_files"]))
    quarantined_files = set()
    for row in quarantined:
        name = row["source_file"].rsplit("/", 1)[-1]
        quarantined_files.add(name)
        if name not in rejected_files or name[:10] != row["source_date"]:
            raise XetraJobError(
                f"row accounting does not add up: the quarantine holds {row['count']} rows of "
                f"{name} under {row['source_date']}; the parse saw rejects in "
                f"{sorted(rejected_files)}"
            )
        figures = per_date[row["source_date"]]
        figures["read"] += row["count"]
        figures["quarantined"] += row["count"]
        reasons = figures["quarantined_by_reason"]
        reasons[row["reject_reason"]] = reasons.get(row["reject_reason"], 0) + row["count"]
    if rejected_files != quarantined_files:
        raise XetraJobError(
            f"row accounting does not add up: the parse saw rejects in "
            f"{sorted(rejected_files - quarantined_files)}, the quarantine has none of them"
        )
    good = sum(entry["good"] for entry in totals.values())
    quarantined_rows = sum(row["count"] for row in quarantined)
    by_date = "; ".join(
        f"{day}: {figures['read'] - figures['quarantined']} good, "
        f"{figures['quarantined']} quarantined"
        for day, figures in per_date.items()
        if figures["read"]
    )
    if read["read"] != read["good"] + quarantined_rows:
        raise XetraJobError(
            f"row accounting does not add up: {read['read']} rows read, "
            f"{read['good']} good + {quarantined_rows} quarantined (per date: {by_date})"
        )
    if read["good"] != good:
        raise XetraJobError(
            f"row accounting does not add up: {read['good']} good rows read, "
            f"{good} used or duplicate in the daily figures (per date: {by_date})"
        )
    for figures in per_date.values():
        figures["quarantined_by_reason"] = dict(sorted(figures["quarantined_by_reason"].items()))
    return per_date


def _totals(per_date: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    totals: dict[str, Any] = {"read": 0, "used": 0, "duplicates": 0, "quarantined": 0}
    reasons: dict[str, int] = defaultdict(int)
    for figures in per_date:
        for key in totals:
            totals[key] += figures[key]
        for reason, count in figures["quarantined_by_reason"].items():
            reasons[reason] += count
    totals["quarantined_by_reason"] = dict(sorted(reasons.items()))
    return totals
