"""The per-request profile (issue 16): how much of a request is SQL, how much is Python, and how
many Python calls it makes, for every scenario a server serves, through Django's test client in
one process.

    python -m tests.perf.profile --server service|drf --database-url URL --bench FILE [--quick]
        [--only SCENARIO ...]

FILE is the harness's bench data as JSON (the bearer token, the keys the requests name, the
workflow pairs, and "scale"); `python -m tests.perf` writes it and runs this module once per
server, in a subprocess with that server's settings, after its wrk runs. Prints JSON.

For each scenario (the Call objects of tests/perf/scenarios.py; the workflow as one issue + move
pair): WARMUP requests unmeasured, then up to `requests` timed: wall ms, SQL ms and statements;
then up to `profiled` more under cProfile, paused while the database works, for the Python calls
per request and the functions with the most tottime outside the SQL wait. Each phase also ends
at its time budget (after at least one request), so a slow answer (DRF's page of 4,000) keeps
--quick cheap.

SQL ms is the time inside each statement's execute (connection.execute_wrapper; "execute_ms")
and in the COMMIT that ends a transaction ("commit_ms"), which Django sends outside execute: the
time from the transaction's last statement to its on_commit hooks. Statements are the executes:
what the DRF server's X-Queries header counts (Django's CaptureQueriesContext, the harness's count
for Kitsmith, also lists a transaction's BEGIN and COMMIT). Each request is framed as gunicorn's
worker frames it, with Django's connection handling at request_started and request_finished
(close_old_connections, which the test client leaves out), so the persistent connection's health
check (a SELECT 1 before the request's first statement, no statement in any count) is in the
request's ms and not in its SQL ms.
"""

import argparse
import contextlib
import cProfile
import json
import os
import pstats
import statistics
import sys
import sysconfig
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from tests.perf import scenarios
from tests.perf.scenarios import Call, Scenario

NAME = "profile"  # python -m tests.perf --only profile
SERVERS = ("service", "drf")
ROOT = Path(__file__).resolve().parents[2]
TOP = 5  # functions by tottime, per scenario and server


@dataclass(frozen=True)
class Phases:
    warmup: int  # unmeasured requests
    requests: int  # timed requests
    profiled: int  # requests under cProfile
    warmup_budget: float  # seconds each phase may take (it still sends one request)
    requests_budget: float
    profiled_budget: float


FULL = Phases(5, 100, 20, 10.0, 30.0, 15.0)
QUICK = Phases(5, 20, 5, 0.1, 0.3, 0.1)


class Statements:
    """What a request waits on the database for: its statements (an execute wrapper: how many,
    and the seconds inside their execute) and the COMMIT ending a transaction, which Django
    sends outside execute (timed up to the transaction's on_commit hooks). With a profiler, it
    pauses the profiler while a statement runs."""

    def __init__(self, profiler: cProfile.Profile | None = None):
        self.count = 0
        self.seconds = 0.0
        self.transaction_end_seconds = 0.0
        self.profiler = profiler
        self.result: Any = None  # what the last call wait() timed answered
        self.ended = 0.0  # when the last statement's execute returned
        self.committing = False  # an on_commit hook waits for the open transaction's COMMIT

    def wait(self, function, *args) -> float:
        """Seconds `function(*args)` takes, the profiler paused; its result in self.result."""
        if self.profiler is not None:
            self.profiler.disable()
        started = time.perf_counter()
        try:
            self.result = function(*args)
        finally:
            seconds = time.perf_counter() - started
            if self.profiler is not None:
                self.profiler.enable()
        return seconds

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        self.seconds += self.wait(execute, sql, params, many, context)
        self.ended = time.perf_counter()
        connection = context["connection"]
        if connection.in_atomic_block and not self.committing:
            # Django sends COMMIT outside execute; its on_commit hooks run right after it, so
            # the COMMIT is what passes between the transaction's last statement and this hook.
            self.committing = True
            transaction.on_commit(self.committed, using=connection.alias)
        return self.result

    def committed(self) -> None:
        self.transaction_end_seconds += time.perf_counter() - self.ended
        self.committing = False

    @contextlib.contextmanager
    def measuring(self):
        from django.db import connection

        with connection.execute_wrapper(self):
            yield self


class Failed(Exception):
    """The server did not answer the scenario's request with success (the message says how)."""


def clients(token: str) -> dict[bool, Any]:
    """Django's test client, by whether the call sends the bench token."""
    from django.test import Client

    return {True: Client(HTTP_AUTHORIZATION=f"Bearer {token}"), False: Client()}


def send(client, call: Call):
    if call.body is None:
        return client.generic(call.method, call.path)
    return client.generic(call.method, call.path, call.encoded(), content_type=call.content_type)


