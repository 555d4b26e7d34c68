"""The floor: each benchmark scenario served by plain code, as fast as it can be done.

A WSGI app with one psycopg connection per worker, server-side prepared statements, no ORM, no
framework, orjson. It does the work the service does for the same requests, and no less: it
validates the bearer token (one indexed lookup by token_checksum), runs the same SQL shapes (the
optimal ones where there is a choice: a deferred join for deep pages), takes the same row locks
and writes the same ledger rows for the workflows, and answers with the same JSON. The harness
checks the bodies are equal. Every response carries `X-Queries`, the statements it ran.

    DATABASE_URL=postgres://... gunicorn tests.perf.floor:application
"""

import hashlib
import os
import uuid
from decimal import Decimal
from urllib.parse import parse_qs

import orjson
import psycopg

OBJECTS = "/objects/inventory-control/"
USERS = "/objects/company-config/user/"
ONE = {"totalCount": 1, "totalSuccess": 1, "totalError": 0}
JSON = "application/json"


def _ts(column: str) -> str:
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""


def _audit(alias: str) -> str:
    return (
        f"{_ts(alias + '.created_at')}, {_ts(alias + '.modified_at')}, "
        f"{alias}.created_by_id, cu.username, {alias}.modified_by_id, mu.username"
    )


def _users(alias: str) -> str:
    return (
        f"LEFT JOIN auth_user cu ON cu.id = {alias}.created_by_id "
        f"LEFT JOIN auth_user mu ON mu.id = {alias}.modified_by_id"
    )


