"""The reverse proxy in front of the replicas (docker-compose.yml's `proxy`, docker/nginx.conf),
run for real: nginx with the repository's configuration in front of gunicorn as the image starts
it (docker/entrypoint.sh serve), with one sync worker.

Contract 16: the HTTP server's own refusals are ia::errors, and slow clients cannot tie up the
workers. gunicorn alone does neither: it answers an over-long request line or a malformed request
with its own HTML page before the application is called (it has no public hook for that body), and
a sync worker reading a slow client's request serves nobody else meanwhile. Both are shown below
against gunicorn alone; behind the proxy, which the compose file always puts in front, both hold.
"""

import json
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from django.db import connection

from config.api import errors
from tests.support.proxy import ACCESS_FORMAT, entrypoint_server, exchange, nginx_proxy
from tests.support.server import database_url, free_port

HOST = b"Host: localhost\r\n"


class Stack:
    def __init__(self, app_url: str, proxy_port: int, access_log: Path):
        self.app_url = app_url
        self.app_port = int(app_url.rsplit(":", 1)[1])
        self.proxy_port = proxy_port
        self.url = f"http://127.0.0.1:{proxy_port}"
        self.access_log = access_log


@pytest.fixture(scope="module")
def stack(tmp_path_factory, django_db_setup):
    """nginx -> gunicorn (1 sync worker) on the test database (on SQLite, whose test database
    lives in the test process, an empty file: the requests here read nothing)."""
    tmp = tmp_path_factory.mktemp("proxy")
    sqlite = f"sqlite:///{tmp / 'db.sqlite3'}"
    url = database_url() if connection.vendor == "postgresql" else sqlite
    access_log = tmp / "access.log"
    args = ("--access-logfile", str(access_log), "--access-logformat", ACCESS_FORMAT)
    with (
        entrypoint_server(tmp, url, workers=1, args=args) as app_url,
        nginx_proxy(tmp, app_url.removeprefix("http://")) as port,
    ):
        yield Stack(app_url, port, access_log)


def refusal(answer, spec: errors.ErrorSpec, **placeholders) -> None:
    """The answer is the catalogue's ia::error, its supportId the response's X-Request-Id."""
    assert answer.headers["Content-Type"] == "application/json"
    support_id = answer.headers["X-Request-Id"]
    assert len(support_id) == 32
    expected = errors.error_body(errors.error(spec, **placeholders), support_id)
    assert json.loads(answer.body) == expected


def test_the_error_pages_are_generated_from_the_catalogue():
    call_command("proxy_errors", "--check")


