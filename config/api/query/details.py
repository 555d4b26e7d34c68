"""An object's GET from compiled SQL: the query registry's columns, nested back into its shape.

DRF serializes a detail from model instances, field by field, after Django compiled its queries:
for an item with its kit lines that is several times the work of the SQL itself. The registry
already knows, for every field an object's serializer renders, the column behind it and the
serializer field that renders it. A `Detail` lays those out in the serializer's shape (groups,
references, nested lists), reads the object and each nested list with one compiled statement
(config.api.compiled) and renders each value with the serializer field's own to_representation.

An object whose serializer renders anything the registry cannot read (a method field without an
expression, an unregistered nested object) has no Detail: its GET stays with the serializer.
With COMPILED_QUERY_CHECKS (tests), the base viewset compares every such GET with the serializer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import F, QuerySet
from rest_framework import serializers

from config.api.compiled import NotCompilable, Plan, compile_plan, marker, plan_cache
from config.api.query.registry import (
    Column,
    QueryObject,
    Reference,
    _reference_columns,
    registry,
)
from config.api.query.selectors import _Builder

# Read with every row besides the rendered columns: the version (the ETag) and the key.
_VERSION, _KEY = "_version", "_key"


@dataclass(frozen=True)
class _Entry:
    name: str
    column: str | None = None  # alias of a plain value
    group: tuple[_Entry, ...] | None = None
    reference: tuple[str, tuple[tuple[str, str], ...]] | None = None  # key alias, (member, alias)
    array: _List | None = None


@dataclass(frozen=True)
class _List:
    detail: Detail
    parent_field: str  # the element's foreign key to the parent


class Detail:
    """The layout of one object's GET and the statements that read it."""

    def __init__(self, obj: QueryObject, serializer: serializers.Serializer, parent: str | None):
        self.obj = obj
        self.columns: dict[str, Column] = {}
        self.entries = self._layout(serializer, "")
        self.parent = parent  # for a nested list: filter on this foreign key instead of the key

    # --- the layout ---
    def _layout(self, serializer: serializers.Serializer, prefix: str) -> tuple[_Entry, ...]:
        fields = self.obj.fields
        entries = []
        for name, fld in serializer.fields.items():
            if fld.write_only:
                continue
            path = prefix + name
            if path in fields.columns:
                entries.append(_Entry(name, column=self._alias(path)))
            elif path in fields.groups:
                entries.append(_Entry(name, group=self._layout(fld, path + ".")))
            elif path in fields.references:
                entries.append(_Entry(name, reference=self._reference(fields.references[path])))
            elif path in fields.arrays and isinstance(fld, serializers.ListSerializer):
                entries.append(_Entry(name, array=self._list(fields.arrays[path], fld)))
            else:
                raise NotCompilable(f"{self.obj.name}.{path} is not read from a column")
        return tuple(entries)

    def _alias(self, path: str) -> str:
        column = registry.resolve(self.obj, path).column
        alias = f"d{len(self.columns)}"
        self.columns[alias] = column
        return alias

    def _reference(self, reference: Reference) -> tuple[str, tuple[tuple[str, str], ...]]:
        target = None if reference.user else registry.for_model(reference.model)
        available = _reference_columns(reference, target)
        order = ["key", "id", *reference.extra, "href"]  # as RefField / UserRefField render
        members = tuple(
            (member, self._alias(f"{reference.path}.{member}"))
            for member in order
            if member in available
        )
        if len(members) != len(order):
            raise NotCompilable(f"{self.obj.name}.{reference.path}: a member has no column")
        return members[0][1], members

    def _list(self, array, fld: serializers.ListSerializer) -> _List:
        element = registry.for_model(array.element_model)
        if element is None or type(fld.child) is not element.serializer_class:
            raise NotCompilable(f"{self.obj.name}.{array.path}: not a registered object")
        if hasattr(fld.child, "get_prefetch_queryset"):  # its own order or rows: not guessed
            raise NotCompilable(f"{self.obj.name}.{array.path}: a queryset of its own")
        return _List(Detail(element, fld.child, array.parent_field), array.parent_field)

    # --- reading ---
    def read(self, key: int) -> tuple[dict[str, Any], int] | None:
        """The object's representation and its version, or None when there is no such object."""
        rows = self._rows(key)
        if not rows:
            return None
        return self._render(rows[0]), rows[0][_VERSION]

    def _rows(self, value: int) -> list[dict[str, Any]]:
        plan = self._plan()
        names = plan.names
        return [dict(zip(names, row, strict=True)) for row in plan.rows([value])]

    def _plan(self) -> Plan:
        plans = plan_cache("_detail_plans")
        plan = plans.get(self)
        if plan is None:
            plan = plans[self] = compile_plan(self.queryset(marker(0, 1)), [marker(0, 1)])
        return plan

    def queryset(self, value: Any) -> QuerySet:
        """The statement: one object by key, or a nested list by its parent's key."""
        builder = _Builder(self.obj, case_sensitive=True, as_of=None)
        columns = {alias: F(builder.ref(column)) for alias, column in self.columns.items()}
        queryset = builder.queryset()
        queryset = queryset.filter(**{self.parent or "pk": value}).values(
            **columns, **{_VERSION: F("version"), _KEY: F("pk")}
        )
        if self.parent:  # the nested list in the order the serializer's prefetch gives
            queryset = queryset.order_by(*self.obj.model._meta.ordering)
        return queryset

    def _members(self, row: dict[str, Any], members: tuple[tuple[str, str], ...]) -> dict:
        return {member: self.columns[alias].render(row[alias]) for member, alias in members}

    def _render(self, row: dict[str, Any], entries: tuple[_Entry, ...] | None = None) -> dict:
        out = {}
        for entry in self.entries if entries is None else entries:
            if entry.column is not None:
                out[entry.name] = self.columns[entry.column].render(row[entry.column])
            elif entry.group is not None:
                out[entry.name] = self._render(row, entry.group)
            elif entry.reference is not None:
                key_alias, members = entry.reference
                out[entry.name] = (
                    None
                    if row[key_alias] is None
                    else {
                        member: self.columns[alias].render(row[alias]) for member, alias in members
                    }
                )
            else:
                nested = entry.array.detail
                out[entry.name] = [nested._render(r) for r in nested._rows(row[_KEY])]
        return out


_DETAILS: dict[type, Detail | None] = {}


def detail_for(serializer_class: type[serializers.Serializer]) -> Detail | None:
    """The Detail of a registered object's serializer, or None (its GET stays with DRF)."""
    if serializer_class not in _DETAILS:
        _DETAILS[serializer_class] = _build(serializer_class)
    return _DETAILS[serializer_class]


def _build(serializer_class) -> Detail | None:
    model = serializer_class.Meta.model
    obj = registry.for_model(model)
    if obj is None or obj.serializer_class is not serializer_class:
        return None
    try:
        return Detail(obj, serializer_class(), None)
    except NotCompilable:
        return None
