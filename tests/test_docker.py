"""What can be checked of the image without a Docker engine: the HEALTHCHECK command against a
real server, the entrypoint script, and the compose file's wiring. (hadolint runs in make test.)"""

import base64
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
import requests
import yaml

from tests.support.proxy import ENTRYPOINT, entrypoint_server, production_environment
from tests.support.server import free_port

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def healthcheck_command() -> list[str]:
    joined = re.sub(r"\\\n\s*", "", DOCKERFILE)
    (exec_form,) = re.findall(r"^HEALTHCHECK .*?CMD (\[.*\])$", joined, flags=re.MULTILINE)
    command = json.loads(exec_form)
    assert command[0] == "python"
    return [sys.executable, *command[1:]]


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


def run_entrypoint(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = production_environment(f"sqlite:///{tmp_path / 'db.sqlite3'}", free_port())
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def tables(tmp_path) -> list[str]:
    with closing(sqlite3.connect(tmp_path / "db.sqlite3")) as db:
        return [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]


def test_serving_does_not_migrate(tmp_path):
    """Replicas starting together must not race to migrate: `serve` only serves."""
    with entrypoint_server(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}", workers=1) as url:
        assert requests.get(f"{url}/healthz", timeout=30).status_code == 200
    assert tables(tmp_path) == []


def test_migrate_is_a_command_of_its_own_and_any_other_goes_to_manage_py(tmp_path):
    assert 'ENTRYPOINT ["kitsmith-entrypoint"]' in DOCKERFILE
    assert 'CMD ["serve"]' in DOCKERFILE
    assert "COPY docker/entrypoint.sh /usr/local/bin/kitsmith-entrypoint" in DOCKERFILE
    migrated = run_entrypoint(tmp_path, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "django_migrations" in tables(tmp_path)
    plan = run_entrypoint(tmp_path, "showmigrations", "--plan")
    assert plan.returncode == 0, plan.stderr
    assert "[X]  kitting." in plan.stdout and "[ ]" not in plan.stdout
    # migrate waits for the locks it needs (the compose file's one-off step).
    migrate_branch = ENTRYPOINT.read_text().split("migrate)")[1].split(";;")[0]
    assert (
        "LOCK_TIMEOUT_MS=0 STATEMENT_TIMEOUT_MS=0 exec python manage.py migrate" in migrate_branch
    )


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


def test_workers_metric_files_are_in_memory_not_on_the_overlay():
    assert image_environment()["PROMETHEUS_MULTIPROC_DIR"] == "/dev/shm/kitsmith-metrics"


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


def instructions() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments left out."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line for line in joined.splitlines() if line and not line.startswith("#")]


def test_dependencies_are_installed_before_the_code_is_copied(tmp_path):
    """A change of the code rebuilds from its COPY on; the dependency layer stays cached."""
    import tomllib

    steps = instructions()
    (deps,) = [i for i, step in enumerate(steps) if "pip install --no-cache-dir -r" in step]
    (project,) = [
        i for i, step in enumerate(steps) if "pip install --no-cache-dir --no-deps ." in step
    ]
    copies = [i for i, step in enumerate(steps) if step.startswith("COPY ")]
    assert [steps[i] for i in copies if i < deps] == ["COPY pyproject.toml ./"]
    assert deps < min(i for i in copies if i > deps) < project
    # The dependency list is pyproject.toml's, pins included (the step run as the build runs it).
    (program,) = re.findall(r'python -c "(.*?)" > /tmp/requirements.txt', steps[deps])
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    listed = subprocess.run(
        [sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    pinned = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert listed == pinned
    assert all("==" in requirement for requirement in listed)


def test_collected_static_files_have_hashed_names_and_every_page_loads_them(tmp_path):
    """The image's collectstatic (STATIC_MANIFEST=1), then its server: the admin, Swagger and
    GraphiQL pages name content-hashed files, served for ever-caching, GraphiQL's with the
    integrity its page declares."""
    root = tmp_path / "static"
    env = {"STATIC_MANIFEST": image_environment()["STATIC_MANIFEST"], "STATIC_ROOT": str(root)}
    assert env["STATIC_MANIFEST"] == "1"
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env={**production_environment("sqlite://", free_port()), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collect.returncode == 0, collect.stderr
    assert (root / "staticfiles.json").exists()
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    with entrypoint_server(tmp_path, database, workers=1, env=env) as url:
        pages = {
            "/admin/login/": "admin/css/base.",
            "/api/docs/": "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.",
            "/graphql": "graphiql/graphiql.min.",
        }
        for page, expected in pages.items():
            html = requests.get(url + page, headers={"Accept": "text/html"}, timeout=30)
            assert html.status_code == 200, page
            assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', html.text)
            assert any(asset.startswith("/static/" + expected) for asset in assets), page
            for asset in assets:
                assert re.search(r"\.[0-9a-f]{12}\.\w+$", asset), asset
                answer = requests.get(url + asset, timeout=30)
                assert answer.status_code == 200, asset
                assert "immutable" in answer.headers["Cache-Control"], asset
        graphiql = requests.get(url + "/graphql", headers={"Accept": "text/html"}, timeout=30).text
        declared = re.findall(
            r'(?:href|src)="(/static/[^"]+)"\s+integrity="sha384-([^"]+)"', graphiql
        )
        assert len(declared) == 4
        for asset, digest in declared:
            content = requests.get(url + asset, timeout=30).content
            assert base64.b64encode(hashlib.sha384(content).digest()).decode() == digest, asset


COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"


def compose_config(env_file: Path, **environment: str) -> subprocess.CompletedProcess:
    """`docker-compose config` (Debian's docker-compose, .ci/run installs it): the file checked
    against the Compose schema and every variable interpolated, as `docker compose up` would."""
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose is not installed: apt-get install docker-compose (.ci/run)")
    return subprocess.run(
        [binary, "--file", str(COMPOSE), "--env-file", str(env_file), "config"],
        cwd=ROOT,
        # Nothing from the test's own environment (DATABASE_URL, SECRET_KEY...) leaks in.
        env={"PATH": os.environ["PATH"], **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )


def example_variables() -> dict[str, str]:
    lines = ENV_EXAMPLE.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def filled_env_file(tmp_path, **values: str) -> Path:
    """.env.example with values filled in, as an operator's .env."""
    variables = {**example_variables(), **values}
    path = tmp_path / ".env"
    path.write_text("".join(f"{name}={value}\n" for name, value in variables.items()))
    return path


def test_the_env_example_names_every_variable_the_compose_file_reads():
    read = set(re.findall(r"\$\{(\w+)", COMPOSE.read_text()))
    assert read == set(example_variables())


def test_compose_refuses_to_run_without_a_secret_key(tmp_path):
    for missing in ("SECRET_KEY", "POSTGRES_PASSWORD"):
        values = {"SECRET_KEY": "k" * 50, "POSTGRES_PASSWORD": "pw", missing: ""}
        result = compose_config(filled_env_file(tmp_path, **values))
        assert result.returncode != 0
        assert f"set {missing} in .env" in result.stderr


def test_compose_runs_a_proxy_in_front_of_replicas_with_migrations_first(tmp_path):
    env_file = filled_env_file(tmp_path, SECRET_KEY="k" * 50, POSTGRES_PASSWORD="pw")
    result = compose_config(env_file)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert set(services) == {"proxy", "app", "migrate", "db", "redis"}
    proxy, app, migrate = services["proxy"], services["app"], services["migrate"]

    # The proxy alone is published; it serves docker/nginx.conf with its included files.
    assert proxy["ports"] == [{"published": 8000, "target": 8080}]
    assert "ports" not in app and "ports" not in migrate
    assert sorted(volume.split(":", 1)[1] for volume in proxy["volumes"]) == [
        "/etc/nginx/kitsmith:ro",
        "/etc/nginx/nginx.conf:ro",
    ]
    assert (ROOT / "docker" / "nginx" / "upstream.conf").read_text().count("server app:8000;") == 1
    assert (ROOT / "docker" / "nginx" / "listen.conf").read_text() == "listen 8080;\n"
    assert proxy["depends_on"] == {"app": {"condition": "service_healthy"}}

    # Replicas start once the one-off migrate step has finished, and never migrate themselves.
    assert app["deploy"]["replicas"] == 2
    assert app["command"] == ["serve"] and migrate["command"] == ["migrate"]
    assert migrate["restart"] == "no"
    assert app["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"},
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert app["image"] == migrate["image"] == "kitsmith:latest"

    environment = app["environment"]
    assert environment == migrate["environment"]
    assert environment["SECRET_KEY"] == "k" * 50
    assert environment["DATABASE_URL"] == "postgres://kitsmith:pw@db:5432/kitsmith"
    assert services["db"]["environment"]["POSTGRES_PASSWORD"] == "pw"
    assert environment["REDIS_URL"] == "redis://redis:6379/0"
    assert (environment["DEBUG"], environment["BEHIND_TLS_PROXY"]) == ("0", "1")
    # X-Forwarded-For is believed from the proxy's network, the one every service is on.
    network = yaml.safe_load(result.stdout)["networks"]["backend"]
    assert environment["TRUSTED_PROXIES"] == network["ipam"]["config"][0]["subnet"]
    assert all(service["networks"] == {"backend": None} for service in services.values())
    # JSON lines by default; /metrics for staff only until a scraper's network is given.
    assert (environment["LOG_FORMAT"], environment["METRICS_ALLOWED_CIDRS"]) == ("json", "")
    # Each replica's HEALTHCHECK asks 127.0.0.1, which ALLOWED_HOSTS must admit.
    assert "127.0.0.1" in environment["ALLOWED_HOSTS"].split(",")


def test_replicas_and_port_come_from_the_env_file(tmp_path):
    env_file = filled_env_file(
        tmp_path, SECRET_KEY="k" * 50, POSTGRES_PASSWORD="pw", APP_REPLICAS="4", HTTP_PORT="80"
    )
    result = compose_config(env_file)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert services["app"]["deploy"]["replicas"] == 4
    assert services["proxy"]["ports"] == [{"published": 80, "target": 8080}]


def readme_configuration() -> list[str]:
    section = (ROOT / "README.md").read_text().split("\n## Configuration\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    return re.findall(r"^\| `([A-Z_]+)` \|", section, flags=re.MULTILINE)


def test_every_configuration_variable_can_be_set_from_the_env_file(tmp_path):
    # Fixed by the image (collected static files) or per gunicorn start, not by an operator.
    image = {"STATIC_MANIFEST", "STATIC_ROOT", "PROMETHEUS_MULTIPROC_DIR"}
    # Fixed by the compose file itself: the services' addresses, production mode, the proxy.
    compose = {"DATABASE_URL", "REDIS_URL", "DEBUG", "BEHIND_TLS_PROXY", "TRUSTED_PROXIES"}
    settable = [name for name in readme_configuration() if name not in image | compose]
    values = {name: f"set-{n}" for n, name in enumerate(settable)}
    env_file = filled_env_file(tmp_path, **{"POSTGRES_PASSWORD": "pw", **values})
    result = compose_config(env_file)
    assert result.returncode == 0, result.stderr
    environment = yaml.safe_load(result.stdout)["services"]["app"]["environment"]
    assert {name: environment.get(name) for name in settable} == values
    assert compose <= set(environment)


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
