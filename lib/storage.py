"""Small-object storage behind one interface for ``s3://``/``s3a://`` and ``file://`` URIs.

Jobs use it for what is not a Spark table: listing source objects (with size and ETag, for
fingerprints), state records, run summaries, manifests. Spark reads and writes the tables.

    store = ObjectStore.for_uri("s3://bucket/prefix", aws)       # or "file:///data/x"
    for entry in store.list("2024-01-02/"):  ...                   # relative keys
    store.write_text("_state/x.json", text)                        # atomic on file://
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib.aws.errors import S3ObjectNotFound
from lib.aws.s3 import parse_s3_uri


@dataclass(frozen=True)
class StoredObject:
    key: str  # relative to the store's root
    size: int
    etag: str  # S3 ETag, or size-mtime for local files
    uri: str  # full URI, in the scheme the store was opened with


def join_uri(base: str, *parts: str) -> str:
    cleaned = [part.strip("/") for part in parts if part and part.strip("/")]
    return "/".join([base.rstrip("/"), *cleaned])


# what Hadoop's globbing, which Spark applies to every path it reads, takes as a pattern
SPARK_GLOB_CHARACTERS = frozenset("{}[]*?\\")


def spark_uri(uri: str) -> str:
    """The URI Spark should use: s3:// stays (S3A locally, EMRFS on EMR); file paths get file://.

    Raises ValueError for a path with a character Spark's reader takes as a glob pattern: "a?b"
    would also read "aXb", "a[1]" only "a1" (see check_spark_path), checked on the result (a
    symbolic link or the working directory may bring one in)."""
    check_spark_path(uri)
    if "://" not in uri:
        uri = file_uri(Path(uri).resolve())
        check_spark_path(uri)
    return uri


def check_spark_path(uri: str) -> None:
    """Refuse what Spark would misread: a path with any of ``{}[]*?\\`` (a glob pattern to
    it: it would read other folders' files, or miss its own, without a word), and a file URI
    other than file:///absolute/path."""
    check_file_uri(uri)
    path = uri.split("://", 1)[-1]
    found = sorted(SPARK_GLOB_CHARACTERS.intersection(path))
    if found:
        raise ValueError(
            f"{uri!r}: Spark reads {' '.join(found)} in a path as a glob pattern (it would "
            "read other files than these, or none); rename the folder or file"
        )


def check_file_uri(uri: str) -> None:
    """Refuse file:/x and file://host/x (LocalStore would name a folder "file:" for them)."""
    if uri.startswith("file:") and not uri.startswith("file:///"):
        raise ValueError(f"{uri!r}: a file URI is file:///absolute/path (or give the path itself)")


def file_uri(path: Path) -> str:
    """``file://`` + the absolute path as it is, not percent-encoded as ``Path.as_uri()`` does:
    Hadoop's Path encodes what a URI needs itself, so "my%20dir" would name a folder "my%20dir"
    and not "my dir" (and LocalStore reads the path back by removing the prefix)."""
    return "file://" + path.absolute().as_posix()


class ObjectStore:
    """Base: subclasses implement list/read/write/delete under a root URI."""

    root: str

    @staticmethod
    def for_uri(uri: str, aws: Any = None) -> ObjectStore:
        if uri.startswith(("s3://", "s3a://", "s3n://")):
            if aws is None:
                raise ValueError(f"an AWS facade is needed for {uri}")
            return S3Store(uri, aws)
        if uri.startswith("file://") or "://" not in uri:
            return LocalStore(uri)
        raise ValueError(f"unsupported URI scheme: {uri}")

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        raise NotImplementedError

    def read_bytes(self, key: str) -> bytes | None:
        raise NotImplementedError

    def write_bytes(self, key: str, body: bytes) -> None:
        raise NotImplementedError

    def read_text(self, key: str) -> str | None:
        body = self.read_bytes(key)
        return body.decode("utf-8") if body is not None else None

    def write_text(self, key: str, text: str) -> None:
        self.write_bytes(key, text.encode("utf-8"))

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under `prefix` (non-empty); returns how many."""
        raise NotImplementedError

    def uri(self, key: str = "") -> str:
        return join_uri(self.root, key)


class S3Store(ObjectStore):
    def __init__(self, root: str, aws: Any) -> None:
        self.root = root.rstrip("/")
        self.bucket, prefix = parse_s3_uri(self.root)
        self.prefix = prefix.strip("/")
        self._s3 = aws.s3

    def _key(self, key: str) -> str:
        return "/".join(part for part in (self.prefix, key.lstrip("/")) if part)

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        # the root is a folder: "data/" + prefix, never "data" (which also lists data-old/)
        full = f"{self.prefix}/{prefix.lstrip('/')}" if self.prefix else prefix.lstrip("/")
        strip = len(self.prefix) + 1 if self.prefix else 0
        for item in self._s3.list_objects(self.bucket, full):
            relative = item.key[strip:]
            yield StoredObject(relative, item.size, item.etag, self.uri(relative))

    def read_bytes(self, key: str) -> bytes | None:
        try:
            return self._s3.get_object(self.bucket, self._key(key))
        except S3ObjectNotFound:
            return None

    def write_bytes(self, key: str, body: bytes) -> None:
        # a single PUT is atomic in S3: readers see the old or the new object, never half
        content_type = "application/json" if key.endswith(".json") else None
        self._s3.put_object(self.bucket, self._key(key), body, content_type=content_type)

    def delete(self, key: str) -> None:
        self._s3.delete_object(self.bucket, self._key(key))

    def delete_prefix(self, prefix: str) -> int:
        if not prefix.strip("/"):
            raise ValueError("refusing to delete everything under the store's root")
        result = self._s3.delete_prefix(self.bucket, self._key(prefix))
        if result.errors:
            key, code, message = result.errors[0]
            raise OSError(f"could not delete s3://{self.bucket}/{key}: {code} {message}")
        return len(result.deleted)


class LocalStore(ObjectStore):
    def __init__(self, root: str) -> None:
        check_file_uri(root)
        path = Path(root.removeprefix("file://")) if root.startswith("file://") else Path(root)
        self.path = path.resolve()
        self.root = file_uri(self.path)

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        base = self.path / prefix if prefix.endswith("/") or not prefix else self.path
        if not base.exists():
            return
        for path in sorted(base.rglob("*")):
            if not path.is_file() or path.name.startswith("."):
                continue  # hidden: partial writes, checksums
            relative = path.relative_to(self.path).as_posix()
            if not relative.startswith(prefix):
                continue
            stat = path.stat()
            yield StoredObject(
                relative, stat.st_size, f"{stat.st_size}-{stat.st_mtime_ns}", file_uri(path)
            )

    def read_bytes(self, key: str) -> bytes | None:
        path = self.path / key
        return path.read_bytes() if path.is_file() else None

    def write_bytes(self, key: str, body: bytes) -> None:
        path = self.path / key
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
        partial.write_bytes(body)
        partial.replace(path)  # atomic rename: no reader sees half a record

    def delete(self, key: str) -> None:
        (self.path / key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> int:
        if not prefix.strip("/"):
            raise ValueError("refusing to delete everything under the store's root")
        target = self.path / prefix
        if target.is_dir():
            count = sum(1 for path in target.rglob("*") if path.is_file())
            shutil.rmtree(target)
            return count
        doomed = [item for item in self.list() if item.key.startswith(prefix)]
        for item in doomed:
            self.delete(item.key)
        return len(doomed)
