"""The admin's spreadsheet columns (core.spreadsheets) named from the one description of each
object: a column is an API member, headed by its path (a reference's by `<path>.id`), read and
written as the API does."""

from django.db import models

from config.api import identity, spec
from config.api.spec import Member, ObjectSpec, Role
from core import spreadsheets


def _column(described: ObjectSpec, member: Member) -> spreadsheets.Column | None:
    source = described.api_to_model.get(member.path)
    if source is None or member.role not in (Role.KEY, Role.VALUE, Role.REFERENCE):
        return None  # lists, groups, links, users and what the model cannot give
    if member.role is Role.KEY and member.path != "key":
        return None  # an `id` that is the key: the key column already holds it
    model = described.model
    stored = source == "pk" or hasattr(model, source.split(".")[0]) or member.write_only
    expression = None if stored else described.expressions.get(member.path)
    if not stored and expression is None:
        return None
    if member.role is Role.REFERENCE:
        target = member.field.referenced_model
        return spreadsheets.Column(
            name=f"{member.path}.id",
            attribute=source,
            kind="reference",
            readable=True,
            writable=not member.read_only,
            render=str,
            refers_to=target,
            lookup=identity.id_field(target) or "pk",
        )
    kind, name, render = member.shape["type"], member.path, member.field.to_representation
    if kind == "object":  # a reference stored as a bare key (the ledger's partInventory)
        name, render = f"{member.path}.id", _reference_id(member.field.to_representation)
    elif isinstance(spec.model_column(model, source), models.DecimalField):
        kind = "number"  # a decimal the API shows as a string (a cost) is read as a number
    return spreadsheets.Column(
        name=name,
        attribute=source,
        kind=kind,
        readable=not member.write_only,
        writable=not member.read_only,
        render=render,
        expression=expression,
    )


def _reference_id(show):
    return lambda value: show(value)["id"]


def register_columns() -> None:
    """Name every object's model's columns; called once, after the objects are described."""
    for described in spec.objects():
        found = (_column(described, member) for member in described.members.values())
        spreadsheets.register(described.model, [column for column in found if column])
