"""GraphQL's `errors[]` in the REST catalogue's terms (contract 14): every error is
`{message, locations, path, extensions: {code, errorId, target}}`, where `code` is what the same
REST request answers, `errorId` the REST detail's id for a broken rule (one entry per rule) else
the top-level id, and `target` the input field's name.

The mapping is REST's (config.api.exceptions): a service's DomainError is named here in the
mutation's own input names (`refusals`), anything else maps as it would over REST.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.db.models import Model
from graphql import GraphQLError

from config.api import errors
from config.api.exceptions import domain_error, to_api_error
from core.errors import DomainError, DomainErrors

logger = logging.getLogger("kitsmith.graphql")


def dialect_name(field: str) -> str:
    """A model field (or service argument) in camel case, as GraphQL spells the inputs it
    generates (`part_inventory` -> `partInventory`); REST names members from the spec only."""
    head, *rest = field.split("_")
    return head + "".join(word.title() for word in rest)


def input_name(field: str, names: Mapping[str, str]) -> str:
    """A model field as the mutation's input names it: `names`, else as the API spells it."""
    return names.get(field) or dialect_name(field)


@contextmanager
def refusals(
    names: Mapping[str, str],
    *,
    etag: str | None = None,
    subject: tuple[type[Model], str, str] | None = None,
) -> Iterator[None]:
    """A service's refusal as the catalogue's error, its fields named by the input (`names`:
    model field -> input field). A stale version names `etag` (what the client sent); the
    mutation's `subject` (model, input field, the id as sent) not found names that input."""
    try:
        yield
    except (DomainError, DomainErrors) as exc:
        err = domain_error(
            exc, None, if_match=etag, field_name=lambda field: input_name(field, names)
        )
        if err.spec is errors.PRECONDITION_FAILED:
            err.target = "etag"
        elif subject is not None and err.spec is errors.OBJECT_NOT_FOUND:
            model, field, given = subject
            if isinstance(exc, DomainError) and exc.params.get("OBJECT") is model:
                err.target = field
                err.placeholders["KEY"] = given
        raise err from exc


def api_error(error: GraphQLError, request: Any) -> errors.ApiError:
    """What an error of the result is in the catalogue's terms."""
    if error.path is None or error.original_error is None:
        # The document or its variables: nothing ran.
        return errors.error(errors.INVALID_QUERY, REASON=_sentence(error.message))
    return to_api_error(error.original_error, request)


def entries(error: GraphQLError, request: Any) -> list[dict[str, Any]]:
    """The response's `errors[]` entries for one error: one per broken rule."""
    if error.extensions and "errorId" in error.extensions:
        return [error.formatted]  # already in the catalogue's terms (limits.py)
    found = api_error(error, request)
    out = []
    for each in found.details or [found]:
        entry: dict[str, Any] = {"message": each.message}
        if error.locations:
            entry["locations"] = [location.formatted for location in error.locations]
        if error.path is not None:
            entry["path"] = error.path
        entry["extensions"] = extensions(each)
        if found.status >= 500:
            entry["extensions"]["supportId"] = getattr(request, "request_id", None)
        out.append(entry)
    return out


def extensions(err: errors.ApiError) -> dict[str, Any]:
    return {"code": err.spec.code, "errorId": err.spec.error_id, "target": err.target}


def catalogue_error(err: errors.ApiError, nodes: Any = None) -> GraphQLError:
    """A GraphQLError carrying a catalogue entry (for refusals made while validating)."""
    return GraphQLError(err.message, nodes, extensions=extensions(err))


def log_unexpected(error: GraphQLError, request: Any) -> None:
    if error.path is not None and api_error(error, request).status >= 500:
        logger.error("Unhandled exception in %s", error.path, exc_info=error.original_error)


def _sentence(message: str) -> str:
    # graphql-core ends its messages with a period; the catalogue's template adds the context.
    return re.sub(r"\.$", "", message)
