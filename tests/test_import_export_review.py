"""Spreadsheets in the admin, the review's cases: a cell's text read as written, exports a
spreadsheet never runs as formulas, a stale confirm, the upload size limit, numbers the model
cannot hold, an all-or-nothing confirm of part inventory and the exports' query counts."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import InventoryTransaction, Item, PartInventory
from inventory.services import item_create
from kitcomponents.models import KitComponent
from tests.support import factories
from tests.support.spreadsheets import (
    CSV_FORMAT,
    ITEMS,
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

pytestmark = pytest.mark.django_db


def test_a_reference_cell_is_the_id_as_written(staff, admin_user):
    kit = factories.part(admin_user, "Kit_1", "kit")
    factories.part(admin_user, "Cable_2")
    rows = [["kit.id", "component.id", "numberOfUnits"], ["Kit_1", "Cable_2.0", "1"]]
    assert row_errors(preview(staff, LINES, rows)) == {
        1: {"component.id": ["component.id refers to a item that does not exist: Cable_2.0"]}
    }
    factories.part(admin_user, "Cable_2.0")
    previewed = preview(staff, LINES, rows)
    assert row_errors(previewed) == {}
    confirm(staff, LINES, previewed)
    line = KitComponent.objects.get(kit=kit)
    assert line.component.code == "Cable_2.0"


def test_a_text_cell_ending_in_dot_zero_is_no_whole_number(staff, admin_user):
    factories.part(admin_user, "Kit_1", "kit")
    factories.part(admin_user, "Cable")
    rows = [["kit.id", "component.id", "numberOfUnits", "lineNumber"], ["Kit_1", "Cable", 1, "2.0"]]
    assert row_errors(preview(staff, LINES, rows)) == {
        1: {"lineNumber": ["lineNumber is invalid: not a whole number"]}
    }


FORMULAS = ['=HYPERLINK("http://x")', "+1+1", "-1+1", "@SUM(A1)", "\tTab", "\rReturn"]


@pytest.fixture
def formula_items(admin_user):
    for number, name in enumerate(FORMULAS):
        item_create(
            user=admin_user,
            code=f"Calc_{number}",
            name=name,
            item_type="inventory",
            standard_cost="-0.5",
        )


def test_a_csv_export_shows_formula_text_as_text(staff, formula_items):
    response = export(staff, ITEMS, "ItemExport", ["id", "name"], query="?q=Calc_")
    assert csv_rows(response)[1:] == [[f"Calc_{n}", f"'{name}"] for n, name in enumerate(FORMULAS)]


def test_an_export_with_formula_text_imports_back_as_it_was(staff, admin_user, formula_items):
    exported = csv_rows(export(staff, ITEMS, "ItemExport", ["id", "name"], query="?q=Calc_"))
    # Not the name with a carriage return: a CSV cell holding one loses its row's later cells
    # on the way in, quoted or not (noticed, left alone).
    rows = [["id", "name", "itemType"]] + [
        [code.replace("Calc_", "Back_"), name, "inventory"] for code, name in exported[1:6]
    ]
    previewed = preview(staff, ITEMS, rows)
    assert row_errors(previewed) == {}
    confirm(staff, ITEMS, previewed)
    back = Item.objects.filter(code__startswith="Back_").order_by("code")
    assert [(item.code, item.name) for item in back] == [
        (f"Back_{n}", name) for n, name in enumerate(FORMULAS[:5])
    ]
    # A reference exported with its quote finds its object; a quote before anything else stays.
    factories.part(admin_user, "-Neg")
    stock = [["part.id", "quantity", "location.id"], ["'-Neg", "2", ""], ["'Neg", "1", ""]]
    errors = row_errors(preview(staff, STOCK, stock))
    assert list(errors) == [2] and list(errors[2]) == ["part.id"]


def test_an_xlsx_export_holds_no_formula(staff, formula_items):
    columns = ["id", "name", "purchasing.standardCost"]
    response = export(staff, ITEMS, "ItemExport", columns, xlsx=True, query="?q=Calc_")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cells = list(sheet.iter_rows(min_row=2))
    # XML reads a carriage return back as a line feed. The cost, a decimal string as in the
    # API, starts with "-" and stays as it is.
    assert [[cell.value for cell in row] for row in cells] == [
        [f"Calc_{n}", f"'{name}".replace("\r", "\n"), "-0.5"] for n, name in enumerate(FORMULAS)
    ]
    assert {cell.data_type for row in cells for cell in row} == {"s"}


def test_an_xlsx_export_replaces_a_control_character(staff, admin_user):
    factories.part(admin_user, "Ctrl_1")
    # Stored by hand: the service refuses a name with a control character.
    Item.objects.filter(code="Ctrl_1").update(name="A\x01B")
    response = export(staff, ITEMS, "ItemExport", ["id", "name"], xlsx=True, query="?q=Ctrl_")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert list(sheet.iter_rows(values_only=True)) == [("id", "name"), ("Ctrl_1", "A\ufffdB")]


def test_a_second_confirm_asks_for_the_file_again(staff):
    previewed = preview(staff, ITEMS, [["id", "name", "itemType"], ["Widget", "W", "inventory"]])
    confirm(staff, ITEMS, previewed)
    again = confirm(staff, ITEMS, previewed)
    assert again.redirect_chain == [(f"{ITEMS}import/", 302)]
    assert page_messages(again) == [
        "This upload was already imported or has expired; upload it again"
    ]
    assert list(Item.objects.values_list("code", flat=True)) == ["Widget"]


def test_an_upload_over_the_size_limit_is_refused_at_the_form(staff, settings):
    settings.IMPORT_MAX_BYTES = 1000
    content = b"id,name,itemType\n" + b"Widget,W,inventory\n" * 60
    response = staff.post(
        f"{ITEMS}import/",
        {"import_file": SimpleUploadedFile("rows.csv", content), "format": CSV_FORMAT},
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "import_file": ["The file is 1.1\xa0KB; an import takes at most 1000\xa0bytes"]
    }
    assert "confirm_form" not in response.context
    assert not Item.objects.exists()


def test_a_number_the_model_cannot_hold_is_refused_under_its_column(staff, sheet_parts):
    rows = [
        ["part.id", "quantity", "cost"],
        ["Prnt_Paper", "1e30", ""],
        ["Prnt_Paper", "0.1234567", "1.12345678901"],
        ["Prnt_Paper", "123456789012345.5", ""],
    ]
    assert row_errors(preview(staff, STOCK, rows)) == {
        1: {
            "quantity": [
                "quantity is invalid: Ensure that there are no more than 20 digits in total."
            ]
        },
        2: {
            "quantity": [
                "quantity is invalid: Ensure that there are no more than 6 decimal places."
            ],
            "cost": ["cost is invalid: Ensure that there are no more than 10 decimal places."],
        },
        3: {
            "quantity": [
                "quantity is invalid: "
                "Ensure that there are no more than 14 digits before the decimal point."
            ]
        },
    }
    assert not PartInventory.objects.exists()


def test_a_part_inventory_confirm_is_all_or_nothing(staff, admin_user, sheet_parts):
    rows = [
        ["part.id", "serialNumber", "quantity"],
        ["Prnt_Paper", "", "20"],
        ["Prnt_1000", "PR-00009", "1"],
    ]
    previewed = preview(staff, STOCK, rows)
    assert row_errors(previewed) == {}
    # Between the preview and the confirm, someone stores the second row's serial.
    factories.stock(admin_user, sheet_parts["printer"], 1, serial_number="PR-00009")
    before = (PartInventory.objects.count(), InventoryTransaction.objects.count())
    done = confirm(staff, STOCK, previewed)
    assert page_messages(done) == [
        "Nothing was imported: row 2: serialNumber: "
        "Part inventory with serialNumber PR-00009 for part Prnt_1000 already exists"
    ]
    assert (PartInventory.objects.count(), InventoryTransaction.objects.count()) == before


def export_queries(client, url: str, resource: str, columns: list[str], query: str = "") -> int:
    with CaptureQueriesContext(connection) as captured:
        response = export(client, url, resource, columns, query=query)
    assert response.status_code == 200
    return len(captured)


def test_the_item_exports_queries_do_not_grow_with_its_rows(staff, admin_user, sheet_parts):
    columns = ["id", "itemType", "trackingType", "onHandQuantity", "buildableQuantity"]
    factories.stock(admin_user, sheet_parts["paper"], 5)
    few = export_queries(staff, ITEMS, "ItemExport", columns)
    for number in range(10):
        bundle = factories.part(admin_user, f"Bundle_{number}", "stockableKit")
        factories.kit_line(admin_user, bundle, sheet_parts["paper"], 2)
    assert export_queries(staff, ITEMS, "ItemExport", columns) == few


def test_the_requirements_exports_queries_do_not_grow_with_its_rows(staff, admin_user, sheet_parts):
    columns = ["key", "run.id", "part.id", "requiredQuantity", "shortQuantity"]
    bundle = factories.part(admin_user, "Prnt_Bundle", "stockableKit")
    factories.kit_line(admin_user, bundle, sheet_parts["paper"], 2)
    factories.run(admin_user, "RUN-0", part=bundle, quantity=1)
    few = export_queries(staff, REQUIREMENTS, "RequirementExport", columns)
    factories.kit_line(admin_user, bundle, sheet_parts["ink"], 4)
    for number in range(1, 8):
        factories.run(admin_user, f"RUN-{number}", part=bundle, quantity=number)
    assert export_queries(staff, REQUIREMENTS, "RequirementExport", columns) == few
