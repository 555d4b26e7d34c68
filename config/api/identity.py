"""What identifies an object in the API: its path (`inventory-control/item`), the model field
behind its `id`, its href and its reference. The protocol's knowledge, not the models': the object
spec (config.api.spec) fills it at startup from the objects' declarations.
"""

from typing import Any

from django.db import models

# A model -> (its object's path, the model field behind its `id`).
_BY_MODEL: dict[type[models.Model], tuple[str, str | None]] = {}


def identify(model: type[models.Model], name: str, id_field: str | None) -> None:
    """Record the API path and id field of a model's object (once, from its declaration)."""
    _BY_MODEL[model] = (name, id_field)


def is_object(model: type[models.Model]) -> bool:
    return model._meta.concrete_model in _BY_MODEL


def object_name(model: type[models.Model]) -> str:
    """The object's path in the API: `inventory-control/item`."""
    return _BY_MODEL[model._meta.concrete_model][0]


def id_field(model: type[models.Model]) -> str | None:
    """The model field behind the object's `id`; None where `id` is the key itself."""
    return _BY_MODEL[model._meta.concrete_model][1]


def api_id(obj: models.Model) -> str:
    field = id_field(type(obj))
    return str(getattr(obj, field) if field else obj.pk)


def href_of(name: str, key: Any) -> str:
    return f"/objects/{name}/{key}"


def href(obj: models.Model) -> str:
    return href_of(object_name(type(obj)), obj.pk)


def reference(name: str, key: Any, ident: Any) -> dict[str, str] | None:
    """A reference `{"key", "id", "href"}` to the object `name` of this key and id; None where
    there is no key (a null foreign key)."""
    if key is None:
        return None
    return {"key": str(key), "id": str(ident), "href": href_of(name, key)}


def ref(obj: models.Model) -> dict[str, str]:
    """The reference a list row, a create or an update answers with."""
    return reference(object_name(type(obj)), obj.pk, api_id(obj))
