"""The local driver JVM's class-data-sharing archive (Java 17's dynamic AppCDS): where it is,
when a JVM may map it, and the options that map it.

`make setup` writes it (tooling/local/class_data.py) and then seals it: a small JSON file
beside it records its size and modification time once a JVM has mapped it. The local profile
maps only a sealed archive (``SparkFactory``): a JVM given a truncated archive dies of a bus
error at its start, so an archive changed since it was checked (cut short by a full disk, a copy
or a second writer) is left out, and ``-XX:+VerifySharedSpaces`` makes the JVM check the
content's checksums before it uses it (about 0.1 s). The JVM itself ignores an archive of another
Java build or Spark class path; its messages about that are turned off, as a run's stdout may
carry a job's output.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

ARCHIVE_NAME = "driver-classes.jsa"
LOG_OFF = "-Xlog:cds*=off"
ARCHIVE_OPTION = "-XX:SharedArchiveFile="  # followed by the archive's path
# options that already decide class-data sharing (the local profile then adds none)
DECIDING_OPTION = re.compile(r"-Xshare:|-XX:SharedArchiveFile=|-XX:ArchiveClassesAtExit=")


def usable_path(path: Path) -> bool:
    """Whether `path` can go into a JVM option as given: one word of Spark's option string (no
    white space or quotes) in printable ASCII (a JVM under the C locale does not map a path with
    other characters)."""
    return all(33 <= ord(character) < 127 for character in str(path)) and not re.search(
        r"[\"'\\]", str(path)
    )


def jvm_options(archive: Path) -> list[str]:
    """The options that map `archive`, its checksums checked, quietly ignored by a JVM it does
    not fit."""
    return [f"{ARCHIVE_OPTION}{archive}", "-XX:+VerifySharedSpaces", LOG_OFF]


def archive_in(options: Sequence[str]) -> str | None:
    """The archive that JVM option strings (each one or more options) map, if any."""
    mapped = [option for value in options for option in value.split()
              if option.startswith(ARCHIVE_OPTION)]  # fmt: skip
    return mapped[-1].removeprefix(ARCHIVE_OPTION) if mapped else None


def seal_path(archive: Path) -> Path:
    return archive.with_name(archive.name + ".seal.json")


def _stamp(archive: Path) -> dict[str, int]:
    status = archive.stat()
    return {"size": status.st_size, "mtime_ns": status.st_mtime_ns}


def seal(archive: Path) -> None:
    """Record `archive` as checked (call it once a JVM has mapped the archive)."""
    seal_file = seal_path(archive)
    written = seal_file.with_name(f".{seal_file.name}.{os.getpid()}.tmp")
    written.write_text(json.dumps(_stamp(archive)))
    written.replace(seal_file)


def sealed(archive: Path) -> bool:
    """Whether `archive` is a file unchanged since it was sealed."""
    try:
        return archive.is_file() and json.loads(seal_path(archive).read_text()) == _stamp(archive)
    except (OSError, ValueError):
        return False
