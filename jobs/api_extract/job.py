"""The generic extraction of config-defined API sources: every page landed raw, manifest last."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lib.http.client import HttpClient, HttpError
from lib.http.sources import ApiSourceConfig, land_endpoint
from lib.logging.logger import Logger
from lib.runner import JobFailed
from lib.storage import ObjectStore


@dataclass(frozen=True)
class ApiExtractSettings:
    """The `jobs.api_extract` section of the configuration."""

    raw: str | None = None
    sources: Mapping[str, ApiSourceConfig] = field(default_factory=dict)


def extract_source(
    client: HttpClient,
    store: ObjectStore,
    name: str,
    source: ApiSourceConfig,
    endpoints: Sequence[str],
    day: date,
    run_id: str,
    log: Logger,
) -> dict[str, Any]:
    """Land each endpoint; one that fails is not committed, and the run fails after the others."""
    summary: dict[str, Any] = {"source": name, "extraction_date": day.isoformat()}
    failed: list[str] = []
    for endpoint in endpoints:
        try:
            manifest = land_endpoint(
                client, store, name, endpoint, source.endpoints[endpoint], day, run_id
            )
            summary[endpoint] = manifest["counts"]
        except HttpError as error:
            failed.append(error.url)
            log.error("endpoint failed, not committed", endpoint=endpoint, error=str(error))
    summary["failed_urls"] = failed
    if failed:
        raise JobFailed(f"{len(failed)} endpoint(s) failed: {', '.join(failed)}", summary)
    return summary
