from django.db import models
from django.db.models import Q

from core.models import AuditedModel
from core.numbers import quantity_text

# Line numbers stay below this so a push can park lines above it (see services._place_line).
MAX_LINE_NUMBER = 999_999


class DeliveryStatus(models.TextChoices):
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"


class DeferralStatus(models.TextChoices):
    DEFER_UNTIL_ITEM_IS_DELIVERED = "deferUntilItemIsDelivered"
    DEFER_BUNDLE_UNTIL_ITEM_IS_DELIVERED = "deferBundleUntilItemIsDelivered"


class KitComponent(AuditedModel):
    """One line of a kit: which item, and how many units of it, the kit is made of."""

    kit = models.ForeignKey(
        "inventory.Item", on_delete=models.PROTECT, related_name="kit_components"
    )
    component = models.ForeignKey(
        "inventory.Item", on_delete=models.PROTECT, related_name="used_in_kits"
    )
    number_of_units = models.DecimalField(max_digits=20, decimal_places=6)
    revenue_percentage = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    default_delivery_status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.DELIVERED
    )
    default_deferral_status = models.CharField(
        max_length=40,
        choices=DeferralStatus.choices,
        default=DeferralStatus.DEFER_UNTIL_ITEM_IS_DELIVERED,
    )
    line_number = models.PositiveIntegerField()

    class Meta:
        ordering = ["kit_id", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["kit", "component"], name="kit_component_once_per_kit"),
            models.UniqueConstraint(
                fields=["kit", "line_number"], name="kit_component_line_unique"
            ),
            models.CheckConstraint(
                name="kit_component_units_positive", condition=Q(number_of_units__gt=0)
            ),
            models.CheckConstraint(
                name="kit_component_revenue_percentage_range",
                condition=Q(revenue_percentage__isnull=True)
                | Q(revenue_percentage__gte=0, revenue_percentage__lte=100),
            ),
            models.CheckConstraint(
                name="kit_component_line_number_range",
                condition=Q(line_number__gte=1, line_number__lte=2 * MAX_LINE_NUMBER + 1),
            ),
            models.CheckConstraint(
                name="kit_component_not_itself", condition=~Q(kit=models.F("component"))
            ),
        ]

    def __str__(self) -> str:
        # Reads the kit and the component: load them with the line.
        return (
            f"{self.kit.code} line {self.line_number}: "
            f"{quantity_text(self.number_of_units)} x {self.component.code}"
        )
