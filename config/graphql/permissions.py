"""The REST API's model permissions, asked by GraphQL fields: `view_*` to read a type, the REST
method's permissions (config.api.permissions) to run a mutation."""

from typing import Any

from django.db.models import Model
from strawberry.permission import BasePermission, PermissionExtension

from config.api import errors
from config.api.permissions import ModelPermissions

_REST = ModelPermissions()


def rest_permissions(method: str, model: type[Model]) -> tuple[str, ...]:
    """What the REST API asks of `method` on the model's object (`POST` -> add_<model>)."""
    return tuple(_REST.get_required_permissions(method, model))


class Needs(BasePermission):
    """Every one of these Django permissions, else the REST API's 403 (KS-4031)."""

    def __init__(self, permissions: tuple[str, ...]) -> None:
        self.permissions = permissions

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return info.context.request.user.has_perms(self.permissions)

    def on_unauthorized(self) -> None:
        raise errors.error(errors.FORBIDDEN)


def needs(*permissions: str) -> list[PermissionExtension]:
    """A field's `extensions=` that ask these permissions."""
    return [PermissionExtension(permissions=[Needs(permissions)], use_directives=False)]


def can_view(model: type[Model]) -> list[PermissionExtension]:
    """A field reading objects of `model`: its view permission, as a REST GET asks."""
    return needs(*rest_permissions("GET", model))
