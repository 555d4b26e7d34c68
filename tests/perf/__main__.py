"""Benchmark Kitsmith against its floor and against the plain DRF implementation (issue 16).

    python -m tests.perf            # 1,000,000 part inventories, 15 s per scenario and server
    python -m tests.perf --quick    # a small data set, 1 s per scenario (CI)
    python -m tests.perf --seed-only   # create, migrate, seed and prepare the database only
    python -m tests.perf --readme   # write the README's table from tests/perf/results/latest.json

Against PostgreSQL (`--database`, default kitsmith_perf / kitsmith_perf_quick on
127.0.0.1:5432; created, migrated and seeded with `seed_scale` when needed), it starts three
gunicorn servers with the same production settings (DEBUG=0, SECRET_KEY set, 2 x cores sync
workers, no access log, persistent database connections): the service, the floor
(tests/perf/floor.py: psycopg + orjson doing the same SQL) and a plain DRF implementation
(tests/perf/drf_plain: ModelViewSet, ModelSerializer, DRF pagination, django-filter,
django-oauth-toolkit), and drives each scenario (tests/perf/scenarios.py) with wrk on every server
that serves it. It prints one table (requests/s, p50, p99, queries per request, Kitsmith's ratio
to the floor and to DRF, rows/s of the bulk reads, the targets of tests/perf/targets.py with pass
or fail), the bulk work timed from Python (tests/perf/bulk.py, tests/perf/multi.py), the token
flood (tests/perf/flood.py), the query plans of the deep page and, after the wrk runs, the
per-request profile of the service and DRF (tests/perf/profile.py: ms, of it SQL, statements and
Python calls per request), and writes tests/perf/results/latest.json.

A scenario whose endpoint does not exist (404 KS-4042 for its route) shows as
"n/a (endpoint missing)"; one that answers an error shows the status instead.
"""

import argparse
import dataclasses
import datetime
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tests.perf import bulk, flood, multi, profile, scenarios, targets
from tests.perf.scenarios import Call, Scenario
from tests.perf.servers import Server, free_port, http, wrk_run, wrk_script

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PYTHON = sys.executable

FULL = {"items": 20_000, "inventories": 1_000_000, "kits": 2_000}
QUICK = {"items": 2_000, "inventories": 20_000, "kits": 200}
WORKFLOW_PAIRS = 64  # part kit + untracked inventory pairs the workflow scenario spreads over
WORKFLOW_BUFFER = 1_000  # units issued to each pair's kit before the run, so moves always find one
BENCH_RUN = "PERF-BENCH"
BENCH_PART = "PERF-UNTRACKED"
BENCH_USER = "perf-bench"
# Seconds each server may page through the part inventories (bulk.paging): the DRF server's
# OFFSET pages get dearer with depth, so it reads for a bounded time at full scale.
PAGING_BUDGET = {"service": 600.0, "floor": 600.0, "drf": 60.0}
QUICK_PAGING_BUDGET = {"service": 2.0, "floor": 2.0, "drf": 2.0}  # at least a page each
# Raised when seed_scale writes other data for the same counts, so a database seeded before is
# seeded again (2: runs' kits hold part of what their runs need, kits nest kits).
SEED_VERSION = 2
SERVER_APPS = {
    "service": ("config.wsgi:application", 1),
    "floor": ("tests.perf.floor:application", 2),
    "drf": ("tests.perf.drf_plain.wsgi:application", 3),
}
NOTES = [
    "DRF is tests/perf/drf_plain: ModelViewSet + ModelSerializer (the DRF documentation's dynamic"
    " `?fields=` serializer), LimitOffsetPagination (100 a page), django-filter, OrderingFilter and"
    " django-oauth-toolkit's OAuth2Authentication, `select_related`/`prefetch_related` for the"
    " relations it renders; same gunicorn settings and database.",
    "For the query-service scenarios its natural equivalent is its filtered list with the same"
    " fields, filter, order and page size (a GET with query parameters); item detail nests the"
    " kit's components; its kit-component list answers whole objects where Kitsmith's answers"
    " references; shortages is a ListAPIView over the requirement view grouped by part; issue and"
    " move are `@action` routes calling the same kitting services; tokens come from DOT's"
    " TokenView.",
    "Kitsmith's item detail computes four stock figures DRF's does not (on hand, available,"
    " kitted, and buildable: the kit's component explosion against available stock,"
    " kitcomponents.selectors); DRF's answers the stored fields and the nested components only.",
    "The workflow row counts requests (an issue or a move), its queries are per issue + move pair."
    " q: queries per request, Kitsmith's counted with CaptureQueriesContext through the test"
    " client, the floor's and DRF's by their X-Queries header. —: the server has no such endpoint"
    " (the floor serves no GraphQL and no tokens).",
]


