"""The admin in a browser (Debian's Chromium driven by Playwright, as tests/test_graphiql.py): log
in, find a part inventory by its part id, issue it to a kit and see the kit's requirements
change."""

import pytest

from inventory.models import Item, PartInventory
from kitting.demo import demo_data_load
from tests.support.browser import admin_login, chromium
from tests.support.factories import kit, run


@pytest.mark.django_db(transaction=True)
def test_issue_from_the_admin_changes_the_kits_requirements(live_server, admin_user):
    demo_data_load(user=admin_user)
    bundle = Item.objects.get(code="Prnt_Bundle")
    part_kit = kit(admin_user, run(admin_user, part=bundle, quantity=1))
    ink = PartInventory.objects.select_related("part", "location").get(part__code="Prnt_Ink")
    label = str(ink)
    # The browser runs an event loop in this thread: every database read happens before it.
    with chromium() as browser:
        page = browser.new_page()
        admin_login(page, live_server.url)

        page.goto(f"{live_server.url}/admin/inventory/partinventory/")
        page.fill("#searchbar", "Prnt_Ink")
        page.press("#searchbar", "Enter")
        page.wait_for_url("**/?q=Prnt_Ink")
        found = page.locator("#result_list tbody tr").all_inner_texts()

        kit_page = f"{live_server.url}/admin/kitting/partkit/{part_kit.pk}/change/"
        page.goto(kit_page)
        before = page.locator(".field-requirements table").inner_text()
        page.click("text=Issue part inventory")
        # The part inventory is found by search (the autocomplete), as staff pick it.
        page.click("#id_part_inventory + .select2 .select2-selection")
        page.fill(".select2-search__field", "Prnt_Ink")
        page.click(f".select2-results__option:has-text('{label}')")
        page.fill("#id_quantity", "4")
        page.click("input[type=submit]")
        page.wait_for_url(kit_page)
        message = page.locator(".messagelist").inner_text()
        after = page.locator(".field-requirements table").inner_text()
        issued = page.locator(".field-part_inventory, #lines-group").first.inner_text()

    assert [row.split("\t")[1:7] for row in found] == [
        [
            str(ink.pk),
            "Prnt_Ink — Ink cartridge",
            "-",
            ink.lot_number,
            "WH-MAIN — Main warehouse",
            "30",
        ]
    ]

    def rows(table):
        header, *lines = [line.split("\t") for line in table.splitlines()]
        assert header == ["part", "required", "issued", "short"]
        return sorted(lines)

    assert rows(before) == [
        ["Prnt_1000", "1", "0", "1"],
        ["Prnt_Ink", "4", "0", "4"],
        ["Prnt_Paper", "2", "0", "2"],
    ]
    assert rows(after) == [
        ["Prnt_1000", "1", "0", "1"],
        ["Prnt_Ink", "4", "4", "0"],
        ["Prnt_Paper", "2", "0", "2"],
    ]
    assert message == f"Issued: part inventory {ink.pk}"
    assert f"#{ink.pk} Prnt_Ink {ink.lot_number} · WH-MAIN · 26 on hand" in issued


@pytest.mark.django_db(transaction=True)
def test_wide_lists_scroll_within_a_narrow_window(live_server, admin_user):
    # Wide lists were clipped: their last columns out of reach at a laptop's width.
    demo_data_load(user=admin_user)
    measure = """() => {
        const results = document.querySelector("#changelist .results");
        const last = () => results.querySelector("thead th:last-child").getBoundingClientRect();
        const before = {
            overflowX: getComputedStyle(results).overflowX,
            scrolls: results.scrollWidth > results.clientWidth,
            right: results.getBoundingClientRect().right,
            pageWidth: document.documentElement.scrollWidth,
            lastHidden: last().right > window.innerWidth,
        };
        results.scrollLeft = results.scrollWidth;
        return {...before, lastReached: last().right <= window.innerWidth};
    }"""
    shown = {}
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1024, "height": 768})
        admin_login(page, live_server.url)
        for name in ("partinventory", "inventorytransaction"):
            page.goto(f"{live_server.url}/admin/inventory/{name}/")
            shown[name] = page.evaluate(measure)

    for name, measured in shown.items():
        # The table is wider than the window, scrolls inside its own box, and the page itself
        # does not: its last column is reached by scrolling the list.
        assert measured == {
            "overflowX": "auto",
            "scrolls": True,
            "right": measured["right"],
            "pageWidth": 1024,
            "lastHidden": True,
            "lastReached": True,
        }, name
        assert measured["right"] <= 1024, name
