"""Local development helpers: an embedded S3 emulator (moto server). Not used on EMR/Glue."""
