import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import IntegrityError
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from core.admin import (
    AUDIT_FIELDS,
    ReadOnlyAdmin,
    ServiceModelAdmin,
    ServiceModelForm,
    SpreadsheetExportMixin,
    SpreadsheetImportExportMixin,
    number_display,
    positive_filter,
)
from core.errors import DomainError, DomainErrors, integrity_error
from inventory import selectors, services
from inventory.models import (
    AdjustmentType,
    InventoryTransaction,
    Item,
    PartInventory,
    TrackingType,
    Warehouse,
)
from inventory.resources import ItemImport, PartInventoryImport


class TrackingFilter(admin.SimpleListFilter):
    """An item's tracking type, by the same expression as trackingType in the API and the query
    service (a subclass names another model's)."""

    title = "tracking"
    parameter_name = "tracking"

    def tracking_expression(self):
        return selectors.item_tracking_type()

    def lookups(self, request, model_admin):
        return TrackingType.choices

    def queryset(self, request, queryset):
        if self.value() in TrackingType.values:
            tracking = self.tracking_expression()
            return queryset.alias(tracking=tracking).filter(tracking=self.value())
        return queryset


@admin.register(Item)
class ItemAdmin(SpreadsheetImportExportMixin, ServiceModelAdmin):
    import_resource = ItemImport
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
class WarehouseAdmin(SpreadsheetExportMixin, ServiceModelAdmin):
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
    "kitted_quantity_shown",
    "installed_quantity_shown",
    "built_by",
    "origin_part_inventory",
)


class PartInventoryTrackingFilter(TrackingFilter):
    """A record's tracking is the number it carries (PartInventory.tracking_type, serial first)."""

    def tracking_expression(self):
        return selectors.part_inventory_expressions()["tracking_type"]


InStockFilter = positive_filter("quantity", "in stock", "in_stock", "On hand", "None on hand")


class AdjustForm(forms.Form):
    """part_inventory_adjust's fields, checked by the service (contract 15.4)."""

    type = forms.ChoiceField(choices=AdjustmentType.choices)
    quantity = forms.DecimalField(
        required=False, help_text="Scrap: how much to remove. Recount: the quantity counted"
    )
    location = forms.ModelChoiceField(
        Warehouse.objects.all(), required=False, help_text="Transfer: where the stock now is"
    )
    reason = forms.CharField(help_text="Kept on the ledger row")


class SplitForm(forms.Form):
    """part_inventory_split's fields, checked by the service (contract 15.5)."""

    quantity = forms.DecimalField(help_text="How much goes to the new record, from each selected")
    location = forms.ModelChoiceField(
        Warehouse.objects.all(), required=False, help_text="Where the new record is stored"
    )


def _stock_operation(modeladmin, request, queryset, *, form_class, title, action, perform):
    """An action with a form: shown first, then `perform(inventory, data)` for each selected
    inventory (its own transaction, in key order), each outcome a message."""
    form = form_class(request.POST if "apply" in request.POST else None)
    if not form.is_valid():
        context = {
            **modeladmin.admin_site.each_context(request),
            "opts": modeladmin.model._meta,
            "title": title,
            "form": form,
            "queryset": queryset.order_by("pk"),
            "action": action,
            "checkbox": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/inventory/partinventory/stock_operation.html", context
        )
    data = dict(form.cleaned_data)
    location = data.pop("location")
    for inventory in queryset.order_by("pk"):
        name = f"Part inventory {inventory.pk}"
        try:
            perform(inventory, {**data, "location_key": location.pk if location else None})
        except IntegrityError as exc:  # a concurrent writer won; the constraint held
            problem = integrity_error(exc).message()
            modeladmin.message_user(request, f"{name}: {problem}", messages.ERROR)
        except (DomainError, DomainErrors) as err:
            modeladmin.message_user(request, f"{name}: {err}", messages.ERROR)
        else:
            modeladmin.message_user(request, f"{title}: {name.lower()}", messages.SUCCESS)
    return None


