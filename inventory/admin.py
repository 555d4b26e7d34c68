from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from core.admin import AUDIT_FIELDS, ServiceModelAdmin, ServiceModelForm
from inventory import selectors, services
from inventory.models import (
    InventoryTransaction,
    Item,
    PartInventory,
    TrackingType,
    Warehouse,
)


class TrackingFilter(admin.SimpleListFilter):
    title = "tracking"
    parameter_name = "tracking"

    def lookups(self, request, model_admin):
        return TrackingType.choices

    def queryset(self, request, queryset):
        # The same expression as trackingType in the API and the query service.
        if self.value() in TrackingType.values:
            return queryset.alias(tracking=selectors.item_tracking_type()).filter(
                tracking=self.value()
            )
        return queryset


@admin.register(Item)
class ItemAdmin(ServiceModelAdmin):
    # A kit's lines, shown by the app that owns them (kitcomponents registers its inline here:
    # inventory does not import it).
    kit_inlines: list[type[admin.options.InlineModelAdmin]] = []
    list_display = ("code", "name", "item_type", "status", "tracking_type", "key")
    list_filter = ("item_type", "status", TrackingFilter)
    search_fields = ("code", "name")
    ordering = ("key",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "code",
                    "name",
                    "status",
                    "item_type",
                    "cost_method",
                    "unit_of_measure",
                    "extended_description",
                )
            },
        ),
        ("Purchasing", {"fields": ("standard_cost",)}),
        (
            "Tracking",
            {"fields": ("enable_serial_no", "serial_mask", "enable_lot_category", "lot_category")},
        ),
        ("Kit", {"fields": ("kit_revenue_posting",)}),
        ("Audit", {"fields": AUDIT_FIELDS}),
    )

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets if obj is not None else self.fieldsets[:-1]

    def get_readonly_fields(self, request, obj=None):
        # What the service refuses to change after create is read-only here (contract 3).
        if obj is None:
            return AUDIT_FIELDS
        return (*services.ITEM_IMMUTABLE, *AUDIT_FIELDS)

    def get_inlines(self, request, obj):
        return list(self.kit_inlines) if obj is not None and obj.is_kit else []

    def service_create(self, *, user, data):
        return services.item_create(user=user, **data)

    def service_update(self, *, key, user, changes):
        return services.item_update(item_key=key, user=user, **changes)

    def service_delete(self, *, key, user):
        services.item_delete(item_key=key, user=user)


@admin.register(Warehouse)
class WarehouseAdmin(ServiceModelAdmin):
    list_display = ("code", "name", "status", "key")
    list_filter = ("status",)
    search_fields = ("code", "name")
    ordering = ("key",)

    def get_fields(self, request, obj=None):
        fields = ("code", "name", "status", "inventory_available")
        return (*fields, *(AUDIT_FIELDS if obj is not None else ()))

    def service_create(self, *, user, data):
        return services.warehouse_create(user=user, **data)

    def service_update(self, *, key, user, changes):
        return services.warehouse_update(warehouse_key=key, user=user, **changes)

    def service_delete(self, *, key, user):
        services.warehouse_delete(warehouse_key=key, user=user)


class PartInventoryForm(ServiceModelForm):
    # Write-only, as in the API: the service generates the number (contract 6.3).
    autogenerate_serial_number = forms.BooleanField(
        required=False, help_text="Generate the next serial number of the part."
    )
    autogenerate_lot_number = forms.BooleanField(
        required=False, help_text="Generate the next lot number of the part."
    )


PART_INVENTORY_READ_ONLY = (
    "tracking_type",
    "status",
    "kitted_quantity",
    "installed_quantity",
    "built_by",
    "origin_part_inventory",
)


@admin.register(PartInventory)
class PartInventoryAdmin(ServiceModelAdmin):
    """Saves and deletes go through the part inventory services, ledger rows included."""

    form = PartInventoryForm
    list_display = (
        "key",
        "part",
        "serial_number",
        "lot_number",
        "location",
        "quantity",
        "kitted_quantity",
        "installed_quantity",
    )
    list_select_related = ("part", "location")
    search_fields = ("serial_number", "lot_number", "part__code")
    raw_id_fields = ("part", "location")
    ordering = ("key",)

    def get_fields(self, request, obj=None):
        editable = (
            "part",
            "serial_number",
            "autogenerate_serial_number",
            "lot_number",
            "autogenerate_lot_number",
            "location",
            "quantity",
            "cost",
            "usage_type",
            "supplier_id",
        )
        return editable if obj is None else (*editable, *PART_INVENTORY_READ_ONLY, *AUDIT_FIELDS)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return AUDIT_FIELDS
        # The part is immutable after create (contract 6.2).
        return (*services.PART_INVENTORY_IMMUTABLE, *PART_INVENTORY_READ_ONLY, *AUDIT_FIELDS)

    def service_create(self, *, user, data):
        return services.part_inventory_create(user=user, **data)

    def service_update(self, *, key, user, changes):
        return services.part_inventory_update(part_inventory_key=key, user=user, **changes)

    def service_delete(self, *, key, user):
        services.part_inventory_delete(part_inventory_key=key, user=user)


@admin.register(InventoryTransaction)
class InventoryTransactionAdmin(admin.ModelAdmin):
    """The ledger, to look at only: rows are written by the services and never changed."""

    list_display = (
        "key",
        "type",
        "inventory",
        "part",
        "quantity",
        "kitted_quantity",
        "installed_quantity",
        "quantity_after",
        "part_kit_key",
        "run_key",
        "created_at",
        "created_by",
    )
    list_filter = ("type",)
    list_select_related = ("part", "created_by")
    search_fields = ("=part_inventory_id", "part__code")
    ordering = ("-key",)
    # Every column of the list, read-only on the row page too.
    fields = list_display
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # The row outlives what it names: the stored key, linked to its change page.
    @admin.display(description="part inventory", ordering="part_inventory_id")
    def inventory(self, row):
        url = reverse("admin:inventory_partinventory_change", args=[row.part_inventory_id])
        return format_html('<a href="{}">{}</a>', url, row.part_inventory_id)

    @admin.display(description="part kit")
    def part_kit_key(self, row):
        return row.part_kit_id

    @admin.display(description="run")
    def run_key(self, row):
        return row.run_id
