"""ION's mutations (contract 14), each `(input: …!)` answering a payload. Each calls the one
service its REST request calls, with the REST request's permissions; the service's transaction
makes it whole or nothing, and its refusals answer in the catalogue's terms named by the input's
fields (errors.refusals). The payload reads what it shows after the service committed."""

from decimal import Decimal
from typing import Any

import strawberry
from django.core.exceptions import ValidationError
from django.db.models import Model
from rest_framework import exceptions as drf
from strawberry.types import Info

from config.api.fields import parse_key
from config.graphql import types
from config.graphql.errors import dialect_name, refusals
from config.graphql.permissions import can_view, rest_permissions, writes
from core.errors import DomainError, refuse
from core.numbers import whole_number
from inventory import services as inventory_services
from inventory.models import Item, PartInventory, Warehouse
from kitting import services as kitting_services
from kitting.api.part_inventory import PartInventorySerializer
from kitting.api.views import PART_KIT_PERMISSIONS
from kitting.models import PartKit, Run

# What each mutation asks: its REST request's permissions (and, permissions.writes, what the
# fields its payload selects ask, before anything is written).
CREATE_INVENTORY = rest_permissions("POST", PartInventory)
UPDATE_INVENTORY = rest_permissions("PATCH", PartInventory)
DELETE_INVENTORY = rest_permissions("DELETE", PartInventory)
CREATE_KIT = rest_permissions("POST", PartKit)
MOVE = PART_KIT_PERMISSIONS

# The REST serializer's fields, which check what a mutation's input gives as REST checks it.
_INVENTORY_FIELDS = PartInventorySerializer().fields

# Model fields (and workflow arguments) -> the input fields that carry them.
_INVENTORY_NAMES = {"part": "partId", "location": "locationId"}
_KIT_NAMES = {"run": "runId"}
_MOVE_NAMES = {"key": "partKitId", "part_inventory": "partInventoryId", "location": "locationId"}


class _Values:
    """An input's values as the services take them, checked as the REST request's serializer
    fields check them (the model field's validators for what REST does not take), in their
    words; every problem is reported."""

    def __init__(self) -> None:
        self.problems: list[DomainError] = []

    def inventory(self, field: str, value: Any) -> Any:
        """A part inventory field's value (None as given)."""
        if value is None:
            return None
        rest = _INVENTORY_FIELDS.get(dialect_name(field))
        try:
            if rest is not None:
                return rest.run_validation(value)
            PartInventory._meta.get_field(field).run_validators(value)
        except drf.ValidationError as exc:
            self._invalid(field, exc.detail)
        except ValidationError as exc:
            self._invalid(field, exc.messages)
        return value

    def _invalid(self, field: str, reasons: list) -> None:
        reason = str(reasons[0])
        self.problems.append(DomainError("invalid_value", field, REASON=reason))

    def key(self, model: type[Model], field: str, value: Any) -> int | None:
        """A key the service reads (and refuses when it names nothing)."""
        if value is None:
            return None
        found = parse_key(value)
        if found is None:
            self._missing(model, field, value)
        return found

    def row(self, model: type[Model], field: str, value: Any) -> Model | None:
        """The row a key names, for a service that stores the reference as it is given."""
        found_key = self.key(model, field, value)
        if found_key is None:
            return None
        found = model._default_manager.filter(pk=found_key).first()
        if found is None:
            self._missing(model, field, value)
        return found

    def _missing(self, model: type[Model], field: str, value: Any) -> None:
        reference = f"key {value}"
        self.problems.append(
            DomainError("reference_not_found", field, OBJECT=model, REFERENCE=reference)
        )

    def version(self, field: str, value: str) -> frozenset[int]:
        """An `etag` input: exactly one version, with or without its quotes (`"3"`, `3`)."""
        text = value.strip()
        if len(text) > 1 and text[0] == text[-1] == '"':
            text = text[1:-1]
        version = whole_number(text)
        if version is None:
            reason = 'one version, as its _etag reads ("3")'
            self.problems.append(DomainError("invalid_value", field, REASON=reason))
            return frozenset()
        return frozenset({version})

    def checked(self) -> None:
        refuse(self.problems)


def _user(info: Info) -> Any:
    return info.context.request.user


def _given(value: Any) -> bool:
    return value is not strawberry.UNSET


