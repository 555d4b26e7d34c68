"""The admin through real pages: every save and delete goes through the services, a broken rule is
a form error on its field with nothing written, a refused delete is a message with nothing
removed."""

import pytest
from django.contrib import admin
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory import services as inventory_services
from inventory.models import Item, Warehouse
from kitcomponents.models import KitComponent

ITEMS = "/admin/inventory/item/"
WAREHOUSES = "/admin/inventory/warehouse/"
LINES = "/admin/kitcomponents/kitcomponent/"


def item_form(**overrides):
    """An item add form as the browser posts it (unchecked boxes are simply absent)."""
    data = {
        "code": "Desk_1",
        "name": "Desk",
        "status": "active",
        "item_type": "inventory",
        "cost_method": "standard",
        "unit_of_measure": "each",
        "extended_description": "",
        "standard_cost": "0",
        "serial_mask": "",
        "lot_category": "",
        "kit_revenue_posting": "",
        "_save": "Save",
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def item_change_form(item, **overrides):
    """The change form of an existing item (id, itemType and costMethod are read-only there)."""
    data = {
        "name": item.name,
        "status": item.status,
        "unit_of_measure": item.unit_of_measure,
        "extended_description": item.extended_description,
        "standard_cost": str(item.standard_cost),
        "serial_mask": item.serial_mask,
        "lot_category": item.lot_category,
        "kit_revenue_posting": item.kit_revenue_posting,
        "_save": "Save",
    }
    if item.enable_serial_no:
        data["enable_serial_no"] = "on"
    if item.enable_lot_category:
        data["enable_lot_category"] = "on"
    if item.is_kit:
        lines = item.kit_components.order_by("line_number")
        data.update(
            {
                "kit_components-TOTAL_FORMS": str(len(lines)),
                "kit_components-INITIAL_FORMS": str(len(lines)),
                "kit_components-MIN_NUM_FORMS": "0",
                "kit_components-MAX_NUM_FORMS": "1000",
                # The new-lines inline: none added.
                "kit_components-2-TOTAL_FORMS": "0",
                "kit_components-2-INITIAL_FORMS": "0",
                "kit_components-2-MIN_NUM_FORMS": "0",
                "kit_components-2-MAX_NUM_FORMS": "1000",
            }
        )
        for index, line in enumerate(lines):
            data.update(
                {
                    f"kit_components-{index}-key": str(line.pk),
                    f"kit_components-{index}-kit": str(item.pk),
                    f"kit_components-{index}-line_number": str(line.line_number),
                    f"kit_components-{index}-number_of_units": str(line.number_of_units),
                    f"kit_components-{index}-revenue_percentage": str(
                        line.revenue_percentage or ""
                    ),
                    f"kit_components-{index}-default_delivery_status": (
                        line.default_delivery_status
                    ),
                    f"kit_components-{index}-default_deferral_status": (
                        line.default_deferral_status
                    ),
                }
            )
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def line_form(kit, component, /, **overrides):
    data = {
        "kit": str(kit.pk),
        "component": str(component.pk),
        "number_of_units": "1",
        "revenue_percentage": "",
        "default_delivery_status": "delivered",
        "default_deferral_status": "deferUntilItemIsDelivered",
        "line_number": "",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def line_change_form(line, **overrides):
    fields = {
        "number_of_units": str(line.number_of_units),
        "revenue_percentage": ""
        if line.revenue_percentage is None
        else str(line.revenue_percentage),
        "default_delivery_status": line.default_delivery_status,
        "default_deferral_status": line.default_deferral_status,
        "line_number": str(line.line_number),
    }
    return line_form(line.kit, line.component, **{**fields, **overrides})


def form_errors(response):
    return {
        field: list(messages)
        for field, messages in response.context["adminform"].form.errors.items()
    }


def flashed(response):
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def result_codes(response):
    return [str(obj.code) for obj in response.context["cl"].result_list]


# Changelists, search and filters.


def test_item_changelist_search_and_filters(admin_client, items):
    inventory_services.item_update(
        item_key=items["Prnt_Paper"].pk, user=None, enable_lot_category=True
    )
    inventory_services.item_update(
        item_key=items["SKit_1"].pk, user=None, enable_serial_no=True, status="inactive"
    )

    everything = admin_client.get(ITEMS)
    assert everything.status_code == 200
    assert result_codes(everything) == list(items)

    cases = {
        "?q=kit_": ["Kit_1", "SKit_1", "Kit_2", "SKit_2"],
        "?q=paper+name": ["Prnt_Paper"],
        "?item_type__exact=stockableKit": ["SKit_1", "SKit_2"],
        "?status__exact=inactive": ["SKit_1"],
        "?tracking=serial": ["SKit_1"],
        "?tracking=lot": ["Prnt_Paper"],
        "?tracking=untracked": [
            "Kit_1",
            "NonInv",
            "PurchOnly",
            "SalesOnly",
            "Kit_2",
            "SKit_2",
        ],
        "?item_type__exact=kit&q=2": ["Kit_2"],
    }
    for query, expected in cases.items():
        response = admin_client.get(ITEMS + query)
        assert response.status_code == 200, query
        assert result_codes(response) == expected, query


def test_warehouse_changelist_search_and_status_filter(admin_client, admin_user):
    for code, name, status in [
        ("WH-MAIN", "Main warehouse", "active"),
        ("WH-EAST", "East dock", "inactive"),
        ("WH-WEST", "West dock", "active"),
    ]:
        inventory_services.warehouse_create(user=admin_user, code=code, name=name, status=status)

    assert result_codes(admin_client.get(WAREHOUSES)) == ["WH-MAIN", "WH-EAST", "WH-WEST"]
    assert result_codes(admin_client.get(WAREHOUSES + "?q=dock")) == ["WH-EAST", "WH-WEST"]
    assert result_codes(admin_client.get(WAREHOUSES + "?q=wh-main")) == ["WH-MAIN"]
    inactive = admin_client.get(WAREHOUSES + "?status__exact=inactive")
    assert inactive.status_code == 200
    assert result_codes(inactive) == ["WH-EAST"]


def test_kit_component_changelist_search_and_kit_type_filter(admin_client, items, add_line):
    kit_paper = add_line(items["Kit_1"], items["Prnt_Paper"])
    kit_noninv = add_line(items["Kit_1"], items["NonInv"])
    skit_paper = add_line(items["SKit_1"], items["Prnt_Paper"])

    def keys(query):
        response = admin_client.get(LINES + query)
        assert response.status_code == 200, query
        return [line.pk for line in response.context["cl"].result_list]

    assert keys("") == [kit_paper.pk, kit_noninv.pk, skit_paper.pk]
    assert keys("?q=Prnt_Paper") == [kit_paper.pk, skit_paper.pk]
    assert keys("?q=SKit_1") == [skit_paper.pk]
    assert keys("?kit_type=kit") == [kit_paper.pk, kit_noninv.pk]
    assert keys("?kit_type=stockableKit") == [skit_paper.pk]
    assert keys("?kit_type=stockableKit&q=NonInv") == []


def test_kit_component_changelist_query_count_does_not_grow(admin_client, items, add_line):
    add_line(items["Kit_1"], items["Prnt_Paper"])
    with CaptureQueriesContext(connection) as one:
        assert admin_client.get(LINES).status_code == 200
    for code in ["NonInv", "PurchOnly", "SalesOnly", "Kit_2", "SKit_1"]:
        add_line(items["Kit_1"], items[code])
    add_line(items["SKit_2"], items["Prnt_Paper"])
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(LINES)
    assert len(response.context["cl"].result_list) == 7
    assert len(many) == len(one)


# The kit's lines on the item page.


def test_kit_item_page_lists_its_lines_read_only_in_line_order(admin_client, items, add_line):
    kit = items["Kit_1"]
    paper = add_line(kit, items["Prnt_Paper"], 2)
    noninv = add_line(kit, items["NonInv"])
    first = add_line(kit, items["Kit_2"], line_number=1)  # pushes the other two up
    response = admin_client.get(f"{ITEMS}{kit.pk}/change/")
    assert response.status_code == 200

    inline, adding = response.context["inline_admin_formsets"]
    assert [form.original.pk for form in inline] == [first.pk, paper.pk, noninv.pk]
    # Lines are edited and deleted here, added in the second inline (test_admin_backoffice).
    assert (inline.has_add_permission, inline.has_change_permission) == (False, True)
    assert inline.has_delete_permission
    assert [form.original for form in adding] == [None]
    html = response.content.decode()
    links = [
        f'<a href="{LINES}{first.pk}/change/">Edit line 1</a>',
        f'<a href="{LINES}{paper.pk}/change/">Edit line 2</a>',
        f'<a href="{LINES}{noninv.pk}/change/">Edit line 3</a>',
    ]
    positions = [html.index(link) for link in links]
    assert positions == sorted(positions)

    plain = admin_client.get(f"{ITEMS}{items['Prnt_Paper'].pk}/change/")
    assert plain.status_code == 200
    assert plain.context["inline_admin_formsets"] == []


def test_kit_item_page_query_count_does_not_grow_with_lines(admin_client, items, add_line):
    kit = items["Kit_1"]
    add_line(kit, items["Prnt_Paper"])
    url = f"{ITEMS}{kit.pk}/change/"
    # The first page may fill Django's content-type cache (one query, then cached):
    # warm it, or the count depends on which test ran first.
    assert admin_client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as one:
        assert admin_client.get(url).status_code == 200
    for code in ["NonInv", "PurchOnly", "SalesOnly", "Kit_2", "SKit_1"]:
        add_line(kit, items[code])
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url)
    assert len(list(response.context["inline_admin_formsets"][0])) == 6
    assert len(many) == len(one)


# Adding and changing items.


def test_add_item_goes_through_the_service(admin_client, admin_user):
    response = admin_client.post(
        ITEMS + "add/", item_form(code="Kit_9", name="Starter kit", item_type="kit")
    )
    assert response.status_code == 302
    item = Item.objects.get()
    assert response["Location"] == ITEMS
    assert (item.code, item.name, item.item_type) == ("Kit_9", "Starter kit", "kit")
    # The service's defaulting ran: a kit gets componentLevel revenue posting.
    assert item.kit_revenue_posting == "componentLevel"
    assert item.created_by == admin_user
    assert item.modified_by == admin_user
    assert item.version == 1
    assert LogEntry.objects.get().object_id == str(item.pk)


def test_the_admin_goes_on_with_the_object_the_service_saved(rf, admin_user):
    # Model validation after clean() writes the form's raw values onto its instance; the admin
    # (its log entry, its redirect) goes on with the service's object, defaults and all.
    request = rf.post(ITEMS + "add/")
    request.user = admin_user
    form_class = admin.site.get_model_admin(Item).get_form(request)
    form = form_class(data=item_form(code="Kit_9", item_type="kit"))
    assert form.is_valid(), form.errors
    assert form.instance.kit_revenue_posting == "componentLevel"
    assert form.instance.version == 1
    assert form.save(commit=False) is form.instance
    stored = Item.objects.get()
    assert (form.instance.pk, form.instance.kit_revenue_posting) == (stored.pk, "componentLevel")


def test_tracking_on_a_non_inventory_item_is_a_field_error(admin_client, admin_user):
    response = admin_client.post(
        ITEMS + "add/",
        item_form(item_type="nonInventory", enable_serial_no="on", enable_lot_category="on"),
    )
    assert response.status_code == 200
    assert form_errors(response) == {
        "enable_serial_no": [
            "Serial tracked is only allowed on items of type inventory or "
            "stockableKit, not nonInventory"
        ],
        "enable_lot_category": [
            "Lot tracked is only allowed on items of type inventory or "
            "stockableKit, not nonInventory"
        ],
    }
    assert not Item.objects.exists()
    assert not LogEntry.objects.exists()


def test_duplicate_item_id_is_a_field_error(admin_client, items):
    response = admin_client.post(ITEMS + "add/", item_form(code="Kit_1"))
    assert response.status_code == 200
    assert form_errors(response) == {"code": ["Item with Id Kit_1 already exists"]}
    assert Item.objects.count() == len(items)


def test_kit_revenue_posting_on_a_non_kit_is_a_field_error(admin_client, db):
    response = admin_client.post(ITEMS + "add/", item_form(kit_revenue_posting="kitLevel"))
    assert response.status_code == 200
    assert form_errors(response) == {
        "kit_revenue_posting": [
            "Kit revenue posting is only allowed on items of type kit or stockableKit, "
            "not inventory"
        ]
    }
    assert not Item.objects.exists()


def test_change_item_goes_through_the_service(admin_client, admin_user, items):
    paper = items["Prnt_Paper"]
    response = admin_client.post(
        f"{ITEMS}{paper.pk}/change/",
        item_change_form(paper, name="Paper, A4", enable_serial_no="on", serial_mask="PA-###"),
    )
    assert response.status_code == 302
    paper.refresh_from_db()
    assert (paper.name, paper.enable_serial_no, paper.serial_mask) == ("Paper, A4", True, "PA-###")
    assert paper.version == 2
    assert paper.modified_by == admin_user


def test_change_item_rule_violation_leaves_the_row_alone(admin_client, items):
    noninv = items["NonInv"]
    response = admin_client.post(
        f"{ITEMS}{noninv.pk}/change/",
        item_change_form(noninv, name="Renamed", enable_lot_category="on", serial_mask="NOHASH"),
    )
    assert response.status_code == 200
    assert form_errors(response) == {
        "enable_lot_category": [
            "Lot tracked is only allowed on items of type inventory or "
            "stockableKit, not nonInventory"
        ],
        "serial_mask": ["Serial mask is invalid: a mask needs at least one # for the counter"],
    }
    noninv.refresh_from_db()
    assert (noninv.name, noninv.enable_lot_category, noninv.version) == ("NonInv name", False, 1)
    assert not LogEntry.objects.exists()


def test_immutable_and_audit_fields_are_read_only(admin_client, items):
    kit = items["Kit_1"]
    page = admin_client.get(f"{ITEMS}{kit.pk}/change/")
    form_fields = set(page.context["adminform"].form.fields)
    assert form_fields.isdisjoint(
        {"code", "item_type", "cost_method", "version", "created_by", "modified_by"}
    )
    response = admin_client.post(
        f"{ITEMS}{kit.pk}/change/",
        item_change_form(
            kit, code="Other", item_type="inventory", version="99", name="Kit one", created_by="1"
        ),
    )
    assert response.status_code == 302
    kit.refresh_from_db()
    assert (kit.code, kit.item_type, kit.name, kit.version) == ("Kit_1", "kit", "Kit one", 2)
    assert kit.created_by.username == "admin"


def test_invalid_inline_data_undoes_the_services_save(admin_client, items):
    """The form saves through the service while validating; when the page must be shown again
    (here the kit's inline management form is missing) that save is rolled back."""
    kit = items["Kit_1"]
    data = item_change_form(kit, name="Should not stick")
    del data["kit_components-TOTAL_FORMS"]
    response = admin_client.post(f"{ITEMS}{kit.pk}/change/", data)
    assert response.status_code == 200
    kit.refresh_from_db()
    assert (kit.name, kit.version) == ("Kit_1 name", 1)
    assert not LogEntry.objects.exists()


# Deleting items.


def test_deleting_a_referenced_item_is_refused_with_a_message(admin_client, items, add_line):
    paper = items["Prnt_Paper"]
    line = add_line(items["Kit_1"], paper)
    url = f"{ITEMS}{paper.pk}/delete/"

    preview = admin_client.get(url)
    assert preview.status_code == 200
    assert preview.context["protected"]  # Django's preview; the service decides on POST

    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert response["Location"] == f"{ITEMS}{paper.pk}/change/"
    assert flashed(response) == [
        (
            "error",
            f"Nothing was deleted: item {paper.pk} cannot be deleted: it is "
            f"still referenced by kit component {line.pk}",
        )
    ]
    assert Item.objects.filter(pk=paper.pk).exists()
    assert KitComponent.objects.filter(pk=line.pk).exists()
    assert not LogEntry.objects.filter(action_flag=DELETION).exists()


def test_deleting_an_unreferenced_item(admin_client, items):
    noninv = items["NonInv"]
    response = admin_client.post(f"{ITEMS}{noninv.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert response["Location"] == ITEMS
    assert not Item.objects.filter(pk=noninv.pk).exists()
    assert LogEntry.objects.get(action_flag=DELETION).object_id == str(noninv.pk)


def test_delete_action_is_all_or_nothing(admin_client, items, add_line):
    paper, noninv = items["Prnt_Paper"], items["NonInv"]
    line = add_line(items["Kit_1"], paper)
    response = admin_client.post(
        ITEMS,
        {"action": "delete_selected", "_selected_action": [noninv.pk, paper.pk], "post": "yes"},
        follow=True,
    )
    assert response.redirect_chain == [(ITEMS, 302)]
    assert flashed(response) == [
        (
            "error",
            f"Nothing was deleted: item {paper.pk} cannot be deleted: it is "
            f"still referenced by kit component {line.pk}",
        )
    ]
    assert Item.objects.filter(pk__in=[paper.pk, noninv.pk]).count() == 2
    assert not LogEntry.objects.filter(action_flag=DELETION).exists()

    response = admin_client.post(
        ITEMS,
        {"action": "delete_selected", "_selected_action": [noninv.pk], "post": "yes"},
        follow=True,
    )
    assert response.redirect_chain == [(ITEMS, 302)]
    assert flashed(response) == [("success", "Successfully deleted 1 item.")]
    assert not Item.objects.filter(pk=noninv.pk).exists()


# Warehouses.


def test_warehouse_add_change_and_duplicate(admin_client, admin_user):
    form = {"code": "WH-MAIN", "name": "Main warehouse", "status": "active", "_save": "Save"}
    assert admin_client.post(WAREHOUSES + "add/", form).status_code == 302
    main = Warehouse.objects.get()
    assert (main.created_by, main.version) == (admin_user, 1)

    east = inventory_services.warehouse_create(user=admin_user, code="WH-EAST", name="East")
    response = admin_client.post(f"{WAREHOUSES}{east.pk}/change/", {**form, "name": "East"})
    assert response.status_code == 200
    assert form_errors(response) == {"code": ["Warehouse with Id WH-MAIN already exists"]}
    east.refresh_from_db()
    assert (east.code, east.version) == ("WH-EAST", 1)

    response = admin_client.post(
        f"{WAREHOUSES}{east.pk}/change/", {**form, "code": "WH-EAST", "name": "East dock"}
    )
    assert response.status_code == 302
    east.refresh_from_db()
    assert (east.name, east.version, east.modified_by) == ("East dock", 2, admin_user)

    response = admin_client.post(f"{WAREHOUSES}{east.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert list(Warehouse.objects.values_list("code", flat=True)) == ["WH-MAIN"]


# Kit components.


def test_add_kit_component_goes_to_the_end_of_the_kit(admin_client, admin_user, items, add_line):
    kit = items["Kit_1"]
    add_line(kit, items["Prnt_Paper"])
    response = admin_client.post(
        LINES + "add/", line_form(kit, items["NonInv"], number_of_units="2.5")
    )
    assert response.status_code == 302
    line = KitComponent.objects.get(component=items["NonInv"])
    assert (line.kit_id, line.line_number, line.number_of_units) == (kit.pk, 2, 2.5)
    assert line.created_by == admin_user


def test_kit_component_cycle_is_a_field_error(admin_client, items, add_line):
    add_line(items["Kit_1"], items["Kit_2"])
    response = admin_client.post(LINES + "add/", line_form(items["Kit_2"], items["Kit_1"]))
    assert response.status_code == 200
    assert form_errors(response) == {
        "component": ["Kit Kit_2 cannot contain Kit_1: Kit_1 already contains Kit_2"]
    }
    assert KitComponent.objects.count() == 1
    assert not LogEntry.objects.exists()


def test_kit_component_rules_each_on_their_field(admin_client, items):
    response = admin_client.post(
        LINES + "add/",
        line_form(
            items["Prnt_Paper"], items["NonInv"], number_of_units="0", revenue_percentage="101"
        ),
    )
    assert response.status_code == 200
    assert form_errors(response) == {
        "kit": [
            "Item Prnt_Paper is of type inventory: a kit must be an item of type kit or "
            "stockableKit"
        ],
        "number_of_units": ["Number of units is invalid: must be greater than 0"],
        "revenue_percentage": ["Revenue percentage is invalid: must be between 0 and 100"],
    }
    assert not KitComponent.objects.exists()


def test_line_number_change_pushes_the_later_lines(admin_client, admin_user, items, add_line):
    kit = items["Kit_1"]
    a = add_line(kit, items["Prnt_Paper"])
    b = add_line(kit, items["NonInv"])
    c = add_line(kit, items["PurchOnly"])
    response = admin_client.post(f"{LINES}{c.pk}/change/", line_change_form(c, line_number="1"))
    assert response.status_code == 302
    assert list(
        KitComponent.objects.filter(kit=kit).values_list("pk", "line_number", "version")
    ) == [(c.pk, 1, 2), (a.pk, 2, 2), (b.pk, 3, 2)]
    c.refresh_from_db()
    assert c.modified_by == admin_user


def test_kit_component_change_to_a_duplicate_component_is_refused(admin_client, items, add_line):
    kit = items["Kit_1"]
    add_line(kit, items["Prnt_Paper"])
    b = add_line(kit, items["NonInv"])
    response = admin_client.post(
        f"{LINES}{b.pk}/change/",
        line_change_form(b, component=str(items["Prnt_Paper"].pk), line_number="1"),
    )
    assert response.status_code == 200
    assert form_errors(response) == {
        "component": ["Kit Kit_1 already has a line for component Prnt_Paper"]
    }
    assert list(
        KitComponent.objects.filter(kit=kit).values_list("component__code", "line_number")
    ) == [("Prnt_Paper", 1), ("NonInv", 2)]


def test_moving_a_line_to_another_kit_with_a_blank_number_appends_it(admin_client, items, add_line):
    a = add_line(items["Kit_1"], items["Prnt_Paper"])
    add_line(items["Kit_2"], items["NonInv"])
    add_line(items["Kit_2"], items["PurchOnly"])
    response = admin_client.post(
        f"{LINES}{a.pk}/change/", line_change_form(a, kit=str(items["Kit_2"].pk), line_number="")
    )
    assert response.status_code == 302
    a.refresh_from_db()
    assert (a.kit_id, a.line_number) == (items["Kit_2"].pk, 3)


def test_deleting_a_kit_component_leaves_a_gap(admin_client, items, add_line):
    kit = items["Kit_1"]
    add_line(kit, items["Prnt_Paper"])
    b = add_line(kit, items["NonInv"])
    add_line(kit, items["PurchOnly"])
    response = admin_client.post(f"{LINES}{b.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert list(KitComponent.objects.values_list("line_number", flat=True)) == [1, 3]


@pytest.mark.parametrize("url", ["", "add/", "?q=Kit_1", "?kit_type=kit"])
def test_kit_component_pages_render(admin_client, items, add_line, url):
    add_line(items["Kit_1"], items["Prnt_Paper"])
    assert admin_client.get(LINES + url).status_code == 200


def test_kit_component_change_page_renders(admin_client, items, add_line):
    line = add_line(items["Kit_1"], items["Prnt_Paper"])
    response = admin_client.get(f"{LINES}{line.pk}/change/")
    assert response.status_code == 200
    assert set(response.context["adminform"].form.fields) == {
        "kit",
        "component",
        "number_of_units",
        "revenue_percentage",
        "default_delivery_status",
        "default_deferral_status",
        "line_number",
    }


def test_kit_and_component_autocomplete_search_items(admin_client, items):
    response = admin_client.get(
        "/admin/autocomplete/",
        {
            "term": "SKit",
            "app_label": "kitcomponents",
            "model_name": "kitcomponent",
            "field_name": "kit",
        },
    )
    assert response.status_code == 200
    assert [row["text"] for row in response.json()["results"]] == [
        "SKit_1 — SKit_1 name",
        "SKit_2 — SKit_2 name",
    ]