SQL_TOKEN = """
    SELECT COALESCE(t.user_id, a.user_id), t.expires > now(), u.is_active
    FROM oauth2_provider_accesstoken t
    LEFT JOIN oauth2_provider_application a ON a.id = t.application_id
    LEFT JOIN auth_user u ON u.id = COALESCE(t.user_id, a.user_id)
    WHERE t.token_checksum = %s
"""
# Whole kits the available stock covers: the item's own lines exploded (nested `kit` items walked
# down), the least floor(available / units) over its stocked parts.
SQL_BUILDABLE = """
    WITH RECURSIVE tree (part_id, units) AS (
        SELECT c.component_id, c.number_of_units::numeric
        FROM kitcomponents_kitcomponent c WHERE c.kit_id = i.key
        UNION ALL
        SELECT c.component_id, tree.units * c.number_of_units
        FROM tree
        JOIN inventory_item n ON n.key = tree.part_id AND n.item_type = 'kit'
        JOIN kitcomponents_kitcomponent c ON c.kit_id = tree.part_id
    )
    SELECT trim_scale(MIN(floor(COALESCE((
        SELECT SUM(pi.quantity) FROM inventory_partinventory pi
        LEFT JOIN inventory_warehouse w ON w.key = pi.location_id
        WHERE pi.part_id = e.part_id AND (pi.location_id IS NULL OR w.inventory_available)
    ), 0) / e.units)))::text
    FROM (
        SELECT tree.part_id, SUM(tree.units) AS units FROM tree
        JOIN inventory_item p ON p.key = tree.part_id
        WHERE p.item_type IN ('inventory', 'stockableKit')
        GROUP BY tree.part_id
    ) e
"""
SQL_ITEM = f"""
    SELECT i.key, i.code, i.name, i.status, i.item_type, i.cost_method, i.unit_of_measure,
           i.extended_description, trim_scale(i.standard_cost)::text, i.enable_serial_no,
           i.serial_mask, i.enable_lot_category, i.lot_category, i.kit_revenue_posting,
           i.version, {_audit("i")},
           (SELECT trim_scale(COALESCE(SUM(pi.quantity), 0))::text
            FROM inventory_partinventory pi WHERE pi.part_id = i.key),
           (SELECT trim_scale(COALESCE(SUM(pi.quantity), 0))::text
            FROM inventory_partinventory pi
            LEFT JOIN inventory_warehouse w ON w.key = pi.location_id
            WHERE pi.part_id = i.key AND (pi.location_id IS NULL OR w.inventory_available)),
           (SELECT trim_scale(COALESCE(SUM(pi.kitted_quantity), 0))::text
            FROM inventory_partinventory pi WHERE pi.part_id = i.key),
           CASE WHEN i.item_type IN ('kit', 'stockableKit') THEN ({SQL_BUILDABLE}) END
    FROM inventory_item i {_users("i")}
    WHERE i.key = %s
"""
SQL_ITEM_LINES = f"""
    SELECT kc.key, kit.key, kit.code, c.key, c.code, c.name, c.cost_method, c.item_type,
           c.unit_of_measure, trim_scale(c.standard_cost)::text,
           trim_scale(kc.number_of_units)::text, trim_scale(kc.revenue_percentage)::text,
           kc.default_delivery_status, kc.default_deferral_status, kc.line_number, {_audit("kc")}
    FROM kitcomponents_kitcomponent kc
    JOIN inventory_item kit ON kit.key = kc.kit_id
    JOIN inventory_item c ON c.key = kc.component_id
    {_users("kc")}
    WHERE kc.kit_id = %s
    ORDER BY kc.kit_id, kc.line_number
"""
SQL_KC_COUNT = "SELECT COUNT(*) FROM kitcomponents_kitcomponent"
SQL_KC_PAGE = "SELECT key FROM kitcomponents_kitcomponent ORDER BY key LIMIT %s OFFSET %s"
SQL_Q_KC_COUNT = "SELECT COUNT(*) FROM kitcomponents_kitcomponent WHERE number_of_units > %s"
SQL_Q_KC_PAGE = """
    SELECT kc.key, kit.code, c.name, trim_scale(kc.number_of_units)::text
    FROM kitcomponents_kitcomponent kc
    JOIN inventory_item kit ON kit.key = kc.kit_id
    JOIN inventory_item c ON c.key = kc.component_id
    WHERE kc.number_of_units > %s
    ORDER BY kc.key LIMIT %s OFFSET %s
"""
SQL_Q_PI_COUNT = """
    SELECT COUNT(*) FROM inventory_partinventory pi
    JOIN inventory_item p ON p.key = pi.part_id WHERE p.code = %s
"""
SQL_Q_PI_PAGE = """
    SELECT pi.key, pi.serial_number, trim_scale(pi.quantity)::text, p.code, pi.lot_number
    FROM inventory_partinventory pi JOIN inventory_item p ON p.key = pi.part_id
    WHERE p.code = %s ORDER BY pi.key LIMIT %s OFFSET %s
"""
SQL_Q_PI_ALL_COUNT = "SELECT COUNT(*) FROM inventory_partinventory"
# The deferred join: walk the primary key index alone to the page, then join 100 rows.
SQL_Q_PI_ALL_PAGE = """
    SELECT pi.key, pi.serial_number, trim_scale(pi.quantity)::text, p.code, pi.lot_number
    FROM (SELECT key FROM inventory_partinventory ORDER BY key LIMIT %s OFFSET %s) page
    JOIN inventory_partinventory pi ON pi.key = page.key
    JOIN inventory_item p ON p.key = pi.part_id
    ORDER BY pi.key
"""
# What every open run is short of, by part: each open run's part exploded (nested `kit` items
# walked down), times the run's quantity, less what the run's open kits hold; the page of parts
# with the number of parts in the same statement.
SQL_Q_SHORTAGES = """
    WITH RECURSIVE tree (run_id, part_id, item_type, units) AS (
        SELECT r.key, c.component_id, p.item_type, c.number_of_units * r.quantity
        FROM kitting_run r
        JOIN kitcomponents_kitcomponent c ON c.kit_id = r.part_id
        JOIN inventory_item p ON p.key = c.component_id
        WHERE r.status IN ('todo', 'inProgress')
        UNION ALL
        SELECT t.run_id, c.component_id, p.item_type, t.units * c.number_of_units
        FROM tree t
        JOIN kitcomponents_kitcomponent c ON c.kit_id = t.part_id
        JOIN inventory_item p ON p.key = c.component_id
        WHERE t.item_type = 'kit'
    ), needed AS (
        SELECT run_id, part_id, SUM(units) AS required FROM tree
        WHERE item_type IN ('inventory', 'stockableKit') GROUP BY run_id, part_id
    ), held AS (
        SELECT k.run_id, i.part_id, SUM(l.issued_quantity) AS issued
        FROM kitting_partkit k
        JOIN kitting_run r ON r.key = k.run_id
        JOIN kitting_partkitline l ON l.part_kit_id = k.key
        JOIN inventory_partinventory i ON i.key = l.part_inventory_id
        WHERE k.status NOT IN ('completed', 'canceled') AND r.status IN ('todo', 'inProgress')
        GROUP BY k.run_id, i.part_id
    )
    SELECT p.code, trim_scale(SUM(n.required - COALESCE(h.issued, 0)))::text, COUNT(*) OVER ()
    FROM needed n
    LEFT JOIN held h ON h.run_id = n.run_id AND h.part_id = n.part_id
    JOIN inventory_item p ON p.key = n.part_id
    WHERE n.required > COALESCE(h.issued, 0)
    GROUP BY p.code
    ORDER BY p.code COLLATE "C" LIMIT %s OFFSET %s
"""
SQL_KIT_LOCK = "SELECT key, run_id, status FROM kitting_partkit WHERE key = %s FOR UPDATE"
SQL_INVENTORY_LOCK = """
    SELECT part_id, serial_number, quantity, kitted_quantity
    FROM inventory_partinventory WHERE key = %s FOR UPDATE
"""
SQL_INVENTORY_ISSUE = """
    UPDATE inventory_partinventory
    SET quantity = quantity - %s, kitted_quantity = kitted_quantity + %s, version = version + 1,
        modified_at = now(), modified_by_id = %s
    WHERE key = %s RETURNING quantity
"""
SQL_LINE_ISSUE = """
    INSERT INTO kitting_partkitline (part_kit_id, part_inventory_id, issued_quantity)
    VALUES (%s, %s, %s)
    ON CONFLICT (part_kit_id, part_inventory_id)
    DO UPDATE SET issued_quantity = kitting_partkitline.issued_quantity + EXCLUDED.issued_quantity
    RETURNING issued_quantity
"""
SQL_LINE = """
    SELECT id, issued_quantity FROM kitting_partkitline
    WHERE part_kit_id = %s AND part_inventory_id = %s
"""
SQL_LINE_RETURN = "UPDATE kitting_partkitline SET issued_quantity = %s WHERE id = %s"
SQL_LINE_DELETE = "DELETE FROM kitting_partkitline WHERE id = %s"
SQL_INVENTORY_RETURN = """
    UPDATE inventory_partinventory
    SET quantity = quantity + %s, kitted_quantity = kitted_quantity - %s,
        location_id = COALESCE(%s, location_id), version = version + 1,
        modified_at = now(), modified_by_id = %s
    WHERE key = %s RETURNING quantity
"""
SQL_LEDGER = """
    INSERT INTO inventory_inventorytransaction
        (version, created_at, modified_at, created_by_id, modified_by_id, part_inventory_id,
         part_id, type, quantity, kitted_quantity, installed_quantity, quantity_after,
         part_kit_id, run_id)
    VALUES (1, now(), now(), %s, %s, %s, %s, %s, %s, %s, 0, %s, %s, %s)
"""


