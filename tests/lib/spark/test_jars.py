"""lib.spark.jars: pins, verification, the ETL_JARS_DIR contract (no network needed)."""

from __future__ import annotations

import hashlib
import os

import pytest

from lib.spark import jars as registry


def fake_jar(tmp_path, content=b"jar bytes"):
    jar = registry.MavenJar("g", "a", "1.0", hashlib.sha256(content).hexdigest(), "test")
    (tmp_path / jar.file_name).write_bytes(content)
    return jar


def test_pins_cover_s3a_delta_and_committers_for_spark_3_5():
    coordinates = {jar.coordinate for jar in registry.ALL_JARS}
    assert "org.apache.hadoop:hadoop-aws:3.3.4" in coordinates
    assert "com.amazonaws:aws-java-sdk-bundle:1.12.262" in coordinates
    assert "io.delta:delta-spark_2.12:3.3.2" in coordinates
    assert "io.delta:delta-storage:3.3.2" in coordinates
    assert any(c.startswith("org.apache.spark:spark-hadoop-cloud_2.12:3.5.") for c in coordinates)
    assert all(len(jar.sha256) == 64 for jar in registry.ALL_JARS)


def test_pom_lists_every_pinned_jar():
    pom = registry.render_pom(registry.ALL_JARS)
    for jar in registry.ALL_JARS:
        assert f"<artifactId>{jar.artifact}</artifactId><version>{jar.version}</version>" in pom


def test_verify_accepts_the_pinned_hash_and_rejects_another(tmp_path):
    jar = fake_jar(tmp_path)
    registry.verify_jar(tmp_path, jar)
    (tmp_path / jar.file_name).write_bytes(b"tampered!")  # same size
    os.utime(tmp_path / jar.file_name, ns=(1, 1))
    with pytest.raises(registry.JarResolutionError, match="has sha256"):
        registry.verify_jar(tmp_path, jar)


def test_missing_jar_is_reported_with_its_coordinate(tmp_path):
    jar = registry.MavenJar("org.x", "thing", "2.0", "0" * 64, "a purpose")
    with pytest.raises(registry.JarResolutionError, match=r"org\.x:thing:2\.0 \(a purpose\)"):
        registry.jar_paths(tmp_path, (jar,))
    assert registry.missing_jars(tmp_path, (jar,)) == [jar]


def test_user_supplied_jar_dir_is_verified_never_downloaded(tmp_path, monkeypatch):
    monkeypatch.setattr(
        registry, "_download_with_maven", lambda *a: pytest.fail("must not download")
    )
    with pytest.raises(registry.JarResolutionError, match=r"ETL_JARS_DIR=.*lacks"):
        registry.resolve(environ={registry.JARS_DIR_ENV: str(tmp_path)})


def test_resolve_is_a_no_op_when_everything_is_there(tmp_path, monkeypatch):
    jar = fake_jar(tmp_path)
    monkeypatch.setattr(
        registry, "_download_with_maven", lambda *a: pytest.fail("must not download")
    )
    assert registry.resolve(tmp_path, (jar,)) == tmp_path


def test_default_dir_prefers_the_environment(tmp_path):
    assert registry.default_jars_dir({registry.JARS_DIR_ENV: str(tmp_path)}) == tmp_path
    assert registry.default_jars_dir({}).name == ".jars"


def test_the_checkout_jars_are_resolved_and_pinned():
    """`make setup` ran: every pinned jar is in place with its sha256."""
    jars_dir = registry.default_jars_dir()
    assert registry.missing_jars(jars_dir) == [], f"run `make setup` (jars in {jars_dir})"
