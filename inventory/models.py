from django.db import models
from django.db.models import Q

from core.models import AuditedModel
from core.numbers import quantity_text


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


# An item's tracking, from its two flags: the first flag set wins (serial over lot). Read by
# `item_tracking_type` in Python and by inventory.selectors in SQL.
ITEM_TRACKING_FLAGS = (
    ("enable_serial_no", TrackingType.SERIAL),
    ("enable_lot_category", TrackingType.LOT),
)


# Part inventory's tracking, from the number it carries: serial first (a serial may also carry a
# lot). Read by `PartInventory.tracking_type` in Python and by inventory.selectors in SQL.
PART_INVENTORY_TRACKING_NUMBERS = (
    ("serial_number", TrackingType.SERIAL),
    ("lot_number", TrackingType.LOT),
)


def item_tracking_type(**flags: bool) -> str:
    """The tracking type of an item with these flags (`enable_serial_no`, `enable_lot_category`)."""
    for flag, tracking in ITEM_TRACKING_FLAGS:
        if flags[flag]:
            return tracking
    return TrackingType.UNTRACKED


class Item(AuditedModel):
    """Intacct's item; ION's part."""

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
    # Counters behind generated serial and lot numbers: only ever incremented, so never reused.
    serial_counter = models.PositiveBigIntegerField(default=0, editable=False)
    lot_counter = models.PositiveBigIntegerField(default=0, editable=False)
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
        return item_tracking_type(
            enable_serial_no=self.enable_serial_no, enable_lot_category=self.enable_lot_category
        )


