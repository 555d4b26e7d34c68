"""The GraphQL schema as contract 14 names it: the committed schema.graphql is the code's (and
`graphql_schema --check` fails when it is not), every list filters and sorts on every scalar
field of its type, and the operations carry ION's names."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLObjectType,
    build_schema,
    get_named_type,
)

from config.graphql.management.commands.graphql_schema import schema_text

ROOT = Path(__file__).resolve().parent.parent
GRAPHQL_SCHEMA = build_schema(schema_text())
# Query list -> (node type, filter input, sort enum).
LISTS = {
    "partInventories": ("PartInventory", "PartInventoriesInputFilters", "PartInventorySortEnum"),
    "parts": ("Part", "PartsInputFilters", "PartSortEnum"),
    "locations": ("Location", "LocationsInputFilters", "LocationSortEnum"),
    "runs": ("Run", "RunsInputFilters", "RunSortEnum"),
    "partKits": ("PartKit", "PartKitsInputFilters", "PartKitSortEnum"),
}
# Scalars that are no column of their own: what a kit holds of an inventory exists in a kit only.
NOT_LISTED = {("PartInventory", "issuedQuantity")}


def test_the_committed_schema_is_the_codes():
    assert (ROOT / "schema.graphql").read_text() == schema_text(), (
        "schema.graphql is stale: run `python manage.py graphql_schema`"
    )


def test_the_check_fails_on_a_stale_file_and_passes_on_a_written_one(tmp_path):
    stale = tmp_path / "schema.graphql"
    stale.write_text(schema_text().replace("partInventories", "partInventory_s"))
    with pytest.raises(CommandError, match="differs from the schema in the code"):
        call_command("graphql_schema", "--check", "--path", str(stale))
    call_command("graphql_schema", "--path", str(stale))
    call_command("graphql_schema", "--check", "--path", str(stale))


@pytest.mark.parametrize("name", sorted(LISTS))
def test_every_scalar_field_is_filterable_and_sortable(name):
    node, filters, sort = LISTS[name]
    node_type = GRAPHQL_SCHEMA.get_type(node)
    assert isinstance(node_type, GraphQLObjectType)
    scalars = [
        field
        for field, definition in node_type.fields.items()
        if not isinstance(get_named_type(definition.type), GraphQLObjectType)
        and (node, field) not in NOT_LISTED
    ]
    filter_type = GRAPHQL_SCHEMA.get_type(filters)
    assert isinstance(filter_type, GraphQLInputObjectType)
    assert list(filter_type.fields) == scalars
    sort_type = GRAPHQL_SCHEMA.get_type(sort)
    assert isinstance(sort_type, GraphQLEnumType)
    assert len(sort_type.values) == 2 * len(scalars)
    assert {"ID_ASC", "ID_DESC"} <= set(sort_type.values)
    field = GRAPHQL_SCHEMA.query_type.fields[name]
    assert list(field.args) == ["filters", "sort", "first", "after", "last", "before"]
    assert str(field.args["sort"].type) == f"[{sort}!]"
    connection = get_named_type(field.type)
    page_info = get_named_type(connection.fields["pageInfo"].type)
    assert {"endCursor", "hasNextPage", "totalCount", "count"} <= set(page_info.fields)


def test_ion_operation_names():
    assert sorted(GRAPHQL_SCHEMA.query_type.fields) == sorted(
        [*LISTS, "partInventory", "part", "location", "run", "partKit"]
    )
    assert sorted(GRAPHQL_SCHEMA.mutation_type.fields) == [
        "createPartInventory",
        "createPartKit",
        "deletePartInventory",
        "issueItemToKit",
        "moveItemToInventory",
        "updatePartInventory",
    ]
    string_filter = GRAPHQL_SCHEMA.get_type("StringFilter")
    assert list(string_filter.fields) == [
        "eq", "neq", "in", "notIn", "lt", "lte", "gt", "gte", "isNull", "like", "ilike"
    ]  # fmt: skip
    statuses = GRAPHQL_SCHEMA.get_type("RunStatus").values
    assert list(statuses) == ["TODO", "IN_PROGRESS", "COMPLETE", "CANCELED"]
