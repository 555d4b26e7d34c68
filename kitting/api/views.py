from contextlib import contextmanager
from typing import Any

from django.db.models import Model
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import responses
from config.api.fields import KeyRefField, parse_key
from config.api.idempotency import IdempotentMixin
from config.api.protocol import request_payload
from config.api.schema import ERROR, ERROR_STATUSES, IntacctAutoSchema, one_envelope
from config.api.viewsets import ObjectViewSet, expected_versions
from core.errors import DomainError, DomainErrors
from inventory import services as inventory_services
from inventory.models import PartInventory
from kitting import selectors, services
from kitting.api.filters import PartKitFilter, RunFilter
from kitting.api.serializers import (
    FulfilResultSerializer,
    KitMoveResultSerializer,
    PartInventoryAdjustSerializer,
    PartInventoryMovedSerializer,
    PartInventorySplitResultSerializer,
    PartInventorySplitSerializer,
    PartKitFulfillSerializer,
    PartKitIssueSerializer,
    PartKitMoveToInventorySerializer,
    PartKitSerializer,
    RunCompleteResultSerializer,
    RunCompleteSerializer,
    RunSerializer,
)
from kitting.models import PartKit, Run


class RunViewSet(ObjectViewSet):
    queryset = selectors.run_list()
    serializer_class = RunSerializer
    filterset_class = RunFilter
    delete_service = services.run_delete


class PartKitViewSet(ObjectViewSet):
    queryset = selectors.part_kit_list()
    serializer_class = PartKitSerializer
    filterset_class = PartKitFilter
    delete_service = services.part_kit_delete


class WorkflowSchema(IntacctAutoSchema):
    """A workflow documents its request serializer and its result in the `ia::result` envelope."""

    def get_request_serializer(self):
        return self.view.input_serializer

    def get_response_serializers(self):
        return self.view.result_serializer

    def response_bodies(self, generated: dict) -> dict:
        # drf-spectacular documents the result serializer (and the examples); we wrap its schema
        # in the envelope the workflow really answers with.
        ok = generated["200"]
        for media in ok["content"].values():
            media["schema"] = one_envelope(media["schema"])
            for example in media.get("examples", {}).values():
                example["value"] = responses.one(example["value"])
        ok["description"] = self.view.result_description
        bodies = {"200": ok}
        error = {"content": {"application/json": {"schema": self._component("Error", ERROR)}}}
        for status, description in ERROR_STATUSES.items():
            bodies.setdefault(status, {**error, "description": description})
        return bodies


