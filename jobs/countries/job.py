"""Extract (HTTP -> raw landing) and transform (landed JSON -> three tables) for REST Countries."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.countries.transform import (
    CORRUPT_COLUMN,
    RECORD_SCHEMA,
    countries,
    country_currencies,
    country_languages,
    quarantine,
    with_reject_reason,
)
from lib.http import HttpClient
from lib.http.sources import ApiSourceConfig
from lib.landing import LandingRun, manifest_part_uris, read_manifest
from lib.logging.logger import Logger
from lib.runner import JobFailed
from lib.spark.io import empty_frame, write_partitions
from lib.storage import ObjectStore, join_uri, spark_uri

SOURCE = "restcountries"
# The 35 top-level keys of a v3.1 record (../shared/data/countries/README.md)
ALL_FIELDS = (
    "name", "tld", "cca2", "ccn3", "cca3", "cioc", "fifa", "independent", "status", "unMember",
    "currencies", "idd", "capital", "capitalInfo", "altSpellings", "region", "subregion",
    "continents", "languages", "translations", "latlng", "landlocked", "borders", "area", "flag",
    "demonyms", "flags", "coatOfArms", "population", "maps", "gini", "car", "postalCode",
    "startOfWeek", "timezones",
)  # fmt: skip
MAX_FIELDS_PER_REQUEST = 10  # the live API answers 400 to /all with more (or no) fields
TABLES = ("countries", "country_currencies", "country_languages")


@dataclass(frozen=True)
class CountriesSettings:
    """The `jobs.countries` section of the configuration."""

    api: ApiSourceConfig
    raw: str | None = None
    target: str | None = None
    format: Literal["parquet", "delta"] = "parquet"
    fields: tuple[str, ...] = ALL_FIELDS
    fields_per_request: int = MAX_FIELDS_PER_REQUEST


class ExtractionFailed(JobFailed):
    """Requests that finally failed; nothing was committed (the run's summary lists them)."""

    def __init__(self, failed: list[str]) -> None:
        super().__init__(
            f"{len(failed)} request(s) failed, nothing committed: {', '.join(failed[:20])}",
            summary={"status": "failed", "failed_urls": failed},
        )
        self.failed = failed


def field_groups(fields: tuple[str, ...], size: int) -> list[tuple[str, ...]]:
    """Groups of at most `size` fields, `cca3` in the first (it keys the alpha lookups)."""
    if not 1 <= size <= MAX_FIELDS_PER_REQUEST:
        raise ValueError(f"fields_per_request must be 1..{MAX_FIELDS_PER_REQUEST}")
    ordered = ["cca3", *[name for name in fields if name != "cca3"]]
    return [tuple(ordered[i : i + size]) for i in range(0, len(ordered), size)]


@dataclass
class ExtractResult:
    manifests: dict[str, dict[str, Any]] = field(default_factory=dict)
    codes: int = 0
    requests: int = 0
    seconds: float = 0.0


def extract(
    client: HttpClient,
    raw: ObjectStore,
    settings: CountriesSettings,
    extraction_date: date,
    run_id: str,
    log: Logger,
) -> ExtractResult:
    """/all in field groups, then /alpha/{cca3} for every code, in parallel; commit both or none."""
    started = time.monotonic()
    groups = field_groups(settings.fields, settings.fields_per_request)
    all_requests = [("/v3.1/all", {"fields": ",".join(group)}) for group in groups]
    listed = client.fetch_all(all_requests, max_workers=settings.api.max_workers)
    if not listed.ok:
        raise ExtractionFailed([failure.url for failure in listed.failures])
    codes = sorted({record["cca3"] for record in listed.responses[0].json() if record.get("cca3")})
    log.info("listed countries", codes=len(codes), field_groups=len(groups))
    alpha = client.fetch_all(
        [f"/v3.1/alpha/{code}" for code in codes], max_workers=settings.api.max_workers
    )
    if not alpha.ok:
        raise ExtractionFailed([failure.url for failure in alpha.failures])

    result = ExtractResult(codes=len(codes), requests=len(all_requests) + len(codes))
    runs = []
    for endpoint, responses in (("all", listed.responses), ("alpha", alpha.responses)):
        run = LandingRun(raw, SOURCE, endpoint, extraction_date, run_id)
        try:
            for response in responses:
                assert response is not None
                body = response.json()
                run.add(response.body, response.url, len(body) if isinstance(body, list) else 1)
        except Exception:
            run.abandon()
            for landed in runs:
                landed.abandon()
            raise
        runs.append(run)
    for run in runs:  # both endpoints landed: commit them
        result.manifests[run.endpoint] = run.commit()
    result.seconds = round(time.monotonic() - started, 2)
    return result


def read_landed(spark: SparkSession, raw: ObjectStore, extraction_date: date) -> DataFrame:
    """The alpha records of a date, reading only the parts its manifest lists."""
    manifest = read_manifest(raw, SOURCE, "alpha", extraction_date)
    uris = [spark_uri(uri) for uri in manifest_part_uris(manifest)]
    if not uris:
        return empty_frame(spark, RECORD_SCHEMA).withColumn("source_file", F.lit(""))
    return (
        spark.read.schema(RECORD_SCHEMA)
        .option("multiLine", True)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT_COLUMN)
        .json(uris)
        .withColumn("source_file", F.input_file_name())
    )


def transform(
    spark: SparkSession,
    raw: ObjectStore,
    target: str,
    extraction_date: date,
    fmt: Literal["parquet", "delta"],
    log: Logger,
    aws: Any = None,
) -> dict[str, Any]:
    started = time.monotonic()
    day = extraction_date.isoformat()
    records = read_landed(spark, raw, extraction_date).transform(with_reject_reason)
    records = records.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        counts: dict[str, Any] = {"records": records.count()}
        outputs = {
            "countries": records.transform(countries(day)),
            "country_currencies": records.transform(country_currencies(day)),
            "country_languages": records.transform(country_languages(day)),
            "quarantine/countries": records.transform(quarantine(day)),
        }
        for table, output in outputs.items():
            frame = output.coalesce(1).persist(StorageLevel.MEMORY_AND_DISK)
            counts[table] = frame.count()
            # values=[day]: a re-run replaces the date, also when it now has no rows
            uri = join_uri(target, table)
            write_partitions(
                frame,
                uri,
                "extraction_date",
                fmt,
                values=[day],
                store=ObjectStore.for_uri(uri, aws),
            )
            frame.unpersist()
        reasons = records.where(F.col("reject_reason").isNotNull()).groupBy("reject_reason")
        counts["quarantined_by_reason"] = {r[0]: r[1] for r in reasons.count().collect()}
    finally:
        records.unpersist()
    counts["seconds"] = round(time.monotonic() - started, 2)
    log.info("countries curated", extraction_date=day, **counts)
    return counts
