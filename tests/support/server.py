"""A real multi-process server on the pytest test database, for tests whose point is several
processes at once (pytest-django's live_server is one thread of the test process).

`gunicorn_server` (registered by tests/conftest.py) gives a test a `Server`: the base URL of a
gunicorn with sync workers (3, or the test module's `GUNICORN_WORKERS`) and the headers of a real
bearer token of `admin_user`. The process is started once per test module and serves the test
database, so the test must commit what it sends (it runs with `transactional_db`). PostgreSQL
only: the SQLite test database lives in the test process's memory.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import quote

import pytest
import requests
from django.conf import settings
from django.db import connection

from config.api.oauth import api_client_create

ROOT = Path(__file__).resolve().parent.parent.parent
WORKERS = 3


@dataclass(frozen=True)
class Server:
    url: str
    headers: dict[str, str]  # Authorization: Bearer <token of admin_user>


def database_url() -> str:
    """The test database pytest-django created, as a DATABASE_URL."""
    db = settings.DATABASES["default"]
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{auth}@{host}/{db['NAME']}"


@pytest.fixture(scope="module")
def gunicorn_url(request, django_db_setup):
    """A gunicorn on a free port serving the test database, for the whole test module."""
    if connection.vendor != "postgresql":
        pytest.fail("gunicorn_server needs PostgreSQL: skip the test on SQLite")
    with running_gunicorn(workers=getattr(request.module, "GUNICORN_WORKERS", WORKERS)) as url:
        yield url


@contextlib.contextmanager
def running_gunicorn(
    *, workers: int = WORKERS, env: dict[str, str] | None = None, log: IO[bytes] | None = None
):
    """Runs a gunicorn on a free port serving the test database, with the project's
    gunicorn.conf.py (`env` added to its environment) until the block ends; yields its base URL.
    `log` receives its output (stdout and stderr)."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DEBUG": "1",
        # No connection outlives its request, so none is left open when the test database goes.
        "CONN_MAX_AGE": "0",
        "THROTTLE_RATE_CLIENT": "1000000/min",
        # Every test of a module asks the server for a token from this one address.
        "THROTTLE_RATE_TOKEN_CLIENT": "1000000/min",
        "THROTTLE_RATE_TOKEN_ADDRESS": "1000000/min",
        "LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [str(gunicorn), "config.wsgi", "--config", "gunicorn.conf.py"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", "120"]
    with contextlib.ExitStack() as stack:
        if log is None:
            log = stack.enter_context(tempfile.TemporaryFile())
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_healthy(process, url, log)
            yield url
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def gunicorn_server(gunicorn_url, transactional_db, admin_user) -> Server:
    """The module's gunicorn and a bearer token of `admin_user` it issued."""
    return Server(gunicorn_url, bearer_headers(gunicorn_url, admin_user, "gunicorn"))


def bearer_headers(url: str, user, name: str) -> dict[str, str]:
    """The headers of a bearer token the server at `url` issued to a new client of `user`."""
    client_id, secret = api_client_create(user=user, name=name)
    token = requests.post(
        f"{url}/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        timeout=60,
    )
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(process, url: str, log) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            pytest.fail(f"gunicorn exited: {log.read().decode(errors='replace')}")
        try:
            # A long timeout, not retries: a request given up on is still answered (and counted
            # by /metrics) later, which would put one more /healthz in a test's figures.
            if requests.get(f"{url}/healthz", timeout=60).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail("gunicorn did not answer /healthz")
