"""The token flood (contract 11, issue 14): authenticated `GET item` measured alone, then again
while FLOODERS clients send bad client secrets to `POST /oauth2/token`, each one request at a time
and then a pause of PAUSE_MS (about 5 a second when answered at once), all naming the benchmark's
client id (a known id is the costly case when a wrong secret costs a hash). A wrong secret must
cost no more than a right one and stay cheap, so the API's latency should barely move.

The service alone, no floor. wrk drives the item load on ITEM_CONNECTIONS connections (a couple
of API clients, so that the workers have room for the flood as they would in production). The
flood is one Python thread per client that connects only when it sends: wrk's own pacing connects
first and waits before sending, which holds a sync worker idle (a slow client, not a bad secret).
"""

import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from typing import Any

NAME = "token flood"
FLOODERS = 8
PAUSE_MS = 200
ITEM_CONNECTIONS = 2


class Flood:
    """FLOODERS threads sending a wrong secret for `client_id`, until stopped."""

    def __init__(self, url: str, client_id: str):
        self.url = url
        self.body = (
            f"grant_type=client_credentials&client_id={client_id}"
            "&client_secret=not-the-secret-of-this-client"
        ).encode()
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.statuses: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.threads = [threading.Thread(target=self.client, daemon=True) for _ in range(FLOODERS)]

    def client(self) -> None:
        while not self.stopping.is_set():
            request = urllib.request.Request(self.url, data=self.body, method="POST")
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    response.read()
                    status = str(response.status)
            except urllib.error.HTTPError as exc:
                exc.read()
                status = str(exc.code)
            except OSError as exc:
                status = type(exc).__name__
            with self.lock:
                self.statuses[status] += 1
                self.latencies.append(time.perf_counter() - started)
            self.stopping.wait(PAUSE_MS / 1000)

    def start(self) -> None:
        self.started = time.monotonic()
        for thread in self.threads:
            thread.start()

    def stop(self) -> dict[str, Any]:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)
        seconds = time.monotonic() - self.started
        latencies = sorted(self.latencies)
        requests = len(latencies)
        return {
            "requests": requests,
            "rps": round(requests / seconds, 1) if seconds else 0.0,
            "p50_ms": round(latencies[requests // 2] * 1000, 2) if latencies else None,
            "statuses": dict(sorted(self.statuses.items())),
        }


def run(
    base: str,
    measure: Callable[[int, float], dict[str, Any]],
    client_id: str,
    *,
    duration: float,
    warmup: float,
) -> dict[str, Any]:
    """`measure(connections, seconds)` runs the item load once and returns wrk's figures."""
    if warmup:
        measure(ITEM_CONNECTIONS, warmup)
    alone = measure(ITEM_CONNECTIONS, duration)
    flood = Flood(base + "/oauth2/token", client_id)
    flood.start()
    try:
        if warmup:
            measure(ITEM_CONNECTIONS, warmup)
        during = measure(ITEM_CONNECTIONS, duration)
    finally:
        flooded = flood.stop()
    return {
        "scenario": NAME,
        "item_connections": ITEM_CONNECTIONS,
        "flooders": FLOODERS,
        "pause_ms": PAUSE_MS,
        "alone": alone,
        "during_flood": during,
        "flood": flooded,
    }


def print_table(row: dict[str, Any]) -> None:
    flood = row["flood"]
    statuses = ", ".join(f"{count} x {status}" for status, count in flood["statuses"].items())
    print(
        f"\nToken flood: GET item on {row['item_connections']} connections, alone and while"
        f" {row['flooders']} clients send bad secrets to /oauth2/token (each waiting"
        f" {row['pause_ms']} ms after an answer):"
    )
    header = f"{'GET item':<26} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7}"
    print(header)
    print("-" * len(header))
    for label, key in (("alone", "alone"), ("during the flood", "during_flood")):
        result = row[key]
        print(
            f"{label:<26} {result['rps']:>8.0f} {result['p50_ms']:>7.2f} {result['p99_ms']:>7.2f}"
            f" {result['errors']:>7}"
        )
    print(
        f"the flood: {flood['rps']:.1f} token requests/s, p50 {flood['p50_ms'] or 0:.2f} ms"
        f" ({statuses or 'no answers'})"
    )
