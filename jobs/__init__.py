"""The project's Spark jobs: each is a folder with transform.py (pure), job.py and __main__.py."""
