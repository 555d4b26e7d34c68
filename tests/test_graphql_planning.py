"""Contract 15 in ION's GraphQL (14): `requirements` on runs and part kits (the rows of REST's
inventory-control/requirement, 15.2, 15.7) and a part's stock figures (15.1), read over real HTTP
and compared with what REST answers for the same objects."""

import pytest

from kitting import services
from kitting.models import PartKit, Requirement, RunStatus
from tests.support.factories import complete, issue, kit, kit_line, part, run, stock, warehouse
from tests.support.graphql import data, error_entry, errors_of, graphql
from tests.support.users import bearer_client, make_user

pytestmark = pytest.mark.django_db

REQUIREMENT = """id runId partId run { id title } part { id partNumber }
  requiredQuantity issuedQuantity shortQuantity availableQuantity uncoveredQuantity"""
RUN = "query($id: ID!) { run(id: $id) { id status requirements { " + REQUIREMENT + " } } }"
PART_KIT = "query($id: ID!) { partKit(id: $id) { id requirements { " + REQUIREMENT + " } } }"
FIGURES = "onHandQuantity availableQuantity kittedQuantity buildableQuantity"
PARTS = (
    "query($filters: PartsInputFilters, $sort: [PartSortEnum!]) { parts(filters: $filters, "
    "sort: $sort) { edges { node { partNumber quantity " + FIGURES + " } } } }"
)


@pytest.fixture
def plan(admin_user):
    """A kit holding a kit holding parts: Top (kit) = 3 Sub + 1 Nut + a service, Sub (kit) = 2
    Bolt + a service; Box (stockableKit) = 1 Bolt + a service. RUN-A builds 2 Top, so it needs
    12 Bolt and 2 Nut; RUN-B 1 Box; RUN-C nothing. 10 Bolt on an available shelf and 4 in
    quarantine, 2 Nut without a location; RUN-A's first kit holds 4 Bolt, its second 1 Nut."""
    user = admin_user
    made = {
        "Bolt": part(user, "Bolt", enable_lot_category=True),
        "Nut": part(user, "Nut"),
        "Svc": part(user, "Svc", "nonInventory"),
        "Sub": part(user, "Sub", "kit"),
        "Top": part(user, "Top", "kit"),
        "Box": part(user, "Box", "stockableKit"),
    }
    kit_line(user, made["Sub"], made["Bolt"], 2)
    kit_line(user, made["Sub"], made["Svc"], 1)
    kit_line(user, made["Top"], made["Sub"], 3)
    kit_line(user, made["Top"], made["Nut"], 1)
    kit_line(user, made["Top"], made["Svc"], 1)
    kit_line(user, made["Box"], made["Bolt"], 1)
    kit_line(user, made["Box"], made["Svc"], 1)
    shelf = warehouse(user, "WH-1")
    quarantine = warehouse(user, "WH-Q", "Quarantine", inventory_available=False)
    made["bolts"] = stock(user, made["Bolt"], 10, lot_number="L1", location=shelf)
    stock(user, made["Bolt"], 4, lot_number="L2", location=quarantine)
    nuts = stock(user, made["Nut"], 2)
    made["A"] = run(user, "RUN-A", title="Two tops", part=made["Top"], quantity=2)
    made["B"] = run(user, "RUN-B", title="A box", part=made["Box"])
    made["C"] = run(user, "RUN-C", title="Nothing to build")
    made["kitA"] = kit(user, made["A"])
    made["kitA2"] = kit(user, made["A"])
    made["kitB"] = kit(user, made["B"])
    issue(user, made["kitA"], made["bolts"], 4)
    issue(user, made["kitA2"], nuts, 1)
    return made


def requirement(
    plan, part_code, required, issued, short, available, uncovered, run_code="A"
) -> dict:
    the_run, the_part = plan[run_code], plan[part_code]
    return {
        "id": f"{the_run.pk}-{the_part.pk}",
        "runId": str(the_run.pk),
        "partId": str(the_part.pk),
        "run": {"id": str(the_run.pk), "title": the_run.title},
        "part": {"id": str(the_part.pk), "partNumber": part_code},
        "requiredQuantity": required,
        "issuedQuantity": issued,
        "shortQuantity": short,
        "availableQuantity": available,
        "uncoveredQuantity": uncovered,
    }


def expected_requirements(plan) -> list[dict]:
    return [
        # 2 Top x 3 Sub x 2 Bolt; 4 issued; 6 left on the available shelf (quarantine aside).
        requirement(plan, "Bolt", 12, 4, 8, 6, 2),
        # 2 Top x 1 Nut; 1 issued; 1 left without a location, which counts as available.
        requirement(plan, "Nut", 2, 1, 1, 1, 0),
    ]


