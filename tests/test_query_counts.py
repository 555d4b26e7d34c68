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
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import InventoryTransaction
from tests.support.factories import issue, kit, kit_line, part, run, stock, warehouse
from tests.support.refs import href
from tests.support.users import make_user

BASELINE = Path(__file__).with_name("query_counts.json")
UPDATE = os.environ.get("UPDATE_QUERY_COUNTS") == "1"
MANY = 12
OBJECTS = "/objects/inventory-control"
QUERY = "/services/core/query"

# A scene builds what one measurement reads and returns the request: (url, query body or None).
# It is called twice in one test, with n=1 and n=MANY and distinct tags, so both sets coexist.
Scene = Callable[..., tuple[str, dict | None]]
SCENES: dict[str, Scene] = {}


def scene(name: str):
    def register(build: Scene) -> Scene:
        SCENES[name] = build
        return build

    return register


# --- building blocks ----------------------------------------------------------------------------


def items(user, tag: str, n: int, item_type: str = "inventory"):
    return [part(user, f"{tag}-{i}", item_type) for i in range(n)]


def warehouses(user, tag: str, n: int):
    return [warehouse(user, f"W{tag}{i}") for i in range(n)]


def kit_with_lines(users, tag: str, n: int):
    """A kit of n lines, written by the users in turn (audit users differ from line to line)."""
    the_kit = part(users[0], f"Kit-{tag}", "kit")
    for i, component in enumerate(items(users[0], f"C{tag}", n)):
        kit_line(users[i % len(users)], the_kit, component, i + 1)
    return the_kit


def stocked(user, tag: str, quantity: int = 10):
    return stock(user, part(user, f"Stock-{tag}"), quantity)


def kit_of(user, code: str):
    return kit(user, run(user, code))


def users(admin, tag: str):
    return [admin, make_user(f"other-{tag}")]


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


def batch_of(objects) -> str:
    """`/objects/…/{k1},{k2},…` of these objects."""
    return href(objects[0]) + "".join(f",{obj.pk}" for obj in objects[1:])


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


def query(obj: str, *fields: str) -> dict:
    return {"object": f"inventory-control/{obj}", "fields": list(fields), "size": 100}


@scene("query item")
def _(user, n, tag):
    items(user, tag, n)
    return QUERY, query("item", "key", "id", "name", "itemType")


def nested_kits(user, tag: str, n: int):
    """n kits, each holding a nested kit of a stocked part (exploded by the stock figures)."""
    for i in range(n):
        inner, outer = part(user, f"In-{tag}{i}", "kit"), part(user, f"Out-{tag}{i}", "kit")
        kit_line(user, inner, stocked(user, f"{tag}{i}").part, 2)
        kit_line(user, outer, inner, 3)


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


# --- GraphQL (contract 14): every query, nested lists included ---------------------------------
GRAPHQL = "/graphql"
INVENTORY_FIELDS = """id _etag partId quantity status trackingType unitOfMeasure cost
  part { id partNumber quantity trackingType partsInventory { id location { name } } }
  location { id name }
  runs { id title part { id } partKits { id } }
  partKits { id status run { id } partInventories { id issuedQuantity } }"""
KIT_FIELDS = f"""id _etag status run {{ id title partKits {{ id }} }}
  partInventories {{ {INVENTORY_FIELDS} }}"""
RUN_FIELDS = f"id _etag title status quantity part {{ partNumber }} partKits {{ {KIT_FIELDS} }}"
PART_FIELDS = f"id _etag partNumber quantity partsInventory {{ {INVENTORY_FIELDS} }}"


def graphql_page(field: str, selection: str) -> tuple[str, dict]:
    # A page of 20 holds every row measured.
    page = f"{field}(first: 20)"
    query = f"{{ {page} {{ edges {{ node {{ {selection} }} }} pageInfo {{ totalCount }} }} }}"
    return GRAPHQL, {"query": query}


def graphql_one(field: str, key, selection: str) -> tuple[str, dict]:
    return GRAPHQL, {"query": f'{{ {field}(id: "{key}") {{ {selection} }} }}'}


def issued_stock(user, tag: str, n: int):
    """n inventories on a shelf, each issued to a kit of its own run."""
    shelf = warehouse(user, f"W{tag}")
    made = []
    for i in range(n):
        inventory = stock(user, part(user, f"GQ-{tag}{i}"), 10, location=shelf)
        issue(user, kit_of(user, f"RUN-{tag}{i}"), inventory, 1)
        made.append(inventory)
    return made


