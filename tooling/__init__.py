"""Developer tooling: deploy, local emulators and fakes, demos, data generators, benchmarks.

Runs on a developer's machine or in CI, never on a cluster: nothing here is in the --py-files
archive or the wheel (tests/tooling/deploy/test_package.py proves it).
"""
