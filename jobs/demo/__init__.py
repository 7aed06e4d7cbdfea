"""A small S3A demo job: CSV in a bucket -> per-symbol summary as Parquet in the same bucket."""
