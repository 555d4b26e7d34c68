"""Bulk work timed from Python, one request at a time as one integration client syncs, reported
as rows per second by server (issue 16):

- paging through every part inventory 4,000 rows (five fields) at a time, ordered by key: the
  query service and the floor page with `start`, the DRF server with LimitOffsetPagination's
  `offset`. Each server pages for at most its budget; one that runs out reports the rows/s of
  the pages it read (marked *), since a deep OFFSET only gets dearer, that rate is its best case;
- importing 100,000 part inventories: tests/perf/imports.py when it is there.
"""

import importlib.util
import time
from collections.abc import Callable
from typing import Any

from tests.perf import targets
from tests.perf.multi import expect, http

PAGE = 4000
FIELDS = ["key", "serialNumber", "lotNumber", "quantity", "part.id"]
DRF_FIELDS = "key,serial_number,lot_number,quantity,part_code"
PAGING = "paging through all, 4,000 a page"
IMPORTS = "import 100,000 part inventories"


def query_body(start: int, size: int = PAGE) -> dict[str, Any]:
    return {
        "object": "inventory-control/part-inventory",
        "fields": FIELDS,
        "start": start,
        "size": size,
    }


def drf_path(offset: int, limit: int = PAGE) -> str:
    return f"/part-inventories/?fields={DRF_FIELDS}&limit={limit}&offset={offset}"


def page_through(fetch: Callable[[int], int], total: int, budget: float) -> dict[str, Any]:
    """`fetch(offset)` reads one page and returns its row count; stop at the end or the budget."""
    rows = pages = 0
    started = time.perf_counter()
    while rows < total:
        got = fetch(rows)
        if not got:
            break
        rows += got
        pages += 1
        if time.perf_counter() - started > budget:
            break
    seconds = time.perf_counter() - started
    return {
        "rows": rows,
        "pages": pages,
        "seconds": round(seconds, 2),
        "per_s": round(rows / seconds, 1) if seconds else 0.0,
        "complete": rows >= total,
    }


def paging(urls: dict[str, str], token: str, total: int, budgets: dict[str, float]) -> dict:
    """Page through `total` part inventories on each server in `urls` (label -> base URL)."""

    def rest(base: str) -> Callable[[int], int]:
        def fetch(offset: int) -> int:
            answer = http(base + "/services/core/query", "POST", query_body(offset + 1), token)
            return len(expect(*answer, 200)["ia::result"])

        return fetch

    def drf(base: str) -> Callable[[int], int]:
        def fetch(offset: int) -> int:
            return len(expect(*http(base + drf_path(offset), "GET", None, token), 200)["results"])

        return fetch

    servers = {}
    for label, base in urls.items():
        fetch = drf(base) if label == "drf" else rest(base)
        try:
            servers[label] = page_through(fetch, total, budgets[label])
        except (RuntimeError, OSError) as exc:
            servers[label] = {"status": f"n/a ({str(exc)[:60]})"}
    drf_budget = budgets.get("drf")
    note = (
        f"{total:,} rows; * = stopped at the {drf_budget:g} s budget: rows/s of the pages read"
        " (for DRF's OFFSET pages, its best case); one run, not the best of 3"
    )
    per_s = {label: result.get("per_s") for label, result in servers.items()}
    return {
        "scenario": PAGING,
        "status": "ok",
        "unit": "rows",
        "servers": servers,
        "note": note,
        "targets": targets.rate_checks(per_s),
    }


def imports(quick: bool, database_url: str) -> dict[str, Any]:
    """The import row: tests/perf/imports.py's `run(quick, database_url)` once it exists."""
    if importlib.util.find_spec("tests.perf.imports") is None:
        return {"scenario": IMPORTS, "status": "n/a (not built)"}
    from tests.perf import imports as module

    try:
        result = module.run(quick, database_url)
    except Exception as exc:
        return {"scenario": IMPORTS, "status": f"n/a ({type(exc).__name__}: {str(exc)[:50]})"}
    servers = {}
    for label, value in result.items():
        if isinstance(value, dict) and ("per_s" in value or "rows_per_s" in value):
            servers[label] = {**value, "per_s": value.get("per_s", value.get("rows_per_s"))}
    if not servers and ("per_s" in result or "rows_per_s" in result):
        servers["service"] = {"per_s": result.get("per_s", result.get("rows_per_s"))}
    others = [
        f"{key.removesuffix('_rows_per_s')} {value:,}/s"
        for key, value in result.items()
        if key.endswith("_rows_per_s")
    ]
    rows = f"{result['rows']:,} rows" if isinstance(result.get("rows"), int) else ""
    return {
        "scenario": IMPORTS,
        "status": "ok",
        "unit": "rows",
        "servers": servers,
        "raw": result,
        "note": "; ".join(x for x in ["tests/perf/imports.py, in the harness", rows, *others] if x),
    }
