"""Which hour files the job skips as header-only: exactly the header line, whatever their size
says (a 136-byte file with a trade in it is read)."""

from __future__ import annotations

from jobs.xetra.job import HEADER_ONLY, header_only_files
from lib.storage import LocalStore, S3Store

A_TRADE = b'"DE0005190003","BMW","BMW AG ST","Common stock","EUR",2504287,"2024-01-04","08:00",80,81,79,80.5,100,3'  # noqa: E501


def files(store):
    return list(store.list("2024-01-04/"))


def hour_files():
    trade = A_TRADE + b"," * (len(HEADER_ONLY) - len(A_TRADE) - 1) + b"\n"  # 136 bytes too
    assert len(trade) == len(HEADER_ONLY)
    return {
        "2024-01-04/2024-01-04_BINS_XETR03.csv": HEADER_ONLY,
        "2024-01-04/2024-01-04_BINS_XETR08.csv": trade,
        "2024-01-04/2024-01-04_BINS_XETR09.csv": HEADER_ONLY.replace(b"\n", b"\r\n"),
        "2024-01-04/2024-01-04_BINS_XETR10.csv": HEADER_ONLY.lower(),
    }


def test_local_files_are_header_only_by_content(tmp_path):
    for key, body in hour_files().items():
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(body)
    store = LocalStore(str(tmp_path))
    assert header_only_files(store, files(store), 4) == {"2024-01-04/2024-01-04_BINS_XETR03.csv"}


def test_s3_objects_are_header_only_by_etag_or_content(aws, s3, bucket):
    for key, body in hour_files().items():
        s3.put_object(Bucket=bucket, Key=f"pds/{key}", Body=body)
    store = S3Store(f"s3://{bucket}/pds", aws)
    listed = files(store)
    assert header_only_files(store, listed, 4) == {"2024-01-04/2024-01-04_BINS_XETR03.csv"}
    # an ETag that is not the MD5 (a multipart upload) is checked by reading the object
    renamed = [type(item)(item.key, item.size, '"x-2"', item.uri) for item in listed]
    assert header_only_files(store, renamed, 4) == {"2024-01-04/2024-01-04_BINS_XETR03.csv"}
