"""Kit explosions are anchored (contract 15.1, 15.2): an item's buildableQuantity explodes that
item only, and only a `kit` or `stockableKit`; a requirement read explodes the open runs it
reads, never a kit no open run builds.

The proof is behavioural, not a plan: two kits holding each other (a cycle the kit component
service refuses, written past it here) make any explosion that reaches them endless, and a
guard aborts any statement that runs longer than a few seconds. A read that exploded every kit
of the database, as the views before migration kitting 0003 did, fails here instead of
answering."""

import contextlib
import time

import pytest
from django.db import connection

from kitcomponents.models import KitComponent
from tests.support.factories import issue, kit, kit_line, part, run, stock
from tests.support.refs import href

QUERY = "/services/core/query"
FIGURES = ["onHandQuantity", "availableQuantity", "kittedQuantity", "buildableQuantity"]
LIMIT_SECONDS = 5


@contextlib.contextmanager
def statements_end_quickly():
    """Abort a statement that runs longer than LIMIT_SECONDS (an endless recursion)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = '{LIMIT_SECONDS}s'")
        yield
        return
    connection.ensure_connection()
    deadline = time.monotonic() + LIMIT_SECONDS
    # sqlite3's public progress handler: a true answer interrupts the running statement.
    connection.connection.set_progress_handler(lambda: time.monotonic() > deadline, 100_000)
    try:
        yield
    finally:
        connection.connection.set_progress_handler(None, 0)


@pytest.fixture
def catalogue(admin_user):
    """Top (kit) = 3 Sub (kit) + 1 Nut; Sub = 2 Bolt + a service. 10 Bolt, 4 Nut in stock.
    Loop-A and Loop-B (kits) hold each other, and no open run builds them."""
    user = admin_user
    made = {code: part(user, code) for code in ("Bolt", "Nut")}
    made["Service"] = part(user, "Service", "nonInventory")
    made["Sub"], made["Top"] = part(user, "Sub", "kit"), part(user, "Top", "kit")
    kit_line(user, made["Sub"], made["Bolt"], 2)
    kit_line(user, made["Sub"], made["Service"], 1)
    kit_line(user, made["Top"], made["Sub"], 3)
    kit_line(user, made["Top"], made["Nut"], 1)
    made["bolts"] = stock(user, made["Bolt"], 10)
    stock(user, made["Nut"], 4)
    made["A"], made["B"] = part(user, "Loop-A", "kit"), part(user, "Loop-B", "kit")
    kit_line(user, made["A"], made["Nut"], 1)
    for kit_item, component in ((made["A"], made["B"]), (made["B"], made["A"])):
        KitComponent.objects.create(
            kit=kit_item, component=component, number_of_units=1, line_number=9, created_by=user
        )
    made["run"] = run(user, "RUN-TOP", part=made["Top"], quantity=2)
    issue(user, kit(user, made["run"]), made["bolts"], 5)
    return made


EXPECTED = {
    # 6 Bolt a Top, 5 available (the other 5 are in the kit): floor(5 / 6) = 0.
    "Top": [0, 0, 0, 0],
    "Sub": [0, 0, 0, 2],  # floor(5 / 2)
    "Bolt": [5, 5, 5, None],  # not a kit: no explosion, null (5 of 10 are in the kit)
    "Nut": [4, 4, 0, None],
    "Service": [0, 0, 0, None],
}


def test_an_item_explodes_itself_only(api, catalogue):
    with statements_end_quickly():
        for code, figures in EXPECTED.items():
            body = api.get(href(catalogue[code])).json()["ia::result"]
            assert [body[name] for name in FIGURES] == figures, code


def test_query_service_explodes_the_rows_it_reads(api, catalogue):
    body = {
        "object": "inventory-control/item",
        "fields": ["id", *FIGURES],
        "filters": [{"$in": {"id": list(EXPECTED)}}],
        "orderBy": [{"id": "asc"}],
    }
    with statements_end_quickly():
        response = api.post(QUERY, body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["ia::result"] == [
        {"id": code, **dict(zip(FIGURES, EXPECTED[code], strict=True))} for code in sorted(EXPECTED)
    ]


def test_requirements_explode_open_runs_only(api, catalogue):
    top_run = catalogue["run"]
    with statements_end_quickly():
        listed = api.get(f"/objects/inventory-control/requirement?run={top_run.pk}").json()
        one = api.get(f"/objects/inventory-control/requirement/{top_run.pk}-{catalogue['Bolt'].pk}")
        shortages = api.post(
            QUERY,
            {
                "object": "inventory-control/requirement",
                "fields": ["part.id", "requiredQuantity", "issuedQuantity", "shortQuantity"],
                "orderBy": [{"part.id": "asc"}],
            },
            format="json",
        )
    assert [row["key"] for row in listed["ia::result"]] == [
        f"{top_run.pk}-{catalogue['Bolt'].pk}",
        f"{top_run.pk}-{catalogue['Nut'].pk}",
    ]
    assert one.status_code == 200, one.json()
    assert one.json()["ia::result"]["requiredQuantity"] == 12  # 2 Top x 3 Sub x 2 Bolt
    assert shortages.json()["ia::result"] == [
        {"part.id": "Bolt", "requiredQuantity": 12, "issuedQuantity": 5, "shortQuantity": 7},
        {"part.id": "Nut", "requiredQuantity": 2, "issuedQuantity": 0, "shortQuantity": 2},
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="JIT is PostgreSQL's")
def test_postgresql_connections_run_without_jit(db):
    """The requirement view's estimates would otherwise buy JIT compilation, seconds per read."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
