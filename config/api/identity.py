"""What identifies an object in the API: its path (`inventory-control/item`), the model field
behind its `id`, its href and its reference. The protocol's knowledge, not the models': the object
spec (config.api.spec) fills it at startup from the objects' declarations.
"""

from typing import Any

from django.db import models


class _Identity:
    __slots__ = ("id_field", "name")

    def __init__(self, name: str, id_field: str | None):
        self.name = name
        self.id_field = id_field


_BY_MODEL: dict[type[models.Model], _Identity] = {}


def identify(model: type[models.Model], name: str, id_field: str | None) -> None:
    """Record the API path and id field of a model's object (once, from its declaration)."""
    _BY_MODEL[model] = _Identity(name, id_field)


def _of(model: type[models.Model]) -> _Identity:
    return _BY_MODEL[model._meta.concrete_model]


def is_object(model: type[models.Model]) -> bool:
    return model._meta.concrete_model in _BY_MODEL


def object_name(model: type[models.Model]) -> str:
    """The object's path in the API: `inventory-control/item`."""
    return _of(model).name


def id_field(model: type[models.Model]) -> str | None:
    """The model field behind the object's `id`; None where `id` is the key itself."""
    return _of(model).id_field


def api_id(obj: models.Model) -> str:
    field = _of(type(obj)).id_field
    return str(getattr(obj, field) if field else obj.pk)


def href_of(name: str, key: Any) -> str:
    return f"/objects/{name}/{key}"


def href(obj: models.Model) -> str:
    return href_of(_of(type(obj)).name, obj.pk)


def ref(obj: models.Model) -> dict[str, str]:
    """The reference a list row, a create or an update answers with."""
    return {"key": str(obj.pk), "id": api_id(obj), "href": href(obj)}
