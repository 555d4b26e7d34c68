"""References, envelopes and database snapshots, as the contract renders them."""

from django.db import models

ONE = {"totalCount": 1, "totalSuccess": 1, "totalError": 0}

# model label -> (API object name, the model field rendered as `id`, or None where id = key).
# Spelled out here rather than read from the models, as the contract names them.
OBJECTS = {
    "inventory.Item": ("inventory-control/item", "code"),
    "inventory.Warehouse": ("inventory-control/warehouse", "code"),
    "inventory.PartInventory": ("inventory-control/part-inventory", None),
    "inventory.InventoryTransaction": ("inventory-control/inventory-transaction", None),
    "kitcomponents.KitComponent": ("inventory-control/kit-component", None),
    "kitting.Run": ("inventory-control/run", "code"),
    "kitting.PartKit": ("inventory-control/part-kit", None),
    "kitting.Requirement": ("inventory-control/requirement", None),
}


def href(obj) -> str:
    return f"/objects/{OBJECTS[obj._meta.label][0]}/{obj.pk}"


def ref(obj) -> dict[str, str]:
    id_field = OBJECTS[obj._meta.label][1]
    return {"key": str(obj.pk), "id": str(getattr(obj, id_field or "pk")), "href": href(obj)}


def created(obj) -> dict:
    return {"ia::result": ref(obj), "ia::meta": ONE}


def audit(obj, user) -> dict:
    user_ref = {
        "key": str(user.pk),
        "id": user.get_username(),
        "href": f"/objects/company-config/user/{user.pk}",
    }
    return {
        "createdDateTime": obj.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "modifiedDateTime": obj.modified_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "createdBy": str(user.pk),
        "modifiedBy": str(user.pk),
        "createdByUser": user_ref,
        "modifiedByUser": user_ref,
    }


def snapshot(*model_classes: type[models.Model]) -> dict[str, list[dict]]:
    """Every row of these models, every column: compare before and after a failed request."""
    return {m._meta.label: list(m._default_manager.order_by("pk").values()) for m in model_classes}