class Answer(Exception):
    """An early answer: status and an error message in the ia::error shape."""

    def __init__(self, status: str, error_id: str, message: str):
        super().__init__(message)
        self.status, self.error_id, self.message = status, error_id, message


class Db:
    """The worker's one connection (opened after the fork) and a statement counter."""

    def __init__(self):
        self.pid = None
        self.conn = None
        self.count = 0

    def connection(self) -> psycopg.Connection:
        if self.conn is None or self.pid != os.getpid() or self.conn.closed:
            url = os.environ["DATABASE_URL"]
            # prepare_threshold=0: every statement is prepared on its first use, then reused.
            self.conn = psycopg.connect(url, autocommit=True, prepare_threshold=0)
            self.pid = os.getpid()
        return self.conn

    def one(self, sql, params):
        self.count += 1
        return self.conn.execute(sql, params).fetchone()

    def all(self, sql, params):
        self.count += 1
        return self.conn.execute(sql, params).fetchall()

    def run(self, sql, params):
        self.count += 1
        self.conn.execute(sql, params)


DB = Db()


def number(text):
    if text is None:
        return None
    return float(text) if "." in text else int(text)


def decimal_number(value: Decimal):
    return int(value) if value == value.to_integral_value() else float(value)


def user_ref(pk, username):
    if pk is None:
        return None
    return {"key": str(pk), "id": username, "href": f"{USERS}{pk}"}


