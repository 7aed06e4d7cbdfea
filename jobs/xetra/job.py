"""The Xetra job: pick the source dates, read their hourly CSVs, write report and quarantine.

Extract: list only the date prefixes the run needs (with a thread pool), fingerprint each date
(keys, sizes, ETags) and compare with the job state. Transform: the pure steps of
jobs.xetra.transform. Load: the report and the quarantine, replacing exactly the dates written;
then, and only then, one state record per processed date and the run summary.
"""

from __future__ import annotations

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
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.xetra.transform import (
    CORRUPT_COLUMN,
    HEADER,
    RAW_SCHEMA,
    REPORT_COLUMNS,
    SOURCE_COLUMNS,
    daily_figures,
    dedupe_trades,
    keep_raw_of_rejected,
    parse_trades,
    quarantine_rows,
    row_counts,
    trade_counts,
    with_change,
    with_file_date,
)
from lib.logging.executor import ExecutorLogConfig, task_logger
from lib.logging.logger import Logger
from lib.spark.io import write_partitions
from lib.state import JobState, StateRecord, fingerprint_of
from lib.storage import ObjectStore, StoredObject, join_uri, spark_uri

SOURCE_KEY = re.compile(r"^(\d{4}-\d{2}-\d{2})/(\d{4}-\d{2}-\d{2})_BINS_XETR(\d{2})\.csv$")
HEADER_ONLY_BYTES = len(HEADER) + 1  # header + LF: an hour without trading
REPORT_TABLE = "xetra_daily_report"
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


def read_sources(spark: SparkSession, source_root: str, files: list[StoredObject]) -> DataFrame:
    """The raw rows of the given hour files (header-only files are not read at all).

    Lines with too few or too many fields land in the corrupt-record column. Header lines are
    dropped here by exact match; anything else, a damaged header included, is a row and gets
    accounted for (quarantined).
    """
    uris = [spark_uri(join_uri(source_root, item.key)) for item in files]
    if not uris:
        return spark.createDataFrame([], RAW_SCHEMA).withColumn("source_file", F.lit(""))
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


def _date_filter(column: str, dates: Iterable[date]) -> Any:
    return F.col(column).isin([day.isoformat() for day in dates])


def _log_partitions(parsed: DataFrame, log_config: ExecutorLogConfig) -> None:
    """Executors report per-partition figures (files, rows, quarantined) to CloudWatch."""

    def report(rows):
        files, total, quarantined = set(), 0, 0
        for row in rows:
            files.add(row.source_file)
            total += 1
            quarantined += row.reject_reason is not None
        with task_logger(log_config) as log:
            log.info(
                "partition parsed",
                files=len(files),
                rows_parsed=total,
                rows_quarantined=quarantined,
            )
        yield total

    parsed.select("source_file", "reject_reason").rdd.mapPartitions(report).sum()


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
        summary |= {"files": 0, "rows": {"read": 0}, "report_rows": 0,
                    "seconds": round(time.monotonic() - started, 2)}  # fmt: skip
        log.info("nothing to do", **summary)
        state.write_summary(request.run_id, summary)
        return summary

    lookback = timedelta(days=settings.lookback_days)
    read_dates = sorted({d - timedelta(days=k) for d in dates for k in range(lookback.days + 1)})
    files = [item for day in read_dates for item in listings.get(day, [])]
    data_files = [item for item in files if item.size != HEADER_ONLY_BYTES]
    run_files = [item for day in dates for item in listings.get(day, [])]

    raw = read_sources(spark, request.source, data_files)
    # One pass over the CSVs: the cache holds typed values, and raw text of rejected rows only.
    parsed = (
        raw.transform(with_file_date).transform(parse_trades).transform(keep_raw_of_rejected)
    ).persist(StorageLevel.MEMORY_AND_DISK)
    daily: DataFrame | None = None
    try:
        in_run = parsed.where(_date_filter("file_date", dates))
        if log_config is not None:
            _log_partitions(in_run, log_config)
        read = in_run.transform(row_counts).collect()
        daily = (
            parsed.transform(dedupe_trades)
            .transform(daily_figures)
            .transform(with_change(settings.lookback_days))
            .where(_date_filter("trade_date", dates))
        ).persist(StorageLevel.MEMORY_AND_DISK)
        used = daily.transform(trade_counts).collect()
        report_values = [d.isoformat() for d in dates]
        write_partitions(
            daily.select(*REPORT_COLUMNS).repartition("trade_date"),  # one file per date
            report_uri,
            "trade_date",
            request.fmt,
            values=report_values,
            store=ObjectStore.for_uri(report_uri, aws),
        )
        write_partitions(
            quarantine_rows(in_run),
            quarantine_uri,
            "source_date",
            request.fmt,
            values=report_values,
            store=ObjectStore.for_uri(quarantine_uri, aws),
        )
    finally:
        parsed.unpersist()
        if daily is not None:
            daily.unpersist()

    per_date = _accounting(read, used, dates)
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
        "files_read": sum(1 for item in run_files if item.size != HEADER_ONLY_BYTES),
        "rows": totals,
        "report_rows": sum(figures["report_rows"] for figures in per_date.values()),
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


def _accounting(read: list[Any], used: list[Any], dates: list[date]) -> dict[str, dict[str, Any]]:
    """Per date figures from the two independent counts: rows read by reason (the parse) and
    rows used/duplicates (the de-duplication). Good rows must be exactly used + duplicates."""
    per_date: dict[str, dict[str, Any]] = {
        day.isoformat(): {
            "read": 0,
            "used": 0,
            "duplicates": 0,
            "quarantined": 0,
            "quarantined_by_reason": {},
            "report_rows": 0,
        }
        for day in dates
    }
    good: dict[str, int] = defaultdict(int)
    for row in read:
        figures = per_date[row["source_date"]]
        figures["read"] += row["count"]
        if row["reject_reason"] is None:
            good[row["source_date"]] += row["count"]
        else:
            figures["quarantined"] += row["count"]
            reasons = figures["quarantined_by_reason"]
            reasons[row["reject_reason"]] = reasons.get(row["reject_reason"], 0) + row["count"]
    for row in used:
        figures = per_date[row["source_date"]]
        figures |= {key: row[key] for key in ("used", "duplicates", "report_rows")}
    for day, figures in per_date.items():
        if good[day] != figures["used"] + figures["duplicates"]:
            raise XetraJobError(
                f"row accounting does not add up for {day}: {good[day]} good rows read, "
                f"{figures['used']} used + {figures['duplicates']} duplicates"
            )
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
