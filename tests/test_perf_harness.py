"""The benchmark harness's cheap pieces (tests/perf, issue 16): the plain DRF server answers the
same data as Kitsmith for the requests the harness sends both, its workflow actions move stock
like the service, and the target evaluation and the README table follow the report. No timing:
speed targets live only in tests/perf."""

import dataclasses
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from config.api.oauth import api_client_create
from inventory.models import InventoryTransaction, PartInventory
from tests.perf import __main__ as perf_main
from tests.perf import bulk, multi, profile, scenarios, targets
from tests.perf.drf_plain import settings as drf_settings
from tests.support import factories
from tests.support.server import database_url
from tests.support.users import bearer_token

# The DRF server's own configuration, in this process: its URLs, middleware, DRF and
# django-oauth-toolkit settings (DOT reloads its settings when they change).
drf_server = override_settings(
    ROOT_URLCONF=drf_settings.ROOT_URLCONF,
    MIDDLEWARE=drf_settings.MIDDLEWARE,
    REST_FRAMEWORK=drf_settings.REST_FRAMEWORK,
    OAUTH2_PROVIDER=drf_settings.OAUTH2_PROVIDER,
)


@pytest.fixture
def stocked(admin_user):
    """Two parts with part inventory, a run's part kit, and the harness's scenarios over them."""
    part = factories.part(admin_user, "PERF-P1")
    other = factories.part(admin_user, "PERF-P2")
    inventories = [factories.stock(admin_user, part, quantity=q) for q in (5, 7, 9)]
    factories.stock(admin_user, other, quantity=3)
    kit = factories.kit(admin_user, factories.run(admin_user), status="inProgress")
    assembly = factories.part(admin_user, "PERF-KIT", item_type="kit")
    factories.kit_line(admin_user, assembly, part, units=2)
    factories.kit_line(admin_user, assembly, other, units=1)
    bench = {
        "item_key": assembly.pk,
        "part_id": part.code,
        "pairs": [(kit.pk, inventories[0].pk)],
        "client_id": "unused",
        "client_secret": "unused",
    }
    built = {s.name: s for s in scenarios.build(bench, {"inventories": 4})}
    return {
        "part": part,
        "inventories": inventories,
        "kit": kit,
        "assembly": assembly,
        "scenarios": built,
        "bench": bench,
    }


def send(client, call: scenarios.Call):
    if call.body is None:
        return client.generic(call.method, call.path)
    return client.generic(call.method, call.path, call.encoded(), content_type=call.content_type)


def answers(api, scenario: scenarios.Scenario) -> tuple:
    """Kitsmith's and the DRF server's answers to the scenario's requests, both 200."""
    kitsmith = send(api, scenario.calls["service"])
    with drf_server:
        drf = send(api, scenario.calls["drf"])
    assert kitsmith.status_code == drf.status_code == 200, drf.content
    return kitsmith, drf


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
    kitsmith, drf = answers(api, scenario)
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


def test_drf_item_detail_answers_the_kits_components_like_kitsmith(api, stocked):
    scenario = stocked["scenarios"]["item detail"]
    kitsmith, drf = answers(api, scenario)
    ours, theirs = kitsmith.json()["ia::result"], drf.json()
    assert (ours["id"], ours["key"]) == ("PERF-KIT", str(stocked["assembly"].pk))
    assert (theirs["code"], str(theirs["key"])) == (ours["id"], ours["key"])
    assert sorted(
        (line["component_name"], Decimal(line["number_of_units"]))
        for line in theirs["kit_components"]
    ) == [("PERF-P1 name", 2), ("PERF-P2 name", 1)]


@pytest.mark.parametrize("name", ["kit-component list", "query kit-component"])
def test_drf_kit_components_answer_the_rows_of_kitsmith(api, stocked, name):
    scenario = stocked["scenarios"][name]
    kitsmith, drf = answers(api, scenario)
    ours, theirs = kitsmith.json()["ia::result"], drf.json()["results"]
    # The list answers references (keys), the query the fields; DRF answers whole rows for both.
    expected = 2 if name == "kit-component list" else 1  # numberOfUnits > 1: one line
    assert len(ours) == expected
    assert [str(row["key"]) for row in theirs] == [row["key"] for row in ours]
    if name == "query kit-component":
        assert [
            (row["kit_code"], row["component_name"], Decimal(row["number_of_units"]))
            for row in theirs
        ] == [
            (row["kit.id"], row["component.name"], Decimal(str(row["numberOfUnits"])))
            for row in ours
        ]