def audit(row, i):
    created_by, modified_by = row[i + 2], row[i + 4]
    return {
        "createdDateTime": row[i],
        "modifiedDateTime": row[i + 1],
        "createdBy": str(created_by) if created_by else None,
        "modifiedBy": str(modified_by) if modified_by else None,
        "createdByUser": user_ref(created_by, row[i + 3]),
        "modifiedByUser": user_ref(modified_by, row[i + 5]),
    }


def page(results, total, start, size):
    return {
        "ia::result": results,
        "ia::meta": {
            "totalCount": total,
            "start": start,
            "pageSize": size,
            "next": start + size if start + size <= total else None,
            "previous": max(1, start - size) if start > 1 else None,
        },
    }


def authenticate(environ) -> int:
    header = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Answer("401 Unauthorized", "KS-4011", "Authentication credentials were not provided")
    checksum = hashlib.sha256(token.encode()).hexdigest()
    row = DB.one(SQL_TOKEN, (checksum,))
    if row is None or not row[1] or not row[2]:
        raise Answer("401 Unauthorized", "KS-4012", "The credentials are invalid or have expired")
    return row[0]


def item_detail(key: str):
    if not (key.isascii() and key.isdigit()):
        raise Answer("404 Not Found", "KS-4041", f"item {key} was not found")
    row = DB.one(SQL_ITEM, (int(key),))
    if row is None:
        raise Answer("404 Not Found", "KS-4041", f"item {key} was not found")
    lines = []
    for r in DB.all(SQL_ITEM_LINES, (row[0],)):
        lines.append(
            {
                "key": str(r[0]),
                "id": str(r[0]),
                "kit": {"key": str(r[1]), "id": r[2], "href": f"{OBJECTS}item/{r[1]}"},
                "component": {
                    "key": str(r[3]),
                    "id": r[4],
                    "name": r[5],
                    "costMethod": r[6],
                    "itemType": r[7],
                    "unitOfMeasure": r[8],
                    "standardCost": r[9],
                    "href": f"{OBJECTS}item/{r[3]}",
                },
                "numberOfUnits": number(r[10]),
                "revenuePercentage": number(r[11]),
                "defaultDeliveryStatus": r[12],
                "defaultDeferralStatus": r[13],
                "lineNumber": r[14],
                "audit": audit(r, 15),
                "href": f"{OBJECTS}kit-component/{r[0]}",
            }
        )
    serial, lot = row[9], row[11]
    result = {
        "key": str(row[0]),
        "id": row[1],
        "name": row[2],
        "status": row[3],
        "itemType": row[4],
        "costMethod": row[5],
        "unitOfMeasure": row[6],
        "extendedDescription": row[7],
        "purchasing": {"standardCost": row[8]},
        "tracking": {
            "enableSerialNo": serial,
            "serialMask": row[10],
            "enableLotCategory": lot,
            "lotCategory": row[12],
        },
        "kitRevenuePosting": row[13] or None,
        "kitComponents": lines,
        "trackingType": "serial" if serial else "lot" if lot else "untracked",
        "onHandQuantity": number(row[21]),
        "availableQuantity": number(row[22]),
        "kittedQuantity": number(row[23]),
        "buildableQuantity": number(row[24]),
        "audit": audit(row, 15),
        "href": f"{OBJECTS}item/{row[0]}",
    }
    return {"ia::result": result, "ia::meta": ONE}, [("ETag", f'"{row[14]}"')]


def paging(start, size) -> tuple[int, int]:
    start = 1 if start is None else int(start)
    size = 100 if size is None else int(size)
    if start < 1 or not 1 <= size <= 4000:
        raise Answer("400 Bad Request", "KS-4003", "start or size out of range")
    return start, size


