"""The GraphQL schema in SDL, committed as schema.graphql (clients generate code from it).

`python manage.py graphql_schema` writes it; `--check` only compares, and fails when the code and
the file differ (as `makemigrations --check` does for migrations): `make test` runs it.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

SCHEMA_FILE = "schema.graphql"


def schema_text() -> str:
    from config.graphql.schema import schema

    return schema.as_str() + "\n"


class Command(BaseCommand):
    help = "Write the GraphQL schema to schema.graphql, or check it is up to date (--check)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="fail if schema.graphql differs from the code"
        )
        parser.add_argument(
            "--path", default=str(Path(settings.BASE_DIR) / SCHEMA_FILE), help="the file"
        )

    def handle(self, *args, check, path, **options):
        target = Path(path)
        wanted = schema_text()
        if check:
            if not target.exists() or target.read_text() != wanted:
                raise CommandError(
                    f"{target} differs from the schema in the code: "
                    "run `python manage.py graphql_schema` and commit it"
                )
            self.stdout.write(f"{target} is up to date")
            return
        target.write_text(wanted)
        self.stdout.write(f"{target}: written")
