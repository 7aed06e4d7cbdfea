"""The JVM jars that pip's pyspark does not ship, resolved from Maven Central and pinned by sha256.

On EMR and Glue these come with the platform; locally `make setup` resolves them into a
git-ignored folder (`.jars/` at the repository root) with Maven, so the configured mirror and
proxy in `~/.m2/settings.xml` are honoured. Once resolved, re-running is a no-op that needs no
network. `ETL_JARS_DIR` points at jars downloaded elsewhere (air-gapped machines): they are
checked against the same sha256 pins and never downloaded.

    python -m lib.spark.jars resolve     # download (if needed) and verify
    python -m lib.spark.jars verify      # verify only, exit 1 when something is missing
    python -m lib.spark.jars path        # print the jar folder
    python -m lib.spark.jars jars-arg    # the comma list for a local `spark-submit --jars`
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

JARS_DIR_ENV = "ETL_JARS_DIR"
# the jobs' own JVM code (tooling.local.jobs_jar builds it into the jar folder; not pinned)
JOBS_JAR = "datalake-etl-jobs.jar"
JOBS_JAR_SOURCES_DIGEST = "META-INF/datalake-etl-jobs.sources.sha256"
JOBS_JAVA_SOURCES = "jobs/*/java/**/*.java"  # a checkout's JVM sources, relative to its root


@dataclass(frozen=True)
class MavenJar:
    group: str
    artifact: str
    version: str
    sha256: str
    purpose: str

    @property
    def coordinate(self) -> str:
        return f"{self.group}:{self.artifact}:{self.version}"

    @property
    def file_name(self) -> str:
        return f"{self.artifact}-{self.version}.jar"


# Spark 3.5.6 is built on Hadoop 3.3.4 and Scala 2.12. Each entry is one jar, not its
# transitive tree: pyspark already ships hadoop-client-api/runtime, and pulling the tree
# would put a second Hadoop on the classpath.
S3A_JARS = (
    MavenJar(
        "org.apache.hadoop",
        "hadoop-aws",
        "3.3.4",
        "53f9ae03c681a30a50aa17524bd9790ab596b28481858e54efd989a826ed3a4a",
        "S3A filesystem",
    ),
    MavenJar(
        "com.amazonaws",
        "aws-java-sdk-bundle",
        "1.12.262",
        "873fe7cf495126619997bec21c44de5d992544aea7e632fdc77adb1a0915bae5",
        "AWS SDK v1 used by hadoop-aws 3.3.4",
    ),
)
DELTA_JARS = (
    MavenJar(
        "io.delta",
        "delta-spark_2.12",
        "3.3.2",
        "4e92085d5d794cf949c50bb665b91384857cad58680c2d0bfc9c7ad353e98e85",
        "Delta Lake",
    ),
    MavenJar(
        "io.delta",
        "delta-storage",
        "3.3.2",
        "c096975a2ca97ccc9b4005aa5cce16c9ac3903139d340da6665b66ace67d7c36",
        "Delta log stores",
    ),
)
# spark-hadoop-cloud is not published for 3.5.6 (nor 3.5.0); 3.5.5 is the nearest release on
# Maven Central. It holds two small classes (PathOutputCommitProtocol,
# BindingParquetOutputCommitter) whose API did not change within 3.5.x.
COMMITTER_JARS = (
    MavenJar(
        "org.apache.spark",
        "spark-hadoop-cloud_2.12",
        "3.5.5",
        "7984bfbd83e8dff0d7ee0aed79e6cb916e651ba28b4ecce8a43b97cb669fbe28",
        "S3A output committers for Spark",
    ),
)
ALL_JARS = S3A_JARS + DELTA_JARS + COMMITTER_JARS


class JarResolutionError(RuntimeError):
    """A pinned jar is missing, has the wrong checksum, or Maven could not fetch it."""


def repository_root() -> Path | None:
    """The checkout this library lives in, or None when it runs from a wheel or a zip."""
    candidate = Path(__file__).resolve().parents[2]
    if (candidate / "setup.py").is_file() and (candidate / "lib" / "__init__.py").is_file():
        return candidate
    return None


def default_jars_dir(environ: dict[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    if environ.get(JARS_DIR_ENV):
        return Path(environ[JARS_DIR_ENV]).expanduser()
    root = repository_root()
    if root is not None:
        return root / ".jars"
    return Path.home() / ".cache" / "datalake-etl" / "jars"


def jobs_java_sources(root: Path) -> list[Path]:
    """Every job's JVM sources in a checkout: ``jobs/<job>/java/**/*.java``."""
    return sorted(root.glob(JOBS_JAVA_SOURCES))


