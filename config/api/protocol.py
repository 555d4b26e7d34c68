"""The protocol's request conventions shared by objects, workflows and the query service: the
versioned base path, paging parameters and the JSON object body of a write."""

from collections.abc import Sequence
from typing import Any

from rest_framework.request import Request

from config.api import errors
from core.numbers import whole_number

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 4000
# Every route is also served under this prefix (contract 1.1), so an Intacct client only changes
# its host.
VERSION_PREFIX = "/ia/api/v1"


def route_path(path: str) -> str:
    """A request's path as the contract spells it: without the `/ia/api/v1` prefix."""
    if path.startswith(VERSION_PREFIX + "/"):
        return path[len(VERSION_PREFIX) :]
    return path


def paging(params: Any) -> tuple[int, int]:
    """`start` (1-based) and `size` from query parameters or a query body, validated."""
    return (
        _int_param(params, "start", 1, minimum=1, maximum=None),
        _int_param(params, "size", DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE),
    )


def reject_unknown_parameters(params: Any, known: Sequence[str], *, taker: str) -> None:
    """Contract 1.3: an endpoint takes only the query parameters it documents; any other is a
    400 naming it (django-filter ignores what it does not know, so a misspelt filter such as
    `part.id` would otherwise answer every row). `taker` names the endpoint in the reason."""
    for name in params:
        if name not in known:
            reason = f"unknown parameter; {taker} takes {', '.join(known)}"
            raise errors.error(errors.INVALID_PARAMETER, name, PARAMETER=name, REASON=reason)


def _int_param(params: Any, name: str, default: int, *, minimum: int, maximum: int | None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        value = None
    elif isinstance(raw, int):
        value = raw
    else:
        # Past every row is an empty page, however far: only int()'s own limit bounds it.
        value = whole_number(raw, maximum=None)
    if value is None or value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum else f"at least {minimum}"
        raise errors.error(
            errors.INVALID_PARAMETER, name, PARAMETER=name, REASON=f"must be an integer {bound}"
        )
    return value


def request_body(request: Request) -> Any:
    """The JSON body of a write, whatever its shape: 400 when missing."""
    # Reading the raw body first is safe: DRF then parses the cached bytes.
    if not request.body.strip():
        raise errors.error(errors.PAYLOAD_REQUIRED, METHOD=request.method)
    return request.data


def request_payload(request: Request) -> dict[str, Any]:
    """The JSON object body of a write (object or workflow): 400 when missing or not an object."""
    data = request_body(request)
    if not isinstance(data, dict):
        raise errors.error(errors.PAYLOAD_NOT_OBJECT)
    return data