def test_drf_token_endpoint_grants_a_client_credentials_token(admin_user, stocked):
    from oauth2_provider.models import AccessToken
    from rest_framework.test import APIClient

    client_id, secret = api_client_create(user=admin_user, name="drf")
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    with drf_server:
        granted = APIClient().post("/o/token/", form)
        refused = APIClient().post("/o/token/", {**form, "client_secret": "wrong"})
    assert granted.status_code == 200, granted.content
    body = granted.json()
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 3600, "read write")
    # DOT's own validator: a client-credentials token carries no user (DOT's design).
    token = AccessToken.objects.get(token=body["access_token"])
    assert (token.application.client_id, token.user) == (client_id, None)
    assert refused.status_code == 401
    assert refused.json() == {"error": "invalid_client"}


def test_drf_post_creates_through_the_domain_and_answers_the_row(api, stocked):
    part = stocked["part"]
    ledger = InventoryTransaction.objects.count()
    with drf_server:
        created = api.post("/part-inventories/", {"part": part.pk, "quantity": "2"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    row = PartInventory.objects.get(pk=body["key"])
    assert (row.part_id, row.quantity) == (part.pk, 2)
    assert (body["part_code"], Decimal(body["quantity"])) == ("PERF-P1", Decimal(2))
    assert InventoryTransaction.objects.count() == ledger + 1  # part_inventory_create's ledger row


def test_drf_fields_parameter_trims_a_row(api, stocked):
    inventory = stocked["inventories"][0]
    with drf_server:
        whole = api.get(f"/part-inventories/{inventory.pk}/")
        trimmed = api.get(f"/part-inventories/{inventory.pk}/?fields=key,quantity")
    assert whole.status_code == trimmed.status_code == 200
    assert {"key", "quantity", "part_code", "serial_number"} <= set(whole.json())
    assert trimmed.json() == {"key": inventory.pk, "quantity": whole.json()["quantity"]}


def test_drf_list_runs_as_many_queries_for_more_rows(api, admin_user, stocked):
    """Guards the DRF implementation against an N+1 drift that would flatter Kitsmith."""
    path = stocked["scenarios"]["kit-component list"].calls["drf"].path

    def count() -> int:
        with drf_server, CaptureQueriesContext(connection) as captured:
            assert api.get(path).status_code == 200
        return len(captured)

    few = count()
    for n in range(4):
        extra = factories.part(admin_user, f"PERF-X{n}")
        factories.kit_line(admin_user, stocked["assembly"], extra, units=n + 1)
    assert count() == few


# --- the per-request profile ----------------------------------------------------------------------
def harness_counts(scenario: scenarios.Scenario, token: str) -> dict[str, int]:
    """The statements per request the harness reports: Kitsmith's from its probe
    (CaptureQueriesContext), the DRF server's X-Queries header."""
    perf_main.probe_service([scenario], token)
    assert scenario.status == "ok", scenario.status
    with drf_server:
        drf = send(Client(HTTP_AUTHORIZATION=f"Bearer {token}"), scenario.calls["drf"])
    assert drf.status_code == 200, drf.content
    return {"service": scenario.queries["service"], "drf": int(drf["X-Queries"])}


def assert_plausible(result: dict, statements: int) -> None:
    assert result["status"] == "ok", result["status"]
    assert 0 < result["sql_ms"] < result["ms"]
    assert result["statements"] == statements
    assert result["python_calls"] > 0
    assert len(result["top"]) == profile.TOP
    assert all(f["ms"] >= 0 and f["calls"] > 0 for f in result["top"])


# The profile frames each request as gunicorn does (close_old_connections), which closes a
# connection left in a transaction: the test runs in autocommit, as a server does.
@pytest.mark.django_db(transaction=True)
def test_the_profile_measures_a_scenario_on_both_servers(admin_user, stocked):
    token = bearer_token(admin_user, "profile")
    scenario = stocked["scenarios"]["item detail"]
    phases = profile.Phases(1, 3, 2, 30.0, 30.0, 30.0)
    kitsmith = profile.profile_scenario(scenario, "service", token, phases)
    with drf_server:
        drf = profile.profile_scenario(scenario, "drf", token, phases)
    counts = harness_counts(scenario, token)
    assert (
        (kitsmith["requests"], kitsmith["profiled"])
        == (drf["requests"], drf["profiled"])
        == (
            3,
            2,
        )
    )
    assert_plausible(kitsmith, counts["service"])
    assert_plausible(drf, counts["drf"])
    # DRF's ModelSerializer and nested components take more Python than Kitsmith's item detail.
    assert drf["python_calls"] > kitsmith["python_calls"]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="its processes open the test database: the SQLite one lives in this process",
)
@pytest.mark.django_db(transaction=True)
def test_the_harness_profiles_each_server_in_its_own_process(admin_user, stocked, tmp_path):
    token = bearer_token(admin_user, "profile")
    bench = {**stocked["bench"], "token": token}
    url = database_url()
    profiled = perf_main.profile_servers(
        url, perf_main.service_env(url), bench, {"inventories": 4}, True, ["item detail"], tmp_path
    )
    assert profiled["failed"] == []
    assert profiled["phases"]["requests"] == profile.QUICK.requests
    [row] = profiled["rows"]
    assert (row["scenario"], sorted(row["servers"])) == ("item detail", ["drf", "service"])
    counts = harness_counts(stocked["scenarios"]["item detail"], token)
    for label, result in row["servers"].items():
        assert_plausible(result, counts[label])


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


def test_a_target_whose_server_gave_no_figure_is_not_measured():
    _, checks = targets.evaluate(
        "read",
        {"service": result(600), "floor": result(1000)},
        expected={"service", "floor", "drf"},
    )
    assert [(c["target"], c["value"], c["ok"]) for c in checks] == [
        (">= 0.5 x floor", 0.6, True),
        (">= 3 x DRF", None, None),
        ("p99 <= 5 x p50", 2.0, True),
    ]
    assert targets.verdict(checks) == "not measured: >= 3 x DRF"
    # A server that does not serve the scenario (the floor's GraphQL) is no target.
    _, graphql = targets.evaluate("read", {"service": result(600)}, expected={"service"})
    assert [c["target"] for c in graphql] == ["p99 <= 5 x p50"]


def test_paging_has_the_read_targets_on_its_rows_per_second():
    checks = targets.rate_checks({"service": 1000.0, "floor": 1500.0, "drf": 250.0})
    assert [(c["target"], c["value"], c["ok"]) for c in checks] == [
        (">= 0.5 x floor", 0.67, True),
        (">= 3 x DRF", 4.0, True),
    ]
    missing = targets.rate_checks({"service": 1000.0, "floor": None})
    assert [(c["value"], c["ok"]) for c in missing] == [(None, None), (None, None)]


def test_a_drf_failure_marks_only_drfs_figure():
    timed = multi.Timed("composite of 5", "requests", per_round=5, single=[0.5], multi=[0.25])

    def fails():
        raise RuntimeError("expected 201, got 500")

    timed.drf_rounds(fails, rounds=3)
    row = timed.row()
    assert (row["status"], row["ratio"], row["drf_status"]) == (
        "ok",
        2.0,
        "n/a (expected 201, got 500)",
    )
    assert perf_main.bulk_row(row)["servers"] == {
        "service": {"per_s": 20.0},
        "service_single": {"per_s": 10.0},
        "drf": {"status": "n/a (expected 201, got 500)"},
    }


def report() -> dict:
    ratios, checks = targets.evaluate(
        "read", {"service": result(600), "floor": result(1000)}, expected={"service", "floor"}
    )
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
            {  # Kitsmith answered no request within the run: skipped with its status
                "scenario": "query deep start",
                "status": "ok",
                "rows": None,
                "servers": {"service": {"status": "n/a (no answer within 1 s)"}},
                "queries": {},
                "ratios": {},
                "targets": [],
            },
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
            {
                "scenario": bulk.PAGING,
                "status": "ok",
                "unit": "rows",
                "servers": {"service": {"per_s": 900.0}, "drf": {"status": "n/a (HTTP 500)"}},
                "targets": targets.rate_checks({"service": 900.0, "drf": None}),
            },
        ],
        "notes": ["A note."],
        "profile": {
            "phases": dataclasses.asdict(profile.FULL),
            "failed": [],
            "rows": [
                {
                    "scenario": "item detail",
                    "kind": "read",
                    "servers": {
                        "service": profiled(3.14, 1.5, 3, 2765),
                        "drf": profiled(39.2, 9.6, 4, 17852),
                    },
                },
                {
                    "scenario": "issue + move-to-inventory",
                    "kind": "workflow",
                    "servers": {
                        "service": profiled(21.0, 12.3, 12, 8000),
                        "drf": {"status": "n/a (the profile failed)"},
                    },
                },
            ],
        },
    }


