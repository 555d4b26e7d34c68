"""References, envelopes and database snapshots, as the contract renders them."""

from django.db import models

ONE = {"totalCount": 1, "totalSuccess": 1, "totalError": 0}


def ref(obj) -> dict[str, str]:
    return {"key": str(obj.pk), "id": obj.api_id, "href": obj.href}


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
    return {m._meta.label: list(m.objects.order_by("pk").values()) for m in model_classes}
