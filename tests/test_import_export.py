"""Spreadsheets in the admin, over real HTTP (Django's test client): CSV and XLSX imports of items,
kit components and part inventory through their create services, a preview listing every row's
errors before anything is written, an all-or-nothing confirm, exports of the lists as the API
shows them, and the permissions of both."""

import io
import re

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from inventory.models import InventoryTransaction, Item, PartInventory
from inventory.resources import ItemImport, PartInventoryImport
from kitcomponents.models import KitComponent
from kitcomponents.resources import KitComponentImport
from tests.support import factories
from tests.support.kitting import assert_ledger_invariant
from tests.support.spreadsheets import (
    ITEMS,
    LEDGER,
    LINES,
    REQUIREMENTS,
    STOCK,
    confirm,
    csv_rows,
    export,
    page_messages,
    preview,
    row_errors,
)
from tests.support.users import make_user
from tests.test_readme import section

pytestmark = pytest.mark.django_db


# --- import -------------------------------------------------------------------------------------


def test_items_from_csv_preview_writes_nothing_and_confirm_creates_them(staff, admin_user):
    rows = [
        ["id", "name", "itemType", "tracking.enableSerialNo", "purchasing.standardCost"],
        ["Widget", "A widget", "inventory", "true", "12.50"],
        ["Bundle", "A bundle", "kit", "", ""],
    ]
    previewed = preview(staff, ITEMS, rows)
    assert previewed.status_code == 200
    assert row_errors(previewed) == {}
    assert previewed.context["result"].totals["new"] == 2
    assert not Item.objects.exists()

    done = confirm(staff, ITEMS, previewed)
    assert done.status_code == 200
    created = Item.objects.order_by("pk")
    assert [
        (i.code, i.item_type, i.enable_serial_no, i.standard_cost, i.created_by, i.version)
        for i in created
    ] == [
        ("Widget", "inventory", True, 12.5, admin_user, 1),
        ("Bundle", "kit", False, 0, admin_user, 1),
    ]
    # The service's own default for a kit (contract 3), not the file's blank.
    assert created[1].kit_revenue_posting == "componentLevel"


def test_the_preview_lists_every_rows_errors_under_their_columns(staff, sheet_parts):
    rows = [
        ["part.id", "serialNumber", "autogenerateSerialNumber", "quantity", "location.id"],
        ["Prnt_Paper", "", "", "20", "WH-MAIN"],  # fine
        ["Nope", "", "", "1", "WH-MAIN"],  # no such part
        ["Prnt_1000", "", "true", "5", ""],  # a serial holds 0 or 1
        ["Prnt_Paper", "", "", "lots", "WH-NONE"],  # two bad cells
        ["Prnt_Ink", "", "", "3", ""],  # a lot-tracked part needs a lot
    ]
    previewed = preview(staff, STOCK, rows)
    assert row_errors(previewed) == {
        2: {"part.id": ["part.id refers to a item that does not exist: Nope"]},
        3: {"quantity": ["quantity is invalid: serial inventory holds a quantity of 0 or 1"]},
        4: {
            "quantity": ["quantity is invalid: not a number"],
            "location.id": ["location.id refers to a warehouse that does not exist: WH-NONE"],
        },
        5: {"lotNumber": ["lotNumber is required"]},
    }
    assert "confirm_form" not in previewed.context
    body = previewed.content.decode()
    assert "Some rows failed to validate" in body and "Confirm import" not in body
    assert not PartInventory.objects.exists() and not InventoryTransaction.objects.exists()