def profiled(ms: float, sql_ms: float, statements: int, calls: int) -> dict:
    return {
        "status": "ok",
        "ms": ms,
        "sql_ms": sql_ms,
        "statements": statements,
        "python_calls": calls,
        "top": [{"function": "core/numbers.py:21 as_number", "ms": 0.5, "calls": 100.0}],
    }


def test_the_summary_counts_targets_held_and_failed_by_row():
    assert targets.summary(report()) == {
        "held": ["item detail: >= 0.5 x floor", "item detail: p99 <= 5 x p50"],
        "failed": ["batch create 500: batch >= 5 x single"],
        "not_measured": [
            "GraphQL page of 100",
            "query deep start",
            bulk.IMPORTS,
            f"{bulk.PAGING}: >= 0.5 x floor",
            f"{bulk.PAGING}: >= 3 x DRF",
        ],
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
        " GraphQL page of 100, query deep start, import 100,000 part inventories," in written
    )
    # Written again from the same report, nothing changes.
    assert targets.replace_section(written, targets.readme_section(report())) == written


def test_the_readme_section_has_the_profile_table():
    section = targets.readme_section(report())
    header = "| scenario | Kitsmith ms | of it SQL ms | statements | Python calls | DRF ms |"
    assert header in section
    assert "| item detail | 3.1 | 1.5 | 3 | 2,765 | 39.2 | 9.6 | 4 | 17,852 |" in section
    assert (
        "| issue + move-to-inventory (per pair) | 21.0 | 12.3 | 12 | 8,000 |"
        " n/a (the profile failed) |  |  |  |" in section
    )
    assert "up to 100 requests after 5 unmeasured" in section
    assert section.index("Notes: A note.") < section.index("| item detail | 3.1 |")
    # A report from before the profile step (or without it) has no profile table.
    without = {**report(), "profile": None}
    assert "Python calls" not in targets.readme_section(without)


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


