"""The one parallel runner: calls released together from their own threads (and so on their own
database connections, as separate server processes would be)."""

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import connection

from tests.support.users import forced_client


def run_together(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Each call in its own thread, all released by one barrier; the results in call order. Each
    thread closes the database connection Django opened for it."""
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
