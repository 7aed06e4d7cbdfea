"""Pure DataFrame -> DataFrame steps of the demo job."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType

TRADES_SCHEMA = StructType(
    [
        StructField("symbol", StringType(), nullable=False),
        StructField("trade_date", StringType(), nullable=False),
        StructField("price", DoubleType(), nullable=False),
        StructField("volume", LongType(), nullable=False),
    ]
)


def summarise_by_symbol(trades: DataFrame) -> DataFrame:
    """One row per symbol and day: trades, volume, volume-weighted average price."""
    return (
        trades.groupBy("symbol", "trade_date")
        .agg(
            F.count(F.lit(1)).alias("trades"),
            F.sum("volume").alias("volume"),
            (F.sum(F.col("price") * F.col("volume")) / F.sum("volume")).alias("vwap"),
        )
        .orderBy("trade_date", "symbol")
    )
