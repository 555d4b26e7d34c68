"""`/graphql`: POST runs an operation for a caller the REST API's authenticators accept (a bearer
token, or a session with its CSRF token); GET from a browser opens GraphiQL, which needs no login
to load. Everything that is not an operation's result is an `ia::error` (401, 403, 405, 429, a
body that is no GraphQL request)."""

from typing import Any

from cross_web import HTTPException
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf
from rest_framework.request import Request
from rest_framework.settings import api_settings
from strawberry.django.views import GraphQLView as StrawberryView

from config.api import errors
from config.api.exceptions import to_api_error
from config.api.parsers import parse_json
from config.api.throttling import ClientRateThrottle
from config.graphql import errors as graphql_errors
from config.graphql.schema import schema


def authenticate(request: HttpRequest) -> None:
    """The REST API's authentication and throttle, on a plain Django request: `request.user`
    becomes the caller, or the answer is REST's 401, 403 (a session without its CSRF token) or
    429."""
    authenticators = [cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    parsers = [cls() for cls in api_settings.DEFAULT_PARSER_CLASSES]
    # A session's CSRF check reads the form fields, so DRF parses the body: from the cached bytes
    # (read here first), which strawberry then reads again.
    request.body  # noqa: B018
    wrapped = Request(request, parsers=parsers, authenticators=authenticators)
    try:
        if not wrapped.user.is_authenticated:
            raise drf.NotAuthenticated()
        throttle = ClientRateThrottle()
        if not throttle.allow_request(wrapped, None):
            raise drf.Throttled(throttle.wait())
    except (drf.NotAuthenticated, drf.AuthenticationFailed) as exc:
        # As DRF's views do: the first authenticator's challenge (Bearer).
        exc.auth_header = authenticators[0].authenticate_header(wrapped)
        raise to_api_error(exc, request) from exc
    except drf.APIException as exc:
        raise to_api_error(exc, request) from exc
    request.user = wrapped.user


@method_decorator(csrf_exempt, name="dispatch")  # a session's CSRF token is checked above
class GraphQLView(StrawberryView):
    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        return super().as_view(
            schema=schema, graphql_ide="graphiql", allow_queries_via_get=False, **initkwargs
        )

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
            return self.render_graphql_ide(request)
        if request.method != "POST":
            err = errors.error(errors.METHOD_NOT_ALLOWED, METHOD=request.method, PATH=request.path)
            err.headers["Allow"] = "POST"
            raise err
        authenticate(request)
        try:
            return self.run(request=request)
        except HTTPException as exc:
            raise _request_error(exc, request) from exc
        except UnicodeDecodeError:
            # The body is decoded before decode_json reads it: REST's parser says what is wrong.
            json_body(request.body)
            raise

    def decode_json(self, data: str | bytes) -> object:
        return json_body(data.encode() if isinstance(data, str) else data)

    def process_result(self, request: HttpRequest, result: Any) -> dict[str, Any]:
        data: dict[str, Any] = {"data": result.data}
        if result.errors:
            data["errors"] = [
                entry for error in result.errors for entry in graphql_errors.entries(error, request)
            ]
        return data


def json_body(raw: bytes) -> object:
    """A body as the REST API reads one (UTF-8, strict JSON) that must hold an object (a list is
    a batch, which strawberry refuses as such): anything else is REST's 400."""
    body = parse_json(raw)
    if not isinstance(body, dict | list):
        raise errors.error(errors.PAYLOAD_NOT_OBJECT)
    return body


def _request_error(exc: HTTPException, request: HttpRequest) -> errors.ApiError:
    """A body strawberry could not take as a GraphQL request, as the REST API answers one."""
    if exc.reason == "Unsupported content type":
        content_type = request.content_type or "(none)"
        return errors.error(errors.UNSUPPORTED_MEDIA_TYPE, TYPE=content_type)
    return errors.error(errors.BAD_REQUEST, REASON=exc.reason)
