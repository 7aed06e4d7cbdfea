# The single command surface. `make help` lists the targets.
# On a fresh machine `make run` and `make test` each set up what they need first.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP_STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
PYTEST_ARGS ?=
BENCH_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: class-data help setup java jars jobs-jar run run-countries test bench lint format package clean jobs \
	deploy-upload deploy-emr-step deploy-glue-job deploy-glue-run deploy-demo

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: $(PIP_STAMP) java jars jobs-jar class-data ## .venv with pinned deps, Java 17+ check, Spark jars, the jobs' jar, class-data archive (no-op when done)

$(PIP_STAMP): setup.py
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else "Python 3.11+ is needed (found " + sys.version.split()[0] + "): set PYTHON=python3.11")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24" "setuptools>=68" "wheel>=0.42"
	$(PY) -m pip install --quiet -e ".[spark,dev]"
	@touch $@

java: $(PIP_STAMP) ## check that Java 17+ is installed
	@$(PY) -m lib.spark.java

jars: $(PIP_STAMP) ## resolve the pinned Spark jars into .jars/ (or verify $$ETL_JARS_DIR)
	@$(PY) -m lib.spark.jars resolve

jobs-jar: $(PIP_STAMP) java ## the jobs' JVM code (jobs/*/java) as .jars/datalake-etl-jobs.jar (needs javac; rebuilt when it changes)
	@$(PY) -m tooling.local.jobs_jar

class-data: $(PIP_STAMP) java jars jobs-jar ## the local driver JVM's class-data-sharing archive (.jars/driver-classes.jsa; a 20-30 s training run)
	@$(PY) -m tooling.local.class_data

run: setup ## run the Xetra job over S3A on an embedded moto server (synthetic data)
	$(PY) -m tooling.demos.xetra

run-countries: setup ## extract + curate REST Countries on a local fake API and moto server
	$(PY) -m tooling.demos.countries

test: setup $(BENCH_STAMP) ## run the whole test suite (the bench tests need the bench extra too)
	$(PY) -m pytest $(PYTEST_ARGS)

$(BENCH_STAMP): setup.py $(PIP_STAMP)
	$(PY) -m pip install --quiet -e ".[spark,dev,bench]"
	@touch $@

bench: setup $(BENCH_STAMP) ## tooling/bench: against DuckDB/Polars/pandas, watchtower (needs ../shared)
	$(PY) -m tooling.bench $(BENCH_ARGS)

lint: $(PIP_STAMP) ## ruff check and format check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(PIP_STAMP) ## format the code with ruff
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

package: $(PIP_STAMP) ## dist/: the deterministic --py-files archive and the wheel
	$(PY) -m tooling.deploy.package --out dist --wheel

ENV ?= dev
JOB ?= xetra
ARGS ?=
jobs: $(PIP_STAMP) ## the deployable jobs the deploy tool finds under jobs/
	$(PY) -m tooling.deploy jobs --env $(ENV)

deploy-upload: $(PIP_STAMP) ## upload the release to deploy.artifacts_uri (ENV=dev)
	$(PY) -m tooling.deploy upload --env $(ENV)

deploy-emr-step: $(PIP_STAMP) ## add JOB as an EMR step: CLUSTER=j-… ENV=dev JOB=xetra ARGS="--start …"
	$(PY) -m tooling.deploy emr-step --env $(ENV) --job $(JOB) --cluster-id $(CLUSTER) --wait -- $(ARGS)

deploy-glue-job: $(PIP_STAMP) ## create or update the Glue job (ENV=dev JOB=xetra)
	$(PY) -m tooling.deploy glue-job --env $(ENV) --job $(JOB)

deploy-glue-run: $(PIP_STAMP) ## start the Glue job and wait: ENV=dev ARGS="--start …"
	$(PY) -m tooling.deploy glue-run --env $(ENV) --job $(JOB) --wait -- $(ARGS)

deploy-demo: setup ## the deploy requests run on local EMR (standalone cluster) and Glue emulations over moto
	$(PY) -m tooling.deploy.demo

clean: ## remove build output (keeps .venv and .jars)
	rm -rf dist build *.egg-info .pytest_cache .ruff_cache spark-warehouse metastore_db derby.log
