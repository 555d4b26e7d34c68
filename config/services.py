"""Helpers the apps' services share: applying changes with immutable fields, guarded deletes."""

from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError

from config.api import errors
from config.api.identity import is_object, object_name


def reject_immutable_changes(
    instance: models.Model, data: dict[str, Any], immutable: dict[str, str]
) -> None:
    """`immutable` maps a model field to its API name. Same value sent back: fine; other: 422."""
    violations = [
        errors.error(errors.IMMUTABLE, api_name, FIELD=api_name)
        for field, api_name in immutable.items()
        if field in data and _value(instance, field) != _value_of(data[field])
    ]
    if violations:
        raise errors.rule_violations(violations)


def _value(instance: models.Model, field: str) -> Any:
    value = getattr(instance, field)
    return value.pk if isinstance(value, models.Model) else value


def _value_of(value: Any) -> Any:
    return value.pk if isinstance(value, models.Model) else value


def apply_changes(instance: models.Model, data: dict[str, Any]) -> None:
    for field, value in data.items():
        setattr(instance, field, value)


def delete_unreferenced(instance: models.Model) -> None:
    """Delete, or 409 naming what still refers to the object (PROTECT foreign keys decide)."""
    try:
        with transaction.atomic():
            instance.delete()
    except (ProtectedError, RestrictedError) as exc:
        blockers = sorted(
            exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects,
            key=lambda o: (o._meta.label, o.pk),
        )
        names = []
        for blocker in blockers[:5]:
            model = type(blocker)
            name = object_name(model) if is_object(model) else blocker._meta.verbose_name
            names.append(f"{name} {blocker.pk}")
        if len(blockers) > 5:
            names.append(f"and {len(blockers) - 5} more")
        raise errors.error(
            errors.STILL_REFERENCED,
            OBJECT=object_name(type(instance)),
            KEY=instance.pk,
            REFERENCES=", ".join(names),
        ) from exc


def check_unique_code(model: type[models.Model], code: str, exclude_pk=None) -> None:
    """The Intacct `id` (model field `code`) is unique per object: a clash is 409 KS-4091."""
    clash = model._default_manager.filter(code=code)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise errors.error(
            errors.DUPLICATE, "id", OBJECT=object_name(model), FIELD="id", VALUE=code
        )


def save_unique_code(obj: models.Model, **save_kwargs: Any) -> None:
    """Save; a concurrent writer that took the same id after our check becomes the same 409."""
    try:
        with transaction.atomic():
            obj.save(**save_kwargs)
    except IntegrityError:
        check_unique_code(type(obj), obj.code, exclude_pk=obj.pk)
        raise