class Warehouse(AuditedModel):
    """Intacct's warehouse; ION's location."""

    code = models.CharField("id", max_length=30, unique=True)
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    # Contract 15.1: stock stored here counts as available (a quarantine shelf says no).
    inventory_available = models.BooleanField(default=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(name="warehouse_code_not_blank", condition=~Q(code="")),
            models.CheckConstraint(name="warehouse_name_not_blank", condition=~Q(name="")),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class InventoryStatus(models.TextChoices):
    """Part inventory's status (contract 15.1): the first that applies, in this order."""

    INSTALLED = "installed"
    KITTED = "kitted"
    UNAVAILABLE = "unavailable"
    AVAILABLE = "available"


class PartInventory(AuditedModel):
    """ION's part inventory: stock of one part, serial-, lot- or un-tracked.

    `kitted_quantity` and `installed_quantity` are kept by the kitting services in the same
    transaction as the ledger row that explains them, so reads need no aggregation.
    """

    part = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="part_inventories")
    # NULL, not "": untracked rows must not collide in the (part, serial_number) unique constraint.
    serial_number = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    lot_number = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    location = models.ForeignKey(
        Warehouse, null=True, blank=True, on_delete=models.PROTECT, related_name="part_inventories"
    )
    quantity = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    cost = models.DecimalField(max_digits=28, decimal_places=10, null=True, blank=True)
    kitted_quantity = models.DecimalField(
        max_digits=20, decimal_places=6, default=0, editable=False
    )
    installed_quantity = models.DecimalField(
        max_digits=20, decimal_places=6, default=0, editable=False
    )
    built_by = models.ForeignKey(
        "kitting.Run",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="outputs",
    )
    # ION's free strings: what the stock is for and who supplied it (NULL: not given).
    usage_type = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    supplier_id = models.CharField("supplier id", max_length=100, null=True, blank=True)  # noqa: DJ001
    # The inventory this one was split off (contract 15.5); NULL for inventory created whole.
    origin_part_inventory = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="splits",
    )

    class Meta:
        ordering = ["key"]
        verbose_name_plural = "part inventories"
        constraints = [
            models.UniqueConstraint(
                fields=["part", "serial_number"], name="part_inventory_serial_unique_per_part"
            ),
            models.CheckConstraint(
                name="part_inventory_quantity_not_negative", condition=Q(quantity__gte=0)
            ),
            models.CheckConstraint(
                name="part_inventory_kitted_not_negative", condition=Q(kitted_quantity__gte=0)
            ),
            models.CheckConstraint(
                name="part_inventory_installed_not_negative",
                condition=Q(installed_quantity__gte=0),
            ),
            # One serial is one unit: on hand, in a kit or installed, never two of those at once.
            models.CheckConstraint(
                name="part_inventory_serial_is_one_unit",
                condition=Q(serial_number__isnull=True)
                | (
                    Q(quantity__in=[0, 1])
                    & Q(
                        quantity__lte=1
                        - models.F("kitted_quantity")
                        - models.F("installed_quantity")
                    )
                ),
            ),
            models.CheckConstraint(
                name="part_inventory_serial_not_blank", condition=~Q(serial_number="")
            ),
            models.CheckConstraint(
                name="part_inventory_lot_not_blank", condition=~Q(lot_number="")
            ),
        ]

    def __str__(self) -> str:
        # The record's own key first: the API's partInventory.key, the same in every choice,
        # list and message. Reads the part and location: load them with the inventory.
        number = self.serial_number or self.lot_number
        part = f"{self.part.code} {number}" if number else self.part.code
        where = self.location.code if self.location_id is not None else "no location"
        return f"#{self.pk} {part} · {where} · {quantity_text(self.quantity)} on hand"

    @property
    def tracking_type(self) -> str:
        for number, tracking in PART_INVENTORY_TRACKING_NUMBERS:
            if getattr(self, number):
                return tracking
        return TrackingType.UNTRACKED

    @property
    def kitted(self) -> bool:
        """ION: all of it is kitted to runs."""
        return self.quantity == 0 and self.kitted_quantity > 0

    @property
    def installed(self) -> bool:
        """ION: all of it is attached to as-built assemblies."""
        return self.quantity == 0 and self.kitted_quantity == 0 and self.installed_quantity > 0

    @property
    def status(self) -> str:
        """Contract 15.1, the first that applies (inventory.selectors has it in SQL). Reads the
        location: load it with the inventory."""
        if self.installed:
            return InventoryStatus.INSTALLED
        if self.kitted:
            return InventoryStatus.KITTED
        if self.quantity == 0 or (
            self.location_id is not None and not self.location.inventory_available
        ):
            return InventoryStatus.UNAVAILABLE
        return InventoryStatus.AVAILABLE


class TransactionType(models.TextChoices):
    CREATE = "create"
    ADJUST = "adjust"
    ISSUE = "issue"
    RETURN = "return"
    INSTALL = "install"
    BUILD = "build"
    DELETE = "delete"
    SCRAP = "scrap"
    RECOUNT = "recount"
    TRANSFER = "transfer"
    SPLIT = "split"


# Stock operations (contract 15.4, 15.5) touch only the on-hand quantity; adjustments (the
# first three) are done by hand and say why.
STOCK_OPERATION_TYPES = (
    TransactionType.SCRAP,
    TransactionType.RECOUNT,
    TransactionType.TRANSFER,
    TransactionType.SPLIT,
)


class AdjustmentType(models.TextChoices):
    """What part_inventory_adjust does, each its own ledger type."""

    SCRAP = TransactionType.SCRAP
    RECOUNT = TransactionType.RECOUNT
    TRANSFER = TransactionType.TRANSFER


ADJUSTMENT_TYPES = tuple(AdjustmentType.values)


class LedgerIsImmutable(Exception):
    """Raised on any attempt to change or remove a ledger row."""


class InventoryTransactionQuerySet(models.QuerySet):
    # Bulk writes would bypass the model's guards below.
    def update(self, **kwargs):
        raise LedgerIsImmutable("ledger rows are never updated")

    def delete(self):
        raise LedgerIsImmutable("ledger rows are never deleted")


