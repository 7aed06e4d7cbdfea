"""Runnable demos of the jobs on local emulators (`make run`, `make run-countries`)."""
