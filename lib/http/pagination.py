"""Pagination styles over an HttpClient: page numbers, offsets, a cursor in the body, Link headers.

    for response in paginate_cursor(client, "/v2/accounts", cursor_field="next_cursor"): ...

Each yields the raw responses, in order; lib.http.sources lands them unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from lib.http.client import HttpClient, HttpError, Response


def paginate_pages(
    client: HttpClient,
    path: str,
    page_size: int,
    items_field: str | None = None,
    page_param: str = "page",
    size_param: str = "per_page",
    first_page: int = 1,
    params: Mapping[str, Any] | None = None,
    total_field: str | None = None,
    max_pages: int = 100_000,
) -> Iterator[Response]:
    """page=1,2,… until a page is empty, or the body's `total_field` count is reached.

    A page shorter than `page_size` is not taken for the end: many APIs cap their page size
    below what was asked, and stopping there would land a fraction of the records as if complete.
    """
    return _until_empty_or_total(
        client,
        path,
        lambda index, seen: {
            **(params or {}),
            page_param: first_page + index,
            size_param: page_size,
        },
        items_field,
        total_field,
        max_pages,
    )


def paginate_offset(
    client: HttpClient,
    path: str,
    limit: int,
    items_field: str | None = None,
    offset_param: str = "offset",
    limit_param: str = "limit",
    params: Mapping[str, Any] | None = None,
    total_field: str | None = None,
    max_pages: int = 100_000,
) -> Iterator[Response]:
    """offset=0,… advancing by the items each page held, until a page is empty or the body's
    `total_field` count is reached (a short page is not the end: see paginate_pages)."""
    return _until_empty_or_total(
        client,
        path,
        lambda index, seen: {**(params or {}), offset_param: seen, limit_param: limit},
        items_field,
        total_field,
        max_pages,
    )


def _until_empty_or_total(
    client: HttpClient,
    path: str,
    query: Callable[[int, int], dict[str, Any]],
    items_field: str | None,
    total_field: str | None,
    max_pages: int,
) -> Iterator[Response]:
    """Pages asked with query(page index, items seen so far), until one is empty or the body's
    `total_field` count is reached; more than `max_pages` pages is an error."""
    seen = 0
    for index in range(max_pages):
        response = client.get(path, query(index, seen))
        body = response.json()
        items = _items(response, body, items_field)
        if not items:
            if total_field is not None and _dig(body, total_field) is not None:
                total = _count(response, body, total_field)
                if seen < total:  # the API says there is more: never truncate silently
                    raise HttpError(
                        response.url, response.status,
                        f"an empty page after {seen} of {total} items ({total_field!r})",
                    )  # fmt: skip
            return
        yield response
        seen += len(items)
        if _reached_total(response, body, total_field, seen):
            return
    raise HttpError(client.url(path), None, f"more than {max_pages} pages")


def _items(response: Response, body: Any, items_field: str | None) -> list[Any]:
    items = _dig(body, items_field) if items_field else body
    if not isinstance(items, list):
        where = f"field {items_field!r}" if items_field else "body"
        raise HttpError(response.url, response.status, f"the page's {where} is not a list")
    return items


def _reached_total(response: Response, body: Any, total_field: str | None, seen: int) -> bool:
    if total_field is None:
        return False
    return seen >= _count(response, body, total_field)


def _count(response: Response, body: Any, total_field: str) -> int:
    total = _dig(body, total_field)
    if not isinstance(total, int) or isinstance(total, bool):
        raise HttpError(response.url, response.status, f"{total_field!r} is not a count")
    return total


def paginate_cursor(
    client: HttpClient,
    path: str,
    cursor_field: str = "next_cursor",
    cursor_param: str = "cursor",
    params: Mapping[str, Any] | None = None,
    max_pages: int = 100_000,
) -> Iterator[Response]:
    """Follow the next token in the body (``{"next_cursor": "…"}``) until it is empty."""
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(max_pages):
        query = dict(params or {})
        if cursor:
            query[cursor_param] = cursor
        response = client.get(path, query)
        yield response
        cursor = _dig(response.json(), cursor_field)
        if not cursor:
            return
        if cursor in seen:
            raise HttpError(response.url, response.status, f"cursor {cursor!r} repeats")
        seen.add(cursor)
    raise HttpError(client.url(path), None, f"more than {max_pages} pages")


def paginate_link_header(
    client: HttpClient, path: str, params: Mapping[str, Any] | None = None
) -> Iterator[Response]:
    """Follow ``Link: <…>; rel="next"`` headers (GitHub style)."""
    next_url: str | None = client.url(path)
    query = params
    while next_url:
        response = client.get(next_url, query)
        yield response
        query = None  # the next link carries its own query
        next_url = _next_link(response.headers.get("Link") or response.headers.get("link"))


def _next_link(header: str | None) -> str | None:
    if not header:
        return None
    for part in header.split(","):
        segments = [segment.strip() for segment in part.split(";")]
        if any(segment.replace(" ", "") in ('rel="next"', "rel=next") for segment in segments[1:]):
            return segments[0].strip("<>")
    return None


def _dig(body: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(body, Mapping):
            return None
        body = body.get(part)
    return body
