"""The benchmark: `python -m tests.perf` (full scale) or `python -m tests.perf --quick` (CI).

Kitsmith under gunicorn with a production configuration, against `floor.py`, the same work done by
plain code, driven by wrk. See __main__.py and README "Performance".
"""
