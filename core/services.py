"""Helpers the apps' services share: guarded deletes, unique codes, versions, immutable fields."""

from collections.abc import Callable, Collection, Mapping
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError

from core.errors import DomainError, DomainErrors, refuse
from core.models import actor as actor  # the audit rule lives with the audited model

# A reference named at most this many times in a refusal; the rest are counted.
_NAMED_REFERENCES = 5


def check_version(instance: models.Model, expected_version: int | Collection[int] | None) -> None:
    """Optimistic concurrency: the caller read one of `expected_version`; call it with the row
    locked. None: the caller does not ask."""
    if expected_version is None:
        return
    expected = {expected_version} if isinstance(expected_version, int) else expected_version
    if instance.version not in expected:
        raise DomainError("stale", CURRENT=instance.version)


def lock(
    model: type[models.Model],
    key: int,
    *,
    related: tuple[str, ...] = (),
    field: str | None = None,
) -> Any:
    """The row, locked until commit (only its own row: joined rows stay unlocked). Missing: a
    not-found DomainError, or, when the row is what the caller's `field` refers to (deleted since
    the request named it), a broken-reference rule on that field."""
    queryset = model._default_manager.select_for_update(of=("self",))
    if related:
        queryset = queryset.select_related(*related)
    found = queryset.filter(pk=key).first()
    if found is None and field is None:
        raise DomainError("not_found", OBJECT=model, KEY=key)
    if found is None:
        raise broken_reference(model, key, field)
    return found


def broken_reference(model: type[models.Model], key: int, field: str) -> DomainErrors:
    """The refusal of a write whose `field` refers to a `model` row that is gone (deleted since
    the request named it)."""
    return DomainErrors(
        [DomainError("reference_not_found", field, OBJECT=model, REFERENCE=f"key {key}")]
    )


def lock_all(model: type[models.Model], keys: Collection[int]) -> dict[int, Any]:
    """The rows of `keys` that exist, by key, each locked until commit (only its own row) and
    locked in key order, as every writer locks them, so two writers never deadlock on them."""
    queryset = model._default_manager.select_for_update(of=("self",))
    return {row.pk: row for row in queryset.filter(pk__in=set(keys)).order_by("pk")}


def reject_immutable_changes(
    instance: models.Model, changes: Mapping[str, Any], immutable: Collection[str]
) -> None:
    """Sending the stored value back is fine; another value for an immutable field is not."""
    refuse(
        [
            DomainError("immutable", field)
            for field in immutable
            if field in changes and _value(getattr(instance, field)) != _value(changes[field])
        ]
    )


def _value(value: Any) -> Any:
    return value.pk if isinstance(value, models.Model) else value


def apply_changes(instance: models.Model, changes: Mapping[str, Any]) -> None:
    for field, value in changes.items():
        setattr(instance, field, value)


def save_changes(
    instance: models.Model, user, *, save: Callable[[models.Model], Any] | None = None
) -> bool:
    """Stamp (next version, who changed it) and save an updated row, unless nothing it holds
    changed: a PATCH that changes nothing keeps its version, ETag and audit stamps (contract
    12.2). `save` writes the stamped row (default: Model.save). Returns whether it wrote."""
    if not instance.has_changes():
        return False
    instance.stamp(user)
    if save is None:
        instance.save()
    else:
        save(instance)
    return True


def delete_unreferenced(instance: models.Model) -> None:
    """Delete, or refuse naming what still refers to the object (PROTECT foreign keys decide)."""
    try:
        with transaction.atomic():
            instance.delete()
    except (ProtectedError, RestrictedError) as exc:
        blockers = sorted(
            exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects,
            key=lambda o: (o._meta.label, o.pk),
        )
        references: list[Any] = list(blockers[:_NAMED_REFERENCES])
        if len(blockers) > _NAMED_REFERENCES:
            references.append(f"and {len(blockers) - _NAMED_REFERENCES} more")
        raise DomainError(
            "still_referenced", OBJECT=type(instance), KEY=instance.pk, REFERENCES=references
        ) from exc


def check_unique_code(model: type[models.Model], code: str, exclude_pk=None) -> None:
    """`code` is unique per model: a clash is a duplicate."""
    clash = model._default_manager.filter(code=code)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise DomainError("duplicate", "code", OBJECT=model, VALUE=code)


def save_unique_code(obj: models.Model, **save_kwargs: Any) -> None:
    """Save; a concurrent writer that took the same code after our check becomes the same
    duplicate."""
    try:
        with transaction.atomic():
            obj.save(**save_kwargs)
    except IntegrityError:
        check_unique_code(type(obj), obj.code, exclude_pk=obj.pk)
        raise
