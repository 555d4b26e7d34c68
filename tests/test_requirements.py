"""`inventory-control/requirement` (contract 15.2, 15.7): one row per open run and stocked part of
its exploded part, through list, get, the query service and the part kit's `requirements`."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kitting import services
from tests.support.errors import FORBIDDEN, assert_error, not_found
from tests.support.factories import issue, kit, kit_line, part, run, stock, warehouse
from tests.support.multi import answer, failed_item, with_status
from tests.support.refs import ONE, href, ref
from tests.support.users import forced_client, make_user

OBJECT = "/objects/inventory-control/requirement"
QUERY = "/services/core/query"


@pytest.fixture
def plan(admin_user):
    """Sub (kit) = 2 Bolt + a service; Top (kit) = 3 Sub + 1 Nut + 1 Spare (stockable kit,
    required as itself) + a service; Box (stockableKit) = 2 Bolt + a service. RUN-A builds 2 Top,
    RUN-B 1 Box, RUN-C a Nut (no requirements). 10 Bolt and 1 Nut in stock; RUN-A's two kits
    hold 4 Bolt and 1 Nut."""
    user = admin_user
    made = {code: part(user, code) for code in ("Nut", "Service")}
    made["Bolt"] = part(user, "Bolt", enable_lot_category=True)
    made["Service"] = part(user, "Svc", "nonInventory")
    made["Sub"] = part(user, "Sub", "kit")
    made["Top"] = part(user, "Top", "kit")
    made["Box"] = part(user, "Box", "stockableKit")
    made["Spare"] = part(user, "Spare", "stockableKit")
    kit_line(user, made["Sub"], made["Bolt"], 2)
    kit_line(user, made["Sub"], made["Service"], 1)
    kit_line(user, made["Top"], made["Sub"], 3)
    kit_line(user, made["Top"], made["Nut"], 1)
    kit_line(user, made["Top"], made["Spare"], 1)
    kit_line(user, made["Top"], made["Service"], 1)
    kit_line(user, made["Box"], made["Bolt"], 2)
    kit_line(user, made["Box"], made["Service"], 1)
    made["bolts"] = stock(user, made["Bolt"], 10, lot_number="L1")
    made["nuts"] = stock(user, made["Nut"], 1)
    made["A"] = run(user, "RUN-A", part=made["Top"], quantity=2)
    made["B"] = run(user, "RUN-B", part=made["Box"])
    made["C"] = run(user, "RUN-C", part=made["Nut"])
    made["kitA"] = kit(user, made["A"])
    issue(user, made["kitA"], made["bolts"], 4)
    issue(user, kit(user, made["A"]), made["nuts"], 1)
    return made


def row(plan, run_code, part_code, required, issued, short, available, uncovered):
    key = f"{plan[run_code].pk}-{plan[part_code].pk}"
    return {
        "key": key,
        "id": key,
        "run": ref(plan[run_code]),
        "part": ref(plan[part_code]),
        "requiredQuantity": required,
        "issuedQuantity": issued,
        "shortQuantity": short,
        "availableQuantity": available,
        "uncoveredQuantity": uncovered,
        "href": f"{OBJECT}/{key}",
    }


def expected_rows(plan):
    return [
        # 2 Top x 3 Sub x 2 Bolt; 4 issued; 6 left in stock.
        row(plan, "A", "Bolt", 12, 4, 8, 6, 2),
        row(plan, "A", "Nut", 2, 1, 1, 0, 1),
        row(plan, "A", "Spare", 2, 0, 2, 0, 2),
        row(plan, "B", "Bolt", 2, 0, 2, 6, 0),
    ]


def ordered(rows):
    return sorted(rows, key=lambda r: (int(r["run"]["key"]), int(r["part"]["key"])))


def test_get_each_requirement(api, plan):
    for expected in expected_rows(plan):
        response = api.get(expected["href"])
        assert response.status_code == 200, response.json()
        assert response.json() == {"ia::result": expected, "ia::meta": ONE}


def test_unknown_or_malformed_key_is_404(api, plan):
    too_large = ("9999999999999999999-1", f"{plan['A'].pk}-9999999999999999999")
    for key in (f"{plan['C'].pk}-{plan['Nut'].pk}", "1", "x-1", "1-2-3", *too_large):
        response = api.get(f"{OBJECT}/{key}")
        assert_error(response, 404, not_found("inventory-control/requirement", key))


def test_a_batch_get_answers_each_key_as_its_get(api, plan):
    """Contract 13.3 holds for every /objects path: keys "<run>-<part>", in the order asked."""
    a_bolt, a_nut, b_bolt, *_ = expected_rows(plan)
    response = api.get(f"{OBJECT}/{b_bolt['key']},{a_bolt['key']},{b_bolt['key']}")
    assert (response.status_code, response.json()) == (200, answer([b_bolt, a_bolt, b_bolt]))
    unknown = f"{plan['C'].pk}-{plan['Nut'].pk}"
    response = api.get(f"{OBJECT}/{a_nut['key']},{unknown},x-1")
    results = [
        with_status(a_nut, 200),
        failed_item(response, 404, not_found("inventory-control/requirement", unknown)),
        failed_item(response, 404, not_found("inventory-control/requirement", "x-1")),
    ]
    assert (response.status_code, response.json()) == (207, answer(results, 1))


def test_list_is_ordered_by_run_then_part_and_filters(api, plan):
    rows = ordered(expected_rows(plan))
    response = api.get(OBJECT)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [r["key"] for r in body["ia::result"]] == [r["key"] for r in rows]
    assert body["ia::meta"]["totalCount"] == 4
    response = api.get(f"{OBJECT}?run={plan['B'].pk}")
    assert [r["key"] for r in response.json()["ia::result"]] == [rows[-1]["key"]]
    response = api.get(f"{OBJECT}?part={plan['Bolt'].pk}&run={plan['A'].pk}")
    bolts = f"{plan['A'].pk}-{plan['Bolt'].pk}"
    assert [r["key"] for r in response.json()["ia::result"]] == [bolts]


def test_query_service_shortage_list_by_part(api, plan):
    body = {
        "object": "inventory-control/requirement",
        "fields": ["part.id", "sum:shortQuantity", "sum:uncoveredQuantity"],
        "orderBy": [{"part.id": "asc"}],
    }
    response = api.post(QUERY, body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["ia::result"] == [
        {"part.id": "Bolt", "sum:shortQuantity": 10, "sum:uncoveredQuantity": 2},
        {"part.id": "Nut", "sum:shortQuantity": 1, "sum:uncoveredQuantity": 1},
        {"part.id": "Spare", "sum:shortQuantity": 2, "sum:uncoveredQuantity": 2},
    ]
    filtered = {
        "object": "inventory-control/requirement",
        "fields": ["id", "run.id", "shortQuantity"],
        "filters": [{"$gt": {"uncoveredQuantity": 0}}, {"$eq": {"run.id": "RUN-A"}}],
        "orderBy": [{"shortQuantity": "desc"}],
    }
    response = api.post(QUERY, filtered, format="json")
    rows = {r["part"]["id"]: r["key"] for r in expected_rows(plan)[:3]}
    assert response.json()["ia::result"] == [
        {"id": rows["Bolt"], "run.id": "RUN-A", "shortQuantity": 8},
        {"id": rows["Spare"], "run.id": "RUN-A", "shortQuantity": 2},
        {"id": rows["Nut"], "run.id": "RUN-A", "shortQuantity": 1},
    ]


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_query_without_order_by_comes_by_run_then_part(api, admin_user, plan):
    """The key is text ("10-3" sorts before "2-3"): the query service orders as the list does,
    by run then part, and breaks the ties of an orderBy the same way."""
    for i in range(8):  # runs 4 to 11 (fresh sequences), three rows each
        run(admin_user, f"MORE-{i}", part=plan["Top"])
    listed = api.get(f"{OBJECT}?size=100").json()["ia::result"]
    keys = [r["key"] for r in listed]
    assert len(keys) == 4 + 8 * 3
    assert keys == sorted(keys, key=lambda key: tuple(int(n) for n in key.split("-")))
    assert keys != sorted(keys)  # by text the order would differ: runs 10 and 11 first
    body = {"object": "inventory-control/requirement", "fields": ["id"]}
    answered = api.post(QUERY, {**body, "size": 100}, format="json").json()["ia::result"]
    assert [r["id"] for r in answered] == keys
    paged = [
        r["id"]
        for start in (1, 11, 21)
        for r in api.post(QUERY, {**body, "start": start, "size": 10}, format="json").json()[
            "ia::result"
        ]
    ]
    assert paged == keys
    ties = {**body, "fields": ["id", "shortQuantity"], "orderBy": [{"shortQuantity": "desc"}]}
    answered = api.post(QUERY, {**ties, "size": 100}, format="json").json()["ia::result"]
    short = {r["id"]: r["shortQuantity"] for r in answered}
    assert len(set(short.values())) < len(short)  # there are ties to break
    assert [r["id"] for r in answered] == sorted(keys, key=lambda key: -short[key])


def test_one_statement_whatever_the_number_of_runs(api, admin_user, plan):
    body = {"object": "inventory-control/requirement", "fields": ["id", "shortQuantity"]}
    with CaptureQueriesContext(connection) as few:
        api.post(QUERY, body, format="json")
    for i in range(8):
        run(admin_user, f"MORE-{i}", part=plan["Top"])
    with CaptureQueriesContext(connection) as many:
        response = api.post(QUERY, body, format="json")
    assert len(response.json()["ia::result"]) == 4 + 8 * 3
    assert len(many.captured_queries) == len(few.captured_queries)
    reads = [q["sql"] for q in many.captured_queries if "kitting_requirement" in q["sql"]]
    assert len(reads) == 2  # the page and its count


def test_part_kit_requirements_are_the_runs_exploded_rows(api, plan):
    body = api.get(href(plan["kitA"])).json()["ia::result"]
    expected = [
        {
            "part": ref(plan[code]),
            "requiredQuantity": required,
            "issuedQuantity": issued,
            "shortQuantity": short,
        }
        for code, required, issued, short in (
            ("Bolt", 12, 4, 8),
            ("Nut", 2, 1, 1),
            ("Spare", 2, 0, 2),
        )
    ]
    assert body["requirements"] == sorted(expected, key=lambda r: int(r["part"]["key"]))


def test_rows_disappear_when_a_run_is_canceled_or_completed(api, admin_user, plan):
    response = api.patch(href(plan["A"]), {"status": "canceled"}, format="json")
    assert response.status_code == 200, response.json()
    left = [r["key"] for r in api.get(OBJECT).json()["ia::result"]]
    assert left == [f"{plan['B'].pk}-{plan['Bolt'].pk}"]
    shelf = warehouse(admin_user, "SHELF")
    services.run_complete(
        user=admin_user, run_key=plan["B"].pk, location=shelf, allow_shortage=True
    )
    assert api.get(OBJECT).json()["ia::result"] == []
    assert api.get(href(plan["kitA"])).json()["ia::result"]["requirements"] == []


def test_reading_needs_view_run(plan):
    allowed = forced_client(make_user("planner", "kitting.view_run"))
    assert allowed.get(OBJECT).status_code == 200
    body = {"object": "inventory-control/requirement", "fields": ["id"]}
    assert len(allowed.post(QUERY, body, format="json").json()["ia::result"]) == 4
    denied = forced_client(make_user("clerk", "inventory.view_item"))
    assert_error(denied.get(OBJECT), 403, FORBIDDEN)
    assert denied.post(QUERY, body, format="json").status_code == 403
    assert allowed.post(OBJECT, {}, format="json").status_code == 405


def test_a_get_and_a_batch_get_read_only_the_runs_their_keys_name(api, plan):
    """Filtered on its keys' runs, the view explodes those runs only (it anchors at each run)."""
    keys = [row["key"] for row in ordered(expected_rows(plan))]
    for asked in [keys[:1], keys]:
        runs = sorted({int(key.split("-")[0]) for key in asked})
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(f"{OBJECT}/{','.join(asked)}").status_code == 200
        (statement,) = [q["sql"] for q in ctx.captured_queries if "kitting_requirement" in q["sql"]]
        assert f'"kitting_requirement"."run_id" IN ({", ".join(map(str, runs))})' in statement
