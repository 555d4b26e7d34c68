"""`GET /services/core/model` (contract 13.1): what the API serves, and the model of each object,
workflow and service, shaped as Intacct's.

Nothing here is written out by hand: the resources are what the URLconf routes (objects,
workflows and services, with the methods their views serve), and a model is rendered from the
object spec (config.api.spec), the one description the serializers, the query service and the
OpenAPI document also follow. Both are worked out once per process.
"""

from __future__ import annotations

import copy
import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import regex
from django.urls import NoReverseMatch, URLResolver, get_resolver, get_script_prefix, get_urlconf
from django.urls import reverse as url_reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import errors, spec
from config.api.protocol import reject_unknown_parameters
from config.api.responses import one
from config.api.schema import IntacctAutoSchema, one_envelope
from config.api.spec import Member, ObjectSpec, Role

VERSION = "v1"
HREF = f"/services/core/model?version={VERSION}&name="  # a resource's href, before its name
PARAMETERS = ("name", "type", "filter", "version")
# A resource's kind: the first segment of its path, and the `type` Intacct gives it.
TYPES = {"objects": "rootObject", "workflows": "workflow", "services": "service"}
# `type=` narrows the list to the resources of this type.
TYPE_FILTERS = {"object": "rootObject", **{kind: kind for kind in TYPES.values()}}
METHODS = ("get", "post", "put", "patch", "delete")  # in the order `httpMethods` names them
# Seconds a `filter` may take over every name: a pathological pattern is refused, not run on.
FILTER_SECONDS = 0.1


@dataclass(frozen=True)
class Resource:
    """Something the API serves: an object, a workflow or a service."""

    api_object: str  # its path without the leading slash: `objects/inventory-control/item`
    view: type  # the view class the URLconf routes it to
    methods: tuple[str, ...]  # what that view serves there, in METHODS order

    @property
    def kind(self) -> str:
        return self.api_object.split("/", 1)[0]

    @property
    def type(self) -> str:
        return TYPES[self.kind]

    @property
    def name(self) -> str:
        """The path below its kind: `inventory-control/item`."""
        return self.api_object.split("/", 1)[1]

    def entry(self) -> dict[str, str]:
        return {
            "apiObject": self.api_object,
            "type": self.type,
            "httpMethods": ",".join(["OPTIONS", *(m.upper() for m in self.methods)]),
            "href": f"{HREF}{self.api_object}",
        }


# --- what is routed ------------------------------------------------------------------------------
def resources() -> tuple[Resource, ...]:
    """Every object, workflow and service the URLconf routes, in that order (each in the order
    it is routed)."""
    return _resources(get_resolver(get_urlconf()))


@functools.cache
def _resources(resolver: URLResolver) -> tuple[Resource, ...]:
    paths: dict[type, str] = {}
    served: dict[type, set[str]] = {}
    for pattern in _routes(resolver.url_patterns):
        callback = pattern.callback
        # Django's View.as_view() names its class `view_class`; a DRF viewset's as_view() `cls`,
        # with the `actions` (method -> handler) this route maps.
        view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        if view is None:
            continue
        actions = getattr(callback, "actions", None)
        handled = set(actions) if actions else {m for m in METHODS if hasattr(view, m)}
        served.setdefault(view, set()).update(handled & set(view.http_method_names))
        path = _path(callback)
        if path is not None:
            paths.setdefault(view, path)
    found = []
    for view, path in paths.items():
        kind = path.split("/", 1)[0]
        if kind not in TYPES or "/" not in path:
            continue
        if kind == "objects" and spec.get(path.split("/", 1)[1]) is None:
            continue  # not a described object (every routed one is)
        found.append(Resource(path, view, tuple(m for m in METHODS if m in served[view])))
    order = list(TYPES)
    return tuple(sorted(found, key=lambda resource: order.index(resource.kind)))


def _routes(patterns):
    """The URL patterns served at the root: not those under a namespace (`/ia/api/v1` serves the
    same views again; the admin is no API)."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace is None:
                yield from _routes(pattern.url_patterns)
        else:
            yield pattern


def _path(callback) -> str | None:
    """A route's path without arguments (None for a route that takes some, a detail route)."""
    try:
        path = url_reverse(callback)
    except NoReverseMatch:
        return None
    return path.removeprefix(get_script_prefix())


def named(name: str) -> Resource | None:
    """The resource a `name` names: `objects/inventory-control/item`, or without its kind's
    prefix (`inventory-control/item`, `inventory-control/part-kit/issue`)."""
    by_path = {resource.api_object: resource for resource in resources()}
    for candidate in (name, *(f"{kind}/{name}" for kind in TYPES)):
        if candidate in by_path:
            return by_path[candidate]
    return None


