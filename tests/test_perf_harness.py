"""The benchmark harness's cheap pieces (tests/perf, issue 16): the plain DRF server answers the
same data as Kitsmith for the requests the harness sends both, its workflow actions move stock
like the service, and the target evaluation and the README table follow the report. No timing:
speed targets live only in tests/perf."""

from decimal import Decimal

import pytest
from django.test import override_settings

from inventory.models import PartInventory
from tests.perf import bulk, scenarios, targets
from tests.perf.drf_plain import settings as drf_settings
from tests.support import factories

# The DRF server's own configuration, in this process: its URLs, middleware and DRF settings.
drf_server = override_settings(
    ROOT_URLCONF=drf_settings.ROOT_URLCONF,
    MIDDLEWARE=drf_settings.MIDDLEWARE,
    REST_FRAMEWORK=drf_settings.REST_FRAMEWORK,
)


@pytest.fixture
def stocked(admin_user):
    """Two parts with part inventory, a run's part kit, and the harness's scenarios over them."""
    part = factories.part(admin_user, "PERF-P1")
    other = factories.part(admin_user, "PERF-P2")
    inventories = [factories.stock(admin_user, part, quantity=q) for q in (5, 7, 9)]
    factories.stock(admin_user, other, quantity=3)
    kit = factories.kit(admin_user, factories.run(admin_user), status="inProgress")
    bench = {
        "item_key": part.pk,
        "part_id": part.code,
        "pairs": [(kit.pk, inventories[0].pk)],
        "client_id": "unused",
        "client_secret": "unused",
    }
    built = {s.name: s for s in scenarios.build(bench, {"inventories": 4})}
    return {"part": part, "inventories": inventories, "kit": kit, "scenarios": built}


def send(client, call: scenarios.Call):
    if call.body is None:
        return client.generic(call.method, call.path)
    return client.generic(call.method, call.path, call.encoded(), content_type=call.content_type)


def test_drf_detail_answers_the_data_of_kitsmiths_detail(api, stocked):
    inventory = stocked["inventories"][1]
    kitsmith = api.get(f"/objects/inventory-control/part-inventory/{inventory.pk}")
    with drf_server:
        drf = api.get(f"/part-inventories/{inventory.pk}/")  # through a real bearer token
    assert kitsmith.status_code == drf.status_code == 200, drf.content
    ours, theirs = kitsmith.json()["ia::result"], drf.json()
    assert (ours["key"], Decimal(str(ours["quantity"])), ours["part"]["id"]) == (
        str(inventory.pk),
        Decimal(7),
        "PERF-P1",
    )
    assert (str(theirs["key"]), Decimal(theirs["quantity"]), theirs["part_code"]) == (
        ours["key"],
        Decimal(str(ours["quantity"])),
        ours["part"]["id"],
    )


@pytest.mark.parametrize("name", ["query part-inventory", "query page of 100"])
def test_drf_list_answers_the_rows_of_the_query_scenario(api, stocked, name):
    scenario = stocked["scenarios"][name]
    kitsmith = send(api, scenario.calls["service"])
    with drf_server:
        drf = send(api, scenario.calls["drf"])
    assert kitsmith.status_code == drf.status_code == 200, drf.content
    ours = [
        (row["key"], row["serialNumber"], Decimal(str(row["quantity"])), row["part.id"])
        for row in kitsmith.json()["ia::result"]
    ]
    theirs = [
        (str(row["key"]), row["serial_number"], Decimal(row["quantity"]), row["part_code"])
        for row in drf.json()["results"]
    ]
    expected = 3 if name == "query part-inventory" else 4  # one part's rows, or every row
    assert len(ours) == expected
    assert theirs == ours


def test_drf_workflow_issues_and_moves_back_like_the_service(api, stocked):
    scenario = stocked["scenarios"]["issue + move-to-inventory"]
    inventory = stocked["inventories"][0]
    with drf_server:
        issued = send(api, scenario.calls["drf"])
        assert issued.status_code == 200, issued.content
        assert Decimal(issued.json()["issued_quantity"]) == 1
        inventory.refresh_from_db()
        assert (inventory.quantity, inventory.kitted_quantity) == (4, 1)
        moved = send(api, scenarios.second_call("drf", scenario.calls["drf"]))
    assert moved.status_code == 200, moved.content
    inventory.refresh_from_db()
    assert (inventory.quantity, inventory.kitted_quantity) == (5, 0)


def test_drf_refuses_a_request_without_a_token(stocked):
    from rest_framework.test import APIClient

    with drf_server:
        response = APIClient().get("/part-inventories/")
    assert response.status_code == 401
    assert PartInventory.objects.count() == 4


# --- targets ----------------------------------------------------------------------------------
def result(rps: float, p50: float = 10.0, p99: float = 20.0) -> dict:
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99}


