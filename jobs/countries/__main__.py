"""python -m jobs.countries extract|transform ...

    extract   --env E [--base-url URL] --target <raw uri> [--date YYYY-MM-DD]
    transform --env E --source <raw uri> --target <lake uri> [--date YYYY-MM-DD] [--format F]

extract: /v3.1/all in groups of at most 10 fields and /v3.1/alpha/{cca3} for every country,
in parallel, landed raw under <raw>/restcountries/<endpoint>/extraction_date=<date>/ with the
manifest written last. Exit 1 with the failed URLs if any request finally failed (nothing is
committed then). transform: the landed records of a date (as the manifest lists them) -> the
countries, country_currencies and country_languages tables (and a quarantine), partitioned by
extraction_date, idempotent per date. Exit 2 for wrong arguments or configuration.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime

from jobs.countries.job import CountriesSettings, ExtractionFailed, extract, transform
from lib.api import client_for
from lib.aws import AWS
from lib.cli import job_parser, load_job_config, usage_error
from lib.landing import LandingError
from lib.logging.setup import logger_from_config
from lib.storage import ObjectStore


def build_parser() -> argparse.ArgumentParser:
    parser = job_parser("python -m jobs.countries", __doc__)
    parser.add_argument("command", choices=("extract", "transform"))
    parser.add_argument("--base-url", help="API root (default: jobs.countries.api.base_url)")
    parser.add_argument("--source", help="transform: the raw root the extract landed in")
    parser.add_argument("--target", help="extract: the raw root; transform: the lake root")
    parser.add_argument("--date", type=date.fromisoformat, help="extraction date (UTC today)")
    parser.add_argument("--format", choices=("parquet", "delta"))
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = load_job_config(args, "countries", CountriesSettings)
    if config is None:
        return 2
    settings: CountriesSettings = config.job
    day = args.date or datetime.now(UTC).date()
    run_id = args.run_id or uuid.uuid4().hex[:12]
    aws = AWS.from_config(config.aws)
    if args.command == "extract":
        raw_uri = args.target or settings.raw
        if not raw_uri:
            return usage_error("--target (the raw root) is required")
        api = replace(settings.api, base_url=args.base_url) if args.base_url else settings.api
        log = logger_from_config(config, app_id=f"countries-extract-{run_id}", aws=aws)
        client = client_for(api, secrets=aws.secrets)
        try:
            result = extract(
                client, ObjectStore.for_uri(raw_uri, aws), replace(settings, api=api), day,
                run_id, log,
            )  # fmt: skip
        except ExtractionFailed as error:
            log.error("extraction failed, nothing committed", failed_urls=error.failed)
            print(json.dumps({"status": "failed", "failed_urls": error.failed}, indent=2))
            print(f"error: {error}", file=sys.stderr)
            return 1
        finally:
            client.close()
            log.close()
        summary = {
            "status": "ok",
            "extraction_date": day.isoformat(),
            "run_id": run_id,
            "countries": result.codes,
            "requests": result.requests,
            "seconds": result.seconds,
            "manifests": {k: m["counts"] for k, m in result.manifests.items()},
        }
        print(json.dumps(summary, indent=2))
        return 0

    raw_uri = args.source or settings.raw
    target = args.target or settings.target
    if not raw_uri or not target:
        return usage_error("--source (raw root) and --target (lake root) are required")
    from pyspark.sql import SparkSession

    from lib.spark import SparkFactory

    owns_session = SparkSession.getActiveSession() is None
    spark = SparkFactory.from_config(config).create_session(
        app_name=config.spark.app_name, log_level=config.spark.log_level
    )
    log = logger_from_config(config, app_id=spark.sparkContext.applicationId, aws=aws)
    try:
        counts = transform(
            spark, ObjectStore.for_uri(raw_uri, aws), target, day,
            args.format or settings.format, log, aws,
        )  # fmt: skip
    except LandingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except Exception as error:
        log.exception("countries transform failed")
        print(
            f"error: {type(error).__name__}: {' '.join(str(error).split())[:300]}", file=sys.stderr
        )
        return 1
    finally:
        log.close()
        if owns_session:
            spark.stop()
    print(json.dumps({"status": "ok", "extraction_date": day.isoformat(), **counts}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
