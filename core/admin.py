"""The admin's shared base: every save and delete goes through the app's services.

A rule broken in the admin shows as a form error on the form field of the model field the
service's DomainError names, and nothing is written. The admin holds no rules and no locks.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import IntegrityError, models, router, transaction
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.text import capfirst
from import_export.admin import ExportMixin, ImportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ImportForm

from core.errors import DomainError, DomainErrors, integrity_error
from core.numbers import decimal_string
from core.spreadsheets import ServiceImportResource, export_resource

AUDIT_FIELDS = ("key", "version", "created_at", "created_by", "modified_at", "modified_by")
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


def number_display(field_name: str, description: str | None = None):
    """A list or read-only column of a decimal field as the API shows it (`20`, not `20.000000`;
    `0`, not `0E-10`): the admin's one formatting rule for numbers."""

    @admin.display(description=description or field_name.replace("_", " "), ordering=field_name)
    def show(model_admin, obj):
        return decimal_string(getattr(obj, field_name))

    show.__name__ = f"{field_name}_shown"
    return show


class NumberInput(forms.NumberInput):
    """A decimal input showing its value as the API does."""

    def format_value(self, value):
        if isinstance(value, Decimal):
            return decimal_string(value)
        return super().format_value(value)


# Every decimal field of a service admin or inline is edited in a NumberInput.
NUMBER_FIELDS = {models.DecimalField: {"widget": NumberInput(attrs={"step": "any"})}}


def positive_filter(field_name: str, title: str, parameter: str, positive: str, zero: str):
    """A list filter on a quantity: above zero (`positive`) or zero (`zero`)."""

    class PositiveFilter(admin.SimpleListFilter):
        def lookups(self, request, model_admin):
            return [("yes", positive), ("no", zero)]

        def queryset(self, request, queryset):
            if self.value() == "yes":
                return queryset.filter(**{f"{field_name}__gt": 0})
            if self.value() == "no":
                return queryset.filter(**{field_name: 0})
            return queryset

    PositiveFilter.title, PositiveFilter.parameter_name = title, parameter
    return PositiveFilter


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written elsewhere (a service, the protocol), only looked at here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DeleteRefused(Exception):
    """A delete service said no; raised out of the admin's transaction so it all rolls back."""


class ServiceModelForm(forms.ModelForm):
    """Validates by doing: the service creates or updates the object inside a savepoint, and its
    DomainError becomes form errors. `model_admin` and `request` are set by ServiceModelAdmin."""

    model_admin: ServiceModelAdmin
    request: Any
    service_errors: dict[str, Any] | None  # the errors at the end of clean()
    saved: models.Model | None  # the object as the service saved it

    def full_clean(self) -> None:
        # Django's model validation (the model's fields, constraints and uniqueness) is replaced
        # by the service's rules, which answer with the API's messages: what the form knows at
        # the end of clean() (its fields' errors and the service's) is all it answers. Model
        # validation still runs after clean() (no public hook skips it); its errors are dropped.
        self.service_errors = None
        self.saved = None
        super().full_clean()
        if self.service_errors is not None:  # clean() ran
            self.errors.clear()
            self.errors.update(self.service_errors)
        if self.saved is not None:
            # Model validation wrote the form's raw values over a copy (construct_instance);
            # the admin goes on with what the service stored (its defaults, its version).
            self.instance = self.saved

    def clean(self) -> dict[str, Any]:
        # ModelForm.clean() is not called: it turns on Django's uniqueness check.
        deleting = bool(self.cleaned_data.get("DELETE")) and self.instance.pk is not None
        if deleting:
            # An inline's row marked for deletion is deleted whatever its other fields hold:
            # only the delete service's answer counts (ServiceInlineFormSet.is_valid shows it).
            self.errors.clear()
        if not self.errors:  # field-level form errors stop us before the service
            try:
                with transaction.atomic(using=router.db_for_write(type(self.instance))):
                    if deleting:
                        user = self.request.user
                        self.model_admin.service_delete(key=self.instance.pk, user=user)
                    else:
                        self.saved = self._save_via_service()
                if self.saved is not None:
                    self.instance = copy.copy(self.saved)
            except (DomainError, DomainErrors) as err:
                add_domain_error(self, err)
            except IntegrityError as exc:
                # A concurrent writer beat the service's checks; the database constraint held.
                add_domain_error(self, integrity_error(exc))
        self.service_errors = {field: copy.copy(errors) for field, errors in self.errors.items()}
        return self.cleaned_data

    def _save_via_service(self) -> models.Model:
        user = self.request.user
        # An inline formset adds its own fields (the row's key, DELETE); its foreign key field
        # holds the parent object, which the service takes.
        own = {type(self.instance)._meta.pk.name, "DELETE"}
        if self.instance.pk is None:
            data = {name: self.cleaned_data[name] for name in self.fields if name not in own}
            return self.model_admin.service_create(user=user, data=data)
        data = self.model_admin.changes(
            self, {name: self.cleaned_data[name] for name in self.changed_data if name not in own}
        )
        if not data:
            return self.instance
        # The service locks and re-reads the row: a refused change leaves the form's instance
        # untouched.
        return self.model_admin.service_update(key=self.instance.pk, user=user, changes=data)


