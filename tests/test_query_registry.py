"""How an object's queryable fields are derived from its serializer and its declaration."""

import dataclasses
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import BooleanField, ExpressionWrapper, F, Q
from django.db.models.functions import Upper
from rest_framework import serializers

from config.api import errors, spec
from config.api.fields import NumberField, StrictCharField
from config.api.query import Computed, Kind, registry
from config.api.query.registry import Registry
from config.api.query.run import query_page
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from inventory.models import Item
from kitcomponents import selectors as kit_selectors
from kitcomponents.api.item import ItemSerializer
from kitcomponents.api.serializers import KitComponentSerializer

ITEM = "inventory-control/item"
LINE = "inventory-control/kit-component"


def test_the_registered_objects_and_their_fields():
    assert {ITEM, LINE, "inventory-control/warehouse"} <= set(registry.names())
    item = registry.get(ITEM).fields
    assert {path: column.kind for path, column in item.columns.items()} == {
        "key": Kind.KEY,
        "id": Kind.STRING,
        "name": Kind.STRING,
        "status": Kind.STRING,
        "itemType": Kind.STRING,
        "costMethod": Kind.STRING,
        "unitOfMeasure": Kind.STRING,
        "extendedDescription": Kind.STRING,
        "purchasing.standardCost": Kind.NUMBER,
        "tracking.enableSerialNo": Kind.BOOLEAN,
        "tracking.serialMask": Kind.STRING,
        "tracking.enableLotCategory": Kind.BOOLEAN,
        "tracking.lotCategory": Kind.STRING,
        "kitRevenuePosting": Kind.STRING,
        "trackingType": Kind.STRING,
        "onHandQuantity": Kind.NUMBER,
        "availableQuantity": Kind.NUMBER,
        "kittedQuantity": Kind.NUMBER,
        "buildableQuantity": Kind.NUMBER,
        "audit.createdDateTime": Kind.DATETIME,
        "audit.modifiedDateTime": Kind.DATETIME,
        "audit.createdBy": Kind.KEY,
        "audit.modifiedBy": Kind.KEY,
        "href": Kind.HREF,
    }
    assert set(item.references) == {"audit.createdByUser", "audit.modifiedByUser"}
    assert set(item.arrays) == {"kitComponents"}
    assert item.groups == {"purchasing", "tracking", "audit"}
    line = registry.get(LINE).fields
    assert set(line.references) == {
        "kit",
        "component",
        "audit.createdByUser",
        "audit.modifiedByUser",
    }
    assert line.columns["lineNumber"].kind is Kind.INTEGER
    assert line.columns["numberOfUnits"].kind is Kind.NUMBER


def test_references_resolve_through_the_referenced_objects_registration():
    line = registry.get(LINE)
    resolved = registry.resolve(line, "component.tracking.enableSerialNo")
    assert resolved.column.orm == "component__enable_serial_no"
    assert resolved.models == {Item}  # beyond the reference: needs permission to view items
    extra = registry.resolve(line, "component.standardCost")
    assert extra.column.orm == "component__standard_cost"
    assert extra.models == frozenset()  # the reference renders it: no extra permission
    assert registry.resolve(line, "kit.id").column.orm == "kit__code"
    assert registry.resolve(line, "kit.key").column.orm == "kit__pk"
    user = registry.resolve(line, "component.audit.createdByUser.id")
    assert user.column.orm == "component__created_by__username"
    computed = registry.resolve(line, "component.trackingType").column
    assert computed.orm is None
    assert "component__enable_serial_no" in str(computed.expression)


class ItemWithExtras(ItemSerializer):
    """Exercises every derivation rule on the items table."""

    secret = StrictCharField(source="lot_category", write_only=True, required=False)
    isKit = serializers.SerializerMethodField()
    shout = serializers.CharField(source="shouted", read_only=True)
    doubleCost = NumberField(source="double_cost", read_only=True)
    pythonOnly = serializers.CharField(source="tracking_type", read_only=True)
    costAgain = NumberField(source="standard_cost", read_only=True)

    class Meta(ItemSerializer.Meta):
        fields = [
            *ItemSerializer.Meta.fields,
            "secret",
            "isKit",
            "shout",
            "doubleCost",
            "pythonOnly",
            "costAgain",
        ]

    def get_isKit(self, item) -> bool:
        return item.is_kit


def declared(serializer_class, **declaration):
    """An object's spec as a declaration would make it, without declaring it."""
    return dataclasses.replace(spec.describe(serializer_class), **declaration)


@pytest.fixture
def objects():
    """A registry of its own, so the global one is left alone."""
    own = Registry()
    is_kit = ExpressionWrapper(
        Q(item_type__in=["kit", "stockableKit"]), output_field=BooleanField()
    )
    item = declared(
        ItemWithExtras,
        query=Item.objects.all(),
        expressions={
            "doubleCost": F("standard_cost") * 2,
            "trackingType": inventory_selectors.item_tracking_type(),
            "isKit": Computed(is_kit, kind="boolean"),
            "shout": Upper("name"),
        },
    )
    line = declared(KitComponentSerializer, query=kit_selectors.kit_component_list())
    own.load([item, line])
    return own


def run(user, objects, **body):
    return query_page(user=user, body=body, objects=objects)["ia::result"]


def test_hooks_and_derivation_rules(objects, admin_user, items):
    inventory_services.item_update(
        item_key=items["Prnt_Paper"].pk, user=admin_user, standard_cost=Decimal("2.5")
    )
    fields = objects.get(ITEM).fields.columns
    assert "secret" not in fields  # write-only
    assert "pythonOnly" not in fields  # a property with no expression
    assert fields["isKit"].kind is Kind.BOOLEAN
    assert fields["shout"].kind is Kind.STRING
    assert fields["doubleCost"].kind is Kind.NUMBER  # the field's kind
    rows = run(
        admin_user,
        objects,
        object=ITEM,
        fields=["id", "isKit", "shout", "doubleCost", "costAgain", "trackingType"],
        filters=[{"$eq": {"isKit": False}}, {"$gt": {"doubleCost": 1}}],
    )
    assert rows == [
        {
            "id": "Prnt_Paper",
            "isKit": False,
            "shout": "PRNT_PAPER NAME",
            "doubleCost": 5,
            "costAgain": 2.5,
            "trackingType": "untracked",
        }
    ]
    for fields in (["secret"], ["pythonOnly"]):
        with pytest.raises(errors.ApiError) as caught:
            run(admin_user, objects, object=ITEM, fields=fields)
        assert (caught.value.spec, caught.value.target) == (errors.NOT_A_VALID_FIELD, fields[0])


def test_expressions_reach_through_a_reference(objects, admin_user):
    fields = ["component.isKit", "component.shout", "component.doubleCost"]
    assert run(admin_user, objects, object=LINE, fields=fields) == []
    resolved = objects.resolve(objects.get(LINE), "component.doubleCost")
    assert "component__standard_cost" in str(resolved.column.expression)


def test_an_expression_for_a_member_the_serializer_lacks_is_caught():
    own = Registry()
    own.load([declared(ItemSerializer, query=Item.objects.all(), expressions={"trackingTyp": "x"})])
    with pytest.raises(ImproperlyConfigured, match="trackingTyp"):
        own.get(ITEM).fields  # noqa: B018
