"""REST Countries v3.1: parallel extraction landed raw by date, then curation with Spark."""
