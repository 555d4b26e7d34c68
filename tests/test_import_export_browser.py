"""Importing a spreadsheet in a browser (Debian's Chromium driven by Playwright): log in, upload a
CSV of part inventory with one bad row, and see the preview refuse it with that row's error and
offer no confirm; nothing is written."""

import pytest

from inventory.models import InventoryTransaction, PartInventory
from tests.support import factories
from tests.support.browser import admin_login, chromium

CSV = b"part.id,quantity,location.id\nPrnt_Paper,20,WH-MAIN\nPrnt_Paper,-3,WH-MAIN\n"


@pytest.mark.django_db(transaction=True)
def test_a_csv_with_one_bad_row_is_refused_at_the_preview(live_server, admin_user):
    factories.part(admin_user, "Prnt_Paper")
    factories.warehouse(admin_user, "WH-MAIN")
    with chromium() as browser:
        page = browser.new_page()
        admin_login(page, live_server.url)
        page.goto(f"{live_server.url}/admin/inventory/partinventory/")
        page.click(".object-tools >> text=Import")
        page.wait_for_url("**/partinventory/import/")
        page.set_input_files(
            "#id_import_file", {"name": "stock.csv", "mimeType": "text/csv", "buffer": CSV}
        )
        page.select_option("#id_format", label="csv")
        page.click("input[type=submit]")
        page.wait_for_selector("text=Some rows failed to validate")
        errors = page.locator(".validation-error-list").all_text_contents()
        rows = page.locator("table.import-preview tbody tr").all_inner_texts()
        confirm_buttons = page.locator("text=Confirm import").count()

    assert [" ".join(text.split()) for text in errors] == [
        "quantity quantity is invalid: must be 0 or more"
    ]
    assert [row.split("\t")[0].strip() for row in rows] == ["2"]
    assert confirm_buttons == 0
    assert not PartInventory.objects.exists() and not InventoryTransaction.objects.exists()
