"""Benchmark Kitsmith against its floor.

    python -m tests.perf            # 1,000,000 part inventories, 15 s per scenario and server
    python -m tests.perf --quick    # a small data set, 2 s per scenario (CI)

Against PostgreSQL (`--database`, default kitsmith_perf / kitsmith_perf_quick on
127.0.0.1:5432; created, migrated and seeded with `seed_scale` when needed), it starts the
service and the floor (tests/perf/floor.py) under gunicorn with the same production settings
(DEBUG=0, SECRET_KEY set, 2 x cores sync workers, no access log, persistent database connections)
and drives each scenario with wrk, first on the service, then on the floor. It prints one table
(requests/s, p50, p99, ratio to the floor, database queries per request, peak RSS per worker),
the query plans of the deep page, and writes tests/perf/results/latest.json.

A scenario whose endpoint does not exist (404 KS-4042 for its route) shows as
"n/a (endpoint missing)"; one that answers an error shows the status instead.

The batch and composite scenarios (tests/perf/multi.py) are timed from Python against the service
alone: several requests in one against the same work as single requests. The token flood
(tests/perf/flood.py) measures `GET item` on the service alone, then while clients send bad
client secrets to the token endpoint.
"""

import argparse
import contextlib
import datetime
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tests.perf import flood, multi

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PYTHON = sys.executable
BIN = Path(sys.executable).parent

FULL = {"items": 20_000, "inventories": 1_000_000, "kits": 2_000}
QUICK = {"items": 2_000, "inventories": 20_000, "kits": 200}
WORKFLOW_PAIRS = 64  # part kit + untracked inventory pairs the workflow scenario spreads over
WORKFLOW_BUFFER = 1_000  # units issued to each pair's kit before the run, so moves always find one
BENCH_RUN = "PERF-BENCH"
BENCH_PART = "PERF-UNTRACKED"
BENCH_USER = "perf-bench"
READ_TARGET, WORKFLOW_TARGET, TAIL_TARGET = 0.5, 0.4, 5.0
# Raised when seed_scale writes other data for the same counts, so a database seeded before is
# seeded again (2: runs' kits hold part of what their runs need, kits nest kits).
SEED_VERSION = 2


@dataclass
class Scenario:
    name: str
    method: str
    path: str
    body: dict[str, Any] | None = None
    workflow: bool = False
    status: str = "ok"  # or why it did not run
    service_queries: int | None = None
    floor_queries: int | None = None
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def target(self) -> float:
        return WORKFLOW_TARGET if self.workflow else READ_TARGET


