"""One description per object, built once at startup and read by every part of the protocol layer.

Each app declares its objects in `<app>/api/objects.py` (`declare(...)`); `config.api.apps` imports
those modules and calls `build()` when Django starts. `describe()` is the project's only walker of
serializers: the prefetch planner (viewsets), the query registry, unknown-member rejection and
the model service (config.api.model_service) read the `ObjectSpec` it returns. The OpenAPI
document is drf-spectacular's own walk; what each member is in JSON comes from the schema our
fields declare once for both (`config.api.fields.schema_field`), and
tests/test_model_agreement.py holds the model, the OpenAPI document and the real bodies to the
same answers.
"""

from __future__ import annotations

import enum
import inspect
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.db.models import Prefetch, QuerySet
from rest_framework import serializers

from config.api import identity
from config.api.fields import USER_OBJECT, HrefField, KeyField, RefField, UserRefField


class Role(enum.StrEnum):
    """What a member of an object is, as every consumer of the spec tells it apart."""

    KEY = "key"  # the key (KeyField, or KeyIdField for an `id` that is the key)
    HREF = "href"
    VALUE = "value"  # a plain value: a model field, a property, a method field...
    REFERENCE = "reference"  # a RefField
    USER = "user"  # a reference to a user (the audit group's)
    LIST = "list"  # a list of nested objects (`kitComponents`)
    GROUP = "group"  # members stored on the object itself (`tracking`, `audit`)
    NESTED = "nested"  # a nested serializer over its own source


@dataclass(frozen=True, eq=False)
class Member:
    path: str  # API dot path: `tracking.enableSerialNo`
    role: Role
    field: serializers.Field  # the bound field: it renders the member and parses its input
    owner: serializers.Serializer  # the serializer (or group) that declares it
    members: tuple[Member, ...] = ()  # a group's members
    element: ObjectSpec | None = None  # a list's element
    relation: Any = None  # a list's model relation (None where the model has none)
    model: type[models.Model] | None = None  # the model its source is read from

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    @cached_property
    def shape(self) -> dict[str, Any]:
        """What the member is in JSON: its `type` (string, number, integer, boolean, array or
        object), `nullable`, and its `format` and `enum` where it has them."""
        return _shape(self)

    @property
    def refers_to(self) -> str | None:
        """The API object a reference names (`inventory-control/item`); None for the rest."""
        if self.role is Role.USER:
            return USER_OBJECT
        model = getattr(self.field, "referenced_model", None)
        return identity.object_name(model) if model and identity.is_object(model) else None

    @cached_property
    def reference_extras(self) -> dict[str, Member | None]:
        """A reference's extra members (`component.name`), each with the member of the named
        object it shows (None where that is not known)."""
        target = get(self.refers_to) if self.refers_to else None
        shown: dict[str, Member | None] = {}
        for name in getattr(self.field, "extra", None) or {}:
            source = self.field.extra_source(name)
            path = target.model_to_api.get(source) if target is not None and source else None
            shown[name] = target.members.get(path) if path else None
        return shown

    @cached_property
    def default(self) -> Any:
        """What a create stores when the member is left out (the model field's default, as the
        member renders it); None when there is none."""
        column = model_column(self.model, self.source)
        if self.read_only or column is None or not column.has_default():
            return None
        return self.field.to_representation(column.get_default())

    @property
    def source(self) -> str:
        return self.field.source

    @property
    def read_only(self) -> bool:
        return bool(self.field.read_only)

    @property
    def write_only(self) -> bool:
        return bool(self.field.write_only)


@dataclass(frozen=True)
class Example:
    """What the OpenAPI document shows of an object, true of `manage.py seed_demo`'s data (a
    fresh database, its examples sent in the order tests/test_schema_examples.py sends them):
    a demo object (`key`, `id`: the path's example, a list's row), a create body and the key it
    gets, and a PATCH body (for the demo object)."""

    key: str
    id: str
    create: dict[str, Any] | None = None
    created: str | None = None
    update: dict[str, Any] | None = None


