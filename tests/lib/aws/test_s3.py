"""lib.aws.s3 against a real moto server over HTTP."""

from __future__ import annotations

import pytest

from lib.aws import (
    S3BucketNotFound,
    S3ObjectNotFound,
    parse_s3_uri,
)


def test_put_get_exists_delete(aws, bucket):
    etag = aws.s3.put_object(bucket, "a/b.txt", "héllo", content_type="text/plain")
    assert len(etag) == 32
    assert aws.s3.exists(bucket, "a/b.txt")
    assert aws.s3.get_object(bucket, "a/b.txt") == "héllo".encode()
    assert aws.s3.get_object(bucket, "a/b.txt", encoding="utf-8") == "héllo"
    aws.s3.delete_object(bucket, "a/b.txt")
    assert not aws.s3.exists(bucket, "a/b.txt")


def test_errors_name_bucket_and_key(aws, bucket):
    with pytest.raises(S3ObjectNotFound, match=f"s3://{bucket}/missing.csv") as error:
        aws.s3.get_object(bucket, "missing.csv")
    assert error.value.bucket == bucket
    assert error.value.key == "missing.csv"
    with pytest.raises(S3BucketNotFound, match="s3://no-such-bucket-xyz/k"):
        aws.s3.get_object("no-such-bucket-xyz", "k")
    with pytest.raises(S3BucketNotFound):
        list(aws.s3.list_objects("no-such-bucket-xyz"))


def test_sizes_in_units(aws, bucket):
    aws.s3.put_object(bucket, "x/one", b"a" * 2048)
    aws.s3.put_object(bucket, "x/two", b"a" * 1024)
    aws.s3.put_object(bucket, "y/three", b"a" * 1024 * 1024)
    assert aws.s3.get_object_size(bucket, "x/one") == 2048
    assert aws.s3.get_object_size(bucket, "x/one", str_format="KB") == 2
    assert aws.s3.get_object_size(bucket, "y/three", str_format="MB") == 1
    assert aws.s3.get_objects_size(bucket, prefixes=["x/", "y/"], str_format="KB") == 1027
    with pytest.raises(ValueError, match="str_format"):
        aws.s3.get_object_size(bucket, "x/one", str_format="TB")
    with pytest.raises(ValueError, match="str_format"):
        aws.s3.get_object_size(bucket, "x/one", str_format=None)


def test_listing_pages_past_1000_keys_lazily_then_batched_delete(aws, bucket, put_empty_objects):
    keys = [f"many/{i:05d}.csv" for i in range(1001)]
    put_empty_objects(bucket, keys)
    calls = []
    aws.s3.client.meta.events.register(
        "before-call.s3.ListObjectsV2", lambda **kwargs: calls.append(1)
    )
    listing = aws.s3.list_objects(bucket, "many/")
    first = next(listing)
    assert first.key == keys[0]
    assert len(calls) == 1  # lazy: one page so far
    rest = [item.key for item in listing]
    assert [first.key, *rest] == keys
    assert len(calls) == 2  # 1,000 + 1

    batches = []
    aws.s3.client.meta.events.register(
        "provide-client-params.s3.DeleteObjects",
        lambda params, **kwargs: batches.append(len(params["Delete"]["Objects"])),
    )
    result = aws.s3.delete_objects(bucket, iter(keys))
    assert batches == [1000, 1]
    assert result.ok
    assert sorted(result.deleted) == keys
    assert list(aws.s3.list_objects(bucket, "many/")) == []


def test_matching_objects_by_suffix_and_regex(aws, bucket):
    for key in (
        "2024-01-02/2024-01-02_BINS_XETR08.csv",
        "2024-01-02/2024-01-02_BINS_XETR09.CSV",
        "2024-01-02/notes.txt",
        "2024-01-03/2024-01-03_BINS_XETR08.csv",
    ):
        aws.s3.put_object(bucket, key, b"x")
    assert aws.s3.get_matching_objects(bucket, prefix="2024-01-02/", suffix=".csv") == [
        "2024-01-02/2024-01-02_BINS_XETR08.csv",
        "2024-01-02/2024-01-02_BINS_XETR09.CSV",
    ]
    assert aws.s3.get_matching_objects(
        bucket, prefix="2024-01-02/", suffix=".csv", strict=True
    ) == ["2024-01-02/2024-01-02_BINS_XETR08.csv"]
    assert aws.s3.get_matching_objects(bucket, regex_match=r"XETR08") == [
        "2024-01-02/2024-01-02_BINS_XETR08.csv",
        "2024-01-03/2024-01-03_BINS_XETR08.csv",
    ]
    # strict: the pattern must match the whole key
    assert aws.s3.get_matching_objects(bucket, regex_match=r"XETR08", strict=True) == []
    assert aws.s3.get_matching_objects(
        bucket, regex_match=r"\d{4}-01-03/.*_XETR\d\d\.csv", strict=True
    ) == ["2024-01-03/2024-01-03_BINS_XETR08.csv"]
    with pytest.raises(ValueError, match="regex_match"):
        aws.s3.get_matching_objects(bucket, regex_match="XETR(08")


