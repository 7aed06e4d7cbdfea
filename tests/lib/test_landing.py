"""lib.landing over a real moto server: manifest last, re-run replacement, nothing partial."""

from __future__ import annotations

import json
from datetime import date

import pytest

from lib.landing import (
    LandingError,
    LandingRun,
    manifest_part_uris,
    read_manifest,
    verify_parts,
)
from lib.storage import ObjectStore

DAY = date(2024, 5, 6)


def keys(s3, bucket, prefix="raw/"):
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def test_parts_then_manifest_and_readers_trust_only_the_manifest(aws, s3, bucket):
    store = ObjectStore.for_uri(f"s3://{bucket}/raw", aws)
    run = LandingRun(store, "src", "things", DAY, "run1")
    run.add(b'[{"a": 1}]', "http://api/things?page=1", records=1)
    run.add(b'[{"a": 2}, {"a": 3}]', "http://api/things?page=2", records=2)
    with pytest.raises(LandingError, match="no manifest"):
        read_manifest(store, "src", "things", DAY)  # parts alone are not committed
    manifest = run.commit()
    assert manifest["counts"] == {"parts": 2, "bytes": 30, "records": 3}
    stored = read_manifest(store, "src", "things", DAY)
    assert [p["url"] for p in stored["parts"]] == [
        "http://api/things?page=1",
        "http://api/things?page=2",
    ]
    assert manifest_part_uris(stored) == [
        f"s3://{bucket}/raw/src/things/extraction_date=2024-05-06/run=run1/part-00000.json",
        f"s3://{bucket}/raw/src/things/extraction_date=2024-05-06/run=run1/part-00001.json",
    ]
    verify_parts(store, stored)
    assert stored["started_at"] <= stored["finished_at"]
    assert len(stored["parts"][0]["sha256"]) == 64


def test_a_rerun_replaces_the_date_and_never_mixes_runs(aws, s3, bucket):
    store = ObjectStore.for_uri(f"s3://{bucket}/raw", aws)
    first = LandingRun(store, "src", "things", DAY, "run1")
    for page in range(3):
        first.add(json.dumps([page]).encode(), f"http://api?page={page}")
    first.commit()

    second = LandingRun(store, "src", "things", DAY, "run2")
    second.add(b"[10]", "http://api?page=0")
    # while the second run lands, readers still see exactly the first run
    assert read_manifest(store, "src", "things", DAY)["run_id"] == "run1"
    second.commit()
    manifest = read_manifest(store, "src", "things", DAY)
    assert manifest["run_id"] == "run2"
    assert keys(s3, bucket) == [
        "raw/src/things/extraction_date=2024-05-06/_manifest.json",
        "raw/src/things/extraction_date=2024-05-06/run=run2/part-00000.json",
    ]


def test_a_commit_never_deletes_the_parts_of_a_concurrent_uncommitted_run(aws, s3, bucket):
    store = ObjectStore.for_uri(f"s3://{bucket}/raw", aws)
    earlier = LandingRun(store, "src", "things", DAY, "run0")
    earlier.add(b"[0]", "http://api?page=0")
    earlier.commit()
    first = LandingRun(store, "src", "things", DAY, "run1")
    second = LandingRun(store, "src", "things", DAY, "run2")
    first.add(b"[1]", "http://api?page=0")
    second.add(b"[2]", "http://api?page=0")
    first.commit()  # removes run0 (its manifest named it), not run2 (still landing)
    assert "raw/src/things/extraction_date=2024-05-06/run=run0/part-00000.json" not in keys(
        s3, bucket
    )
    second.commit()
    manifest = read_manifest(store, "src", "things", DAY)
    assert manifest["run_id"] == "run2"
    verify_parts(store, manifest)  # every part it lists is there
    assert keys(s3, bucket) == [
        "raw/src/things/extraction_date=2024-05-06/_manifest.json",
        "raw/src/things/extraction_date=2024-05-06/run=run2/part-00000.json",
    ]


def test_an_abandoned_run_leaves_the_committed_one_intact(aws, s3, bucket):
    store = ObjectStore.for_uri(f"s3://{bucket}/raw", aws)
    good = LandingRun(store, "src", "things", DAY, "good")
    good.add(b"[1]", "http://api")
    good.commit()
    failed = LandingRun(store, "src", "things", DAY, "failed")
    failed.add(b"[2]", "http://api")
    failed.abandon()
    assert read_manifest(store, "src", "things", DAY)["run_id"] == "good"
    assert not any("run=failed" in key for key in keys(s3, bucket))


def test_a_tampered_part_is_detected(aws, s3, bucket):
    store = ObjectStore.for_uri(f"s3://{bucket}/raw", aws)
    run = LandingRun(store, "src", "things", DAY, "r")
    run.add(b"[1]", "http://api")
    run.commit()
    s3.put_object(
        Bucket=bucket, Key="raw/src/things/extraction_date=2024-05-06/run=r/part-00000.json",
        Body=b"[666]",
    )  # fmt: skip
    with pytest.raises(LandingError, match="does not match"):
        verify_parts(store, read_manifest(store, "src", "things", DAY))