def jobs_sources_digest(root: Path, sources: list[Path]) -> str:
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.relative_to(root).as_posix().encode() + b"\0")
        digest.update(source.read_bytes() + b"\0")
    return digest.hexdigest()


def jar_entry(jar: Path, name: str) -> str | None:
    """The text of entry `name` of `jar`, or None (no jar, no such entry, not a jar)."""
    try:
        with zipfile.ZipFile(jar) as archive:
            return archive.read(name).decode().strip()
    except (OSError, KeyError, zipfile.BadZipFile):
        return None


def jobs_jar_is_current(jar: Path, root: Path | None = None) -> bool:
    """Whether `jar` was built from the JVM sources of the checkout `root` (by default this
    library's); always True outside a checkout (a wheel, a zip: nothing to compare with)."""
    root = repository_root() if root is None else root
    if root is None:
        return True
    sources = jobs_java_sources(root)
    return not sources or jar_entry(jar, JOBS_JAR_SOURCES_DIGEST) == jobs_sources_digest(
        root, sources
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _stamp_path(jars_dir: Path, jar: MavenJar) -> Path:
    return jars_dir / ".verified" / f"{jar.file_name}.sha256"


def _is_verified(jars_dir: Path, jar: MavenJar) -> bool:
    """Hashing 280 MB on every call would make `make setup` slow; a stamp records a past check.

    The stamp holds the pinned hash plus the jar's size and mtime, so a replaced file is re-hashed.
    """
    path = jars_dir / jar.file_name
    stamp = _stamp_path(jars_dir, jar)
    if not path.is_file() or not stamp.is_file():
        return False
    stat = path.stat()
    return stamp.read_text() == f"{jar.sha256} {stat.st_size} {stat.st_mtime_ns}"


def verify_jar(jars_dir: Path, jar: MavenJar) -> None:
    path = jars_dir / jar.file_name
    if not path.is_file():
        raise JarResolutionError(f"{jar.coordinate} ({jar.purpose}) is missing: expected {path}")
    if _is_verified(jars_dir, jar):
        return
    actual = sha256_of(path)
    if actual != jar.sha256:
        raise JarResolutionError(
            f"{path} has sha256 {actual}, expected {jar.sha256} for {jar.coordinate}"
        )
    stat = path.stat()
    try:
        stamp = _stamp_path(jars_dir, jar)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(f"{jar.sha256} {stat.st_size} {stat.st_mtime_ns}")
    except OSError:
        pass  # a read-only ETL_JARS_DIR is fine: we simply re-hash next time


def missing_jars(jars_dir: Path, jars: tuple[MavenJar, ...] = ALL_JARS) -> list[MavenJar]:
    missing = []
    for jar in jars:
        try:
            verify_jar(jars_dir, jar)
        except JarResolutionError:
            missing.append(jar)
    return missing


def jar_paths(jars_dir: Path, jars: tuple[MavenJar, ...]) -> list[Path]:
    """Paths of the given jars; raises JarResolutionError naming each one that is absent."""
    absent = [jar for jar in jars if not (jars_dir / jar.file_name).is_file()]
    if absent:
        names = ", ".join(f"{jar.coordinate} ({jar.purpose})" for jar in absent)
        raise JarResolutionError(
            f"missing jars in {jars_dir}: {names}. Run `make setup` "
            f"(or `python -m lib.spark.jars resolve`), or set {JARS_DIR_ENV} to a folder "
            "that holds them."
        )
    return [jars_dir / jar.file_name for jar in jars]


def render_pom(jars: tuple[MavenJar, ...]) -> str:
    dependencies = "\n".join(
        "    <dependency>"
        f"<groupId>{jar.group}</groupId><artifactId>{jar.artifact}</artifactId>"
        f"<version>{jar.version}</version>"
        "</dependency>"
        for jar in jars
    )
    return (
        '<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
        "  <modelVersion>4.0.0</modelVersion>\n"
        "  <groupId>local.datalake-etl</groupId><artifactId>spark-jars</artifactId>"
        "<version>1</version><packaging>pom</packaging>\n"
        f"  <dependencies>\n{dependencies}\n  </dependencies>\n"
        "</project>\n"
    )


def _download_with_maven(jars: tuple[MavenJar, ...], jars_dir: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise JarResolutionError(
            "Maven (`mvn`) is needed to fetch the Spark jars: install it (Debian: apt-get "
            f"install maven) or download {', '.join(j.coordinate for j in jars)} yourself and "
            f"set {JARS_DIR_ENV} to their folder."
        )
    with tempfile.TemporaryDirectory(prefix="etl-jars-") as work:
        pom = Path(work) / "pom.xml"
        pom.write_text(render_pom(jars))
        staging = Path(work) / "out"
        command = [
            mvn,
            "-B",
            "-q",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}",
            "-DexcludeTransitive=true",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
            raise JarResolutionError(f"Maven could not resolve the jars:\n{tail}")
        jars_dir.mkdir(parents=True, exist_ok=True)
        for jar in jars:
            source = staging / jar.file_name
            if not source.is_file():
                raise JarResolutionError(f"Maven did not produce {jar.file_name}")
            # copy to a temporary name then rename, so an interrupted run never leaves half a jar
            partial = jars_dir / f".{jar.file_name}.partial"
            shutil.copyfile(source, partial)
            partial.replace(jars_dir / jar.file_name)


def resolve(
    jars_dir: Path | None = None,
    jars: tuple[MavenJar, ...] = ALL_JARS,
    environ: dict[str, str] | None = None,
) -> Path:
    """Make sure every pinned jar is in `jars_dir` with the right sha256; download what is not.

    With ETL_JARS_DIR set, nothing is downloaded: the folder is only verified.
    """
    environ = os.environ if environ is None else environ
    user_supplied = jars_dir is None and bool(environ.get(JARS_DIR_ENV))
    jars_dir = default_jars_dir(environ) if jars_dir is None else jars_dir
    todo = missing_jars(jars_dir, jars)
    if todo and user_supplied:
        raise JarResolutionError(
            f"{JARS_DIR_ENV}={jars_dir} lacks or has wrong versions of: "
            + ", ".join(f"{jar.file_name} (sha256 {jar.sha256})" for jar in todo)
        )
    if todo:
        _download_with_maven(tuple(todo), jars_dir)
        for jar in todo:
            verify_jar(jars_dir, jar)
    return jars_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.spark.jars", description=__doc__)
    parser.add_argument("command", choices=("resolve", "verify", "path", "jars-arg"))
    parser.add_argument("--dir", type=Path, default=None, help="jar folder (default: .jars/)")
    args = parser.parse_args(argv)
    jars_dir = args.dir or default_jars_dir()
    if args.command == "path":
        print(jars_dir)
        return 0
    if args.command == "jars-arg":  # for a local `spark-submit --jars $(...)`
        print(",".join(str(path) for path in jar_paths(jars_dir, ALL_JARS)))
        return 0
    try:
        if args.command == "resolve":
            resolve(args.dir)
        else:
            problems = missing_jars(jars_dir)
            if problems:
                for jar in problems:
                    print(f"missing or corrupt: {jar.coordinate} -> {jars_dir / jar.file_name}")
                return 1
    except JarResolutionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for jar in ALL_JARS:
        print(f"ok {jar.file_name:40s} {jar.purpose}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
