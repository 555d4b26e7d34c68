"""ION's queries (contract 14): one object by `id`, or a page of a list. They read the apps'
selectors, as the REST API does, and ask the same view permission as its GETs."""

from typing import Any

import strawberry
from django.db.models import Model, QuerySet
from strawberry.types import Info

from config.api.fields import parse_key
from config.graphql import lists, types
from config.graphql.errors import refusals
from config.graphql.lists import LOCATIONS, PART_INVENTORIES, PART_KITS, PARTS, RUNS, Connection
from config.graphql.permissions import can_view
from core.errors import DomainError
from inventory.models import Item, PartInventory, Warehouse
from kitting.models import PartKit, Run


def one(listing: lists.Listing, model: type[Model], id: str, info: Info) -> Any:
    """The object with this key, loaded for the selection; a key that names nothing is the REST
    API's 404 (KS-4041), and the field is null."""
    queryset: QuerySet = listing.selector().filter(pk=parse_key(id) or 0)
    found = types.loaded(queryset, info).first()
    if found is None:
        with refusals({}, subject=(model, "id", id)):
            raise DomainError("not_found", OBJECT=model, KEY=id)
    return found


@strawberry.type(description="ION's part inventory and kitting.")
class Query:
    @strawberry.field(extensions=can_view(PartInventory))
    def part_inventory(self, info: Info, id: strawberry.ID) -> types.PartInventoryNode | None:
        return one(PART_INVENTORIES, PartInventory, id, info)

    @strawberry.field(extensions=can_view(PartInventory))
    def part_inventories(
        self,
        info: Info,
        filters: PART_INVENTORIES.filters | None = None,
        sort: list[PART_INVENTORIES.sort] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[types.PartInventoryNode]:
        return lists.page(
            PART_INVENTORIES,
            info,
            filters=filters,
            sort=sort,
            first=first,
            after=after,
            last=last,
            before=before,
        )

    @strawberry.field(extensions=can_view(Item))
    def part(self, info: Info, id: strawberry.ID) -> types.Part | None:
        return one(PARTS, Item, id, info)

    @strawberry.field(extensions=can_view(Item))
    def parts(
        self,
        info: Info,
        filters: PARTS.filters | None = None,
        sort: list[PARTS.sort] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[types.Part]:
        return lists.page(
            PARTS,
            info,
            filters=filters,
            sort=sort,
            first=first,
            after=after,
            last=last,
            before=before,
        )

    @strawberry.field(extensions=can_view(Warehouse))
    def location(self, info: Info, id: strawberry.ID) -> types.Location | None:
        return one(LOCATIONS, Warehouse, id, info)

    @strawberry.field(extensions=can_view(Warehouse))
    def locations(
        self,
        info: Info,
        filters: LOCATIONS.filters | None = None,
        sort: list[LOCATIONS.sort] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[types.Location]:
        return lists.page(
            LOCATIONS,
            info,
            filters=filters,
            sort=sort,
            first=first,
            after=after,
            last=last,
            before=before,
        )

    @strawberry.field(extensions=can_view(Run))
    def run(self, info: Info, id: strawberry.ID) -> types.RunNode | None:
        return one(RUNS, Run, id, info)

    @strawberry.field(extensions=can_view(Run))
    def runs(
        self,
        info: Info,
        filters: RUNS.filters | None = None,
        sort: list[RUNS.sort] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[types.RunNode]:
        return lists.page(
            RUNS,
            info,
            filters=filters,
            sort=sort,
            first=first,
            after=after,
            last=last,
            before=before,
        )

    @strawberry.field(extensions=can_view(PartKit))
    def part_kit(self, info: Info, id: strawberry.ID) -> types.PartKitNode | None:
        return one(PART_KITS, PartKit, id, info)

    @strawberry.field(extensions=can_view(PartKit))
    def part_kits(
        self,
        info: Info,
        filters: PART_KITS.filters | None = None,
        sort: list[PART_KITS.sort] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[types.PartKitNode]:
        return lists.page(
            PART_KITS,
            info,
            filters=filters,
            sort=sort,
            first=first,
            after=after,
            last=last,
            before=before,
        )
