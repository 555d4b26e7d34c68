"""Compiled queries (config.api.compiled, config.api.query.plans): the SQL is compiled once per
shape, later runs give what the queryset itself gives, and what cannot be compiled is refused
or falls back to the usual path. The suite runs with COMPILED_QUERY_CHECKS on, so every request
elsewhere also compares each plan with the queryset compiled as usual."""

import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections, transaction
from django.db.models import F
from django.db.models.signals import post_save
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from config.api.compiled import (
    CompiledInsert,
    CompiledQuery,
    CompiledUpdate,
    NotCompilable,
    compile_plan,
    marker,
)
from config.api.compiled import db as compiled_db
from inventory import services as inventory_services
from inventory.models import Item, Warehouse
from kitcomponents import services as kit_services

pytestmark = pytest.mark.django_db


def make_items(user, codes):
    return [
        inventory_services.item_create(
            user=user, code=code, name=f"Item {code}", item_type="inventory"
        )
        for code in codes
    ]


BY_CODE = CompiledQuery(
    lambda code: Item.objects.filter(code=code).values_list("pk", "code", "standard_cost"),
    code=str,
)
ABOVE = CompiledQuery(
    lambda key: Item.objects.filter(pk__gt=key).order_by("pk").values_list("pk", "code"),
    key=int,
)


def test_compiled_query_gives_what_the_queryset_gives(admin_user):
    items = make_items(admin_user, ["A", "B", "C", "D"])
    assert BY_CODE.rows(code="B") == list(
        Item.objects.filter(code="B").values_list("pk", "code", "standard_cost")
    )
    assert BY_CODE.rows(code="nothing") == []
    first = items[0].pk
    assert ABOVE.rows(key=first) == [(i.pk, i.code) for i in items[1:]]
    assert ABOVE.count(key=first) == 3
    assert ABOVE.page(key=first, offset=1, limit=1) == [(items[2].pk, "C")]


def test_compiled_query_runs_one_statement_per_call(admin_user):
    make_items(admin_user, ["A"])
    BY_CODE.rows(code="A")  # compiled here
    with CaptureQueriesContext(connection) as ctx:
        BY_CODE.rows(code="A")
        BY_CODE.rows(code="B")
    assert len(ctx.captured_queries) == 2
    assert ctx.captured_queries[0]["sql"].count("inventory_item") >= 1


def test_a_value_django_rewrites_is_refused():
    # `contains` wraps its value in % signs: the marker is not found in the SQL.
    rewritten = CompiledQuery(
        lambda name: Item.objects.filter(name__contains=name).values_list("pk"), name=str
    )
    with pytest.raises(ImproperlyConfigured, match="rewritten"):
        rewritten.rows(name="x")


def test_compile_plan_refuses_a_query_without_sql():
    with pytest.raises(NotCompilable):
        compile_plan(Item.objects.filter(pk__in=[]).values_list("pk"), [])


def test_markers_differ_from_each_other_and_keep_the_type():
    import datetime as dt
    from decimal import Decimal

    for sample in ("x", 5, Decimal("1.5"), dt.date(2024, 1, 1), dt.datetime(2024, 1, 1, 12)):
        first, second = marker(0, sample), marker(1, sample)
        assert type(first) is type(sample) and first != second
    with pytest.raises(NotCompilable):
        marker(0, True)


def test_checks_catch_a_plan_that_differs(admin_user, settings):
    make_items(admin_user, ["A"])
    swapped = CompiledQuery(lambda code: Item.objects.filter(code=code).values_list("pk"), code=str)
    swapped.rows(code="A")
    plans = connections["default"]._compiled_queries[swapped]
    plan = plans["rows"]
    broken = type(plan)(
        plan.sql.replace("=", "<>"), plan.params, plan.slots, plan.names, None, plan.compiler
    )
    plans["rows"] = broken
    with pytest.raises(AssertionError, match="compiled plan differs"):
        swapped.rows(code="A")
    settings.COMPILED_QUERY_CHECKS = False
    assert swapped.rows(code="A") == []  # unchecked, the broken plan would run as it is


# --- query-service plans ----------------------------------------------------------------------
QUERY = "/services/core/query"


def query(api, filters, **body):
    response = api.post(
        QUERY,
        {"object": "inventory-control/item", "fields": ["id"], "filters": filters, **body},
        format="json",
    )
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["ia::result"]], response.json()["ia::meta"]


