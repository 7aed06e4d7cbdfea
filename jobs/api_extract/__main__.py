"""python -m jobs.api_extract --env E --source NAME [--endpoint E] [--target RAW] [--date D]

Lands every page of the configured endpoints of one source (jobs.api_extract.sources.<NAME>)
unchanged under <raw>/<NAME>/<endpoint>/extraction_date=<date>/, manifest last. A new source
is configuration (base URL, credentials reference, endpoints with their pagination style).
Exit 1 if a request finally failed (that endpoint is not committed), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from jobs.api_extract.job import ApiExtractSettings, extract_source
from lib.http.sources import client_for
from lib.runner import JobSpec, RunContext, UsageError, run_job
from lib.storage import ObjectStore


@dataclass(frozen=True)
class ExtractRequest:
    source: str
    endpoints: tuple[str, ...]
    target: str
    day: date


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", required=True)
    parser.add_argument("--endpoint", action="append", help="default: every endpoint")
    parser.add_argument("--target", help="the raw root (default: jobs.api_extract.raw)")
    parser.add_argument("--date", type=date.fromisoformat)


def build_request(args: argparse.Namespace, settings: ApiExtractSettings) -> ExtractRequest:
    source = settings.sources.get(args.source)
    target = args.target or settings.raw
    if source is None or not target:
        known = ", ".join(sorted(settings.sources))
        raise UsageError(f"unknown source {args.source!r} (known: {known}) or no --target")
    endpoints = tuple(args.endpoint or sorted(source.endpoints))
    unknown = [name for name in endpoints if name not in source.endpoints]
    if unknown:
        raise UsageError(f"unknown endpoint(s) {unknown} for {args.source}")
    return ExtractRequest(args.source, endpoints, target, args.date or datetime.now(UTC).date())


def run_extract(context: RunContext) -> dict[str, Any]:
    request: ExtractRequest = context.request
    source = context.settings.sources[request.source]
    client = client_for(source, secrets=context.aws.secrets)
    try:
        return extract_source(
            client, ObjectStore.for_uri(request.target, context.aws), request.source, source,
            request.endpoints, request.day, context.run_id, context.log,
        )  # fmt: skip
    finally:
        client.close()


JOB = JobSpec(
    name="api_extract",
    settings=ApiExtractSettings,
    arguments=add_arguments,
    prepare=build_request,
    body=run_extract,
    uses_spark=False,
    run_name=lambda args: f"{args.source}-extract",
    description=__doc__,
)


def main(argv: list[str] | None = None) -> int:
    return run_job(JOB, argv)


if __name__ == "__main__":
    sys.exit(main())
