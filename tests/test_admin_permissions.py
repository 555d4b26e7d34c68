"""Admin actions declare their permissions: a view-only staff user cannot run them."""

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from inventory.models import Item, PartInventory
from kitting.admin import RunAdmin
from kitting.models import Run
from tests.support.factories import build_location

RUNS = "/admin/kitting/run/"


@pytest.fixture
def buildable_run(db):
    part = Item.objects.create(code="Widget", name="Widget", item_type="inventory")
    return Run.objects.create(code="RUN-1", part=part, quantity=2)


def staff_with(*codenames: str) -> Client:
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


def complete(client: Client, run: Run):
    """The action's two steps: choose it, then say where to build."""
    chosen = {"action": "complete_runs", "_selected_action": [run.pk]}
    asked = client.post(RUNS, chosen, follow=True)
    if b'name="apply"' not in asked.content:
        return asked  # refused before the form
    where = build_location(None)
    return client.post(RUNS, {**chosen, "apply": "1", "location": where.pk}, follow=True)


def test_a_view_only_staff_user_cannot_complete_a_run(buildable_run):
    client = staff_with("view_run")
    assert client.get(RUNS).status_code == 200
    response = complete(client, buildable_run)
    assert response.status_code == 200
    run = Run.objects.get(pk=buildable_run.pk)
    assert (run.status, run.version) == ("todo", 1)
    assert not PartInventory.objects.exists()
    # The action is not even offered.
    assert "complete_runs" not in response.context["cl"].model_admin.get_actions(
        response.wsgi_request
    )


def test_a_staff_user_who_may_change_runs_completes_one(buildable_run):
    client = staff_with("view_run", "change_run")
    complete(client, buildable_run)
    assert Run.objects.get(pk=buildable_run.pk).status == "complete"
    assert PartInventory.objects.get().quantity == 2


def test_every_admin_action_declares_its_permissions():
    from django.contrib import admin

    for model_admin in admin.site._registry.values():
        for action in model_admin.actions or ():
            if callable(action):
                assert getattr(action, "allowed_permissions", None), (model_admin, action)
    assert RunAdmin.actions
