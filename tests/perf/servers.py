"""The benchmark's gunicorn servers and wrk runs."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.perf.scenarios import Call, Scenario

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def http(url: str, call: Call, token: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url + call.path, data=call.encoded(), method=call.method)
    if call.auth:
        request.add_header("Authorization", f"Bearer {token}")
    if call.content_type:
        request.add_header("Content-Type", call.content_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


class Server:
    def __init__(self, app: str, port: int, workers: int, env: dict[str, str]):
        """`app`: a WSGI application's gunicorn name; every server runs with the same settings."""
        self.app, self.port, self.workers, self.env = app, port, workers, env
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None
        self.idle = 0.0  # seconds /healthz takes on the idle server (wait_ready measures it)

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
        # Its own process group, so that stop() ends the master and every worker together.
        self.process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **self.env}, start_new_session=True
        )

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
                    self.idle = min(self.healthz() for _ in range(5))
                    return
            time.sleep(0.2)
        raise SystemExit(f"{self.app} did not come up on {self.url}")

    def healthz(self, timeout: float = 30) -> float:
        """Seconds /healthz takes to answer 200 (`timeout` when it does not)."""
        asked = time.monotonic()
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(self.url + "/healthz", timeout=timeout) as response,
        ):
            if response.status == 200:
                return time.monotonic() - asked
        return timeout

    def drain(self, timeout: float = 30) -> float:
        """Wait until /healthz answers as fast as on the idle server (within 50 ms or 3 x its
        idle time; at most `timeout`): sync workers still serve the requests a finished wrk run
        left queued, which would slow the next run. Returns the seconds waited."""
        fast = max(0.05, 3 * self.idle)
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.healthz(timeout) < fast:
                break
            time.sleep(0.05)
        return time.monotonic() - started

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
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):  # the group is gone already
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def free_port() -> int:
    """A port nobody listens on now (the kernel's pick), for one server."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wrk_script(
    scenario: Scenario, label: str, tmp: Path, pairs_file: Path, token: str
) -> tuple[Path, list[str]]:
    call = scenario.calls[label]
    if scenario.kind == "workflow":
        return HERE / "workflow.lua", [str(pairs_file), token, label]
    body = "-"
    if call.body is not None:
        body_file = tmp / f"{scenario.name.replace(' ', '_')}-{label}.body"
        body_file.write_bytes(call.encoded())
        body = str(body_file)
    return HERE / "request.lua", [
        call.method,
        body,
        token if call.auth else "-",
        call.content_type or "application/json",
    ]


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
