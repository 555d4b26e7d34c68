"""The admin as back-office staff use it, on the demo data: readable labels, quantities as the API
shows them, search, filters, autocomplete, delete pages that name what still uses an object, kit
lines edited on their kit through the kit-component services, and a landing page at `/`."""

import re
from html import unescape

import pytest
from django.utils import timezone

from inventory.models import InventoryTransaction, Item, PartInventory, Warehouse
from kitcomponents.models import KitComponent
from kitting.demo import demo_data_load
from kitting.models import PartKit
from tests.support import factories
from tests.support.users import make_user
from tests.test_admin import item_change_form

pytestmark = pytest.mark.django_db

PI = "/admin/inventory/partinventory/"
LEDGER = "/admin/inventory/inventorytransaction/"


@pytest.fixture
def demo(admin_user):
    """The demo items by id, and their stock by part id (one record each, the first printer)."""
    demo_data_load(user=admin_user)
    items = {item.code: item for item in Item.objects.all()}
    stock = {}
    for each in PartInventory.objects.select_related("part").order_by("-pk"):
        stock[each.part.code] = each
    return {**items, "stock": stock}


def text(response) -> str:
    """The page's visible text, tags dropped and whitespace folded."""
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(unescape(body).split())


def filter_titles(response) -> list[str]:
    return [str(spec.title) for spec in response.context["cl"].filter_specs]


def changelist_keys(response) -> list[int]:
    return [obj.pk for obj in response.context["cl"].result_list]


def autocomplete(client, app_label, model_name, field_name, term):
    """The admin's autocomplete answer for `field_name` of the model, searching `term`."""
    query = {"app_label": app_label, "model_name": model_name, "field_name": field_name}
    return client.get("/admin/autocomplete/", {**query, "term": term})


# --- labels -----------------------------------------------------------------------------------


def test_part_inventory_label_names_key_part_location_and_quantity(demo):
    rows = PartInventory.objects.select_related("part", "location").order_by("pk")
    first = rows[0].pk
    assert [str(each) for each in rows] == [
        f"#{first} Prnt_1000 PR-00001 · WH-MAIN · 1 on hand",
        f"#{first + 1} Prnt_1000 PR-00002 · WH-MAIN · 1 on hand",
        f"#{first + 2} Prnt_Paper · WH-MAIN · 20 on hand",
        f"#{first + 3} Prnt_Ink Prnt_Ink-L000001 · WH-MAIN · 30 on hand",
    ]


def test_issue_form_choice_and_error_name_the_same_record(admin_client, admin_user, demo):
    kit = factories.kit(admin_user, factories.run(admin_user, part=demo["Prnt_Bundle"]))
    paper = demo["stock"]["Prnt_Paper"].pk
    url = f"/admin/kitting/partkit/{kit.pk}/issue/"
    response = admin_client.post(url, {"part_inventory": str(paper), "quantity": "100"})
    assert response.status_code == 200
    assert f"#{paper} Prnt_Paper · WH-MAIN · 20 on hand" in text(response)
    assert response.context["form"].errors == {
        "quantity": [f"Cannot issue 100: part inventory {paper} has 20 on hand"]
    }


def test_issue_form_finds_part_inventories_by_search(admin_client, admin_user, demo):
    # It once rendered a <select> of every part inventory in stock.
    kit = factories.kit(admin_user, factories.run(admin_user, part=demo["Prnt_Bundle"]))
    page = admin_client.get(f"/admin/kitting/partkit/{kit.pk}/issue/").content.decode()
    chooser = re.search(r'<select name="part_inventory"[^>]*>(.*?)</select>', page, re.S)
    assert 'data-ajax--url="/admin/autocomplete/"' in chooser.group(0)
    assert 'data-model-name="partkitline" data-field-name="part_inventory"' in chooser.group(0)
    assert "<option" not in chooser.group(1).replace('<option value="" selected>', "")
    assert "admin/js/autocomplete.js" in page
    found = autocomplete(admin_client, "kitting", "partkitline", "part_inventory", "Prnt_Ink")
    ink = demo["stock"]["Prnt_Ink"]
    assert found.json()["results"] == [{"id": str(ink.pk), "text": str(ink)}]


