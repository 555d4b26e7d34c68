"""The kit explosion view (kitcomponents.models.KitExplosion), one recursive query valid on
PostgreSQL and SQLite. Nested `kit` components are walked down; what remains are the stocked
parts (`inventory`, `stockableKit`). Kit components cannot form a cycle (kitcomponents.services),
so the recursion ends."""

from django.db import migrations, models

EXPLOSION = """
CREATE VIEW kitcomponents_kitexplosion AS
WITH RECURSIVE tree (kit_id, part_id, units) AS (
    SELECT c.kit_id, c.component_id, CAST(c.number_of_units AS NUMERIC)
    FROM kitcomponents_kitcomponent c
    UNION ALL
    SELECT tree.kit_id, c.component_id, tree.units * c.number_of_units
    FROM tree
    JOIN inventory_item nested ON nested."key" = tree.part_id AND nested.item_type = 'kit'
    JOIN kitcomponents_kitcomponent c ON c.kit_id = tree.part_id
)
SELECT tree.kit_id, tree.part_id, SUM(tree.units) AS units
FROM tree
JOIN inventory_item part ON part."key" = tree.part_id
WHERE part.item_type IN ('inventory', 'stockableKit')
GROUP BY tree.kit_id, tree.part_id
"""


class Migration(migrations.Migration):
    dependencies = [("kitcomponents", "0001_initial"), ("inventory", "0005_graphql_fields")]

    operations = [
        migrations.RunSQL(EXPLOSION, "DROP VIEW kitcomponents_kitexplosion"),
        migrations.CreateModel(
            name="KitExplosion",
            fields=[
                ("pk", models.CompositePrimaryKey("kit", "part", blank=True, editable=False, primary_key=True, serialize=False)),
                ("kit", models.ForeignKey(on_delete=models.DO_NOTHING, related_name="+", to="inventory.item")),
                ("part", models.ForeignKey(on_delete=models.DO_NOTHING, related_name="+", to="inventory.item")),
                ("units", models.DecimalField(decimal_places=6, max_digits=30)),
            ],
            options={"db_table": "kitcomponents_kitexplosion", "ordering": ["kit_id", "part_id"], "managed": False},
        ),
    ]