def test_a_run_and_each_of_its_kits_show_its_exploded_requirements(api, plan):
    run_body = data(graphql(api, RUN, id=str(plan["A"].pk)))["run"]
    assert run_body == {
        "id": str(plan["A"].pk),
        "status": "TODO",
        "requirements": expected_requirements(plan),
    }
    # Every kit of the run shows the run's rows, issued counted over all its open kits.
    for name in ("kitA", "kitA2"):
        kit_body = data(graphql(api, PART_KIT, id=str(plan[name].pk)))["partKit"]
        assert kit_body == {"id": str(plan[name].pk), "requirements": expected_requirements(plan)}
    empty = data(graphql(api, RUN, id=str(plan["C"].pk)))["run"]
    assert empty == {"id": str(plan["C"].pk), "status": "TODO", "requirements": []}


def test_the_rows_are_the_rest_requirement_objects(api, plan):
    rest = api.get("/objects/inventory-control/requirement/" + f"{plan['A'].pk}-{plan['Bolt'].pk}")
    assert rest.status_code == 200, rest.content
    body = rest.json()["ia::result"]
    [bolt, _] = data(graphql(api, RUN, id=str(plan["A"].pk)))["run"]["requirements"]
    assert bolt["id"] == body["key"]
    for member in (
        "requiredQuantity",
        "issuedQuantity",
        "shortQuantity",
        "availableQuantity",
        "uncoveredQuantity",
    ):
        assert bolt[member] == body[member], member


def test_the_rows_follow_the_kits_and_disappear_when_the_run_closes(api, admin_user, plan):
    issued = """mutation($input: InventoryToKitInput!) {
      issueItemToKit(input: $input) {
        issuedQuantity partKit { requirements { partId issuedQuantity shortQuantity } }
      }
    }"""
    move = {"partInventoryId": str(plan["bolts"].pk), "partKitId": str(plan["kitA2"].pk)}
    payload = data(graphql(api, issued, input={**move, "quantity": 6}))["issueItemToKit"]
    assert payload == {
        "issuedQuantity": 6,
        "partKit": {
            "requirements": [
                {"partId": str(plan["Bolt"].pk), "issuedQuantity": 10, "shortQuantity": 2},
                {"partId": str(plan["Nut"].pk), "issuedQuantity": 1, "shortQuantity": 1},
            ]
        },
    }
    box = {"id": str(plan["B"].pk), "status": "TODO", "requirements": []}
    box_row = requirement(plan, "Bolt", 1, 0, 1, 0, 1, run_code="B")
    assert data(graphql(api, RUN, id=box["id"]))["run"] == {**box, "requirements": [box_row]}
    # RUN-B completes; RUN-A is canceled (its kits give back what they hold).
    complete(admin_user, plan["B"])
    services.run_update(run_key=plan["A"].pk, user=admin_user, status=RunStatus.CANCELED)
    assert data(graphql(api, RUN, id=box["id"]))["run"] == {**box, "status": "COMPLETE"}
    tops = data(graphql(api, RUN, id=str(plan["A"].pk)))["run"]
    assert tops == {"id": str(plan["A"].pk), "status": "CANCELED", "requirements": []}
    for name in ("kitA", "kitA2", "kitB"):
        kit_body = data(graphql(api, PART_KIT, id=str(plan[name].pk)))["partKit"]
        assert kit_body == {"id": str(plan[name].pk), "requirements": []}
    assert not Requirement.objects.exists()


def test_a_part_shows_the_stock_figures_rest_shows(api, plan):
    nodes = data(graphql(api, PARTS, sort=["ID_ASC"]))["parts"]["edges"]
    figures = {edge["node"]["partNumber"]: edge["node"] for edge in nodes}

    def node(code, on_hand, available, kitted, buildable):
        return {
            "partNumber": code,
            "quantity": on_hand,
            "onHandQuantity": on_hand,
            "availableQuantity": available,
            "kittedQuantity": kitted,
            "buildableQuantity": buildable,
        }

    assert figures == {
        # 6 of L1 on the shelf and 4 of L2 in quarantine; 4 issued.
        "Bolt": node("Bolt", 10, 6, 4, None),
        "Nut": node("Nut", 1, 1, 1, None),
        "Svc": node("Svc", 0, 0, 0, None),
        # floor(6 / 2): a service is no stocked component.
        "Sub": node("Sub", 0, 0, 0, 3),
        # Sub exploded: min(floor(6 / 6) Bolt, floor(1 / 1) Nut).
        "Top": node("Top", 0, 0, 0, 1),
        "Box": node("Box", 0, 0, 0, 6),
    }
    for code, expected in figures.items():
        rest = api.get(f"/objects/inventory-control/item/{plan[code].pk}").json()["ia::result"]
        assert {name: rest[name] for name in FIGURES.split()} == {
            name: expected[name] for name in FIGURES.split()
        }, code


