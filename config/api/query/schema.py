"""OpenAPI for the query service: its real request body and the page of flat rows it answers."""

from drf_spectacular.utils import OpenApiResponse

from config.api.protocol import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from config.api.query.build import MAX_EXPONENT, MAX_PERIODS, MAX_VALUES
from config.api.query.dates import MACROS
from config.api.query.expression import MAX_REFERENCES
from config.api.query.parse import MAX_FIELDS, MAX_FILTERS
from config.api.query.registry import registry
from config.api.schema import IntacctAutoSchema, page_envelope

OPERATOR_DESCRIPTIONS = {
    "$eq": "equal (null allowed: is null)",
    "$ne": "not equal (null allowed: is not null)",
    "$lt": "less than",
    "$lte": "less than or equal",
    "$gt": "greater than",
    "$gte": "greater than or equal",
    "$in": "one of an array of values",
    "$notIn": "none of an array of values",
    "$between": "[from, to], inclusive",
    "$notBetween": "outside [from, to]",
    "$contains": "string contains",
    "$notContains": "string does not contain",
    "$startsWith": "string starts with",
    "$notStartsWith": "string does not start with",
    "$endsWith": "string ends with",
    "$notEndsWith": "string does not end with",
    "$has": "a list (kitComponents) holds an element with this key, or `list.field` equals",
}

DESCRIPTION = f"""Returns the requested fields of the objects that match the filters: one flat
row per object (`{{"key": "1", "kit.id": "Kit_1"}}`), or one per group with aggregates.

- `fields`: field names, group members (`tracking.enableSerialNo`, `audit.createdDateTime`) and
  fields of referenced objects by dot path (`kit.id`, `component.itemType`); `*` is not allowed.
  Aggregates `count:`, `sum:`, `avg:`, `min:`, `max:` group by the plain fields beside them.
- `filters`: `{{"$op": {{"field": value}}}}`, combined by `filterExpression` (`"(1 and 2) or 3"`,
  1-based, `and` binds tighter than `or`; default `and`; every filter must be used).
- Date fields take ISO dates, date-times and the macros {", ".join(MACROS)}, anchored on
  `filterParameters.asOfDate` (default today, UTC).
- `orderBy` takes dot paths; `href` can be selected but not filtered or ordered. By default rows
  come by key (requirements by run, then part). `start` (default 1) and `size` (default
  {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE}) page them.
- The whole request is one SQL query for the rows and one for the count (grouped, one for both
  when the page has rows).
- Limits: {MAX_FIELDS} fields, {MAX_FILTERS} filters, {MAX_VALUES} values in all filters,
  {MAX_PERIODS} dates in lists, {MAX_REFERENCES} filter numbers in `filterExpression` (each
  repeat counted), numbers between -1e{MAX_EXPONENT} and 1e{MAX_EXPONENT}; strings must be
  valid Unicode (no lone surrogate escapes).
- Unknown objects and fields are 400 `REST-1043` with the name in `target`; any other malformed
  query is 400 (`KS-4004`; `KS-4007` operator, `KS-4008` value, `KS-4009` filterExpression).
  Querying an object needs its view permission (403 otherwise).
"""

EXAMPLE_REQUEST = {
    "object": "inventory-control/kit-component",
    "fields": ["key", "kit.id", "component.id", "numberOfUnits"],
    "filters": [{"$eq": {"kit.id": "Kit_1"}}, {"$gt": {"numberOfUnits": 1}}],
    "filterExpression": "1 and 2",
    "filterParameters": {"caseSensitiveComparison": True, "includePrivate": False},
    "orderBy": [{"lineNumber": "asc"}],
    "start": 1,
    "size": 100,
}
EXAMPLE_RESPONSE = {
    "ia::result": [
        {"key": "2", "kit.id": "Kit_1", "component.id": "Prnt_Paper", "numberOfUnits": 3},
        {"key": "3", "kit.id": "Kit_1", "component.id": "Prnt_Ink", "numberOfUnits": 4},
        {"key": "9", "kit.id": "Kit_1", "component.id": "Prnt_Cable", "numberOfUnits": 2},
    ],
    "ia::meta": {"totalCount": 3, "start": 1, "pageSize": 100, "next": None, "previous": None},
}

_NULLABLE_ARRAY = {"type": "array", "nullable": True}
FILTER = {
    "type": "object",
    "description": 'One operator naming one field: `{"$eq": {"kit.id": "Kit_1"}}`',
    "properties": {
        op: {
            "type": "object",
            "description": description,
            "additionalProperties": {},
            "minProperties": 1,
            "maxProperties": 1,
        }
        for op, description in OPERATOR_DESCRIPTIONS.items()
    },
    "additionalProperties": False,
    "minProperties": 1,
    "maxProperties": 1,
}


def request_schema() -> dict:
    return {
        "type": "object",
        "properties": {
            "object": {
                "type": "string",
                "enum": registry.names(),
                "example": "inventory-control/kit-component",
            },
            "fields": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "string"},
                "example": EXAMPLE_REQUEST["fields"],
            },
            "filters": {**_NULLABLE_ARRAY, "items": FILTER},
            "filterExpression": {
                "type": "string",
                "nullable": True,
                "default": "and",
                "example": "1 and 2",
            },
            "filterParameters": {
                "type": "object",
                "nullable": True,
                "properties": {
                    "caseSensitiveComparison": {"type": "boolean", "default": True},
                    "asOfDate": {"type": "string", "format": "date", "nullable": True},
                    "includePrivate": {"type": "boolean", "default": False},
                    "includeHierarchyFields": {"type": "boolean", "default": False},
                },
                "additionalProperties": False,
            },
            "orderBy": {
                **_NULLABLE_ARRAY,
                "items": {
                    "type": "object",
                    "additionalProperties": {"type": "string", "enum": ["asc", "desc"]},
                    "minProperties": 1,
                    "maxProperties": 1,
                },
                "example": [{"lineNumber": "asc"}],
            },
            "start": {"type": "integer", "minimum": 1, "default": 1, "nullable": True},
            "size": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_PAGE_SIZE,
                "default": DEFAULT_PAGE_SIZE,
                "nullable": True,
            },
        },
        "required": ["object", "fields"],
        "additionalProperties": False,
    }


ROW = {
    "type": "object",
    "description": "The requested fields by the names they were asked by (`kit.id`, "
    "`count:key`), rendered as the object's GET renders them.",
    "additionalProperties": {},
    "example": EXAMPLE_RESPONSE["ia::result"][0],
}


class QuerySchema(IntacctAutoSchema):
    # A query changes nothing and names no key: no conflicts, preconditions or rule failures.
    error_statuses = ("400", "401", "403", "415", "429", "500")

    def get_request_serializer(self):
        return {"application/json": self._component("QueryRequest", request_schema())}

    def get_response_serializers(self):
        row = self._component("QueryRow", ROW)
        return {200: OpenApiResponse(page_envelope(row), description="A page of rows")}

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is not None and "requestBody" in operation:
            operation["requestBody"]["required"] = True
        return operation