# --- inputs --------------------------------------------------------------------------------------
@strawberry.input(description="New part inventory of a part.")
class CreatePartInventoryInput:
    part_id: strawberry.ID
    serial_number: str | None = None
    lot_number: str | None = None
    autogenerate_serial_number: bool | None = None
    autogenerate_lot_number: bool | None = None
    quantity: float | None = None
    location_id: strawberry.ID | None = None
    cost: Decimal | None = None
    usage_type: str | None = None
    supplier_id: str | None = None


@strawberry.input(
    description="Changes to part inventory: any field but its part; `etag` is the "
    "version it was read at (its `_etag`, with or without quotes)."
)
class UpdatePartInventoryInput:
    id: strawberry.ID
    etag: str
    serial_number: str | None = strawberry.UNSET
    lot_number: str | None = strawberry.UNSET
    autogenerate_serial_number: bool | None = strawberry.UNSET
    autogenerate_lot_number: bool | None = strawberry.UNSET
    quantity: float | None = strawberry.UNSET
    location_id: strawberry.ID | None = strawberry.UNSET
    cost: Decimal | None = strawberry.UNSET
    usage_type: str | None = strawberry.UNSET
    supplier_id: str | None = strawberry.UNSET


@strawberry.input(description="A part kit allocating inventory to a run.")
class CreatePartKitInput:
    run_id: strawberry.ID
    status: types.PartKitStatus | None = None


@strawberry.input(
    description="Issue to a kit, or move back to inventory: `quantity` is required unless the "
    "inventory is serial; `locationId` (moves only) is where it is stored now."
)
class InventoryToKitInput:
    part_inventory_id: strawberry.ID
    part_kit_id: strawberry.ID
    quantity: float | None = None
    location_id: strawberry.ID | None = None


# --- payloads ------------------------------------------------------------------------------------
def _one(model: type[Model], key: int, info: Info) -> Any:
    return types.loaded(model._default_manager.filter(pk=key), info).get()


@strawberry.type
class PartInventoryPayload:
    key: strawberry.Private[int]

    @strawberry.field(extensions=can_view(PartInventory))
    def part_inventory(self, info: Info) -> types.PartInventoryNode:
        return _one(PartInventory, self.key, info)


CreatePartInventoryPayload = strawberry.type(
    type("CreatePartInventoryPayload", (PartInventoryPayload,), {}),
    description="The part inventory created.",
)
UpdatePartInventoryPayload = strawberry.type(
    type("UpdatePartInventoryPayload", (PartInventoryPayload,), {}),
    description="The part inventory as it now stands.",
)


@strawberry.type(description="The key of the part inventory deleted.")
class DeletePartInventoryPayload:
    id: strawberry.ID


@strawberry.type(description="The part kit created.")
class CreatePartKitPayload:
    key: strawberry.Private[int]

    @strawberry.field(extensions=can_view(PartKit))
    def part_kit(self, info: Info) -> types.PartKitNode:
        return _one(PartKit, self.key, info)


@strawberry.type(description="The inventory and the kit after the move, and what the kit holds.")
class InventoryToKitPayload:
    part_inventory_key: strawberry.Private[int]
    part_kit_key: strawberry.Private[int]
    issued_quantity: float = strawberry.field(
        description="What the kit holds of the inventory now."
    )

    @strawberry.field(extensions=can_view(PartInventory))
    def part_inventory(self, info: Info) -> types.PartInventoryNode:
        return _one(PartInventory, self.part_inventory_key, info)

    @strawberry.field(extensions=can_view(PartKit))
    def part_kit(self, info: Info) -> types.PartKitNode:
        return _one(PartKit, self.part_kit_key, info)


def _moved(move: kitting_services.KitMove) -> InventoryToKitPayload:
    return InventoryToKitPayload(
        part_inventory_key=move.part_inventory.pk,
        part_kit_key=move.part_kit.pk,
        issued_quantity=types.number(move.issued_quantity),
    )


# --- the mutations -------------------------------------------------------------------------------
def _inventory_fields(values: _Values, data: Any, given=lambda value: True) -> dict[str, Any]:
    """The part inventory fields of a create or update input (those `given`)."""
    fields: dict[str, Any] = {}
    for field in ("serial_number", "lot_number", "usage_type", "supplier_id", "quantity", "cost"):
        if given(getattr(data, field)):
            fields[field] = values.inventory(field, getattr(data, field))
    for field in ("autogenerate_serial_number", "autogenerate_lot_number"):
        if given(getattr(data, field)):
            fields[field] = bool(getattr(data, field))
    if given(data.location_id):
        fields["location"] = values.row(Warehouse, "location", data.location_id)
    return fields


