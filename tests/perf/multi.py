"""The scenarios wrk cannot drive: several requests in one (contract 13.2, 13.3), timed from Python
against the service's gunicorn, one request after another on one connection at a time (as one
integration client syncs), each form against the same work sent as single requests.

- batch create: 500 part inventories in one batch POST, against 500 single POSTs (rows/s);
- composite of 5: create a part inventory, read it, change it (If-Match), read its part and query
  it, as one composite with references, against the five single requests (sub-requests/s).

The floor has no such forms: the comparison is the service against itself. The plain DRF server
(tests/perf/drf_plain) has neither batch nor composite: its figure is the rate of its own single
requests for the same work (500 POSTs; POST, GET, PATCH, GET item, filtered list), timed in its
own rounds, whose failure marks only its figure n/a.
"""

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BATCH_ROWS = 500
BATCH_TARGET = 5.0  # a batch at least 5x the rows/s of single requests (issue 11)
PI = "/objects/inventory-control/part-inventory"
NAMES = ("batch create 500", "composite of 5")


@dataclass
class Timed:
    name: str
    unit: str  # what `rate` counts per second
    target: float | None = None
    single: list[float] = field(default_factory=list)  # seconds per round
    multi: list[float] = field(default_factory=list)
    per_round: int = 0  # units per round
    status: str = "ok"
    drf: list[float] = field(default_factory=list)  # seconds per round of DRF single requests
    drf_per_round: int = 0
    drf_status: str = "ok"  # the DRF rounds' own: their failure is a measurement, not the run's
    single_per_round: int = 0  # single requests per round, when fewer than per_round

    def rate(self, seconds: list[float], units: int = 0) -> float:
        return (units or self.per_round) / min(seconds) if seconds else 0.0

    def row(self) -> dict[str, Any]:
        if self.status != "ok":
            return {"scenario": self.name, "status": self.status}
        single, multi = self.rate(self.single, self.single_per_round), self.rate(self.multi)
        ratio = multi / single if single else None
        return {
            "scenario": self.name,
            "status": "ok",
            "unit": self.unit,
            "per_round": self.per_round,
            "rounds": len(self.multi),
            "single_per_s": round(single, 1),
            "multi_per_s": round(multi, 1),
            "single_best_s": round(min(self.single), 4),
            "multi_best_s": round(min(self.multi), 4),
            "ratio": round(ratio, 2) if ratio else None,
            "target": self.target,
            "meets_target": None if self.target is None else bool(ratio and ratio >= self.target),
            "drf_single_per_s": round(self.rate(self.drf, self.drf_per_round), 1) or None,
            "drf_status": self.drf_status,
        }

    def drf_rounds(self, call: Callable[[], None], rounds: int) -> None:
        """Time `rounds` rounds of the DRF server's single requests, after Kitsmith's: a DRF
        failure marks only DRF's figure n/a."""
        try:
            for _ in range(rounds):
                self.drf.append(timed(call))
        except (RuntimeError, OSError) as exc:
            self.drf, self.drf_status = [], f"n/a ({str(exc)[:70]})"


