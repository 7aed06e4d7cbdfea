"""Config-defined REST API sources: an HttpClient per source, endpoints landed page by page.

A source in YAML (``jobs.<job>.sources.<name>``):

    my_source:
      base_url: ${MY_SOURCE_URL:-http://127.0.0.1:8080}
      api_key: {env: MY_SOURCE_KEY}          # or {secret_id: ..., key: ...}
      api_key_header: X-Api-Key
      rate_per_second: 20
      endpoints:
        accounts: {path: /v2/accounts, pagination: cursor, items_field: data,
                   cursor_field: next_cursor, cursor_param: cursor,
                   limit_param: limit, limit: 50}

Adding a source is configuration plus, when its pagination is not one of page/offset/cursor/link,
a few lines of code; :func:`land_endpoint` lands every page raw under the extraction date and
commits the manifest last (lib.landing).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from lib.config import SecretRef
from lib.http.client import ApiKeyAuth, HttpClient, Response
from lib.http.pagination import (
    paginate_cursor,
    paginate_link_header,
    paginate_offset,
    paginate_pages,
)
from lib.landing import LandingRun
from lib.storage import ObjectStore


@dataclass(frozen=True)
class EndpointConfig:
    path: str
    pagination: Literal["none", "page", "offset", "cursor", "link"] = "none"
    items_field: str | None = None
    cursor_field: str = "next_cursor"
    cursor_param: str = "cursor"
    page_param: str = "page"
    offset_param: str = "offset"
    limit_param: str = "limit"
    limit: int = 100
    # page/offset styles: the body's count of all items (dotted); an empty page before it is an
    # error, reaching it is the end
    total_field: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ApiSourceConfig:
    base_url: str
    endpoints: Mapping[str, EndpointConfig] = field(default_factory=dict)
    api_key: SecretRef | None = None
    api_key_header: str = "X-Api-Key"
    rate_per_second: float | None = None
    max_workers: int = 8
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_retries: int = 5
    backoff_factor: float = 0.5


def client_for(source: ApiSourceConfig, secrets: Any = None) -> HttpClient:
    auth = None
    if source.api_key is not None:
        if secrets is None:
            raise ValueError("an API key reference needs a Secrets helper to resolve it")
        auth = ApiKeyAuth(source.api_key_header, str(secrets.resolve(source.api_key)))
    return HttpClient(
        source.base_url,
        connect_timeout=source.connect_timeout,
        read_timeout=source.read_timeout,
        max_retries=source.max_retries,
        backoff_factor=source.backoff_factor,
        rate_per_second=source.rate_per_second,
        auth=auth,
        pool_size=max(4, source.max_workers),
    )


def pages(client: HttpClient, endpoint: EndpointConfig) -> Iterator[Response]:
    params = dict(endpoint.params)
    if endpoint.pagination == "none":
        yield client.get(endpoint.path, params)
    elif endpoint.pagination == "page":
        yield from paginate_pages(
            client, endpoint.path, endpoint.limit, endpoint.items_field, endpoint.page_param,
            endpoint.limit_param, total_field=endpoint.total_field, params=params,
        )  # fmt: skip
    elif endpoint.pagination == "offset":
        yield from paginate_offset(
            client, endpoint.path, endpoint.limit, endpoint.items_field, endpoint.offset_param,
            endpoint.limit_param, total_field=endpoint.total_field, params=params,
        )  # fmt: skip
    elif endpoint.pagination == "cursor":
        params[endpoint.limit_param] = str(endpoint.limit)
        yield from paginate_cursor(
            client, endpoint.path, endpoint.cursor_field, endpoint.cursor_param, params
        )
    elif endpoint.pagination == "link":
        yield from paginate_link_header(client, endpoint.path, params)
    else:  # pragma: no cover - the config's Literal type rejects it first
        raise ValueError(f"unknown pagination {endpoint.pagination!r}")


def count_items(body: Any, items_field: str | None) -> int | None:
    items = body.get(items_field) if items_field and isinstance(body, dict) else body
    return len(items) if isinstance(items, list) else None


def land_endpoint(
    client: HttpClient,
    store: ObjectStore,
    source_name: str,
    endpoint_name: str,
    endpoint: EndpointConfig,
    extraction_date: date,
    run_id: str,
) -> dict[str, Any]:
    """Every page of one endpoint, landed unchanged, then the manifest. Returns the manifest.

    A failing request raises (lib.http.client.HttpError) before the manifest: nothing is committed,
    and this run's parts are removed.
    """
    run = LandingRun(store, source_name, endpoint_name, extraction_date, run_id)
    try:
        for response in pages(client, endpoint):
            run.add(response.body, response.url, count_items(response.json(), endpoint.items_field))
    except Exception:
        run.abandon()
        raise
    return run.commit()
