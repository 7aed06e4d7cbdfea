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
import sys
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from jobs.countries.job import CountriesSettings, extract, transform
from lib.http.sources import client_for
from lib.runner import JobSpec, RunContext, UsageError, run_job
from lib.storage import ObjectStore


@dataclass(frozen=True)
class CountriesRequest:
    command: str
    day: date
    source: str | None  # transform: the raw root
    target: str  # extract: the raw root; transform: the lake root


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("command", choices=("extract", "transform"))
    parser.add_argument("--base-url", help="API root (default: jobs.countries.api.base_url)")
    parser.add_argument("--source", help="transform: the raw root the extract landed in")
    parser.add_argument("--target", help="extract: the raw root; transform: the lake root")
    parser.add_argument("--date", type=date.fromisoformat, help="extraction date (UTC today)")
    parser.add_argument("--format", choices=("parquet", "delta"))


def build_request(args: argparse.Namespace, settings: CountriesSettings) -> CountriesRequest:
    day = args.date or datetime.now(UTC).date()
    if args.command == "extract":
        target = args.target or settings.raw
        if not target:
            raise UsageError("--target (the raw root) is required")
        return CountriesRequest("extract", day, None, target)
    source, target = args.source or settings.raw, args.target or settings.target
    if not source or not target:
        raise UsageError("--source (raw root) and --target (lake root) are required")
    return CountriesRequest("transform", day, source, target)


def run_countries(context: RunContext) -> dict[str, Any]:
    request: CountriesRequest = context.request
    settings: CountriesSettings = context.settings
    if request.command == "extract":
        return _extract(context, request, settings)
    raw = ObjectStore.for_uri(request.source, context.aws)
    fmt = context.args.format or settings.format
    counts = transform(context.spark, raw, request.target, request.day, fmt, context.log,
                       context.aws)  # fmt: skip
    return {"status": "ok", "extraction_date": request.day.isoformat(), **counts}


def _extract(
    context: RunContext, request: CountriesRequest, settings: CountriesSettings
) -> dict[str, Any]:
    base_url = context.args.base_url
    api = replace(settings.api, base_url=base_url) if base_url else settings.api
    client = client_for(api, secrets=context.aws.secrets)
    try:
        result = extract(
            client, ObjectStore.for_uri(request.target, context.aws), replace(settings, api=api),
            request.day, context.run_id, context.log,
        )  # fmt: skip
    finally:
        client.close()
    return {
        "status": "ok",
        "extraction_date": request.day.isoformat(),
        "run_id": context.run_id,
        "countries": result.codes,
        "requests": result.requests,
        "seconds": result.seconds,
        "manifests": {name: manifest["counts"] for name, manifest in result.manifests.items()},
    }


JOB = JobSpec(
    name="countries",
    settings=CountriesSettings,
    arguments=add_arguments,
    prepare=build_request,
    body=run_countries,
    uses_spark=lambda args: args.command == "transform",
    run_name=lambda args: f"countries-{args.command}",
    description=__doc__,
)


def main(argv: list[str] | None = None) -> int:
    return run_job(JOB, argv)


if __name__ == "__main__":
    sys.exit(main())
