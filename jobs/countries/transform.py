"""Pure steps of the countries curation: landed REST Countries v3.1 records -> three tables."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DateType,
    DoubleType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
)

CORRUPT_COLUMN = "_corrupt_record"
# Only what the tables use, typed explicitly (no inference); other keys are ignored.
RECORD_SCHEMA = StructType(
    [
        StructField(
            "name",
            StructType(
                [StructField("common", StringType()), StructField("official", StringType())]
            ),
        ),
        StructField("cca2", StringType()),
        StructField("ccn3", StringType()),
        StructField("cca3", StringType()),
        StructField("independent", BooleanType()),
        StructField("unMember", BooleanType()),
        StructField(
            "currencies",
            MapType(
                StringType(),
                StructType(
                    [StructField("name", StringType()), StructField("symbol", StringType())]
                ),
            ),
        ),
        StructField("capital", ArrayType(StringType())),
        StructField("region", StringType()),
        StructField("subregion", StringType()),
        StructField("languages", MapType(StringType(), StringType())),
        StructField("latlng", ArrayType(DoubleType())),
        StructField("landlocked", BooleanType()),
        StructField("borders", ArrayType(StringType())),
        StructField("area", DoubleType()),
        StructField("population", LongType()),
        StructField("timezones", ArrayType(StringType())),
        StructField(CORRUPT_COLUMN, StringType()),
    ]
)


def _empty_to_null(column: str) -> F.Column:
    return F.when(F.trim(F.col(column)) != "", F.col(column))


def with_reject_reason(records: DataFrame) -> DataFrame:
    """``reject_reason``: malformed_json, missing_cca3, duplicate_cca3 (first one kept), or null."""
    cca3 = F.trim(F.col("cca3"))

    first = F.row_number().over(Window.partitionBy(cca3).orderBy("source_file", "name.common"))
    return records.withColumn(
        "reject_reason",
        F.when(F.col(CORRUPT_COLUMN).isNotNull(), F.lit("malformed_json"))
        .when(cca3.isNull() | (cca3 == ""), F.lit("missing_cca3"))
        .when(first > 1, F.lit("duplicate_cca3")),
    )


def countries(extraction_date: str) -> Callable[[DataFrame], DataFrame]:
    def transform(records: DataFrame) -> DataFrame:
        good = records.where(F.col("reject_reason").isNull())
        return good.select(
            F.trim("cca3").alias("cca3"),
            _empty_to_null("cca2").alias("cca2"),
            _empty_to_null("ccn3").alias("ccn3"),
            F.col("name.common").alias("name_common"),
            F.col("name.official").alias("name_official"),
            _empty_to_null("region").alias("region"),
            _empty_to_null("subregion").alias("subregion"),
            F.when(F.size("capital") > 0, F.col("capital")[0]).alias("capital"),
            F.col("population").cast(LongType()).alias("population"),
            F.col("area").cast(DoubleType()).alias("area"),
            F.col("independent"),
            F.col("unMember").alias("un_member"),
            F.col("landlocked"),
            F.when(F.size("latlng") >= 2, F.col("latlng")[0]).alias("latitude"),
            F.when(F.size("latlng") >= 2, F.col("latlng")[1]).alias("longitude"),
            F.coalesce("timezones", F.array().cast(ArrayType(StringType()))).alias("timezones"),
            F.coalesce("borders", F.array().cast(ArrayType(StringType()))).alias("borders"),
            F.lit(extraction_date).cast(DateType()).alias("extraction_date"),
        )

    return transform


def country_currencies(extraction_date: str) -> Callable[[DataFrame], DataFrame]:
    def transform(records: DataFrame) -> DataFrame:
        good = records.where(F.col("reject_reason").isNull())
        return good.select(
            F.trim("cca3").alias("cca3"), F.explode("currencies").alias("code", "currency")
        ).select(
            "cca3",
            F.col("code").alias("currency_code"),
            F.col("currency.name").alias("currency_name"),
            F.col("currency.symbol").alias("currency_symbol"),
            F.lit(extraction_date).cast(DateType()).alias("extraction_date"),
        )

    return transform


def country_languages(extraction_date: str) -> Callable[[DataFrame], DataFrame]:
    def transform(records: DataFrame) -> DataFrame:
        good = records.where(F.col("reject_reason").isNull())
        return good.select(
            F.trim("cca3").alias("cca3"), F.explode("languages").alias("code", "name")
        ).select(
            "cca3",
            F.col("code").alias("language_code"),
            F.col("name").alias("language_name"),
            F.lit(extraction_date).cast(DateType()).alias("extraction_date"),
        )

    return transform


def quarantine(extraction_date: str) -> Callable[[DataFrame], DataFrame]:
    def transform(records: DataFrame) -> DataFrame:
        return records.where(F.col("reject_reason").isNotNull()).select(
            "source_file",
            "reject_reason",
            F.col("cca3"),
            F.col("name.common").alias("name_common"),
            F.col(CORRUPT_COLUMN),
            F.lit(extraction_date).cast(DateType()).alias("extraction_date"),
        )

    return transform
