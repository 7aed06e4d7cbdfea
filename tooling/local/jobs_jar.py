"""The jobs' JVM code as one jar: each job's ``jobs/<job>/java/**/*.java`` compiled against pip's
pyspark jars for Java 17 (EMR 7 and Glue 5 run Java 17) into ``<jar folder>/datalake-etl-jobs.jar``
(lib.spark.jars.JOBS_JAR). `make setup` builds it; the local profile puts it on a session's
class path when it is there (SparkFactory), and the deploy ships it (`--jars` on EMR,
``--extra-jars`` on Glue). The jar is byte-for-byte the same for the same sources and javac,
and is rebuilt only when the sources, javac or its options change (digests stored in it; a
session refuses a jar of other sources than its checkout's, lib.spark.jars). Each job compiles
on its own; two jobs may hold the same class only byte for byte (a copied job folder), as a
class path holds one class of a name.

    python -m tooling.local.jobs_jar [--out PATH] [--force]
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
from pathlib import Path

from lib.spark.factory import JVM_OPTION_VARIABLES
from lib.spark.jars import (
    JOBS_JAR,
    JOBS_JAR_SOURCES_DIGEST,
    default_jars_dir,
    jar_entry,
    jobs_java_sources,
    jobs_sources_digest,
    repository_root,
)

# what the jar was built from and with: the sources, javac's version and these options (a
# change of any rebuilds it; the sources digest alone is what a session checks, lib.spark.jars)
BUILD_DIGEST = "META-INF/datalake-etl-jobs.build.sha256"
JAVAC_OPTIONS = ("--release", "17", "-nowarn", "-encoding", "UTF-8")
FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # every entry's time: the same sources give the same bytes
MANIFEST = "Manifest-Version: 1.0\r\nCreated-By: tooling.local.jobs_jar\r\n\r\n"


class JobsJarError(RuntimeError):
    """The jar could not be built (its message says why)."""


def spark_class_path() -> str:
    import pyspark

    jars = Path(pyspark.__file__).parent / "jars"
    if not jars.is_dir():
        raise JobsJarError(f"pyspark's jars are not in {jars}: install the spark extra")
    return str(jars / "*")


def javac_environment() -> dict[str, str]:
    """This environment without the variables every JVM reads options from (javac would print
    "Picked up …" and take them)."""
    return {key: value for key, value in os.environ.items() if key not in JVM_OPTION_VARIABLES}


def javac_version(javac: str) -> str:
    done = subprocess.run([javac, "-version"], capture_output=True, text=True, check=False,
                          env=javac_environment())  # fmt: skip
    return done.stdout.strip()


def build_digest(sources_digest: str, javac: str) -> str:
    text = "\0".join([sources_digest, javac_version(javac), *JAVAC_OPTIONS])
    return hashlib.sha256(text.encode()).hexdigest()


def compile_job(javac: str, sources: list[Path], classes: Path) -> None:
    command = [javac, *JAVAC_OPTIONS, "-cp", spark_class_path(), "-d", str(classes),
               *map(str, sources)]  # fmt: skip
    compiled = subprocess.run(command, capture_output=True, text=True, check=False,
                              env=javac_environment())  # fmt: skip
    if compiled.returncode != 0:
        raise JobsJarError(f"javac failed:\n{compiled.stdout}{compiled.stderr}")


def build(root: Path, out: Path, force: bool = False) -> bool:
    """Build `out` from the jobs' Java sources under `root`; False when it was up to date."""
    sources = jobs_java_sources(root)
    if not sources:
        raise JobsJarError(f"no Java sources under {root}/jobs/*/java")
    digest = jobs_sources_digest(root, sources)
    javac = shutil.which("javac")
    if javac is None:
        if not force and jar_entry(out, JOBS_JAR_SOURCES_DIGEST) == digest:
            return False  # built elsewhere from these sources (a JRE here cannot build it)
        raise JobsJarError("javac is not on PATH: install a JDK 17 (not only a JRE)")
    built = build_digest(digest, javac)
    if not force and jar_entry(out, BUILD_DIGEST) == built:
        return False
    entries = {
        "META-INF/MANIFEST.MF": MANIFEST.encode(),
        JOBS_JAR_SOURCES_DIGEST: digest.encode(),
        BUILD_DIGEST: built.encode(),
    }
    by_job: dict[str, list[Path]] = {}
    for source in sources:  # jobs/<job>/java/...
        by_job.setdefault(source.relative_to(root).parts[1], []).append(source)
    owners: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="jobs-jar-") as work:
        for job, job_sources in sorted(by_job.items()):
            classes = Path(work) / job
            compile_job(javac, job_sources, classes)
            for path in sorted(classes.rglob("*.class")):
                name = path.relative_to(classes).as_posix()
                data = path.read_bytes()
                if name in entries and entries[name] != data:
                    raise JobsJarError(
                        f"jobs/{owners[name]} and jobs/{job} define {name[:-6]} differently: "
                        "one JVM class path holds one class of a name (rename its package)"
                    )
                entries[name], owners[name] = data, job
        out.parent.mkdir(parents=True, exist_ok=True)
        written = out.with_name(f".{out.name}.tmp")
        with zipfile.ZipFile(written, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in entries.items():
                info = zipfile.ZipInfo(name, FIXED_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
        written.replace(out)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.local.jobs_jar", description=__doc__)
    parser.add_argument("--out", type=Path, help="the jar to write (default: the jar folder's)")
    parser.add_argument("--force", action="store_true", help="build even when up to date")
    args = parser.parse_args(argv)
    root = repository_root()
    if root is None:
        print("not in a checkout of the project", file=sys.stderr)
        return 1
    out = args.out or default_jars_dir() / JOBS_JAR
    try:
        built = build(root, out, args.force)
    except JobsJarError as error:
        print(f"jobs jar: {error}", file=sys.stderr)
        return 1
    print(f"jobs jar: {out} {'built' if built else 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