def test_part_inventory_import_goes_through_the_service_numbers_and_ledger(staff, sheet_parts):
    rows = [
        [
            "part.id",
            "autogenerateSerialNumber",
            "autogenerateLotNumber",
            "quantity",
            "location.id",
            "cost",
        ],
        ["Prnt_1000", "true", "", "1", "WH-MAIN", "250"],
        ["Prnt_1000", "true", "", "1", "WH-MAIN", ""],
        ["Prnt_Ink", "", "true", "30", "WH-MAIN", "0.5"],
        ["Prnt_Paper", "", "", "20", "", ""],
    ]
    previewed = preview(staff, STOCK, rows)
    assert row_errors(previewed) == {}
    assert not PartInventory.objects.exists()
    confirm(staff, STOCK, previewed)
    stored = PartInventory.objects.order_by("pk").select_related("part", "location")
    assert [
        (s.part.code, s.serial_number, s.lot_number, s.quantity, s.location and s.location.code)
        for s in stored
    ] == [
        ("Prnt_1000", "PR-00001", None, 1, "WH-MAIN"),
        ("Prnt_1000", "PR-00002", None, 1, "WH-MAIN"),
        ("Prnt_Ink", None, "Prnt_Ink-L000001", 30, "WH-MAIN"),
        ("Prnt_Paper", None, None, 20, None),
    ]
    ledger = InventoryTransaction.objects.order_by("pk")
    assert [(row.part_inventory_id, row.type, row.quantity) for row in ledger] == [
        (s.pk, "create", s.quantity) for s in stored
    ]
    assert assert_ledger_invariant() == 4


def test_kit_components_from_xlsx_take_the_services_line_numbers(staff, admin_user):
    kit = factories.part(admin_user, "Kit_1", "kit")
    for code in ("Cable", "Plug", "Case"):
        factories.part(admin_user, code)
    rows = [
        ["kit.id", "component.id", "numberOfUnits", "lineNumber"],
        ["Kit_1", "Cable", 2, None],
        ["Kit_1", "Plug", 1.5, None],
        ["Kit_1", "Case", 1, 1],  # a taken line number pushes the later lines
    ]
    previewed = preview(staff, LINES, rows, xlsx=True)
    assert row_errors(previewed) == {}
    assert not KitComponent.objects.exists()
    confirm(staff, LINES, previewed)
    lines = KitComponent.objects.filter(kit=kit).order_by("line_number")
    assert [(line.line_number, line.component.code, line.number_of_units) for line in lines] == [
        (1, "Case", 1),
        (2, "Cable", 2),
        (3, "Plug", 1.5),
    ]


def test_a_domain_rule_of_a_kit_line_is_its_rows_error(staff, admin_user):
    factories.part(admin_user, "Kit_1", "kit")
    factories.part(admin_user, "Cable")
    rows = [
        ["kit.id", "component.id", "numberOfUnits"],
        ["Kit_1", "Cable", "1"],
        ["Cable", "Kit_1", "1"],  # an inventory item is no kit
        ["Kit_1", "Cable", "0"],  # zero units, and Cable is on the kit already
    ]
    errors = row_errors(preview(staff, LINES, rows))
    assert list(errors) == [2, 3]
    assert errors[2] == {
        "kit.id": [
            "Item Cable is of type inventory: a kit must be an item of type kit or stockableKit"
        ],
        "component.id": ["Kit Cable cannot contain Kit_1: Kit_1 already contains Cable"],
    }
    assert errors[3]["numberOfUnits"] == ["numberOfUnits is invalid: must be greater than 0"]
    assert not KitComponent.objects.exists()


def test_a_value_outside_the_fields_choices_is_refused(staff):
    rows = [["id", "name", "itemType", "status"], ["Widget", "W", "gizmo", "retired"]]
    assert row_errors(preview(staff, ITEMS, rows)) == {
        1: {
            "itemType": [
                "itemType is invalid: must be one of inventory, nonInventory, "
                "purchaseOnlyNonInventory, salesOnlyNonInventory, kit, stockableKit"
            ],
            "status": ["status is invalid: must be one of active, inactive"],
        }
    }
    assert not Item.objects.exists()