@strawberry.type(description="ION's part inventory and kitting changes.")
class Mutation:
    @strawberry.mutation(extensions=writes(*CREATE_INVENTORY))
    def create_part_inventory(
        self, info: Info, input: CreatePartInventoryInput
    ) -> CreatePartInventoryPayload | None:
        with refusals(_INVENTORY_NAMES):
            values = _Values()
            part_key = values.key(Item, "part", input.part_id)
            fields = _inventory_fields(values, input)
            values.checked()
            if fields.get("quantity") is None:
                fields.pop("quantity", None)
            inventory = inventory_services.part_inventory_create(
                user=_user(info), part=Item(pk=part_key), **fields
            )
        return CreatePartInventoryPayload(key=inventory.pk)

    @strawberry.mutation(extensions=writes(*UPDATE_INVENTORY))
    def update_part_inventory(
        self, info: Info, input: UpdatePartInventoryInput
    ) -> UpdatePartInventoryPayload | None:
        subject = (PartInventory, "id", input.id)
        with refusals(_INVENTORY_NAMES, etag=input.etag, subject=subject):
            values = _Values()
            changes = _inventory_fields(values, input, given=_given)
            version = values.version("etag", input.etag)
            values.checked()
            inventory = inventory_services.part_inventory_update(
                part_inventory_key=parse_key(input.id) or 0,
                user=_user(info),
                expected_version=version,
                **changes,
            )
        return UpdatePartInventoryPayload(key=inventory.pk)

    @strawberry.mutation(extensions=writes(*DELETE_INVENTORY))
    def delete_part_inventory(
        self, info: Info, id: strawberry.ID, etag: str
    ) -> DeletePartInventoryPayload | None:
        with refusals(_INVENTORY_NAMES, etag=etag, subject=(PartInventory, "id", id)):
            values = _Values()
            version = values.version("etag", etag)
            values.checked()
            inventory_services.part_inventory_delete(
                part_inventory_key=parse_key(id) or 0, user=_user(info), expected_version=version
            )
        return DeletePartInventoryPayload(id=id)

    @strawberry.mutation(extensions=writes(*CREATE_KIT))
    def create_part_kit(self, info: Info, input: CreatePartKitInput) -> CreatePartKitPayload | None:
        with refusals(_KIT_NAMES):
            values = _Values()
            run_key = values.key(Run, "run", input.run_id)
            values.checked()
            status = {} if input.status is None else {"status": input.status.value}
            kit = kitting_services.part_kit_create(user=_user(info), run=Run(pk=run_key), **status)
        return CreatePartKitPayload(key=kit.pk)

    @strawberry.mutation(extensions=writes(*MOVE))
    def issue_item_to_kit(
        self, info: Info, input: InventoryToKitInput
    ) -> InventoryToKitPayload | None:
        with refusals(_MOVE_NAMES, subject=(PartKit, "partKitId", input.part_kit_id)):
            values = _Values()
            inventory_key = values.key(PartInventory, "part_inventory", input.part_inventory_id)
            quantity = values.inventory("quantity", input.quantity)
            if input.location_id is not None:
                reason = "only moveItemToInventory stores inventory somewhere else"
                values.problems.append(DomainError("invalid_value", "location", REASON=reason))
            values.checked()
            move = kitting_services.part_kit_issue(
                user=_user(info),
                part_kit_key=parse_key(input.part_kit_id) or 0,
                part_inventory_key=inventory_key,
                quantity=quantity,
            )
        return _moved(move)

    @strawberry.mutation(extensions=writes(*MOVE))
    def move_item_to_inventory(
        self, info: Info, input: InventoryToKitInput
    ) -> InventoryToKitPayload | None:
        with refusals(_MOVE_NAMES, subject=(PartKit, "partKitId", input.part_kit_id)):
            values = _Values()
            inventory_key = values.key(PartInventory, "part_inventory", input.part_inventory_id)
            quantity = values.inventory("quantity", input.quantity)
            location_key = values.key(Warehouse, "location", input.location_id)
            values.checked()
            move = kitting_services.part_kit_move_to_inventory(
                user=_user(info),
                part_kit_key=parse_key(input.part_kit_id) or 0,
                part_inventory_key=inventory_key,
                quantity=quantity,
                location_key=location_key,
            )
        return _moved(move)