def kit_component_list(environ):
    params = parse_qs(environ.get("QUERY_STRING", ""))
    start, size = paging(params.get("start", [None])[0], params.get("size", [None])[0])
    total = DB.one(SQL_KC_COUNT, ())[0]
    rows = DB.all(SQL_KC_PAGE, (size, start - 1)) if start <= total else []
    base = f"{OBJECTS}kit-component/"
    refs = [{"key": str(r[0]), "id": str(r[0]), "href": f"{base}{r[0]}"} for r in rows]
    return page(refs, total, start, size), []


def query(body: bytes):
    try:
        request = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Answer("400 Bad Request", "KS-4001", "Request body is not valid JSON") from exc
    start, size = paging(request.get("start"), request.get("size"))
    offset = start - 1
    filters = request.get("filters") or []
    obj = request.get("object")
    if obj == "inventory-control/kit-component":
        units = filters[0]["$gt"]["numberOfUnits"]
        total = DB.one(SQL_Q_KC_COUNT, (units,))[0]
        rows = DB.all(SQL_Q_KC_PAGE, (units, size, offset)) if start <= total else []
        results = [
            {
                "key": str(r[0]),
                "kit.id": r[1],
                "component.name": r[2],
                "numberOfUnits": number(r[3]),
            }
            for r in rows
        ]
    elif obj == "inventory-control/part-inventory":
        if filters:
            code = filters[0]["$eq"]["part.id"]
            total = DB.one(SQL_Q_PI_COUNT, (code,))[0]
            rows = DB.all(SQL_Q_PI_PAGE, (code, size, offset)) if start <= total else []
        else:
            total = DB.one(SQL_Q_PI_ALL_COUNT, ())[0]
            rows = DB.all(SQL_Q_PI_ALL_PAGE, (size, offset)) if start <= total else []
        # The benchmark asks for these fields, lotNumber too in its bulk page, in this order.
        columns = {"key": 0, "serialNumber": 1, "lotNumber": 4, "quantity": 2, "part.id": 3}
        wanted = [(name, columns[name]) for name in request["fields"]]
        results = [
            {
                name: number(r[i]) if name == "quantity" else (str(r[i]) if i == 0 else r[i])
                for name, i in wanted
            }
            for r in rows
        ]
    elif obj == "inventory-control/requirement":
        # The benchmark's shape only: shortQuantity > 0, summed by part.
        rows = DB.all(SQL_Q_SHORTAGES, (size, offset))
        total = rows[0][2] if rows else 0  # a page past the end: the benchmark asks none
        results = [{"part.id": r[0], "sum:shortQuantity": number(r[1])} for r in rows]
    else:
        raise Answer("400 Bad Request", "KS-4004", "the floor serves the benchmark's queries only")
    return page(results, total, start, size), []


def _workflow_request(body: bytes):
    try:
        request = orjson.loads(body)
        kit_key = int(request["key"])
        inventory_key = int(request["partInventory"]["key"])
        quantity = request.get("quantity")
        location = request.get("location")
        location_key = int(location["key"]) if location else None
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise Answer("400 Bad Request", "KS-4005", "Bad request") from exc
    return kit_key, inventory_key, quantity, location_key


def _lock(conn, kit_key, inventory_key, quantity):
    kit = DB.one(SQL_KIT_LOCK, (kit_key,))
    if kit is None:
        raise Answer("422 Unprocessable Entity", "KS-4224", "part kit not found")
    if kit[2] in ("completed", "canceled"):
        raise Answer("422 Unprocessable Entity", "KS-4222", "the part kit is closed")
    inventory = DB.one(SQL_INVENTORY_LOCK, (inventory_key,))
    if inventory is None:
        raise Answer("422 Unprocessable Entity", "KS-4224", "part inventory not found")
    if quantity is None:
        if inventory[1] is None:
            raise Answer("422 Unprocessable Entity", "KS-4221", "quantity is required")
        quantity = 1
    quantity = Decimal(str(quantity))
    if quantity <= 0 or (inventory[1] is not None and quantity != 1):
        raise Answer("422 Unprocessable Entity", "KS-4222", "quantity is invalid")
    return kit, inventory, quantity


