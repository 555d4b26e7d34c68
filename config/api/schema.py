"""OpenAPI: every operation documents its real bodies, the Intacct envelopes and the error body."""

import copy

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, build_choice_field
from drf_spectacular.utils import OpenApiExample, OpenApiParameter
from rest_framework import serializers

from config.api import identity, spec
from config.api.batch import MAX_RECORDS, TRANSACTION_HEADER
from config.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from config.api.idempotency import KEYED_METHODS, IdempotentMixin
from config.api.protocol import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, VERSION_PREFIX
from config.api.viewsets import ObjectViewSet

REFERENCE = {
    "type": "object",
    "properties": {
        "key": {"type": "string", "example": "27"},
        "id": {"type": "string", "example": "Kit_1"},
        "href": {"type": "string", "example": "/objects/inventory-control/item/27"},
    },
    "required": ["key", "id", "href"],
}
ONE_META = {
    "type": "object",
    "properties": {
        "totalCount": {"type": "integer", "example": 1},
        "totalSuccess": {"type": "integer", "example": 1},
        "totalError": {"type": "integer", "example": 0},
    },
    "required": ["totalCount", "totalSuccess", "totalError"],
}
PAGE_META = {
    "type": "object",
    "properties": {
        "totalCount": {"type": "integer", "example": 2},
        "start": {"type": "integer", "example": 1},
        "pageSize": {"type": "integer", "example": 100},
        "next": {"type": "integer", "nullable": True, "example": None},
        "previous": {"type": "integer", "nullable": True, "example": None},
    },
    "required": ["totalCount", "start", "pageSize", "next", "previous"],
}
_ERROR_INFO = {
    "type": "object",
    "properties": {
        "messageId": {"type": "string"},
        "placeholders": {"type": "object", "additionalProperties": {"type": "string"}},
        "propertySet": {"type": "object"},
    },
}
_ERROR_DETAIL = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "example": "invalidRequest"},
        "message": {"type": "string", "example": "/newDate is not a valid field"},
        "errorId": {"type": "string", "example": "REST-1043"},
        "target": {"type": "string", "example": "/newDate"},
        "additionalInfo": _ERROR_INFO,
    },
    "required": ["code", "message", "errorId"],
}
ERROR_OBJECT = {
    "type": "object",
    "properties": {
        **_ERROR_DETAIL["properties"],
        "supportId": {"type": "string"},
        "details": {"type": "array", "items": _ERROR_DETAIL},
    },
    "required": ["code", "message", "errorId", "supportId"],
}


def _envelope(result: dict, meta: dict) -> dict:
    return {
        "type": "object",
        "properties": {"ia::result": result, "ia::meta": meta},
        "required": ["ia::result", "ia::meta"],
    }


ERROR_RESULT = {
    "type": "object",
    "properties": {"ia::error": ERROR_OBJECT},
    "required": ["ia::error"],
}
ERROR = _envelope(ERROR_RESULT, ONE_META)
# One position of a multi-status answer (batch forms, composite): a success with its status, or
# the error the single request would have answered.
ITEM_STATUS = {
    "type": "object",
    "properties": {"ia::status": {"type": "integer", "example": 201}},
    "required": ["ia::status"],
}
# A position that answered only its status (a batch DELETE's 204): nothing else, so that the
# three kinds of position are told apart (`oneOf`).
STATUS_ONLY = {**ITEM_STATUS, "additionalProperties": False}
ITEM_ERROR = {
    "type": "object",
    "properties": {"ia::error": ERROR_OBJECT, "ia::status": {"type": "integer", "example": 404}},
    "required": ["ia::error", "ia::status"],
}

ERROR_STATUSES = {
    "400": "Malformed request: bad JSON, unknown fields, missing payload, bad parameters",
    "401": "No or bad credentials",
    "403": "Not permitted",
    "404": "Unknown key or route",
    "409": "Conflict: duplicate, or still referenced",
    "412": "If-Match does not match the current ETag",
    "415": "Body is not JSON",
    "422": "A business rule was broken; one detail per rule, with target",
    "428": "If-Match required",
    "429": "Throttled; see Retry-After",
    "500": "Unexpected error; supportId finds it in the log",
}


def one_envelope(result_schema: dict) -> dict:
    return _envelope(result_schema, ONE_META)