# --- one resource's model ------------------------------------------------------------------------
@functools.cache
def model(resource: Resource) -> dict[str, Any]:
    """The model of an object (its fields, groups, refs and lists), a workflow (its request and
    response) or a service, with what the API does with it."""
    if resource.kind == "objects":
        body: dict[str, Any] = object_body(spec.get(resource.name))
    elif resource.kind == "workflows":
        request = object_body(spec.describe(resource.view.input_serializer))
        body = {
            "request": {"fields": request["fields"], "refs": request["refs"]},
            "response": object_body(spec.describe(resource.view.result_serializer)),
        }
    else:
        body = {}
    entry = resource.entry()
    return {
        **body,
        "httpMethods": entry["httpMethods"],
        # Idempotency-Key is taken on the writes of objects and workflows (contract 12.1).
        "idempotenceSupported": resource.kind != "services",
        "apiObject": entry["apiObject"],
        "type": entry["type"],
        "href": entry["href"],
    }


def object_body(described: ObjectSpec) -> dict[str, Any]:
    """`fields`, `groups`, `refs` and `lists` of an object or a body (empty ones as `[]`, as
    Intacct writes them)."""
    level = _level(described, described.top, read_only=False, mutable=True)
    return {name: level.get(name) or [] for name in ("fields", "groups", "refs", "lists")}


