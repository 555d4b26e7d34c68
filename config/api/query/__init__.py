"""The query service, `POST /services/core/query` (contract section 9).

An object is queryable when its declaration (its app's `api/objects.py`) names the queryset it
is read from: `declare(name, Serializer, query=selectors.part_inventory_list())`. The query
reads exactly what GET renders, rendered by the same serializer fields (registry.py derives the
columns from the object spec); a user needs the model's view permission, and a member read
beyond what a reference renders (`component.itemType`) the referenced model's too.

A read-only member the model does not store (a property, a SerializerMethodField) is queryable
only with an ORM expression in the declaration, by API path:
`expressions={"trackingType": selectors.item_tracking_type()}`: an unresolved expression (F, Q,
Case/When...) or an ORM path; wrap it in `Computed(expression, kind="boolean")` when the field
class does not tell the kind of value.
Expressions are re-rooted through references (`component.trackingType`).

parse.py validates a request, build.py turns it into ORM filters, run.py counts and pages it,
shapes.py runs it from the SQL of the first request of its shape.
"""

from config.api.query.registry import Computed, Kind, registry

__all__ = ["Computed", "Kind", "registry"]