@pytest.mark.parametrize(
    ("filters", "sort", "codes"),
    [
        ({"buildableQuantity": {"gte": 1}}, ["BUILDABLE_QUANTITY_DESC"], ["Box", "Sub", "Top"]),
        ({"buildableQuantity": {"isNull": True}}, ["ID_ASC"], ["Bolt", "Nut", "Svc"]),
        ({"availableQuantity": {"lt": 10}, "onHandQuantity": {"gt": 0}}, None, ["Bolt", "Nut"]),
        ({"kittedQuantity": {"eq": 1}}, None, ["Nut"]),
        (None, ["AVAILABLE_QUANTITY_DESC", "ID_DESC"], ["Bolt", "Nut", "Box", "Top", "Sub", "Svc"]),
    ],
)
def test_parts_filter_and_sort_on_the_stock_figures(api, plan, filters, sort, codes):
    nodes = data(graphql(api, PARTS, filters=filters, sort=sort))["parts"]["edges"]
    assert [edge["node"]["partNumber"] for edge in nodes] == codes


def test_requirements_are_read_with_the_runs_view_permission(plan):
    kits_only = bearer_client(make_user("kits", "kitting.view_partkit"))
    query = "query($id: ID!) { partKit(id: $id) { id requirements { id } } }"
    response = graphql(kits_only, query, id=str(plan["kitA"].pk))
    assert errors_of(response) == [
        error_entry(
            "KS-4031",
            "You do not have permission to perform this action",
            ["partKit", "requirements"],
        )
    ]
    assert response.json()["data"] == {"partKit": None}
    planner = bearer_client(make_user("planner", "kitting.view_run"), name="planner")
    rows = "query($id: ID!) { run(id: $id) { requirements { id shortQuantity } } }"
    assert data(graphql(planner, rows, id=str(plan["A"].pk)))["run"]["requirements"] == [
        {"id": f"{plan['A'].pk}-{plan['Bolt'].pk}", "shortQuantity": 8},
        {"id": f"{plan['A'].pk}-{plan['Nut'].pk}", "shortQuantity": 1},
    ]
    # A requirement's part is an item: its own view permission.
    with_part = "query($id: ID!) { run(id: $id) { requirements { part { id } } } }"
    assert errors_of(graphql(planner, with_part, id=str(plan["A"].pk)))[0] == error_entry(
        "KS-4031",
        "You do not have permission to perform this action",
        ["run", "requirements", 0, "part"],
    )


def test_requirements_cost_as_a_plain_list(api, plan):
    # requirements (1000 rows) x partsInventory (1000 rows): over the default limit.
    nested = "query($id: ID!) { run(id: $id) { requirements { part { partsInventory { id } } } } }"
    assert errors_of(graphql(api, nested, id=str(plan["A"].pk))) == [
        {
            "message": "The operation would cost 1002002: at most 1000000 is allowed",
            "extensions": {"code": "invalidRequest", "errorId": "KS-4022", "target": None},
        }
    ]


def test_requirements_read_the_same_from_wherever_the_run_or_kit_is_reached(api, plan, settings):
    settings.GRAPHQL_MAX_COST = 10**10  # three plain lists nested: only what they read is tried
    rows = "requirements { id shortQuantity }"
    query = f"""query($id: ID!) {{ partInventory(id: $id) {{
      runs {{ id {rows} partKits {{ id {rows} }} }}
      partKits {{ id {rows} run {{ id {rows} }} }}
    }} }}"""
    body = data(graphql(api, query, id=str(plan["bolts"].pk)))["partInventory"]
    a, kit_a, kit_a2 = (str(plan[name].pk) for name in ("A", "kitA", "kitA2"))
    shortages = [
        {"id": f"{a}-{plan['Bolt'].pk}", "shortQuantity": 8},
        {"id": f"{a}-{plan['Nut'].pk}", "shortQuantity": 1},
    ]
    kits = [{"id": kit_a, "requirements": shortages}, {"id": kit_a2, "requirements": shortages}]
    assert body == {
        "runs": [{"id": a, "requirements": shortages, "partKits": kits}],
        "partKits": [
            {"id": kit_a, "requirements": shortages, "run": {"id": a, "requirements": shortages}}
        ],
    }


def test_a_mutation_selecting_requirements_asks_view_run_before_it_writes(plan):
    perms = ("kitting.add_partkit", "kitting.view_partkit")
    creator = bearer_client(make_user("creator", *perms))
    create = """mutation($input: CreatePartKitInput!) {
      createPartKit(input: $input) { partKit { id requirements { id } } }
    }"""
    before = list(PartKit.objects.order_by("pk").values_list("pk", flat=True))
    response = graphql(creator, create, input={"runId": str(plan["A"].pk)})
    assert errors_of(response) == [
        error_entry(
            "KS-4031", "You do not have permission to perform this action", ["createPartKit"]
        )
    ]
    assert list(PartKit.objects.order_by("pk").values_list("pk", flat=True)) == before
