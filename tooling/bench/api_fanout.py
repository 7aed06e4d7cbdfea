"""API extraction: the HTTP client's fan-out against sequential requests on the local fake API
(50 ms latency per response), same paths, same client."""

from __future__ import annotations

import time
from typing import Any

LATENCY = 0.05
WORKERS = (1, 8, 16)


def bench_api(requests: int = 100) -> dict[str, Any]:
    from lib.http import HttpClient
    from tooling.local.api_server import FakeApiServer

    with FakeApiServer(latency=LATENCY) as api:
        codes = sorted(record["cca3"] for record in api.countries)
        paths = [f"/v3.1/alpha/{codes[i % len(codes)]}" for i in range(requests)]
        seconds = {}
        for workers in WORKERS:
            client = HttpClient(api.base_url)
            started = time.perf_counter()
            result = client.fetch_all(paths, max_workers=workers)
            seconds[workers] = time.perf_counter() - started
            client.close()
            if not result.ok:
                raise RuntimeError(f"{len(result.failures)} requests failed with {workers} workers")
    sequential = seconds[1]
    return {
        "requests": requests,
        "latency_seconds": LATENCY,
        "seconds": {str(w): round(s, 2) for w, s in seconds.items()},
        "speedup": {str(w): round(sequential / s, 1) for w, s in seconds.items() if w != 1},
    }
