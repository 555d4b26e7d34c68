"""The scenarios wrk drives, each as the request every server that can serve it answers: Kitsmith
("service"), the floor (tests/perf/floor.py) and the plain DRF implementation
(tests/perf/drf_plain, "drf"). For the query service's scenarios the DRF server's natural
equivalent is its filtered list: the same fields (`?fields=`, the DRF documentation's dynamic
fields), filter, order and page size as query parameters."""

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

ISSUE_PATH = "/workflows/inventory-control/part-kit/issue"
MOVE_PATH = "/workflows/inventory-control/part-kit/move-to-inventory"
QUERY = "/services/core/query"
PI_FIELDS = ["key", "serialNumber", "quantity", "part.id"]
DRF_PI_FIELDS = "key,serial_number,quantity,part_code"
BULK_FIELDS = ["key", "serialNumber", "lotNumber", "quantity", "part.id"]
DRF_BULK_FIELDS = "key,serial_number,lot_number,quantity,part_code"
GRAPHQL_PAGE = (
    "{ partInventories(first: 100) { edges { node { id serialNumber quantity part { id } } } } }"
)


@dataclass
class Call:
    method: str
    path: str
    body: Any = None  # JSON, or a str sent as a form
    auth: bool = True  # send the bench token

    @property
    def content_type(self) -> str | None:
        if self.body is None:
            return None
        return (
            "application/x-www-form-urlencoded"
            if isinstance(self.body, str)
            else "application/json"
        )

    def encoded(self) -> bytes | None:
        import json

        if self.body is None:
            return None
        return self.body.encode() if isinstance(self.body, str) else json.dumps(self.body).encode()


@dataclass
class Scenario:
    name: str
    calls: dict[str, Call]  # by server: service, floor, drf
    kind: str = "read"  # read | workflow (issue + move pairs) | token
    rows: int | None = None  # rows each answer carries (bulk reads): rows/s = req/s x rows
    status: str = "ok"  # or why Kitsmith did not run it
    queries: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # server -> why it did not run
    results: dict[str, dict[str, Any]] = field(default_factory=dict)


def _drf_list(resource: str, **params: Any) -> str:
    return f"/{resource}/?{urlencode(params)}"


def build(bench: dict[str, Any], scale: dict[str, int]) -> list[Scenario]:
    deep_start = scale["inventories"] * 9 // 10 + 1  # 900001 at full scale
    pair = bench["pairs"][0] if bench["pairs"] else (0, 0)  # no pairs: the probe says why

    def same(call: Call) -> dict[str, Call]:
        return {"service": call, "floor": call}

    def pi_query(fields, size, start=1, filters=None) -> Call:
        body = {"object": "inventory-control/part-inventory", "fields": fields, "size": size}
        if filters:
            body["filters"] = filters
        if start != 1:
            body["start"] = start
        return Call("POST", QUERY, body)

    token_body = urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": bench["client_id"],
            "client_secret": bench["client_secret"],
        }
    )
    return [
        Scenario(
            "item detail",
            {
                **same(Call("GET", f"/objects/inventory-control/item/{bench['item_key']}")),
                "drf": Call("GET", f"/items/{bench['item_key']}/"),
            },
        ),
        Scenario(
            "kit-component list",
            {
                **same(Call("GET", "/objects/inventory-control/kit-component")),
                "drf": Call("GET", _drf_list("kit-components", ordering="key", limit=100)),
            },
        ),
        Scenario(
            "query kit-component",
            {
                **same(
                    Call(
                        "POST",
                        QUERY,
                        {
                            "object": "inventory-control/kit-component",
                            "fields": ["key", "kit.id", "component.name", "numberOfUnits"],
                            "filters": [{"$gt": {"numberOfUnits": 1}}],
                            "size": 100,
                        },
                    )
                ),
                "drf": Call(
                    "GET",
                    _drf_list(
                        "kit-components",
                        fields="key,kit_code,component_name,number_of_units",
                        number_of_units__gt=1,
                        ordering="key",
                        limit=100,
                    ),
                ),
            },
        ),
        Scenario(
            "query part-inventory",
            {
                **same(pi_query(PI_FIELDS, 100, filters=[{"$eq": {"part.id": bench["part_id"]}}])),
                "drf": Call(
                    "GET",
                    _drf_list(
                        "part-inventories",
                        fields=DRF_PI_FIELDS,
                        part__code=bench["part_id"],
                        ordering="key",
                        limit=100,
                    ),
                ),
            },
        ),
        Scenario(
            "query deep start",
            {
                **same(pi_query(PI_FIELDS, 100, start=deep_start)),
                "drf": Call(
                    "GET",
                    _drf_list(
                        "part-inventories",
                        fields=DRF_PI_FIELDS,
                        ordering="key",
                        limit=100,
                        offset=deep_start - 1,
                    ),
                ),
            },
        ),
        Scenario(
            "query page of 100",
            {
                **same(pi_query(PI_FIELDS, 100)),
                "drf": Call(
                    "GET",
                    _drf_list("part-inventories", fields=DRF_PI_FIELDS, ordering="key", limit=100),
                ),
            },
            rows=100,
        ),
        Scenario(
            "GraphQL page of 100",
            {"service": Call("POST", "/graphql", {"query": GRAPHQL_PAGE})},
            rows=100,
        ),
        Scenario(
            "query page of 4,000",
            {
                **same(pi_query(BULK_FIELDS, 4000)),
                "drf": Call(
                    "GET",
                    _drf_list(
                        "part-inventories", fields=DRF_BULK_FIELDS, ordering="key", limit=4000
                    ),
                ),
            },
            rows=4000,
        ),
        Scenario(
            "shortages of every open run",
            {
                **same(
                    Call(
                        "POST",
                        QUERY,
                        {
                            "object": "inventory-control/requirement",
                            "fields": ["part.id", "sum:shortQuantity"],
                            "filters": [{"$gt": {"shortQuantity": 0}}],
                            "size": 100,
                        },
                    )
                ),
                "drf": Call("GET", "/shortages/?limit=100"),
            },
        ),
        Scenario(
            "issue + move-to-inventory",
            {
                **same(
                    Call(
                        "POST",
                        ISSUE_PATH,
                        {
                            "key": str(pair[0]),
                            "partInventory": {"key": str(pair[1])},
                            "quantity": 1,
                        },
                    )
                ),
                "drf": Call(
                    "POST",
                    f"/part-kits/{pair[0]}/issue/",
                    {"part_inventory": pair[1], "quantity": "1"},
                ),
            },
            kind="workflow",
        ),
        Scenario(
            "token (client credentials)",
            {
                "service": Call("POST", "/oauth2/token", token_body, auth=False),
                "drf": Call("POST", "/o/token/", token_body, auth=False),
            },
            kind="token",
        ),
    ]


def second_call(label: str, call: Call) -> Call:
    """A workflow's second request: move back what the first issued."""
    if label == "drf":
        return Call("POST", call.path.replace("/issue/", "/move-to-inventory/"), call.body)
    return Call("POST", MOVE_PATH, call.body)
