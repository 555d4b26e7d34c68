"""The requirement view again, its explosion anchored at each open run's part: a query for one
run explodes that run's kit only, not every kit of the database (the view of 0002 joined the
kit explosion view, a recursive query PostgreSQL cannot push a run's or a kit's key into).

PostgreSQL walks each open run's kit in a LATERAL subquery, so the planner takes a filter on
the run (its key, its kits) into the scan of kitting_run before any recursion. SQLite has no
LATERAL: its recursion starts at the open runs, so it walks only their kits. The rows are the
same as 0002's: per open run and stocked part, the units of the run's part (nested `kit`
components walked down at any depth, a `stockableKit` counted as itself, non-inventory items
left out) times the run's quantity, and what the run's open kits hold of the part. Each step
reads its component's type by key as it is reached, so no step scans the item table; what the
kits hold is summed once per run (by part), not once per requirement row."""

from django.db import migrations

OPEN_RUN = "r.status IN ('todo', 'inProgress')"
STOCKED = "('inventory', 'stockableKit')"
STEP = """SELECT {run}c.component_id, p.item_type, {units}
        FROM kitcomponents_kitcomponent c JOIN inventory_item p ON p."key" = c.component_id"""
# What open kits hold, by part: {run} names the kits' run (PostgreSQL) or groups by it (SQLite).
HELD = """SELECT {columns}i.part_id, SUM(l.issued_quantity) AS quantity
        FROM kitting_partkit k
        JOIN kitting_partkitline l ON l.part_kit_id = k."key"
        JOIN inventory_partinventory i ON i."key" = l.part_inventory_id
        WHERE k.status NOT IN ('completed', 'canceled') AND {run}
        GROUP BY {columns}i.part_id"""
COLUMNS = """
    CAST(r."key" AS TEXT) || '-' || CAST(e.part_id AS TEXT) AS "key",
    r."key" AS run_id,
    e.part_id AS part_id,
    e.units * r.quantity AS required_quantity,
    COALESCE(h.quantity, 0) AS issued_quantity"""

POSTGRESQL = f"""
CREATE VIEW kitting_requirement AS
SELECT {COLUMNS}
FROM kitting_run r
CROSS JOIN LATERAL (
    WITH RECURSIVE tree (part_id, item_type, units) AS (
        {STEP.format(run="", units="CAST(c.number_of_units AS NUMERIC)")}
        WHERE c.kit_id = r.part_id
        UNION ALL
        {STEP.format(run="", units="tree.units * c.number_of_units")}
        JOIN tree ON c.kit_id = tree.part_id
        WHERE tree.item_type = 'kit'
    )
    SELECT tree.part_id, SUM(tree.units) AS units
    FROM tree WHERE tree.item_type IN {STOCKED}
    GROUP BY tree.part_id
) e
LEFT JOIN LATERAL (
    {HELD.format(columns="", run='k.run_id = r."key"')}
) h ON h.part_id = e.part_id
WHERE {OPEN_RUN}
"""

SQLITE = f"""
CREATE VIEW kitting_requirement AS
WITH RECURSIVE tree (run_id, part_id, item_type, units) AS (
    {STEP.format(run='r."key", ', units="CAST(c.number_of_units AS NUMERIC)")}
    JOIN kitting_run r ON c.kit_id = r.part_id
    WHERE {OPEN_RUN}
    UNION ALL
    {STEP.format(run="tree.run_id, ", units="tree.units * c.number_of_units")}
    JOIN tree ON c.kit_id = tree.part_id
    WHERE tree.item_type = 'kit'
), e (run_id, part_id, units) AS (
    SELECT tree.run_id, tree.part_id, SUM(tree.units)
    FROM tree WHERE tree.item_type IN {STOCKED}
    GROUP BY tree.run_id, tree.part_id
)
SELECT {COLUMNS}
FROM kitting_run r
JOIN e ON e.run_id = r."key"
LEFT JOIN (
    {HELD.format(columns="k.run_id, ", run="1 = 1")}
) h ON h.run_id = r."key" AND h.part_id = e.part_id
"""

# 0002's view, for the way back.
JOINED_TO_EXPLOSION = f"""
CREATE VIEW kitting_requirement AS
SELECT
    CAST(r."key" AS TEXT) || '-' || CAST(e.part_id AS TEXT) AS "key",
    r."key" AS run_id,
    e.part_id AS part_id,
    e.units * r.quantity AS required_quantity,
    COALESCE((
        SELECT SUM(l.issued_quantity)
        FROM kitting_partkitline l
        JOIN kitting_partkit k ON k."key" = l.part_kit_id
        JOIN inventory_partinventory i ON i."key" = l.part_inventory_id
        WHERE k.run_id = r."key"
          AND k.status NOT IN ('completed', 'canceled')
          AND i.part_id = e.part_id
    ), 0) AS issued_quantity
FROM kitting_run r
JOIN kitcomponents_kitexplosion e ON e.kit_id = r.part_id
WHERE {OPEN_RUN}
"""


def anchored(apps, schema_editor):
    schema_editor.execute("DROP VIEW kitting_requirement")
    vendor = schema_editor.connection.vendor
    schema_editor.execute(POSTGRESQL if vendor == "postgresql" else SQLITE)


def joined_to_explosion(apps, schema_editor):
    schema_editor.execute("DROP VIEW kitting_requirement")
    schema_editor.execute(JOINED_TO_EXPLOSION)


class Migration(migrations.Migration):
    dependencies = [("kitting", "0002_requirement")]
    # The kit explosion view goes once this view no longer reads it.
    run_before = [("kitcomponents", "0003_drop_kit_explosion")]

    operations = [migrations.RunPython(anchored, joined_to_explosion)]