def test_the_confirm_is_all_or_nothing(staff, admin_user):
    rows = [
        ["id", "name", "itemType"],
        ["Widget", "A widget", "inventory"],
        ["Gadget", "G", "inventory"],
    ]
    previewed = preview(staff, ITEMS, rows)
    assert row_errors(previewed) == {}
    # Between the preview and the confirm, someone takes the second row's id.
    factories.part(admin_user, "Gadget")
    done = confirm(staff, ITEMS, previewed)
    assert page_messages(done) == [
        "Nothing was imported: row 2: id: Item with id Gadget already exists"
    ]
    assert list(Item.objects.values_list("code", flat=True)) == ["Gadget"]


def test_a_file_with_unknown_or_missing_columns_is_refused_whole(staff, sheet_parts):
    previewed = preview(staff, STOCK, [["serial", "quantity"], ["X-1", "1"]])
    result = previewed.context["result"]
    assert [str(error.error) for error in result.base_errors] == [
        "The file's columns are wrong (unknown columns: serial; missing columns: part.id); "
        "part.id, serialNumber, lotNumber, autogenerateSerialNumber, autogenerateLotNumber, "
        "location.id, quantity, cost"
    ]
    assert "confirm_form" not in previewed.context
    assert not PartInventory.objects.exists()


# --- export -------------------------------------------------------------------------------------


def test_part_inventory_export_shows_keys_ids_and_quantities_as_the_api(
    staff, admin_user, sheet_parts
):
    paper = factories.stock(
        admin_user, sheet_parts["paper"], 20, location=sheet_parts["main"], cost="0.5"
    )
    printer = factories.stock(
        admin_user, sheet_parts["printer"], 1, autogenerate_serial_number=True
    )
    columns = [
        "key",
        "part.id",
        "serialNumber",
        "location.id",
        "quantity",
        "cost",
        "trackingType",
        "kitted",
        "status",
    ]
    response = export(staff, STOCK, "PartInventoryExport", columns)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert csv_rows(response) == [
        columns,
        [
            str(paper.pk),
            "Prnt_Paper",
            "",
            "WH-MAIN",
            "20",
            "0.5",
            "untracked",
            "false",
            "available",
        ],
        [str(printer.pk), "Prnt_1000", "PR-00001", "", "1", "", "serial", "false", "available"],
    ]


def test_item_export_computes_the_stock_figures_in_its_statement(staff, admin_user, sheet_parts):
    bundle = factories.part(admin_user, "Prnt_Bundle", "stockableKit")
    factories.kit_line(admin_user, bundle, sheet_parts["paper"], 2)
    factories.stock(admin_user, sheet_parts["paper"], 5, location=sheet_parts["main"])
    columns = ["id", "itemType", "trackingType", "onHandQuantity", "buildableQuantity"]
    response = export(staff, ITEMS, "ItemExport", columns, query="?q=Prnt_")
    assert csv_rows(response) == [
        columns,
        ["Prnt_1000", "inventory", "serial", "0", ""],
        ["Prnt_Ink", "inventory", "lot", "0", ""],
        ["Prnt_Paper", "inventory", "untracked", "5", ""],
        ["Prnt_Bundle", "stockableKit", "untracked", "0", "2"],
    ]


def test_the_ledger_exports_as_filtered_to_xlsx(staff, admin_user, sheet_parts):
    paper = factories.stock(admin_user, sheet_parts["paper"], 20)
    ink = factories.stock(admin_user, sheet_parts["ink"], 5, lot_number="L-1")
    created = InventoryTransaction.objects.get(part_inventory_id=ink.pk)
    columns = ["key", "partInventory.id", "part.id", "type", "quantity", "quantityAfter", "run.id"]
    response = export(
        staff,
        LEDGER,
        "InventoryTransactionExport",
        columns,
        xlsx=True,
        query=f"?part__key__exact={ink.part_id}",
    )
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        columns,
        [str(created.pk), str(ink.pk), "Prnt_Ink", "create", 5, 5, None],
    ]
    assert InventoryTransaction.objects.filter(part_inventory_id=paper.pk).exists()


