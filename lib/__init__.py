"""Shared, business-agnostic library for the project's Spark jobs on AWS (EMR, Glue, local)."""

__version__ = "0.1.0"
PROJECT_NAME = "datalake-etl"