def test_ledger_and_part_kit_wording(admin_client, admin_user, demo):
    run = factories.run(admin_user, part=demo["Prnt_Bundle"])
    kit = factories.kit(admin_user, run)
    paper = demo["stock"]["Prnt_Paper"]
    factories.issue(admin_user, kit, paper, 5)
    assert str(PartKit.objects.get(pk=kit.pk)) == f"Part kit {kit.pk} for run RUN-1"
    row = InventoryTransaction.objects.get(type="issue")
    assert str(row) == f"Ledger row {row.pk}: issue -5 of part inventory {paper.pk}"
    page = text(admin_client.get(f"/admin/kitting/partkit/{kit.pk}/change/"))
    assert "Issued part inventories" in page
    assert "inventorys" not in page
    assert f"#{paper.pk} Prnt_Paper · WH-MAIN · 15 on hand 5 " in page
    page = text(admin_client.get(f"/admin/kitting/run/{run.pk}/change/"))
    assert "Installations (as built)" in page
    assert "built)s" not in page
    page = text(admin_client.get(f"{LEDGER}{row.pk}/change/"))
    assert f"Ledger row {row.pk}: issue -5 of part inventory {paper.pk}" in page
    assert "InventoryTransaction object" not in page


# --- quantities -------------------------------------------------------------------------------


def test_quantities_and_costs_as_the_api_shows_them(admin_client, admin_user, demo):
    more = factories.stock(admin_user, demo["Prnt_Paper"], quantity="2.5", cost="0")
    response = admin_client.get(PI)
    page = text(response)
    assert ".000000" not in page
    assert " 2.5 " in page
    response = admin_client.get(f"{PI}{more.pk}/change/")
    body = response.content.decode()
    assert "0E-10" not in body and ".000000" not in body and "0.0000000000" not in body
    assert 'name="quantity" value="2.5"' in body
    assert 'name="cost" value="0"' in body
    page = text(admin_client.get(LEDGER))
    assert ".000000" not in page
    page = text(admin_client.get("/admin/kitcomponents/kitcomponent/"))
    assert ".000000" not in page


# --- search, filters, autocomplete ------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("paper", ["Prnt_Paper"]),
        ("ink", ["Prnt_Ink"]),
        ("PR-00002", []),
        ("nothing", []),
        # A digit Python's isdigit() takes but int() refuses once answered a JSON 500.
        ("²", []),
        # A numeric part id is a part's id too, not only a part inventory's key.
        ("12345", ["12345"]),
    ],
)
def test_ledger_search(admin_client, admin_user, demo, query, found):
    # Searching once answered a JSON 500 (an iexact lookup on the inventory's key).
    if query == "12345":
        part = factories.part(admin_user, "12345")
        where = Warehouse.objects.get(code="WH-MAIN")
        demo["stock"]["12345"] = factories.stock(admin_user, part, quantity=1, location=where)
    query = {"paper": str(demo["stock"]["Prnt_Paper"].pk), "ink": "Prnt_Ink"}.get(query, query)
    response = admin_client.get(LEDGER, {"q": query})
    assert response.status_code == 200
    rows = response.context["cl"].result_list
    expected = [demo["stock"][code].pk for code in found]
    assert sorted({row.part_inventory_id for row in rows}) == expected


