"""HTTP extraction: the client (lib.http.client), pagination styles (lib.http.pagination) and
config-defined API sources landed raw (lib.http.sources)."""

from lib.http.client import (
    ApiKeyAuth,
    Failure,
    FanOutResult,
    HttpClient,
    HttpError,
    RateLimiter,
    Response,
    basic_auth,
)
from lib.http.pagination import (
    paginate_cursor,
    paginate_link_header,
    paginate_offset,
    paginate_pages,
)

__all__ = [
    "ApiKeyAuth",
    "Failure",
    "FanOutResult",
    "HttpClient",
    "HttpError",
    "RateLimiter",
    "Response",
    "basic_auth",
    "paginate_cursor",
    "paginate_link_header",
    "paginate_offset",
    "paginate_pages",
]
