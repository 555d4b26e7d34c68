"""The query service, `POST /services/core/query` (contract section 9).

How to make an object queryable
-------------------------------
Name the queryset it is read from in the object's declaration (its app's `api/objects.py`)::

    declare("inventory-control/part-inventory", PartInventorySerializer,
            query=selectors.part_inventory_list())

The object's spec (config.api.spec, built at startup) gives its name and its fields; a user needs
the model's Django view permission to query it. Nothing else is declared: the query reads exactly
what GET renders, rendered by the same serializer fields:

- a plain field is queryable when its `source` is a model field (dotted sources such as
  `part.unit_of_measure` follow foreign keys) or an annotation declared with the object
  (`declare(..., query=..., annotations={"name": expression})`);
  `key`, `id` (KeyField / KeyIdField) and `href` come from the base serializer;
- a `GroupSerializer` (source="*") gives `group.member` paths (`tracking.enableSerialNo`), and the
  audit group gives `audit.createdDateTime`, `audit.createdBy`, `audit.createdByUser.id`...;
- a `RefField` gives `ref.key`, `ref.id`, `ref.href`, its `extra` members, and every field the
  referenced object's own registered serializer exposes (`component.itemType`, `part.name`,
  `partInventory.part.id`). Members beyond key/id/href/extra need view permission on the
  referenced model too. A callable extra maps to the referenced object's one field of the same
  name (`component.standardCost` is the item's `purchasing.standardCost`);
- a list of nested objects over a reverse foreign key (`kitComponents`) cannot be selected, ordered
  or aggregated; `$has` looks inside it: `{"$has": {"kitComponents": "12"}}` (an element's key) or
  `{"$has": {"kitComponents.component.id": "Prnt_Paper"}}` (an element whose field equals);
- write-only fields are never queryable; `href` can be selected but not filtered or ordered;
- a read-only field computed in Python (a property, a SerializerMethodField) is queryable only
  when an ORM expression is declared for it, in one of three ways, first wins:
    1. in the declaration: `expressions={"trackingType": selectors.item_tracking_type()}`
       (keys are API paths, so `"tracking.x"` reaches a group member);
    2. on the serializer (or group serializer) class: `query_expressions = {"etag": ...}`;
    3. on a custom serializer field class: `query_expression = ...`.
  An expression is an unresolved ORM expression (F, Q, Case/When, functions), an ORM path, or the
  name of an annotation declared with the object; wrap it in
  `Computed(expression, kind="boolean")` when the field class does not tell the kind of value.
  Expressions also work through references (they are re-rooted: `component.trackingType`); a
  declared annotation only works on the object's own queries.

Semantics worth knowing (the tests pin each of them):
- every $not… operator and $ne is the exact complement of its positive form, so a null matches
  it; positive operators never match a null (`{"$eq": {"f": null}}` finds the nulls);
- strings compare and sort by code point on every database; `caseSensitiveComparison: false`
  compares lower-cased values (and `$in` case-insensitively);
- a date value names a period (a macro its days, a date its day, a date-time its second):
  `$eq` is "within", `$lt` "before its start", `$lte` "before its end", `$gt` "after its end",
  `$gte` "from its start", `$between` from the first period's start to the second's end;
- `filterExpression` must mention every filter (an unused one is a 400);
- aggregates (`count:`, `sum:`, `avg:`, `min:`, `max:`) group by the plain fields beside them;
  without plain fields the answer is one row of totals. An aggregating query orders by its
  grouped fields and aggregate keys only, by the grouped fields when orderBy is empty;
- without orderBy rows come by key; ties always break by key (or the grouped fields); nulls sort
  as the lowest value.
"""

from config.api.query.registry import Computed, Kind, registry

register = registry.register

__all__ = ["Computed", "Kind", "register", "registry"]
