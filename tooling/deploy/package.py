"""The `--py-files` / `--extra-py-files` archive: first-party code, deterministic, versioned.

    python -m tooling.deploy.package [--out dist] [--wheel]

The archive keeps package paths (``lib/__init__.py`` at the zip root, sub-packages intact) so
executors import ``lib`` and ``jobs`` from it; the YAML config ships inside as ``lib/_conf/``.
Entries are sorted, timestamps fixed at 1980-01-01 and permissions normalised: the same sources
give the same bytes, hence the same sha256. Only first-party code goes in: third-party packages
come from the platform, a bootstrap action (EMR) or --additional-python-modules (Glue).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lib import __version__
from lib.spark.jars import JOBS_JAR, JOBS_JAVA_SOURCES
from tooling.deploy.artifacts import (
    ARCHIVE_STEM,
    BOOTSTRAP,
    REQUIREMENTS,
    RUNTIME_REQUIREMENTS,
    entry_key,
    jobs_jar_name,
)
from tooling.deploy.jobs import discover
from tooling.local import jobs_jar as jobs_jar_builder

# The run-time packages: the library and the jobs. Developer tooling (tooling/), tests and
# benchmarks never go in (tests/tooling/deploy/test_package.py checks the archive).
PACKAGES = ("lib", "jobs")
SOURCE_SUFFIXES = (".py",)
FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Artifact:
    path: Path
    sha256: str
    entries: int


def archive_name(version: str = __version__, revision: str | None = None) -> str:
    suffix = f"-{revision}" if revision else ""
    return f"{ARCHIVE_STEM}-{version}{suffix}.zip"


def git_revision(root: Path) -> str | None:
    """The short commit of `root`, with "-dirty" when the work tree has changes; None if no git."""
    try:
        sha = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=10", "HEAD"],
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout.strip()  # fmt: skip
        # untracked files count where they would be packaged (a new job folder not committed)
        packaged = [f":(glob){package}/**/*{suffix}" for package in PACKAGES
                    for suffix in SOURCE_SUFFIXES]  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=all", "--",
             *packaged, f":(glob){JOBS_JAVA_SOURCES}", ":(glob)conf/*.yaml", "bootstrap",
             RUNTIME_REQUIREMENTS],
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{sha}-dirty" if dirty else sha


def _source_files(root: Path, packages: tuple[str, ...]) -> list[tuple[str, Path]]:
    """(name in the archive, file) for every module of the packages, plus conf/*.yaml."""
    members: list[tuple[str, Path]] = []
    for package in packages:
        for path in (root / package).rglob("*"):
            relative = path.relative_to(root)
            if "__pycache__" in relative.parts or not path.is_file():
                continue
            if path.suffix in SOURCE_SUFFIXES:
                members.append((relative.as_posix(), path))
    for path in (root / "conf").glob("*.yaml"):
        members.append((f"lib/_conf/{path.name}", path))
    return sorted(members)


def build_pyfiles_archive(
    root: Path,
    out_dir: Path,
    version: str = __version__,
    packages: tuple[str, ...] = PACKAGES,
    revision: str | None = None,
) -> Artifact:
    """Write the archive to `out_dir` (atomically) and return its path and sha256."""
    members = _source_files(root, packages)
    missing = [package for package in packages if not (root / package / "__init__.py").is_file()]
    if missing:
        raise FileNotFoundError(f"not a package (no __init__.py): {', '.join(missing)} in {root}")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / archive_name(version, revision)
    partial = target.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, path in members:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            info.create_system = 3  # unix, whatever the build machine
            zf.writestr(info, path.read_bytes())
    partial.replace(target)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    return Artifact(target, digest, len(members))


@dataclass(frozen=True)
class ReleaseFiles:
    archive: Artifact
    entries: dict[str, Path]
    requirements: Path
    bootstrap: Path
    jobs_jar: Path

    def uploads(self) -> list[tuple[Path, str]]:
        """(local file, key relative to the release root) for `upload`."""
        files = [(self.archive.path, self.archive.path.name), (self.requirements, REQUIREMENTS)]
        files.append((self.jobs_jar, jobs_jar_name(self.archive.path.name)))
        files += [(path, entry_key(job)) for job, path in sorted(self.entries.items())]
        files.append((self.bootstrap, BOOTSTRAP))
        return files


def build_release(root: Path, out_dir: Path) -> ReleaseFiles:
    """The archive (named by version and git revision), the jobs' jar, entry scripts,
    requirements, bootstrap."""
    archive = build_pyfiles_archive(root, out_dir, revision=git_revision(root))
    jobs_jar = out_dir / JOBS_JAR
    jobs_jar_builder.build(root, jobs_jar)
    entries = {}
    for job, deployable in discover(root).items():
        entries[job] = out_dir / entry_key(job)
        entries[job].parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / deployable.entry, entries[job])
    requirements = out_dir / REQUIREMENTS
    shutil.copyfile(root / RUNTIME_REQUIREMENTS, requirements)
    bootstrap = out_dir / BOOTSTRAP
    bootstrap.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(root / BOOTSTRAP, bootstrap)
    return ReleaseFiles(archive, entries, requirements, bootstrap, jobs_jar)


def build_wheel(root: Path, out_dir: Path) -> Path:
    """Build the wheel from setup.py with the current interpreter's pip.

    setuptools reuses `build/`: a module deleted or moved since the last build would ship again
    from there, so it is removed first."""
    shutil.rmtree(root / "build", ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    before = set(out_dir.glob("*.whl"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(out_dir),
            str(root),
        ],
        check=True,
    )
    wheels = sorted(set(out_dir.glob("*.whl")) - before) or sorted(
        out_dir.glob(f"{ARCHIVE_STEM}-{__version__}-*.whl")
    )
    if not wheels:
        raise FileNotFoundError(f"pip produced no wheel in {out_dir}")
    return wheels[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.deploy.package", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path.cwd())
    parser.add_argument("--out", type=Path, default=Path("dist"))
    parser.add_argument("--wheel", action="store_true", help="also build the wheel")
    args = parser.parse_args(argv)
    release = build_release(args.root, args.out)
    artifact = release.archive
    print(f"{artifact.path}  sha256={artifact.sha256}  entries={artifact.entries}")
    for path, key in release.uploads()[1:]:
        print(f"{path}  -> {key}")
    if args.wheel:
        print(build_wheel(args.root, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