def test_transfer_object_small_and_multipart(aws, bucket, s3):
    s3.create_bucket(
        Bucket=f"{bucket}-target", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    aws.s3.put_object(bucket, "small", b"abc")
    aws.s3.transfer_object(bucket, "small", f"{bucket}-target", "copy/small")
    assert aws.s3.get_object(f"{bucket}-target", "copy/small") == b"abc"

    # force the multipart (UploadPartCopy) path that objects over 5 GB take
    from boto3.s3.transfer import TransferConfig

    aws.s3.transfer_config = TransferConfig(
        multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024
    )
    body = bytes(range(256)) * (12 * 1024 * 1024 // 256)  # 12 MiB -> 3 parts
    aws.s3.put_object(bucket, "big", body, content_type="text/csv", metadata={"source": "pds"})
    parts = []
    aws.s3.client.meta.events.register(
        "before-call.s3.UploadPartCopy", lambda **kwargs: parts.append(1)
    )
    aws.s3.transfer_object(bucket, "big", f"{bucket}-target", "copy/big")
    assert len(parts) == 3
    assert aws.s3.get_object(f"{bucket}-target", "copy/big") == body
    copied = s3.head_object(Bucket=f"{bucket}-target", Key="copy/big")
    assert copied["ContentType"] == "text/csv"  # kept by the multipart path too
    assert copied["Metadata"] == {"source": "pds"}


def test_transfer_errors_name_the_object_they_are_about(aws, bucket):
    from lib.aws import S3BucketNotFound, S3ObjectNotFound

    aws.s3.put_object(bucket, "src.json", b"{}")
    with pytest.raises(S3BucketNotFound) as missing_target:
        aws.s3.transfer_object(bucket, "src.json", "no-such-target-bucket-xyz", "dst.json")
    assert "s3://no-such-target-bucket-xyz/dst.json" in str(missing_target.value)
    with pytest.raises(S3ObjectNotFound) as missing_source:
        aws.s3.transfer_object(bucket, "absent.json", bucket, "dst.json")
    assert f"s3://{bucket}/absent.json" in str(missing_source.value)


def test_upload_and_download(aws, bucket, tmp_path):
    source = tmp_path / "in.bin"
    source.write_bytes(b"\x00\x01" * 1000)
    aws.s3.upload_file(bucket, "files/in.bin", source)
    target = aws.s3.download_object(bucket, "files/in.bin", tmp_path / "out" / "copy.bin")
    assert target.read_bytes() == source.read_bytes()
    with pytest.raises(S3ObjectNotFound):
        aws.s3.download_object(bucket, "files/missing.bin", tmp_path / "x")


def test_delete_objects_reports_each_refused_key(aws, bucket):
    from botocore.stub import Stubber

    client = aws.s3.client
    with Stubber(client) as stub:
        stub.add_response(
            "delete_objects",
            {
                "Deleted": [{"Key": "a"}],
                "Errors": [{"Key": "b", "Code": "AccessDenied", "Message": "Access Denied"}],
            },
        )
        result = aws.s3.delete_objects(bucket, ["a", "b"])
    assert result.deleted == ["a"]
    assert result.errors == [("b", "AccessDenied", "Access Denied")]
    assert not result.ok


def test_delete_prefix_refuses_the_whole_bucket(aws, bucket):
    with pytest.raises(ValueError, match="whole bucket"):
        aws.s3.delete_prefix(bucket, "")


@pytest.mark.parametrize(
    ("uri", "parts"),
    [
        ("s3://b/k/x.csv", ("b", "k/x.csv")),
        ("s3a://b/", ("b", "")),
        ("s3://b", ("b", "")),
    ],
)
def test_parse_s3_uri(uri, parts):
    assert parse_s3_uri(uri) == parts


def test_parse_s3_uri_rejects_other_schemes():
    with pytest.raises(ValueError, match="not an S3 URI"):
        parse_s3_uri("file:///tmp/x")


def test_clients_are_cached_and_carry_the_retry_config(aws):
    assert aws.client("s3") is aws.client("s3")
    retries = aws.client("s3").meta.config.retries
    assert retries["mode"] == "standard"
    assert retries["total_max_attempts"] == 2
    assert aws.get_session() is aws.get_session()