def add_domain_error(form: forms.Form, err: DomainError | DomainErrors) -> None:
    """Each broken rule on the form field of the same name (else on the form), named in the
    message by the field's label."""

    def label(field: str) -> str:
        found = form.fields.get(field)
        return str(found.label) if found is not None and found.label else field

    for each in err.errors:
        field = each.field if each.field in form.fields else None
        # A sentence of its own on the form, as Django's own messages are.
        form.add_error(field, capfirst(each.message(label)))


@admin.action(permissions=["delete"], description=django_delete_selected.short_description)
def delete_selected(modeladmin, request, queryset):
    """Django's delete action, undone whole (log entries included) when a service refuses. Named
    as Django's site-wide action: an action a ModelAdmin lists replaces the site's of that name."""
    try:
        with transaction.atomic(using=router.db_for_write(modeladmin.model)):
            return django_delete_selected(modeladmin, request, queryset)
    except DeleteRefused as refused:
        modeladmin.message_user(request, f"Nothing was deleted: {refused}", messages.ERROR)
        return None


class ServiceInlineFormSet(BaseInlineFormSet):
    def is_valid(self) -> bool:
        # Django's formset ignores the errors of a row marked for deletion; here such a row was
        # deleted while validating, so a refused delete must stop the page as any error does.
        if not super().is_valid():
            return False
        return not any(
            form.errors
            for form in self.forms
            if self.can_delete and form.cleaned_data.get("DELETE")
        )

    def clean(self) -> None:
        # No uniqueness check across the rows: the services decide (a taken line number pushes
        # the later lines, as in the API).
        pass


class ServiceInline(admin.TabularInline):
    """Rows saved and deleted through the services while the page validates, as ServiceModelForm
    does; the parent's ServiceModelAdmin.save_formset then writes nothing. Subclasses implement
    the service calls of ServiceModelAdmin."""

    form = ServiceModelForm
    formset = ServiceInlineFormSet
    formfield_overrides = NUMBER_FIELDS
    extra = 0

    def changes(self, form: ServiceModelForm, data: dict[str, Any]) -> dict[str, Any]:
        return data

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = type(
            formset.form.__name__, (formset.form,), {"model_admin": self, "request": request}
        )
        return formset


