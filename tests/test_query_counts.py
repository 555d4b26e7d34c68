"""Reads cost a fixed number of statements, whatever they return: every list, detail and query
endpoint, measured once over one row (or one child row) and once over many, must run the same
number of statements, and that number must be the one recorded in tests/query_counts.json.

The counts go through the `api` client (a real bearer token), so they include the token check.

A change that legitimately changes a count regenerates the baseline, and the diff of the JSON
file shows what moved in review:

    UPDATE_QUERY_COUNTS=1 .venv/bin/python -m pytest -q -p no:randomly tests/test_query_counts.py

(the run still fails where one row and many rows differ). A failing count prints every statement
of both measurements."""

import json
import os
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import InventoryTransaction
from tests.support.factories import issue, kit, run, stock, warehouse
from tests.support.graphql_scenes import GRAPHQL  # and GraphQL's scenes are registered
from tests.support.query_counts import (
    OBJECTS,
    QUERY,
    SCENES,
    batch_of,
    items,
    kit_of,
    kit_with_lines,
    nested_kits,
    planned_run,
    query,
    scene,
    stocked,
    users,
    warehouses,
)
from tests.support.refs import href
from tests.support.users import make_user

BASELINE = Path(__file__).with_name("query_counts.json")
UPDATE = os.environ.get("UPDATE_QUERY_COUNTS") == "1"
MANY = 12


# --- lists: n rows -----------------------------------------------------------------------------


@scene("item list")
def _(user, n, tag):
    items(user, tag, n)
    return f"{OBJECTS}/item", None


@scene("item list filtered")
def _(user, n, tag):
    items(user, tag, n)
    return f"{OBJECTS}/item?itemType=inventory&status=active", None


@scene("warehouse list")
def _(user, n, tag):
    warehouses(user, tag, n)
    return f"{OBJECTS}/warehouse", None


@scene("kit-component list")
def _(user, n, tag):
    kit_with_lines([user], tag, n)
    return f"{OBJECTS}/kit-component", None


@scene("kit-component list filtered")
def _(user, n, tag):
    kit = kit_with_lines([user], tag, n)
    return f"{OBJECTS}/kit-component?kit={kit.pk}", None


@scene("part-inventory list")
def _(user, n, tag):
    for i in range(n):
        stocked(user, f"{tag}{i}")
    return f"{OBJECTS}/part-inventory", None


@scene("inventory-transaction list")
def _(user, n, tag):
    for i in range(n):
        stocked(user, f"{tag}{i}")
    return f"{OBJECTS}/inventory-transaction", None


@scene("run list")
def _(user, n, tag):
    for i in range(n):
        run(user, f"RUN-{tag}{i}")
    return f"{OBJECTS}/run", None


@scene("part-kit list")
def _(user, n, tag):
    for i in range(n):
        kit_of(user, f"RUN-{tag}{i}")
    return f"{OBJECTS}/part-kit", None


# --- details: n child rows ---------------------------------------------------------------------


@scene("item detail")
def _(user, n, tag):
    return href(kit_with_lines(users(user, tag), tag, n)), None


@scene("warehouse detail")
def _(user, n, tag):
    warehouses(user, tag, n - 1)
    return href(warehouse(make_user(f"other-{tag}"), f"W{tag}")), None


@scene("kit-component detail")
def _(user, n, tag):
    the_kit = kit_with_lines(users(user, tag), tag, n)
    return href(the_kit.kit_components.order_by("pk").last()), None


@scene("part-inventory detail")
def _(user, n, tag):
    inventory = stocked(user, tag, quantity=n)
    for i in range(n):
        issue(user, kit_of(user, f"RUN-{tag}{i}"), inventory, 1)
    return href(inventory), None


@scene("inventory-transaction detail")
def _(user, n, tag):
    inventory = stocked(user, tag, quantity=n)
    part_kit = kit_of(user, f"RUN-{tag}")
    for _ in range(n):
        issue(user, part_kit, inventory, 1)
    row = InventoryTransaction.objects.filter(part_inventory=inventory).last()
    return href(row), None


