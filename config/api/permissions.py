"""Django model permissions decide every method, reads included (view permission)."""

from rest_framework.permissions import DjangoModelPermissions


class ModelPermissions(DjangoModelPermissions):
    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view):
        # Workflows and services name the permissions they need themselves.
        required = getattr(view, "required_permissions", None)
        if required is not None:
            user = request.user
            if not (user and user.is_authenticated):
                return False
            return user.has_perms(required(request) if callable(required) else required)
        queryset = getattr(view, "queryset", None)
        if queryset is None:
            return super().has_permission(request, view)
        # Only the model matters here: the class's queryset, without building the view's.
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return user.has_perms(self.get_required_permissions(request.method, queryset.model))
