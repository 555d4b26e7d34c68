"""inventory-control/warehouse over HTTP: contract section 5, and the section 10 statuses it
answers. (Deleting a warehouse that holds part inventory is tested with part inventory.)"""

from functools import partial

import pytest
from django.db import IntegrityError, connection, transaction

from config.api import identity
from inventory import services
from inventory.models import Warehouse
from tests.support.errors import assert_error, assert_rules, err, invalid, required
from tests.support.parallel import run_together
from tests.support.refs import audit, created, ref
from tests.support.users import forced_client, make_user

WAREHOUSES = "/objects/inventory-control/warehouse"


def state():
    return list(Warehouse.objects.order_by("pk").values())


@pytest.fixture
def main_wh(admin_user):
    return services.warehouse_create(user=admin_user, code="WH-MAIN", name="Main warehouse")


def test_create_get_patch_delete(api, admin_user):
    response = api.post(WAREHOUSES, {"id": "WH-1", "name": "Main"}, format="json")

    warehouse = Warehouse.objects.get()
    assert response.status_code == 201
    assert response.json() == created(warehouse)
    assert (
        response["Location"]
        == identity.href(warehouse)
        == f"/objects/inventory-control/warehouse/{warehouse.pk}"
    )
    assert response["ETag"] == '"1"'
    assert (warehouse.code, warehouse.name, warehouse.status, warehouse.version) == (
        "WH-1",
        "Main",
        "active",
        1,
    )

    got = api.get(identity.href(warehouse))
    assert got.status_code == 200
    assert got["ETag"] == '"1"'
    assert got.json() == {
        "ia::result": {
            "key": str(warehouse.pk),
            "id": "WH-1",
            "name": "Main",
            "status": "active",
            "inventoryAvailable": True,
            "audit": audit(warehouse, admin_user),
            "href": identity.href(warehouse),
        },
        "ia::meta": {"totalCount": 1, "totalSuccess": 1, "totalError": 0},
    }

    patched = api.patch(
        identity.href(warehouse), {"name": "Main store", "status": "inactive"}, format="json"
    )
    assert patched.status_code == 200
    assert patched.json() == created(warehouse)
    assert patched["ETag"] == '"2"'
    warehouse.refresh_from_db()
    assert (warehouse.code, warehouse.name, warehouse.status, warehouse.version) == (
        "WH-1",
        "Main store",
        "inactive",
        2,
    )

    deleted = api.delete(identity.href(warehouse))
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert not Warehouse.objects.exists()


def test_create_with_status(api):
    response = api.post(
        WAREHOUSES, {"id": "WH-2", "name": "Old", "status": "inactive"}, format="json"
    )
    assert response.status_code == 201
    assert Warehouse.objects.get().status == "inactive"


def test_patch_what_get_returned(api, main_wh):
    got = api.get(identity.href(main_wh)).json()["ia::result"]
    got["name"] = "Renamed"
    assert api.patch(identity.href(main_wh), got, format="json").status_code == 200
    main_wh.refresh_from_db()
    assert (main_wh.code, main_wh.name) == ("WH-MAIN", "Renamed")


def test_patch_id_to_a_free_value(api, main_wh):
    assert api.patch(identity.href(main_wh), {"id": "WH-NEW"}, format="json").status_code == 200
    main_wh.refresh_from_db()
    assert main_wh.code == "WH-NEW"


def test_empty_object_names_both_required_fields(api):
    assert_rules(api.post(WAREHOUSES, {}, format="json"), required("id"), required("name"))
    assert not Warehouse.objects.exists()


@pytest.mark.parametrize("field", ["id", "name"])
@pytest.mark.parametrize("value", ["missing", None, "", "   "])
def test_each_required_field(api, field, value):
    body = {"id": "WH", "name": "W"}
    if value == "missing":
        del body[field]
    else:
        body[field] = value
    assert_rules(api.post(WAREHOUSES, body, format="json"), required(field))
    assert not Warehouse.objects.exists()


@pytest.mark.parametrize("value", [None, "", "  "])
def test_patch_cannot_blank_required_fields(api, main_wh, value):
    before = state()
    response = api.patch(identity.href(main_wh), {"id": value, "name": value}, format="json")
    assert_rules(response, required("id"), required("name"))
    assert state() == before