def main() -> int:
    args = parse_args()
    if args.readme:
        return write_readme()
    quick = args.quick
    scale = QUICK if quick else FULL
    duration = args.duration or (1 if quick else 15)
    warmup = args.warmup if args.warmup is not None else (1 if quick else 3)
    database_url = args.database_url or (
        "postgres://postgres@127.0.0.1:5432/"
        + ("kitsmith_perf_quick" if quick else "kitsmith_perf")
    )
    workers = args.workers or 2 * (os.cpu_count() or 1)
    started = time.monotonic()

    wrk = ensure_wrk()
    env = service_env(database_url)
    ensure_database(database_url)
    step("migrate")
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], {**env, **UNLIMITED_STATEMENTS})
    seed_seconds = ensure_seeded(database_url, scale, env, force=args.reseed)

    os.environ.update(env)
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise, no collectstatic
    import django

    django.setup()
    bench = prepare(scale)
    if args.seed_only:
        step("seeded and prepared: no servers started (--seed-only)")
        return 0
    wanted = args.only or None
    chosen = [s for s in scenarios.build(bench, scale) if not wanted or s.name in wanted]
    # The per-request profile: every scenario, or those --only names; `--only profile` alone
    # runs it for every scenario and nothing else.
    run_profile = not wanted or profile.NAME in wanted or bool(chosen)
    profile_names = [s.name for s in chosen] if wanted and chosen else None
    timed_names = [name for name in multi.NAMES if not wanted or name in wanted]
    run_paging = not wanted or bulk.PAGING in wanted
    run_imports = not wanted or bulk.IMPORTS in wanted
    run_flood = not wanted or flood.NAME in wanted
    timed: list[multi.Timed] = []
    bulk_rows: list[dict[str, Any]] = []
    token_flood: dict[str, Any] | None = None
    plans: dict[str, str] = {}
    profiled: dict[str, Any] | None = None
    needs_servers = bool(chosen or timed_names or run_paging or run_flood)

    with tempfile.TemporaryDirectory(prefix="kitsmith-perf-") as tmp:
        tmp_path = Path(tmp)
        pairs_file = tmp_path / "pairs.txt"
        pairs_file.write_text("".join(f"{kit} {inv}\n" for kit, inv in bench["pairs"]))
        servers = {
            label: Server(
                app,
                args.port + offset if args.port else free_port(),
                workers,
                server_env(label, env),
            )
            for label, (app, offset) in SERVER_APPS.items()
            if needs_servers
        }
        # A killed run (SIGTERM) still stops its servers: the finally below runs.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        warmed: set[str] = set()
        try:
            if servers:
                step("start the servers: " + ", ".join(servers))
                for server in servers.values():
                    server.start()
                step("probe the service (query counts, plans) while they start")
                plans = probe_service(chosen, bench["token"])
                for server in servers.values():
                    server.wait_ready()
                step("probe the floor and DRF (query counts, the floor's bodies)")
                for label in ("floor", "drf"):
                    probe_remote(chosen, label, servers[label], servers["service"], bench["token"])
            for scenario in chosen:
                if scenario.status != "ok":
                    continue
                for label, server in servers.items():
                    if label not in scenario.calls or label in scenario.skipped:
                        continue
                    step(f"{scenario.name}: {label}")
                    script, script_args = wrk_script(
                        scenario, label, tmp_path, pairs_file, bench["token"]
                    )
                    path = scenario.calls[label].path
                    base = [wrk, "-t1", f"-c{args.connections}", "--timeout", "30s"]
                    base += ["-s", str(script), server.url + path]
                    # --quick warms up Kitsmith and DRF once each (their first scenario): the
                    # floor has nothing to load. A full run warms every scenario's code path.
                    if warmup and not (quick and (label == "floor" or label in warmed)):
                        wrk_run(base, warmup, script_args)
                        server.drain()
                        warmed.add(label)
                    server.reset_peak_rss()
                    result = wrk_run(base, duration, script_args)
                    result["rss_mib"] = server.peak_rss_mib()
                    # Sync workers still answer what wrk left queued: let them finish before
                    # the next run, or it would measure this one's backlog.
                    server.drain()
                    if result["requests"]:
                        scenario.results[label] = result
                    else:  # every request outlasted the run (--quick's 1 s on a slow server)
                        scenario.skipped[label] = f"n/a (no answer within {duration} s)"
            if run_paging:
                from inventory.models import PartInventory

                step(f"{bulk.PAGING}: every server (timed from Python)")
                bulk_rows.append(
                    bulk.paging(
                        {label: server.url for label, server in servers.items()},
                        bench["token"],
                        PartInventory.objects.count(),
                        QUICK_PAGING_BUDGET if quick else PAGING_BUDGET,
                    )
                )
            for name in timed_names:
                step(f"{name}: service and DRF (timed from Python)")
                timed += multi.run(
                    servers["service"].url,
                    bench["token"],
                    bench,
                    [name],
                    rounds=1 if quick else 3,
                    drf=servers["drf"].url,
                )
            if run_imports:
                step(f"{bulk.IMPORTS}")
                bulk_rows.append(bulk.imports(quick, database_url))
            if run_flood:
                step(f"{flood.NAME}: service")
                service = servers["service"]
                item = Call("GET", f"/objects/inventory-control/item/{bench['item_key']}")

                def measure(connections: int, seconds: float) -> dict[str, Any]:
                    base = [wrk, "-t1", f"-c{connections}", "--timeout", "10s"]
                    base += ["-s", str(HERE / "request.lua"), service.url + item.path]
                    result = wrk_run(base, seconds, ["GET", "-", bench["token"]])
                    service.drain()
                    return result

                token_flood = flood.run(
                    service.url,
                    measure,
                    bench["client_id"],
                    duration=duration,
                    warmup=warmup,
                )
        finally:
            for server in servers.values():
                server.stop()
        if run_profile:
            # After the wrk runs, with the servers stopped: one process at a time on the machine.
            step(
                f"{profile.NAME}: service and DRF, per request (their WSGI applications, cProfile)"
            )
            profiled = profile_servers(
                database_url, env, bench, scale, quick, profile_names, tmp_path
            )

    elapsed = time.monotonic() - started
    several = [multi_row(scenario.row()) for scenario in timed]
    report = build_report(
        chosen,
        plans,
        timed=several,
        bulk_rows=bulk_rows + [bulk_row(row) for row in several],
        token_flood=token_flood,
        profiled=profiled,
        quick=quick,
        scale=scale,
        database_url=database_url,
        workers=workers,
        connections=args.connections,
        duration=duration,
        warmup=warmup,
        seed_seconds=seed_seconds,
        elapsed=elapsed,
    )
    print_report(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    # The full run's results are kept in the repository (the README's table comes from them);
    # --quick's, CI's smoke run, and partial runs (--only) are not.
    written = RESULTS / ("latest.json" if not quick and not wanted else "partial.json")
    written.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {written.relative_to(ROOT)}  ({elapsed:.0f}s in all)")
    # The DRF server's errors (timeouts of its slowest requests) are measurements, in the table.
    broken = [
        f"{s.name} ({label})"
        for s in chosen
        for label, result in s.results.items()
        if result["errors"] and label != "drf"
    ] + [t.name for t in timed if t.status != "ok"]
    if token_flood and any(token_flood[k]["errors"] for k in ("alone", "during_flood")):
        broken.append(flood.NAME)
    if profiled:
        broken += [f"{profile.NAME} ({label})" for label in profiled["failed"]]
        broken += [
            f"{profile.NAME}: {row['scenario']} (service)"
            for row in profiled["rows"]
            if row["servers"].get("service", {}).get("status", "ok") != "ok"
            and "service" not in profiled["failed"]
        ]
    print(f"wall time: {time.monotonic() - started:.0f} s", file=sys.stderr)
    if broken:
        print(f"errors in: {', '.join(broken)}", file=sys.stderr)
        return 1
    return 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.perf", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="small data set, short runs (CI)")
    parser.add_argument("--database-url", help="PostgreSQL URL of the benchmark database")
    parser.add_argument("--duration", type=int, help="seconds per scenario and server")
    parser.add_argument("--warmup", type=int, help="seconds of unmeasured load first")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default 2 x cores)")
    parser.add_argument(
        "--port",
        type=int,
        help="base port: service +1, floor +2, DRF +3 (default: free ports the kernel picks)",
    )
    parser.add_argument("--reseed", action="store_true", help="seed again even if seeded")
    parser.add_argument("--only", action="append", help="run only this scenario (repeatable)")
    parser.add_argument(
        "--seed-only", action="store_true", help="create, migrate, seed and prepare; run nothing"
    )
    parser.add_argument(
        "--readme",
        action="store_true",
        help="write the README's benchmark table from tests/perf/results/latest.json; run nothing",
    )
    return parser.parse_args()


