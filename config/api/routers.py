"""`/objects/{application}/{object}` and `/objects/{application}/{object}/{key}`, with or without
a trailing slash."""

from rest_framework.routers import SimpleRouter


class ObjectRouter(SimpleRouter):
    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"

    def register(self, object_name, viewset, basename=None):
        basename = basename or object_name.replace("/", "-")
        super().register(f"objects/{object_name}", viewset, basename=basename)