def test_requests_of_one_shape_share_a_plan(api, admin_user):
    make_items(admin_user, ["A", "B", "C"])
    connections["default"].__dict__.pop("_query_plans", None)
    assert query(api, [{"$eq": {"id": "A"}}])[0] == ["A"]
    assert query(api, [{"$eq": {"id": "C"}}])[0] == ["C"]
    assert query(api, [{"$eq": {"id": "nothing"}}])[0] == []
    assert len(connections["default"]._query_plans) == 1
    # Another page is another shape.
    ids, meta = query(api, [{"$in": {"id": ["A", "B", "C"]}}], start=2, size=1)
    assert ids == ["B"] and meta["totalCount"] == 3
    assert len(connections["default"]._query_plans) == 2


def test_values_that_change_the_sql_get_their_own_plans(api, admin_user):
    make_items(admin_user, ["A", "B"])
    # IN drops repeated values; "" and null are conditions of their own.
    assert query(api, [{"$in": {"id": ["A", "B"]}}])[0] == ["A", "B"]
    assert query(api, [{"$in": {"id": ["A", "A"]}}])[0] == ["A"]
    assert query(api, [{"$eq": {"extendedDescription": None}}])[0] == []
    assert query(api, [{"$ne": {"extendedDescription": None}}])[0] == ["A", "B"]
    assert query(api, [{"$eq": {"extendedDescription": ""}}])[0] == ["A", "B"]
    assert query(api, [{"$contains": {"name": ""}}])[0] == ["A", "B"]
    assert query(api, [{"$contains": {"name": "B"}}])[0] == ["B"]
    assert query(api, [{"$startsWith": {"id": "B"}}])[0] == ["B"]


def test_filters_a_plan_cannot_hold_still_answer(api, admin_user):
    make_items(admin_user, ["A", "B"])
    # A list lookup ($has) is a subquery: not compiled, run as before.
    ids, meta = query(api, [{"$has": {"kitComponents": "1"}}])
    assert ids == [] and meta["totalCount"] == 0


