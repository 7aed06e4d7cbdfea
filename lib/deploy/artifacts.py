"""Where a release's artifacts live: s3://<artifacts>/<project>/<version>/..."""

from __future__ import annotations

from dataclasses import dataclass

ENTRY_SCRIPTS = {
    "xetra": "jobs/xetra/entry.py",
    "countries-extract": "jobs/countries/entry_extract.py",
    "countries-transform": "jobs/countries/entry_transform.py",
    "api-extract": "jobs/api_extract/entry.py",
}
REQUIREMENTS = "requirements.txt"
BOOTSTRAP = "bootstrap/emr_install_python_deps.sh"


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
    def requirements_uri(self) -> str:
        return f"{self.root}/{REQUIREMENTS}"

    @property
    def bootstrap_uri(self) -> str:
        return f"{self.root}/{BOOTSTRAP}"

    def entry_uri(self, job: str) -> str:
        if job not in ENTRY_SCRIPTS:
            raise ValueError(f"unknown job {job!r}; known: {sorted(ENTRY_SCRIPTS)}")
        return f"{self.root}/entries/{job}.py"
