"""The one parallel runner: calls released together from their own threads (and so on their own
database connections, as separate server processes would be)."""

import fcntl
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from django.db import connection

from tests.support.users import forced_client

# Held while the threads run: suites run at once on one machine (.ci/run runs the suite on two
# Django versions against one PostgreSQL) take turns, so their fifty connections each never meet
# PostgreSQL's default limit of 100 together ("too many clients already").
MACHINE_LOCK = Path(tempfile.gettempdir()) / "kitsmith-tests-parallel.lock"


def run_together(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Each call in its own thread, all released by one barrier; the results in call order. Each
    thread closes the database connection Django opened for it."""
    with MACHINE_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return _run_together(calls)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _run_together(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))

    def worker(call):
        try:
            barrier.wait(timeout=60)
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(worker, calls))


def requests_together(user, requests: Sequence[tuple[str, str, Any]]) -> list:
    """Each (method, url, data) from its own forced client of `user`, all sent at once."""

    def send(method, url, data):
        return lambda: getattr(forced_client(user), method)(url, data, format="json")

    return run_together([send(*request) for request in requests])
