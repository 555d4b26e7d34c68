"""Serializer fields for the Intacct dialect: string keys, references, numbers, decimals."""

import copy
from typing import Any

from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import errors, identity
from core.numbers import (  # noqa: F401 (as_number, decimal_string, parse_decimal re-exported)
    MAX_BIGINT,
    as_number,
    decimal_string,
    parse_decimal,
    whole_number,
)

USER_OBJECT = "company-config/user"


def schema_field(schema: dict[str, Any]):
    """A field class's JSON schema, stated once: drf-spectacular documents it in the OpenAPI
    document and the object spec reads its `type`, `format`, `enum` and `nullable` (the model
    service), so the two cannot disagree. A reference's is documented by its extension
    (config.api.schema.ReferenceSchema), which adds its extra members."""

    def declare(cls):
        cls.json_schema = schema
        if getattr(cls, "documented_by_extension", False):
            return cls
        return extend_schema_field(schema)(cls)

    return declare


MAX_KEY = MAX_BIGINT
# The serializer context's dict of referenced objects already read (a batch's, shared by its
# elements).
REFERENCES = "references"


def parse_key(value: Any) -> int | None:
    """A system key from a URL or a reference: ASCII digits within bigint, else None (not found)."""
    key = whole_number(value)
    return key if key else None