class WorkflowView(IdempotentMixin, APIView):
    """`POST /workflows/inventory-control/{object}/{action}`: validate the body, name the object by
    its key (404 when unknown), run the action's one service, answer its result; a keyed request
    answers once (IdempotentMixin)."""

    schema = WorkflowSchema()
    input_serializer: type[serializers.Serializer]
    result_serializer: type[serializers.Serializer]
    result_description = ""
    # The model whose row the action changes under If-Match, required as on its PATCH (the
    # service compares the version under its lock); None: the action takes no If-Match.
    if_match_model: type[Model] | None = None

    def post(self, request: Request, *args, **kwargs) -> Response:
        versions = {}
        if self.if_match_model is not None:
            versions["expected_version"] = expected_versions(
                request, self.if_match_model, required=True
            )
        serializer = self.input_serializer(
            data=request_payload(request), context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        try:
            result = self.perform(request.user, **serializer.validated_data, **versions)
        except DomainErrors as exc:
            raise DomainErrors(_as_named(err, serializer) for err in exc.errors) from exc
        return Response(responses.one(self.result_serializer(result).data))

    def perform(self, user, **data: Any) -> Any:
        raise NotImplementedError


def _as_named(err: DomainError, serializer: serializers.Serializer) -> DomainError:
    """A reference the service found missing, named as the request named it (`id 12`)."""
    if err.code != "reference_not_found":
        return err
    for field in serializer.fields.values():
        if isinstance(field, KeyRefField) and field.source == err.field and field.named:
            return DomainError(err.code, err.field, **{**err.params, "REFERENCE": field.named})
    return err


def _key(key: str) -> int:
    # 0 names nothing: the service answers 404 after the body's references are checked.
    return parse_key(key) or 0


@contextmanager
def _not_found_as_named(model: type[Model], key: str):
    """The 404 of the object the action is on names its key as the request spelled it."""
    try:
        yield
    except DomainError as err:
        if err.code == "not_found" and err.params.get("OBJECT") is model:
            raise DomainError("not_found", OBJECT=model, KEY=key) from err
        raise


PART_KIT_PERMISSIONS = ["kitting.change_partkit", "inventory.change_partinventory"]


@extend_schema(
    summary="Issue part inventory to a part kit",
    description="Moves `quantity` of the inventory from stock into the kit (an `issue` ledger row)."
    " `quantity` is required for lot and untracked inventory; a serial moves one unit and may"
    " leave it out. The kit must be open (not completed or canceled). Needs"
    " kitting.change_partkit and inventory.change_partinventory.",
    examples=[
        OpenApiExample(
            "Issue 2 packs of paper",
            value={"key": "1", "partInventory": {"key": "3"}, "quantity": 2},
            request_only=True,
        ),
        OpenApiExample(
            "Result",
            value={
                "key": "1",
                "id": "1",
                "href": "/objects/inventory-control/part-kit/1",
                "partInventory": {
                    "key": "3",
                    "id": "3",
                    "href": "/objects/inventory-control/part-inventory/3",
                    "quantity": 18,
                },
                "issuedQuantity": 2,
            },
            response_only=True,
        ),
    ],
)
class PartKitIssueView(WorkflowView):
    required_permissions = PART_KIT_PERMISSIONS
    input_serializer = PartKitIssueSerializer
    result_serializer = KitMoveResultSerializer
    result_description = "The kit, the inventory's on-hand quantity now, what the kit holds of it"

    def perform(self, user, *, key, part_inventory, quantity=None):
        with _not_found_as_named(PartKit, key):
            return services.part_kit_issue(
                user=user,
                part_kit_key=_key(key),
                part_inventory_key=part_inventory,
                quantity=quantity,
            )


@extend_schema(
    summary="Fulfil a part kit: issue what its run is still short of",
    description="For each requirement of the kit's run still short, issues available inventory of"
    " its part to the kit, oldest first, only from `location` when given, a serial one unit at a"
    " time, until covered or out of stock (`issue` ledger rows). Nothing to issue: `issued: []`."
    " Needs kitting.change_partkit and inventory.change_partinventory.",
    examples=[
        OpenApiExample(
            "Fulfil from WH-MAIN",
            value={"key": "1", "location": {"id": "WH-MAIN"}},
            request_only=True,
        )
    ],
)
class PartKitFulfillView(WorkflowView):
    required_permissions = PART_KIT_PERMISSIONS
    input_serializer = PartKitFulfillSerializer
    result_serializer = FulfilResultSerializer
    result_description = "The kit, what was issued to it, and its run's requirements"

    def perform(self, user, *, key, location=None):
        with _not_found_as_named(PartKit, key):
            return services.part_kit_fulfill(
                user=user, part_kit_key=_key(key), location_key=location
            )


@extend_schema(
    summary="Move part inventory from a part kit back to inventory",
    description="Returns up to the issued quantity to the same inventory record, optionally at a"
    " new `location` (a `return` ledger row); an entry whose issued quantity reaches 0 leaves the"
    " kit. `quantity` is required unless the inventory is serial. Needs kitting.change_partkit"
    " and inventory.change_partinventory.",
    examples=[
        OpenApiExample(
            "Move 1 back",
            value={
                "key": "1",
                "partInventory": {"key": "3"},
                "quantity": 1,
                "location": {"id": "WH-MAIN"},
            },
            request_only=True,
        )
    ],
)
class PartKitMoveToInventoryView(WorkflowView):
    required_permissions = PART_KIT_PERMISSIONS
    input_serializer = PartKitMoveToInventorySerializer
    result_serializer = KitMoveResultSerializer
    result_description = "The kit, the inventory's on-hand quantity now, what the kit holds of it"

    def perform(self, user, *, key, part_inventory, quantity=None, location=None):
        with _not_found_as_named(PartKit, key):
            return services.part_kit_move_to_inventory(
                user=user,
                part_kit_key=_key(key),
                part_inventory_key=part_inventory,
                quantity=quantity,
                location_key=location,
            )


@extend_schema(
    summary="Complete a run: install its kits and build its outputs",
    description="Installs every quantity issued to the run's open kits (`install` ledger rows and"
    " the run's installations) and completes those kits; creates the run's output part inventory"
    " at `location` (`build` ledger rows, builtBy = the run): one serial of quantity 1 per unit"
    " for a serial-tracked part (the `serialNumbers` given, one per unit, or generated), else one"
    " record of the run's quantity (with a generated lot number when lot-tracked). The run becomes"
    " `complete`. It must have a part and be todo or inProgress. Needs kitting.change_run.",
    examples=[
        OpenApiExample(
            "Complete into WH-MAIN",
            value={"key": "1", "location": {"id": "WH-MAIN"}},
            request_only=True,
        ),
        OpenApiExample(
            "Result",
            value={
                "key": "1",
                "id": "RUN-1",
                "href": "/objects/inventory-control/run/1",
                "status": "complete",
                "outputs": [
                    {
                        "key": "7",
                        "id": "7",
                        "href": "/objects/inventory-control/part-inventory/7",
                        "serialNumber": None,
                        "lotNumber": None,
                        "quantity": 1,
                    }
                ],
            },
            response_only=True,
        ),
    ],
)
class RunCompleteView(WorkflowView):
    required_permissions = ["kitting.change_run"]
    input_serializer = RunCompleteSerializer
    result_serializer = RunCompleteResultSerializer
    result_description = "The completed run and the part inventory it built"

    def perform(self, user, *, key, **data):
        with _not_found_as_named(Run, key):
            return services.run_complete(user=user, run_key=_key(key), **data)


def _part_inventory(key: str, quantity: int, warehouse_key: str, warehouse_id: str) -> dict:
    return {
        "key": key,
        "id": key,
        "href": f"/objects/inventory-control/part-inventory/{key}",
        "quantity": quantity,
        "location": {
            "key": warehouse_key,
            "id": warehouse_id,
            "href": f"/objects/inventory-control/warehouse/{warehouse_key}",
        },
    }


@extend_schema(
    summary="Scrap, recount or transfer part inventory",
    description="`scrap` removes `quantity` (a `scrap` ledger row, -quantity); `recount` sets the"
    " on-hand quantity to `quantity` (a `recount` row with the difference); `transfer` moves the"
    " inventory to `location` (a `transfer` row changing no quantity, with `fromLocation` and"
    " `toLocation`). `reason` is required and kept on the ledger row. A serial stays at 0 or 1."
    " Needs If-Match with the inventory's ETag (428 without it, 412 when stale) and"
    " inventory.change_partinventory.",
    examples=[
        OpenApiExample(
            "Scrap 3 damaged units",
            value={"key": "4", "type": "scrap", "quantity": 3, "reason": "water damage"},
            request_only=True,
        ),
        OpenApiExample(
            "Transfer",
            value={"key": "5", "type": "transfer", "location": {"id": "WH-2"}, "reason": "moved"},
            request_only=True,
        ),
        # Each answer is named after its request.
        OpenApiExample(
            "Scrap 3 damaged units",
            value=_part_inventory("4", 23, "1", "WH-MAIN"),
            response_only=True,
        ),
        OpenApiExample("Transfer", value=_part_inventory("5", 10, "2", "WH-2"), response_only=True),
    ],
)
class PartInventoryAdjustView(WorkflowView):
    required_permissions = ["inventory.change_partinventory"]
    input_serializer = PartInventoryAdjustSerializer
    result_serializer = PartInventoryMovedSerializer
    result_description = "The inventory with its on-hand quantity and location now"
    if_match_model = PartInventory

    def perform(self, user, *, key, location=None, **data):
        with _not_found_as_named(PartInventory, key):
            return inventory_services.part_inventory_adjust(
                user=user, part_inventory_key=_key(key), location_key=location, **data
            )


@extend_schema(
    summary="Split part inventory",
    description="Moves `quantity` of a lot or untracked inventory into a new record of the same"
    " part, lot number and cost, at `location` or the source's, with `originPartInventory` the"
    " source: a `split` ledger row on each (-quantity and +quantity). The source keeps some: the"
    " quantity must be less than its on-hand quantity. Needs If-Match with the source's ETag"
    " (428 without it, 412 when stale) and inventory.change_partinventory.",
    examples=[
        OpenApiExample("Split 5 off", value={"key": "5", "quantity": 5}, request_only=True),
        OpenApiExample(
            "Result",
            value={
                **_part_inventory("6", 5, "2", "WH-2"),
                "originPartInventory": {
                    "key": "5",
                    "id": "5",
                    "href": "/objects/inventory-control/part-inventory/5",
                },
            },
            response_only=True,
        ),
    ],
)
class PartInventorySplitView(WorkflowView):
    required_permissions = ["inventory.change_partinventory"]
    input_serializer = PartInventorySplitSerializer
    result_serializer = PartInventorySplitResultSerializer
    result_description = "The new part inventory and the inventory it was split off"
    if_match_model = PartInventory

    def perform(self, user, *, key, location=None, **data):
        with _not_found_as_named(PartInventory, key):
            return inventory_services.part_inventory_split(
                user=user, part_inventory_key=_key(key), location_key=location, **data
            )
