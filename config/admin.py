"""The admin's shared base: every save and delete goes through the app's services.

A rule broken in the admin shows as a form error on the field the service names (its ApiError
`target`, an API name such as "numberOfUnits" or "tracking.enableSerialNo", mapped to the model
field by the object spec), and nothing is written. The admin holds no rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.db import IntegrityError, models, router, transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from rest_framework import serializers

from config.api import spec
from config.api.errors import ApiError
from config.api.exceptions import integrity_error

AUDIT_FIELDS = ("key", "version", "created_at", "created_by", "modified_at", "modified_by")
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


class DeleteRefused(Exception):
    """A delete service said no; raised out of the admin's transaction so it all rolls back."""


class ServiceModelForm(forms.ModelForm):
    """Validates by doing: the service creates or updates the object inside a savepoint, and its
    ApiError becomes form errors. `model_admin` and `request` are set by ServiceModelAdmin."""

    model_admin: ServiceModelAdmin
    request: Any

    def _post_clean(self) -> None:
        # Django's model validation (constraints, uniqueness) is replaced by the service's rules,
        # which answer with the API's messages. Field-level form errors stop us before the service.
        if self._errors:
            return
        try:
            with transaction.atomic(using=router.db_for_write(self._meta.model)):
                self.instance = self._save_via_service()
        except ApiError as err:
            self._add_api_error(err)
        except IntegrityError as exc:
            # A concurrent writer beat the service's checks; the database constraint held.
            self._add_api_error(integrity_error(exc))

    def _save_via_service(self) -> models.Model:
        user = self.request.user
        if self.instance.pk is None:
            data = {name: self.cleaned_data[name] for name in self.fields}
            return self.model_admin.service_create(user=user, data=data)
        data = self.model_admin.changes(
            self, {name: self.cleaned_data[name] for name in self.changed_data}
        )
        if not data:
            return self.instance
        # Work on a locked fresh copy: a refused change leaves the form's instance untouched.
        model = type(self.instance)
        if self.model_admin.write_lock is not None:
            type(self.model_admin).write_lock()  # before the row lock, as the API does
        locked = model._default_manager.select_for_update().get(pk=self.instance.pk)
        return self.model_admin.service_update(instance=locked, user=user, data=data)

    def _add_api_error(self, err: ApiError) -> None:
        for detail in err.details or [err]:
            field = spec.model_field(self.model_admin.api_serializer, detail.target or "")
            self.add_error(field if field in self.fields else None, detail.message)


class ServiceModelAdmin(admin.ModelAdmin):
    """Subclasses name the object's API serializer and implement the three service calls."""

    form = ServiceModelForm
    api_serializer: type[serializers.Serializer]
    # See ObjectViewSet.write_lock.
    write_lock: Callable[[], None] | None = None
    readonly_fields = AUDIT_FIELDS

    # The service calls. `data` holds model field names, as the services take them.
    def service_create(self, *, user, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def service_update(self, *, instance, user, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def service_delete(self, *, instance, user) -> None:
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
            if not getattr(request, "_saved_via_service", False):
                # The form ran the service but the page is shown again (an inline was invalid).
                transaction.set_rollback(True)
        return response

    def save_model(self, request, obj, form, change):
        # The form's validation already saved it through the service.
        request._saved_via_service = True

    # Deletes.
    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if request.POST.get("post"):
            # Confirmed: the delete service decides what is still referenced, not the admin.
            protected = []
        return deleted, model_count, perms_needed, protected

    def delete_model(self, request, obj):
        try:
            self.service_delete(instance=obj, user=request.user)
        except ApiError as err:
            raise DeleteRefused(err.message) from err

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

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            _, name, description = actions["delete_selected"]
            actions["delete_selected"] = (delete_selected_via_services, name, description)
        return actions


def delete_selected_via_services(modeladmin, request, queryset):
    """Django's delete action, undone whole (log entries included) when a service refuses."""
    try:
        with transaction.atomic(using=router.db_for_write(modeladmin.model)):
            return django_delete_selected(modeladmin, request, queryset)
    except DeleteRefused as refused:
        modeladmin.message_user(request, f"Nothing was deleted: {refused}", messages.ERROR)
        return None
