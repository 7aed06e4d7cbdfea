"""Spark session factory, the JVM jars it needs locally, and table readers/writers.

Names are imported lazily so that `python -m lib.spark.jars` and `python -m lib.spark.java`
run before pyspark is installed (make setup) without importing the factory.
"""

from typing import Any

__all__ = ["SparkFactory", "SparkSetupError"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from lib.spark import factory

        return getattr(factory, name)
    raise AttributeError(f"module 'lib.spark' has no attribute {name!r}")
