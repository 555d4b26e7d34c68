"""`/objects/{application}/{object}` and `/objects/{application}/{object}/{key}`, with or without
a trailing slash. The collection also takes the batch PATCH (contract 13.3): an array of changes,
each naming its key."""

from rest_framework.routers import Route, SimpleRouter

from config.api import identity


def _with_batch_patch(route):
    if not (isinstance(route, Route) and route.mapping.get("post") == "create"):
        return route
    mapping = {**route.mapping, "patch": "partial_update_batch"}
    return Route(route.url, mapping, route.name, route.detail, route.initkwargs)


class ObjectRouter(SimpleRouter):
    routes = [_with_batch_patch(route) for route in SimpleRouter.routes]

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"

    def register(self, viewset, basename=None):
        """The viewset's object at its path, as the object spec names it."""
        object_name = identity.object_name(viewset.queryset.model)
        basename = basename or object_name.replace("/", "-")
        super().register(f"objects/{object_name}", viewset, basename=basename)
