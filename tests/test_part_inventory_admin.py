"""inventory-control/part-inventory in the admin: saves go through the services; the ledger is
read-only."""

import pytest

from inventory import services
from inventory.models import InventoryTransaction, PartInventory
from kitting.models import PartKit, Run
from tests.support.part_inventory import issue, ledger_of, make, snapshot
from tests.support.users import make_user

pytestmark = pytest.mark.django_db

# --- admin: saves through the services; the ledger is read-only ------------------------------

ADMIN_PI = "/admin/inventory/partinventory/"
ADMIN_LEDGER = "/admin/inventory/inventorytransaction/"


def pi_form(part, **overrides) -> dict:
    data = {
        "part": str(part.pk),
        "serial_number": "",
        "lot_number": "",
        "location": "",
        "quantity": "0",
        "cost": "",
        "_save": "Save",
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def test_admin_add_goes_through_the_service(admin_client, parts):
    response = admin_client.post(
        f"{ADMIN_PI}add/",
        pi_form(parts["masked"], autogenerate_serial_number="on", quantity="1"),
    )
    assert response.status_code == 302, response.content
    inventory = PartInventory.objects.get()
    assert (inventory.serial_number, inventory.quantity) == ("SN-00001", 1)
    assert ledger_of(inventory.pk) == [("create", 1, 0, 0, 1)]


def test_admin_rule_violation_is_a_field_error(admin_client, admin_user, parts):
    make(admin_user, parts["serial"], serial_number="S1")
    before = snapshot()
    response = admin_client.post(f"{ADMIN_PI}add/", pi_form(parts["lot"], serial_number="S1"))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors == {
        "serial_number": ["Serial number is not allowed: part Resin is lot-tracked"],
        "lot_number": ["Lot number is required"],
    }
    response = admin_client.post(
        f"{ADMIN_PI}add/", pi_form(parts["serial"], serial_number="S1", quantity="1")
    )
    assert response.context["adminform"].form.errors == {
        "serial_number": ["Part inventory with Serial number S1 for part Widget already exists"]
    }
    assert snapshot() == before


def test_admin_change_writes_an_adjust_row_and_keeps_the_part(admin_client, admin_user, parts):
    inventory = make(admin_user, parts["untracked"], quantity=3)
    response = admin_client.post(
        f"{ADMIN_PI}{inventory.pk}/change/",
        pi_form(parts["lot"], quantity="5"),  # `part` is read-only there: ignored
    )
    assert response.status_code == 302, response.content
    inventory.refresh_from_db()
    assert (inventory.part_id, inventory.quantity, inventory.version) == (
        parts["untracked"].pk,
        5,
        2,
    )
    assert ledger_of(inventory.pk) == [("create", 3, 0, 0, 3), ("adjust", 2, 0, 0, 5)]
    page = admin_client.get(f"{ADMIN_PI}{inventory.pk}/change/")
    assert page.status_code == 200
    assert "part" not in page.context["adminform"].form.fields


def test_admin_delete_goes_through_the_service(admin_client, admin_user, parts):
    kitted = make(admin_user, parts["untracked"], quantity=3)
    issue(kitted, PartKit.objects.create(run=Run.objects.create(code="R-1")), 1, admin_user)
    response = admin_client.post(f"{ADMIN_PI}{kitted.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert PartInventory.objects.filter(pk=kitted.pk).exists()
    assert [t for t, *_ in ledger_of(kitted.pk)] == ["create", "issue"]

    free = make(admin_user, parts["untracked"], quantity=2)
    response = admin_client.post(f"{ADMIN_PI}{free.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not PartInventory.objects.filter(pk=free.pk).exists()
    assert ledger_of(free.pk) == [("create", 2, 0, 0, 2), ("delete", -2, 0, 0, 0)]


def test_admin_ledger_is_read_only(admin_client, admin_user, parts):
    inventory = make(admin_user, parts["untracked"], quantity=2)
    services.part_inventory_delete(part_inventory_key=inventory.pk, user=admin_user)
    row = InventoryTransaction.objects.filter(type="create").get()
    assert admin_client.get(ADMIN_LEDGER).status_code == 200
    # A row of deleted inventory still shows.
    page = admin_client.get(f"{ADMIN_LEDGER}{row.pk}/change/")
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert admin_client.get(f"{ADMIN_LEDGER}add/").status_code == 403
    assert (
        admin_client.post(f"{ADMIN_LEDGER}{row.pk}/change/", {"quantity": "9"}).status_code == 403
    )
    assert admin_client.post(f"{ADMIN_LEDGER}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert (
        InventoryTransaction.objects.filter(pk=row.pk).values_list("quantity", flat=True).get() == 2
    )


def test_admin_pages_render(admin_client, admin_user, parts):
    inventory = make(admin_user, parts["serial"], serial_number="S1", quantity=1)
    for url in (
        ADMIN_PI,
        f"{ADMIN_PI}add/",
        f"{ADMIN_PI}{inventory.pk}/change/",
        f"{ADMIN_PI}?q=S1",
    ):
        assert admin_client.get(url).status_code == 200, url


# --- admin: adjust and split actions, through their services (contract 15.4, 15.5) -----------


def test_admin_adjust_action_shows_its_form_then_adjusts_each_selected(
    admin_client, admin_user, parts, shelf
):
    first = make(admin_user, parts["lot"], lot_number="A", quantity=5)
    second = make(admin_user, parts["lot"], lot_number="B", quantity=2)
    selected = {"action": "adjust", "_selected_action": [str(first.pk), str(second.pk)]}
    page = admin_client.post(ADMIN_PI, selected)
    assert page.status_code == 200
    assert b'name="reason"' in page.content and b'name="apply"' in page.content
    data = {**selected, "apply": "1", "type": "transfer", "location": str(shelf.pk)}
    response = admin_client.post(ADMIN_PI, {**data, "reason": "moved to the shelf"})
    assert response.status_code == 302
    assert list(PartInventory.objects.order_by("pk").values_list("location", flat=True)) == [
        shelf.pk,
        shelf.pk,
    ]
    row = InventoryTransaction.objects.filter(part_inventory_id=first.pk).latest("pk")
    assert (row.type, row.quantity, row.reason, row.from_location_id, row.to_location_id) == (
        "transfer",
        0,
        "moved to the shelf",
        None,
        shelf.pk,
    )
    # A scrap of 3 from each: the second has 2; each refusal is a message, the rest is done.
    scrap = {**selected, "apply": "1", "type": "scrap", "quantity": "3", "reason": "damaged"}
    response = admin_client.post(ADMIN_PI, scrap, follow=True)
    shown = [str(message) for message in response.context["messages"]]
    assert shown[-2:] == [
        f"Adjust part inventory: part inventory {first.pk}",
        f"Part inventory {second.pk}: Cannot scrap 3: part inventory {second.pk} has 2 on hand",
    ]
    assert ledger_of(first.pk)[-1] == ("scrap", -3, 0, 0, 2)
    assert ledger_of(second.pk)[-1] == ("transfer", 0, 0, 0, 2)


def test_admin_split_action(admin_client, admin_user, parts):
    lot = make(admin_user, parts["lot"], lot_number="A", quantity=5)
    data = {"action": "split", "_selected_action": [str(lot.pk)], "apply": "1", "quantity": "2"}
    assert admin_client.post(ADMIN_PI, data).status_code == 302
    new = PartInventory.objects.get(origin_part_inventory=lot)
    assert (new.lot_number, new.quantity, PartInventory.objects.get(pk=lot.pk).quantity) == (
        "A",
        2,
        3,
    )
    assert ledger_of(new.pk) == [("split", 2, 0, 0, 2)]


def test_admin_stock_actions_need_the_change_permission(client, admin_user, parts):
    viewer = make_user("viewer", "inventory.view_partinventory")
    viewer.is_staff = True
    viewer.save()
    client.force_login(viewer)
    lot = make(admin_user, parts["lot"], lot_number="A", quantity=5)
    page = client.get(ADMIN_PI)
    assert page.status_code == 200
    assert b'value="adjust"' not in page.content and b'value="split"' not in page.content
    data = {"action": "split", "_selected_action": [str(lot.pk)], "apply": "1", "quantity": "2"}
    client.post(ADMIN_PI, data)
    assert PartInventory.objects.count() == 1
