"""GraphQL's scenes (contract 14) for tests/test_query_counts.py: every query, nested lists
included, requirements and stock figures too."""

from tests.support.factories import issue, kit, part, run, stock, warehouse
from tests.support.query_counts import (
    kit_of,
    nested_kits,
    planned_run,
    scene,
    stocked,
    warehouses,
)

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
