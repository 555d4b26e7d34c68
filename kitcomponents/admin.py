from django import forms
from django.contrib import admin

from core.admin import AUDIT_FIELDS, ServiceModelAdmin, ServiceModelForm
from inventory.models import KIT_TYPES, ItemType
from kitcomponents import services
from kitcomponents.models import KitComponent


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


@admin.register(KitComponent)
class KitComponentAdmin(ServiceModelAdmin):
    form = KitComponentForm
    list_display = (
        "key",
        "kit",
        "line_number",
        "component",
        "number_of_units",
        "revenue_percentage",
    )
    list_select_related = ("kit", "component")
    list_filter = (KitTypeFilter,)
    search_fields = ("kit__code", "component__code")
    ordering = ("kit__code", "line_number")
    autocomplete_fields = ("kit", "component")

    def get_fields(self, request, obj=None):
        fields = KitComponentForm.Meta.fields
        return (*fields, *AUDIT_FIELDS) if obj is not None else fields

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