@scene("run detail")
def _(user, n, tag):
    the_run = run(user, f"RUN-{tag}")
    for i in range(n):
        issue(user, kit(user, the_run), stocked(user, f"{tag}{i}"), 1)
    return href(the_run), None


@scene("part-kit detail")
def _(user, n, tag):
    part_kit = kit(user, run(user, f"RUN-{tag}", part=kit_with_lines([user], tag, n)))
    for i in range(n):
        issue(user, part_kit, stocked(user, f"{tag}{i}"), 1)
    return href(part_kit), None


# --- batch GETs (contract 13.3): n + 1 keys, as one key alone is the single GET ----------------


@scene("item batch get")
def _(user, n, tag):
    return batch_of(
        [kit_with_lines(users(user, f"{tag}{i}"), f"{tag}{i}", 2) for i in range(n + 1)]
    ), None


@scene("warehouse batch get")
def _(user, n, tag):
    return batch_of(warehouses(make_user(f"other-{tag}"), tag, n + 1)), None


@scene("kit-component batch get")
def _(user, n, tag):
    the_kit = kit_with_lines(users(user, tag), tag, n + 1)
    return batch_of(list(the_kit.kit_components.order_by("pk"))), None


@scene("part-inventory batch get")
def _(user, n, tag):
    inventories = [stocked(user, f"{tag}{i}", quantity=2) for i in range(n + 1)]
    for i, inventory in enumerate(inventories):
        issue(user, kit_of(user, f"RUN-{tag}{i}"), inventory, 1)
    return batch_of(inventories), None


@scene("inventory-transaction batch get")
def _(user, n, tag):
    inventory = stocked(user, tag, quantity=n + 1)
    part_kit = kit_of(user, f"RUN-{tag}")
    for _ in range(n + 1):
        issue(user, part_kit, inventory, 1)
    rows = InventoryTransaction.objects.filter(part_inventory=inventory, type="issue")
    return batch_of(list(rows.order_by("pk"))), None


@scene("run batch get")
def _(user, n, tag):
    runs = [run(user, f"RUN-{tag}{i}") for i in range(n + 1)]
    for i, the_run in enumerate(runs):
        issue(user, kit(user, the_run), stocked(user, f"{tag}{i}"), 1)
    return batch_of(runs), None


@scene("part-kit batch get")
def _(user, n, tag):
    the_run = run(user, f"RUN-{tag}", part=kit_with_lines([user], tag, 2))
    kits = [kit(user, the_run) for _ in range(n + 1)]
    for i, part_kit in enumerate(kits):
        issue(user, part_kit, stocked(user, f"{tag}{i}"), 1)
    return batch_of(kits), None


# --- the query service: n rows -----------------------------------------------------------------


@scene("query item")
def _(user, n, tag):
    items(user, tag, n)
    return QUERY, query("item", "key", "id", "name", "itemType")


@scene("query item stock")
def _(user, n, tag):
    nested_kits(user, tag, n)
    fields = ("key", "onHandQuantity", "availableQuantity", "kittedQuantity", "buildableQuantity")
    return QUERY, query("item", *fields)


@scene("item detail stock")
def _(user, n, tag):
    the_kit = kit_with_lines(users(user, tag), tag, n)
    for line in the_kit.kit_components.all():
        stock(user, line.component, 5)
    return href(the_kit), None


@scene("query warehouse")
def _(user, n, tag):
    warehouses(user, tag, n)
    return QUERY, query("warehouse", "key", "id", "name")


@scene("query kit-component")
def _(user, n, tag):
    kit_with_lines([user], tag, n)
    return QUERY, query("kit-component", "key", "id", "numberOfUnits")


@scene("query part-inventory")
def _(user, n, tag):
    for i in range(n):
        stocked(user, f"{tag}{i}")
    return QUERY, query("part-inventory", "key", "id", "quantity")


@scene("query inventory-transaction")
def _(user, n, tag):
    for i in range(n):
        stocked(user, f"{tag}{i}")
    return QUERY, query("inventory-transaction", "key", "id", "type", "quantity")


@scene("query run")
def _(user, n, tag):
    for i in range(n):
        run(user, f"RUN-{tag}{i}")
    return QUERY, query("run", "key", "id", "status")


