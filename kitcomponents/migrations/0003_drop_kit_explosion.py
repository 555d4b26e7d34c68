"""The kit explosion view goes: nothing reads it any more. An item's buildable quantity explodes
the item itself (kitcomponents.selectors) and the requirement view each open run's part
(kitting 0003, which runs before this one); a view over every kit could not be anchored."""

import importlib

from django.db import migrations

# The way back recreates 0002's view.
EXPLOSION = importlib.import_module("kitcomponents.migrations.0002_kit_explosion").EXPLOSION


class Migration(migrations.Migration):
    dependencies = [("kitcomponents", "0002_kit_explosion")]

    operations = [
        migrations.DeleteModel(name="KitExplosion"),
        migrations.RunSQL("DROP VIEW kitcomponents_kitexplosion", EXPLOSION),
    ]
