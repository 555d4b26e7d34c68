from django.db import models
from django.db.models import Q

from core.models import AuditedModel
from core.numbers import quantity_text


class RunStatus(models.TextChoices):
    TODO = "todo"
    IN_PROGRESS = "inProgress"
    COMPLETE = "complete"
    CANCELED = "canceled"


class PartKitStatus(models.TextChoices):
    DRAFT = "draft"
    REQUESTED = "requested"
    IN_PROGRESS = "inProgress"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELED = "canceled"


# A kit in one of these holds nothing: its issued quantities went back to stock or were installed.
CLOSED_KIT_STATUSES = (PartKitStatus.COMPLETED, PartKitStatus.CANCELED)


class Run(AuditedModel):
    """ION's run: building `quantity` of `part` from the inventory issued to its kits."""

    code = models.CharField("id", max_length=100, unique=True)
    title = models.CharField(max_length=200, blank=True, default="")
    part = models.ForeignKey(
        "inventory.Item", null=True, blank=True, on_delete=models.PROTECT, related_name="runs"
    )
    quantity = models.DecimalField(max_digits=20, decimal_places=6, default=1)
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.TODO)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(name="run_quantity_positive", condition=Q(quantity__gt=0)),
            models.CheckConstraint(name="run_code_not_blank", condition=~Q(code="")),
        ]

    def __str__(self) -> str:
        return self.code


class PartKit(AuditedModel):
    """ION's part kit: the inventory allocated to a run."""

    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="part_kits")
    status = models.CharField(
        max_length=12, choices=PartKitStatus.choices, default=PartKitStatus.DRAFT
    )

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        # Reads the run: load it with the kit.
        return f"Part kit {self.pk} for run {self.run.code}"

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_KIT_STATUSES


class PartKitLine(models.Model):
    """How much of one part inventory is issued to one kit; gone when it reaches zero. A kit
    completed by run/complete keeps its lines: they record what it delivered to the build."""

    part_kit = models.ForeignKey(PartKit, on_delete=models.PROTECT, related_name="lines")
    part_inventory = models.ForeignKey(
        "inventory.PartInventory", on_delete=models.PROTECT, related_name="kit_lines"
    )
    issued_quantity = models.DecimalField(max_digits=20, decimal_places=6)

    class Meta:
        ordering = ["part_kit_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["part_kit", "part_inventory"], name="part_kit_line_once_per_inventory"
            ),
            models.CheckConstraint(
                name="part_kit_line_issued_positive", condition=Q(issued_quantity__gt=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{quantity_text(self.issued_quantity)} of part inventory #{self.part_inventory_id}"


class Installation(models.Model):
    """As-built record: this much of a part inventory went into the outputs of a run."""

    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="installations")
    part_inventory = models.ForeignKey(
        "inventory.PartInventory", on_delete=models.PROTECT, related_name="installations"
    )
    quantity = models.DecimalField(max_digits=20, decimal_places=6)

    class Meta:
        ordering = ["run_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "part_inventory"], name="installation_once_per_run_inventory"
            ),
            models.CheckConstraint(
                name="installation_quantity_positive", condition=Q(quantity__gt=0)
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{quantity_text(self.quantity)} of part inventory #{self.part_inventory_id} "
            f"into run {self.run.code}"
        )


class Requirement(models.Model):
    """What each open run needs of each stocked part: its part exploded (nested kits walked
    down) x the run's quantity, and how much its open kits hold of that part. Read-only.

    A database view (migration 0003; contract 15.2, 15.7); kitting.selectors.requirement_list()
    adds the short, available and uncovered quantities."""

    key = models.CharField(primary_key=True, max_length=41)  # "<run key>-<part key>"
    run = models.ForeignKey(Run, on_delete=models.DO_NOTHING, related_name="requirements")
    part = models.ForeignKey("inventory.Item", on_delete=models.DO_NOTHING, related_name="+")
    required_quantity = models.DecimalField(max_digits=40, decimal_places=6)
    issued_quantity = models.DecimalField(max_digits=20, decimal_places=6)
    # Reading requirements is reading runs: they have no permissions of their own.
    permission_model = Run

    class Meta:
        managed = False
        db_table = "kitting_requirement"
        ordering = ["run_id", "part_id"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"Requirement {self.key}"
