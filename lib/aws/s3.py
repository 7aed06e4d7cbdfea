"""S3 helpers over one boto3 client: objects, listings (paginated, lazy), sizes, copies, deletes.

Every failure is raised as an :class:`lib.aws.errors.S3Error` subclass naming ``s3://bucket/key``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from lib.aws.errors import S3Error, error_code, wrap_s3_error

SizeUnit = Literal["B", "KB", "MB", "GB"]
_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}
DELETE_BATCH = 1000  # DeleteObjects takes at most 1,000 keys
MULTIPART_COPY_THRESHOLD = 5 * 1024**3  # CopyObject handles at most 5 GB in one request


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/key`` (or s3a://, s3n://) -> ("bucket", "some/key")."""
    match = re.fullmatch(r"s3[an]?://([^/]+)/?(.*)", uri)
    if not match:
        raise ValueError(f"not an S3 URI: {uri!r}")
    return match.group(1), match.group(2)


@dataclass(frozen=True)
class S3Object:
    key: str
    size: int
    etag: str
    last_modified: datetime | None = None


@dataclass(frozen=True)
class DeleteResult:
    deleted: list[str] = field(default_factory=list)
    # (key, error code, message) for each key S3 refused to delete
    errors: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class S3:
    """Helpers bound to one S3 client (``AWS(...).s3``)."""

    def __init__(
        self, client_factory: Callable[[], Any], transfer_config: TransferConfig | None = None
    ):
        self._client_factory = client_factory
        self.transfer_config = transfer_config or TransferConfig(
            multipart_threshold=MULTIPART_COPY_THRESHOLD
        )

    @property
    def client(self) -> Any:
        return self._client_factory()

    # --------------------------------------------------------------- single objects

    def get_object(
        self, bucket_name: str, object_name: str, encoding: str | None = None
    ) -> bytes | str:
        """The object's bytes, or its text when `encoding` is given."""
        try:
            body = self.client.get_object(Bucket=bucket_name, Key=object_name)["Body"].read()
        except ClientError as error:
            raise wrap_s3_error(error, "GetObject", bucket_name, object_name) from error
        return body.decode(encoding) if encoding else body

    def put_object(
        self,
        bucket_name: str,
        object_name: str,
        body: bytes | str,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> str:
        """Write an object; returns its ETag."""
        extra: dict[str, Any] = {}
        if content_type:
            extra["ContentType"] = content_type
        if metadata:
            extra["Metadata"] = metadata
        data = body.encode("utf-8") if isinstance(body, str) else body
        try:
            response = self.client.put_object(
                Bucket=bucket_name, Key=object_name, Body=data, **extra
            )
        except ClientError as error:
            raise wrap_s3_error(error, "PutObject", bucket_name, object_name) from error
        return response["ETag"].strip('"')

    def delete_object(self, bucket_name: str, object_name: str) -> None:
        try:
            self.client.delete_object(Bucket=bucket_name, Key=object_name)
        except ClientError as error:
            raise wrap_s3_error(error, "DeleteObject", bucket_name, object_name) from error

    def exists(self, bucket_name: str, object_name: str) -> bool:
        """True when the object exists; access denied and other errors raise."""
        try:
            self.client.head_object(Bucket=bucket_name, Key=object_name)
        except ClientError as error:
            if error_code(error) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise wrap_s3_error(error, "HeadObject", bucket_name, object_name) from error
        return True

    def head_object(self, bucket_name: str, object_name: str) -> S3Object:
        try:
            head = self.client.head_object(Bucket=bucket_name, Key=object_name)
        except ClientError as error:
            raise wrap_s3_error(error, "HeadObject", bucket_name, object_name) from error
        return S3Object(
            object_name, head["ContentLength"], head["ETag"].strip('"'), head.get("LastModified")
        )

    def get_object_size(
        self, bucket_name: str, object_name: str, str_format: SizeUnit = "B"
    ) -> float:
        """Size in bytes (B: an int), or in KB/MB/GB (1 KB = 1,024 B)."""
        return _in_unit(self.head_object(bucket_name, object_name).size, str_format)

    def download_object(self, bucket_name: str, object_name: str, path: str | Path) -> Path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.client.download_file(
                bucket_name, object_name, str(target), Config=self.transfer_config
            )
        except ClientError as error:
            raise wrap_s3_error(error, "Download", bucket_name, object_name) from error
        return target

    def upload_file(self, bucket_name: str, object_name: str, path: str | Path) -> None:
        try:
            self.client.upload_file(
                str(path), bucket_name, object_name, Config=self.transfer_config
            )
        except ClientError as error:
            raise wrap_s3_error(error, "Upload", bucket_name, object_name) from error
        except Exception as error:  # boto3 wraps ClientError in S3UploadFailedError
            raise S3Error(f"Upload failed ({error})", bucket_name, object_name) from error

    def transfer_object(
        self, source_bucket: str, source_object: str, target_bucket: str, target_object: str
    ) -> None:
        """Server-side copy; objects over the multipart threshold (5 GB) go by UploadPartCopy.

        The source is read first (HeadObject): a failure there names the source, any later one
        the target. Its ContentType and Metadata are passed explicitly to a multipart copy
        (some s3transfer versions drop them there; a single CopyObject keeps them itself).
        """
        try:
            head = self.client.head_object(Bucket=source_bucket, Key=source_object)
        except ClientError as error:
            raise wrap_s3_error(error, "Copy", source_bucket, source_object) from error
        extra: dict[str, Any] = {}
        if head["ContentLength"] >= self.transfer_config.multipart_threshold:
            if head.get("ContentType"):
                extra["ContentType"] = head["ContentType"]
            if head.get("Metadata"):
                extra["Metadata"] = head["Metadata"]
        try:
            self.client.copy(
                {"Bucket": source_bucket, "Key": source_object},
                target_bucket,
                target_object,
                ExtraArgs=extra or None,
                Config=self.transfer_config,
            )
        except ClientError as error:
            raise wrap_s3_error(error, "Copy", target_bucket, target_object) from error

    # --------------------------------------------------------------- listings

    def list_objects(
        self, bucket_name: str, prefix: str = "", start_after: str | None = None
    ) -> Iterator[S3Object]:
        """Every object under `prefix`, lazily, page by page (1,000 keys a request)."""
        arguments: dict[str, Any] = {"Bucket": bucket_name, "Prefix": prefix}
        if start_after:
            arguments["StartAfter"] = start_after
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(**arguments):
                for item in page.get("Contents", ()):
                    yield S3Object(
                        item["Key"], item["Size"], item["ETag"].strip('"'), item["LastModified"]
                    )
        except ClientError as error:
            raise wrap_s3_error(error, "ListObjectsV2", bucket_name, prefix) from error

    def list_prefixes(
        self, bucket_name: str, prefix: str = "", delimiter: str = "/"
    ) -> Iterator[str]:
        """The "folders" directly under `prefix`."""
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=bucket_name, Prefix=prefix, Delimiter=delimiter):
                for item in page.get("CommonPrefixes", ()):
                    yield item["Prefix"]
        except ClientError as error:
            raise wrap_s3_error(error, "ListObjectsV2", bucket_name, prefix) from error

    def get_objects_size(
        self, bucket_name: str, prefixes: Iterable[str], str_format: SizeUnit = "B"
    ) -> float:
        """Total size of every object under each prefix (B: an int; KB/MB/GB as above)."""
        if isinstance(prefixes, str):
            raise TypeError("prefixes is a list of prefixes, not one string")
        _unit(str_format)  # a bad unit fails before the listing
        listings = (self.list_objects(bucket_name, prefix) for prefix in prefixes)
        return _in_unit(sum(item.size for listing in listings for item in listing), str_format)

    def get_matching_objects(
        self,
        bucket_name: str,
        prefix: str = "",
        suffix: str | None = None,
        regex_match: str | None = None,
        strict: bool = False,
    ) -> list[str]:
        """Keys under `prefix` that end with `suffix` and match `regex_match`.

        strict=False: the suffix is compared case-insensitively and the regex may match anywhere
        in the key (re.search). strict=True: exact-case suffix and the regex must match the
        whole key (re.fullmatch).
        """
        try:
            pattern = re.compile(regex_match) if regex_match else None
        except re.error as error:
            raise ValueError(
                f"regex_match {regex_match!r} is not a valid pattern: {error}"
            ) from None
        matches = []
        for item in self.list_objects(bucket_name, prefix):
            key = item.key
            if suffix is not None:
                ends = key.endswith(suffix) if strict else key.lower().endswith(suffix.lower())
                if not ends:
                    continue
            if pattern is not None:
                found = pattern.fullmatch(key) if strict else pattern.search(key)
                if not found:
                    continue
            matches.append(key)
        return matches

    # --------------------------------------------------------------- deletes

    def delete_objects(self, bucket_name: str, object_names: Iterable[str]) -> DeleteResult:
        """Delete in batches of 1,000; every key S3 refused is reported in the result."""
        result = DeleteResult()
        batch: list[str] = []

        def send() -> None:
            try:
                response = self.client.delete_objects(
                    Bucket=bucket_name,
                    Delete={"Objects": [{"Key": key} for key in batch], "Quiet": False},
                )
            except ClientError as error:
                raise wrap_s3_error(error, "DeleteObjects", bucket_name, batch[0]) from error
            result.deleted.extend(item["Key"] for item in response.get("Deleted", ()))
            result.errors.extend(
                (item["Key"], item.get("Code", ""), item.get("Message", ""))
                for item in response.get("Errors", ())
            )
            batch.clear()

        for object_name in object_names:
            batch.append(object_name)
            if len(batch) == DELETE_BATCH:
                send()
        if batch:
            send()
        return result

    def delete_prefix(self, bucket_name: str, prefix: str) -> DeleteResult:
        if not prefix:
            raise ValueError("refusing to delete a whole bucket_name: give a non-empty prefix")
        listing = self.list_objects(bucket_name, prefix)
        return self.delete_objects(bucket_name, (item.key for item in listing))


def _in_unit(size: int, str_format: str) -> float:
    unit = _unit(str_format)
    return size if unit == 1 else size / unit


def _unit(str_format: str) -> int:
    unit = _UNITS.get(str_format.upper()) if isinstance(str_format, str) else None
    if unit is None:
        raise ValueError(f"str_format must be one of {list(_UNITS)}, got {str_format!r}")
    return unit
