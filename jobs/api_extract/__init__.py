"""Generic extraction of config-defined REST API sources into the raw landing zone."""