# What a payload may hold under a member: anything (None), the members of a group (a mapping) or
# the members of a reference (a set).
Accepted = Mapping[str, "Accepted | frozenset[str] | None"]


@dataclass(eq=False)
class ObjectSpec:
    """One object (or a list element, or a workflow body) as its serializer renders and reads it."""

    name: str  # API object path; "" for what is not an object of its own
    model: type[models.Model] | None
    serializer_class: type[serializers.Serializer]
    id_field: str | None
    top: tuple[Member, ...]  # the serializer's own members, in render order
    members: dict[str, Member]  # every member by API path, group members included
    inputs: Accepted  # the members a payload may carry
    api_to_model: dict[str, str]  # API path -> model attribute path (`part.unit_of_measure`)
    model_to_api: dict[str, str]  # model field -> API path
    parent_link: str | None = None  # a list element's foreign key to its parent
    # The members a write may set on create only (the domain's immutable fields), by API path.
    immutable: frozenset[str] = frozenset()
    # The prefetch plan: joins, the joined columns nothing renders, prefetches.
    select_related: tuple[str, ...] = ()
    deferred: tuple[str, ...] = ()
    prefetch: tuple[str | Prefetch, ...] = ()
    # What the query service reads this object from (None: not queryable), and the ORM
    # expressions of the members the model does not store.
    query: QuerySet | None = None
    expressions: dict[str, Any] = field(default_factory=dict)
    # The model fields (never null) rows come by before the key, for an object whose key orders
    # nothing meaningful (a requirement's "<run>-<part>" is text); () for by key.
    order: tuple[str, ...] = ()
    example: Example | None = None  # what the OpenAPI document shows (config.api.schema)

    @property
    def noun(self) -> str:
        """What the documentation calls one object: its API name's last part, in words."""
        return self.name.rsplit("/", 1)[-1].replace("-", " ")

    @property
    def description(self) -> str:
        """The object in a sentence or two, for its readers: the first paragraph of its model's
        docstring (the model states what the object is, once)."""
        return " ".join(inspect.getdoc(self.model).split("\n\n")[0].split())

    def mutable(self, path: str) -> bool:
        """Whether a PATCH may change the member: writable, and not fixed at create."""
        return not self.members[path].read_only and path not in self.immutable

    def optimize(self, queryset: QuerySet) -> QuerySet:
        """The queryset with the prefetch plan: a detail or a page costs the same number of
        queries whatever it holds, and a joined object loads only what its reference renders."""
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
            if self.deferred:
                queryset = queryset.defer(*self.deferred)
        if self.prefetch:
            queryset = queryset.prefetch_related(*self.prefetch)
        return queryset

    def unknown_members(self, data: Mapping[str, Any]) -> Iterator[str]:
        """JSON pointers of every member of a payload the object does not know, at any depth."""
        return _unknown(self.inputs, data, "")


def _unknown(accepted: Accepted, data: Mapping[str, Any], prefix: str) -> Iterator[str]:
    for name, value in data.items():
        pointer = f"{prefix}/{name}"
        if name not in accepted:
            yield pointer
            continue
        inner = accepted[name]
        if not isinstance(value, dict) or inner is None:
            continue
        if isinstance(inner, frozenset):
            yield from (f"{pointer}/{member}" for member in value if member not in inner)
        else:
            yield from _unknown(inner, value, pointer)


# --- the declarations and the one build at startup ---------------------------------------------
# (name, serializer class, id field, what declare() says of its query and its writes)
_DECLARED: list[tuple[str, type[serializers.Serializer], str | None, dict[str, Any]]] = []
_PAYLOADS: list[type[serializers.Serializer]] = []
_OBJECTS: dict[str, ObjectSpec] = {}
_SPECS: dict[tuple, ObjectSpec] = {}


