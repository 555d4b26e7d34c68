"""The base serializer every object uses: key/id/href, the audit group, unknown-field rejection."""

from typing import Any

from rest_framework import serializers

from config.api import errors, spec
from config.api.fields import HrefField, KeyField, UserRefField


class AuditSerializer(serializers.Serializer):
    createdDateTime = serializers.DateTimeField(source="created_at", read_only=True)
    modifiedDateTime = serializers.DateTimeField(source="modified_at", read_only=True)
    createdBy = serializers.SerializerMethodField()
    modifiedBy = serializers.SerializerMethodField()
    createdByUser = UserRefField(source="created_by")
    modifiedByUser = UserRefField(source="modified_by")

    def get_createdBy(self, obj) -> str | None:
        return str(obj.created_by_id) if obj.created_by_id else None

    def get_modifiedBy(self, obj) -> str | None:
        return str(obj.modified_by_id) if obj.modified_by_id else None


class GroupSerializer(serializers.Serializer):
    """A group of fields (`tracking`, `purchasing`) stored on the object itself."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "*")
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class IntacctSerializer(serializers.ModelSerializer):
    """Subclasses list their API fields; writes are delegated to the app's services.

    `create` / `update` call the service named by the subclass; the request's user is passed on.
    """

    key = KeyField()
    href = HrefField()
    audit = AuditSerializer(source="*", read_only=True)

    def get_validators(self):
        # Uniqueness is a service rule (a 409 or 422 with the right errorId), not DRF's.
        return []

    @property
    def user(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    def to_internal_value(self, data):
        if self.parent is None:
            reject_unknown_fields(self, data)
        return super().to_internal_value(data)


def reject_unknown_fields(serializer: serializers.Serializer, data: Any) -> None:
    """400 REST-1064 with one REST-1043 detail per member of the payload the serializer lacks."""
    if not isinstance(data, dict):
        raise errors.error(errors.PAYLOAD_NOT_OBJECT)
    unknown = list(spec.for_serializer(type(serializer)).unknown_members(data))
    if unknown:
        raise errors.unknown_members(unknown)
