"""`manage.py purge_idempotency_keys`: the cron job of contract 12.1 (README, Idempotency)."""

from django.core.management.base import BaseCommand

from config.api.idempotency import RETENTION, purge


class Command(BaseCommand):
    help = (
        f"Delete the stored answers of Idempotency-Keys older than {RETENTION.days} days, in "
        "batches; safe to run from cron, also while the service runs."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="rows per DELETE (default 1000)"
        )

    def handle(self, *args, batch_size, **options):
        purged = purge(batch_size=batch_size)
        self.stdout.write(f"purged {purged} idempotency keys older than {RETENTION.days} days")
