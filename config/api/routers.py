"""`/objects/{application}/{object}` and `/objects/{application}/{object}/{key}`, with or without
a trailing slash."""

from rest_framework.routers import SimpleRouter

from config.api import identity


class ObjectRouter(SimpleRouter):
    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"

    def register(self, viewset, basename=None):
        """The viewset's object at its path, as the object spec names it."""
        object_name = identity.object_name(viewset.queryset.model)
        basename = basename or object_name.replace("/", "-")
        super().register(f"objects/{object_name}", viewset, basename=basename)