def declare(
    name: str,
    serializer_class: type[serializers.Serializer],
    *,
    id_field: str | None = None,
    query: QuerySet | None = None,
    expressions: Mapping[str, Any] | None = None,
    immutable: tuple[str, ...] = (),
    order: tuple[str, ...] = (),
    example: Example | None = None,
) -> None:
    """An object of the API: its path, its serializer (whose Meta.model is the object's model),
    the model field behind its `id` (None: the key), what the query service reads it from
    (`query`, and `expressions` by API path: config.api.query), the model fields its update
    service refuses to change (`immutable`: the service's own list), and the model fields its
    rows come by before the key where the key's order means nothing (`order`), and what the
    OpenAPI document shows of it (`example`)."""
    declared = {
        "query": query,
        "expressions": expressions,
        "immutable": immutable,
        "order": tuple(order),
        "example": example,
    }
    _DECLARED.append((name, serializer_class, id_field, declared))


def declare_payload(serializer_class: type[serializers.Serializer]) -> None:
    """A request body that is no object (a workflow's): described at startup too."""
    _PAYLOADS.append(serializer_class)


def build() -> None:
    """Describe every declared object; called once, from AppConfig.ready()."""
    # Names first: a reference to another object renders that object's href and id.
    for name, serializer_class, id_field, _ in _DECLARED:
        identity.identify(_model_of(serializer_class), name, id_field)
    for name, serializer_class, _, declared in _DECLARED:
        spec = describe(serializer_class)
        spec.query = declared["query"]
        spec.expressions = dict(declared["expressions"] or {})
        spec.immutable = frozenset(spec.model_to_api[field] for field in declared["immutable"])
        spec.order = declared["order"]
        spec.example = declared["example"]
        _OBJECTS[name] = spec
    for serializer_class in _PAYLOADS:
        describe(serializer_class)


def objects() -> list[ObjectSpec]:
    """Every declared object, in declaration order."""
    return list(_OBJECTS.values())


def get(name: str) -> ObjectSpec | None:
    return _OBJECTS.get(name)


def for_serializer(serializer_class: type[serializers.Serializer]) -> ObjectSpec:
    return describe(serializer_class)


def describe(
    serializer_class: type[serializers.Serializer],
    model: type[models.Model] | None = None,
    *,
    serializer: serializers.Serializer | None = None,
    parent_link: str | None = None,
) -> ObjectSpec:
    """The spec of a serializer over a model (its Meta.model unless given). Declared objects are
    described by build() at startup; other serializers (list elements, tests) once, when asked."""
    model = model or _model_of(serializer_class)
    cache_key = (serializer_class, model, parent_link)
    spec = _SPECS.get(cache_key)
    if spec is None:
        spec = _SPECS[cache_key] = _describe(
            serializer or serializer_class(), serializer_class, model, parent_link
        )
    return spec


def _model_of(serializer_class: type[serializers.Serializer]) -> type[models.Model] | None:
    return getattr(getattr(serializer_class, "Meta", None), "model", None)


def _describe(serializer, serializer_class, model, parent_link) -> ObjectSpec:
    top = _members(serializer, "", model)
    members: dict[str, Member] = {}
    _flatten(top, members)
    api_to_model, model_to_api = {}, {}
    for path, member in members.items():
        source = member.source
        if source and source != "*":
            api_to_model[path] = source
            model_to_api.setdefault(source.split(".")[0], path)
    known = model is not None and identity.is_object(model)
    spec = ObjectSpec(
        name=identity.object_name(model) if known else "",
        model=model,
        serializer_class=serializer_class,
        id_field=identity.id_field(model) if known else None,
        top=top,
        members=members,
        inputs=_inputs(serializer),
        api_to_model=api_to_model,
        model_to_api=model_to_api,
        parent_link=parent_link,
    )
    if model is not None:
        _plan(spec)
    return spec


