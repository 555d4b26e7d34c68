"""The spreadsheet import scenario: N part inventories from a CSV file through the admin's code path
(the admin's CSV format reads the file, PartInventoryImport previews it as a dry run, then imports
it in one transaction, a batch of rows per part_inventory_create_many call), timed.

Everything it writes is rolled back at the end, so the benchmark's data set stays as seeded.
`run(quick, database_url)` answers rows per second for the preview and for the import.
"""

from __future__ import annotations

import csv
import io
import os
import resource
import time
from typing import Any

# --quick keeps CI's whole smoke run under two minutes: a rate, not a volume.
FULL_ROWS, QUICK_ROWS = 100_000, 500


class _Rollback(Exception):
    pass


def csv_text(rows: int, *, untracked: str, lot: str, location: str) -> str:
    """Half the rows untracked stock on a location, half lots whose numbers the service makes."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["part.id", "autogenerateLotNumber", "quantity", "location.id", "cost"])
    for n in range(rows):
        if n % 2:
            writer.writerow([lot, "true", 25, location, "0.5"])
        else:
            writer.writerow([untracked, "", 3, location, ""])
    return out.getvalue()


def run(quick: bool, database_url: str) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from import_export.formats.base_formats import CSV

    from inventory import services
    from inventory.models import InventoryTransaction, PartInventory
    from inventory.resources import PartInventoryImport

    rows = QUICK_ROWS if quick else FULL_ROWS
    answer: dict[str, Any] = {"name": "import part inventories (CSV)", "rows": rows}
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user("bench-import")
            untracked = services.item_create(
                user=user, code="BENCH-IMP-U", name="Import bench", item_type="inventory"
            )
            lot = services.item_create(
                user=user,
                code="BENCH-IMP-L",
                name="Import bench (lots)",
                item_type="inventory",
                enable_lot_category=True,
            )
            where = services.warehouse_create(user=user, code="BENCH-IMP", name="Import bench")
            text = csv_text(rows, untracked=untracked.code, lot=lot.code, location=where.code)
            before = PartInventory.objects.count(), InventoryTransaction.objects.count()
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            for step, dry_run in (("preview", True), ("import", False)):
                started = time.perf_counter()
                dataset = CSV().create_dataset(text)
                result = PartInventoryImport().import_data(
                    dataset,
                    dry_run=dry_run,
                    raise_errors=False,
                    rollback_on_validation_errors=True,
                    user=user,
                )
                seconds = time.perf_counter() - started
                assert not result.has_errors() and not result.has_validation_errors()
                answer[f"{step}_seconds"] = round(seconds, 2)
                answer[f"{step}_rows_per_s"] = round(rows / seconds)
            after = PartInventory.objects.count(), InventoryTransaction.objects.count()
            assert (after[0] - before[0], after[1] - before[1]) == (rows, rows)
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            answer["peak_rss_growth_mib"] = round((rss_after - rss_before) / 1024)
            raise _Rollback
    except _Rollback:
        pass
    answer["rows_per_s"] = answer["import_rows_per_s"]
    return answer


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    args = parser.parse_args()
    print(json.dumps(run(args.quick, args.database_url), indent=2))