class InventoryTransaction(AuditedModel):
    """The ledger: one immutable row per change to a part inventory's quantities.

    For every part inventory, each of quantity, kittedQuantity and installedQuantity equals the
    sum of its change over these rows. The row outlives the inventory (no FK constraint, no
    cascade): history is never rewritten.
    """

    objects = InventoryTransactionQuerySet.as_manager()

    part_inventory = models.ForeignKey(
        PartInventory,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="transactions",
    )
    part = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    type = models.CharField(max_length=8, choices=TransactionType.choices)
    quantity = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    kitted_quantity = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    installed_quantity = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    quantity_after = models.DecimalField(max_digits=20, decimal_places=6)
    part_kit = models.ForeignKey(
        "kitting.PartKit",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    run = models.ForeignKey(
        "kitting.Run",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # Why stock was scrapped, recounted or transferred (contract 15.4); "" for other rows.
    # db_default: kitting/stock.py INSERTs ledger rows without naming it.
    reason = models.TextField(blank=True, default="", db_default="")
    # A transfer's locations; the history keeps a warehouse it names from being deleted.
    from_location = models.ForeignKey(
        Warehouse, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_location = models.ForeignKey(
        Warehouse, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["key"]
        indexes = [models.Index(fields=["part_inventory", "key"], name="ledger_by_inventory")]
        constraints = [
            # issue, return and install move units between buckets: they always sum to zero.
            models.CheckConstraint(
                name="ledger_moves_sum_to_zero",
                condition=~Q(type__in=["issue", "return", "install"])
                | Q(quantity=-models.F("kitted_quantity") - models.F("installed_quantity")),
            ),
            models.CheckConstraint(
                name="ledger_quantity_after_not_negative", condition=Q(quantity_after__gte=0)
            ),
            models.CheckConstraint(
                name="ledger_type_valid", condition=Q(type__in=TransactionType.values)
            ),
            # Creating and adjusting touch only the on-hand quantity; deleting leaves nothing.
            models.CheckConstraint(
                name="ledger_create_adjust_on_hand_only",
                condition=~Q(type__in=["create", "adjust"])
                | Q(kitted_quantity=0, installed_quantity=0),
            ),
            models.CheckConstraint(
                name="ledger_delete_leaves_zero",
                condition=~Q(type="delete") | Q(quantity_after=0),
            ),
            models.CheckConstraint(
                name="ledger_stock_operations_on_hand_only",
                condition=~Q(type__in=STOCK_OPERATION_TYPES)
                | Q(kitted_quantity=0, installed_quantity=0),
            ),
            models.CheckConstraint(
                name="ledger_adjustment_has_reason",
                condition=~Q(type__in=ADJUSTMENT_TYPES) | ~Q(reason=""),
            ),
            models.CheckConstraint(
                name="ledger_scrap_removes", condition=~Q(type="scrap") | Q(quantity__lt=0)
            ),
            # A transfer moves the whole inventory: no quantity changes, and it goes somewhere.
            models.CheckConstraint(
                name="ledger_transfer_moves_only",
                condition=~Q(type="transfer") | Q(quantity=0, to_location__isnull=False),
            ),
            models.CheckConstraint(
                name="ledger_locations_only_on_transfer",
                condition=Q(type="transfer")
                | Q(from_location__isnull=True, to_location__isnull=True),
            ),
            models.CheckConstraint(
                name="ledger_split_moves_some", condition=~Q(type="split") | ~Q(quantity=0)
            ),
        ]

    def __str__(self) -> str:
        return (
            f"Ledger row {self.pk}: {self.type} {quantity_text(self.quantity)} "
            f"of part inventory {self.part_inventory_id}"
        )

    def save(self, *args, **kwargs):
        # Insert only (PostgreSQL also refuses UPDATE and DELETE with a trigger, migration 0004).
        if not self._state.adding:
            raise LedgerIsImmutable("ledger rows are never updated")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerIsImmutable("ledger rows are never deleted")