def request(
    by_auth: dict[bool, Any],
    calls: list[Call],
    statements: Statements,
    profiler: cProfile.Profile | None = None,
) -> float:
    """The scenario's requests (one, or the workflow's pair), each framed as under gunicorn;
    the wall seconds they took."""
    from django.db import close_old_connections

    from tests.perf.__main__ import describe_failure

    started = time.perf_counter()
    for call in calls:
        close_old_connections()  # request_started
        with statements.measuring():
            if profiler is not None:
                profiler.enable()
            try:
                response = send(by_auth[call.auth], call)
            finally:
                if profiler is not None:
                    profiler.disable()
        close_old_connections()  # request_finished
        failure = describe_failure(response.status_code, response.content)
        if failure is None and b'"errors"' in response.content[:20]:  # GraphQL
            failure = f"n/a ({response.content[:70].decode(errors='replace')})"
        if failure:
            raise Failed(failure)
    return time.perf_counter() - started


def repeat(count: int, budget: float, send_one) -> int:
    """Up to `count` calls of send_one, stopping once `budget` seconds have passed (one at
    least); returns how many were made."""
    started = time.perf_counter()
    done = 0
    while done < count and (done == 0 or time.perf_counter() - started < budget):
        send_one()
        done += 1
    return done


def profile_scenario(scenario: Scenario, label: str, token: str, phases: Phases) -> dict:
    """One server's figures for one scenario, in this process (its settings are the server's)."""
    row: dict[str, Any] = {"scenario": scenario.name, "kind": scenario.kind}
    first = scenario.calls[label]
    calls = [first]
    if scenario.kind == "workflow":
        calls.append(scenarios.second_call(label, first))
    by_auth = clients(token)
    wall: list[float] = []
    sql: list[float] = []
    ends: list[float] = []
    counts: list[int] = []

    def timed():
        statements = Statements()
        seconds = request(by_auth, calls, statements)
        wall.append(seconds)
        sql.append(statements.seconds)
        ends.append(statements.transaction_end_seconds)
        counts.append(statements.count)

    profiler = cProfile.Profile()
    try:
        repeat(phases.warmup, phases.warmup_budget, lambda: request(by_auth, calls, Statements()))
        repeat(phases.requests, phases.requests_budget, timed)
        profiled = repeat(
            phases.profiled,
            phases.profiled_budget,
            lambda: request(by_auth, calls, Statements(profiler), profiler),
        )
    except Failed as failed:
        return {**row, "status": str(failed)}
    except Exception as exc:  # the test client raises what the view raised
        return {**row, "status": f"n/a ({type(exc).__name__}: {str(exc)[:60]})"}
    stats = pstats.Stats(profiler)
    top = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:TOP]
    return {
        **row,
        "status": "ok",
        "requests": len(wall),
        "ms": round(1000 * statistics.fmean(wall), 2),
        "p50_ms": round(1000 * statistics.median(wall), 2),
        "sql_ms": round(1000 * (statistics.fmean(sql) + statistics.fmean(ends)), 2),
        "execute_ms": round(1000 * statistics.fmean(sql), 2),
        "commit_ms": round(1000 * statistics.fmean(ends), 2),
        "statements": counts[0] if len(set(counts)) == 1 else round(statistics.fmean(counts), 1),
        "profiled": profiled,
        "python_calls": round(stats.total_calls / profiled),
        "top": [
            {
                "function": where(*function),
                "ms": round(1000 * tottime / profiled, 2),
                "calls": round(ncalls / profiled, 1),
            }
            for function, (_, ncalls, tottime, _, _) in top
        ],
    }


def where(filename: str, line: int, function: str) -> str:
    """A profiled function as `path:line function`, the path relative to the project, to
    site-packages or to the standard library; a built-in as cProfile names it."""
    if filename == "~":
        return function
    path = Path(filename)
    bases = [Path(sysconfig.get_path(k)) for k in ("purelib", "platlib", "stdlib")]
    for base in [*bases, ROOT]:  # the virtualenv's site-packages may be inside the project
        if path.is_relative_to(base):
            path = path.relative_to(base)
            break
    return f"{path}:{line} {function}"


def run(label: str, bench: dict[str, Any], phases: Phases, only: list[str] | None = None) -> dict:
    """Every scenario the server `label` serves (those named in `only`), profiled in turn."""
    chosen = [
        s
        for s in scenarios.build(bench, bench["scale"])
        if label in s.calls and (not only or s.name in only)
    ]
    return {
        "server": label,
        "phases": asdict(phases),
        "scenarios": [profile_scenario(s, label, bench["token"], phases) for s in chosen],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.perf.profile", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--server", choices=SERVERS, required=True)
    parser.add_argument("--database-url", required=True, help="the benchmark's database")
    parser.add_argument("--bench", required=True, help="the harness's bench data (JSON)")
    parser.add_argument("--quick", action="store_true", help="fewer requests, short budgets")
    parser.add_argument("--only", action="append", help="this scenario only (repeatable)")
    args = parser.parse_args(argv)

    from tests.perf.__main__ import server_env, service_env

    # The settings and environment the harness gives this server's gunicorn.
    os.environ.update(server_env(args.server, service_env(args.database_url)))
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise, no collectstatic
    import django

    django.setup()
    bench = json.loads(Path(args.bench).read_text())
    result = run(args.server, bench, QUICK if args.quick else FULL, args.only)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
