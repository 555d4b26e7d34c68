"""Django model permissions decide every method, reads included (view permission)."""

from django.db import models
from rest_framework.permissions import DjangoModelPermissions

_VIEW = ["%(app_label)s.view_%(model_name)s"]


class ModelPermissions(DjangoModelPermissions):
    perms_map = {**DjangoModelPermissions.perms_map, "GET": _VIEW, "OPTIONS": _VIEW, "HEAD": _VIEW}

    def has_permission(self, request, view):
        # Workflows and services name the permissions they need themselves.
        required = getattr(view, "required_permissions", None)
        queryset = getattr(view, "queryset", None)
        if required is None and queryset is None:
            return super().has_permission(request, view)
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if required is not None:
            return user.has_perms(required(request) if callable(required) else required)
        # Only the model matters here: the class's queryset, without building the view's.
        return user.has_perms(self.get_required_permissions(request.method, queryset.model))


def permission_for(model: type[models.Model]) -> str:
    """The view permission reading `model` needs, in REST and GraphQL alike: its own, or that of
    the model it names as its `permission_model` (a requirement is read as part of its run)."""
    model = getattr(model, "permission_model", model)
    return f"{model._meta.app_label}.view_{model._meta.model_name}"