def multi_envelope(item_schema: dict) -> dict:
    """A batch or composite answer: its items by position and their counts."""
    return _envelope({"type": "array", "items": item_schema}, ONE_META)


def with_status(schema: dict) -> dict:
    return {"allOf": [schema, ITEM_STATUS]}


def page_envelope(row_schema: dict) -> dict:
    return _envelope({"type": "array", "items": row_schema}, PAGE_META)


def _json(schema: dict, description: str) -> dict:
    return {"content": {"application/json": {"schema": schema}}, "description": description}


# The batch forms (contract 13.3), said on the operations that take them.
BATCH_FORMS = {
    "retrieve": f"With up to {MAX_RECORDS} comma-separated keys (`/objects/…/12,14`), the batch"
    " form: the objects in the order asked (200), or 207 with a 404 `ia::error` at the position"
    " of each unknown key.",
    "create": f"With a JSON array of up to {MAX_RECORDS} bodies, the batch form: each element is"
    " created as it would be alone, in its own transaction; 201 with the references when all"
    f" succeed, else 207 by position. `{TRANSACTION_HEADER}: true` makes it all or nothing.",
    "destroy": f"With up to {MAX_RECORDS} comma-separated keys, the batch form: each deleted as it"
    " would be alone (the request's If-Match applies to each); 204 when all are deleted, else 207"
    f" by position. `{TRANSACTION_HEADER}: true` makes it all or nothing.",
}


