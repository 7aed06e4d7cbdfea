"""Delta Lake's Spark settings: the one definition the session factory and the deploy tooling use.

The jars are the platform's on EMR (delta-defaults) and Glue (--datalake-formats delta), and
lib.spark.jars' pinned ones locally.
"""

DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"
DELTA_CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog"
DELTA_SPARK_CONF = {
    "spark.sql.extensions": DELTA_EXTENSION,
    "spark.sql.catalog.spark_catalog": DELTA_CATALOG,
}
