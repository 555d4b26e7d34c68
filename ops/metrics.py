"""What /metrics counts beyond django-prometheus's request metrics: latency by route, method
and status (django-prometheus's is by view and method only), statement time and stock moves.
In multi-process mode (PROMETHEUS_MULTIPROC_DIR, set by gunicorn.conf.py) every worker writes
its values to files there and /metrics sums them, so totals cover every worker."""

from collections.abc import Callable, Mapping
from http import HTTPMethod
from typing import Any

from django.db import transaction
from django_prometheus.db import execute_total, query_duration_seconds
from prometheus_client import Counter, Histogram

from inventory.models import InventoryTransaction
from inventory.signals import ledger_written

STOCK_MOVES = Counter(
    "kitsmith_stock_moves_total",
    "Ledger rows committed (inventory transactions), by kind.",
    ["kind"],
)


REQUEST_DURATION = Histogram(
    "kitsmith_http_request_duration_seconds",
    "Time to answer a request, by route (the view's name), method and status.",
    ["route", "method", "status"],
)
# A label value per method a client names would let anyone grow the series without end.
_METHODS = frozenset(HTTPMethod.__members__)


def observe_request(route: str | None, method: str | None, status: int, seconds: float) -> None:
    REQUEST_DURATION.labels(
        route=route or "",
        method=method if method in _METHODS else "other",
        status=str(status),
    ).observe(seconds)


def connect() -> None:
    ledger_written.connect(_count_stock_moves, sender=InventoryTransaction)


def _count_stock_moves(sender: Any, counts: Mapping[str, int], **kwargs: Any) -> None:
    # Only once committed: a rolled-back transaction or savepoint drops the callback.
    def count() -> None:
        for kind, rows in counts.items():
            STOCK_MOVES.labels(kind=kind).inc(rows)

    # robust: a metrics failure (say, an unwritable PROMETHEUS_MULTIPROC_DIR) is logged, and the
    # committed stock move is not answered as an error.
    transaction.on_commit(count, robust=True)


class StatementTimer:
    """A connection.execute_wrapper timing every statement of a request into
    django-prometheus's database metrics (its database backends would replace ours)."""

    def __init__(self, alias: str, vendor: str) -> None:
        self.executed = execute_total.labels(alias, vendor)
        self.duration = query_duration_seconds.labels(alias, vendor)

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.executed.inc(len(params) if many else 1)
        with self.duration.time():
            return execute(sql, params, many, context)