def _level(described: ObjectSpec, members, *, read_only: bool, mutable: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    groups: dict[str, Any] = {}
    refs: dict[str, Any] = {}
    lists: dict[str, Any] = {}
    for member in members:
        fixed = read_only or member.read_only
        changes = mutable and not fixed and described.mutable(member.path)
        if member.refers_to is not None:
            refs[member.name] = _reference(member, read_only=fixed, mutable=changes)
        elif member.role is Role.GROUP:
            groups[member.name] = _group(described, member.members, fixed, changes)
        elif member.role is Role.NESTED:
            # A nested object: a reference when it shows an object of the API, else a group.
            inner = spec.describe(type(member.field), serializer=member.field)
            nested = _group(inner, inner.top, fixed, changes)
            if inner.name:
                refs[member.name] = {"apiObject": inner.name, **nested}
            else:
                groups[member.name] = nested
        elif member.role is Role.LIST and member.element is not None and member.element.name:
            lists[member.name] = {"apiObject": member.element.name}
        else:
            fields[member.name] = _field(member.shape, fixed, member.write_only, changes)
            if member.default is not None and not fixed:
                fields[member.name]["default"] = member.default
    return {"fields": fields, "groups": groups, "refs": refs, "lists": lists}


def _group(described: ObjectSpec, members, read_only: bool, mutable: bool) -> dict[str, Any]:
    """A group's `fields`, and its `groups`, `refs` and `lists` where it has any."""
    level = _level(described, members, read_only=read_only, mutable=mutable)
    return {name: value for name, value in level.items() if value or name == "fields"}


def _field(
    shape: Mapping[str, Any], read_only: bool, write_only: bool, mutable: bool
) -> dict[str, Any]:
    entry = {
        "type": shape["type"],
        "readOnly": read_only,
        "writeOnly": write_only,
        "required": False,  # as Intacct: what a create needs is a rule, not the model's
        "nullable": shape["nullable"],
        "mutable": mutable,
    }
    for name in ("enum", "format"):
        if name in shape:
            entry[name] = shape[name]
    return entry


def _reference(member: Member, *, read_only: bool, mutable: bool) -> dict[str, Any]:
    """A reference: the object it names, and the members it renders (`key` and `id` name the
    object in a request; the rest is read-only, typed as the named object types it)."""
    nullable = member.shape["nullable"]
    text = {"type": "string", "nullable": nullable}
    named_by = _field(text, read_only, False, mutable)
    fields = {"key": named_by, "id": dict(named_by)}
    for name, shown in member.reference_extras.items():
        fields[name] = _field(shown.shape if shown else text, True, False, False)
    fields["href"] = _field(text, True, False, False)
    return {"apiObject": member.refers_to, "fields": fields}


# --- the request ---------------------------------------------------------------------------------
def answer(params: Mapping[str, Any]) -> dict[str, Any]:
    """The body answering these query parameters: the list of resources, or one's model (an
    unknown name: an empty result)."""
    reject_unknown_parameters(params, PARAMETERS, taker="the model service")
    for name in params:
        if len(params.getlist(name)) > 1:
            raise _invalid(name, "given more than once")
    given = {name: params[name] for name in params if params[name]}  # empty: left out
    if given.get("version", VERSION) != VERSION:
        raise _invalid("version", f"must be {VERSION}")
    if "name" in given:
        for other in ("type", "filter"):
            if other in given:
                raise _invalid(other, "cannot be combined with name")
        found = named(given["name"])
        if found is None:
            return {"ia::result": [], "ia::meta": _meta(0)}
        return one(copy.deepcopy(model(found)))
    wanted = resources()
    if "type" in given:
        if given["type"] not in TYPE_FILTERS:
            raise _invalid("type", f"must be one of {', '.join(TYPE_FILTERS)}")
        wanted = tuple(r for r in wanted if r.type == TYPE_FILTERS[given["type"]])
    if "filter" in given:
        wanted = _filtered(wanted, given["filter"])
    return {"ia::result": [r.entry() for r in wanted], "ia::meta": _meta(len(wanted))}


def _filtered(wanted: tuple[Resource, ...], pattern: str) -> tuple[Resource, ...]:
    """The resources whose apiObject the regular expression matches (anywhere in it)."""
    try:
        compiled = regex.compile(pattern)
    except regex.error as exc:
        raise _invalid("filter", f"not a valid regular expression: {exc}") from exc
    deadline = time.monotonic() + FILTER_SECONDS
    try:
        return tuple(
            r
            for r in wanted
            if compiled.search(r.api_object, timeout=max(deadline - time.monotonic(), 0.001))
        )
    except TimeoutError as exc:
        raise _invalid("filter", "the regular expression takes too long to match") from exc


def _invalid(parameter: str, reason: str) -> errors.ApiError:
    return errors.error(errors.INVALID_PARAMETER, parameter, PARAMETER=parameter, REASON=reason)


def _meta(count: int) -> dict[str, int]:
    return {"totalCount": count, "totalSuccess": count, "totalError": 0}


# --- the view ------------------------------------------------------------------------------------
_FIELD = {
    "type": "object",
    "properties": {
        "type": {
            "type": "string",
            "description": "string, number, integer, boolean, array or object",
        },
        "readOnly": {"type": "boolean"},
        "writeOnly": {"type": "boolean"},
        "required": {"type": "boolean"},
        "nullable": {"type": "boolean"},
        "mutable": {"type": "boolean"},
        "enum": {"type": "array", "items": {"type": "string"}},
        "format": {"type": "string", "description": "date-time or decimal"},
        "default": {},
    },
}
_ENTRY = {
    "type": "object",
    "properties": {
        "apiObject": {"type": "string", "example": "objects/inventory-control/kit-component"},
        "type": {"type": "string", "description": ", ".join(TYPES.values())},
        "httpMethods": {"type": "string", "example": "OPTIONS,GET,POST,PATCH,DELETE"},
        "href": {"type": "string", "example": f"{HREF}objects/inventory-control/kit-component"},
    },
    "required": ["apiObject", "type", "httpMethods", "href"],
}
_MODEL = {
    "type": "object",
    "description": "An object's model (`fields`, `groups`, `refs`, `lists`), a workflow's "
    "(`request`, `response`) or a service's, with `httpMethods`, `idempotenceSupported`, "
    "`apiObject`, `type` and `href`.",
    "properties": {
        "fields": {"type": "object", "additionalProperties": _FIELD},
        "groups": {"oneOf": [{"type": "object"}, {"type": "array", "maxItems": 0}]},
        "refs": {"oneOf": [{"type": "object"}, {"type": "array", "maxItems": 0}]},
        "lists": {"oneOf": [{"type": "object"}, {"type": "array", "maxItems": 0}]},
        "request": {"type": "object"},
        "response": {"type": "object"},
        "idempotenceSupported": {"type": "boolean"},
        **_ENTRY["properties"],
    },
    "required": _ENTRY["required"],
}


class ModelSchema(IntacctAutoSchema):
    error_statuses = ("400", "401", "429", "500")

    def get_response_serializers(self):
        result = {
            "oneOf": [
                {"type": "array", "items": self._component("ModelEntry", _ENTRY)},
                self._component("Model", _MODEL),
            ]
        }
        return {200: OpenApiResponse(one_envelope(result), description=DESCRIPTION_200)}


DESCRIPTION_200 = "The resources (without `name`), a resource's model, or `[]` for an unknown name"


class ModelView(APIView):
    """`GET /services/core/model`: the resources the API serves, or the model of one."""

    required_permissions: list[str] = []  # anyone signed in may read the models
    schema = ModelSchema()

    @extend_schema(
        operation_id="model",
        summary="Models of the objects, workflows and services",
        description="Without `name`: one entry per object, workflow and service (`apiObject`, "
        "`type`, `httpMethods`, `href`). With `name`: that resource's model, as Intacct shapes "
        "it; an unknown name answers `[]`. Any other parameter, or a value out of range, is 400.",
        tags=["model"],
        parameters=[
            OpenApiParameter(
                "name",
                str,
                description="A resource (`inventory-control/kit-component`, with or without "
                "`objects/`; `workflows/inventory-control/part-kit/issue`; "
                "`services/core/query`): answers its model",
            ),
            OpenApiParameter(
                "type",
                str,
                description="Only resources of this type: "
                + ", ".join(f"`{name}`" for name in TYPE_FILTERS)
                + " (`object` is `rootObject`)",
            ),
            OpenApiParameter(
                "filter", str, description="Only resources whose apiObject this regex matches"
            ),
            OpenApiParameter("version", str, description=f"The API version: `{VERSION}`"),
        ],
    )
    def get(self, request: Request) -> Response:
        return Response(answer(request.query_params))
