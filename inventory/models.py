from django.db import models
from django.db.models import Q

from config.api.models import IntacctModel


class Status(models.TextChoices):
    ACTIVE = "active"
    INACTIVE = "inactive"


class ItemType(models.TextChoices):
    INVENTORY = "inventory"
    NON_INVENTORY = "nonInventory"
    PURCHASE_ONLY_NON_INVENTORY = "purchaseOnlyNonInventory"
    SALES_ONLY_NON_INVENTORY = "salesOnlyNonInventory"
    KIT = "kit"
    STOCKABLE_KIT = "stockableKit"


KIT_TYPES = (ItemType.KIT, ItemType.STOCKABLE_KIT)
# Items that can be serial- or lot-tracked, and so hold part inventory.
STOCKED_TYPES = (ItemType.INVENTORY, ItemType.STOCKABLE_KIT)


class CostMethod(models.TextChoices):
    STANDARD = "standard"
    AVERAGE = "average"
    FIFO = "FIFO"
    LIFO = "LIFO"


class KitRevenuePosting(models.TextChoices):
    COMPONENT_LEVEL = "componentLevel"
    KIT_LEVEL = "kitLevel"


class TrackingType(models.TextChoices):
    SERIAL = "serial"
    LOT = "lot"
    UNTRACKED = "untracked"


class Item(IntacctModel):
    """Intacct's item; ION's part."""

    API_OBJECT = "inventory-control/item"
    API_ID_FIELD = "code"

    code = models.CharField("id", max_length=30, unique=True)
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    item_type = models.CharField(max_length=24, choices=ItemType.choices)
    cost_method = models.CharField(
        max_length=8, choices=CostMethod.choices, default=CostMethod.STANDARD
    )
    unit_of_measure = models.CharField(max_length=30, default="each")
    extended_description = models.CharField(max_length=400, blank=True, default="")
    standard_cost = models.DecimalField(max_digits=28, decimal_places=10, default=0)
    enable_serial_no = models.BooleanField("serial tracked", default=False)
    serial_mask = models.CharField(max_length=30, blank=True, default="")
    enable_lot_category = models.BooleanField("lot tracked", default=False)
    lot_category = models.CharField(max_length=30, blank=True, default="")
    kit_revenue_posting = models.CharField(
        max_length=16, choices=KitRevenuePosting.choices, blank=True, default=""
    )

    class Meta:
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(
                name="item_tracking_only_on_stocked_types",
                condition=Q(enable_serial_no=False, enable_lot_category=False)
                | Q(item_type__in=STOCKED_TYPES),
            ),
            models.CheckConstraint(
                name="item_kit_revenue_posting_only_on_kits",
                condition=Q(kit_revenue_posting="") | Q(item_type__in=KIT_TYPES),
            ),
            models.CheckConstraint(name="item_code_not_blank", condition=~Q(code="")),
            models.CheckConstraint(name="item_name_not_blank", condition=~Q(name="")),
            models.CheckConstraint(
                name="item_type_valid", condition=Q(item_type__in=ItemType.values)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"

    @property
    def is_kit(self) -> bool:
        return self.item_type in KIT_TYPES

    @property
    def tracking_type(self) -> str:
        if self.enable_serial_no:
            return TrackingType.SERIAL
        if self.enable_lot_category:
            return TrackingType.LOT
        return TrackingType.UNTRACKED


class Warehouse(IntacctModel):
    """Intacct's warehouse; ION's location."""

    API_OBJECT = "inventory-control/warehouse"
    API_ID_FIELD = "code"

    code = models.CharField("id", max_length=30, unique=True)
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(name="warehouse_code_not_blank", condition=~Q(code="")),
            models.CheckConstraint(name="warehouse_name_not_blank", condition=~Q(name="")),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"
