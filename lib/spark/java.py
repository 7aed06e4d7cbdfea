"""Find the Java runtime Spark will use and check that it is recent enough (Java 17+).

python -m lib.spark.java      # prints the version, exits 1 with what to install when unfit
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

MINIMUM_JAVA = 17
INSTALL_HINT = (
    "install a Java 17 runtime (Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`; "
    "macOS: `brew install openjdk@17`; or any Temurin/Corretto 17) and put `java` on PATH "
    "or set JAVA_HOME"
)
_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?[^"]*"')


class JavaError(RuntimeError):
    """No usable Java runtime for Spark."""


def find_java(environ: Mapping[str, str] | None = None) -> Path | None:
    """The `java` that pyspark's launcher runs: $JAVA_HOME/bin/java first, then PATH."""
    environ = os.environ if environ is None else environ
    java_home = environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        return candidate if candidate.is_file() else None
    found = shutil.which("java", path=environ.get("PATH"))
    return Path(found) if found else None


def parse_java_version(output: str) -> int:
    """Major version from `java -version` output ("1.8.0_392" -> 8, "17.0.15" -> 17)."""
    match = _VERSION.search(output)
    if match is None:
        raise JavaError(f"cannot read a Java version from: {output.strip()[:200]!r}")
    major = int(match.group(1))
    if major == 1 and match.group(2):
        major = int(match.group(2))
    return major


def check_java(minimum: int = MINIMUM_JAVA, environ: Mapping[str, str] | None = None) -> int:
    """Return the major version of the Java Spark will use; raise JavaError when unfit."""
    java = find_java(environ)
    if java is None:
        where = "JAVA_HOME" if (environ or os.environ).get("JAVA_HOME") else "PATH"
        raise JavaError(f"no `java` found on {where}: {INSTALL_HINT}")
    try:
        result = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise JavaError(f"{java} -version failed ({error}): {INSTALL_HINT}") from error
    major = parse_java_version(result.stderr + result.stdout)
    if major < minimum:
        raise JavaError(f"{java} is Java {major}; Spark 3.5 here needs {minimum}+: {INSTALL_HINT}")
    return major


def main() -> int:
    try:
        major = check_java()
    except JavaError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"java {major} ok ({find_java()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