def test_a_bad_value_is_still_a_clear_error(api, admin_user):
    make_items(admin_user, ["A"])
    query(api, [{"$gt": {"key": "1"}}])
    response = api.post(
        QUERY,
        {"object": "inventory-control/item", "fields": ["id"], "filters": [{"$gt": {"key": "x"}}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "ia::result": {
            "ia::error": {
                "code": "invalidRequest",
                "message": 'Invalid query: $gt on key takes a key (a string of digits), not "x"',
                "errorId": "KS-4008",
                "target": "/filters/0/$gt/key",
                "additionalInfo": {
                    "messageId": "KS.QUERY_INVALID_VALUE",
                    "placeholders": {
                        "OPERATOR": "$gt",
                        "FIELD": "key",
                        "EXPECTED": "a key (a string of digits)",
                        "VALUE": '"x"',
                    },
                    "propertySet": {},
                },
                "supportId": response["X-Request-Id"],
            }
        },
        "ia::meta": {"totalCount": 1, "totalSuccess": 0, "totalError": 1},
    }


# --- what the plans must keep from the ORM ------------------------------------------------------
ITEM_LOCK = CompiledQuery(lambda key: Item.objects.select_for_update().filter(pk=key), key=int)


def test_instances_belong_to_the_database_they_came_from(admin_user):
    (item,) = make_items(admin_user, ["A"])
    with transaction.atomic():
        found = ITEM_LOCK.first(key=item.pk)
    assert (found.pk, found.code, found._state.db, found._state.adding) == (
        item.pk,
        "A",
        "default",
        False,
    )


@pytest.mark.django_db(transaction=True)  # outside the test's own transaction
def test_a_lock_outside_a_transaction_is_refused_as_django_refuses_it(admin_user):
    (item,) = make_items(admin_user, ["A"])
    with transaction.atomic():
        ITEM_LOCK.first(key=item.pk)  # compiled inside a transaction, where Django allows it
    if connection.features.has_select_for_update:
        with pytest.raises(TransactionManagementError):
            ITEM_LOCK.first(key=item.pk)
    else:  # SQLite has no row locks: Django lets the query run, and so does the plan
        assert ITEM_LOCK.first(key=item.pk).pk == item.pk


def test_each_thread_keeps_its_own_plans(admin_user):
    make_items(admin_user, ["A"])
    BY_CODE.rows(code="A")
    seen = []
    thread = threading.Thread(target=lambda: seen.append(compiled_db()))
    thread.start()
    thread.join()
    assert seen[0] is not compiled_db()
    assert "_compiled_queries" not in seen[0].__dict__


def test_integer_filters_are_compiled_and_out_of_range_ones_still_answer(api, admin_user):
    kit = inventory_services.item_create(user=admin_user, code="K", name="K", item_type="kit")
    parts = make_items(admin_user, ["P1", "P2"])
    for part in parts:
        kit_services.kit_component_create(
            user=admin_user, kit=kit, component=part, number_of_units=1
        )
    connections["default"].__dict__.pop("_query_plans", None)

    def lines(filters):
        response = api.post(
            QUERY,
            {
                "object": "inventory-control/kit-component",
                "fields": ["component.id"],
                "filters": filters,
            },
            format="json",
        )
        assert response.status_code == 200, response.content
        return [row["component.id"] for row in response.json()["ia::result"]]

    assert lines([{"$eq": {"lineNumber": 2}}]) == ["P2"]
    assert lines([{"$eq": {"lineNumber": 1}}]) == ["P1"]
    plans = connections["default"]._query_plans
    assert len(plans) == 1 and None not in plans.values()  # one compiled plan for both
    # A negative number against a positive column: Django drops or empties the condition.
    assert lines([{"$gt": {"lineNumber": -1}}]) == ["P1", "P2"]
    assert lines([{"$eq": {"lineNumber": -1}}]) == []


def test_a_get_is_compiled_only_where_get_object_would_read_the_same_rows():
    from rest_framework.permissions import BasePermission

    from inventory.api.views import ItemViewSet, PartInventoryViewSet

    class ActiveItems(ItemViewSet):
        queryset = Item.objects.filter(status="active")

    class OwnerOnly(BasePermission):
        def has_object_permission(self, request, view, obj):
            return obj.created_by_id == request.user.pk

    class OwnItems(ItemViewSet):
        permission_classes = [OwnerOnly]

    assert ItemViewSet().compiled_detail() is not None
    assert ActiveItems().compiled_detail() is None  # another queryset: the serializer path
    assert OwnItems().compiled_detail() is None  # an object permission to check
    # Part inventory renders its runs by a method the registry cannot read: DRF renders it.
    assert PartInventoryViewSet().compiled_detail() is None


RENAME = CompiledUpdate(
    lambda key, name, actor: (
        Item.objects.filter(pk=key),
        {"name": name, "modified_by_id": actor, "version": F("version") + 1},
    ),
    key=int,
    name=str,
    actor=int,
)


def test_a_compiled_update_changes_what_queryset_update_changes(admin_user):
    first, second = make_items(admin_user, ["A", "B"])
    assert RENAME.run(key=first.pk, name="Renamed", actor=admin_user.pk) == 1
    assert RENAME.run(key=second.pk, name="Other", actor=None) == 1  # SET ... = NULL: its own plan
    assert RENAME.run(key=10**6, name="Nobody", actor=None) == 0
    assert list(Item.objects.order_by("pk").values_list("name", "modified_by_id", "version")) == [
        ("Renamed", admin_user.pk, 2),
        ("Other", None, 2),
    ]


WAREHOUSE_INSERT = CompiledInsert(Warehouse)


def test_a_compiled_insert_writes_what_save_writes(admin_user):
    compiled = Warehouse(code="W1", name="First", created_by=admin_user, modified_by=admin_user)
    WAREHOUSE_INSERT.save(compiled)
    saved = Warehouse(code="W2", name="Second", created_by=admin_user, modified_by=admin_user)
    saved.save(force_insert=True)
    assert compiled.pk is not None and compiled.pk != saved.pk
    assert (compiled._state.adding, compiled._state.db) == (False, "default")
    columns = ("code", "name", "status", "version", "created_by_id", "modified_by_id")
    assert list(Warehouse.objects.order_by("pk").values_list(*columns)) == [
        ("W1", "First", "active", 1, admin_user.pk, admin_user.pk),
        ("W2", "Second", "active", 1, admin_user.pk, admin_user.pk),
    ]
    stored = Warehouse.objects.get(pk=compiled.pk)
    assert stored.created_at == compiled.created_at and stored.modified_at == compiled.modified_at


def test_a_compiled_insert_leaves_signalled_models_to_save():
    seen = []

    def receiver(sender, instance, created, **kwargs):
        seen.append((instance.code, created))

    post_save.connect(receiver, sender=Warehouse)
    try:
        WAREHOUSE_INSERT.save(Warehouse(code="W1", name="First"))
    finally:
        post_save.disconnect(receiver, sender=Warehouse)
    assert seen == [("W1", True)]