def _members(serializer: serializers.Serializer, prefix: str, model) -> tuple[Member, ...]:
    out = []
    for name, fld in serializer.fields.items():
        path = prefix + name
        children, element, relation = (), None, None
        if isinstance(fld, HrefField):
            role = Role.HREF
        elif isinstance(fld, KeyField):  # KeyIdField too
            role = Role.KEY
        elif isinstance(fld, serializers.ListSerializer):
            role = Role.LIST
            relation = model_column(model, fld.source)
            if relation is not None and not fld.write_only:
                link = relation.field.name if relation.one_to_many else None
                element = describe(
                    type(fld.child), relation.related_model, serializer=fld.child, parent_link=link
                )
        elif isinstance(fld, serializers.Serializer):
            role = Role.GROUP if fld.source == "*" else Role.NESTED
            if role is Role.GROUP and not fld.write_only:
                children = _members(fld, path + ".", model)
        elif isinstance(fld, RefField):
            role = Role.REFERENCE
        elif isinstance(fld, UserRefField):
            role = Role.USER
        else:
            role = Role.VALUE
        out.append(Member(path, role, fld, serializer, children, element, relation, model))
    return tuple(out)


def _flatten(level: tuple[Member, ...], out: dict[str, Member]) -> None:
    for member in level:
        out[member.path] = member
        _flatten(member.members, out)


def _inputs(serializer: serializers.Serializer) -> Accepted:
    """A payload may carry back any member the object renders (a GET body PATCHed unchanged);
    inside a writable group or reference only that group's or reference's members."""
    accepted: dict[str, Any] = {}
    for name, fld in serializer.fields.items():
        if isinstance(fld, serializers.Serializer) and not fld.read_only:
            accepted[name] = _inputs(fld)
        elif isinstance(fld, RefField) and not fld.read_only:
            accepted[name] = frozenset(fld.allowed_members())
        else:
            accepted[name] = None
    return accepted


# --- what each member is in JSON ----------------------------------------------------------------
# Django REST framework's field kinds, the first that matches: (class, JSON type, format).
_KINDS: tuple[tuple[type, str, str | None], ...] = (
    (serializers.BooleanField, "boolean", None),
    (serializers.IntegerField, "integer", None),
    (serializers.FloatField, "number", None),
    (serializers.DateTimeField, "string", "date-time"),
    (serializers.DateField, "string", "date"),
    (serializers.ListField, "array", None),
    (serializers.ListSerializer, "array", None),
    (serializers.Serializer, "object", None),
    (serializers.DictField, "object", None),
    (serializers.JSONField, "object", None),
)
# A method field's return annotation.
_PYTHON_TYPES = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    Decimal: "number",
    list: "array",
    tuple: "array",
    dict: "object",
}


def _shape(member: Member) -> dict[str, Any]:
    fld = member.field
    shape: dict[str, Any] = {"type": "string"}
    nullable = bool(fld.allow_null)
    declared = getattr(fld, "json_schema", None)  # config.api.fields.schema_field
    if declared is not None:
        shape = {k: declared[k] for k in ("type", "format", "enum") if k in declared}
        nullable = nullable or bool(declared.get("nullable"))
    elif isinstance(fld, serializers.ChoiceField):
        shape["enum"] = list(fld.choices)
    elif isinstance(fld, serializers.DecimalField):
        as_text = fld.coerce_to_string
        shape = {"type": "string", "format": "decimal"} if as_text else {"type": "number"}
    elif isinstance(fld, serializers.SerializerMethodField):
        kind, optional = _returned(getattr(member.owner, fld.method_name))
        shape["type"] = kind
        nullable = nullable or optional
    else:
        shape = json_kind(type(fld))
    shape["nullable"] = nullable or _nullable_source(member.model, member.source)
    return shape


def json_kind(field_class: type) -> dict[str, Any]:
    """The JSON `type` (and `format`) of a Django REST framework field class: the first of
    _KINDS it is, else a string."""
    for kind, json_type, fmt in _KINDS:
        if issubclass(field_class, kind):
            return {"type": json_type, **({"format": fmt} if fmt else {})}
    return {"type": "string"}


def _returned(method) -> tuple[str, bool]:
    """The JSON type a method's return annotation names, and whether it may be None."""
    hint = typing.get_type_hints(method).get("return", str)
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        optional, hint = len(args) < len(typing.get_args(hint)), args[0]
    return _PYTHON_TYPES.get(typing.get_origin(hint) or hint, "string"), optional


