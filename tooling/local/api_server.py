"""A local stand-in for the REST Countries API v3.1 and a billing-style cursor API, with faults.

    with FakeApiServer(countries=load_countries(), latency=0.05) as server:
        server.base_url                 # http://127.0.0.1:PORT
        server.fail_first = 1           # every path fails once (429, 500, dropped, in turn)

Endpoints, as the live API behaves (2025-2026):
  GET /v3.1/all?fields=a,b     400 unless `fields` names 1..10 fields; records cut to those fields
  GET /v3.1/alpha/{code}       [record] for a cca2/cca3/ccn3 code (any case); 404 otherwise
  GET /v2/accounts?cursor=&limit=   {"data": [...], "next_cursor": "..."} (billing style)
  GET /v1/items?page=&per_page= | ?offset=&limit=   a JSON list (page / offset pagination)
  GET /v1/linked?page=         a JSON list and a `Link: <...>; rel="next"` header
Faults: `latency` seconds per request; `fail_first` failed attempts per distinct path (round-robin
429 with Retry-After / 500 / dropped connection); or `fault_rate` with a seeded generator.
Requests are counted in `requests` (path -> attempts). Used by the tests and `make run-countries`.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from tooling.local.background_server import BackgroundHttpServer

MAX_FIELDS = 10
FAULTS = ("429", "500", "drop")


def shared_countries_path() -> Path:
    return Path(__file__).resolve().parents[2].parent / "shared/data/countries/countries_v3.1.json"


def load_countries(path: Path | None = None) -> list[dict[str, Any]]:
    """The real 250 records when ../shared is there, else the built-in synthetic fixture."""
    path = path or shared_countries_path()
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return synthetic_countries()


def _country(cca3: str, cca2: str, ccn3: str, name: str, **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "name": {"common": name, "official": f"Republic of {name}", "nativeName": {}},
        "tld": [f".{cca2.lower()}"],
        "cca2": cca2,
        "ccn3": ccn3,
        "cca3": cca3,
        "cioc": cca3,
        "fifa": cca3,
        "independent": True,
        "status": "officially-assigned",
        "unMember": True,
        "currencies": {"EUR": {"name": "Euro", "symbol": "€"}},
        "idd": {"root": "+4", "suffixes": ["9"]},
        "capital": [f"{name} City"],
        "capitalInfo": {"latlng": [50.0, 10.0]},
        "altSpellings": [cca2],
        "region": "Europe",
        "subregion": "Western Europe",
        "continents": ["Europe"],
        "languages": {"deu": "German"},
        "translations": {},
        "latlng": [51.0, 9.0],
        "landlocked": False,
        "borders": [],
        "area": 1000,
        "flag": "",
        "demonyms": {},
        "flags": {"png": "", "svg": "", "alt": ""},
        "coatOfArms": {},
        "population": 1_000_000,
        "maps": {},
        "gini": {},
        "car": {"signs": [cca2], "side": "right"},
        "postalCode": {"format": "#####", "regex": "^(\\d{5})$"},
        "startOfWeek": "monday",
        "timezones": ["UTC+01:00"],
    }
    record.update(overrides)
    return record


def synthetic_countries() -> list[dict[str, Any]]:
    """A dozen records with the real shape and its edge cases (for clones without ../shared)."""
    return [
        _country("DEU", "DE", "276", "Germany", borders=["AUT", "FRA", "CHE"], area=357114,
                 population=83240525, landlocked=False),
        _country("AUT", "AT", "040", "Austria", borders=["DEU", "CHE"], landlocked=True),
        _country("FRA", "FR", "250", "France", borders=["DEU", "CHE"],
                 languages={"fra": "French"}),
        _country("CHE", "CH", "756", "Switzerland", borders=["AUT", "FRA", "DEU"],
                 currencies={"CHF": {"name": "Swiss franc", "symbol": "Fr."}},
                 languages={"fra": "French", "deu": "German", "ita": "Italian",
                            "roh": "Romansh"}, unMember=True, landlocked=True),
        _country("ATA", "AQ", "010", "Antarctica", capital=[], currencies={}, languages={},
                 region="Antarctic", subregion="", independent=False, unMember=False,
                 cioc="", fifa="", population=1000, area=14000000),
        _country("MAC", "MO", "446", "Macau", capital=[], region="Asia",
                 subregion="Eastern Asia", independent=False, unMember=False,
                 currencies={"MOP": {"name": "Macanese pataca", "symbol": "P"}},
                 languages={"por": "Portuguese", "zho": "Chinese"}, area=30.5, cioc="",
                 fifa=""),
        _country("USA", "US", "840", "United States", region="Americas",
                 subregion="North America",
                 currencies={"USD": {"name": "United States dollar", "symbol": "$"}},
                 languages={"eng": "English"}, borders=["CAN", "MEX"], area=9372610.0,
                 timezones=["UTC-12:00", "UTC-05:00"]),
        _country("CAN", "CA", "124", "Canada", region="Americas", subregion="North America",
                 currencies={"CAD": {"name": "Canadian dollar", "symbol": "$"}},
                 languages={"eng": "English", "fra": "French"}, borders=["USA"]),
        _country("MEX", "MX", "484", "Mexico", region="Americas", subregion="North America",
                 currencies={"MXN": {"name": "Mexican peso", "symbol": "$"}},
                 languages={"spa": "Spanish"}, borders=["USA"]),
        _country("BVT", "BV", "074", "Bouvet Island", capital=[], currencies={},
                 languages={}, region="Antarctic", subregion="", independent=False,
                 unMember=False, population=0, area=49),
        _country("ZWE", "ZW", "716", "Zimbabwe", region="Africa", subregion="Southern Africa",
                 currencies={"BWP": {"name": "Botswana pula", "symbol": "P"},
                             "USD": {"name": "United States dollar", "symbol": "$"}},
                 languages={"eng": "English", "sna": "Shona"}, landlocked=True),
        _country("NZL", "NZ", "554", "New Zealand", region="Oceania",
                 subregion="Australia and New Zealand",
                 currencies={"NZD": {"name": "New Zealand dollar", "symbol": "$"}},
                 languages={"eng": "English", "mri": "Māori"}, area=270467.0),
    ]  # fmt: skip


def synthetic_accounts(count: int = 95) -> list[dict[str, Any]]:
    """Billing-style accounts for the cursor API."""
    return [
        {
            "id": f"acct_{index:05d}",
            "name": f"Customer {index}",
            "plan": ("free", "team", "enterprise")[index % 3],
            "mrr_cents": (index % 3) * 4900,
            "created": f"2024-{1 + index % 12:02d}-{1 + index % 28:02d}",
        }
        for index in range(count)
    ]


class FakeApiServer(BackgroundHttpServer):
    def __init__(
        self,
        countries: Sequence[dict[str, Any]] | None = None,
        accounts: Sequence[dict[str, Any]] | None = None,
        latency: float = 0.0,
        fail_first: int = 0,
        fault_rate: float = 0.0,
        seed: int = 7,
        require_api_key: str | None = None,
        retry_after: str = "0",
        max_page_size: int | None = None,
    ) -> None:
        self.retry_after = retry_after
        # like many real APIs: a page holds at most this many items, whatever was asked
        self.max_page_size = max_page_size
        self.countries = list(countries if countries is not None else load_countries())
        self.accounts = list(accounts if accounts is not None else synthetic_accounts())
        self.latency = latency
        self.fail_first = fail_first
        self.fault_rate = fault_rate
        self.require_api_key = require_api_key
        self.requests: Counter[str] = Counter()
        self.faults_sent: Counter[str] = Counter()
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._by_code: dict[str, dict[str, Any]] = {}
        for record in self.countries:
            for key in ("cca2", "cca3", "ccn3"):
                if record.get(key):
                    self._by_code[str(record[key]).upper()] = record
        super().__init__()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    # ------------------------------------------------------------------ behaviour

    def fault_for(self, path: str) -> str | None:
        with self._lock:
            self.requests[path] += 1
            attempt = self.requests[path]
            if attempt <= self.fail_first:
                fault = FAULTS[(sum(map(ord, path)) + attempt) % len(FAULTS)]
            elif self.fault_rate and self._random.random() < self.fault_rate:
                fault = self._random.choice(FAULTS)
            else:
                return None
            self.faults_sent[fault] += 1
            return fault

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        if path == "/v3.1/all":
            fields = [f for f in (query.get("fields", [""])[0]).split(",") if f]
            if not fields or len(fields) > MAX_FIELDS:
                return 400, {"status": 400, "message": "'fields' query not specified or too many"}
            return 200, [{k: r[k] for k in fields if k in r} for r in self.countries]
        if path.startswith("/v3.1/alpha/"):
            record = self._by_code.get(path.rsplit("/", 1)[1].upper())
            if record is None:
                return 404, {"status": 404, "message": "Not Found"}
            return 200, [record]
        if path == "/v2/accounts":
            limit = int(query.get("limit", ["25"])[0])
            start = int(query.get("cursor", ["0"])[0] or 0)
            page = self.accounts[start : start + limit]
            following = start + limit
            return 200, {
                "data": page,
                "next_cursor": str(following) if following < len(self.accounts) else None,
            }
        if path == "/v1/items":
            if "offset" in query:
                start, size = int(query["offset"][0]), int(query.get("limit", ["10"])[0])
            else:
                size = int(query.get("per_page", ["10"])[0])
                if self.max_page_size:
                    size = min(size, self.max_page_size)
                start = (int(query.get("page", ["1"])[0]) - 1) * size
            if self.max_page_size:
                size = min(size, self.max_page_size)
            return 200, self.accounts[start : start + size]
        return 404, {"status": 404, "message": "Not Found"}

    def linked_page(self, query: dict[str, list[str]]) -> tuple[Any, dict[str, str]]:
        page = int(query.get("page", ["1"])[0])
        size = 20
        items = self.accounts[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(self.accounts):
            headers["Link"] = f'<{self.base_url}/v1/linked?page={page + 1}>; rel="next"'
        return items, headers


def _handler_for(server: FakeApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms stalls

        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            if server.latency:
                time.sleep(server.latency)
            fault = server.fault_for(self.path)
            if fault == "drop":
                self.close_connection = True
                self.connection.close()
                return
            if fault == "429":
                return self._send(
                    429, {"message": "Too Many Requests"}, {"Retry-After": server.retry_after}
                )
            if fault == "500":
                return self._send(500, {"message": "Internal Server Error"})
            if server.require_api_key and self.headers.get("X-Api-Key") != server.require_api_key:
                return self._send(401, {"message": "Unauthorized"})
            if parsed.path == "/v1/linked":
                body, headers = server.linked_page(parse_qs(parsed.query))
                return self._send(200, body, headers)
            status, body = server.answer(parsed.path, parse_qs(parsed.query))
            return self._send(status, body)

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return Handler