def http(url: str, method: str, body: Any, token: str, headers=None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            content = response.read()
            return response.status, json.loads(content) if content else None
    except urllib.error.HTTPError as exc:
        content = exc.read()
        try:
            return exc.code, json.loads(content)
        except ValueError:
            return exc.code, content[:200]


def expect(status: int, body: Any, wanted: int) -> Any:
    if status != wanted:
        raise RuntimeError(f"expected {wanted}, got {status}: {str(body)[:300]}")
    return body


def timed(call: Callable[[], None]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def run(
    base: str, token: str, bench: dict[str, Any], names, *, rounds: int, drf: str | None = None
) -> list[Timed]:
    """`drf`: the plain DRF server's URL, whose single requests are timed too where it has them."""
    scenarios = []
    for name in names:
        scenario = _SCENARIOS[name](base, token, bench, rounds, drf)
        scenarios.append(scenario)
    return scenarios


def batch_create(base: str, token: str, bench: dict[str, Any], rounds: int, drf=None) -> Timed:
    scenario = Timed("batch create 500", "rows", BATCH_TARGET, per_round=BATCH_ROWS)
    body = {"part": {"id": bench["untracked_part"]}, "quantity": 1}
    drf_body = {"part": bench["untracked_part_key"], "quantity": "1"}
    # --quick (one round) times 50 single requests, enough for a rate, to stay short.
    singles_count = BATCH_ROWS if rounds > 1 else BATCH_ROWS // 10
    scenario.single_per_round = scenario.drf_per_round = singles_count

    def drf_singles():
        for _ in range(singles_count):
            expect(*http(drf + "/part-inventories/", "POST", drf_body, token), 201)

    def singles():
        for _ in range(singles_count):
            expect(*http(base + PI, "POST", body, token), 201)

    def one_batch():
        answer = expect(*http(base + PI, "POST", [body] * BATCH_ROWS, token), 201)
        assert len(answer["ia::result"]) == BATCH_ROWS

    try:
        expect(*http(base + PI, "POST", [body] * 20, token), 201)  # warm every worker a little
        for _ in range(rounds):
            scenario.single.append(timed(singles))
            scenario.multi.append(timed(one_batch))
    except (RuntimeError, OSError) as exc:
        scenario.status = f"n/a ({str(exc)[:70]})"
        return scenario
    if drf:
        scenario.drf_rounds(drf_singles, rounds)
    return scenario


def composite_of_five(base: str, token: str, bench: dict[str, Any], rounds: int, drf=None) -> Timed:
    count = 20 if rounds > 1 else 5  # composites a round; --quick (one round) sends 5
    scenario = Timed("composite of 5", "requests", per_round=5 * count)
    part_id = bench["untracked_part"]
    item = f"/objects/inventory-control/item/{bench['item_key']}"
    create = {"part": {"id": part_id}, "quantity": 3}

    def query(key) -> dict:
        return {
            "object": "inventory-control/part-inventory",
            "fields": ["key", "quantity", "part.id"],
            "filters": [{"$eq": {"key": key}}],
        }

    composite = [
        {"method": "POST", "path": PI, "body": create, "resultReference": "inv"},
        {"method": "GET", "path": f"{PI}/@{{inv.key}}"},
        {
            "method": "PATCH",
            "path": f"{PI}/@{{inv.key}}",
            "body": {"cost": "2.50"},
            "headers": {"If-Match": '"1"'},
        },
        {"method": "GET", "path": item},
        {"method": "POST", "path": "/services/core/query", "body": query("@{inv.key}")},
    ]

    def singles():
        for _ in range(count):
            key = expect(*http(base + PI, "POST", create, token), 201)["ia::result"]["key"]
            expect(*http(f"{base}{PI}/{key}", "GET", None, token), 200)
            patch = {"cost": "2.50"}
            expect(*http(f"{base}{PI}/{key}", "PATCH", patch, token, {"If-Match": '"1"'}), 200)
            expect(*http(base + item, "GET", None, token), 200)
            expect(*http(f"{base}/services/core/query", "POST", query(key), token), 200)

    def composites():
        for _ in range(count):
            expect(*http(base + "/services/core/composite", "POST", composite, token), 200)

    # DRF's five: the same work through its routes (the filtered list reads the new row back).
    drf_create = {"part": bench["untracked_part_key"], "quantity": "3"}
    drf_item = f"/items/{bench['item_key']}/"
    drf_query = "/part-inventories/?key={}&fields=key,quantity,part_code"

    def drf_singles():
        for _ in range(count):
            key = expect(*http(drf + "/part-inventories/", "POST", drf_create, token), 201)["key"]
            expect(*http(f"{drf}/part-inventories/{key}/", "GET", None, token), 200)
            patch = {"cost": "2.50"}
            expect(*http(f"{drf}/part-inventories/{key}/", "PATCH", patch, token), 200)
            expect(*http(drf + drf_item, "GET", None, token), 200)
            found = expect(*http(drf + drf_query.format(key), "GET", None, token), 200)
            if [row["key"] for row in found["results"]] != [key]:
                raise RuntimeError(f"the filtered list answered {found['results']!r:.100}")

    scenario.drf_per_round = 5 * count
    try:
        composites()  # warm up
        for _ in range(rounds):
            scenario.single.append(timed(singles))
            scenario.multi.append(timed(composites))
    except (RuntimeError, OSError) as exc:
        scenario.status = f"n/a ({str(exc)[:70]})"
        return scenario
    if drf:
        scenario.drf_rounds(drf_singles, rounds)
    return scenario


_SCENARIOS = {"batch create 500": batch_create, "composite of 5": composite_of_five}
