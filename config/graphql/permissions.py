"""The REST API's model permissions, asked by GraphQL fields: `view_*` to read a type, the REST
method's permissions (config.api.permissions) to run a mutation, and, before it runs, what every
field its payload selects asks (so nothing is written for a caller who cannot read the answer)."""

from collections.abc import Iterable
from typing import Any

from django.db.models import Model
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types.base import get_object_definition
from strawberry.types.nodes import SelectedField

from config.api import errors
from config.api.permissions import ModelPermissions, permission_for

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


class Writes(Needs):
    """A mutation's permissions and those of every field its payload selects, asked before the
    mutation runs: a field refused afterwards would answer an error for a change made."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        asked = set(self.permissions)
        payload = get_object_definition(_named(info.return_type))
        for selected in info.selected_fields:
            _collect(selected.selections, payload, info.schema, asked)
        return info.context.request.user.has_perms(asked)


def _named(annotation: Any) -> Any:
    """The type inside optional and list wrappers."""
    while hasattr(annotation, "of_type"):
        annotation = annotation.of_type
    return annotation


def _collect(selections: Iterable[Any], definition: Any, schema: Any, asked: set[str]) -> None:
    """Adds what the selected fields of `definition` (and of the types they read) ask."""
    if definition is None:
        return
    by_name = {schema.config.name_converter.get_graphql_name(f): f for f in definition.fields}
    for selection in selections:
        if not isinstance(selection, SelectedField):
            # A fragment: the schema has no interfaces or unions, so it is on the same type.
            _collect(selection.selections, definition, schema, asked)
            continue
        field = by_name.get(selection.name)
        if field is None:
            continue  # __typename
        for extension in field.extensions:
            if isinstance(extension, PermissionExtension):
                for permission in extension.permissions:
                    asked.update(getattr(permission, "permissions", ()))
        inner = get_object_definition(_named(field.type))
        _collect(selection.selections, inner, schema, asked)


def needs(*permissions: str) -> list[PermissionExtension]:
    """A field's `extensions=` that ask these permissions."""
    return [PermissionExtension(permissions=[Needs(permissions)], use_directives=False)]


def writes(*permissions: str) -> list[PermissionExtension]:
    """A mutation's `extensions=`: these permissions, and what its payload's selection asks."""
    return [PermissionExtension(permissions=[Writes(permissions)], use_directives=False)]


def can_view(model: type[Model]) -> list[PermissionExtension]:
    """A field reading objects of `model`: the view permission a REST GET asks (a model read as
    part of another, such as a run's requirements, asks that model's)."""
    return needs(permission_for(model))
