"""The deployable jobs, found by convention: nothing here names a job.

A job is a folder ``jobs/<package>/`` with a ``__main__.py`` that defines ``JOB`` (its
lib.runner.JobSpec) and one or more entry scripts:

* ``entry.py`` is deployed as ``<package>`` (underscores become dashes: ``api_extract`` ->
  ``api-extract``);
* ``entry_<variant>.py`` as ``<package>-<variant>`` (``countries/entry_extract.py`` ->
  ``countries-extract``), for a job whose sub-commands Glue cannot pass as arguments.

Adding a job is adding its folder: packaging, upload, EMR steps and Glue jobs pick it up.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JOBS_PACKAGE = "jobs"
ENTRY_STEM = "entry"


class UnknownJob(ValueError):
    pass


@dataclass(frozen=True)
class Deployable:
    """One entry script of one job folder, under the name the deploy tool gives it."""

    name: str  # xetra, countries-extract
    package: str  # the folder under jobs/
    entry: str  # the script, relative to the project root: jobs/xetra/entry.py
    root: Path  # the project root it was found in

    @property
    def main_module(self) -> str:
        return f"{JOBS_PACKAGE}.{self.package}.__main__"

    def spec(self) -> Any:
        """The job's lib.runner.JobSpec (`JOB` in its __main__), imported on demand."""
        from lib.runner import JobSpec

        module = importlib.import_module(self.main_module)
        origin = Path(module.__file__ or "").resolve()
        if not origin.is_relative_to(self.root.resolve()):
            raise UnknownJob(
                f"{self.main_module} is imported from {origin.parent}, not from {self.root}: "
                "run the deploy tool from the project root (or put it first on PYTHONPATH)"
            )
        spec = getattr(module, "JOB", None)
        if not isinstance(spec, JobSpec):
            raise UnknownJob(
                f"{self.main_module} defines no JOB = lib.runner.JobSpec(...): every job's "
                "__main__ declares its spec so that tools can read its config section"
            )
        return spec


def deployable_name(package: str, entry_stem: str) -> str:
    variant = entry_stem.removeprefix(ENTRY_STEM).removeprefix("_")
    name = package if not variant else f"{package}-{variant}"
    return name.replace("_", "-")


def discover(root: Path) -> dict[str, Deployable]:
    """Every deployable entry under `root`/jobs, by name (sorted)."""
    found: dict[str, Deployable] = {}
    jobs_dir = root / JOBS_PACKAGE
    for main in sorted(jobs_dir.glob("*/__main__.py")):
        folder = main.parent
        if not (folder / "__init__.py").is_file():
            continue
        for script in sorted(folder.glob(f"{ENTRY_STEM}*.py")):
            if script.stem != ENTRY_STEM and not script.stem.startswith(f"{ENTRY_STEM}_"):
                continue
            name = deployable_name(folder.name, script.stem)
            if name in found:
                raise UnknownJob(
                    f"{script} and {found[name].entry} are both deployed as {name!r}: rename one"
                )
            relative = script.relative_to(root).as_posix()
            found[name] = Deployable(name, folder.name, relative, root)
    return dict(sorted(found.items()))


def find(root: Path, name: str) -> Deployable:
    jobs = discover(root)
    if name not in jobs:
        known = ", ".join(jobs) or f"none (no {JOBS_PACKAGE}/<name>/entry*.py under {root})"
        raise UnknownJob(f"unknown job {name!r}; known: {known}")
    return jobs[name]
