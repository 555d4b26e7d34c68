"""inventory-control/item over HTTP (contract section 3): update and delete."""

import pytest

from config.api import identity
from inventory.models import Item, PartInventory
from kitcomponents.models import KitComponent
from kitting.models import Run
from tests.support.errors import assert_error, assert_rules, err, required
from tests.support.items import expected_item, patch, state
from tests.support.refs import created

# --- update -------------------------------------------------------------------------------


def test_patch_changes_only_what_is_sent(api, admin_user, items):
    paper = items["Prnt_Paper"]
    response = patch(
        api,
        paper,
        {
            "name": "Paper, A4",
            "status": "inactive",
            "unitOfMeasure": "ream",
            "extendedDescription": "80 g/m²",
            "purchasing": {"standardCost": "4.50"},
            "tracking": {"enableLotCategory": True, "lotCategory": "Batch"},
        },
    )
    assert response.status_code == 200
    assert response.json() == created(paper)
    assert response["ETag"] == '"2"'

    paper.refresh_from_db()
    assert paper.version == 2
    assert api.get(identity.href(paper)).json()["ia::result"] == expected_item(
        paper,
        admin_user,
        name="Paper, A4",
        status="inactive",
        unitOfMeasure="ream",
        extendedDescription="80 g/m²",
        purchasing={"standardCost": "4.5"},
        tracking={
            "enableSerialNo": False,
            "serialMask": "",
            "enableLotCategory": True,
            "lotCategory": "Batch",
        },
        trackingType="lot",
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", "Other_Id"), ("itemType", "stockableKit"), ("costMethod", "average")],
)
def test_immutable_fields_cannot_change(api, items, field, value):
    before = state()
    response = patch(api, items["Kit_1"], {field: value})
    assert_rules(
        response, err("KS-4223", f"{field} cannot be changed after create", field, FIELD=field)
    )
    assert state() == before


def test_every_immutable_change_is_reported(api, items):
    before = state()
    response = patch(
        api,
        items["Kit_1"],
        {"id": "Kit_9", "itemType": "inventory", "costMethod": "LIFO", "name": "ok"},
    )
    assert_rules(
        response,
        *(
            err("KS-4223", f"{f} cannot be changed after create", f, FIELD=f)
            for f in ("id", "itemType", "costMethod")
        ),
    )
    assert state() == before


def test_patch_what_get_returned_is_accepted(api, items, add_line):
    """A client that PATCHes back what it GETs: immutable fields unchanged, read-only ignored."""
    kit = items["Kit_1"]
    add_line(kit, items["Prnt_Paper"])
    got = api.get(identity.href(kit)).json()["ia::result"]
    got["name"] = "Renamed kit"

    response = patch(api, kit, got)

    assert response.status_code == 200
    kit.refresh_from_db()
    assert (kit.code, kit.name, kit.item_type, kit.cost_method) == (
        "Kit_1",
        "Renamed kit",
        "kit",
        "standard",
    )
    assert KitComponent.objects.count() == 1


def test_patch_with_matching_if_match(api, items):
    paper = items["Prnt_Paper"]
    response = patch(api, paper, {"name": "New"}, HTTP_IF_MATCH='"1"')
    assert response.status_code == 200
    assert response["ETag"] == '"2"'


def test_patch_with_stale_if_match_is_412(api, items):
    paper = items["Prnt_Paper"]
    before = state()
    response = patch(api, paper, {"name": "New"}, HTTP_IF_MATCH='"7"')
    assert_error(
        response,
        412,
        err(
            "KS-4121",
            'If-Match "7" does not match the current version "1"',
            GIVEN='"7"',
            CURRENT='"1"',
        ),
    )
    assert state() == before


def test_patch_required_fields_cannot_be_blanked(api, items):
    before = state()
    response = patch(api, items["Prnt_Paper"], {"name": "", "id": None})
    assert_rules(response, required("id"), required("name"))
    assert state() == before


# --- delete -------------------------------------------------------------------------------


def test_delete_unreferenced_item(api, items):
    paper = items["Prnt_Paper"]
    response = api.delete(identity.href(paper))
    assert response.status_code == 204
    assert response.content == b""
    assert not Item.objects.filter(pk=paper.pk).exists()
    assert Item.objects.count() == len(items) - 1


@pytest.mark.parametrize("role", ["kit", "component"])
def test_delete_item_referenced_by_a_kit_component_is_409(api, items, add_line, role):
    line = add_line(items["Kit_1"], items["Prnt_Paper"])
    item = items["Kit_1"] if role == "kit" else items["Prnt_Paper"]
    before = state()

    response = api.delete(identity.href(item))

    assert_error(
        response,
        409,
        err(
            "KS-4092",
            f"inventory-control/item {item.pk} cannot be deleted: it is still referenced by "
            f"inventory-control/kit-component {line.pk}",
            OBJECT="inventory-control/item",
            KEY=item.pk,
            REFERENCES=f"inventory-control/kit-component {line.pk}",
        ),
    )
    assert state() == before


@pytest.mark.parametrize("referrer", ["part-inventory", "run"])
def test_delete_item_referenced_by_part_inventory_or_a_run_is_409(api, items, referrer):
    paper = items["Prnt_Paper"]
    if referrer == "run":
        blocker = Run.objects.create(code="RUN-1", part=paper)
    else:
        blocker = PartInventory.objects.create(part=paper, quantity=3)
    before = state()

    response = api.delete(identity.href(paper))

    references = f"inventory-control/{referrer} {blocker.pk}"
    assert_error(
        response,
        409,
        err(
            "KS-4092",
            f"inventory-control/item {paper.pk} cannot be deleted: it is still referenced by "
            f"{references}",
            OBJECT="inventory-control/item",
            KEY=paper.pk,
            REFERENCES=references,
        ),
    )
    assert state() == before
    assert type(blocker).objects.filter(pk=blocker.pk, part=paper).exists()


def test_delete_may_carry_an_empty_object(api, items):
    paper = items["Prnt_Paper"]
    assert api.delete(identity.href(paper), {}, format="json").status_code == 204
    assert not Item.objects.filter(pk=paper.pk).exists()


def test_delete_with_stale_if_match_is_412(api, items):
    paper = items["Prnt_Paper"]
    response = api.delete(identity.href(paper), HTTP_IF_MATCH='"2"')
    assert response.status_code == 412
    assert Item.objects.filter(pk=paper.pk).exists()
    assert api.delete(identity.href(paper), HTTP_IF_MATCH='"1"').status_code == 204