@schema_field({"type": "string", "readOnly": True, "example": "42"})
class KeyField(serializers.Field):
    def __init__(self, **kwargs):
        kwargs.update(source="pk", read_only=True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return str(value)


class _OfObjectField(serializers.Field):
    """Read-only, of the object itself unless `source` names another object."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "*")
        kwargs["read_only"] = True
        super().__init__(**kwargs)


@schema_field({"type": "string", "readOnly": True, "example": "/objects/inventory-control/item/42"})
class HrefField(_OfObjectField):
    """The object's href."""

    def to_representation(self, instance):
        return identity.href(instance)


@schema_field({"type": "string", "readOnly": True, "example": "Kit_1"})
class IdField(_OfObjectField):
    """The object's `id` (its id field, or its key)."""

    def to_representation(self, instance):
        return identity.api_id(instance)


class KeyIdField(KeyField):
    """`id` of an object whose id is its key (kit components, part kits, ledger rows)."""


class _DecimalField(serializers.DecimalField):
    def to_internal_value(self, data):
        if isinstance(data, bool):  # a JSON boolean is no number (DRF would take it as 1 or 0)
            self.fail("invalid")
        return super().to_internal_value(data)


@schema_field({"type": "number", "example": 1})
class NumberField(_DecimalField):
    """A decimal stored exactly, rendered as a JSON number (`1`, `2.5`), as Intacct does."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 20)
        kwargs.setdefault("decimal_places", 6)
        kwargs["coerce_to_string"] = False
        super().__init__(**kwargs)

    def to_representation(self, value):
        return as_number(value)


@schema_field({"type": "string", "format": "decimal", "example": "125.67"})
class DecimalStringField(_DecimalField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 28)
        kwargs.setdefault("decimal_places", 10)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return decimal_string(value)


class StrictBooleanField(serializers.BooleanField):
    """JSON true/false only: "yes", 1 or "false" are type errors, not guesses."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)


class StrictCharField(serializers.CharField):
    """A JSON string only: numbers and objects are type errors rather than silently stringified."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class RefField(serializers.Field):
    """A reference to another object: `{"key": "27"}`, `{"id": "Kit_1"}`, or both naming the same.

    Renders `{"key", "id", <extra fields>, "href"}`. `extra` maps a response name to a model
    attribute (or a callable on the object); an attribute holding an object of the API renders
    as its reference. Input may carry back any rendered member unchanged: only `key` and `id`
    are read.
    """

    default_error_messages = {"invalid": "must be an object with a key or an id"}
    documented_by_extension = True  # config.api.schema.ReferenceSchema: with its extras

    def __init__(
        self,
        queryset=None,
        *,
        extra: dict[str, Any] | None = None,
        reads: tuple[str, ...] = (),
        **kwargs,
    ):
        self.queryset = queryset
        self.extra = extra or {}
        # The model fields the callables in `extra` read: lets a join load only what renders.
        self.reads = tuple(reads)
        super().__init__(**kwargs)

    def __new__(cls, *args, **kwargs):
        # The constructor's arguments, for __deepcopy__ (DRF's own copy of them is private).
        field = super().__new__(cls, *args, **kwargs)
        field._arguments = (args, kwargs)
        return field

    def __deepcopy__(self, memo):
        # DRF copies every declared field for each serializer instance, rebuilding it from deep
        # copies of its arguments. A queryset is only ever filtered (cloned), never changed: share
        # it rather than deep-copy its whole query for every field of every request.
        args, kwargs = self._arguments
        args = [a if isinstance(a, models.QuerySet) else copy.deepcopy(a, memo) for a in args]
        kwargs = {
            name: value
            if isinstance(value, models.QuerySet) or name in ("validators", "regex")
            else copy.deepcopy(value, memo)
            for name, value in kwargs.items()
        }
        return self.__class__(*args, **kwargs)

    @property
    def model(self) -> type[models.Model]:
        return self.queryset.model

    @property
    def referenced_model(self) -> type[models.Model] | None:
        """The model of the object this names (None: a reference built without a queryset)."""
        return None if self.queryset is None else self.queryset.model

    def extra_source(self, name: str) -> str | None:
        """The referenced model's field the extra member `name` renders: its attribute, or for
        the one callable the one field it `reads`; None when that is not known."""
        source = self.extra[name]
        if isinstance(source, str):
            return source
        callables = [s for s in self.extra.values() if callable(s)]
        return self.reads[0] if len(callables) == 1 and len(self.reads) == 1 else None

    def columns(self) -> set[str] | None:
        """The referenced object's fields this renders (besides its key); None when unknown."""
        if self.queryset is None:
            return None
        wanted = set(self.reads)
        id_field = identity.id_field(self.model)
        if id_field:
            wanted.add(id_field)
        for source in self.extra.values():
            if callable(source) and not self.reads:
                return None
            if isinstance(source, str):
                if "." in source:
                    return None
                wanted.add(source)
        return wanted

    def allowed_members(self) -> set[str]:
        return {"key", "id", "href", *self.extra}

    def to_representation(self, obj):
        data = {"key": str(obj.pk), "id": identity.api_id(obj)}
        for name, source in self.extra.items():
            value = source(obj) if callable(source) else getattr(obj, source)
            data[name] = identity.ref(value) if isinstance(value, models.Model) else value
        data["href"] = identity.href(obj)
        return data

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("invalid")
        key, ident = data.get("key"), data.get("id")
        if key in (None, "") and ident in (None, ""):
            self.fail("invalid")
        target = self.field_path()

        def not_found(reference: str) -> errors.ApiError:
            object_name = identity.object_name(self.model)
            return errors.rule_violation(
                errors.REFERENCE_NOT_FOUND,
                target,
                FIELD=target,
                OBJECT=object_name,
                REFERENCE=reference,
            )

        found = None
        if key not in (None, ""):
            found = self._lookup(pk=parse_key(key)) if parse_key(key) else None
            if found is None:
                raise not_found(f"key {key}")
        if ident not in (None, ""):
            id_field = identity.id_field(self.model) or "pk"
            if found is not None:
                if identity.api_id(found) != str(ident):
                    raise errors.rule_violation(
                        errors.REFERENCE_MISMATCH, target, FIELD=target, KEY=key, ID=ident
                    )
            else:
                if id_field == "pk":
                    found = self._lookup(pk=parse_key(ident)) if parse_key(ident) else None
                else:  # NUL cannot be stored (PostgreSQL refuses it), so it names nothing
                    found = None if "\x00" in str(ident) else self._lookup(**{id_field: str(ident)})
                if found is None:
                    raise not_found(f"id {ident}")
        return found

    def _lookup(self, **lookup):
        """The first object with this key (`pk`) or id: one statement, or none where the
        serializer's context holds the objects its earlier payloads referred to (a batch's
        elements: each gets its own copy of what was read for the first)."""
        cache = self.context.get(REFERENCES)
        if cache is None:
            return self.queryset.filter(**lookup).order_by("pk").first()
        key = (self.field_path(), *sorted(lookup.items()))
        if key not in cache:
            cache[key] = self.queryset.filter(**lookup).order_by("pk").first()
        return copy.copy(cache[key])

    def field_path(self) -> str:
        names, node = [], self
        while node is not None and getattr(node, "field_name", None):
            if node.source != "*" or node is self:
                names.append(node.field_name)
            node = node.parent
        return ".".join(reversed(names))


class KeyRefField(RefField):
    """A reference resolved to the referenced object's key without reading the row: the service
    that takes the key reads and locks the row in its own transaction and refuses a key that
    names nothing. A reference by `id` to an object with an id field of its own is looked up (its
    key only is kept); anything ambiguous (a key and an id that differ) reads as RefField does.

    `named` keeps how the request named the object (`key 12`, `id 12`), for the service's error.
    """

    named: str | None = None

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("invalid")
        key, ident = data.get("key"), data.get("id")
        key_given, id_given = key not in (None, ""), ident not in (None, "")
        by_key = identity.id_field(self.model) is None  # its id is its key
        parsed = parse_key(key) if key_given else None
        if parsed is not None and (not id_given or (by_key and str(ident) == str(parsed))):
            self.named = f"key {key}"
            return parsed
        if not key_given and by_key and parse_key(ident) is not None:
            self.named = f"id {ident}"
            return parse_key(ident)
        found = super().to_internal_value(data)
        self.named = f"key {key}" if key_given else f"id {ident}"
        return found.pk


class UserRefField(serializers.Field):
    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, user):
        return (
            None if user is None else identity.reference(USER_OBJECT, user.pk, user.get_username())
        )


REF_SCHEMA = {
    "type": "object",
    "properties": {
        "key": {"type": "string", "example": "27"},
        "id": {"type": "string", "example": "Kit_1"},
        "href": {"type": "string", "readOnly": True},
    },
}
schema_field(REF_SCHEMA)(RefField)
schema_field({**REF_SCHEMA, "readOnly": True, "nullable": True})(UserRefField)
extend_schema_field(OpenApiTypes.BOOL)(StrictBooleanField)
