"""What can be checked of the image without a Docker engine: the HEALTHCHECK command against a
real server, the entrypoint script, and the compose file's wiring. (hadolint runs in make test.)"""

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def healthcheck_command() -> list[str]:
    joined = re.sub(r"\\\n\s*", "", DOCKERFILE)
    (exec_form,) = re.findall(r"^HEALTHCHECK .*?CMD (\[.*\])$", joined, flags=re.MULTILINE)
    command = json.loads(exec_form)
    assert command[0] == "python"
    return [sys.executable, *command[1:]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_healthcheck_passes_against_a_running_server(live_server):
    port = live_server.url.rsplit(":", 1)[1]
    result = subprocess.run(
        healthcheck_command(),
        env={**os.environ, "PORT": port},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


def test_healthcheck_fails_when_nothing_answers():
    result = subprocess.run(
        healthcheck_command(),
        env={**os.environ, "PORT": str(free_port())},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0


def test_entrypoint_migrates_then_execs_gunicorn():
    script = ROOT / "docker" / "entrypoint.sh"
    assert os.access(script, os.X_OK)
    assert subprocess.run(["sh", "-n", str(script)], capture_output=True).returncode == 0
    text = script.read_text()
    assert text.index("python manage.py migrate --noinput") < text.index("exec gunicorn")
    assert 'ENTRYPOINT ["kitsmith-entrypoint"]' in DOCKERFILE
    assert "COPY docker/entrypoint.sh /usr/local/bin/kitsmith-entrypoint" in DOCKERFILE


def test_compose_wires_the_app_to_a_healthy_postgres():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    db, app = compose["services"]["db"], compose["services"]["app"]
    assert db["image"] == "postgres:15"
    assert "pg_isready" in db["healthcheck"]["test"][1]
    assert app["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert app["environment"]["DATABASE_URL"].startswith("postgres://kitsmith:")
    assert app["environment"]["DATABASE_URL"].endswith("@db:5432/kitsmith")
    assert {"SECRET_KEY", "ALLOWED_HOSTS"} <= set(app["environment"])
    # The HEALTHCHECK asks 127.0.0.1, which ALLOWED_HOSTS must admit.
    assert "127.0.0.1" in app["environment"]["ALLOWED_HOSTS"]


def test_every_package_is_installed_and_copied_into_the_image():
    """A new app must reach the wheel (pyproject's package list) and the image (a COPY line), or
    the installed service fails at startup with ModuleNotFoundError."""
    import tomllib

    packages = sorted(
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in ("tests",)
    )
    assert "core" in packages
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    assert sorted(pattern.removesuffix("*") for pattern in include) == packages
    copied = re.findall(r"^COPY (\w+) \./(\w+)$", DOCKERFILE, flags=re.MULTILINE)
    assert sorted(source for source, target in copied if source == target) == packages


def image_environment() -> dict[str, str]:
    """The ENV the Dockerfile sets, as the container sees it."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    (line,) = re.findall(r"^ENV (.*)$", joined, flags=re.MULTILINE)
    return dict(pair.split("=", 1) for pair in line.split())


def test_check_deploy_with_the_images_settings_reports_nothing(tmp_path):
    # Contract 11: the image's production settings pass Django's and DOT's deploy checks.
    # The one silenced check (plaintext token storage) is what the refresh grace period needs.
    env = {
        "PATH": os.environ["PATH"],
        **image_environment(),
        "SECRET_KEY": "deploy-check-" + os.urandom(24).hex(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    assert env["DEBUG"] == "0"
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "System check identified no issues (1 silenced).\n",
        "",
    )


@pytest.mark.parametrize("name", ["LOCK_TIMEOUT_MS", "STATEMENT_TIMEOUT_MS"])
@pytest.mark.parametrize("value", ["-1", "30s"])
def test_a_database_timeout_must_be_milliseconds(name, value):
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], name: value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: "
        f"{name} must be 0 (no limit) or more milliseconds"
    )