@scene("query part-kit")
def _(user, n, tag):
    for i in range(n):
        kit_of(user, f"RUN-{tag}{i}")
    return QUERY, query("part-kit", "key", "id", "status")


# --- requirements (contract 15.7): a run of n stocked parts, n rows ------------------------------
REQUIREMENT_FIELDS = (
    "key",
    "id",
    "run.id",
    "part.id",
    "requiredQuantity",
    "issuedQuantity",
    "shortQuantity",
    "availableQuantity",
    "uncoveredQuantity",
)


def requirement_keys(user, tag: str, n: int) -> list[str]:
    the_run, _ = planned_run(user, tag, n)
    return [f"{the_run.pk}-{p}" for p in the_run.requirements.values_list("part_id", flat=True)]


@scene("requirement list")
def _(user, n, tag):
    requirement_keys(user, tag, n)
    return f"{OBJECTS}/requirement", None


@scene("requirement detail")
def _(user, n, tag):
    return f"{OBJECTS}/requirement/{requirement_keys(user, tag, n)[-1]}", None


@scene("requirement batch get")
def _(user, n, tag):
    keys = requirement_keys(user, tag, n + 1)
    return f"{OBJECTS}/requirement/{','.join(keys)}", None


@scene("query requirement")
def _(user, n, tag):
    requirement_keys(user, tag, n)
    return QUERY, query("requirement", *REQUIREMENT_FIELDS)


# --- the model service: n rows of the object it describes (they are never read) ----------------


@scene("model list")
def _(user, n, tag):
    items(user, tag, n)
    return "/services/core/model", None


@scene("model of kit-component")
def _(user, n, tag):
    kit_with_lines([user], tag, n)
    return "/services/core/model?name=inventory-control/kit-component", None


@scene("model of a workflow")
def _(user, n, tag):
    for i in range(n):
        kit_of(user, f"RUN-{tag}{i}")
    return "/services/core/model?name=workflows/inventory-control/part-kit/issue", None


# --- the measurement ---------------------------------------------------------------------------


def measure(api, url: str, body: dict | None) -> list[str]:
    """The statements one request runs."""
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(url) if body is None else api.post(url, body, format="json")
    assert response.status_code == 200, response.content
    if url == GRAPHQL:
        assert "errors" not in response.json(), response.json()
    return [q["sql"] for q in ctx.captured_queries]


def listing(label: str, statements: list[str]) -> str:
    lines = "\n".join(f"  {i}. {sql}" for i, sql in enumerate(statements, 1))
    return f"{label}: {len(statements)} statements\n{lines}"


def record(name: str, count: int) -> None:
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    baseline[name] = count
    BASELINE.write_text(json.dumps(dict(sorted(baseline.items())), indent=2) + "\n")


def test_the_baseline_names_every_scene_and_nothing_else():
    if UPDATE:
        baseline = json.loads(BASELINE.read_text())
        BASELINE.write_text(
            json.dumps({k: v for k, v in sorted(baseline.items()) if k in SCENES}, indent=2) + "\n"
        )
        return  # the scenes themselves record their counts, in whatever order they run
    assert sorted(json.loads(BASELINE.read_text())) == sorted(SCENES)


@pytest.mark.parametrize("name", sorted(SCENES))
def test_statement_count(name, api, admin_user, settings):
    # GraphQL's scenes select every nested list at once, far over the cost limit (each plain list
    # counts 1000 rows): statements are measured here, not cost.
    settings.GRAPHQL_MAX_COST = 10**18
    build = SCENES[name]
    # Once first: what a process does once (item detail's stock statement is captured from the
    # ORM by running it) is no request's cost, and the counts must not depend on the test order.
    measure(api, *build(admin_user, 1, "w"))
    one = measure(api, *build(admin_user, 1, "a"))
    many = measure(api, *build(admin_user, MANY, "b"))
    if UPDATE:
        record(name, len(one))
    expected = json.loads(BASELINE.read_text()).get(name)
    assert len(one) == len(many) == expected, "\n".join(
        [
            f"{name}: baseline {expected} ({BASELINE.name}; UPDATE_QUERY_COUNTS=1 regenerates it)",
            listing("one row", one),
            listing(f"{MANY} rows", many),
        ]
    )