class ServiceModelAdmin(admin.ModelAdmin):
    """Subclasses implement the three service calls."""

    form = ServiceModelForm
    readonly_fields = AUDIT_FIELDS
    actions = (delete_selected,)
    formfield_overrides = NUMBER_FIELDS

    # The service calls. `data` and `changes` hold model field names, as the services take them.
    def service_create(self, *, user, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def service_update(self, *, key: int, user, changes: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def service_delete(self, *, key: int, user) -> None:
        raise NotImplementedError

    def changes(self, form: ServiceModelForm, data: dict[str, Any]) -> dict[str, Any]:
        """The changed fields of an update, as the update service takes them (a PATCH body)."""
        return data

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"model_admin": self, "request": request})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method in _SAFE_METHODS:
            return super().changeform_view(request, object_id, form_url, extra_context)
        with transaction.atomic(using=router.db_for_write(self.model)):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if not getattr(request, "saved_via_service", False):
                # The form ran the service but the page is shown again (an inline was invalid).
                transaction.set_rollback(True)
        return response

    def save_model(self, request, obj, form, change):
        # The form's validation already saved it through the service.
        request.saved_via_service = True

    def save_formset(self, request, form, formset, change):
        if not issubclass(formset.form, ServiceModelForm):
            return super().save_formset(request, form, formset, change)
        # Its rows were written through the services while validating: only say what changed
        # (the change message reads these, as formset.save() would set them).
        deleted = formset.deleted_forms
        kept = [each for each in formset.forms if each not in deleted and each.has_changed()]
        formset.deleted_objects = [each.instance for each in deleted]
        formset.new_objects = [each.instance for each in kept if each in formset.extra_forms]
        formset.changed_objects = [
            (each.instance, each.changed_data) for each in kept if each in formset.initial_forms
        ]
        return None

    # Deletes.
    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Django asks for the delete permission of protected objects too (the read-only ledger
        # has none), and a lacking permission hides the list of what still uses the object:
        # only what would be deleted needs it.
        deleting = {str(plural) for plural in model_count}
        perms_needed = {
            name
            for name in perms_needed
            if any(
                str(model._meta.verbose_name) == str(name)
                and str(model._meta.verbose_name_plural) in deleting
                for model in apps.get_models()
            )
        }
        if request.POST.get("post"):
            # Confirmed: the delete service decides what is still referenced, not the admin.
            protected = []
        return deleted, model_count, perms_needed, protected

    def delete_model(self, request, obj):
        try:
            self.service_delete(key=obj.pk, user=request.user)
        except (DomainError, DomainErrors) as err:
            raise DeleteRefused(str(err)) from err

    def delete_queryset(self, request, queryset):
        # All or nothing: the first refusal undoes the deletes before it.
        for obj in queryset.order_by("pk"):
            self.delete_model(request, obj)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            with transaction.atomic(using=router.db_for_write(self.model)):
                return super().delete_view(request, object_id, extra_context)
        except DeleteRefused as refused:
            self.message_user(request, f"Nothing was deleted: {refused}", messages.ERROR)
            opts = self.model._meta
            url = reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change",
                args=[object_id],
                current_app=self.admin_site.name,
            )
            return HttpResponseRedirect(url)


class SpreadsheetExportMixin(ExportMixin):
    """Export of the list as filtered and searched to CSV or XLSX, every column as the API
    shows it (core.spreadsheets). Needs the model's view permission."""

    export_formats = (CSV, XLSX)

    def get_export_resource_classes(self, request):
        return [export_resource(self.model)]


class SpreadsheetImportForm(ImportForm):
    """The upload, refused above settings.IMPORT_MAX_BYTES before any row is read."""

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {filesizeformat(upload.size)}; "
                f"an import takes at most {filesizeformat(settings.IMPORT_MAX_BYTES)}",
                code="too_large",
            )
        return upload


class SpreadsheetImportExportMixin(ImportMixin, SpreadsheetExportMixin):
    """Import too, through `import_resource` (a ServiceImportResource): a preview of every
    row's errors, then one all-or-nothing transaction. Needs the model's add permission."""

    import_formats = (CSV, XLSX)
    import_form_class = SpreadsheetImportForm
    import_resource: type[ServiceImportResource]
    import_export_change_list_template = "admin/import_export/change_list_import_export.html"

    def get_import_resource_classes(self, request):
        return [self.import_resource]

    def get_import_data_kwargs(self, **kwargs):
        # The confirmed import writes all rows or none: a row refused now (the data changed
        # since the preview) rolls the others back.
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def process_import(self, request, **kwargs):
        # The preview's upload is removed once imported: a second (or stale) confirm finds no
        # file, and is sent back to upload it again.
        try:
            return super().process_import(request, **kwargs)
        except FileNotFoundError:
            self.message_user(
                request,
                "This upload was already imported or has expired; upload it again",
                messages.ERROR,
            )
            opts = self.model._meta
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_import"))

    def process_result(self, result, request):
        if not (result.has_errors() or result.has_validation_errors()):
            return super().process_result(result, request)
        refused = [
            f"row {row.number}: "
            + "; ".join(
                f"{column}: {' '.join(errors)}" if column != NON_FIELD_ERRORS else " ".join(errors)
                for column, errors in row.error_dict.items()
            )
            for row in result.invalid_rows[:5]
        ]
        refused += [str(error.error) for error in result.base_errors[:5]]
        refused += [f"row {line}: {errors[0].error}" for line, errors in result.row_errors()[:5]]
        self.message_user(request, f"Nothing was imported: {'; '.join(refused)}", messages.ERROR)
        opts = self.model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        return HttpResponseRedirect(url)
