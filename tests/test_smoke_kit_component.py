"""The Intacct documentation's own kit-component examples, verbatim."""

from config.api import identity
from kitcomponents.models import KitComponent

CREATE_BODY = {
    "kit": {"key": "1"},
    "component": {"key": "2"},
    "revenuePercentage": 90,
    "defaultDeliveryStatus": "undelivered",
    "defaultDeferralStatus": "deferUntilItemIsDelivered",
    "numberOfUnits": 1,
}
ONE = {"totalCount": 1, "totalSuccess": 1, "totalError": 0}


def test_documentation_examples_round_trip(api, admin_user):
    from inventory import services

    kit = services.item_create(user=admin_user, code="Kit_1", name="Kit", item_type="kit")
    paper = services.item_create(
        user=admin_user,
        code="Prnt_Paper",
        name="Paper for Printer",
        item_type="inventory",
        unit_of_measure="10 Pack",
        standard_cost=100,
    )
    body = {**CREATE_BODY, "kit": {"key": str(kit.pk)}, "component": {"key": str(paper.pk)}}

    created = api.post("/objects/inventory-control/kit-component", body, format="json")
    assert created.status_code == 201
    line = KitComponent.objects.get()
    href = f"/objects/inventory-control/kit-component/{line.pk}"
    assert created.json() == {
        "ia::result": {"key": str(line.pk), "id": str(line.pk), "href": href},
        "ia::meta": ONE,
    }

    got = api.get(href)
    assert got.status_code == 200
    assert got["ETag"] == '"1"'
    result = got.json()["ia::result"]
    audit = result.pop("audit")
    assert audit["createdByUser"]["id"] == "admin"
    assert result == {
        "key": str(line.pk),
        "id": str(line.pk),
        "kit": {"key": str(kit.pk), "id": "Kit_1", "href": identity.href(kit)},
        "component": {
            "key": str(paper.pk),
            "id": "Prnt_Paper",
            "name": "Paper for Printer",
            "costMethod": "standard",
            "itemType": "inventory",
            "unitOfMeasure": "10 Pack",
            "standardCost": "100",
            "href": identity.href(paper),
        },
        "numberOfUnits": 1,
        "revenuePercentage": 90,
        "defaultDeliveryStatus": "undelivered",
        "defaultDeferralStatus": "deferUntilItemIsDelivered",
        "lineNumber": 1,
        "href": href,
    }

    patched = api.patch(
        href, {"component": {"key": str(paper.pk)}, "numberOfUnits": 1}, format="json"
    )
    assert patched.status_code == 200
    assert patched.json()["ia::result"] == {"key": str(line.pk), "id": str(line.pk), "href": href}

    listed = api.get("/objects/inventory-control/kit-component")
    assert listed.json() == {
        "ia::result": [{"key": str(line.pk), "id": str(line.pk), "href": href}],
        "ia::meta": {"totalCount": 1, "start": 1, "pageSize": 100, "next": None, "previous": None},
    }

    deleted = api.delete(href)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert not KitComponent.objects.exists()
