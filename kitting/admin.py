"""Runs and part kits in the admin. Every write, issuing and returning stock included, goes through
kitting.services: the admin holds no rules."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from core.admin import (
    AUDIT_FIELDS,
    ReadOnlyAdmin,
    ServiceModelAdmin,
    SpreadsheetExportMixin,
    add_domain_error,
    number_display,
    positive_filter,
)
from core.errors import DomainError, DomainErrors, integrity_error
from core.numbers import decimal_string
from inventory.models import PartInventory, Warehouse
from kitting import selectors, services
from kitting.models import Installation, PartKit, PartKitLine, Requirement, Run


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _change_link(obj, label=None):
    opts = obj._meta
    try:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    except NoReverseMatch:  # the object has no admin page
        return label or str(obj)
    return format_html('<a href="{}">{}</a>', url, label or obj)


class PartKitInline(ReadOnlyInline):
    model = PartKit
    fields = ("kit_link", "status")
    readonly_fields = fields
    verbose_name = "part kit"

    @admin.display(description="part kit")
    def kit_link(self, kit):
        return _change_link(kit, f"Part kit {kit.pk}")


class InstallationInline(ReadOnlyInline):
    model = Installation
    fields = ("part_inventory", "quantity_shown")
    readonly_fields = fields
    verbose_name = "installation (as built)"
    verbose_name_plural = "installations (as built)"
    quantity_shown = number_display("quantity")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("run", "part_inventory__part", "part_inventory__location")
        )


class OutputInline(ReadOnlyInline):
    model = PartInventory
    fk_name = "built_by"
    fields = ("inventory_link", "serial_number", "lot_number", "quantity_shown", "location")
    readonly_fields = fields
    verbose_name = "output"
    quantity_shown = number_display("quantity")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("location")

    @admin.display(description="part inventory")
    def inventory_link(self, inventory):
        return _change_link(inventory, f"Part inventory {inventory.pk}")


class RunCompleteForm(forms.Form):
    """What run/complete takes besides the run: where the outputs go, and whether a shortage may
    be built anyway (contract 15.6); checked by the service."""

    location = forms.ModelChoiceField(Warehouse.objects.order_by("code"))
    allow_shortage = forms.BooleanField(
        required=False, help_text="Complete even while a requirement of the run is short"
    )


@admin.action(
    description="Complete the selected runs (build their outputs)", permissions=["complete"]
)
def complete_runs(modeladmin, request, queryset):
    # A first step asks where to build; the form comes back with the selection and `apply`.
    form = RunCompleteForm(request.POST if "apply" in request.POST else None)
    if not form.is_valid():
        context = {
            **modeladmin.admin_site.each_context(request),
            "opts": modeladmin.model._meta,
            "title": "Complete the selected runs",
            "form": form,
            "runs": queryset.order_by("pk"),
            "action": "complete_runs",
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        }
        return TemplateResponse(request, "admin/kitting/run/complete.html", context)
    for run in queryset.order_by("pk"):
        try:
            services.run_complete(
                user=request.user,
                run_key=run.pk,
                location=form.cleaned_data["location"],
                allow_shortage=form.cleaned_data["allow_shortage"],
            )
        except IntegrityError as exc:  # a concurrent writer won; the constraint held
            modeladmin.message_user(
                request, f"Run {run.code}: {integrity_error(exc).message()}", messages.ERROR
            )
        except (DomainError, DomainErrors) as err:
            problems = "; ".join(each.message() for each in err.errors)
            modeladmin.message_user(request, f"Run {run.code}: {problems}", messages.ERROR)
        else:
            modeladmin.message_user(request, f"Run {run.code} is complete", messages.SUCCESS)


@admin.action(
    description="Fulfil the selected part kits (issue what their runs are short of)",
    permissions=["fulfil"],
)
def fulfil_part_kits(modeladmin, request, queryset):
    for kit in queryset.order_by("pk"):
        try:
            done = services.part_kit_fulfill(user=request.user, part_kit_key=kit.pk)
        except IntegrityError as exc:  # a concurrent writer won; the constraint held
            modeladmin.message_user(
                request, f"Part kit {kit.pk}: {integrity_error(exc).message()}", messages.ERROR
            )
        except (DomainError, DomainErrors) as err:
            problems = "; ".join(each.message() for each in err.errors)
            modeladmin.message_user(request, f"Part kit {kit.pk}: {problems}", messages.ERROR)
        else:
            issued = ", ".join(
                f"{decimal_string(each.quantity)} of part inventory {each.part_inventory.pk}"
                for each in done.issued
            )
            modeladmin.message_user(
                request, f"Part kit {kit.pk}: issued {issued or 'nothing'}", messages.SUCCESS
            )


@admin.register(Run)
class RunAdmin(SpreadsheetExportMixin, ServiceModelAdmin):
    list_display = ("code", "title", "part", "quantity_shown", "status", "key")
    list_select_related = ("part",)
    list_filter = ("status",)
    search_fields = ("code", "title")
    ordering = ("key",)
    autocomplete_fields = ("part",)
    actions = (*ServiceModelAdmin.actions, complete_runs)
    quantity_shown = number_display("quantity")

    def get_fields(self, request, obj=None):
        fields = ("code", "title", "part", "quantity", "status")
        return (*fields, *AUDIT_FIELDS) if obj is not None else fields

    def get_inlines(self, request, obj):
        return [PartKitInline, InstallationInline, OutputInline] if obj is not None else []

    def service_create(self, *, user, data):
        return services.run_create(user=user, **data)

    def has_complete_permission(self, request) -> bool:
        # What the run/complete workflow of the API demands.
        return request.user.has_perm("kitting.change_run")

    def service_update(self, *, key, user, changes):
        return services.run_update(run_key=key, user=user, **changes)

    def service_delete(self, *, key, user):
        services.run_delete(run_key=key, user=user)


class PartKitLineInline(ReadOnlyInline):
    model = PartKitLine
    fields = ("part_inventory", "issued_quantity_shown")
    readonly_fields = fields
    verbose_name = "issued part inventory"
    verbose_name_plural = "issued part inventories"
    issued_quantity_shown = number_display("issued_quantity", "issued quantity")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("part_inventory__part", "part_inventory__location")
        )


class StockMoveForm(forms.Form):
    """Issue to a kit, or move back to inventory: the workflow's fields, checked by its service."""

    # Found by search (PartInventoryAdmin's search fields), not a <select> of every record: the
    # autocomplete of the kit line's part_inventory field.
    part_inventory = forms.ModelChoiceField(
        PartInventory.objects.none(),
        widget=AutocompleteSelect(PartKitLine._meta.get_field("part_inventory"), admin.site),
    )
    quantity = forms.DecimalField(
        required=False, help_text="Required unless the part inventory is a serial"
    )
    location = forms.ModelChoiceField(
        Warehouse.objects.all(), required=False, help_text="Where the stock goes back to"
    )

    def __init__(self, *args, kit: PartKit, issuing: bool, **kwargs):
        super().__init__(*args, **kwargs)
        inventories = PartInventory.objects.select_related("part", "location").order_by("pk")
        if issuing:
            del self.fields["location"]
            self.fields["part_inventory"].queryset = inventories.filter(quantity__gt=0)
        else:
            self.fields["part_inventory"].queryset = inventories.filter(kit_lines__part_kit=kit)