def test_part_inventory_filters(admin_client, admin_user, demo):
    hold = factories.warehouse(admin_user, "WH-HOLD")
    empty = factories.stock(admin_user, demo["Prnt_Paper"], quantity=0, location=hold).pk
    first = PartInventory.objects.order_by("pk").first().pk
    printers, paper, ink = [first, first + 1], first + 2, first + 3

    def keys(**query):
        return changelist_keys(admin_client.get(PI, query))

    assert keys(part__key__exact=demo["Prnt_Paper"].pk) == [paper, empty]
    assert keys(location__key__exact=hold.pk) == [empty]
    assert keys(tracking="serial") == printers
    assert keys(tracking="lot") == [ink]
    assert keys(tracking="untracked") == [paper, empty]
    assert keys(in_stock="yes") == [*printers, paper, ink]
    assert keys(in_stock="no") == [empty]
    assert keys(q="Prnt_Ink") == [ink]
    # A serial record may carry a lot number too: it is serial-tracked (serial first), as the
    # API's trackingType says, not listed under lot.
    serial_part = factories.part(admin_user, "SER", enable_serial_no=True, serial_mask="SN-###")
    both = factories.stock(
        admin_user, serial_part, 1, serial_number="SN-001", lot_number="B-1", location=hold
    ).pk
    assert keys(tracking="serial") == [*printers, both]
    assert keys(tracking="lot") == [ink]
    titles = filter_titles(admin_client.get(PI))
    assert titles == ["part", "location", "tracking", "in stock"]


def test_ledger_filters(admin_client, admin_user, demo):
    run = factories.run(admin_user, part=demo["Prnt_Bundle"])
    kit = factories.kit(admin_user, run)
    paper = demo["stock"]["Prnt_Paper"].pk
    factories.issue(admin_user, kit, demo["stock"]["Prnt_Paper"], 5)
    ink = demo["Prnt_Ink"].pk
    rows = admin_client.get(LEDGER, {"part__key__exact": ink}).context["cl"].result_list
    assert [row.part_inventory_id for row in rows] == [demo["stock"]["Prnt_Ink"].pk]
    rows = admin_client.get(LEDGER, {"run__key__exact": run.pk}).context["cl"].result_list
    assert [(row.type, row.part_inventory_id) for row in rows] == [("issue", paper)]
    day = timezone.localtime(InventoryTransaction.objects.get(type="issue").created_at)
    # The date hierarchy's drill-down.
    when = {
        "created_at__year": day.year,
        "created_at__month": day.month,
        "created_at__day": day.day,
    }
    response = admin_client.get(LEDGER, {**when, "type__exact": "issue"})
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 1
    assert filter_titles(response) == ["type", "part", "run", "created at"]


def test_kit_component_filters(admin_client, demo):
    url = "/admin/kitcomponents/kitcomponent/"
    bundle, ink = demo["Prnt_Bundle"], demo["Prnt_Ink"]
    rows = admin_client.get(url, {"kit__key__exact": bundle.pk}).context["cl"].result_list
    assert [row.kit_id for row in rows] == [bundle.pk] * 4
    rows = admin_client.get(url, {"component__key__exact": ink.pk}).context["cl"].result_list
    assert sorted(row.kit.code for row in rows) == ["Kit_1", "Prnt_Bundle"]
    titles = filter_titles(admin_client.get(url))
    assert titles == ["kit type", "kit", "component", "default delivery status"]


def test_part_and_location_take_autocomplete(admin_client, demo):
    body = admin_client.get(f"{PI}add/").content.decode()
    for name in ("part", "location"):
        select = re.search(rf'<select name="{name}"[^>]*>', body).group(0)
        assert 'class="admin-autocomplete' in select
    answer = autocomplete(admin_client, "inventory", "partinventory", "location", "WH-MAIN")
    assert answer.status_code == 200
    assert [row["id"] for row in answer.json()["results"]] == [
        str(Warehouse.objects.get(code="WH-MAIN").pk)
    ]


# --- deletes ----------------------------------------------------------------------------------


