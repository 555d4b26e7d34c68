"""The per-request profile (issue 16): how much of a request is SQL, how much is Python, and how
many Python calls it makes, for every scenario a server serves, through the server's WSGI
application in one process.

    python -m tests.perf.profile --server service|drf --database-url URL --bench FILE [--quick]
        [--only SCENARIO ...]

FILE is the harness's bench data as JSON (the bearer token, the keys the requests name, the
workflow pairs, and "scale"); `python -m tests.perf` writes it and runs this module once per
server, in a subprocess with that server's settings, after its wrk runs. Prints JSON.

For each scenario (the Call objects of tests/perf/scenarios.py; the workflow as one issue + move
pair): WARMUP requests unmeasured, then up to `requests` timed: wall ms, SQL ms and statements;
then up to `profiled` more under cProfile for the Python calls per request and the functions
with the most own time, psycopg's wait for the database's answers left out. Each phase also
ends at its time budget (after at least one request), so a slow answer (DRF's page of 4,000)
keeps --quick cheap.

SQL ms is the time inside each statement's execute (connection.execute_wrapper; "execute_ms")
and in the COMMIT that ends a transaction ("commit_ms"), which Django sends outside execute: the
time from the transaction's last statement to its on_commit hooks (a transaction that ends
without COMMIT fails the scenario rather than go untimed). Statements are the executes: what the
DRF server's X-Queries header counts (Django's CaptureQueriesContext, the harness's count for
Kitsmith, also lists a transaction's BEGIN and COMMIT). Each request goes to the WSGI
application as gunicorn's worker sends it (a WSGI environ, the answer closed), so Django's
connection handling runs at request_started and request_finished, and the persistent
connection's health check (a SELECT 1 before the request's first statement, no statement in
any count) is in the request's ms, not in its SQL ms. The Python calls include the harness's own
few per statement.
"""

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import sysconfig
import time
import warnings
import wsgiref.util
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.core.wsgi import get_wsgi_application
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
    sends outside execute: the time from the transaction's last statement to its on_commit
    hooks, which run right after the COMMIT."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0
        self.transaction_end_seconds = 0.0
        self.ended = 0.0  # when the last statement's execute returned
        self.committing = False  # an on_commit hook waits for the open transaction's COMMIT

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.ended = time.perf_counter()
            self.seconds += self.ended - started
            alias = context["connection"].alias
            if not self.committing and not transaction.get_autocommit(using=alias):
                self.committing = True
                transaction.on_commit(self.committed, using=alias)

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


def send(application, call: Call, token: str) -> tuple[int, bytes]:
    """One request through the server's WSGI application, as gunicorn's worker calls it: Django
    sends request_started and, when the answer is closed, request_finished, whose connection
    handling runs the persistent connection's health check before the next request's first
    statement."""
    path, _, query = call.path.partition("?")
    body = b"" if call.body is None else call.encoded()
    environ = {
        "REQUEST_METHOD": call.method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    if call.body is not None:
        environ["CONTENT_TYPE"] = call.content_type
    if call.auth:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    wsgiref.util.setup_testing_defaults(environ)
    status: list[str] = []
    answer = application(environ, lambda line, headers, exc_info=None: status.append(line))
    try:
        content = b"".join(answer)
    finally:
        answer.close()
    return int(status[0].split()[0]), content


def request(application, calls: list[Call], token: str, statements: Statements) -> float:
    """The scenario's requests (one, or the workflow's pair); the wall seconds they took."""
    from tests.perf.__main__ import describe_failure

    started = time.perf_counter()
    for call in calls:
        with statements.measuring():
            status, content = send(application, call, token)
        if statements.committing:  # the transaction rolled back: its COMMIT went untimed
            raise Failed("n/a (a transaction ended without COMMIT)")
        failure = describe_failure(status, content)
        if failure is None and b'"errors"' in content[:20]:  # GraphQL
            failure = f"n/a ({content[:70].decode(errors='replace')})"
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
    # Built here, not once per process: its middleware comes from the settings of the moment.
    application = get_wsgi_application()
    wall: list[float] = []
    sql: list[float] = []
    ends: list[float] = []
    counts: list[int] = []

    def timed():
        statements = Statements()
        wall.append(request(application, calls, token, statements))
        sql.append(statements.seconds)
        ends.append(statements.transaction_end_seconds)
        counts.append(statements.count)

    profiler = cProfile.Profile()

    def profiled_request():
        # Profiled whole: pausing the profiler around statements would drop the own time of
        # every function a statement interrupts. The wait for the database's answer is left
        # out of the top functions instead.
        with profiler:
            request(application, calls, token, Statements())

    try:
        repeat(
            phases.warmup,
            phases.warmup_budget,
            lambda: request(application, calls, token, Statements()),
        )
        repeat(phases.requests, phases.requests_budget, timed)
        profiled = repeat(phases.profiled, phases.profiled_budget, profiled_request)
    except Failed as failed:
        return {**row, "status": str(failed)}
    except Exception as exc:  # what the application raised (DEBUG_PROPAGATE_EXCEPTIONS)
        return {**row, "status": f"n/a ({type(exc).__name__}: {str(exc)[:60]})"}
    # Stats.stats, keyed by (file, line, function): get_stats_profile() keys by the function's
    # name alone, so every __init__ would be one.
    stats = pstats.Stats(profiler)
    python = [item for item in stats.stats.items() if not database_wait(*item[0])]
    top = sorted(python, key=lambda item: item[1][2], reverse=True)[:TOP]
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


def database_wait(filename: str, line: int, function: str) -> bool:
    """psycopg's wait for the server's answer (to a statement, the COMMIT or the health
    check): database time, not the request's Python."""
    return function == "wait" and "psycopg" in Path(filename).parts


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