# The workflow commits: its COMMITs are timed as SQL (from the last statement to the on_commit
# hooks), its statements are the executes of an issue and a move.
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the SQLite stock writes take other statements"
)
@pytest.mark.django_db(transaction=True)
def test_the_profile_times_the_workflows_commits(admin_user, stocked):
    token = bearer_token(admin_user, "profile")
    scenario = stocked["scenarios"]["issue + move-to-inventory"]
    result = profile.profile_scenario(
        scenario, "service", token, profile.Phases(1, 3, 1, 30, 30, 30)
    )
    assert result["status"] == "ok", result["status"]
    # Per request: the token, the kit and inventory locks, the UPDATE, the ledger row, the line.
    assert result["statements"] == 12
    assert result["commit_ms"] > 0
    assert result["sql_ms"] == pytest.approx(result["execute_ms"] + result["commit_ms"], abs=0.02)
    assert not any(
        "psycopg" in f["function"] and f["function"].endswith(" wait") for f in result["top"]
    )
    inventory = stocked["inventories"][0]
    inventory.refresh_from_db()
    assert inventory.kitted_quantity == 0  # every issue was moved back


@pytest.mark.django_db(transaction=True)
def test_a_transaction_ending_without_commit_fails_the_profile(admin_user, stocked):
    token = bearer_token(admin_user, "profile")
    scenario = stocked["scenarios"]["issue + move-to-inventory"]
    kit = stocked["kit"]
    kit.status = "completed"  # the issue is refused inside its transaction, which rolls back
    kit.save(update_fields=["status"])
    result = profile.profile_scenario(
        scenario, "service", token, profile.Phases(0, 1, 1, 30, 30, 30)
    )
    assert result["status"] == "n/a (a transaction ended without COMMIT)"