class IntacctAutoSchema(AutoSchema):
    # The error statuses an operation documents: a view that cannot answer some narrows them.
    error_statuses: tuple[str, ...] = tuple(ERROR_STATUSES)

    def _component(self, name: str, schema: dict) -> dict:
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name
        )
        self.registry.register_on_missing(component)
        return component.ref

    def _object_ref(self) -> dict:
        serializer = self.get_response_serializers()
        return self.resolve_serializer(serializer, "response").ref

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is not None:
            operation["responses"] = self.response_bodies(operation["responses"])
            if "requestBody" in operation:
                operation["requestBody"]["required"] = True  # no body is a 400, also on PATCH
        return operation

    def response_bodies(self, generated: dict) -> dict:
        """The operation's answers in the envelopes the view really answers with (for an action
        of ours; else as drf-spectacular generated them), and the error body for every error
        status."""
        action = getattr(self.view, "action", None)
        reference = self._component("Reference", REFERENCE)
        if action == "list":
            bodies = {"200": _json(page_envelope(reference), "A page of references, by key")}
        elif action == "retrieve":
            obj = self._object_ref()
            both = {"oneOf": [one_envelope(obj), multi_envelope(obj)]}
            bodies = {"200": _json(both, "The object (or the objects of a batch GET)")}
        elif action == "create":
            both = {"oneOf": [one_envelope(reference), multi_envelope(with_status(reference))]}
            bodies = {"201": _json(both, "Created (or every element of a batch)")}
        elif action == "partial_update":
            bodies = {"200": _json(one_envelope(reference), "Updated")}
        elif action == "partial_update_batch":
            batch = multi_envelope(with_status(reference))
            bodies = {"200": _json(batch, "Every element updated")}
        elif action == "destroy":
            bodies = {"204": {"description": "Deleted; no body"}}
        else:
            bodies = dict(generated)
        if action in ("retrieve", "create", "partial_update_batch", "destroy"):
            success = self._object_ref() if action == "retrieve" else reference
            item = {"oneOf": [with_status(success), STATUS_ONLY, ITEM_ERROR]}
            bodies["207"] = _json(multi_envelope(item), "A batch with a failure: each by position")
        for status, value in self.example_answers(action).items():
            content = bodies[status]["content"]["application/json"]
            example = {"value": value}
            if action == "list":  # not the demo's whole list: its meta is of a one-row list
                example["summary"] = "One row shown"
            content["examples"] = {"Example": example}
        error = self._component("Error", ERROR)
        for status, description in ERROR_STATUSES.items():
            if status in self.error_statuses:
                bodies.setdefault(status, _json(error, description))
        return bodies

    def object_spec(self) -> spec.ObjectSpec | None:
        """The object an ObjectViewSet's operation serves (None for a workflow or a service)."""
        if not isinstance(self.view, ObjectViewSet):
            return None
        return spec.get(identity.object_name(self.view.queryset.model))

    def get_examples(self):
        """An object's declared example (config.api.spec.Example), true of the demo data: the
        request bodies and the path's key; the answers are in response_bodies."""
        examples = list(super().get_examples())
        described = self.object_spec()
        example = described.example if described else None
        if example is None:
            return examples
        action = getattr(self.view, "action", None)
        noun = described.noun
        if action == "create" and example.create is not None:
            examples.append(
                OpenApiExample(f"A new {noun}", value=example.create, request_only=True)
            )
        if action == "partial_update" and example.update is not None:
            examples.append(
                OpenApiExample(f"Change a {noun}", value=example.update, request_only=True)
            )
        if action == "partial_update_batch" and example.update is not None:
            batch = [{"key": example.key, **example.update}]
            examples.append(
                OpenApiExample(f"Change {plural(noun)}", value=batch, request_only=True)
            )
        if action in ("retrieve", "partial_update"):
            examples.append(
                OpenApiExample(f"A {noun}", value=example.key, parameter_only=("key", "path"))
            )
        # The demo's own objects are in use (409): a delete's example is what the create made.
        if action == "destroy" and example.created:
            examples.append(
                OpenApiExample(
                    f"The new {noun}", value=example.created, parameter_only=("key", "path")
                )
            )
        return examples

    def example_answers(self, action: str | None) -> dict[str, dict]:
        """The answers to the declared example, by status: a list page of the demo object, a
        create's new reference, an update's."""
        described = self.object_spec()
        example = described.example if described else None
        if example is None:
            return {}
        name = described.name
        one_meta = {"totalCount": 1, "totalSuccess": 1, "totalError": 0}

        def ref(key: str, ident: str) -> dict:
            return {"key": key, "id": ident, "href": f"/objects/{name}/{key}"}

        if action == "list":
            meta = {
                "totalCount": 1,
                "start": 1,
                "pageSize": DEFAULT_PAGE_SIZE,
                "next": None,
                "previous": None,
            }
            return {"200": {"ia::result": [ref(example.key, example.id)], "ia::meta": meta}}
        if action == "create" and example.created:
            ident = example.created if described.id_field is None else example.create["id"]
            return {"201": {"ia::result": ref(example.created, ident), "ia::meta": one_meta}}
        if action == "partial_update" and example.update is not None:
            return {"200": {"ia::result": ref(example.key, example.id), "ia::meta": one_meta}}
        return {}

    def get_summary(self):
        described = self.object_spec()
        action = getattr(self.view, "action", None)
        if described is None or action not in SUMMARIES:
            return super().get_summary()
        noun = described.noun
        article = "an" if noun[0] in "aeiou" else "a"
        return SUMMARIES[action].format(a=article, noun=noun, nouns=plural(noun))

    def get_description(self):
        described = self.object_spec()
        action = getattr(self.view, "action", None)
        if described is None:  # a workflow or a service: its own docstring says what it does
            parts = [super().get_description()]
        else:  # the view's docstring is the developers': generated from the object's spec
            parts = [described.description, self.operation_notes(described, action)]
        parts.append(BATCH_FORMS.get(action))
        return "\n\n".join(text for text in parts if text)

    def operation_notes(self, described: spec.ObjectSpec, action: str | None) -> str:
        """What an operation does, from the object's spec and the view's filters."""
        nouns = plural(described.noun)
        if action == "list":
            text = f"A page of references to {nouns}, by key."
            filterset = getattr(self.view, "filterset_class", None)
            if filterset is not None and filterset.base_filters:
                text += " Filters: " + ", ".join(f"`{f}`" for f in filterset.base_filters) + "."
            return text + " `POST /services/core/query` reads chosen members of many at once."
        if action == "retrieve":
            return f"The {described.noun} with every member."
        if action == "create":
            required = [
                path
                for path, member in described.members.items()
                if "." not in path and not member.read_only and member.field.required
            ]
            text = f"Creates the {described.noun}; the answer is its reference."
            return text + (
                " Required: " + ", ".join(f"`{p}`" for p in required) + "." if required else ""
            )
        if action in ("partial_update", "partial_update_batch"):
            text = "Changes the members sent; the others keep their values."
            if described.immutable:
                fixed = ", ".join(f"`{p}`" for p in sorted(described.immutable))
                text += f" Set at create only: {fixed}."
            return text
        if action == "destroy":
            return f"Deletes the {described.noun}; refused (409) while anything still uses it."
        return ""

    def get_request_serializer(self):
        """A create takes one body or an array of them; the batch PATCH an array of changes,
        each the single PATCH's body with the `key` it changes. (A dict here maps media types to
        their raw schemas.)"""
        serializer = super().get_request_serializer()
        action = getattr(self.view, "action", None)
        if action == "create":
            one = self.resolve_serializer(serializer, "request").ref
            array = {"type": "array", "items": one, "minItems": 1, "maxItems": MAX_RECORDS}
            return {"application/json": {"oneOf": [one, array]}}
        if action == "partial_update_batch":
            patch = copy.copy(serializer)
            patch.partial = True
            # One object (not an allOf of the PATCH body and the key): the members it refuses
            # are those the PATCH refuses, less `key`.
            resolved = self.resolve_serializer(patch, "request")
            changes = dict(resolved.schema)
            changes.pop("description", None)  # the serializer's, for developers
            keyed = {
                **changes,
                "properties": {
                    "key": {"type": "string", "example": "42"},
                    **changes["properties"],
                },
                "required": ["key"],
                "additionalProperties": False,
            }
            one = self._component(resolved.name.removesuffix("Request") + "BatchRequest", keyed)
            array = {"type": "array", "items": one, "minItems": 1, "maxItems": MAX_RECORDS}
            return {"application/json": array}
        return serializer

    def get_operation_id(self):
        operation_id = super().get_operation_id()
        if getattr(self.view, "action", None) == "partial_update_batch":
            return operation_id + "_batch"  # not the PATCH of one object's id
        return operation_id

    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        action = getattr(self.view, "action", None)
        if action == "list":
            params += [
                OpenApiParameter("start", int, description="1-based first row (default 1)"),
                OpenApiParameter(
                    "size",
                    int,
                    description=f"Page size (default {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE})",
                ),
            ]
        if action in ("retrieve", "destroy"):
            params.append(
                OpenApiParameter(
                    "key",
                    str,
                    OpenApiParameter.PATH,
                    description=f"The object's key, or up to {MAX_RECORDS} keys separated by"
                    " commas (the batch form)",
                )
            )
        if action in ("create", "partial_update_batch", "destroy"):
            description = "`true`: a batch is all or nothing (one transaction, rolled back at the"
            description += " first failure)"
            params.append(_header(TRANSACTION_HEADER, description, enum=["true", "false"]))
        # A workflow naming `if_match_model` requires it, as that object's PATCH does.
        workflow_if_match = getattr(self.view, "if_match_model", None) is not None
        if action in ("partial_update", "partial_update_batch", "destroy") or workflow_if_match:
            required = workflow_if_match or getattr(self.view, "if_match_required", False)
            description = "The ETag of the version you read" + (
                " (required)" if required else " (optional)"
            )
            params.append(_header("If-Match", description, required=required))
        if isinstance(self.view, IdempotentMixin) and self.method in KEYED_METHODS:
            description = "1-256 printable ASCII characters: the same request sent again with the"
            description += " same key within 48 hours gets the first answer, nothing written"
            params.append(_header(IDEMPOTENCY_HEADER, description + " (optional)"))
        return params


