"""Job control: one small JSON record per processed unit (a source date), in one format.

    state = JobState(ObjectStore.for_uri("s3://lake/_state/my_job", aws))
    record = state.get("2024-01-02")
    if record is None or record.fingerprint != fingerprint_of(objects): ...process...
    state.put(StateRecord(unit="2024-01-02", fingerprint=..., counts={...}))   # after the write

Records are written only after the data write succeeded (the caller's duty; the job does it), so
a crash leaves the unit "not processed" and the next run redoes it. A record is one object:
written whole or not at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from lib.storage import ObjectStore, StoredObject

STATE_FORMAT = 1


def fingerprint_of(objects: Iterable[StoredObject]) -> str:
    """sha256 over (key, size, ETag) of the objects, in key order: changes when any does."""
    digest = hashlib.sha256()
    for item in sorted(objects, key=lambda o: o.key):
        digest.update(f"{item.key}\t{item.size}\t{item.etag}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class StateRecord:
    unit: str
    fingerprint: str
    objects: int = 0
    processed_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    counts: Mapping[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    format: int = STATE_FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self) | {"counts": dict(self.counts)}, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> StateRecord:
        data = json.loads(text)
        if data.get("format") != STATE_FORMAT:
            raise ValueError(f"unknown state record format {data.get('format')!r}")
        return cls(**data)


class JobState:
    def __init__(self, store: ObjectStore, folder: str = "units") -> None:
        self.store = store
        self.folder = folder

    def _key(self, unit: str) -> str:
        return f"{self.folder}/{unit}.json"

    def get(self, unit: str) -> StateRecord | None:
        text = self.store.read_text(self._key(unit))
        return StateRecord.from_json(text) if text is not None else None

    def put(self, record: StateRecord) -> None:
        self.store.write_text(self._key(record.unit), record.to_json())

    def units(self) -> list[str]:
        prefix = f"{self.folder}/"
        return sorted(
            item.key[len(prefix) : -len(".json")]
            for item in self.store.list(prefix)
            if item.key.endswith(".json")
        )

    def write_summary(self, name: str, summary: Mapping[str, Any]) -> str:
        key = f"runs/{name}.json"
        self.store.write_text(key, json.dumps(summary, indent=2, sort_keys=True, default=str))
        return self.store.uri(key)