def test_delete_page_names_what_still_uses_the_item(admin_client, demo):
    paper = demo["Prnt_Paper"]
    response = admin_client.get(f"/admin/inventory/item/{paper.pk}/delete/")
    assert response.status_code == 200
    assert response.context["perms_lacking"] == set()
    page = text(response)
    assert "your account doesn't have permission" not in page
    assert "would require deleting the following protected related objects" in page
    stock = demo["stock"]["Prnt_Paper"].pk
    assert f"Part inventory: #{stock} Prnt_Paper · WH-MAIN · 20 on hand" in page
    assert "Kit component: Kit_1 line 2: 2 x Prnt_Paper" in page
    assert "Kit component: Prnt_Bundle line 2: 2 x Prnt_Paper" in page


# --- the landing page -------------------------------------------------------------------------


def test_landing_page_links_docs_admin_and_health(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    links = re.findall(r'href="([^"]+)"', response.content.decode())
    assert links == [
        "/api/docs/",
        "/api/redoc/",
        "/api/schema/",
        "/graphql",
        "/admin/",
        "/healthz",
    ]
    for link in links:
        assert client.get(link, HTTP_ACCEPT="text/html").status_code in (200, 302)


def test_only_the_root_is_the_landing_page(client, db):
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert client.post("/").status_code == 405


def test_admin_view_site_links_the_landing_page(admin_client):
    body = admin_client.get("/admin/").content.decode()
    assert '<a href="/">View site</a>' in body


# --- kit lines on their kit -------------------------------------------------------------------


def kit_page_form(kit, *, changes=None, delete=(), new=()):
    """The kit item's change form as the browser posts it: its lines (with `changes` by
    component id, and `delete` marked) and `new` lines for the add inline."""
    data = item_change_form(kit)
    lines = list(kit.kit_components.select_related("component").order_by("line_number"))
    for index, line in enumerate(lines):
        for name, value in (changes or {}).get(line.component.code, {}).items():
            data[f"kit_components-{index}-{name}"] = value
        if line.component.code in delete:
            data[f"kit_components-{index}-DELETE"] = "on"
    data["kit_components-2-TOTAL_FORMS"] = str(len(new))
    for index, (component, units) in enumerate(new):
        data.update(
            {
                f"kit_components-2-{index}-component": str(component.pk),
                f"kit_components-2-{index}-number_of_units": str(units),
                f"kit_components-2-{index}-revenue_percentage": "",
                f"kit_components-2-{index}-default_delivery_status": "delivered",
                f"kit_components-2-{index}-default_deferral_status": "deferUntilItemIsDelivered",
                f"kit_components-2-{index}-line_number": "",
            }
        )
    return data


def kit_lines(kit):
    return list(
        KitComponent.objects.filter(kit=kit)
        .order_by("line_number")
        .values_list("line_number", "component__code", "number_of_units")
    )


def test_kit_lines_are_edited_on_their_kit_through_the_services(admin_client, admin_user, demo):
    kit = demo["Kit_1"]
    cable = factories.part(admin_user, "Prnt_Cable")
    data = kit_page_form(
        kit,
        changes={"Setup_Svc": {"line_number": "1"}, "Prnt_Paper": {"number_of_units": "3.5"}},
        delete=["Prnt_Ink"],
        new=[(cable, 2)],
    )
    response = admin_client.post(f"/admin/inventory/item/{kit.pk}/change/", data)
    assert response.status_code == 302
    # The taken line 1 pushed the later lines up; the new line went one past the highest.
    assert kit_lines(kit) == [
        (1, "Setup_Svc", 1),
        (2, "Prnt_1000", 1),
        (3, "Prnt_Paper", 3.5),
        (4, "Prnt_Cable", 2),
    ]
    # Through the services: their audit fields and versions.
    line = KitComponent.objects.get(kit=kit, component=cable)
    assert (line.created_by, line.version) == (admin_user, 1)
    # Paper: its units changed, then the push moved it.
    assert KitComponent.objects.get(kit=kit, component__code="Prnt_Paper").version == 3


def test_a_refused_kit_line_is_a_row_error_and_nothing_is_written(admin_client, demo):
    kit = demo["Kit_1"]
    before = kit_lines(kit)
    data = kit_page_form(
        kit, changes={"Setup_Svc": {"line_number": "1"}}, new=[(demo["Prnt_Paper"], 1)]
    )
    response = admin_client.post(f"/admin/inventory/item/{kit.pk}/change/", data)
    assert response.status_code == 200
    _, adding = response.context["inline_admin_formsets"]
    assert [form.errors for form in adding.formset.forms] == [
        {"component": ["Kit Kit_1 already has a line for component Prnt_Paper"]}
    ]
    assert kit_lines(kit) == before


def test_a_kit_line_marked_for_deletion_is_deleted_whatever_its_fields_hold(admin_client, demo):
    # Django's formset ignores a deleted row's field errors: the delete once never ran, yet the
    # page said the line was deleted.
    kit = demo["Kit_1"]
    before = kit_lines(kit)
    data = kit_page_form(kit, changes={"Prnt_Ink": {"number_of_units": ""}}, delete=["Prnt_Ink"])
    response = admin_client.post(f"/admin/inventory/item/{kit.pk}/change/", data)
    assert response.status_code == 302
    assert kit_lines(kit) == [line for line in before if line[1] != "Prnt_Ink"]


def test_a_refused_kit_line_delete_shows_and_nothing_is_written(admin_client, demo):
    # The page posted twice over (a stale form): the second delete of the same line is refused.
    kit = demo["Kit_1"]
    before = kit_lines(kit)
    data = kit_page_form(kit, delete=["Prnt_Ink"])
    ink = next(index for index, line in enumerate(before) if line[1] == "Prnt_Ink")
    count = int(data["kit_components-TOTAL_FORMS"])
    for name, value in list(data.items()):
        if name.startswith(f"kit_components-{ink}-"):
            data[name.replace(f"-{ink}-", f"-{count}-")] = value
    data["kit_components-TOTAL_FORMS"] = data["kit_components-INITIAL_FORMS"] = str(count + 1)
    response = admin_client.post(f"/admin/inventory/item/{kit.pk}/change/", data)
    assert response.status_code == 200
    lines, _ = response.context["inline_admin_formsets"]
    errors = [form.errors for form in lines.formset.forms if form.errors]
    key = KitComponent.objects.get(kit=kit, component__code="Prnt_Ink").pk
    assert errors == [{"__all__": [f"Kit component with key {key} was not found"]}]
    assert kit_lines(kit) == before


def test_kit_lines_need_the_kit_component_permissions(client, admin_user, demo):
    kit = demo["Kit_1"]
    user = make_user("clerk", "inventory.view_item", "inventory.change_item")
    user.is_staff = True
    user.save()
    client.force_login(user)
    response = client.get(f"/admin/inventory/item/{kit.pk}/change/")
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"] == []


def test_swapping_two_kit_lines_on_the_kit_applies_row_by_row(admin_client, demo):
    # The rows are changed in the page's order (LINE_HELP says so): line 1 to 2 pushes 2 and
    # every later line up, then the old line 2 (now 3) goes to the free line 1, leaving 3 empty.
    kit = demo["Kit_1"]
    assert kit_lines(kit) == [
        (1, "Prnt_1000", 1),
        (2, "Prnt_Paper", 2),
        (3, "Prnt_Ink", 4),
        (4, "Setup_Svc", 1),
    ]
    data = kit_page_form(
        kit, changes={"Prnt_1000": {"line_number": "2"}, "Prnt_Paper": {"line_number": "1"}}
    )
    response = admin_client.post(f"/admin/inventory/item/{kit.pk}/change/", data)
    assert response.status_code == 302
    assert kit_lines(kit) == [
        (1, "Prnt_Paper", 2),
        (2, "Prnt_1000", 1),
        (4, "Prnt_Ink", 4),
        (5, "Setup_Svc", 1),
    ]
    # The line-number column's help (a tabular inline shows it in the header's title).
    page = unescape(admin_client.get(f"/admin/inventory/item/{kit.pk}/change/").content.decode())
    assert "Lines are changed one by one, top row first, and a move leaves a gap" in page
