"""Raw landing of API responses, by extraction date, committed by a manifest written last.

Layout under the raw root:

    <raw>/<source>/<endpoint>/extraction_date=YYYY-MM-DD/_manifest.json
    <raw>/<source>/<endpoint>/extraction_date=YYYY-MM-DD/run=<run_id>/part-00000.json

Bodies are stored unchanged. The manifest (endpoint, request URLs, counts, byte sizes, sha256,
started/finished times) is written last, in one PUT, and names exactly the objects of one run:
readers trust only what it lists. A re-run of the same date writes a new run folder, then the
manifest, then deletes the parts the replaced manifest named, so a reader never sees a mix of two
runs and a concurrent run still landing keeps its parts. (Parts of a run that crashed before its
commit stay as orphans that no manifest names.)
Nothing is committed when `commit` is not reached (a failed extraction leaves the old manifest).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from lib.storage import ObjectStore

MANIFEST = "_manifest.json"
MANIFEST_FORMAT = 1


class LandingError(RuntimeError):
    pass


def date_folder(source: str, endpoint: str, extraction_date: str) -> str:
    """``<source>/<endpoint>/extraction_date=YYYY-MM-DD``, relative to the raw root."""
    return f"{source}/{endpoint}/extraction_date={extraction_date}"


@dataclass(frozen=True)
class LandedPart:
    key: str  # relative to the date folder
    url: str
    bytes: int
    sha256: str
    records: int | None = None


@dataclass
class LandingRun:
    """One extraction of one endpoint for one date: add parts, then commit."""

    store: ObjectStore
    source: str
    endpoint: str
    extraction_date: date
    run_id: str
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    parts: list[LandedPart] = field(default_factory=list)

    @property
    def folder(self) -> str:
        return date_folder(self.source, self.endpoint, self.extraction_date.isoformat())

    def add(self, body: bytes, url: str, records: int | None = None) -> LandedPart:
        key = f"run={self.run_id}/part-{len(self.parts):05d}.json"
        self.store.write_bytes(f"{self.folder}/{key}", body)
        part = LandedPart(key, url, len(body), hashlib.sha256(body).hexdigest(), records)
        self.parts.append(part)
        return part

    def manifest(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "source": self.source,
            "endpoint": self.endpoint,
            "extraction_date": self.extraction_date.isoformat(),
            "run_id": self.run_id,
            "started_at": self.started_at,
            "finished_at": datetime.now(UTC).isoformat(),
            "parts": [part.__dict__ for part in self.parts],
            "counts": {
                "parts": len(self.parts),
                "bytes": sum(part.bytes for part in self.parts),
                "records": sum(part.records or 0 for part in self.parts),
            },
        }

    def commit(self) -> dict[str, Any]:
        """Write the manifest (the commit point), then remove the parts the manifest it
        replaces named. Only those: another run of the same date that is still landing keeps
        its parts, so its own commit later lists only objects that exist."""
        previous = self.store.read_text(f"{self.folder}/{MANIFEST}")
        manifest = self.manifest()
        self.store.write_text(f"{self.folder}/{MANIFEST}", json.dumps(manifest, indent=2))
        if previous is not None:
            replaced = json.loads(previous)
            if replaced.get("run_id") != self.run_id:
                for part in replaced.get("parts", ()):
                    self.store.delete(f"{self.folder}/{part['key']}")
        return manifest

    def abandon(self) -> None:
        """Remove this run's parts (the committed manifest, if any, stays valid)."""
        for part in self.parts:
            self.store.delete(f"{self.folder}/{part.key}")


def read_manifest(store: ObjectStore, source: str, endpoint: str, day: date) -> dict[str, Any]:
    folder = date_folder(source, endpoint, day.isoformat())
    text = store.read_text(f"{folder}/{MANIFEST}")
    if text is None:
        raise LandingError(f"no manifest: {store.uri(folder)}/{MANIFEST} (nothing committed)")
    manifest = json.loads(text)
    if manifest.get("format") != MANIFEST_FORMAT:
        raise LandingError(f"unknown manifest format in {store.uri(folder)}")
    manifest["folder_uri"] = store.uri(folder)
    return manifest


def manifest_part_uris(manifest: dict[str, Any]) -> list[str]:
    return [f"{manifest['folder_uri']}/{part['key']}" for part in manifest["parts"]]


def verify_parts(store: ObjectStore, manifest: dict[str, Any]) -> None:
    """Check every listed part's size and sha256 (readers that want to be sure)."""
    folder = date_folder(manifest["source"], manifest["endpoint"], manifest["extraction_date"])
    for part in manifest["parts"]:
        body = store.read_bytes(f"{folder}/{part['key']}")
        if body is None or hashlib.sha256(body).hexdigest() != part["sha256"]:
            raise LandingError(f"part {part['key']} does not match the manifest in {folder}")
