"""The production front, run for real without Docker: the image's entrypoint (docker/entrypoint.sh
serve, so gunicorn with the image's limits) and Debian's nginx with the repository's
docker/nginx.conf in front of it, its upstream and port swapped for local ones.

nginx comes from the `nginx-light` (or `nginx`) Debian package, which .ci/run installs.
"""

import getpass
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.server import free_port, wait_until_healthy

ROOT = Path(__file__).resolve().parent.parent.parent
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
# What gunicorn received from the proxy, one line per request (its access log).
ACCESS_FORMAT = "%(U)s|%({x-forwarded-for}i)s|%({x-forwarded-proto}i)s|%({x-request-id}i)s|%(s)s"


def production_environment(database_url: str, port: int) -> dict[str, str]:
    """The compose file's settings for a replica, on a local port and database."""
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "DATABASE_URL": database_url,
        "LISTEN_HOST": "127.0.0.1",
        "PORT": str(port),
        "DEBUG": "0",
        "SECRET_KEY": "proxy-test-" + os.urandom(16).hex(),
        "BEHIND_TLS_PROXY": "1",
        "TRUSTED_PROXIES": "127.0.0.1/32",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        # No connection outlives its request, so none is left open when the test database goes.
        "CONN_MAX_AGE": "0",
        "LOG_LEVEL": "WARNING",
    }


@contextmanager
def entrypoint_server(
    tmp: Path,
    database_url: str,
    *,
    workers: int,
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """`docker/entrypoint.sh serve` on a free port: gunicorn as the image starts it."""
    port = free_port()
    env = {
        **production_environment(database_url, port),
        "WEB_CONCURRENCY": str(workers),
        **(env or {}),
    }
    command = ["sh", str(ENTRYPOINT), "serve", "--timeout", "60", *args]
    with (tmp / f"gunicorn-{port}.log").open("w+b") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_healthy(process, url, log)
            yield url
        finally:
            _stop(process, signal.SIGTERM)


@contextmanager
def nginx_proxy(tmp: Path, upstream: str) -> Iterator[int]:
    """nginx with docker/nginx.conf and its generated error pages, listening on a free port of
    127.0.0.1 and passing requests to `upstream` (host:port); yields the port."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(binary, os.X_OK):
        pytest.fail("nginx is not installed: apt-get install nginx-light (as .ci/run does)")
    port = free_port()
    prefix = tmp / f"nginx-{port}"
    (prefix / "kitsmith").mkdir(parents=True)
    shutil.copy(ROOT / "docker" / "nginx.conf", prefix / "nginx.conf")
    shutil.copy(ROOT / "docker" / "nginx" / "errors.conf", prefix / "kitsmith" / "errors.conf")
    # In place of the compose network's `app` replicas, and temporary files under the prefix
    # (Debian's defaults are root's).
    (prefix / "kitsmith" / "upstream.conf").write_text(
        f"upstream kitsmith {{ server {upstream}; }}\n"
        + "".join(
            f"{name}_temp_path {prefix / name};\n"
            for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
    )
    (prefix / "kitsmith" / "listen.conf").write_text(f"listen 127.0.0.1:{port};\n")
    directives = f"daemon off; pid {prefix / 'nginx.pid'};"
    if os.geteuid() == 0:
        # Workers as the test's user, who owns the temporary directories (nobody could not).
        directives += f" user {getpass.getuser()};"
    command = [binary, "-e", "stderr", "-p", f"{prefix}/", "-c", "nginx.conf", "-g", directives]
    with (prefix / "nginx.log").open("w+b") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log)
        try:
            _wait_for_port(process, port, log)
            yield port
        finally:
            _stop(process, signal.SIGQUIT)


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def exchange(port: int, request: bytes) -> Answer:
    """Send raw bytes (what requests would refuse to send) and read the one answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return Answer(response.status, response.headers, response.read())


def _wait_for_port(process: subprocess.Popen, port: int, log) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            pytest.fail(f"nginx exited: {log.read().decode(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail("nginx did not listen")


def _stop(process: subprocess.Popen, sig: int) -> None:
    process.send_signal(sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