def write_readme() -> int:
    latest = RESULTS / "latest.json"
    if not latest.exists():
        sys.exit(f"{latest.relative_to(ROOT)} is missing: run the full benchmark first")
    report = json.loads(latest.read_text())
    readme = ROOT / "README.md"
    readme.write_text(targets.replace_section(readme.read_text(), targets.readme_section(report)))
    print(f"README.md: the benchmark table of {report['command']} ({report['generated']})")
    return 0


STARTED = time.monotonic()


def step(message: str) -> None:
    print(f"-- {time.monotonic() - STARTED:5.0f}s {message}", file=sys.stderr, flush=True)


# Migrations and the loader are no requests: a COPY of a million rows may run past
# STATEMENT_TIMEOUT_MS.
UNLIMITED_STATEMENTS = {"STATEMENT_TIMEOUT_MS": "0"}


def run(command: list[str], env: dict[str, str]) -> None:
    subprocess.run(command, cwd=ROOT, env={**os.environ, **env}, check=True)


# --- environment -------------------------------------------------------------------------------
def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk:
        return wrk
    if os.geteuid() != 0:
        sys.exit("wrk is missing: apt-get update && apt-get install -y wrk")
    step("install wrk")
    subprocess.run(["apt-get", "update", "-qq"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL
    )
    return shutil.which("wrk") or sys.exit("wrk could not be installed")


def service_env(database_url: str) -> dict[str, str]:
    """The production configuration both servers run with."""
    return {
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": "perf-" + secrets.token_hex(24),
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "CONN_MAX_AGE": "3600",  # persistent: one connection per worker for the whole run
        "LOG_LEVEL": "WARNING",  # no per-request log line: that is the access log
        "SECURE_SSL_REDIRECT": "0",  # wrk speaks plain HTTP on the loopback
        # One client hammers the service: a per-client limit would answer 429 within a second.
        "THROTTLE_RATE_CLIENT": "100000000/min",
        # The token flood measures what a secret check costs: no 429 may answer in its place.
        "THROTTLE_RATE_TOKEN_CLIENT": "100000000/min",
        "THROTTLE_RATE_TOKEN_ADDRESS": "100000000/min",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",  # whitenoise: no collectstatic
    }


def ensure_database(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            step(f"create database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def ensure_seeded(database_url: str, scale: dict[str, int], env, *, force: bool) -> float | None:
    """Seed unless the database already holds this shape (kept as the database's comment)."""
    import psycopg

    name = urlsplit(database_url).path.lstrip("/")
    shape = "seed_scale " + " ".join(f"--{k} {v}" for k, v in scale.items())
    shape += f" (data v{SEED_VERSION})"
    with psycopg.connect(database_url, autocommit=True) as conn:
        comment = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()[0]
    if comment == shape and not force:
        step(f"database already seeded ({shape})")
        return None
    step(shape)
    started = time.monotonic()
    command = [PYTHON, "manage.py", "seed_scale", "--reset"]
    for key, value in scale.items():
        command += [f"--{key}", str(value)]
    run(command, {**env, **UNLIMITED_STATEMENTS})
    seconds = time.monotonic() - started
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{shape}'")
    return seconds


# --- data the scenarios use ----------------------------------------------------------------------
def prepare(scale: dict[str, int]) -> dict[str, Any]:
    """The bench user and token, the workflow pairs, and the keys the requests name."""
    from django.contrib.auth.models import User
    from django.db import transaction
    from django.db.models import Count
    from django.utils import timezone
    from oauth2_provider.generators import generate_client_secret
    from oauth2_provider.models import AccessToken, Application

    from inventory.models import Item, PartInventory
    from kitcomponents.models import KitComponent

    with transaction.atomic():
        user = User.objects.filter(username=BENCH_USER).first()
        if user is None:
            user = User.objects.create_superuser(BENCH_USER, f"{BENCH_USER}@example.com", None)
        app, _ = Application.objects.get_or_create(
            name=BENCH_USER,
            defaults={
                "user": user,
                "client_type": Application.CLIENT_CONFIDENTIAL,
                "authorization_grant_type": Application.GRANT_CLIENT_CREDENTIALS,
            },
        )
        # A new secret each run, stored with the hasher of the code under test (the flood
        # sends wrong secrets for this client id).
        client_secret = generate_client_secret()
        app.client_secret = client_secret
        app.save(update_fields=["client_secret"])
        AccessToken.objects.filter(application=app).delete()
        token = secrets.token_urlsafe(30)
        AccessToken.objects.create(
            user=user,
            application=app,
            token=token,
            expires=timezone.now() + datetime.timedelta(days=1),
            scope="read write",
        )
        pairs = workflow_pairs(user)
    vacuum()

    kit = (
        KitComponent.objects.values("kit_id")
        .annotate(lines=Count("pk"))
        .filter(lines=5)
        .order_by("kit_id")
        .values_list("kit_id", flat=True)
        .first()
    ) or Item.objects.order_by("pk").values_list("pk", flat=True).first()
    first = PartInventory.objects.order_by("pk").select_related("part").first()
    return {
        "token": token,
        "client_id": app.client_id,
        "client_secret": client_secret,  # the token scenario's, in plain text
        "user": user.pk,
        "item_key": kit,
        "part_id": first.part.code if first else "PART-000001",
        "pairs": pairs,
        "untracked_part": BENCH_PART,
        "untracked_part_key": Item.objects.get(code=BENCH_PART).pk,
    }


def workflow_pairs(user) -> list[tuple[int, int]]:
    """Part kits, each holding WORKFLOW_BUFFER units of its own untracked inventory."""
    from django.apps import apps

    from inventory.models import InventoryTransaction, Item, PartInventory, Warehouse

    if not apps.is_installed("kitting"):
        return []
    from kitting.models import PartKit, PartKitLine, Run

    run = Run.objects.filter(code=BENCH_RUN).first()
    if run is not None:
        lines = PartKitLine.objects.filter(part_kit__run=run).order_by("part_kit_id")
        return list(lines.values_list("part_kit_id", "part_inventory_id"))
    part = Item.objects.create(
        code=BENCH_PART, name="Benchmark part", item_type="inventory", created_by=user
    )
    location = Warehouse.objects.order_by("pk").first()
    run = Run.objects.create(code=BENCH_RUN, title="Benchmark run", status="inProgress")
    stock, issued = 1_000_000, WORKFLOW_BUFFER
    pairs = []
    for _ in range(WORKFLOW_PAIRS):
        kit = PartKit.objects.create(run=run, status="inProgress", created_by=user)
        inventory = PartInventory.objects.create(
            part=part,
            location=location,
            quantity=stock - issued,
            kitted_quantity=issued,
            created_by=user,
        )
        PartKitLine.objects.create(part_kit=kit, part_inventory=inventory, issued_quantity=issued)
        common = {"part_inventory": inventory, "part": part, "created_by": user}
        InventoryTransaction.objects.create(
            type="create", quantity=stock, quantity_after=stock, **common
        )
        InventoryTransaction.objects.create(
            type="issue",
            quantity=-issued,
            kitted_quantity=issued,
            quantity_after=stock - issued,
            part_kit=kit,
            run=run,
            **common,
        )
        pairs.append((kit.pk, inventory.pk))
    return pairs


def vacuum() -> None:
    """VACUUM ANALYZE the tables the scenarios write, outside any transaction: a run's writes
    leave pages PostgreSQL no longer knows to be all visible, and the next run's count of the
    part inventories then reads the table (a parallel sequential scan of 16,000 pages) where an
    index-only scan reads 800. What the create scenarios made stays (about 4,700 part
    inventories a full run; their ledger rows are never deleted): `--reseed` starts over."""
    from django.apps import apps
    from django.db import connection

    models = [
        apps.get_model("inventory", name) for name in ("PartInventory", "InventoryTransaction")
    ]
    if apps.is_installed("kitting"):
        models.append(apps.get_model("kitting", "PartKitLine"))
    tables = [connection.ops.quote_name(model._meta.db_table) for model in models]
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE " + ", ".join(tables))


def server_env(label: str, env: dict[str, str]) -> dict[str, str]:
    if label == "drf":
        return {**env, "DJANGO_SETTINGS_MODULE": "tests.perf.drf_plain.settings"}
    return env


# --- probes ---------------------------------------------------------------------------------------
def probe_service(chosen: list[Scenario], token: str) -> dict[str, str]:
    """Through Django's test client: is the endpoint there, and how many queries does one request
    cost (CaptureQueriesContext)? Also the EXPLAIN (ANALYZE, BUFFERS) of the deep page."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    authorized, anonymous = Client(HTTP_AUTHORIZATION=f"Bearer {token}"), Client()
    plans: dict[str, str] = {}
    for scenario in chosen:
        first = scenario.calls["service"]
        calls = [first]
        if scenario.kind == "workflow":
            calls.append(scenarios.second_call("service", first))

        def send(call: Call):
            client = authorized if call.auth else anonymous
            if call.body is None:
                return client.generic(call.method, call.path)
            return client.generic(
                call.method, call.path, call.encoded(), content_type=call.content_type
            )

        if scenario.kind == "read":
            # A read once unmeasured: what a process does once (capturing a statement, keeping a
            # query shape) is not what each request costs under load.
            send(first)
        queries = 0
        captured = []
        for call in calls:
            with CaptureQueriesContext(connection) as ctx:
                response = send(call)
            queries += len(ctx.captured_queries)
            captured += ctx.captured_queries
            status = describe_failure(response.status_code, response.content)
            if status is None and b'"errors"' in response.content[:20]:
                status = f"n/a ({response.content[:70].decode(errors='replace')})"  # GraphQL
            if status:
                scenario.status = status
                break
        if scenario.status != "ok":
            continue
        scenario.queries["service"] = queries
        if scenario.name == "query deep start":
            plans = explain(captured)
    return plans


def describe_failure(status: int, content: bytes) -> str | None:
    if 200 <= status < 300:
        return None
    try:
        error = json.loads(content)["ia::result"]["ia::error"]
    except (ValueError, KeyError, TypeError):
        error = {}
    if status == 404 and error.get("errorId") in ("KS-4042", None):
        return "n/a (endpoint missing)"
    message = error.get("message") or content[:80].decode(errors="replace")
    return f"n/a (HTTP {status}: {message[:60]})"


def explain(captured: list[dict[str, str]]) -> dict[str, str]:
    from django.db import connection

    plans = {}
    for query in captured:
        sql = query["sql"]
        upper = sql.upper()
        if "PARTINVENTORY" not in upper or not upper.lstrip().startswith(("SELECT", "WITH")):
            continue
        kind = "count" if "COUNT(" in upper else "rows"
        if kind in plans:
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        plans[kind] = f"{sql}\n{plan}"
    return plans


def probe_remote(chosen: list[Scenario], label: str, server: Server, service: Server, token: str):
    """The floor's or DRF server's query count (its X-Queries header) for each scenario it
    serves; one that fails is skipped with its status. The floor must answer the read scenarios
    with the service's body: otherwise the comparison would not be fair."""
    for scenario in chosen:
        if scenario.status != "ok" or label not in scenario.calls:
            continue
        first = scenario.calls[label]
        calls = [first]
        if scenario.kind == "workflow":
            calls.append(scenarios.second_call(label, first))
        queries = 0
        for call in calls:
            status, headers, content = http(server.url, call, token)
            if not 200 <= status < 300:
                scenario.skipped[label] = f"HTTP {status}"
                print(
                    f"WARNING: {label} failed {scenario.name}: {status} {content[:200]!r}",
                    file=sys.stderr,
                )
                break
            queries += int(headers.get("X-Queries", 0))
            if label == "floor" and scenario.kind == "read":
                _, _, expected = http(service.url, scenario.calls["service"], token)
                if json.loads(expected) != json.loads(content):
                    print(
                        f"WARNING: the floor's answer to {scenario.name} differs from the "
                        "service's",
                        file=sys.stderr,
                    )
        else:
            scenario.queries[label] = queries


# --- the per-request profile ------------------------------------------------------------------
def profile_servers(
    database_url: str,
    env: dict[str, str],
    bench: dict[str, Any],
    scale: dict[str, int],
    quick: bool,
    names: list[str] | None,
    tmp_path: Path,
) -> dict[str, Any]:
    """tests/perf/profile.py for the service and the DRF server, each in a subprocess with its
    server's settings and environment (the two need different settings modules), their figures
    side by side by scenario. A server whose profile failed is listed in "failed"."""
    bench_file = tmp_path / "bench.json"
    bench_file.write_text(json.dumps({**bench, "scale": scale}))
    built = [s for s in scenarios.build(bench, scale) if not names or s.name in names]
    rows = {
        s.name: {"scenario": s.name, "kind": s.kind, "servers": {}}
        for s in built
        if any(label in s.calls for label in profile.SERVERS)
    }
    failed = []
    for label in profile.SERVERS:
        command = [PYTHON, "-m", "tests.perf.profile", "--server", label]
        command += ["--database-url", database_url, "--bench", str(bench_file)]
        command += ["--quick"] if quick else []
        for name in names or []:
            command += ["--only", name]
        done = subprocess.run(
            command,
            cwd=ROOT,
            env={**os.environ, **server_env(label, env)},
            stdout=subprocess.PIPE,
            text=True,
        )
        if done.returncode != 0:
            print(f"WARNING: the {label} profile exited with {done.returncode}", file=sys.stderr)
            failed.append(label)
            for s in built:
                if label in s.calls:
                    rows[s.name]["servers"][label] = {"status": "n/a (the profile failed)"}
            continue
        for result in json.loads(done.stdout)["scenarios"]:
            figures = {k: v for k, v in result.items() if k not in ("scenario", "kind")}
            rows[result["scenario"]]["servers"][label] = figures
    phases = profile.QUICK if quick else profile.FULL
    return {"phases": dataclasses.asdict(phases), "rows": list(rows.values()), "failed": failed}


# --- the report -----------------------------------------------------------------------------------
def multi_row(row: dict[str, Any]) -> dict[str, Any]:
    """A several-in-one row with its target (the batch's) evaluated like the others."""
    if row["status"] == "ok" and row.get("target"):
        name = f"batch >= {row['target']:g} x single"
        row["targets"] = [targets.check(name, row["ratio"], row["target"])]
    return row


def bulk_row(row: dict[str, Any]) -> dict[str, Any]:
    """A several-in-one row in the bulk table's form: Kitsmith in one request, Kitsmith single,
    DRF single."""
    if row["status"] != "ok":
        return {"scenario": row["scenario"], "status": row["status"]}
    servers = {
        "service": {"per_s": row["multi_per_s"]},
        "service_single": {"per_s": row["single_per_s"]},
    }
    if row.get("drf_single_per_s"):
        servers["drf"] = {"per_s": row["drf_single_per_s"]}
    elif row.get("drf_status", "ok") != "ok":
        servers["drf"] = {"status": row["drf_status"]}
    in_one = "one batch POST" if row["unit"] == "rows" else "one composite"
    return {
        "scenario": row["scenario"],
        "status": "ok",
        "unit": row["unit"],
        "servers": servers,
        "note": f"Kitsmith: {in_one} vs single requests ({row['ratio']} x)"
        + ("; DRF: the same single requests" if "drf" in servers else ""),
        "targets": row.get("targets", []),
    }


def machine() -> dict[str, Any]:
    import django
    import rest_framework
    from django.db import connection

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    mem_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgresql = cursor.fetchone()[0]
    return {
        "cores": os.cpu_count(),
        "cpu_model": cpu,
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "postgresql": postgresql,
        "python": platform.python_version(),
        "django": django.get_version(),
        "djangorestframework": rest_framework.VERSION,
    }


def build_report(
    chosen, plans, *, timed, bulk_rows, token_flood, profiled=None, **meta
) -> dict[str, Any]:
    rows = []
    for s in chosen:
        row: dict[str, Any] = {"scenario": s.name, "kind": s.kind, "status": s.status}
        if s.status == "ok":
            servers = {label: dict(result) for label, result in s.results.items()}
            for label, why in s.skipped.items():
                servers[label] = {"status": why}
            ratios, checks = targets.evaluate(s.kind, s.results, expected=set(s.calls))
            row.update(
                rows=s.rows,
                servers=servers,
                queries=dict(s.queries),
                ratios=ratios,
                targets=checks,
            )
        rows.append(row)
    notes = list(NOTES)
    by_name = {row["scenario"]: row for row in rows if row["status"] == "ok"}
    graphql, rest = by_name.get("GraphQL page of 100"), by_name.get("query page of 100")
    g = graphql and graphql["servers"].get("service", {}).get("rps")
    r = rest and rest["servers"].get("service", {}).get("rps")
    if g and r:
        notes.append(
            f"GraphQL page of 100 against the REST query of the same 100: {g * 100:,.0f} against"
            f" {r * 100:,.0f} rows/s ({targets.ratio(g, r)} x)."
        )
    url = urlsplit(meta["database_url"])
    report = {
        "generated": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "python -m tests.perf" + (" --quick" if meta["quick"] else ""),
        "machine": machine(),
        "settings": {
            "workers": meta["workers"],
            "duration": meta["duration"],
            "warmup": meta["warmup"],
            "connections": meta["connections"],
            "wrk_threads": 1,
        },
        "database": url.path.lstrip("/"),
        "dataset": meta["scale"],
        "seed_seconds": round(meta["seed_seconds"], 1) if meta["seed_seconds"] else None,
        "elapsed_seconds": round(meta["elapsed"], 1),
        "scenarios": rows,
        "several_in_one": timed,
        "bulk": bulk_rows,
        "token_flood": token_flood,
        "deep_page_plans": plans,
        "profile": profiled,
        "notes": notes,
    }
    report["targets"] = targets.summary(report)
    return report


def print_report(report: dict[str, Any]) -> None:
    if report["deep_page_plans"]:
        print("\nEXPLAIN (ANALYZE, BUFFERS) of the deep page, as the service runs it:")
        for kind, plan in report["deep_page_plans"].items():
            print(f"\n[{kind}]\n{plan}")
    print("\n" + targets.describe_setup(report))
    if report["scenarios"]:
        print(targets.text_table(targets.SCENARIO_HEADER, targets.scenario_lines(report)))
    if report["bulk"]:
        print(
            "\nBulk work, timed from Python (one request at a time; batch and composite the best"
            " of their rounds, paging one pass):"
        )
        print(targets.text_table(targets.BULK_HEADER, targets.bulk_lines(report)))
    if report["token_flood"]:
        flood.print_table(report["token_flood"])
    if targets.profile_lines(report):
        print("\n" + targets.describe_profile(report))
        print(targets.text_table(targets.PROFILE_HEADER, targets.profile_lines(report)))
        print(
            "\nWhere the Python time goes: own ms per request under cProfile (psycopg's wait for"
            " the database left out):"
        )
        print("\n".join(targets.profile_top_lines(report)))
    print("\nNotes: " + "\n".join(report["notes"]))
    summary = report["targets"]
    print(f"\nTargets: {len(summary['held'])} hold, {len(summary['failed'])} fail")
    for failed in summary["failed"]:
        print(f"  FAIL {failed}")
    if summary["not_measured"]:
        print(f"  not measured: {', '.join(summary['not_measured'])}")


if __name__ == "__main__":
    sys.exit(main())