def _workflow_result(kit_key, inventory_key, quantity_after, issued):
    return {
        "ia::result": {
            "key": str(kit_key),
            "id": str(kit_key),
            "href": f"{OBJECTS}part-kit/{kit_key}",
            "partInventory": {
                "key": str(inventory_key),
                "id": str(inventory_key),
                "href": f"{OBJECTS}part-inventory/{inventory_key}",
                "quantity": decimal_number(quantity_after),
            },
            "issuedQuantity": decimal_number(issued),
        },
        "ia::meta": ONE,
    }, []


def issue(body: bytes, user: int):
    kit_key, inventory_key, quantity, _ = _workflow_request(body)
    conn = DB.conn
    with conn.transaction():
        kit, inventory, quantity = _lock(conn, kit_key, inventory_key, quantity)
        if quantity > inventory[2]:
            raise Answer("422 Unprocessable Entity", "KS-4222", "more than the inventory holds")
        after = DB.one(SQL_INVENTORY_ISSUE, (quantity, quantity, user, inventory_key))[0]
        issued = DB.one(SQL_LINE_ISSUE, (kit_key, inventory_key, quantity))[0]
        DB.run(
            SQL_LEDGER,
            (
                user,
                user,
                inventory_key,
                inventory[0],
                "issue",
                -quantity,
                quantity,
                after,
                *kit[:2],
            ),
        )
    return _workflow_result(kit_key, inventory_key, after, issued)


def move_to_inventory(body: bytes, user: int):
    kit_key, inventory_key, quantity, location = _workflow_request(body)
    conn = DB.conn
    with conn.transaction():
        kit, inventory, quantity = _lock(conn, kit_key, inventory_key, quantity)
        line = DB.one(SQL_LINE, (kit_key, inventory_key))
        if line is None or quantity > line[1]:
            raise Answer("422 Unprocessable Entity", "KS-4222", "more than the kit holds")
        left = line[1] - quantity
        if left:
            DB.run(SQL_LINE_RETURN, (left, line[0]))
        else:
            DB.run(SQL_LINE_DELETE, (line[0],))
        after = DB.one(SQL_INVENTORY_RETURN, (quantity, quantity, location, user, inventory_key))[0]
        DB.run(
            SQL_LEDGER,
            (
                user,
                user,
                inventory_key,
                inventory[0],
                "return",
                quantity,
                -quantity,
                after,
                *kit[:2],
            ),
        )
    return _workflow_result(kit_key, inventory_key, after, left)


def error_body(answer: Answer, request_id: str) -> bytes:
    code = {"400": "invalidRequest", "401": "unauthorized", "404": "notFound"}
    return orjson.dumps(
        {
            "ia::result": {
                "ia::error": {
                    "code": code.get(answer.status[:3], "operationFailed"),
                    "message": answer.message,
                    "errorId": answer.error_id,
                    "supportId": request_id,
                }
            },
            "ia::meta": {"totalCount": 1, "totalSuccess": 0, "totalError": 1},
        }
    )


def route(environ):
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
    if path == "/healthz":
        DB.one("SELECT 1", ())
        return {"status": "ok"}, []
    user = authenticate(environ)
    if method == "GET":
        if path.startswith(OBJECTS + "item/"):
            return item_detail(path[len(OBJECTS) + 5 :])
        if path.rstrip("/") == OBJECTS + "kit-component":
            return kit_component_list(environ)
    elif method == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        if path == "/services/core/query":
            return query(body)
        if path == "/workflows/inventory-control/part-kit/issue":
            return issue(body, user)
        if path == "/workflows/inventory-control/part-kit/move-to-inventory":
            return move_to_inventory(body, user)
    raise Answer("404 Not Found", "KS-4042", f"No route matches {path}")


def application(environ, start_response):
    DB.connection()
    DB.count = 0
    request_id = uuid.uuid4().hex
    try:
        body, headers = route(environ)
        status, payload = "200 OK", orjson.dumps(body)
    except Answer as answer:
        status, payload, headers = answer.status, error_body(answer, request_id), []
    start_response(
        status,
        [
            ("Content-Type", JSON),
            ("Content-Length", str(len(payload))),
            ("X-Request-Id", request_id),
            ("X-Queries", str(DB.count)),
            *headers,
        ],
    )
    return [payload]
