"""POST /services/core/query (contract 9): every malformed query is a 400 naming the problem."""

import pytest

from tests.support.query import INACTIVE, INK, ITEM, KIT_1, LINE, base, error, post

# --- errors -----------------------------------------------------------------------------------

OPERATORS = (
    "$eq, $ne, $in, $notIn, $lt, $lte, $gt, $gte, $between, $notBetween, $contains, $notContains, "
    "$startsWith, $notStartsWith, $endsWith, $notEndsWith, $has"
)
ERRORS = [
    # The object and the fields.
    (
        {"fields": ["id"]},
        "KS-4004",
        "/object",
        "Invalid query: object is required, such as inventory-control/item",
    ),
    (
        base(object=5),
        "KS-4004",
        "/object",
        "Invalid query: object must be a string, such as inventory-control/item",
    ),
    (
        base(object="inventory-control/bogus"),
        "REST-1043",
        "inventory-control/bogus",
        "inventory-control/bogus is not a valid field",
    ),
    (
        {"object": ITEM},
        "KS-4004",
        "/fields",
        'Invalid query: fields is required: list the fields to return, like ["key"]',
    ),
    (
        base(fields=[]),
        "KS-4004",
        "/fields",
        'Invalid query: fields is required: list the fields to return, like ["key"]',
    ),
    (
        base(fields="id"),
        "KS-4004",
        "/fields",
        "Invalid query: fields must be an array of field names",
    ),
    (
        base(fields=["id", 3]),
        "KS-4004",
        "/fields/1",
        "Invalid query: fields must be field names (strings)",
    ),
    (
        base(fields=["*"]),
        "KS-4004",
        "/fields/0",
        "Invalid query: * is not allowed: list the fields to return",
    ),
    (base(fields=["id", "bogus"]), "REST-1043", "bogus", "bogus is not a valid field"),
    (
        base(fields=["tracking.bogus"]),
        "REST-1043",
        "tracking.bogus",
        "tracking.bogus is not a valid field",
    ),
    (
        base(object=LINE, fields=["kit.bogus"]),
        "REST-1043",
        "kit.bogus",
        "kit.bogus is not a valid field",
    ),
    (
        base(object=LINE, fields=["component.kit.id"]),
        "REST-1043",
        "component.kit.id",
        "component.kit.id is not a valid field",
    ),
    (
        base(fields=["audit.createdByUser.email"]),
        "REST-1043",
        "audit.createdByUser.email",
        "audit.createdByUser.email is not a valid field",
    ),
    (base(fields=[""]), "REST-1043", "", " is not a valid field"),
    (
        base(object=LINE, fields=["kit"]),
        "KS-4004",
        "kit",
        "Invalid query: kit is a reference: name a member such as kit.id",
    ),
    (
        base(fields=["purchasing"]),
        "KS-4004",
        "purchasing",
        "Invalid query: purchasing is a group: name its members (purchasing.standardCost)",
    ),
    (
        base(fields=["kitComponents"]),
        "KS-4004",
        "/fields/0",
        "Invalid query: kitComponents is a list: it cannot be selected, filter it with $has",
    ),
    (
        base(fields=["kitComponents.key"]),
        "KS-4004",
        "/fields/0",
        "Invalid query: kitComponents.key is a list: it cannot be selected, filter it with $has",
    ),
    (
        base(fields=["total:key"]),
        "KS-4004",
        "/fields/0",
        'Invalid query: "total" is not an aggregate: use count, sum, avg, min or max',
    ),
    (base(fields=["count:bogus"]), "REST-1043", "bogus", "bogus is not a valid field"),
    (
        base(fields=["sum:name"]),
        "KS-4004",
        "/fields/0",
        "Invalid query: sum:name: sum does not apply to name, a string field",
    ),
    (
        base(fields=["max:tracking.enableSerialNo"]),
        "KS-4004",
        "/fields/0",
        "Invalid query: max:tracking.enableSerialNo: max does not apply to "
        "tracking.enableSerialNo, a boolean field",
    ),
    (
        base(fields=["count:href"]),
        "KS-4004",
        "/fields/0",
        "Invalid query: count:href: count does not apply to href, a href field",
    ),
    # Filters.
    (base(filters={}), "KS-4004", "/filters", "Invalid query: filters must be an array"),
    (
        base(filters=[KIT_1, 1]),
        "KS-4004",
        "/filters/1",
        "Invalid query: each filter is an object with one operator naming one field, "
        'like {"$eq": {"id": "A"}}',
    ),
    (
        base(filters=[{"$eq": {"id": "a"}, "$ne": {"id": "b"}}]),
        "KS-4004",
        "/filters/0",
        "Invalid query: each filter is an object with one operator naming one field, "
        'like {"$eq": {"id": "A"}}',
    ),
    (
        base(filters=[{"$eq": {"id": "a", "name": "b"}}]),
        "KS-4004",
        "/filters/0/$eq",
        "Invalid query: each filter is an object with one operator naming one field, "
        'like {"$eq": {"id": "A"}}',
    ),
    (
        base(filters=[{"$eq": "a"}]),
        "KS-4004",
        "/filters/0/$eq",
        "Invalid query: each filter is an object with one operator naming one field, "
        'like {"$eq": {"id": "A"}}',
    ),
    (
        base(filters=[{"$like": {"name": "a%"}}]),
        "KS-4007",
        "/filters/0/$like/name",
        "Invalid query: $like cannot be used on name: it is not an operator: use one "
        f"of {OPERATORS}",
    ),
    (base(filters=[{"$eq": {"bogus": 1}}]), "REST-1043", "bogus", "bogus is not a valid field"),
    (
        base(filters=[{"$eq": {"href": "/objects/inventory-control/item/1"}}]),
        "KS-4007",
        "/filters/0/$eq/href",
        "Invalid query: $eq cannot be used on href: href can only be selected, not filtered",
    ),
    (
        base(object=LINE, filters=[{"$eq": {"kit.href": "x"}}]),
        "KS-4007",
        "/filters/0/$eq/kit.href",
        "Invalid query: $eq cannot be used on kit.href: href can only be selected, not filtered",
    ),
    (
        base(filters=[{"$contains": {"purchasing.standardCost": "1"}}]),
        "KS-4007",
        "/filters/0/$contains/purchasing.standardCost",
        "Invalid query: $contains cannot be used on purchasing.standardCost: "
        "purchasing.standardCost is a number field; $contains works on string fields",
    ),
    (
        base(filters=[{"$lt": {"tracking.enableSerialNo": True}}]),
        "KS-4007",
        "/filters/0/$lt/tracking.enableSerialNo",
        "Invalid query: $lt cannot be used on tracking.enableSerialNo: tracking.enableSerialNo "
        "is a boolean field; $lt works on date, datetime, integer, key, number or string fields",
    ),
    (
        base(filters=[{"$startsWith": {"audit.createdDateTime": "2024"}}]),
        "KS-4007",
        "/filters/0/$startsWith/audit.createdDateTime",
        "Invalid query: $startsWith cannot be used on audit.createdDateTime: audit.createdDateTime "
        "is a datetime field; $startsWith works on string fields",
    ),
    (
        base(filters=[{"$has": {"name": "x"}}]),
        "KS-4007",
        "/filters/0/$has/name",
        "Invalid query: $has cannot be used on name: name is not a list",
    ),
    (
        base(filters=[{"$eq": {"kitComponents": "1"}}]),
        "KS-4007",
        "/filters/0/$eq/kitComponents",
        "Invalid query: $eq cannot be used on kitComponents: kitComponents is a list: "
        "only $has looks inside it",
    ),
    (
        base(filters=[{"$has": {"kitComponents.bogus": "1"}}]),
        "REST-1043",
        "kitComponents.bogus",
        "kitComponents.bogus is not a valid field",
    ),
    (
        base(filters=[{"$has": {"kitComponents.href": "1"}}]),
        "KS-4007",
        "/filters/0/$has/kitComponents.href",
        "Invalid query: $has cannot be used on kitComponents.href: href cannot be compared "
        "inside the list",
    ),
    # Values.
    (
        base(filters=[{"$eq": {"name": 5}}]),
        "KS-4008",
        "/filters/0/$eq/name",
        "Invalid query: $eq on name takes a string or null, not 5",
    ),
    (
        base(filters=[{"$lt": {"name": None}}]),
        "KS-4008",
        "/filters/0/$lt/name",
        "Invalid query: $lt on name takes a string, not null",
    ),
    (
        base(filters=[{"$contains": {"name": ["a"]}}]),
        "KS-4008",
        "/filters/0/$contains/name",
        'Invalid query: $contains on name takes a string, not ["a"]',
    ),
    (
        base(filters=[{"$in": {"name": "Tape"}}]),
        "KS-4008",
        "/filters/0/$in/name",
        'Invalid query: $in on name takes an array of values, each a string, not "Tape"',
    ),
    (
        base(filters=[{"$notIn": {"name": ["a", None]}}]),
        "KS-4008",
        "/filters/0/$notIn/name",
        'Invalid query: $notIn on name takes an array of values, each a string, not ["a", null]',
    ),
    (
        base(filters=[{"$between": {"purchasing.standardCost": [1]}}]),
        "KS-4008",
        "/filters/0/$between/purchasing.standardCost",
        "Invalid query: $between on purchasing.standardCost takes [from, to]: two values, "
        "each a number, not [1]",
    ),
    (
        base(filters=[{"$notBetween": {"purchasing.standardCost": [1, "x"]}}]),
        "KS-4008",
        "/filters/0/$notBetween/purchasing.standardCost",
        "Invalid query: $notBetween on purchasing.standardCost takes [from, to]: two "
        'values, each a number, not [1, "x"]',
    ),
    (
        base(filters=[{"$gt": {"purchasing.standardCost": "NaN"}}]),
        "KS-4008",
        "/filters/0/$gt/purchasing.standardCost",
        'Invalid query: $gt on purchasing.standardCost takes a number, not "NaN"',
    ),
    (
        base(filters=[{"$gt": {"purchasing.standardCost": True}}]),
        "KS-4008",
        "/filters/0/$gt/purchasing.standardCost",
        "Invalid query: $gt on purchasing.standardCost takes a number, not true",
    ),
    (
        base(filters=[{"$eq": {"tracking.enableSerialNo": "true"}}]),
        "KS-4008",
        "/filters/0/$eq/tracking.enableSerialNo",
        'Invalid query: $eq on tracking.enableSerialNo takes true or false or null, not "true"',
    ),
    (
        base(filters=[{"$eq": {"key": "abc"}}]),
        "KS-4008",
        "/filters/0/$eq/key",
        'Invalid query: $eq on key takes a key (a string of digits) or null, not "abc"',
    ),
    (
        base(filters=[{"$gt": {"key": -1}}]),
        "KS-4008",
        "/filters/0/$gt/key",
        "Invalid query: $gt on key takes a key (a string of digits), not -1",
    ),
    (
        base(object=LINE, filters=[{"$eq": {"lineNumber": 1.5}}]),
        "KS-4008",
        "/filters/0/$eq/lineNumber",
        "Invalid query: $eq on lineNumber takes an integer or null, not 1.5",
    ),
    (
        base(filters=[{"$eq": {"audit.createdDateTime": "someday"}}]),
        "KS-4008",
        "/filters/0/$eq/audit.createdDateTime",
        "Invalid query: $eq on audit.createdDateTime takes a date-time (ISO 8601), a "
        'date or a date macro or null, not "someday"',
    ),
    (
        base(filters=[{"$lt": {"audit.createdDateTime": "2024-13-01"}}]),
        "KS-4008",
        "/filters/0/$lt/audit.createdDateTime",
        "Invalid query: $lt on audit.createdDateTime takes a date-time (ISO 8601), a "
        'date or a date macro, not "2024-13-01"',
    ),
    (
        base(filters=[{"$in": {"name": "y" * 100}}]),
        "KS-4008",
        "/filters/0/$in/name",
        'Invalid query: $in on name takes an array of values, each a string, not "'
        + "y" * 76
        + "...",
    ),
    # filterExpression.
    (
        base(filters=[KIT_1, INK], filterExpression="1 and"),
        "KS-4009",
        "/filterExpression",
        'Invalid query: filterExpression "1 and" is invalid: expected a filter number '
        "or '(' at position 6, found the end",
    ),
    (
        base(filters=[KIT_1, INK], filterExpression="(1 or 2"),
        "KS-4009",
        "/filterExpression",
        "Invalid query: filterExpression \"(1 or 2\" is invalid: expected ')' to close "
        "'(' at position 1, found the end at position 8",
    ),
    (
        base(filters=[KIT_1, INK], filterExpression="1 or 3"),
        "KS-4009",
        "/filterExpression",
        'Invalid query: filterExpression "1 or 3" is invalid: filter 3 at position 6 '
        "does not exist: there are 2 filters",
    ),
    (
        base(filters=[KIT_1, INK, INACTIVE], filterExpression="1 or 2"),
        "KS-4009",
        "/filterExpression",
        'Invalid query: filterExpression "1 or 2" is invalid: filter 3 not used: every '
        "filter must appear in the expression",
    ),
    (
        base(filterExpression="1"),
        "KS-4009",
        "/filterExpression",
        'Invalid query: filterExpression "1" is invalid: filter 1 at position 1 does '
        "not exist: there are no filters",
    ),
    (
        base(filters=[KIT_1], filterExpression="1 nand 1"),
        "KS-4009",
        "/filterExpression",
        "Invalid query: filterExpression \"1 nand 1\" is invalid: expected 'and', 'or' "
        "or the end at position 3, found 'nand'",
    ),
    (
        base(filters=[KIT_1], filterExpression=1),
        "KS-4004",
        "/filterExpression",
        'Invalid query: filterExpression must be a string, like "1 and 2"',
    ),
    # filterParameters.
    (
        base(filterParameters="yes"),
        "KS-4004",
        "/filterParameters",
        "Invalid query: filterParameters must be an object",
    ),
    (
        base(filterParameters={"caseSensitiveComparison": "no"}),
        "KS-4004",
        "/filterParameters/caseSensitiveComparison",
        "Invalid query: caseSensitiveComparison must be true or false",
    ),
    (
        base(filterParameters={"includePrivate": 1}),
        "KS-4004",
        "/filterParameters/includePrivate",
        "Invalid query: includePrivate must be true or false",
    ),
    (
        base(filterParameters={"asOfDate": "15/05/2024"}),
        "KS-4004",
        "/filterParameters/asOfDate",
        "Invalid query: asOfDate must be a date (YYYY-MM-DD)",
    ),
    (
        base(filterParameters={"asOfDate": "2024-02-30"}),
        "KS-4004",
        "/filterParameters/asOfDate",
        "Invalid query: asOfDate must be a date (YYYY-MM-DD)",
    ),
    # orderBy.
    (
        base(orderBy={"id": "asc"}),
        "KS-4004",
        "/orderBy",
        'Invalid query: orderBy must be an array like [{"id": "asc"}]',
    ),
    (
        base(orderBy=[{"id": "up"}]),
        "KS-4004",
        "/orderBy/0",
        'Invalid query: each orderBy entry is {"<field>": "asc"} or {"<field>": "desc"}',
    ),
    (
        base(orderBy=[{"id": "asc", "name": "asc"}]),
        "KS-4004",
        "/orderBy/0",
        'Invalid query: each orderBy entry is {"<field>": "asc"} or {"<field>": "desc"}',
    ),
    (
        base(orderBy=["id"]),
        "KS-4004",
        "/orderBy/0",
        'Invalid query: each orderBy entry is {"<field>": "asc"} or {"<field>": "desc"}',
    ),
    (base(orderBy=[{"bogus": "asc"}]), "REST-1043", "bogus", "bogus is not a valid field"),
    (
        base(orderBy=[{"href": "asc"}]),
        "KS-4004",
        "/orderBy/0",
        "Invalid query: href cannot be used in orderBy: it can only be selected",
    ),
    (
        base(orderBy=[{"kitComponents.numberOfUnits": "asc"}]),
        "KS-4004",
        "/orderBy/0",
        "Invalid query: kitComponents.numberOfUnits is a list: it cannot order the rows",
    ),
    (
        base(orderBy=[{"count:key": "asc"}]),
        "REST-1043",
        "count:key",
        "count:key is not a valid field",
    ),
    (
        base(fields=["itemType", "count:key"], orderBy=[{"name": "asc"}]),
        "KS-4004",
        "/orderBy/0",
        "Invalid query: name is not among the fields grouped by: an aggregating query "
        "orders by its selected fields and aggregates only",
    ),
    # Sizes and values no database would take.
    (
        base(fields=[":key"]),
        "KS-4004",
        "/fields/0",
        'Invalid query: "" is not an aggregate: use count, sum, avg, min or max',
    ),
    (
        base(fields=["id"] * 201),
        "KS-4004",
        "/fields",
        "Invalid query: a query returns at most 200 fields",
    ),
    (
        base(filters=[KIT_1] * 101),
        "KS-4004",
        "/filters",
        "Invalid query: a query takes at most 100 filters",
    ),
    (
        base(orderBy=[{"id": "asc"}] * 21),
        "KS-4004",
        "/orderBy",
        "Invalid query: orderBy takes at most 20 entries",
    ),
    (
        base(filters=[{"$in": {"name": ["a"] * 300}}, {"$notIn": {"id": ["b"] * 201}}]),
        "KS-4004",
        "/filters/1/$notIn/id",
        "Invalid query: a query compares at most 500 values in all its filters",
    ),
    (
        base(filters=[{"$in": {"audit.createdDateTime": ["today"] * 101}}]),
        "KS-4004",
        "/filters/0/$in/audit.createdDateTime",
        "Invalid query: a query compares at most 100 dates in lists",
    ),
    (
        base(filters=[{"$eq": {"name": "a\x00b"}}]),
        "KS-4008",
        "/filters/0/$eq/name",
        'Invalid query: $eq on name takes a string or null, not "a\\u0000b"',
    ),
    (
        base(filters=[{"$eq": {"key": 2**63}}]),
        "KS-4008",
        "/filters/0/$eq/key",
        "Invalid query: $eq on key takes a key (a string of digits) or null, "
        "not 9223372036854775808",
    ),
    (
        base(object=LINE, filters=[{"$gt": {"lineNumber": 10**30}}]),
        "KS-4008",
        "/filters/0/$gt/lineNumber",
        "Invalid query: $gt on lineNumber takes an integer, not 1000000000000000000000000000000",
    ),
    (
        base(filters=[{"$eq": {"audit.createdDateTime": "9999-12-31"}}]),
        "KS-4008",
        "/filters/0/$eq/audit.createdDateTime",
        "Invalid query: $eq on audit.createdDateTime takes a date-time (ISO 8601), a date or a "
        'date macro or null, not "9999-12-31"',
    ),
    (
        base(
            filters=[{"$eq": {"audit.createdDateTime": "yesterday"}}],
            filterParameters={"asOfDate": "0001-01-01"},
        ),
        "KS-4008",
        "/filters/0/$eq/audit.createdDateTime",
        "Invalid query: $eq on audit.createdDateTime takes a date-time (ISO 8601), a date or a "
        'date macro or null, not "yesterday"',
    ),
    (
        base(filters=[KIT_1], filterExpression="(" * 33 + "1" + ")" * 33),
        "KS-4009",
        "/filterExpression",
        f'Invalid query: filterExpression "{"(" * 33}1{")" * 33}" is invalid: parentheses nested '
        "deeper than 32 levels at position 33",
    ),
    # Paging.
    (
        base(start=0),
        "KS-4003",
        "start",
        "Query parameter start is invalid: must be an integer at least 1",
    ),
    (
        base(size=4001),
        "KS-4003",
        "size",
        "Query parameter size is invalid: must be an integer between 1 and 4000",
    ),
    (
        base(size=True),
        "KS-4003",
        "size",
        "Query parameter size is invalid: must be an integer between 1 and 4000",
    ),
    (
        base(size="ten"),
        "KS-4003",
        "size",
        "Query parameter size is invalid: must be an integer between 1 and 4000",
    ),
]


@pytest.mark.parametrize(("body", "error_id", "target", "message"), ERRORS)
def test_every_malformed_query_is_a_400_naming_the_problem(
    forced_api, catalogue, body, error_id, target, message
):
    response = post(forced_api, body)
    assert error(response) == (400, error_id, target, message)