def model_path(model, path: str | None) -> list:
    """The model fields a source (`part.unit_of_measure`) or an ORM path (`part__pk`) walks, up
    to the first name that is no field of its model (a property, a method); `pk` is the key."""
    walked: list = []
    for name in (path or "").replace("__", ".").split("."):
        if model is None or name in ("", "*"):
            break
        try:
            found = model._meta.pk if name == "pk" else model._meta.get_field(name)
        except FieldDoesNotExist:
            break
        walked.append(found)
        model = found.related_model
    return walked


def model_column(model, source: str | None):
    """The model field a plain (undotted) source names, or None."""
    walked = model_path(model, source)
    return walked[0] if walked and "." not in source else None


def _nullable_source(model, source: str | None) -> bool:
    """Whether the model may hold None on the way to a dotted source (`part.unit_of_measure`);
    a property is its own business, a list is empty, never null."""
    for column in model_path(model, source):
        if column.one_to_many or column.many_to_many:
            return False
        if column.null:
            return True
    return False


# --- the prefetch plan -------------------------------------------------------------------------
def _plan(spec: ObjectSpec) -> None:
    selects: set[str] = set()
    prefetches: list = []
    columns: dict[str, set[str] | None] = {}
    _plan_level(spec.top, spec.model, selects, prefetches, columns)
    # A prefetch over a reverse foreign key sets that key to the parent itself: no join needed.
    selects.discard(spec.parent_link)
    spec.select_related = tuple(sorted(selects))
    spec.deferred = tuple(_deferred(spec.model, selects, columns)) if selects else ()
    spec.prefetch = tuple(prefetches)


def _plan_level(level, model, selects: set, prefetches: list, columns: dict) -> None:
    refs, opaque = [], False
    for member in level:
        fld = member.field
        if member.write_only:
            continue
        source = member.source
        if member.role in (Role.REFERENCE, Role.USER):
            path = source.replace(".", "__")
            selects.add(path)
            nested = getattr(fld, "select_related", ())
            for related in nested:
                selects.add(f"{path}__{related}")
            if member.role is Role.USER:
                _need(columns, path, {get_user_model().USERNAME_FIELD})
            else:
                refs.append(path)
                _need(columns, path, None if nested else fld.columns())
        elif member.role is Role.LIST:
            if member.element is None:
                raise ImproperlyConfigured(f"{member.path}: {source} is no relation of {model}")
            inner = getattr(fld.child, "get_prefetch_queryset", None)
            base = inner() if inner else member.relation.related_model._default_manager.all()
            prefetches.append(Prefetch(source, queryset=member.element.optimize(base)))
        elif member.role is Role.GROUP:
            _plan_level(member.members, model, selects, prefetches, columns)
        elif "." in source:
            *through, name = source.split(".")
            _need(columns, "__".join(through), {name})
        elif not (member.role in (Role.KEY, Role.HREF) or _is_column(model, source)):
            opaque = True  # a property or method may read any joined object
        prefetches.extend(getattr(fld, "prefetch_related", ()))
    if opaque:
        for path in refs:
            columns[path] = None


def _deferred(model, selects: set[str], columns: dict[str, set[str] | None]) -> list[str]:
    """The fields of each joined object nothing renders (None in `columns`: anything may be)."""
    deferred = []
    for path in sorted(selects):
        wanted = columns.get(path)
        if wanted is None:
            continue
        related = model
        for name in path.split("__"):
            related = related._meta.get_field(name).related_model
        # Keys a deeper join goes through stay loaded.
        inner = path + "__"
        wanted = wanted | {
            other.removeprefix(inner).split("__")[0] for other in selects if other.startswith(inner)
        }
        deferred += [
            f"{path}__{f.name}"
            for f in related._meta.concrete_fields
            if not f.primary_key and f.name not in wanted and f.attname not in wanted
        ]
    return deferred


def _need(columns: dict, path: str, wanted: set[str] | None) -> None:
    known = columns.get(path, set())
    columns[path] = None if wanted is None or known is None else known | wanted


def _is_column(model, name: str) -> bool:
    column = model_column(model, name)
    return column is not None and column.concrete and not column.is_relation