SUMMARIES = {
    "list": "List {nouns}",
    "retrieve": "Get {a} {noun}",
    "create": "Create {a} {noun}",
    "partial_update": "Update {a} {noun}",
    "partial_update_batch": "Update several {nouns}",
    "destroy": "Delete {a} {noun}",
}


def plural(noun: str) -> str:
    return noun[:-1] + "ies" if noun.endswith("y") and noun[-2] not in "aeiou" else noun + "s"


def _header(name: str, description: str, **extra) -> OpenApiParameter:
    return OpenApiParameter(name, str, OpenApiParameter.HEADER, description=description, **extra)


def objects_as_documented(result, generator, request, public):
    """Postprocessing: each object's components say what the object is (its spec's
    description, not its serializer's docstring), and every request body refuses the members
    it does not know, as the API does (a 400 naming them)."""
    schemas = result.get("components", {}).get("schemas", {})
    for described in spec.objects():
        base = described.serializer_class.__name__.removesuffix("Serializer")
        for name in (base, f"{base}Request", f"Patched{base}Request"):
            if name in schemas:
                schemas[name]["description"] = described.description
    for name, schema in schemas.items():
        if name.endswith("Request") and "properties" in schema:
            schema["additionalProperties"] = False
    return result


def only_root_paths(endpoints):
    """Each route is served twice (root and /ia/api/v1): document it once, as the contract spells
    it, without the optional trailing slash."""
    return [
        (path.rstrip("/") or "/", *rest)
        for path, *rest in endpoints
        if not path.startswith(VERSION_PREFIX + "/")
    ]