def test_a_read_meets_its_targets_against_floor_and_drf():
    ratios, checks = targets.evaluate(
        "read", {"service": result(600), "floor": result(1000), "drf": result(200)}
    )
    assert ratios == {"floor": 0.6, "drf": 3.0}
    assert [(c["target"], c["value"], c["ok"]) for c in checks] == [
        (">= 0.5 x floor", 0.6, True),
        (">= 3 x DRF", 3.0, True),
        ("p99 <= 5 x p50", 2.0, True),
    ]
    assert targets.verdict(checks) == "ok"


def test_a_read_below_its_targets_says_which_fail():
    _, checks = targets.evaluate(
        "read", {"service": result(400, p99=51), "floor": result(1000), "drf": result(200)}
    )
    assert targets.verdict(checks) == (
        "FAIL >= 0.5 x floor (0.4); FAIL >= 3 x DRF (2.0); FAIL p99 <= 5 x p50 (5.1)"
    )


def test_the_workflow_has_its_floor_target_and_the_token_only_its_tail():
    _, workflow = targets.evaluate(
        "workflow", {"service": result(39), "floor": result(100), "drf": result(10)}
    )
    assert [(c["target"], c["ok"]) for c in workflow] == [
        (">= 0.4 x floor", False),
        ("p99 <= 5 x p50", True),
    ]
    ratios, token = targets.evaluate("token", {"service": result(50), "drf": result(100)})
    assert ratios == {"drf": 0.5}
    assert [c["target"] for c in token] == ["p99 <= 5 x p50"]


def report() -> dict:
    ratios, checks = targets.evaluate("read", {"service": result(600), "floor": result(1000)})
    batch = [targets.check("batch >= 5 x single", 4.2, 5.0)]
    return {
        "generated": "2026-11-30T10:00:00Z",
        "command": "python -m tests.perf",
        "machine": {
            "cores": 2,
            "cpu_model": "CPU",
            "ram_gib": 8,
            "postgresql": "15",
            "python": "3.11",
            "django": "5.2",
        },
        "settings": {"workers": 4, "duration": 15, "warmup": 3, "connections": 8},
        "dataset": {"inventories": 1_000_000, "items": 20_000, "kits": 2_000},
        "scenarios": [
            {
                "scenario": "item detail",
                "status": "ok",
                "rows": None,
                "servers": {"service": result(600), "floor": result(1000)},
                "queries": {"service": 3, "floor": 3},
                "ratios": ratios,
                "targets": checks,
            },
            {"scenario": "GraphQL page of 100", "status": "n/a (endpoint missing)"},
        ],
        "bulk": [
            {
                "scenario": "batch create 500",
                "status": "ok",
                "unit": "rows",
                "servers": {"service": {"per_s": 420.0}, "service_single": {"per_s": 100.0}},
                "targets": batch,
            },
            {"scenario": bulk.IMPORTS, "status": "n/a (not built)"},
        ],
        "notes": ["A note."],
    }


def test_the_summary_counts_targets_held_and_failed_by_row():
    assert targets.summary(report()) == {
        "held": ["item detail: >= 0.5 x floor", "item detail: p99 <= 5 x p50"],
        "failed": ["batch create 500: batch >= 5 x single"],
        "not_measured": ["GraphQL page of 100", bulk.IMPORTS],
    }


def test_the_readme_table_replaces_only_its_section():
    readme = f"# Title\n\nbefore\n{targets.README_START}\nold table\n{targets.README_END}\nafter\n"
    written = targets.replace_section(readme, targets.readme_section(report()))
    assert written.startswith("# Title\n\nbefore\n" + targets.README_START + "\n`python -m")
    assert written.endswith(targets.README_END + "\nafter\n")
    assert "old table" not in written
    assert "| item detail | 600 | 10.0 | 20.0 | 3 | 1,000 | 10.0 | 20.0 | 3 | — |" in written
    assert "| GraphQL page of 100 | n/a (endpoint missing) |" in written
    assert "| import 100,000 part inventories | n/a (not built) |" in written
    assert (
        "Targets: 2 hold, 1 fail: batch create 500: batch >= 5 x single. Not measured:"
        " GraphQL page of 100, import 100,000 part inventories." in written
    )
    # Written again from the same report, nothing changes.
    assert targets.replace_section(written, targets.readme_section(report())) == written


def test_paging_stops_at_the_end_or_at_its_budget():
    pages = []

    def fetch(offset: int) -> int:
        pages.append(offset)
        return min(4000, 10_000 - offset)

    done = bulk.page_through(fetch, total=10_000, budget=60)
    assert (pages, done["rows"], done["pages"], done["complete"]) == (
        [0, 4000, 8000],
        10_000,
        3,
        True,
    )
    pages.clear()
    cut = bulk.page_through(fetch, total=10_000, budget=0)
    assert (pages, cut["rows"], cut["complete"]) == ([0], 4000, False)
