"""The token flood (contract 11, issue 14): authenticated `GET item` measured alone, then again
while FLOODERS clients send bad client secrets to `POST /oauth2/token`, each at most one request
every PAUSE_MS (about 5 a second), all naming the benchmark's client id (a known id is the costly
case when a wrong secret costs a hash). A wrong secret must cost no more than a right one and
stay cheap, so the API's latency should barely move.

The service alone, no floor: wrk drives both loads (tests/perf/token_flood.lua for the flood);
the item load uses ITEM_CONNECTIONS connections, a couple of API clients, so that the workers have
room for the flood as they would in production.
"""

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

NAME = "token flood"
FLOODERS = 8
PAUSE_MS = 200
ITEM_CONNECTIONS = 2
SCRIPT = Path(__file__).resolve().parent / "token_flood.lua"


def run(
    wrk: str,
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
    flood_seconds = warmup + duration + 1  # outlasts the measurement on both sides
    command = [wrk, "-t1", f"-c{FLOODERS}", "-d", f"{flood_seconds:g}s", "--timeout", "10s"]
    command += ["-s", str(SCRIPT), base + "/oauth2/token", "--", client_id, str(PAUSE_MS)]
    flood = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)  # the flood's connections are open and queued before the warm-up
        if warmup:
            measure(ITEM_CONNECTIONS, warmup)
        during = measure(ITEM_CONNECTIONS, duration)
        output, _ = flood.communicate(timeout=flood_seconds + 30)
    finally:
        if flood.poll() is None:
            flood.kill()
            flood.wait()
    line = next((x for x in output.splitlines() if x.startswith("FLOOD_JSON ")), None)
    if line is None:
        raise SystemExit(f"the token flood printed no summary:\n{output}")
    raw = json.loads(line.removeprefix("FLOOD_JSON "))
    seconds = raw["duration_us"] / 1e6
    return {
        "scenario": NAME,
        "item_connections": ITEM_CONNECTIONS,
        "flooders": FLOODERS,
        "pause_ms": PAUSE_MS,
        "alone": alone,
        "during_flood": during,
        "flood": {
            "requests": raw["requests"],
            "rps": round(raw["requests"] / seconds, 1) if seconds else 0.0,
            "p50_ms": round(raw["p50_us"] / 1000, 2),
            "statuses": dict(sorted(raw["statuses"].items())),
        },
    }


def print_table(row: dict[str, Any]) -> None:
    flood = row["flood"]
    statuses = ", ".join(f"{count} x {status}" for status, count in flood["statuses"].items())
    print(
        f"\nToken flood: GET item on {row['item_connections']} connections, alone and while"
        f" {row['flooders']} clients send bad secrets to /oauth2/token (one each per"
        f" {row['pause_ms']} ms at most):"
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
        f"the flood: {flood['rps']:.1f} token requests/s, p50 {flood['p50_ms']:.2f} ms"
        f" ({statuses or 'no answers'})"
    )
