"""Packaging and deployment: the --py-files archive, EMR steps, Glue jobs (plain data first)."""
