"""The requirement view (kitting.models.Requirement): one row per open run and stocked part of
its exploded part, valid on PostgreSQL and SQLite. Kits that are completed or canceled hold
nothing, so only open kits count as issued."""

from django.db import migrations, models

REQUIREMENT = """
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
WHERE r.status IN ('todo', 'inProgress')
"""


class Migration(migrations.Migration):
    dependencies = [("kitting", "0001_initial"), ("kitcomponents", "0002_kit_explosion")]

    operations = [
        migrations.RunSQL(REQUIREMENT, "DROP VIEW kitting_requirement"),
        migrations.CreateModel(
            name="Requirement",
            fields=[
                ("key", models.CharField(max_length=41, primary_key=True, serialize=False)),
                ("required_quantity", models.DecimalField(decimal_places=6, max_digits=40)),
                ("issued_quantity", models.DecimalField(decimal_places=6, max_digits=20)),
                (
                    "part",
                    models.ForeignKey(
                        on_delete=models.DO_NOTHING, related_name="+", to="inventory.item"
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        on_delete=models.DO_NOTHING,
                        related_name="requirements",
                        to="kitting.run",
                    ),
                ),
            ],
            options={
                "db_table": "kitting_requirement",
                "ordering": ["run_id", "part_id"],
                "managed": False,
                "default_permissions": (),
            },
        ),
    ]
