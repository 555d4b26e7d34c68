"""Contract 16 under a real gunicorn with several workers: /healthz answers while the database
does not, /readyz says so, /metrics totals every worker's requests exactly (also after a worker
was killed), and LOG_FORMAT=json writes one parseable access line per request, nothing else."""

import json
import os
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.db import connection
from oauth2_provider.models import Application
from prometheus_client.parser import text_string_to_metric_families

from tests.support.errors import not_ready
from tests.support.factories import part
from tests.support.server import bearer_headers, running_gunicorn

PART_INVENTORY = "/objects/inventory-control/part-inventory"
ITEMS = "/objects/inventory-control/item"
needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the server serves the test database"
)


def metric(url: str, headers: dict, name: str, **labels: str) -> float:
    """The sum of `name`'s samples carrying these labels, as /metrics shows them."""
    response = requests.get(f"{url}/metrics", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return sum(
        sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def healthz_answers() -> dict[str, str]:
    return {
        "name": "django_http_responses_total_by_status_view_method_total",
        "view": "healthz",
        "method": "GET",
        "status": "200",
    }


def send(url: str, count: int, path: str = "/healthz", **kwargs) -> list[int]:
    """`count` requests from 8 threads at once, so that every worker answers some."""
    with ThreadPoolExecutor(8) as pool:
        return list(
            pool.map(
                lambda _: requests.get(f"{url}{path}", timeout=30, **kwargs).status_code,
                range(count),
            )
        )


def worker_pids(directory) -> set[int]:
    return {int(path.stem.rsplit("_", 1)[1]) for path in directory.glob("counter_*.db")}


# --- liveness and readiness without a database ---------------------------------------------------


def test_healthz_answers_while_every_database_connection_hangs_and_readyz_names_it(tmp_path):
    # A "database" that accepts connections and never answers: each worker's connection hangs.
    with socket.socket() as black_hole:
        black_hole.bind(("127.0.0.1", 0))
        black_hole.listen(64)
        hanging = f"postgres://kitsmith@127.0.0.1:{black_hole.getsockname()[1]}/kitsmith"
        with running_gunicorn(workers=2, env={"DATABASE_URL": hanging}) as url:
            assert send(url, 16) == [200] * 16

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        refused = f"postgres://kitsmith@127.0.0.1:{closed.getsockname()[1]}/kitsmith"
        with running_gunicorn(workers=2, env={"DATABASE_URL": refused}) as url:
            assert send(url, 4) == [200] * 4
            response = requests.get(f"{url}/readyz", timeout=30)
            expected = {**not_ready("database"), "supportId": response.headers["X-Request-Id"]}
            assert (response.status_code, response.json()["ia::result"]["ia::error"]) == (
                503,
                expected,
            )


def gunicorn_processes(url: str) -> tuple[int, set[int]]:
    """The master's pid and its workers' pids of the gunicorn serving `url`, from /proc."""
    bind = url.removeprefix("http://").encode()
    parents = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and bind in (entry / "cmdline").read_bytes().split(b"\0"):
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
        except OSError:
            continue  # ended meanwhile
    (master,) = [pid for pid, parent in parents.items() if parent not in parents]
    return master, {pid for pid, parent in parents.items() if parent == master}


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the workers in /proc")
def test_master_survives_every_worker_killed_at_once(tmp_path):
    # child_exit runs in the master's SIGCHLD handler once per worker: all four dying together
    # must neither import anything there nor stop the master.
    with running_gunicorn(workers=4) as url:
        master, _ = gunicorn_processes(url)
        for _ in range(2):
            _, workers = gunicorn_processes(url)
            assert len(workers) == 4, workers
            for pid in workers:
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                _, successors = gunicorn_processes(url)
                if len(successors - workers) == 4:
                    break
                time.sleep(0.2)
            assert gunicorn_processes(url) == (master, successors) and not successors & workers
            assert send(url, 8) == [200] * 8


# --- metrics across workers ----------------------------------------------------------------------


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_metrics_total_every_workers_requests_exactly(tmp_path, admin_user):
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_1.db").write_bytes(b"stale")  # an earlier run's: emptied at start
    part(admin_user, "Screw")
    env = {"PROMETHEUS_MULTIPROC_DIR": str(directory)}
    with running_gunicorn(workers=2, env=env) as url:
        staff = bearer_headers(url, admin_user, "gunicorn")
        answered = healthz_answers()
        before = metric(url, staff, **answered)

        assert send(url, 40) == [200] * 40
        assert metric(url, staff, **answered) - before == 40
        pids = worker_pids(directory)
        assert len(pids) == 2 and 1 not in pids, pids  # both workers answered; no stale file

        # A worker killed: what it counted stays counted, its successor counts on.
        os.kill(min(pids), signal.SIGKILL)
        deadline = time.monotonic() + 30
        while len(worker_pids(directory) - pids) == 0 and time.monotonic() < deadline:
            send(url, 4)
            before += 4
        assert len(worker_pids(directory) - pids) == 1, sorted(p.name for p in directory.iterdir())
        assert send(url, 10) == [200] * 10
        assert metric(url, staff, **answered) - before == 50
        # ops' own latency histogram, by route, method and status, sums the workers alike.
        timed = {"route": "healthz", "method": "GET", "status": "200"}
        timed_before = metric(url, staff, "kitsmith_http_request_duration_seconds_count", **timed)
        assert send(url, 10) == [200] * 10
        timed_after = metric(url, staff, "kitsmith_http_request_duration_seconds_count", **timed)
        assert timed_after - timed_before == 10

        # Stock moves from both workers: 6 creates, 6 ledger rows.
        moves = {"name": "kitsmith_stock_moves_total", "kind": "create"}
        body = {"part": {"id": "Screw"}, "quantity": 1}
        with ThreadPoolExecutor(6) as pool:
            created = list(
                pool.map(
                    lambda _: requests.post(
                        f"{url}{PART_INVENTORY}", json=body, headers=staff, timeout=30
                    ),
                    range(6),
                )
            )
        assert [r.status_code for r in created] == [201] * 6
        assert metric(url, staff, **moves) == 6
        assert metric(url, staff, "django_db_query_duration_seconds_count") > 0


# --- JSON logs -----------------------------------------------------------------------------------


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_json_logs_one_access_line_per_request(tmp_path, admin_user):
    log_path = tmp_path / "server.log"
    # A proxy is trusted, the test's own address is not: its X-Forwarded-For is not believed.
    env = {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "TRUSTED_PROXIES": "10.9.9.9/32"}
    with log_path.open("wb") as log, running_gunicorn(workers=2, env=env, log=log) as url:
        staff = bearer_headers(url, admin_user, "gunicorn")
        client_id = Application.objects.get(name="gunicorn").client_id
        sent = {
            "ops-log-items-0001": requests.get(
                f"{url}{ITEMS}", headers={**staff, "X-Request-Id": "ops-log-items-0001"}, timeout=30
            ),
            "ops-log-anon-00001": requests.get(
                f"{url}{ITEMS}",
                headers={"X-Request-Id": "ops-log-anon-00001", "X-Forwarded-For": "203.0.113.7"},
                timeout=30,
            ),
            "ops-log-nope-00001": requests.get(
                f"{url}/nope", headers={"X-Request-Id": "ops-log-nope-00001"}, timeout=30
            ),
        }
        sent |= {
            f"ops-log-health-{n:03}": requests.get(
                f"{url}/healthz", headers={"X-Request-Id": f"ops-log-health-{n:03}"}, timeout=30
            )
            for n in range(10)
        }
    lines = [json.loads(line) for line in log_path.read_text().splitlines()]  # each one JSON

    access = [line for line in lines if line["logger"] == "kitsmith.request"]
    by_id = {}
    for line in access:
        assert line.keys() == {
            "time",
            "level",
            "logger",
            "message",
            "request_id",
            "method",
            "path",
            "route",
            "status",
            "duration_ms",
            "user",
            "client",
            "address",
        }
        assert line["message"] == (
            f"{line['method']} {line['path']} {line['status']} {line['duration_ms']:.1f}ms"
        )
        by_id.setdefault(line["request_id"], []).append(line)
    for request_id, response in sent.items():
        assert response.headers["X-Request-Id"] == request_id
        assert len(by_id[request_id]) == 1, request_id
    # Besides ours, the token request and the start's /healthz polls: nothing else, and no line
    # of gunicorn's own access log.
    others = sorted(line["path"] for line in access if line["request_id"] not in sent)
    assert others[0] == "/healthz" and others[-1] == "/oauth2/token"
    assert set(others) == {"/healthz", "/oauth2/token"} and others.count("/oauth2/token") == 1
    assert not [line for line in lines if line["logger"] == "gunicorn.access"]

    def fields(request_id: str) -> dict:
        (line,) = by_id[request_id]
        return {k: v for k, v in line.items() if k not in ("time", "message", "duration_ms")}

    assert fields("ops-log-items-0001") == {
        "level": "INFO",
        "logger": "kitsmith.request",
        "request_id": "ops-log-items-0001",
        "method": "GET",
        "path": ITEMS,
        "route": "inventory-control-item-list",
        "status": 200,
        "user": "admin",
        "client": client_id,
        "address": "127.0.0.1",
    }
    assert fields("ops-log-anon-00001") == {
        **fields("ops-log-items-0001"),
        "request_id": "ops-log-anon-00001",
        "status": 401,
        "user": None,
        "client": None,
    }
    assert fields("ops-log-nope-00001") == {
        **fields("ops-log-anon-00001"),
        "request_id": "ops-log-nope-00001",
        "path": "/nope",
        "route": "config.api.responses.handler404",
        "status": 404,
    }
    assert fields("ops-log-health-000") == {
        **fields("ops-log-anon-00001"),
        "request_id": "ops-log-health-000",
        "path": "/healthz",
        "route": "healthz",
        "status": 200,
    }