@pytest.mark.parametrize(("field", "limit"), [("id", 30), ("name", 100)])
def test_length_limits(api, field, limit):
    body = {"id": "WH", "name": "W", field: "x" * (limit + 1)}
    assert_rules(
        api.post(WAREHOUSES, body, format="json"),
        invalid(field, f"Ensure this field has no more than {limit} characters."),
    )
    assert not Warehouse.objects.exists()
    body[field] = "x" * limit
    assert api.post(WAREHOUSES, body, format="json").status_code == 201


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"status": "closed"}, "status", '"closed" is not a valid choice.'),
        ({"id": 7}, "id", "Not a valid string."),
        ({"name": {"en": "Main"}}, "name", "Not a valid string."),
    ],
)
def test_bad_values(api, body, field, reason):
    response = api.post(WAREHOUSES, {"id": "WH", "name": "W", **body}, format="json")
    assert_rules(response, invalid(field, reason))
    assert not Warehouse.objects.exists()


def duplicate(code):
    return err(
        "KS-4091",
        f"inventory-control/warehouse with id {code} already exists",
        "id",
        OBJECT="inventory-control/warehouse",
        FIELD="id",
        VALUE=code,
    )


def test_duplicate_id_is_409(api, main_wh):
    before = state()
    response = api.post(WAREHOUSES, {"id": "WH-MAIN", "name": "Again"}, format="json")
    assert_error(response, 409, duplicate("WH-MAIN"))
    assert state() == before


def test_patch_to_a_taken_id_is_409(api, admin_user, main_wh):
    other = services.warehouse_create(user=admin_user, code="WH-2", name="Second")
    before = state()
    response = api.patch(identity.href(other), {"id": "WH-MAIN"}, format="json")
    assert_error(response, 409, duplicate("WH-MAIN"))
    assert state() == before


def test_patch_id_unchanged_is_fine(api, main_wh):
    response = api.patch(
        identity.href(main_wh), {"id": "WH-MAIN", "name": "Same id"}, format="json"
    )
    assert response.status_code == 200
    main_wh.refresh_from_db()
    assert (main_wh.code, main_wh.name, main_wh.version) == ("WH-MAIN", "Same id", 2)


def test_unknown_field_is_400(api, main_wh):
    before = state()
    response = api.patch(identity.href(main_wh), {"address": "1 Main St"}, format="json")
    assert_error(
        response,
        400,
        err("REST-1064", "Payload contains errors"),
        [err("REST-1043", "/address is not a valid field", "/address", FIELD="/address")],
    )
    assert state() == before


@pytest.mark.parametrize("key", ["424242", "WH-MAIN"])
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_key_is_404(api, main_wh, key, method):
    before = state()
    response = getattr(api, method)(f"{WAREHOUSES}/{key}", {"name": "x"}, format="json")
    assert_error(
        response,
        404,
        err(
            "KS-4041",
            f"inventory-control/warehouse with key {key} was not found",
            OBJECT="inventory-control/warehouse",
            KEY=key,
        ),
    )
    assert state() == before


def test_stale_if_match_is_412(api, main_wh):
    before = state()
    response = api.delete(identity.href(main_wh), HTTP_IF_MATCH='"3"')
    assert_error(
        response,
        412,
        err(
            "KS-4121",
            'If-Match "3" does not match the current version "1"',
            GIVEN='"3"',
            CURRENT='"1"',
        ),
    )
    assert state() == before


def test_missing_payload_and_media_type(api, main_wh):
    assert_error(
        api.post(WAREHOUSES, content_type="application/json"),
        400,
        err("REST-1028", "A POST request requires a payload", METHOD="POST"),
    )
    assert_error(
        api.post(WAREHOUSES, data="<warehouse/>", content_type="application/xml"),
        415,
        err(
            "KS-4151",
            "Content type application/xml is not supported: send application/json",
            TYPE="application/xml",
        ),
    )
    assert Warehouse.objects.count() == 1


def test_put_is_405(api, main_wh):
    response = api.put(identity.href(main_wh), {"name": "x"}, format="json")
    assert_error(
        response,
        405,
        err(
            "KS-4051",
            f"Method PUT is not allowed on {identity.href(main_wh)}",
            METHOD="PUT",
            PATH=identity.href(main_wh),
        ),
    )


