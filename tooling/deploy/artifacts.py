"""Where a release's artifacts live: s3://<artifacts>/<project>/<version>/..."""

from __future__ import annotations

from dataclasses import dataclass

from lib.spark.jars import JOBS_JAR

REQUIREMENTS = "requirements.txt"
# the run-time library's third-party requirements, one list (setup.py reads it too)
RUNTIME_REQUIREMENTS = "lib/runtime-requirements.txt"
BOOTSTRAP = "bootstrap/emr_install_python_deps.sh"
ARCHIVE_STEM = "datalake_etl"


def jobs_jar_name(archive_name: str) -> str:
    """The jobs' jar of a release, named by the archive's version and revision
    (datalake_etl-1.2-abc.zip -> datalake-etl-jobs-1.2-abc.jar): a later upload of the same
    version does not replace the jar under the steps and jobs of an earlier one."""
    stem = archive_name.removesuffix(".zip").removeprefix(ARCHIVE_STEM)
    return f"{JOBS_JAR.removesuffix('.jar')}{stem}.jar"


@dataclass(frozen=True)
class Release:
    artifacts_uri: str  # s3://bucket/prefix
    project: str
    version: str
    archive_name: str  # datalake_etl-<version>-<sha>.zip

    @property
    def root(self) -> str:
        return f"{self.artifacts_uri.rstrip('/')}/{self.project}/{self.version}"

    @property
    def archive_uri(self) -> str:
        return f"{self.root}/{self.archive_name}"

    @property
    def jobs_jar_uri(self) -> str:
        """The jobs' JVM code (tooling.local.jobs_jar): `--jars` on EMR, `--extra-jars` on Glue."""
        return f"{self.root}/{jobs_jar_name(self.archive_name)}"

    @property
    def requirements_uri(self) -> str:
        return f"{self.root}/{REQUIREMENTS}"

    @property
    def bootstrap_uri(self) -> str:
        return f"{self.root}/{BOOTSTRAP}"

    def entry_uri(self, job: str) -> str:
        """The uploaded entry script of a deployable job (tooling.deploy.jobs names them)."""
        return f"{self.root}/{entry_key(job)}"


def entry_key(job: str) -> str:
    """Where a job's entry script goes, relative to the release root."""
    return f"entries/{job}.py"
