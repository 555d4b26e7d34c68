"""The README's error catalogue, generated from config.api.errors.CATALOGUE.

`python manage.py error_catalogue` prints the markdown table; `--write` puts it into README.md
between the markers, and rewrites the generated parts of docs/ (the `api_reference` command), whose
errors page holds the same table. tests/test_readme.py fails when the README's table is out of
date, tests/test_docs.py when docs/ is.
"""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from config.api.errors import CATALOGUE

BEGIN = "<!-- error-catalogue:begin (generated: python manage.py error_catalogue --write) -->"
END = "<!-- error-catalogue:end -->"


def catalogue_table() -> str:
    """One row per errorId, by status; Intacct's own ids before ours within a status."""
    specs = sorted(
        CATALOGUE.values(),
        key=lambda s: (s.status, not s.error_id.startswith("REST-"), s.error_id),
    )
    rows = ["| errorId | status | code | message |", "|---|---|---|---|"]
    for spec in specs:
        message = spec.message.replace("|", "\\|")
        rows.append(f"| `{spec.error_id}` | {spec.status} | `{spec.code}` | {message} |")
    return "\n".join(rows)


def readme_with_catalogue(readme: str) -> str:
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README.md needs the markers {BEGIN} and {END}")
    return readme[: start + len(BEGIN)] + "\n" + catalogue_table() + "\n" + readme[end:]


class Command(BaseCommand):
    help = "Print the error catalogue as a markdown table, or write it into README.md (--write)."

    def add_arguments(self, parser):
        parser.add_argument("--write", action="store_true", help="update README.md in place")

    def handle(self, *args, write, **options):
        if not write:
            self.stdout.write(catalogue_table())
            return
        path = Path(settings.BASE_DIR) / "README.md"
        try:
            updated = readme_with_catalogue(path.read_text())
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        path.write_text(updated)
        self.stdout.write(f"{path}: error catalogue has {len(CATALOGUE)} entries")
        call_command("api_reference", write=True, stdout=self.stdout)
