"""What a service says when it refuses (DomainError: a rule's code, the model field it is about,
its values) and what a database error means for the request (integrity_error: a constraint a
concurrent writer tripped, as a DomainError; database_fault: contention, a canceled statement,
a lost connection).

Services raise these and know nothing of how they are shown. The API maps a code to its status
and errorId and a model field to its API name (config.api.errors); the admin shows the message on
the form field of the same name. The message templates live here, once, for both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from string import Formatter
from typing import Any

from django.db import InterfaceError, OperationalError, connection, models

# code -> message template. Placeholders are upper case; {FIELD} is filled with the name the
# reader knows the field by (an API member, a form label).
MESSAGES: dict[str, str] = {
    "not_found": "{OBJECT} with key {KEY} was not found",
    "duplicate": "{OBJECT} with {FIELD} {VALUE} already exists",
    "still_referenced": "{OBJECT} {KEY} cannot be deleted: it is still referenced by {REFERENCES}",
    "inventory_still_kitted": (
        "Part inventory {KEY} cannot be deleted: {QUANTITY} is still issued to open kits"
    ),
    "kit_still_holds": (
        "Part kit {KEY} cannot be deleted: it still holds part inventory {INVENTORIES}; a kit that "
        "ever held stock stays in the ledger, so set its status to canceled instead"
    ),
    "conflict": "The request conflicts with the stored data: {REASON}",
    "constraint_violated": "The change breaks the rule {CONSTRAINT}",
    "stale": "The object changed meanwhile: it is now at version {CURRENT}",
    "required": "{FIELD} is required",
    "invalid_value": "{FIELD} is invalid: {REASON}",
    "immutable": "{FIELD} cannot be changed after create",
    "reference_not_found": "{FIELD} refers to a {OBJECT} that does not exist: {REFERENCE}",
    "not_a_kit": "Item {ID} is of type {TYPE}: a kit must be an item of type kit or stockableKit",
    "component_type_not_allowed": "A {KIT_TYPE} cannot contain an item of type {TYPE}",
    "kit_cycle": "Kit {KIT} cannot contain {COMPONENT}: {COMPONENT} already contains {KIT}",
    "duplicate_component": "Kit {KIT} already has a line for component {COMPONENT}",
    "tracking_not_allowed": (
        "{FIELD} is only allowed on items of type inventory or stockableKit, not {TYPE}"
    ),
    "kits_only": "{FIELD} is only allowed on items of type kit or stockableKit, not {TYPE}",
    "line_number_out_of_range": "{FIELD} must be between 1 and {MAX}",
    "part_not_stocked": (
        "Item {ID} is of type {TYPE}: only items of type inventory or stockableKit hold part "
        "inventory"
    ),
    "tracking_mismatch": "{FIELD} is not allowed: part {PART} is {TRACKING}",
    "tracking_in_use": "{FIELD} cannot change while item {ID} has part inventory",
    "issue_exceeds_on_hand": (
        "Cannot issue {REQUESTED}: part inventory {KEY} has {AVAILABLE} on hand"
    ),
    "move_exceeds_issued": (
        "Cannot move {REQUESTED} to inventory: part kit {KIT} holds {ISSUED} of part inventory "
        "{KEY}"
    ),
    "not_in_kit": "Part inventory {KEY} is not issued to part kit {KIT}",
    "kit_closed": "Part kit {KEY} is {STATUS}: nothing can be issued to it or moved out of it",
    "kit_status_final": (
        "Part kit {KEY} is {STATUS}: a completed or canceled kit cannot change status"
    ),
    "run_closed": "Run {ID} is {STATUS}: {REASON}",
    "run_has_no_part": "Run {ID} has no part: set the part it builds before completing it",
    "run_part_not_stocked": (
        "Run {ID} builds item {PART} of type {TYPE}: only inventory and stockableKit items are "
        "built into part inventory"
    ),
    "serial_moves_one": (
        "Part inventory {KEY} is serial {SERIAL}: it moves one unit at a time, quantity must be 1"
    ),
    "run_completed_by_workflow": (
        "A run becomes complete only by completing it, which builds its outputs"
    ),
    "scrap_exceeds_on_hand": (
        "Cannot scrap {REQUESTED}: part inventory {KEY} has {AVAILABLE} on hand"
    ),
    "split_takes_all": (
        "Cannot split {REQUESTED} off part inventory {KEY}: it has {AVAILABLE} on hand, and a "
        "split leaves some behind"
    ),
    "split_serial": (
        "Part inventory {KEY} is serial {SERIAL}: only lot and untracked inventory can be split"
    ),
    "requirement_short": (
        "Run {ID} is short of {SHORT} of part {PART}: {REQUIRED} required, {ISSUED} issued to its "
        "open kits (issue it, or complete with allowShortage)"
    ),
    "serial_numbers_count": (
        "{COUNT} serial numbers given for a run of {QUANTITY}: give one per unit, or none to "
        "generate them"
    ),
}

# How a reader names a model (an API object path, a verbose name) and a model field (an API
# member, a form label).
ModelNamer = Callable[[type[models.Model]], str]
FieldNamer = Callable[[str], str]


def verbatim(field: str) -> str:
    return field


class Phrase:
    """Text naming model fields, each by the name its reader knows it by:
    `Phrase("give {a} or {b}", a="serial_number", b="autogenerate_serial_number")`."""

    def __init__(self, template: str, **fields: str) -> None:
        self.template = template
        self.fields = fields

    def render(self, field_name: FieldNamer) -> str:
        return self.template.format(
            **{key: field_name(field) for key, field in self.fields.items()}
        )


def verbose_name(model: type[models.Model]) -> str:
    return str(model._meta.verbose_name)


class DomainError(Exception):
    """One broken rule. `field` is a model field (or a service's keyword argument, such as
    `serial_numbers`) or None; `params` fill the message. A param may be a model class (its
    name), a model instance (its name and key) or a list of those and strings (joined)."""

    def __init__(self, code: str, field: str | None = None, **params: Any) -> None:
        assert code in MESSAGES, code
        self.code = code
        self.field = field
        self.params = params
        super().__init__(self.message())

    @property
    def errors(self) -> list[DomainError]:
        return [self]

    def placeholders(
        self, field_name: FieldNamer = verbatim, model_name: ModelNamer = verbose_name
    ) -> dict[str, str]:
        """The message's values as text, fields and models named by the reader's namers."""
        given = {name: _text(value, field_name, model_name) for name, value in self.params.items()}
        given.setdefault("FIELD", field_name(self.field) if self.field else "")
        # In the order the message names them, then any others.
        names = [name for _, name, _, _ in Formatter().parse(MESSAGES[self.code]) if name]
        values = {name: given[name] for name in dict.fromkeys(names) if name in given}
        return values | {name: text for name, text in given.items() if name != "FIELD"}

    def message(
        self, field_name: FieldNamer = verbatim, model_name: ModelNamer = verbose_name
    ) -> str:
        return MESSAGES[self.code].format(**self.placeholders(field_name, model_name))

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.field!r}, **{self.params!r})"


class DomainErrors(Exception):
    """Several broken rules at once: a service checks them all before refusing."""

    def __init__(self, errors: Iterable[DomainError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(err.message() for err in self.errors))


def refuse(violations: list[DomainError]) -> None:
    """Raise the violations, if any."""
    if violations:
        raise DomainErrors(violations)


def _text(value: Any, field_name: FieldNamer, model_name: ModelNamer) -> str:
    if isinstance(value, Phrase):
        return value.render(field_name)
    if isinstance(value, type) and issubclass(value, models.Model):
        return model_name(value)
    if isinstance(value, models.Model):
        return f"{model_name(type(value))} {value.pk}"
    if isinstance(value, list | tuple):
        return ", ".join(_text(item, field_name, model_name) for item in value)
    return str(value)


def integrity_error(exc: Exception) -> DomainError:
    """A database constraint that held where a concurrent writer got past the services' checks
    between our check and our write."""
    text = str(exc).lower()
    if "unique" in text or "duplicate" in text:
        return DomainError("conflict", REASON="a record with the same unique values exists")
    if "foreign key" in text:
        return DomainError("conflict", REASON="a referenced record changed meanwhile")
    return DomainError("constraint_violated", CONSTRAINT=_constraint_name(text))


def _constraint_name(text: str) -> str:
    # PostgreSQL: 'violates check constraint "name"'; SQLite: 'CHECK constraint failed: name'.
    if 'constraint "' in text:
        return text.split('constraint "', 1)[1].split('"', 1)[0]
    if "failed:" in text:
        return text.split("failed:", 1)[1].strip()
    return "a database constraint"


class DatabaseFault(StrEnum):
    """What a database error that is no rule's says about the request, whoever answers it."""

    # A deadlock or a lock given up between concurrent writers: nothing was written.
    CONTENTION = "contention"
    # statement_timeout, or an operator, cut a statement: its transaction rolled back.
    CANCELED = "canceled"
    # The database restarted, failed over or ended the backend (or refused a connection).
    CONNECTION_LOST = "connection_lost"


def database_fault(exc: Exception) -> DatabaseFault | None:
    """The DatabaseFault `exc` is, or None (not a database error, or a statement's own failure:
    a full disk, a program limit)."""
    if isinstance(exc, InterfaceError):  # a connection psycopg found closed
        return DatabaseFault.CONNECTION_LOST
    if not isinstance(exc, OperationalError):
        return None
    # PostgreSQL's error code, which psycopg's error (the cause Django wraps) carries.
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    # PostgreSQL: deadlock_detected, serialization_failure, lock_not_available; SQLite: locked.
    if sqlstate in {"40P01", "40001", "55P03"} or "database is locked" in str(exc):
        return DatabaseFault.CONTENTION
    if sqlstate == "57014":  # query_canceled
        return DatabaseFault.CANCELED
    # Connection exceptions (class 08), the server shutting down or terminating the backend
    # (57P01-57P03), too many connections (53300); without a code, a connection found broken.
    if sqlstate is not None:
        lost = sqlstate.startswith("08") or sqlstate in {"57P01", "57P02", "57P03", "53300"}
    else:
        lost = getattr(connection.connection, "broken", False) is True
    return DatabaseFault.CONNECTION_LOST if lost else None
