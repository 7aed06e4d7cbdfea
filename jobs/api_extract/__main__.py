"""python -m jobs.api_extract --env E --source NAME [--endpoint E] [--target RAW] [--date D]

Lands every page of the configured endpoints of one source (jobs.api_extract.sources.<NAME>)
unchanged under <raw>/<NAME>/<endpoint>/extraction_date=<date>/, manifest last. A new source
is configuration (base URL, credentials reference, endpoints with their pagination style).
Exit 1 if a request finally failed (that endpoint is not committed), 2 for bad arguments.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from lib.api import ApiSourceConfig, client_for, land_endpoint
from lib.aws import AWS
from lib.cli import job_parser, load_job_config, usage_error
from lib.http import HttpError
from lib.logging.setup import logger_from_config
from lib.storage import ObjectStore


@dataclass(frozen=True)
class ApiExtractSettings:
    raw: str | None = None
    sources: Mapping[str, ApiSourceConfig] = field(default_factory=dict)


def build_parser():
    parser = job_parser("python -m jobs.api_extract", __doc__)
    parser.add_argument("--source", required=True)
    parser.add_argument("--endpoint", action="append", help="default: every endpoint")
    parser.add_argument("--target", help="the raw root (default: jobs.api_extract.raw)")
    parser.add_argument("--date", type=date.fromisoformat)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = load_job_config(args, "api_extract", ApiExtractSettings)
    if config is None:
        return 2
    settings: ApiExtractSettings = config.job
    source = settings.sources.get(args.source)
    raw_uri = args.target or settings.raw
    if source is None or not raw_uri:
        known = ", ".join(sorted(settings.sources))
        print(
            f"error: unknown source {args.source!r} (known: {known}) or no --target",
            file=sys.stderr,
        )
        return 2
    endpoints = args.endpoint or sorted(source.endpoints)
    unknown = [name for name in endpoints if name not in source.endpoints]
    if unknown:
        return usage_error(f"unknown endpoint(s) {unknown} for {args.source}")
    day = args.date or datetime.now(UTC).date()
    run_id = args.run_id or uuid.uuid4().hex[:12]
    aws = AWS.from_config(config.aws)
    log = logger_from_config(config, app_id=f"{args.source}-extract-{run_id}", aws=aws)
    store = ObjectStore.for_uri(raw_uri, aws)
    summary: dict[str, object] = {"source": args.source, "extraction_date": day.isoformat()}
    failed: list[str] = []
    client = client_for(source, secrets=aws.secrets)
    try:
        for name in endpoints:
            try:
                manifest = land_endpoint(
                    client, store, args.source, name, source.endpoints[name], day, run_id
                )
                summary[name] = manifest["counts"]
            except HttpError as error:
                failed.append(error.url)
                log.error("endpoint failed, not committed", endpoint=name, error=str(error))
    finally:
        client.close()
        log.close()
    summary["failed_urls"] = failed
    print(json.dumps(summary, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
