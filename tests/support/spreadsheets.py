"""Spreadsheets in the admin: uploads and exports over Django's test client, a staff client and the
parts the import tests name."""

import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.support import factories

ITEMS = "/admin/inventory/item/"
STOCK = "/admin/inventory/partinventory/"
LINES = "/admin/kitcomponents/kitcomponent/"
LEDGER = "/admin/inventory/inventorytransaction/"
REQUIREMENTS = "/admin/kitting/requirement/"
CSV_FORMAT, XLSX_FORMAT = "0", "1"  # positions in the admin's format choice


def csv_file(rows: list[list]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def xlsx_file(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def preview(client: Client, url: str, rows: list[list], *, xlsx: bool = False):
    """Upload the rows (a header first): the admin's dry run answers the preview page."""
    content, name = (xlsx_file(rows), "rows.xlsx") if xlsx else (csv_file(rows), "rows.csv")
    data = {
        "import_file": SimpleUploadedFile(name, content),
        "format": XLSX_FORMAT if xlsx else CSV_FORMAT,
    }
    return client.post(f"{url}import/", data)


def confirm(client: Client, url: str, previewed):
    form = previewed.context["confirm_form"]
    return client.post(f"{url}process_import/", form.initial, follow=True)


def row_errors(previewed) -> dict[int, dict[str, list[str]]]:
    result = previewed.context["result"]
    return {row.number: row.error_dict for row in result.invalid_rows}


def page_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def staff(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def sheet_parts(admin_user):
    return {
        "printer": factories.part(
            admin_user, "Prnt_1000", enable_serial_no=True, serial_mask="PR-#####"
        ),
        "ink": factories.part(admin_user, "Prnt_Ink", enable_lot_category=True),
        "paper": factories.part(admin_user, "Prnt_Paper"),
        "main": factories.warehouse(admin_user, "WH-MAIN"),
    }


def export(
    client: Client,
    url: str,
    resource: str,
    fields: list[str],
    *,
    xlsx: bool = False,
    query: str = "",
):
    data = {"format": XLSX_FORMAT if xlsx else CSV_FORMAT, "resource": "0"}
    data |= {f"{resource.lower()}_{field}": "on" for field in fields}
    return client.post(f"{url}export/{query}", data)


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
