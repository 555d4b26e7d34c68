"""The GET of an item and of a kit component as the API renders them (see inventory/api/details.py):
plain SQL built once from the models (core.sql, prepared by PostgreSQL). Kept together: an
item renders its kit components, the same rows a kit component's GET reads."""

import functools
from typing import Any

from django.contrib.auth import get_user_model

from config.api import identity, render
from core import sql
from inventory.api.details import Detail
from inventory.models import Item, item_tracking_type
from kitcomponents import selectors
from kitcomponents.models import KitComponent

_ITEM = (
    "pk",
    "version",
    "code",
    "name",
    "status",
    "item_type",
    "cost_method",
    "unit_of_measure",
    "extended_description",
    "standard_cost",
    "enable_serial_no",
    "serial_mask",
    "enable_lot_category",
    "lot_category",
    "kit_revenue_posting",
)
_COMPONENT_ITEM = ("code", "name", "cost_method", "item_type", "unit_of_measure", "standard_cost")
_KIT_COMPONENT = (
    "pk",
    "version",
    "kit_id",
    "kit__code",
    "component_id",
    *(f"component__{name}" for name in _COMPONENT_ITEM),
    "number_of_units",
    "revenue_percentage",
    "default_delivery_status",
    "default_deferral_status",
    "line_number",
)


def item_detail(*, key: int) -> Detail | None:
    """An item with its kit components and stock figures: two statements of plain SQL, built
    once; the stock figures are the SQL kitcomponents.selectors writes for them, joined to the
    item's row."""
    item_sql, lines_sql = _statements()["item"], _statements()["kit lines"]
    row = item_sql.one(key)
    if row is None:
        return None
    data = {
        "key": str(row["pk"]),
        "id": row["code"],
        "name": row["name"],
        "status": row["status"],
        "itemType": row["item_type"],
        "costMethod": row["cost_method"],
        "unitOfMeasure": row["unit_of_measure"],
        "extendedDescription": row["extended_description"],
        "purchasing": {"standardCost": render.decimal_string(row["standard_cost"])},
        "tracking": {
            "enableSerialNo": row["enable_serial_no"],
            "serialMask": row["serial_mask"],
            "enableLotCategory": row["enable_lot_category"],
            "lotCategory": row["lot_category"],
        },
        "kitRevenuePosting": row["kit_revenue_posting"] or None,
        "kitComponents": [_kit_component(line) for line in lines_sql.all(row["pk"])],
        "trackingType": item_tracking_type(
            enable_serial_no=row["enable_serial_no"],
            enable_lot_category=row["enable_lot_category"],
        ),
        "onHandQuantity": render.as_number(row["on_hand_quantity"]),
        "availableQuantity": render.as_number(row["available_quantity"]),
        "kittedQuantity": render.as_number(row["kitted_quantity"]),
        "buildableQuantity": render.as_number(row["buildable_quantity"]),
        "audit": render.audit(row),
        "href": f"/objects/{identity.object_name(Item)}/{row['pk']}",
    }
    return data, row["version"]


_KEY = object()  # where a statement's parameters take the requested key


class _Statement:
    """A SELECT built once from the models' tables and columns; rows come back as dicts keyed
    like `values()` names, decimals as text (exact on both databases: SQLite may store a REAL)."""

    def __init__(self, sql_text: str, names: list[str], params: list[Any] | None = None):
        self.sql, self.names = sql_text, names
        self.params = [_KEY] if params is None else params

    def all(self, value: int) -> list[dict[str, Any]]:
        params = [value if param is _KEY else param for param in self.params]
        return [dict(zip(self.names, row, strict=True)) for row in sql.rows(self.sql, params)]

    def joined(self, other: "_Statement") -> "_Statement":
        """One row of this statement's and `other`'s columns (both select one row by key)."""
        text = f"SELECT * FROM ({self.sql}) a CROSS JOIN ({other.sql}) b"
        return _Statement(text, [*self.names, *other.names], [*self.params, *other.params])

    def one(self, value: int) -> dict[str, Any] | None:
        found = self.all(value)
        return found[0] if found else None