@admin.register(PartKit)
class PartKitAdmin(SpreadsheetExportMixin, ServiceModelAdmin):
    list_display = ("key", "run", "status")
    list_select_related = ("run",)
    list_filter = ("status",)
    search_fields = ("run__code",)
    ordering = ("key",)
    autocomplete_fields = ("run",)
    inlines = (PartKitLineInline,)
    actions = (*ServiceModelAdmin.actions, fulfil_part_kits)

    def has_fulfil_permission(self, request) -> bool:
        # What the fulfill workflow of the API demands (as issue).
        return request.user.has_perm("kitting.change_partkit") and request.user.has_perm(
            "inventory.change_partinventory"
        )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("run", "status")
        return ("run", "status", "stock_moves", "requirements", *AUDIT_FIELDS)

    def get_readonly_fields(self, request, obj=None):
        # A kit allocates stock to one run for good.
        if obj is None:
            return AUDIT_FIELDS
        return (*services.PART_KIT_IMMUTABLE, "stock_moves", "requirements", *AUDIT_FIELDS)

    def get_queryset(self, request):
        # The requirements table reads every line's part inventory and every kit component.
        return (
            super()
            .get_queryset(request)
            .select_related("run__part")
            .prefetch_related("lines__part_inventory", *selectors.REQUIREMENTS_PREFETCH)
        )

    @admin.display(description="requirements")
    def requirements(self, kit):
        rows = selectors.part_kit_requirements(kit)
        if not rows:
            return "None: the run's part is not a kit"
        header = mark_safe("<tr><th>part</th><th>required</th><th>issued</th><th>short</th></tr>")
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    row.part.code,
                    decimal_string(row.required_quantity),
                    decimal_string(row.issued_quantity),
                    decimal_string(row.short_quantity),
                )
                for row in rows
            ),
        )
        return format_html("<table>{}{}</table>", header, body)

    @admin.display(description="stock")
    def stock_moves(self, kit):
        if not kit.is_open:
            return f"The kit is {kit.status}: its stock can no longer move"
        issue = reverse("admin:kitting_partkit_issue", args=[kit.pk])
        move = reverse("admin:kitting_partkit_move_to_inventory", args=[kit.pk])
        return format_html(
            '<a href="{}">Issue part inventory</a> · <a href="{}">Move back to inventory</a>',
            issue,
            move,
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/issue/",
                self.admin_site.admin_view(self.issue_view),
                name="kitting_partkit_issue",
            ),
            path(
                "<path:object_id>/move-to-inventory/",
                self.admin_site.admin_view(self.move_to_inventory_view),
                name="kitting_partkit_move_to_inventory",
            ),
            *super().get_urls(),
        ]

    def issue_view(self, request, object_id):
        return self._stock_move_view(request, object_id, issuing=True)

    def move_to_inventory_view(self, request, object_id):
        return self._stock_move_view(request, object_id, issuing=False)

    def _stock_move_view(self, request, object_id, *, issuing: bool):
        kit = self.get_object(request, object_id)  # None for a key that is not one, too
        if kit is None:
            raise Http404(f"No part kit with key {object_id}")
        if not (
            self.has_change_permission(request, kit)
            and request.user.has_perm("inventory.change_partinventory")
        ):
            raise PermissionDenied
        form = StockMoveForm(request.POST or None, kit=kit, issuing=issuing)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if issuing:
                    services.part_kit_issue(
                        user=request.user,
                        part_kit_key=kit.pk,
                        part_inventory_key=data["part_inventory"].pk,
                        quantity=data["quantity"],
                    )
                else:
                    location = data["location"]
                    services.part_kit_move_to_inventory(
                        user=request.user,
                        part_kit_key=kit.pk,
                        part_inventory_key=data["part_inventory"].pk,
                        quantity=data["quantity"],
                        location_key=location.pk if location is not None else None,
                    )
            except (DomainError, DomainErrors) as err:
                add_domain_error(form, err)
            except IntegrityError as exc:  # a concurrent writer won; the constraint held
                add_domain_error(form, integrity_error(exc))
            else:
                done = "Issued" if issuing else "Moved back to inventory"
                self.message_user(request, f"{done}: part inventory {data['part_inventory'].pk}")
                return HttpResponseRedirect(reverse("admin:kitting_partkit_change", args=[kit.pk]))
        title = "Issue part inventory to" if issuing else "Move back to inventory from"
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": kit,
            "title": f"{title} part kit {kit.pk}",
            "form": form,
        }
        return TemplateResponse(request, "admin/kitting/partkit/stock_move.html", context)

    def service_create(self, *, user, data):
        return services.part_kit_create(user=user, **data)

    def service_update(self, *, key, user, changes):
        return services.part_kit_update(part_kit_key=key, user=user, **changes)

    def service_delete(self, *, key, user):
        services.part_kit_delete(part_kit_key=key, user=user)


@admin.register(Requirement)
class RequirementAdmin(SpreadsheetExportMixin, ReadOnlyAdmin):
    """What each open run needs of each stocked part, to read and export (the shortage list:
    filter on short). Read with its run's view permission, as in the API."""

    list_display = (
        "key",
        "run",
        "part",
        "required_quantity_shown",
        "issued_quantity_shown",
        "short_quantity_shown",
        "available_quantity_shown",
        "uncovered_quantity_shown",
    )
    list_select_related = ("run", "part")
    list_filter = (
        positive_filter("short_quantity", "short", "short", "Short", "Covered"),
        ("run", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("run__code", "part__code")
    required_quantity_shown = number_display("required_quantity", "required")
    issued_quantity_shown = number_display("issued_quantity", "issued")
    short_quantity_shown = number_display("short_quantity", "short")
    available_quantity_shown = number_display("available_quantity", "available")
    uncovered_quantity_shown = number_display("uncovered_quantity", "uncovered")

    def get_queryset(self, request):
        return selectors.requirement_list()

    def has_view_permission(self, request, obj=None):
        opts = Requirement.permission_model._meta
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('view', opts)}")

    def has_export_permission(self, request):
        return self.has_view_permission(request)
