"""`make run`'s steps: a taken port stops it before anything changes, and a second start keeps the
admin password and the API client (`make demo-reset` sets new ones)."""

import re
import socket
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from oauth2_provider.models import get_application_model

pytestmark = pytest.mark.django_db


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def credentials():
    admin = get_user_model().objects.get(username="admin")
    clients = get_application_model().objects.filter(user=admin).order_by("pk")
    return admin.password, [(each.client_id, each.client_secret) for each in clients]


def test_a_second_start_keeps_the_password_and_the_client():
    first = seed()
    password = re.search(r"password (\S+)", first).group(1)
    client_id = re.search(r"client_id (\S+)", first).group(1)
    stored = credentials()
    assert [each[0] for each in stored[1]] == [client_id]

    again = seed()
    assert credentials() == stored
    assert get_user_model().objects.get(username="admin").check_password(password)
    kept = "unchanged (printed by the first `make run`; `make demo-reset` sets a new one)"
    assert f"user admin / password {kept}" in again
    assert f"client_id {client_id}\n" in again
    assert f"client_secret {kept}" in again
    assert password not in again


def test_demo_reset_sets_a_new_password_and_client():
    seed()
    before_hash, [(before_id, _)] = credentials()
    out = seed("--reset")
    password = re.search(r"password (\S+)", out).group(1)
    after_hash, [(after_id, _)] = credentials()
    assert after_hash != before_hash and after_id != before_id
    assert get_user_model().objects.get(username="admin").check_password(password)
    assert f"client_id {after_id}\n" in out


def test_a_taken_port_fails_before_anything_changes():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError) as refused:
            call_command("port_free", "127.0.0.1", str(port))
    assert str(refused.value) == (
        f"Port {port} on 127.0.0.1 is taken (Address already in use): nothing was started or "
        "changed. Stop what is serving there, or `make run PORT=...`."
    )
    # Free again once the listener is gone.
    call_command("port_free", "127.0.0.1", str(port))


def test_the_port_check_is_server_tooling():
    # ops's, not a domain app's.
    assert get_commands()["port_free"] == "ops"


def test_make_run_checks_the_port_before_migrating():
    with open("Makefile") as makefile:
        recipe = makefile.read().split("\nrun: install\n")[1].split("\n\n")[0]
    steps = [
        line.split("manage.py ")[1].split()[0]
        for line in recipe.splitlines()
        if "manage.py" in line
    ]
    assert steps == ["port_free", "migrate", "seed_demo"]