@functools.cache
def _statements() -> dict[str, _Statement]:
    q = sql.quoted
    user_meta = get_user_model()._meta
    users, user_key = q(user_meta.db_table), q(user_meta.pk.column)
    username = user_meta.get_field(get_user_model().USERNAME_FIELD)

    def select(table, alias: str, names: list[str], joins: dict[str, tuple] | None = None):
        """`names` of model `table` (under `alias`), and of joined items (`kit__code`)."""
        joins = dict(joins or {})
        columns = []
        for name in [*names, *render.audit_columns()]:
            relation, _, field_name = name.rpartition("__")
            if name == "pk":
                meta, prefix, field = table._meta, alias, table._meta.pk
            elif relation in ("created_by", "modified_by"):
                meta, prefix, field = user_meta, f"{alias}_{relation}", username
            elif relation:
                meta, prefix = joins[relation][0]._meta, f"{alias}_{relation}"
                field = meta.get_field(field_name)
            else:
                meta, prefix, field = table._meta, alias, table._meta.get_field(name)
            column = f"{prefix}.{q(field.column)}"
            decimal = field.get_internal_type() == "DecimalField"
            columns.append(f"CAST({column} AS TEXT)" if decimal else column)
        joined = [
            f" JOIN {q(model._meta.db_table)} {alias}_{relation} ON {alias}_{relation}."
            f"{q(model._meta.pk.column)} = {alias}.{q(table._meta.get_field(fk).column)}"
            for relation, (model, fk) in joins.items()
        ]
        joined += [
            f" LEFT JOIN {users} {alias}_{who} ON {alias}_{who}.{user_key}"
            f" = {alias}.{q(table._meta.get_field(who).column)}"
            for who in ("created_by", "modified_by")
        ]
        text = f"SELECT {', '.join(columns)} FROM {q(table._meta.db_table)} {alias}"
        return text + "".join(joined), [*names, *render.audit_columns()]

    def where(alias, table, field_name, text_names, order=""):
        text, names = text_names
        column = q(table._meta.get_field(field_name).column)
        return _Statement(f"{text} WHERE {alias}.{column} = %s{order}", names)

    line = KitComponent
    line_joins = {"kit": (Item, "kit"), "component": (Item, "component")}
    line_select = select(line, "c", list(_KIT_COMPONENT), line_joins)
    order = ", ".join(f"c.{q(line._meta.get_field(name).column)}" for name in line._meta.ordering)
    return {
        "item": where("i", Item, "key", select(Item, "i", list(_ITEM))).joined(_stock()),
        "kit lines": where("c", line, "kit", line_select, f" ORDER BY {order}"),
        "kit line": where("c", line, "key", line_select),
    }


# A value no item key holds: it marks where the key goes among the stock statement's parameters.
_MARKER = 2_147_483_000


def _stock() -> _Statement:
    """The item's stock figures as kitcomponents.selectors computes them, in the SQL the ORM
    writes for them (captured once: built per request, those expressions cost more than the
    read), decimals as text like the item's own columns."""
    names = list(selectors.item_availability())
    stock = selectors.item_list().filter(pk=_MARKER).values(*names)
    text, params, at = sql.captured(stock, _MARKER)
    params[at] = _KEY
    columns = ", ".join(f"CAST(s.{sql.quoted(name)} AS TEXT)" for name in names)
    return _Statement(f"SELECT {columns} FROM ({text}) s", names, params)


def kit_component_detail(*, key: int) -> Detail | None:
    """A kit component: one statement (kept here beside the item it renders twice)."""
    row = _statements()["kit line"].one(key)
    return None if row is None else (_kit_component(row), row["version"])


def _kit_component(row: dict[str, Any]) -> dict[str, Any]:
    item = identity.object_name(Item)
    component = render.ref(item, row["component_id"], row["component__code"])
    del component["href"]  # after the extra members, as RefField renders them
    component.update(
        name=row["component__name"],
        costMethod=row["component__cost_method"],
        itemType=row["component__item_type"],
        unitOfMeasure=row["component__unit_of_measure"],
        standardCost=render.decimal_string(row["component__standard_cost"]),
        href=f"/objects/{item}/{row['component_id']}",
    )
    percentage = row["revenue_percentage"]
    return {
        "key": str(row["pk"]),
        "id": str(row["pk"]),
        "kit": render.ref(item, row["kit_id"], row["kit__code"]),
        "component": component,
        "numberOfUnits": render.as_number(row["number_of_units"]),
        "revenuePercentage": None if percentage is None else render.as_number(percentage),
        "defaultDeliveryStatus": row["default_delivery_status"],
        "defaultDeferralStatus": row["default_deferral_status"],
        "lineNumber": row["line_number"],
        "audit": render.audit(row),
        "href": f"/objects/{identity.object_name(KitComponent)}/{row['pk']}",
    }
