"""Xetra: Deutsche Börse hourly trade CSVs -> a daily report per instrument (ISIN)."""
