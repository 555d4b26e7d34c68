"""The GET of one object as the API renders it, read without model instances or serializers:
each returns the object's representation (exactly what its serializer renders,
tests/test_detail_selectors.py) and its version (the ETag), or None. A viewset names one as its
`detail_selector`. The item's and kit component's live in kitcomponents/api/details.py, the
ledger's in kitting/api/inventory_transaction.py.
"""

from typing import Any

from config.api import identity, render
from inventory.models import Warehouse

Detail = tuple[dict[str, Any], int]  # the representation and the version


def warehouse_detail(*, key: int) -> Detail | None:
    """A warehouse: one statement."""
    row = (
        Warehouse.objects.filter(pk=key)
        .values(
            "pk",
            "version",
            "code",
            "name",
            "status",
            "inventory_available",
            *render.audit_columns(),
        )
        .first()
    )
    if row is None:
        return None
    data = {
        "key": str(row["pk"]),
        "id": row["code"],
        "name": row["name"],
        "status": row["status"],
        "inventoryAvailable": row["inventory_available"],
        "audit": render.audit(row),
        "href": f"/objects/{identity.object_name(Warehouse)}/{row['pk']}",
    }
    return data, row["version"]