@scene("graphql partInventories")
def _(user, n, tag):
    issued_stock(user, tag, n)
    return graphql_page("partInventories", INVENTORY_FIELDS)


@scene("graphql partInventory")
def _(user, n, tag):
    inventory = stocked(user, tag, quantity=n)
    for i in range(n):
        issue(user, kit_of(user, f"RUN-{tag}{i}"), inventory, 1)
    return graphql_one("partInventory", inventory.pk, INVENTORY_FIELDS)


@scene("graphql parts")
def _(user, n, tag):
    for inventory in issued_stock(user, tag, n):
        stock(user, inventory.part, 2)
    return graphql_page("parts", PART_FIELDS)


@scene("graphql part")
def _(user, n, tag):
    the_part = part(user, f"GQ-{tag}")
    for _ in range(n):
        issue(user, kit_of(user, f"RUN-{tag}{_}"), stock(user, the_part, 3), 1)
    return graphql_one("part", the_part.pk, PART_FIELDS)


@scene("graphql locations")
def _(user, n, tag):
    warehouses(user, tag, n)
    return graphql_page("locations", "id _etag name inventoryAvailable")


@scene("graphql location")
def _(user, n, tag):
    warehouses(user, tag, n - 1)
    return graphql_one("location", warehouse(user, f"W{tag}").pk, "id _etag name")


@scene("graphql runs")
def _(user, n, tag):
    issued_stock(user, tag, n)
    return graphql_page("runs", RUN_FIELDS)


@scene("graphql run")
def _(user, n, tag):
    the_run = run(user, f"RUN-{tag}", part=part(user, f"GQ-{tag}"))
    for i in range(n):
        issue(user, kit(user, the_run), stocked(user, f"{tag}{i}"), 1)
    return graphql_one("run", the_run.pk, RUN_FIELDS)


@scene("graphql partKits")
def _(user, n, tag):
    issued_stock(user, tag, n)
    return graphql_page("partKits", KIT_FIELDS)


@scene("graphql partKit")
def _(user, n, tag):
    part_kit = kit_of(user, f"RUN-{tag}")
    for i in range(n):
        issue(user, part_kit, stocked(user, f"{tag}{i}"), 1)
    return graphql_one("partKit", part_kit.pk, KIT_FIELDS)


# Contract 15 in GraphQL: requirements on runs and kits (nested both ways), a part's stock figures.
REQUIREMENT_FIELDS = """id runId partId requiredQuantity issuedQuantity shortQuantity
  availableQuantity uncoveredQuantity run { id title } part { id partNumber quantity }"""


def planned_run(user, tag: str, n: int):
    """A run of a kit holding n kits of a stocked part each, and a kit holding one of each."""
    outer = part(user, f"Out-{tag}", "kit")
    the_run = run(user, f"RUN-{tag}", part=outer)
    part_kit = kit(user, the_run)
    for i in range(n):
        inner, inventory = part(user, f"In-{tag}{i}", "kit"), stocked(user, f"{tag}{i}")
        kit_line(user, inner, inventory.part, 2)
        kit_line(user, outer, inner, 3)
        issue(user, part_kit, inventory, 1)
    return the_run, part_kit


@scene("graphql runs requirements")
def _(user, n, tag):
    for i in range(n):
        planned_run(user, f"{tag}{i}", 1)
    kits = f"partKits {{ id requirements {{ {REQUIREMENT_FIELDS} }} }}"
    return graphql_page("runs", f"id requirements {{ {REQUIREMENT_FIELDS} }} {kits}")


@scene("graphql run requirements")
def _(user, n, tag):
    the_run, _ = planned_run(user, tag, n)
    return graphql_one("run", the_run.pk, f"id requirements {{ {REQUIREMENT_FIELDS} }}")


@scene("graphql partKits requirements")
def _(user, n, tag):
    for i in range(n):
        planned_run(user, f"{tag}{i}", 1)
    runs = "run { id requirements { id partId } }"
    return graphql_page("partKits", f"id {runs} requirements {{ {REQUIREMENT_FIELDS} }}")


@scene("graphql partKit requirements")
def _(user, n, tag):
    _, part_kit = planned_run(user, tag, n)
    return graphql_one("partKit", part_kit.pk, f"id requirements {{ {REQUIREMENT_FIELDS} }}")


@scene("graphql parts stock")
def _(user, n, tag):
    nested_kits(user, tag, n)
    figures = "onHandQuantity availableQuantity kittedQuantity buildableQuantity"
    return graphql_page("parts", f"id partNumber {figures}")


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