def test_an_over_long_request_line_is_a_414_ia_error(stack):
    answer = exchange(stack.proxy_port, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n" + HOST + b"\r\n")
    assert answer.status == 414
    assert json.loads(answer.body)["ia::result"]["ia::error"] == {
        "code": "invalidRequest",
        "message": "The request line is longer than 8k",
        "errorId": "KS-4141",
        "additionalInfo": {
            "messageId": "KS.PROXY_LINE_TOO_LONG",
            "placeholders": {"MAX": "8k"},
            "propertySet": {},
        },
        "supportId": answer.headers["X-Request-Id"],
    }
    refusal(answer, errors.PROXY_LINE_TOO_LONG, MAX="8k")


def test_an_over_long_header_or_too_many_are_a_431_ia_error(stack):
    long_header = b"X-Long: " + b"a" * 9000 + b"\r\n"
    many_headers = b"".join(b"X-Header-%d: %s\r\n" % (n, b"v" * 4000) for n in range(9))
    for headers in (long_header, many_headers):
        request = b"GET /healthz HTTP/1.1\r\n" + HOST + headers + b"\r\n"
        answer = exchange(stack.proxy_port, request)
        assert answer.status == 431
        refusal(answer, errors.PROXY_HEADERS_TOO_LARGE, MAX="8k", TOTAL="32k")


def test_a_malformed_request_is_a_400_ia_error(stack):
    answer = exchange(stack.proxy_port, b"GARBAGE\r\n\r\n")
    assert answer.status == 400
    refusal(answer, errors.BAD_REQUEST, REASON="the proxy could not read the request")


def test_trace_is_a_405_ia_error(stack):
    answer = exchange(stack.proxy_port, b"TRACE / HTTP/1.1\r\n" + HOST + b"\r\n")
    assert answer.status == 405
    refusal(answer, errors.METHOD_NOT_ALLOWED, METHOD="TRACE", PATH="any path")


def test_an_unsupported_transfer_coding_is_a_501_ia_error(stack):
    request = b"POST /oauth2/token HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: gzip\r\n\r\n"
    answer = exchange(stack.proxy_port, request)
    assert answer.status == 501
    refusal(answer, errors.PROXY_TRANSFER_CODING)


@pytest.mark.parametrize("version", [b"HTTP/2.0", b"HTTP/3.1"])
def test_an_unsupported_http_version_is_a_505_ia_error(stack, version):
    answer = exchange(stack.proxy_port, b"GET /healthz " + version + b"\r\n" + HOST + b"\r\n")
    assert answer.status == 505
    refusal(answer, errors.PROXY_HTTP_VERSION)


def test_a_body_over_the_limit_is_a_413_ia_error_before_it_is_sent(stack):
    request = b"POST /objects/inventory-control/item HTTP/1.1\r\n" + HOST
    request += b"Content-Type: application/json\r\nContent-Length: 20000000\r\n\r\n"
    answer = exchange(stack.proxy_port, request)
    assert answer.status == 413
    refusal(answer, errors.PROXY_BODY_TOO_LARGE, MAX="10m")


def test_the_proxys_error_locations_cannot_be_asked_for(stack):
    answer = requests.get(f"{stack.url}/_kitsmith/error/400", timeout=30)
    assert answer.status_code == 404
    assert answer.json()["ia::result"]["ia::error"]["errorId"] == "KS-4042"


def test_what_the_proxy_passes_gunicorn_passes_to_the_application(stack):
    """The largest request line and header nginx lets through, and many headers, reach the
    application (its JSON 404), not gunicorn's HTML refusal: the entrypoint's limits are
    above nginx's."""
    line = b"GET /" + b"a" * 8100 + b" HTTP/1.1\r\n"
    long_header = b"X-Long: " + b"a" * 8000 + b"\r\n"
    # gunicorn alone takes 100 headers at most.
    many_headers = b"".join(b"X-H%d: v\r\n" % n for n in range(500))
    for request in (line + HOST, b"GET /nothing HTTP/1.1\r\n" + HOST + long_header + many_headers):
        answer = exchange(stack.proxy_port, request + b"\r\n")
        assert answer.status == 404
        assert answer.headers["Content-Type"] == "application/json"
        assert json.loads(answer.body)["ia::result"]["ia::error"]["errorId"] == "KS-4042"
    # gunicorn alone refuses the same line with its HTML page.
    answer = exchange(stack.app_port, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n" + HOST + b"\r\n")
    assert (answer.status, answer.headers["Content-Type"]) == (400, "text/html")
    assert b"Request Line is too large" in answer.body


def test_no_replica_answering_is_a_502_ia_error_with_retry_after(tmp_path):
    with nginx_proxy(tmp_path, f"127.0.0.1:{free_port()}") as port:
        answer = exchange(port, b"GET /healthz HTTP/1.1\r\n" + HOST + b"\r\n")
    assert answer.status == 502
    assert answer.headers["Retry-After"] == "1"
    refusal(answer, errors.PROXY_NO_UPSTREAM, SECONDS=1)


def test_a_replica_not_accepting_connections_is_a_504_ia_error(tmp_path):
    """A replica whose listen backlog is full drops new connections' SYNs: nginx gives up after
    proxy_connect_timeout (5 s). (A slow answer is gunicorn's to end first: its worker timeout,
    30 s, is below proxy_read_timeout, and nginx answers that closed connection 502.)"""
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(0)
        address = hung.getsockname()
        # Connections the replica never accepts fill its backlog.
        held = []
        for _ in range(4):
            held.append(socket.socket())
            held[-1].setblocking(False)
            held[-1].connect_ex(address)
        time.sleep(0.2)
        try:
            with nginx_proxy(tmp_path, f"127.0.0.1:{address[1]}") as port:
                answer = exchange(port, b"GET /healthz HTTP/1.1\r\n" + HOST + b"\r\n")
        finally:
            for sock in held:
                sock.close()
    assert answer.status == 504
    refusal(answer, errors.PROXY_UPSTREAM_TIMEOUT)


def test_the_proxys_own_failure_is_a_500_ia_error(stack, tmp_path):
    """nginx failing itself: here its request-body temporary directory is gone (a body over
    client_body_buffer_size is written there)."""
    with nginx_proxy(tmp_path, stack.app_url.removeprefix("http://")) as port:
        (body_temp,) = tmp_path.glob("nginx-*/client_body")
        body_temp.rmdir()
        body_temp.write_text("not a directory")
        response = requests.post(
            f"http://127.0.0.1:{port}/nothing", data=b"x" * 200_000, timeout=30
        )
    assert response.status_code == 500
    assert response.json()["ia::result"]["ia::error"]["errorId"] == "KS-5001"
    assert (
        response.json()["ia::result"]["ia::error"]["supportId"] == response.headers["X-Request-Id"]
    )


def test_forwarded_headers_are_the_proxys_not_the_clients(stack):
    path = f"/forwarded-{uuid.uuid4().hex}"
    spoofed = {
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Proto": "https",
        "X-Request-Id": "chosen-by-the-client",
    }
    response = requests.get(stack.url + path, headers=spoofed, timeout=30)
    assert response.status_code == 404
    request_id = response.headers["X-Request-Id"]
    # The application answered with the proxy's request id, in the header and as supportId.
    assert len(request_id) == 32 and request_id != spoofed["X-Request-Id"]
    assert response.json()["ia::result"]["ia::error"]["supportId"] == request_id
    # What gunicorn received: the address nginx saw (the test's), the scheme it was asked in.
    assert received(stack, path) == ["127.0.0.1", "http", request_id, "404"]


def received(stack: Stack, path: str) -> list[str]:
    """The forwarded headers of `path`'s request as the application server logged them."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for line in stack.access_log.read_text().splitlines():
            if line.startswith(path + "|"):
                return line.split("|")[1:]
        time.sleep(0.1)
    raise AssertionError(f"{path} is not in gunicorn's access log")


class SlowClient(threading.Thread):
    """Sends a request's headers one byte at a time (slowloris), for about `seconds`."""

    def __init__(self, port: int, seconds: float):
        super().__init__(daemon=True)
        self.port = port
        headers = b"GET /healthz HTTP/1.1\r\n" + HOST + b"X-Slow: " + b"s" * 30 + b"\r\n\r\n"
        self.headers = headers
        self.pause = seconds / len(headers)
        # Taken just before the last byte goes: the server cannot have the request before it.
        self.last_byte_at: float | None = None
        self.status: int | None = None
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)

    def run(self) -> None:
        with self.sock:
            for byte in self.headers[:-1]:
                self.sock.sendall(bytes([byte]))
                time.sleep(self.pause)
            self.last_byte_at = time.monotonic()
            self.sock.sendall(self.headers[-1:])
            self.status = int(self.sock.recv(64).split()[1])


def test_slow_clients_on_every_worker_do_not_hold_up_a_request_behind_the_proxy(stack):
    slow = [SlowClient(stack.proxy_port, seconds=6) for _ in range(4)]
    for client in slow:
        client.start()
    time.sleep(1)
    response = requests.get(f"{stack.url}/healthz", timeout=60)
    answered_at = time.monotonic()
    assert response.status_code == 200
    for client in slow:
        client.join(timeout=60)
    # Served while every slow client was still sending its headers; they are served after.
    assert all(answered_at < client.last_byte_at for client in slow)
    assert [client.status for client in slow] == [200] * 4


def test_without_the_proxy_one_slow_client_holds_gunicorns_only_worker(stack):
    slow = SlowClient(stack.app_port, seconds=3)
    slow.start()
    time.sleep(0.5)
    response = requests.get(f"{stack.app_url}/healthz", timeout=60)
    answered_at = time.monotonic()
    slow.join(timeout=60)
    assert response.status_code == 200
    # The worker read the slow client to its end before it could take this request.
    assert answered_at > slow.last_byte_at
    assert slow.status == 200
