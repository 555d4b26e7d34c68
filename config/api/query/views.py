from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.protocol import request_payload
from config.api.query import schema as docs
from config.api.query.registry import registry
from config.api.query.run import query_page


class QueryView(APIView):
    """`POST /services/core/query`: rows of one object, filtered, ordered, grouped and paged."""

    schema = docs.QuerySchema()

    def required_permissions(self, request: Request) -> list[str]:
        # Checked before the body is validated, so a user who may not view the object learns
        # nothing about it; a malformed body or an unknown object is the handler's 400.
        data = request.data
        name = data.get("object") if isinstance(data, dict) else None
        obj = registry.get(name) if isinstance(name, str) else None
        return [obj.view_permission] if obj is not None else []

    @extend_schema(
        operation_id="query",
        summary="Query objects",
        description=docs.DESCRIPTION,
        tags=["query"],
        examples=[
            OpenApiExample(
                "Kit components of a kit",
                value=docs.EXAMPLE_REQUEST,
                request_only=True,
            ),
            OpenApiExample(
                "Kit components of a kit",
                value=docs.EXAMPLE_RESPONSE,
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        return Response(query_page(user=request.user, body=request_payload(request)))