def test_requirements_export_is_the_shortage_list(staff, admin_user, sheet_parts):
    bundle = factories.part(admin_user, "Prnt_Bundle", "stockableKit")
    factories.kit_line(admin_user, bundle, sheet_parts["paper"], 2)
    factories.kit_line(admin_user, bundle, sheet_parts["ink"], 4)
    factories.stock(admin_user, sheet_parts["paper"], 3)
    the_run = factories.run(admin_user, "RUN-1", part=bundle, quantity=2)
    columns = [
        "key",
        "run.id",
        "part.id",
        "requiredQuantity",
        "shortQuantity",
        "availableQuantity",
        "uncoveredQuantity",
    ]
    response = export(staff, REQUIREMENTS, "RequirementExport", columns, query="?short=yes")
    paper, ink = sheet_parts["paper"].pk, sheet_parts["ink"].pk
    assert csv_rows(response) == [
        columns,
        [f"{the_run.pk}-{ink}", "RUN-1", "Prnt_Ink", "8", "8", "0", "8"],
        [f"{the_run.pk}-{paper}", "RUN-1", "Prnt_Paper", "4", "4", "3", "1"],
    ]


def test_an_exports_queries_do_not_grow_with_its_rows(staff, admin_user, sheet_parts):
    columns = ["key", "part.id", "location.id", "quantity", "status"]

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = export(staff, STOCK, "PartInventoryExport", columns)
        assert response.status_code == 200
        return len(captured)

    factories.stock(admin_user, sheet_parts["paper"], 1, location=sheet_parts["main"])
    few = queries()
    for _ in range(20):
        factories.stock(
            admin_user,
            sheet_parts["ink"],
            1,
            autogenerate_lot_number=True,
            location=sheet_parts["main"],
        )
    assert queries() == few


# --- permissions --------------------------------------------------------------------------------


def logged_in(user) -> Client:
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def test_a_view_only_user_exports_but_cannot_import(sheet_parts):
    client = logged_in(make_user("viewer", "inventory.view_partinventory"))
    assert client.get(STOCK).status_code == 200
    assert client.get(f"{STOCK}import/").status_code == 403
    refused = preview(client, STOCK, [["part.id", "quantity"], ["Prnt_Paper", "1"]])
    assert refused.status_code == 403
    assert client.post(f"{STOCK}process_import/", {}).status_code == 403
    assert not PartInventory.objects.exists()
    response = export(client, STOCK, "PartInventoryExport", ["key"])
    assert (response.status_code, csv_rows(response)) == (200, [["key"]])


def test_import_needs_the_add_permission(sheet_parts):
    client = logged_in(
        make_user("clerk", "inventory.view_partinventory", "inventory.add_partinventory")
    )
    previewed = preview(client, STOCK, [["part.id", "quantity"], ["Prnt_Paper", "2"]])
    assert row_errors(previewed) == {}
    confirm(client, STOCK, previewed)
    assert PartInventory.objects.get().quantity == 2


def test_export_needs_the_view_permission(sheet_parts):
    client = logged_in(make_user("nobody", "inventory.add_item"))
    assert export(client, STOCK, "PartInventoryExport", ["key"]).status_code == 403
    # Requirements are read with the run's view permission, as in the API.
    assert export(client, REQUIREMENTS, "RequirementExport", ["key"]).status_code == 403
    runs = logged_in(make_user("planner", "kitting.view_run"))
    assert runs.get(REQUIREMENTS).status_code == 200
    assert export(runs, REQUIREMENTS, "RequirementExport", ["key"]).status_code == 200


def test_the_readme_lists_each_imports_columns_required_first():
    table = dict(
        re.findall(
            r"^\| (items|kit components|part inventory) \| (.+) \|$", section("Spreadsheets"), re.M
        )
    )
    for name, resource in (
        ("items", ItemImport),
        ("kit components", KitComponentImport),
        ("part inventory", PartInventoryImport),
    ):
        listed = re.findall(r"`([^`]+)`", table[name])
        imported = resource()
        assert sorted(listed) == sorted(imported.columns), name
        assert listed[: len(imported.required())] == imported.required(), name
