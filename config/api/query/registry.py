"""Which objects the query service knows, and the fields each one offers, read from the object spec.

The declared objects are loaded from the spec at startup (config.api.apps); each object's field
map is made from its spec's members, so what a query can read is exactly what the object's GET
renders, rendered by the same serializer fields.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import BaseExpression
from django.utils import timezone
from rest_framework import serializers
from rest_framework.settings import api_settings

from config.api import errors, identity, spec
from config.api.fields import USER_OBJECT
from config.api.fields import as_number as _as_number
from config.api.permissions import permission_for
from config.api.serializers import AuditSerializer
from config.api.spec import Member, Role


class Kind(enum.StrEnum):
    """What a column holds, which decides the operators and values a filter may use."""

    STRING = "string"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    KEY = "key"  # an integer key, rendered as a string
    HREF = "href"  # selectable only


@dataclass(frozen=True)
class Computed:
    """An ORM expression behind a read-only field the model does not store.

    `expression` is an unresolved expression (F, Q, Case/When, functions...) or an ORM path.
    `kind` is needed only when neither the serializer field nor the expression tells it (a
    SerializerMethodField over a bare F()).
    """

    expression: Any
    kind: Kind | str | None = None


@dataclass(frozen=True)
class Column:
    """A selectable, filterable value: a stored field, a computed expression, a key or an href."""

    path: str  # API dot path, from the object the column was reached from
    kind: Kind
    render: Callable[[Any], Any]
    orm: str | None = None  # ORM lookup path
    expression: Any = None  # unresolved ORM expression, when computed
    empty_is_null: bool = False  # "" is stored for what the serializer renders as null
    models: frozenset = frozenset()  # models whose view permission reading it needs

    def rebased(self, path_prefix: str, orm_prefix: str, needs: frozenset) -> Column:
        """The same column reached through a reference (`component.` / `component__`)."""
        return replace(
            self,
            path=path_prefix + self.path,
            orm=None if self.orm is None else orm_prefix + self.orm,
            expression=None if self.expression is None else reroot(self.expression, orm_prefix),
            models=self.models | needs,
        )


@dataclass(frozen=True)
class Reference:
    """A `RefField` (or the audit's user refs): `kit.key`, `kit.id`, `kit.href`, `kit.<field>`."""

    path: str
    orm: str
    model: type[models.Model]
    # Its extra members, each with the member of the referenced object it shows (the spec's).
    extra: Mapping[str, Member | None] = field(default_factory=dict)
    user: bool = False


@dataclass(frozen=True)
class Array:
    """A list of objects rendered inline (`kitComponents`): only `$has` can look inside."""

    path: str
    element: spec.ObjectSpec  # its element, whose `parent_link` is its key to the parent


@dataclass
class Fields:
    columns: dict[str, Column] = field(default_factory=dict)
    references: dict[str, Reference] = field(default_factory=dict)
    arrays: dict[str, Array] = field(default_factory=dict)
    groups: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Resolved:
    """A path resolved from the queried object: a column, or an array plus a path inside it."""

    path: str
    column: Column | None = None
    array: Array | None = None
    array_orm_prefix: str = ""
    element: QueryObject | None = None
    element_path: str | None = None  # None: the element's key itself
    models: frozenset = frozenset()


class NotReachable(Exception):
    pass


class QueryObject:
    """One queryable object (or list element): its spec and the field map derived from it."""

    def __init__(self, described: spec.ObjectSpec, registry: Registry):
        self.spec = described
        self.name = described.name
        self.model = described.model
        self.expressions = described.expressions
        self._queryset = described.query
        if self._queryset is None:  # a list element, read as part of the object listing it
            self._queryset = described.model._default_manager.all()
        self.registry = registry

    @property
    def view_permission(self) -> str:
        return permission_for(self.model)

    def queryset(self) -> QuerySet:
        # Rows are read with values(): the selector's select/prefetch hints would be ignored.
        return self._queryset.all().select_related(None).prefetch_related(None)

    @cached_property
    def fields(self) -> Fields:
        out = Fields()
        for member in self.spec.members.values():
            _add_member(self, member, out)
        unused = set(self.expressions) - set(out.columns)
        if unused:
            raise ImproperlyConfigured(
                f"{self.name}: expressions for fields its serializer does not render: {unused}"
            )
        return out

    def __repr__(self) -> str:
        return f"<QueryObject {self.name}>"


MAX_RESOLVED = 4096


class Registry:
    def __init__(self) -> None:
        self._objects: dict[str, QueryObject] = {}
        self._elements: dict[spec.ObjectSpec, QueryObject] = {}
        # Resolved paths, by object and path: the same for every request until an object is
        # loaded. Bounded, as clients name the paths.
        self._resolved: dict[tuple[QueryObject, str], Resolved] = {}

    def load(self, objects: list[spec.ObjectSpec]) -> None:
        """Register every object whose spec names what the query service reads (at startup)."""
        for described in objects:
            if described.query is not None:
                self._objects[described.name] = QueryObject(described, self)
        self._resolved.clear()

    def get(self, name: str) -> QueryObject | None:
        return self._objects.get(name)

    def names(self) -> list[str]:
        return sorted(self._objects)

    def for_model(self, model: type[models.Model]) -> QueryObject | None:
        return next((obj for obj in self._objects.values() if obj.model is model), None)

    # --- resolving a dot path --------------------------------------------------------------
    def resolve(self, obj: QueryObject, path: str) -> Resolved:
        """A client's dot path to a column (or an array for $has); 400 REST-1043 if undeclared."""
        if not isinstance(path, str) or not path:
            raise errors.not_a_field(str(path))
        resolved = self._resolved.get((obj, path))
        if resolved is not None:
            return resolved
        try:
            resolved = self._resolve(obj, path, "", "", frozenset())
        except NotReachable as exc:
            raise errors.not_a_field(path) from exc
        if len(self._resolved) >= MAX_RESOLVED:
            self._resolved.clear()
        self._resolved[(obj, path)] = resolved
        return resolved

    def _resolve(
        self, obj: QueryObject, rest: str, path_prefix: str, orm_prefix: str, needs: frozenset
    ) -> Resolved:
        fields = obj.fields
        column = fields.columns.get(rest)
        if column is not None:
            column = column.rebased(path_prefix, orm_prefix, needs)
            return Resolved(path_prefix + rest, column=column, models=column.models)
        for name, array in fields.arrays.items():
            if rest == name or rest.startswith(name + "."):
                element = self.for_model(array.element.model)
                # Elements of an unregistered model are part of the object that lists them.
                seen = {array.element.model} if element is not None else set()
                return Resolved(
                    path_prefix + rest,
                    array=array,
                    array_orm_prefix=orm_prefix,
                    element=element or self._element(array.element),
                    element_path=rest[len(name) + 1 :] or None,
                    models=needs | seen,
                )
        for name, reference in fields.references.items():
            if rest.startswith(name + "."):
                return self._resolve_member(
                    reference,
                    rest[len(name) + 1 :],
                    f"{path_prefix}{name}.",
                    f"{orm_prefix}{reference.orm}__",
                    needs,
                )
        full = path_prefix + rest
        if rest in fields.groups:
            members = sorted(p for p in fields.columns if p.startswith(rest + "."))
            raise invalid(full, f"{full} is a group: name its members ({', '.join(members)})")
        if rest in fields.references:
            raise invalid(full, f"{full} is a reference: name a member such as {full}.id")
        raise errors.not_a_field(full)

    def _resolve_member(
        self,
        reference: Reference,
        member: str,
        path_prefix: str,
        orm_prefix: str,
        needs: frozenset,
    ) -> Resolved:
        """`key`, `id`, `href` and the reference's extras come with the reference itself; anything
        else is read from the referenced object, which the user must then be allowed to view."""
        target = None if reference.user else self.for_model(reference.model)
        base = _reference_columns(reference, target)
        if member in base:
            column = base[member].rebased(path_prefix, orm_prefix, needs)
            return Resolved(column.path, column=column, models=column.models)
        if target is None:
            raise errors.not_a_field(path_prefix + member)
        return self._resolve(target, member, path_prefix, orm_prefix, needs | {reference.model})

    def _element(self, element: spec.ObjectSpec) -> QueryObject:
        if element not in self._elements:
            self._elements[element] = QueryObject(element, self)
        return self._elements[element]


def invalid(target: str, reason: str) -> errors.ApiError:
    return errors.error(errors.INVALID_QUERY, target, REASON=reason)


# --- deriving the field map from a serializer -------------------------------------------------
# AuditSerializer's createdBy / modifiedBy are method fields over the user's key.
_AUDIT_EXPRESSIONS = {
    "createdBy": Computed("created_by", Kind.KEY),
    "modifiedBy": Computed("modified_by", Kind.KEY),
}


def _add_member(obj: QueryObject, member: Member, out: Fields) -> None:
    fld, path, model = member.field, member.path, obj.model
    if fld.write_only:
        return
    declared = obj.expressions.get(path)
    if declared is None and isinstance(member.owner, AuditSerializer):
        declared = _AUDIT_EXPRESSIONS.get(member.name)
    role = member.role
    if role is Role.HREF:
        out.columns[path] = _href_column(path, identity.object_name(model))
    elif role is Role.KEY:
        out.columns[path] = Column(path, Kind.KEY, _str, orm="pk")
    elif role is Role.LIST:
        array = _array(member)
        if array is not None:
            out.arrays[path] = array
    elif role is Role.GROUP:
        out.groups.add(path)
    elif role is Role.NESTED:
        # A nested object under its own source renders a related object whole; none exists
        # yet, and a RefField is the way to expose one.
        pass
    elif role is Role.REFERENCE:
        if fld.queryset is not None:  # a RefField without a queryset cannot say its model
            out.references[path] = Reference(
                path, _orm(fld.source), fld.model, extra=member.reference_extras
            )
    elif role is Role.USER:
        out.references[path] = Reference(path, _orm(fld.source), get_user_model(), user=True)
    elif declared is not None:
        out.columns[path] = _computed_column(obj, path, fld, declared)
    elif (relation := _foreign_key(model, fld)) is not None:
        # A custom field rendering a foreign key (a reference built from the stored key).
        out.references[path] = Reference(path, relation.name, relation.related_model)
    else:
        column = _stored_column(obj, path, fld)
        if column is not None:
            out.columns[path] = column


# Serializer fields that render a foreign key's raw value rather than a reference object.
_SCALAR_FIELDS = (
    serializers.CharField,
    serializers.IntegerField,
    serializers.ChoiceField,
    serializers.PrimaryKeyRelatedField,
)


def _foreign_key(model, fld: serializers.Field):
    if isinstance(fld, _SCALAR_FIELDS) or fld.source == "*":
        return None
    stored = model_field(model, _orm(fld.source))
    if isinstance(stored, models.ForeignKey) and "__" not in _orm(fld.source):
        return stored
    return None


def _stored_column(obj: QueryObject, path: str, fld: serializers.Field) -> Column | None:
    orm = _orm(fld.source)
    stored = model_field(obj.model, orm)
    if stored is not None:
        kind = _model_kind(stored)
        if kind is None:
            return None
        return Column(
            path, kind, _renderer(fld, kind), orm=orm, empty_is_null=_empty_is_null(fld, kind)
        )
    return None  # computed in Python only: not queryable


def _computed_column(obj: QueryObject, path: str, fld: serializers.Field, declared) -> Column:
    computed = declared if isinstance(declared, Computed) else Computed(declared)
    expression, kind = computed.expression, computed.kind
    kind = Kind(kind) if kind else None
    if isinstance(expression, str):
        orm = _orm(expression)
        stored = model_field(obj.model, orm)
        if stored is None:
            raise ImproperlyConfigured(f"{obj.name}.{path}: {expression} is not a model field")
        kind = kind or _model_kind(stored)
        return Column(path, _need(kind, path), _renderer(fld, kind), orm=orm)
    if not isinstance(expression, BaseExpression | Q | F):
        raise ImproperlyConfigured(f"{obj.name}.{path}: {expression!r} is not an ORM expression")
    kind = kind or _field_kind(fld) or _expression_kind(expression)
    return Column(path, _need(kind, path), _renderer(fld, kind), expression=expression)


def _need(kind: Kind | None, path: str) -> Kind:
    if kind is None:
        raise ImproperlyConfigured(f"{path}: say which kind of value the expression gives")
    return kind


def _array(member: Member) -> Array | None:
    # Reverse foreign keys only (kitComponents); other lists are not queryable.
    if not isinstance(member.relation, models.ManyToOneRel):
        return None
    return Array(member.path, member.element)


def _reference_columns(reference: Reference, target: QueryObject | None) -> dict[str, Column]:
    """The members a reference renders: key, id, href and its extras."""
    model = reference.model
    if reference.user:
        id_field = model.USERNAME_FIELD
        return {
            "key": Column("key", Kind.KEY, _str, orm="pk"),
            "id": Column("id", Kind.STRING, _str, orm=id_field),
            "href": _href_column("href", USER_OBJECT),
        }
    columns = target.fields.columns if target is not None else {}
    out = {
        "key": Column("key", Kind.KEY, _str, orm="pk"),
        "href": _href_column("href", identity.object_name(model)),
    }
    id_field = identity.id_field(model)
    if "id" in columns:
        out["id"] = columns["id"]
    elif id_field:
        out["id"] = Column("id", Kind.STRING, _str, orm=id_field)
    else:
        out["id"] = Column("id", Kind.KEY, _str, orm="pk")
    # An extra is the referenced object's own field (`standardCost` is its
    # `purchasing.standardCost`), queryable where that is.
    for name, shown in reference.extra.items():
        column = columns.get(shown.path) if shown is not None else None
        if column is not None:
            out[name] = replace(column, path=name)
    return out


def _href_column(path: str, api_object: str) -> Column:
    base = f"/objects/{api_object}/"

    def render(value):
        return None if value is None else f"{base}{value}"

    return Column(path, Kind.HREF, render, orm="pk")


def _orm(source: str) -> str:
    return source.replace(".", "__")


def model_field(model, orm: str):
    """The concrete model field an ORM path of forward relations ends at (`pk`, `part__pk`: the
    primary key), or None."""
    walked = spec.model_path(model, orm)
    if len(walked) != orm.count("__") + 1 or any(f.many_to_many or f.one_to_many for f in walked):
        return None
    return walked[-1] if walked[-1].concrete else None


# The kind of a model field or serializer field: the first class it is an instance of.
_MODEL_KINDS = (
    (models.ForeignKey, Kind.KEY),
    (models.BooleanField, Kind.BOOLEAN),
    (models.DateTimeField, Kind.DATETIME),
    (models.DateField, Kind.DATE),
    (models.DecimalField | models.FloatField, Kind.NUMBER),
    (models.IntegerField, Kind.INTEGER),
    (models.CharField | models.TextField, Kind.STRING),
)
_FIELD_KINDS = (
    (serializers.BooleanField, Kind.BOOLEAN),
    (serializers.DateTimeField, Kind.DATETIME),
    (serializers.DateField, Kind.DATE),
    (serializers.DecimalField | serializers.FloatField, Kind.NUMBER),
    (serializers.IntegerField, Kind.INTEGER),
    (serializers.ChoiceField | serializers.CharField, Kind.STRING),
)


def _model_kind(stored) -> Kind | None:
    return next((kind for cls, kind in _MODEL_KINDS if isinstance(stored, cls)), None)


def _field_kind(fld: serializers.Field) -> Kind | None:
    return next((kind for cls, kind in _FIELD_KINDS if isinstance(fld, cls)), None)


def _expression_kind(expression) -> Kind | None:
    try:
        output = expression.output_field
    except (AttributeError, Exception):  # unresolved F() and friends cannot tell
        return None
    return _model_kind(output)


def _str(value):
    return None if value is None else str(value)


_DEFAULT_RENDER: dict[Kind, Callable[[Any], Any]] = {
    Kind.STRING: str,
    Kind.NUMBER: _as_number,
    Kind.INTEGER: int,
    Kind.BOOLEAN: bool,
    Kind.KEY: str,
    Kind.DATE: serializers.DateField().to_representation,
    Kind.DATETIME: serializers.DateTimeField().to_representation,
}


def _renderer(fld: serializers.Field, kind: Kind | None) -> Callable[[Any], Any]:
    """The serializer field's own to_representation, so a query renders what GET renders."""
    if isinstance(fld, serializers.SerializerMethodField) or kind is Kind.KEY:
        plain = _DEFAULT_RENDER[kind] if kind else str
    elif _plain_datetime(fld):
        plain = _render_datetime
    else:
        plain = fld.to_representation

    def render(value):
        return None if value is None else plain(value)

    return render


def _plain_datetime(fld: serializers.Field) -> bool:
    """A DRF DateTimeField with the project's format: rendered by _render_datetime."""
    return (
        type(fld) is serializers.DateTimeField
        and getattr(fld, "format", api_settings.DATETIME_FORMAT) == api_settings.DATETIME_FORMAT
        and not hasattr(fld, "timezone")
        and settings.USE_TZ
    )


def _render_datetime(value: dt.datetime) -> str:
    """What DateTimeField.to_representation gives for a stored (aware) datetime, without its
    per-value look-up of the active time zone: Kitsmith never activates another one."""
    return value.astimezone(timezone.get_default_timezone()).strftime(api_settings.DATETIME_FORMAT)


def _empty_is_null(fld: serializers.Field, kind: Kind) -> bool:
    if kind is not Kind.STRING:
        return False
    try:
        return fld.to_representation("") is None
    except Exception:  # a field that cannot render "" never stores it
        return False


def reroot(expression: Any, prefix: str) -> Any:
    """An unresolved expression over one model, rewritten to reach it through `prefix`
    (`Case(When(enable_serial_no=True...))` -> `Case(When(component__enable_serial_no=True...))`).
    """
    if not prefix:
        return expression
    if isinstance(expression, str):
        return prefix + expression
    if isinstance(expression, OuterRef):
        raise NotReachable(str(expression))
    if isinstance(expression, F):
        return F(prefix + expression.name)
    if isinstance(expression, Q):
        # Rebuilt from its deconstruction (what migrations serialize it by): lookups come as
        # (path, value) arguments or as keywords, beside the connector and negation flags that
        # are passed back to Q unchanged.
        _, args, kwargs = expression.deconstruct()
        flags = {name: kwargs.pop(name) for name in ("_connector", "_negated") if name in kwargs}
        lookups = {prefix + name: _reroot_value(value, prefix) for name, value in kwargs.items()}
        return Q(*(_reroot_child(child, prefix) for child in args), **lookups, **flags)
    if isinstance(expression, BaseExpression):
        if isinstance(expression, Subquery):
            raise NotReachable(str(expression))
        clone = expression.copy()
        clone.set_source_expressions(
            [reroot(source, prefix) for source in expression.get_source_expressions()]
        )
        return clone
    return expression


def _reroot_child(child: Any, prefix: str) -> Any:
    if isinstance(child, tuple):
        return (prefix + child[0], _reroot_value(child[1], prefix))
    return reroot(child, prefix)


def _reroot_value(value: Any, prefix: str) -> Any:
    """A lookup's value: an expression is rerooted, a literal stays."""
    return reroot(value, prefix) if isinstance(value, BaseExpression | F | Q) else value


# Filled from the object spec at startup (config.api.apps).
registry = Registry()
