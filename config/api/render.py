"""The API's representation of stored values, for selectors that read rows with `values()`.

Each helper renders a value exactly as the serializer field of the same member does (the contract
tests compare the two for every object), so a detail read from plain rows and one rendered by its
serializer are the same JSON.
"""

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from rest_framework import serializers

from config.api.fields import USER_OBJECT, as_number, decimal_string
from config.api.identity import reference as ref

__all__ = ["as_number", "audit", "audit_columns", "decimal_string", "ref", "timestamp"]

# The audit times render through DRF's own field: its format and time zone settings apply.
_DATETIME = serializers.DateTimeField()


def timestamp(value) -> str | None:
    return None if value is None else _DATETIME.to_representation(value)


@functools.cache
def _username() -> str:
    return get_user_model().USERNAME_FIELD


def audit_columns(prefix: str = "") -> tuple[str, ...]:
    """The values() names the audit group reads (of a related object under `prefix`)."""
    username = _username()
    return (
        f"{prefix}created_at",
        f"{prefix}modified_at",
        f"{prefix}created_by_id",
        f"{prefix}modified_by_id",
        f"{prefix}created_by__{username}",
        f"{prefix}modified_by__{username}",
    )


def audit(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The audit group from a row holding `audit_columns(prefix)`."""
    username = _username()
    created_by, modified_by = row[f"{prefix}created_by_id"], row[f"{prefix}modified_by_id"]
    return {
        "createdDateTime": timestamp(row[f"{prefix}created_at"]),
        "modifiedDateTime": timestamp(row[f"{prefix}modified_at"]),
        "createdBy": None if created_by is None else str(created_by),
        "modifiedBy": None if modified_by is None else str(modified_by),
        "createdByUser": ref(USER_OBJECT, created_by, row[f"{prefix}created_by__{username}"]),
        "modifiedByUser": ref(USER_OBJECT, modified_by, row[f"{prefix}modified_by__{username}"]),
    }


def etag_expression(version_field: str):
    """The ETag of a row (`"3"`) computed by the database, for the query service."""
    return Concat(Value('"'), Cast(version_field, CharField()), Value('"'))