def main() -> int:
    args = parse_args()
    quick = args.quick
    scale = QUICK if quick else FULL
    duration = args.duration or (2 if quick else 15)
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
    scenarios = build_scenarios(bench, scale)
    timed_names = list(multi.NAMES)
    run_flood = True
    if args.only:
        scenarios = [s for s in scenarios if s.name in args.only]
        timed_names = [name for name in timed_names if name in args.only]
        run_flood = flood.NAME in args.only
    timed: list[multi.Timed] = []
    token_flood: dict[str, Any] | None = None
    step("probe the service (query counts, plans)")
    plans = probe_service(scenarios, bench["token"])

    with tempfile.TemporaryDirectory(prefix="kitsmith-perf-") as tmp:
        tmp_path = Path(tmp)
        pairs_file = tmp_path / "pairs.txt"
        pairs_file.write_text("".join(f"{kit} {inv}\n" for kit, inv in bench["pairs"]))
        servers = {"service": Server("config.wsgi:application", args.port + 1, workers, env)}
        if scenarios:
            servers["floor"] = Server("tests.perf.floor:application", args.port + 2, workers, env)
        try:
            for server in servers.values():
                server.start()
            for server in servers.values():
                server.wait_ready()
            if scenarios:
                probe_floor(scenarios, servers["floor"], servers["service"], bench["token"])
            for scenario in scenarios:
                if scenario.status != "ok":
                    continue
                for label, server in servers.items():
                    step(f"{scenario.name}: {label}")
                    script, script_args = wrk_script(scenario, tmp_path, pairs_file, bench)
                    base = [wrk, "-t1", f"-c{args.connections}", "--timeout", "10s"]
                    base += ["-s", str(script), server.url + scenario.path]
                    if warmup:
                        wrk_run(base, warmup, script_args)
                    server.reset_peak_rss()
                    result = wrk_run(base, duration, script_args)
                    result["rss_mib"] = server.peak_rss_mib()
                    scenario.results[label] = result
            for name in timed_names:
                step(f"{name}: service (timed from Python)")
                timed += multi.run(
                    servers["service"].url, bench["token"], bench, [name], rounds=1 if quick else 3
                )
            if run_flood:
                step(f"{flood.NAME}: service")
                service = servers["service"]
                item = service.url + f"/objects/inventory-control/item/{bench['item_key']}"

                def measure(connections: int, seconds: float) -> dict[str, Any]:
                    base = [wrk, "-t1", f"-c{connections}", "--timeout", "10s"]
                    base += ["-s", str(HERE / "request.lua"), item]
                    return wrk_run(base, seconds, ["GET", "-", bench["token"]])

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

    elapsed = time.monotonic() - started
    report = build_report(
        scenarios,
        plans,
        timed=[scenario.row() for scenario in timed],
        token_flood=token_flood,
        quick=quick,
        scale=scale,
        database_url=database_url,
        workers=workers,
        connections=args.connections,
        duration=duration,
        seed_seconds=seed_seconds,
        elapsed=elapsed,
    )
    print_report(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {(RESULTS / 'latest.json').relative_to(ROOT)}  ({elapsed:.0f}s in all)")
    broken = [
        s.name
        for s in scenarios
        if s.status == "ok" and any(r["errors"] for r in s.results.values())
    ] + [t.name for t in timed if t.status != "ok"]
    if token_flood and any(token_flood[k]["errors"] for k in ("alone", "during_flood")):
        broken.append(flood.NAME)
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
    parser.add_argument("--port", type=int, default=8100, help="base port: service +1, floor +2")
    parser.add_argument("--reseed", action="store_true", help="seed again even if seeded")
    parser.add_argument("--only", action="append", help="run only this scenario (repeatable)")
    return parser.parse_args()


def step(message: str) -> None:
    print(f"-- {message}", file=sys.stderr, flush=True)


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
        app.client_secret = generate_client_secret()
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
        "user": user.pk,
        "item_key": kit,
        "part_id": first.part.code if first else "PART-000001",
        "pairs": pairs,
        "untracked_part": BENCH_PART,
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


def build_scenarios(bench: dict[str, Any], scale: dict[str, int]) -> list[Scenario]:
    deep_start = scale["inventories"] * 9 // 10 + 1  # 900001 at full scale
    pi_fields = ["key", "serialNumber", "quantity", "part.id"]
    pair = bench["pairs"][0] if bench["pairs"] else (0, 0)  # no pairs: the probe says why
    return [
        Scenario("item detail", "GET", f"/objects/inventory-control/item/{bench['item_key']}"),
        Scenario("kit-component list", "GET", "/objects/inventory-control/kit-component"),
        Scenario(
            "query kit-component",
            "POST",
            "/services/core/query",
            {
                "object": "inventory-control/kit-component",
                "fields": ["key", "kit.id", "component.name", "numberOfUnits"],
                "filters": [{"$gt": {"numberOfUnits": 1}}],
                "size": 100,
            },
        ),
        Scenario(
            "query part-inventory",
            "POST",
            "/services/core/query",
            {
                "object": "inventory-control/part-inventory",
                "fields": pi_fields,
                "filters": [{"$eq": {"part.id": bench["part_id"]}}],
                "size": 100,
            },
        ),
        Scenario(
            "query deep start",
            "POST",
            "/services/core/query",
            {
                "object": "inventory-control/part-inventory",
                "fields": pi_fields,
                "start": deep_start,
                "size": 100,
            },
        ),
        Scenario(
            "shortages of every open run",
            "POST",
            "/services/core/query",
            {
                "object": "inventory-control/requirement",
                "fields": ["part.id", "sum:shortQuantity"],
                "filters": [{"$gt": {"shortQuantity": 0}}],
                "size": 100,
            },
        ),
        Scenario(
            "issue + move-to-inventory",
            "POST",
            "/workflows/inventory-control/part-kit/issue",
            {"key": str(pair[0]), "partInventory": {"key": str(pair[1])}, "quantity": 1},
            workflow=True,
        ),
    ]


MOVE_PATH = "/workflows/inventory-control/part-kit/move-to-inventory"


# --- probes ---------------------------------------------------------------------------------------
def probe_service(scenarios: list[Scenario], token: str) -> dict[str, str]:
    """Through Django's test client: is the endpoint there, and how many queries does one request
    cost (CaptureQueriesContext)? Also the EXPLAIN (ANALYZE, BUFFERS) of the deep page."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    plans: dict[str, str] = {}
    for scenario in scenarios:
        calls = [(scenario.path, scenario.body)]
        if scenario.workflow:
            calls.append((MOVE_PATH, scenario.body))
        queries = 0
        captured = []

        def send(path, body, method=scenario.method):
            if body is None:
                return client.generic(method, path)
            return client.generic(method, path, json.dumps(body), content_type="application/json")

        if not scenario.workflow:
            # A read once unmeasured: what a process does once (capturing a statement, keeping a
            # query shape) is not what each request costs under load.
            send(scenario.path, scenario.body)
        for path, body in calls:
            with CaptureQueriesContext(connection) as ctx:
                response = send(path, body)
            queries += len(ctx.captured_queries)
            captured += ctx.captured_queries
            status = describe_failure(response.status_code, response.content)
            if status:
                scenario.status = status
                break
        if scenario.status != "ok":
            continue
        scenario.service_queries = queries
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


def probe_floor(scenarios, floor: "Server", service: "Server", token: str) -> None:
    """The floor's query count (its X-Queries header), and a check that both servers answer the
    read scenarios with the same body: otherwise the comparison would not be fair."""
    for scenario in scenarios:
        if scenario.status != "ok":
            continue
        calls = [(scenario.path, scenario.body)]
        if scenario.workflow:
            calls.append((MOVE_PATH, scenario.body))
        queries = 0
        for path, body in calls:
            status, headers, content = http(floor.url + path, scenario.method, body, token)
            if status != 200:
                raise SystemExit(f"the floor failed {scenario.name}: {status} {content[:200]!r}")
            queries += int(headers.get("X-Queries", 0))
            if not scenario.workflow:
                _, _, expected = http(service.url + path, scenario.method, body, token)
                if json.loads(expected) != json.loads(content):
                    print(
                        f"WARNING: the floor's answer to {scenario.name} differs from the "
                        "service's",
                        file=sys.stderr,
                    )
        scenario.floor_queries = queries


def http(url: str, method: str, body, token: str) -> tuple[int, dict[str, str], bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


# --- servers and wrk ------------------------------------------------------------------------------
class Server:
    def __init__(self, app: str, port: int, workers: int, env: dict[str, str]):
        self.app, self.port, self.workers, self.env = app, port, workers, env
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            str(BIN / "gunicorn"),
            self.app,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
            "--backlog",
            "2048",
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **self.env})

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.app} exited with {self.process.returncode}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(self.url + "/healthz", timeout=2) as response,
            ):
                if response.status == 200 and len(self.worker_pids()) == self.workers:
                    return
            time.sleep(0.2)
        raise SystemExit(f"{self.app} did not come up on {self.url}")

    def worker_pids(self) -> list[int]:
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [int(child) for child in children]

    def reset_peak_rss(self) -> None:
        for pid in self.worker_pids():
            # "5" resets VmHWM to the current RSS (Linux >= 4.0), so the peak is this run's.
            with contextlib.suppress(OSError):
                Path(f"/proc/{pid}/clear_refs").write_text("5")

    def peak_rss_mib(self) -> float | None:
        peaks = []
        for pid in self.worker_pids():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks.append(int(line.split()[1]) / 1024)
        return round(max(peaks), 1) if peaks else None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wrk_script(scenario: Scenario, tmp: Path, pairs_file: Path, bench) -> tuple[Path, list[str]]:
    if scenario.workflow:
        return HERE / "workflow.lua", [str(pairs_file), bench["token"]]
    body = "-"
    if scenario.body is not None:
        body_file = tmp / f"{scenario.name.replace(' ', '_')}.json"
        body_file.write_text(json.dumps(scenario.body))
        body = str(body_file)
    return HERE / "request.lua", [scenario.method, body, bench["token"]]


def wrk_run(base: list[str], seconds: float, script_args: list[str]) -> dict[str, Any]:
    command = [*base[:1], "-d", f"{seconds}s", *base[1:], "--", *script_args]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next((x for x in output.splitlines() if x.startswith("PERF_JSON ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no summary:\n{output}")
    raw = json.loads(line.removeprefix("PERF_JSON "))
    seconds_run = raw["duration_us"] / 1e6
    errors = sum(raw[k] for k in raw if k.endswith("_errors") or k == "timeouts")
    # Sync workers close every connection after its answer; wrk counts that as a read error
    # only when a request is lost, so read errors stay in the error count.
    return {
        "requests": raw["requests"],
        "rps": round(raw["requests"] / seconds_run, 1) if seconds_run else 0.0,
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p90_ms": round(raw["p90_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "errors": errors,
        "status_errors": raw["status_errors"],
    }


# --- the report -----------------------------------------------------------------------------------
def build_report(scenarios, plans, *, timed, token_flood, **meta) -> dict[str, Any]:
    rows = []
    for s in scenarios:
        row: dict[str, Any] = {"scenario": s.name, "status": s.status, "target": s.target}
        if s.status == "ok":
            service, floor = s.results["service"], s.results["floor"]
            ratio = service["rps"] / floor["rps"] if floor["rps"] else None
            row.update(
                service=service,
                floor=floor,
                ratio=round(ratio, 2) if ratio is not None else None,
                queries={"service": s.service_queries, "floor": s.floor_queries},
                meets_target=ratio is not None and ratio >= s.target,
                tail_ok=service["p99_ms"] <= TAIL_TARGET * service["p50_ms"],
            )
        rows.append(row)
    url = urlsplit(meta["database_url"])
    return {
        "generated": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "python -m tests.perf" + (" --quick" if meta["quick"] else ""),
        "machine": {"cores": os.cpu_count()},
        "database": url.path.lstrip("/"),
        "dataset": meta["scale"],
        "seed_seconds": round(meta["seed_seconds"], 1) if meta["seed_seconds"] else None,
        "gunicorn_workers": meta["workers"],
        "wrk_connections": meta["connections"],
        "seconds_per_run": meta["duration"],
        "scenarios": rows,
        "several_in_one": timed,
        "token_flood": token_flood,
        "deep_page_plans": plans,
    }


def print_report(report: dict[str, Any]) -> None:
    if report["deep_page_plans"]:
        print("\nEXPLAIN (ANALYZE, BUFFERS) of the deep page, as the service runs it:")
        for kind, plan in report["deep_page_plans"].items():
            print(f"\n[{kind}]\n{plan}")
    data = report["dataset"]
    print(
        f"\n{report['command']}: {data['inventories']:,} part inventories, {data['items']:,} items,"
        f" {data['kits']:,} kits; {report['gunicorn_workers']} gunicorn workers,"
        f" wrk {report['wrk_connections']} connections, {report['seconds_per_run']:g}s per run"
    )
    header = (
        f"{'scenario':<26} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'floor r/s':>9}"
        f" {'fl p50':>7} {'fl p99':>7} {'ratio':>6} {'queries':>8} {'RSS MiB':>11}  target"
    )
    print(header)
    print("-" * len(header))
    for row in report["scenarios"]:
        if row["status"] != "ok":
            print(f"{row['scenario']:<26} {row['status']}")
            continue
        s, f = row["service"], row["floor"]
        queries = f"{row['queries']['service']}/{row['queries']['floor']}"
        rss = f"{s['rss_mib']:.0f}/{f['rss_mib']:.0f}" if s["rss_mib"] and f["rss_mib"] else "?"
        verdict = "ok" if row["meets_target"] else f"BELOW {row['target']}"
        if not row["tail_ok"]:
            verdict += ", p99>5xp50"
        errors = s["errors"] + f["errors"]
        if errors:
            verdict += f", {errors} errors"
        print(
            f"{row['scenario']:<26} {s['rps']:>8.0f} {s['p50_ms']:>7.2f} {s['p99_ms']:>7.2f}"
            f" {f['rps']:>9.0f} {f['p50_ms']:>7.2f} {f['p99_ms']:>7.2f} {row['ratio']:>6.2f}"
            f" {queries:>8} {rss:>11}  {verdict}"
        )
    print("queries: per request, service/floor (workflow: per issue + move pair); RSS: peak per")
    print("worker, service/floor; ratio: service req/s over floor req/s.")
    if report["several_in_one"]:
        multi.print_table(report["several_in_one"])
    if report["token_flood"]:
        flood.print_table(report["token_flood"])


if __name__ == "__main__":
    sys.exit(main())
