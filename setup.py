"""datalake-etl: a shared PySpark library (lib) and Spark jobs (jobs) for AWS data lakes.

    pip install -e ".[spark,dev]"     # what `make setup` does
    pip wheel --no-deps -w dist .     # the wheel (`make package` also builds the --py-files zip)

pyspark is an extra, not a requirement: EMR and Glue bring their own Spark, and installing a
second pyspark there breaks the platform's. The conf/*.yaml files ship inside the package as
lib/_conf so that a wheel or a --py-files archive carries its configuration.
"""

import re
import shutil
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).parent
VERSION = re.search(r'__version__ = "([^"]+)"', (ROOT / "lib" / "__init__.py").read_text())[1]

# Third-party packages the library imports at run time: one list, also shipped to EMR (bootstrap)
# and Glue (--additional-python-modules) by `python -m tooling.deploy package`.
RUNTIME = (ROOT / "lib/runtime-requirements.txt").read_text().split()
SPARK = ["pyspark==3.5.6", "delta-spark==3.3.2"]
DEV = [
    "pytest==9.2.0",
    "pytest-cov==7.1.0",
    "pytest-timeout==2.4.0",
    "chispa==0.12.0",
    "moto[server]==5.2.5",
    "ruff==0.17.6",
    "pyarrow==26.0.1",
    "hypothesis==6.170.15",
    # the Python part of aws-glue-libs: Glue's own getResolvedOptions for the entry scripts
    "awsglue-dev==2021.12.30",
    # an independent reader of the Delta tables Spark writes (delta-rs)
    "deltalake==1.6.6",
    "setuptools>=68",
    "wheel>=0.42",
]
# `make bench`: the peers the jobs are measured against (tooling/bench/)
BENCH = ["duckdb==2.0.0", "polars==2.1.0", "pandas==3.1.1", "watchtower==3.4.0"]


class BuildWithConf(build_py):
    """Copies conf/*.yaml into the built package as lib/_conf/."""

    def run(self):
        super().run()
        target = Path(self.build_lib) / "lib" / "_conf"
        target.mkdir(parents=True, exist_ok=True)
        for source in sorted((ROOT / "conf").glob("*.yaml")):
            shutil.copyfile(source, target / source.name)


setup(
    name="datalake-etl",
    version=VERSION,
    description="Shared PySpark library and jobs for AWS data lakes (EMR, Glue, local)",
    long_description=(ROOT / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.11",
    packages=find_packages(include=["lib", "lib.*", "jobs", "jobs.*"]),
    install_requires=RUNTIME,
    extras_require={"spark": SPARK, "dev": DEV, "bench": BENCH},
    cmdclass={"build_py": BuildWithConf},
    zip_safe=True,
)