def test_permissions(client, client_for, main_wh):
    assert_error(
        client.get(WAREHOUSES), 401, err("KS-4011", "Authentication credentials were not provided")
    )
    reader = client_for(make_user("reader", "inventory.view_warehouse"))
    before = state()
    assert reader.get(identity.href(main_wh)).status_code == 200
    forbidden = err("KS-4031", "You do not have permission to perform this action")
    assert_error(reader.post(WAREHOUSES, {"id": "X", "name": "X"}, format="json"), 403, forbidden)
    assert_error(reader.patch(identity.href(main_wh), {"name": "X"}, format="json"), 403, forbidden)
    assert_error(reader.delete(identity.href(main_wh)), 403, forbidden)
    assert state() == before


def test_list_and_filters(api, admin_user, main_wh):
    second = services.warehouse_create(
        user=admin_user, code="WH-2", name="Second", status="inactive"
    )
    page = api.get(WAREHOUSES).json()
    assert page == {
        "ia::result": [ref(main_wh), ref(second)],
        "ia::meta": {"totalCount": 2, "start": 1, "pageSize": 100, "next": None, "previous": None},
    }
    assert api.get(WAREHOUSES + "?status=inactive").json()["ia::result"] == [ref(second)]
    assert api.get(WAREHOUSES + "?id=WH-MAIN").json()["ia::result"] == [ref(main_wh)]
    assert api.get(WAREHOUSES + "?start=2&size=1").json() == {
        "ia::result": [ref(second)],
        "ia::meta": {"totalCount": 2, "start": 2, "pageSize": 1, "next": None, "previous": 1},
    }
    assert_error(
        api.get(WAREHOUSES + "?status=closed"),
        400,
        err(
            "KS-4003",
            "Query parameter status is invalid: not a valid value",
            "status",
            PARAMETER="status",
            REASON="not a valid value",
        ),
    )


# --- database constraints -----------------------------------------------------------------

WAREHOUSE_CONSTRAINT_CASES = {
    "warehouse_code_not_blank": {"code": ""},
    "warehouse_name_not_blank": {"name": ""},
}


def test_every_warehouse_constraint_has_a_case():
    assert {c.name for c in Warehouse._meta.constraints} == set(WAREHOUSE_CONSTRAINT_CASES)


@pytest.mark.parametrize(("constraint", "fields"), WAREHOUSE_CONSTRAINT_CASES.items())
def test_warehouse_check_constraints(db, constraint, fields):
    Warehouse.objects.create(code="Valid", name="Valid")
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        Warehouse.objects.create(**{"code": "C", "name": "N", **fields})
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        Warehouse.objects.filter(code="Valid").update(**fields)
    assert list(Warehouse.objects.values_list("code", "name")) == [("Valid", "Valid")]


def test_warehouse_id_unique_in_the_database(db):
    Warehouse.objects.create(code="Dup", name="One")
    with (
        pytest.raises(IntegrityError, match=r"inventory_warehouse_code|inventory_warehouse\.code"),
        transaction.atomic(),
    ):
        Warehouse.objects.create(code="Dup", name="Two")
    assert Warehouse.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_parallel_creates_and_renames_to_one_id_leave_one_holder(admin_user):
    """Four creates of WH-X and four renames of other warehouses to WH-X, all at once: one wins,
    the other seven get the same 409 the check would have given."""
    others = [
        services.warehouse_create(user=admin_user, code=f"WH-{i}", name=f"W{i}") for i in range(4)
    ]

    def attempt(i):
        client = forced_client(admin_user)
        if i < 4:
            response = client.post(WAREHOUSES, {"id": "WH-X", "name": "New"}, format="json")
        else:
            response = client.patch(identity.href(others[i - 4]), {"id": "WH-X"}, format="json")
        return response.status_code, response.json()["ia::result"]

    results = run_together([partial(attempt, i) for i in range(8)])

    winners = [status for status, _ in results if status in (200, 201)]
    conflicts = [result["ia::error"] for status, result in results if status == 409]
    assert (len(winners), len(conflicts)) == (1, 7)
    assert {(e["errorId"], e["message"]) for e in conflicts} == {
        ("KS-4091", "inventory-control/warehouse with id WH-X already exists")
    }
    assert Warehouse.objects.filter(code="WH-X").count() == 1
    assert Warehouse.objects.count() == 4 + (1 if winners == [201] else 0)