# What Swagger UI's Authorize dialog offers: a client's credentials exchanged at the service's
# own token endpoint, or a token got elsewhere. (The admin's session cookie is no scheme of the
# document: AUTHENTICATION_WHITELIST in the settings leaves it out, Swagger UI cannot send it.)
OAUTH2_SCHEME = {
    "type": "oauth2",
    "description": "An API client's id and secret (the admin's Applications, or `make run`'s),"
    " exchanged for a bearer token at the service's token endpoint.",
    "flows": {"clientCredentials": {"tokenUrl": "/oauth2/token", "scopes": {}}},
}
BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "An access token from `POST /oauth2/token`, sent as `Authorization: Bearer`.",
}


class BearerScheme(OpenApiAuthenticationExtension):
    """Our bearer tokens are django-oauth-toolkit's: got with client credentials, or pasted."""

    target_class = "config.api.auth.BearerAuthentication"
    name = ["oauth2", "bearer"]

    def get_security_requirement(self, auto_schema):
        return [{"oauth2": []}, {"bearer": []}]  # either one

    def get_security_definition(self, auto_schema):
        return [OAUTH2_SCHEME, BEARER_SCHEME]


class ReferenceSchema(OpenApiSerializerFieldExtension):
    """A reference (RefField, and each subclass with its own schema_field) is documented by the
    schema it declares, with the extra read-only members it lists in a response (component name,
    cost...)."""

    target_class = "config.api.fields.RefField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        schema = copy.deepcopy(field.json_schema)
        if direction == "request" and not field.read_only:
            # As RefField.to_internal_value takes it: a non-empty key or id, nothing unknown.
            properties = schema["properties"]
            for name in ("key", "id"):
                properties[name] = {**properties[name], "minLength": 1}
            schema["anyOf"] = [{"required": ["key"]}, {"required": ["id"]}]
            schema["additionalProperties"] = False
        if field.extra and direction == "response":
            properties = dict(schema["properties"])
            href = properties.pop("href")
            for name in field.extra:
                shown = extra_schema(field.model, field.extra_source(name))
                properties[name] = {**shown, "readOnly": True}
            schema["properties"] = {**properties, "href": href}
        return schema


def extra_schema(model, source: str | None) -> dict:
    """An extra member of a reference, as the model field it reads is in JSON (a text where it
    is no plain field: a property, a callable; a reference where it is a foreign key to an
    object of the API)."""
    column = spec.model_column(model, source)
    if column is None:
        return {"type": "string"}
    if column.many_to_one and identity.is_object(column.related_model):
        schema = copy.deepcopy(REFERENCE)
    elif column.choices:
        schema = build_choice_field(serializers.ChoiceField(column.choices))
    elif isinstance(column, models.DecimalField):
        whole, places = column.max_digits - column.decimal_places, column.decimal_places
        pattern = rf"^-?\d{{0,{whole}}}(?:\.\d{{0,{places}}})?$"
        schema = {"type": "string", "format": "decimal", "pattern": pattern}
    else:
        # As a ModelSerializer would render the column, typed as the spec types members: one
        # table of JSON types (config.api.spec._KINDS).
        mapping = serializers.ModelSerializer.serializer_field_mapping
        kind = next((mapping[c] for c in type(column).__mro__ if c in mapping), None)
        # ModelField: REST framework's catch-all for models.Field (a relation, a custom field).
        if column.is_relation or kind in (None, serializers.ModelField):
            raise ImproperlyConfigured(f"A reference extra reads {column!r}: no JSON type for it")
        schema = spec.json_kind(kind)
    if column.null:
        schema["nullable"] = True
    return schema