@admin.action(
    description="Scrap, recount or transfer the selected part inventory", permissions=["change"]
)
def adjust(modeladmin, request, queryset):
    return _stock_operation(
        modeladmin,
        request,
        queryset,
        form_class=AdjustForm,
        title="Adjust part inventory",
        action="adjust",
        perform=lambda inventory, data: services.part_inventory_adjust(
            user=request.user,
            part_inventory_key=inventory.pk,
            **data,
        ),
    )


@admin.action(description="Split the selected part inventory", permissions=["change"])
def split(modeladmin, request, queryset):
    return _stock_operation(
        modeladmin,
        request,
        queryset,
        form_class=SplitForm,
        title="Split part inventory",
        action="split",
        perform=lambda inventory, data: services.part_inventory_split(
            user=request.user,
            part_inventory_key=inventory.pk,
            **data,
        ),
    )


@admin.register(PartInventory)
class PartInventoryAdmin(SpreadsheetImportExportMixin, ServiceModelAdmin):
    """Saves and deletes go through the part inventory services, ledger rows included; adjust
    and split are actions on the list, through their services too."""

    form = PartInventoryForm
    import_resource = PartInventoryImport
    actions = (*ServiceModelAdmin.actions, adjust, split)
    list_display = (
        "key",
        "part",
        "serial_number",
        "lot_number",
        "location",
        "quantity_shown",
        "kitted_quantity_shown",
        "installed_quantity_shown",
    )
    list_select_related = ("part", "location")
    list_filter = (
        ("part", admin.RelatedOnlyFieldListFilter),
        ("location", admin.RelatedOnlyFieldListFilter),
        PartInventoryTrackingFilter,
        InStockFilter,
    )
    search_fields = ("serial_number", "lot_number", "part__code")
    autocomplete_fields = ("part", "location")
    ordering = ("key",)

    quantity_shown = number_display("quantity")
    kitted_quantity_shown = number_display("kitted_quantity")
    installed_quantity_shown = number_display("installed_quantity")

    def get_queryset(self, request):
        # The label names the part and the location (PartInventory.__str__).
        return super().get_queryset(request).select_related("part", "location")

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
class InventoryTransactionAdmin(SpreadsheetExportMixin, ReadOnlyAdmin):
    """The ledger, to look at only: rows are written by the services and never changed."""

    list_display = (
        "key",
        "type",
        "inventory",
        "part_code",
        "quantity_shown",
        "kitted_quantity_shown",
        "installed_quantity_shown",
        "quantity_after_shown",
        "part_kit_key",
        "run_key",
        "created_at",
        "created_by",
    )
    list_select_related = ("part", "created_by")
    list_filter = (
        "type",
        ("part", admin.RelatedOnlyFieldListFilter),
        ("run", admin.RelatedOnlyFieldListFilter),
        "created_at",
    )
    date_hierarchy = "created_at"
    search_fields = ("part__code",)
    search_help_text = "A part inventory's key, or a part's id"
    ordering = ("-key",)
    # Every column of the list, read-only on the row page too, with the reason and locations.
    fields = (*list_display, "reason", "from_location", "to_location")
    readonly_fields = fields

    quantity_shown = number_display("quantity")
    kitted_quantity_shown = number_display("kitted_quantity")
    installed_quantity_shown = number_display("installed_quantity")
    quantity_after_shown = number_display("quantity_after")

    def get_search_results(self, request, queryset, search_term):
        # A number is also a part inventory's key, matched on the stored key (the row outlives
        # the inventory, so no join). ASCII digits only: isdigit() takes "²", which int() refuses.
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if re.fullmatch(r"[0-9]{1,18}", term):
            found = found | queryset.filter(part_inventory_id=int(term))
        return found, may_have_duplicates

    @admin.display(description="part", ordering="part__code")
    def part_code(self, row):
        return row.part.code

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
