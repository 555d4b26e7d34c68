from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from core.admin import (
    AUDIT_FIELDS,
    ServiceInline,
    ServiceModelAdmin,
    ServiceModelForm,
    SpreadsheetImportExportMixin,
    number_display,
)
from inventory.admin import ItemAdmin
from inventory.models import KIT_TYPES, ItemType
from kitcomponents import services
from kitcomponents.models import KitComponent
from kitcomponents.resources import KitComponentImport


class KitComponentForm(ServiceModelForm):
    # Optional as in the API: blank puts a new line (or one moved to another kit) at the end.
    line_number = forms.IntegerField(
        required=False,
        help_text="Blank: one past the kit's highest line. A taken number moves that line and "
        "every later one up by one.",
    )

    class Meta:
        model = KitComponent
        fields = (
            "kit",
            "component",
            "number_of_units",
            "revenue_percentage",
            "default_delivery_status",
            "default_deferral_status",
            "line_number",
        )


class KitTypeFilter(admin.SimpleListFilter):
    title = "kit type"
    parameter_name = "kit_type"

    def lookups(self, request, model_admin):
        return [(value, ItemType(value).label) for value in KIT_TYPES]

    def queryset(self, request, queryset):
        if self.value() in KIT_TYPES:
            return queryset.filter(kit__item_type=self.value())
        return queryset


class KitComponentServices:
    """The kit-component services, for the admin page and the kit's inlines alike."""

    def changes(self, form, data):
        # A blank line number on a change keeps the line where it is (or, with a new kit, puts it
        # at the end there): the service reads an absent lineNumber that way.
        if data.get("line_number", 0) is None:
            del data["line_number"]
        return data

    def service_create(self, *, user, data):
        return services.kit_component_create(user=user, **data)

    def service_update(self, *, key, user, changes):
        return services.kit_component_update(kit_component_key=key, user=user, **changes)

    def service_delete(self, *, key, user):
        services.kit_component_delete(kit_component_key=key, user=user)


@admin.register(KitComponent)
class KitComponentAdmin(KitComponentServices, SpreadsheetImportExportMixin, ServiceModelAdmin):
    form = KitComponentForm
    import_resource = KitComponentImport
    list_display = (
        "key",
        "kit",
        "line_number",
        "component",
        "number_of_units_shown",
        "revenue_percentage_shown",
    )
    list_select_related = ("kit", "component")
    list_filter = (
        KitTypeFilter,
        ("kit", admin.RelatedOnlyFieldListFilter),
        ("component", admin.RelatedOnlyFieldListFilter),
        "default_delivery_status",
    )
    number_of_units_shown = number_display("number_of_units", "number of units")
    revenue_percentage_shown = number_display("revenue_percentage", "revenue percentage")
    search_fields = ("kit__code", "component__code")
    ordering = ("kit__code", "line_number")
    autocomplete_fields = ("kit", "component")

    def get_fields(self, request, obj=None):
        fields = KitComponentForm.Meta.fields
        return (*fields, *AUDIT_FIELDS) if obj is not None else fields


LINE_HELP = (
    "Blank: keep the line (a new line: one past the kit's highest). A taken number moves that "
    "line and every later one up by one. Lines are changed one by one, top row first, and a "
    "move leaves a gap: to swap lines 1 and 2, move one line at a time."
)


class KitLineForm(ServiceModelForm):
    line_number = forms.IntegerField(required=False, help_text=LINE_HELP)


class KitComponentInline(KitComponentServices, ServiceInline):
    """The kit's lines in lineNumber order, edited and deleted on the kit through the
    kit-component services (their line-number rules); the component of a line changes on the
    line's own page (the edit link)."""

    model = KitComponent
    form = KitLineForm
    fk_name = "kit"
    fields = (
        "line_number",
        "component",
        "number_of_units",
        "revenue_percentage",
        "default_delivery_status",
        "default_deferral_status",
        "edit_link",
    )
    readonly_fields = ("component", "edit_link")
    verbose_name = "kit component"

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("kit", "component").order_by("line_number")
        )

    def has_add_permission(self, request, obj=None):
        return False  # new lines: KitComponentAddInline

    @admin.display(description="edit")
    def edit_link(self, line):
        url = reverse("admin:kitcomponents_kitcomponent_change", args=[line.pk])
        return format_html('<a href="{}">Edit line {}</a>', url, line.line_number)


class KitComponentAddInline(KitComponentServices, ServiceInline):
    """New lines of the kit, created through kit_component_create."""

    model = KitComponent
    form = KitLineForm
    fk_name = "kit"
    fields = tuple(name for name in KitComponentForm.Meta.fields if name != "kit")
    autocomplete_fields = ("component",)
    verbose_name = "new kit component"
    verbose_name_plural = "add kit components"

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


ItemAdmin.kit_inlines.extend([KitComponentInline, KitComponentAddInline])
