"""The generated parts of the API reference in docs/: each object's and workflow's fields, and the
error catalogue, rendered from what the API itself serves.

A page marks a generated part with `<!-- api-reference:object inventory-control/item -->` (or
`workflow inventory-control/part-kit/issue`, or `errors`) and `<!-- api-reference:end -->`;
everything between them is rewritten. The fields come from the model service
(config.api.model_service: the one description of each object, config.api.spec), the list filters
from the object's filter set, the errors from config.api.errors.CATALOGUE, so a page cannot say
what the API does not do.

`python manage.py api_reference --write` rewrites the parts; `--check` only compares and fails
when a page is stale (`make test` runs it; tests/test_docs.py too).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.api import model_service, spec
from config.api.management.commands.error_catalogue import catalogue_table

DOCS = "docs"
END = "<!-- api-reference:end -->"
# A generated part: its marker line, what it is (object, workflow, errors) and what it names.
PART = re.compile(
    r"^<!-- api-reference:(?P<kind>object|workflow|errors)(?: (?P<name>\S+))? -->\n"
    r"(?P<body>.*?)^" + re.escape(END) + "$",
    flags=re.MULTILINE | re.DOTALL,
)
MARKER = re.compile(r"^<!-- api-reference:.*$", flags=re.MULTILINE)


def pages(root: Path) -> list[Path]:
    return sorted((root / DOCS).glob("*.md"))


def unmatched(text: str) -> list[str]:
    """Marker lines that open or close no generated part (a misspelt kind, a missing end): they
    would be left as they are, silently."""
    used = set()
    for match in PART.finditer(text):
        used.add(match.start())
        used.add(match.end() - len(END))
    return [
        f"line {text.count(chr(10), 0, marker.start()) + 1}: {marker.group(0)}"
        for marker in MARKER.finditer(text)
        if marker.start() not in used
    ]


def rendered(text: str) -> str:
    """The page with every generated part rendered anew."""

    def part(match: re.Match) -> str:
        marker = match.group(0).split("\n", 1)[0]
        return f"{marker}\n{generated(match['kind'], match['name'])}\n{END}"

    return PART.sub(part, text)


def generated(kind: str, name: str | None) -> str:
    if kind == "errors":
        return catalogue_table()
    resource = model_service.named(f"{kind}s/{name}")
    if resource is None:
        raise CommandError(f"docs name {kind} {name}, which the API does not serve")
    if kind == "object":
        return object_reference(resource)
    return workflow_reference(resource)


def object_reference(resource: model_service.Resource) -> str:
    described = spec.get(resource.name)
    filters = getattr(resource.view, "filterset_class", None)
    methods = ", ".join(method.upper() for method in resource.methods)
    lines = [f"Methods: {methods}."]
    if "get" in resource.methods:
        names = [f"`{name}`" for name in (filters.base_filters if filters else ())]
        listed = ", ".join(names) if names else "none"
        lines.append(
            f"List filters (`GET /objects/{resource.name}?…`): {listed}, with `start` and `size`."
        )
    rows = ["| field | type | on create | on update | notes |", "|---|---|---|---|---|"]
    if "post" not in resource.methods:  # read-only: every member is
        rows = ["| field | type | notes |", "|---|---|---|"]
    for path, kind, entry in ordered(model_service.model(resource), described):
        member = described.members.get(path)
        if "post" not in resource.methods:
            rows.append(f"| `{path}` | {kind} | {notes(member)} |")
            continue
        required = bool(member is not None and member.field.required)
        rows.append(
            f"| `{path}` | {kind} | {create(entry, required)} | {update(entry)} | {notes(member)} |"
        )
    return "\n".join([*lines, "", *rows])


def workflow_reference(resource: model_service.Resource) -> str:
    body = model_service.model(resource)
    request = spec.describe(resource.view.input_serializer)
    rows = ["| field | type | required | notes |", "|---|---|---|---|"]
    for path, kind, _ in ordered(body["request"], request):
        member = request.members.get(path)
        required = "yes" if member is not None and member.field.required else ""
        rows.append(f"| `{path}` | {kind} | {required} | {notes(member)} |")
    response = spec.describe(resource.view.result_serializer)
    result = ["| field | type |", "|---|---|"]
    result += [f"| `{path}` | {kind} |" for path, kind, _ in ordered(body["response"], response)]
    needs = ", ".join(f"`{name}`" for name in resource.view.required_permissions)
    return "\n".join(
        [
            f"Permissions: {needs}.",
            "",
            f"Request body of `POST /{resource.api_object}`:",
            "",
            *rows,
            "",
            "Result:",
            "",
            *result,
        ]
    )


def ordered(body: Mapping[str, Any], described: spec.ObjectSpec) -> list[tuple[str, str, dict]]:
    """The members of a model in the order the object renders them (a group's in its place)."""
    order = list(described.members)
    found = list(members(body, ""))
    return sorted(found, key=lambda row: order.index(row[0]) if row[0] in order else len(order))


def members(body: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, str, dict]]:
    """(path, type, model entry) of each member of a model level, groups flattened: fields,
    groups, references, lists."""
    for name, entry in (body.get("fields") or {}).items():
        yield prefix + name, value_type(entry), entry
    for name, group in (body.get("groups") or {}).items():
        yield from members(group, f"{prefix}{name}.")
    for name, ref in (body.get("refs") or {}).items():
        fields = ref["fields"]
        naming = fields.get("key") or next(iter(fields.values()))
        shown = [f"`{extra}`" for extra in fields if extra not in ("key", "id", "href")]
        kind = f"reference to `{ref['apiObject']}`"
        if shown:
            kind += " (also shows " + ", ".join(shown) + ")"
        if naming.get("nullable"):
            kind += ", or null"
        yield prefix + name, kind, naming
    for name, listed in (body.get("lists") or {}).items():
        read = {"readOnly": True}
        yield prefix + name, f"array of `{listed['apiObject']}`", read


def notes(member: spec.Member | None) -> str:
    """The member's help text, as the OpenAPI schema describes it (a condition on when it is
    required, what it means)."""
    said = str(member.field.help_text or "") if member is not None else ""
    return said.replace("|", "\\|").replace("\n", " ")


def value_type(entry: Mapping[str, Any]) -> str:
    if "enum" in entry:
        kind = " \\| ".join(f"`{value}`" for value in entry["enum"])
    else:
        kind = entry["type"] + (f" ({entry['format']})" if "format" in entry else "")
    return kind + (", or null" if entry.get("nullable") else "")


def create(entry: Mapping[str, Any], required: bool) -> str:
    if entry.get("readOnly"):
        return "read-only"
    said = "required" if required else "optional"
    if "default" in entry:
        said += f", default `{json.dumps(entry['default'])}`".replace("|", "\\|")
    if entry.get("writeOnly"):
        said += ", write-only"
    return said


def update(entry: Mapping[str, Any]) -> str:
    if entry.get("readOnly"):
        return "read-only"
    return "changeable" if entry.get("mutable") else "fixed after create"


class Command(BaseCommand):
    help = "Write the generated parts of docs/ (fields, errors), or check them (--check)."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--write", action="store_true", help="rewrite the generated parts")
        group.add_argument("--check", action="store_true", help="fail if a part is stale")

    def handle(self, *args, write, check, **options):
        stale = []
        for page in pages(Path(settings.BASE_DIR)):
            text = page.read_text()
            if broken := unmatched(text):
                raise CommandError(
                    f"{DOCS}/{page.name}: markers that open or close no generated part: "
                    + "; ".join(broken)
                )
            wanted = rendered(text)
            if wanted == text:
                continue
            stale.append(page.name)
            if write:
                page.write_text(wanted)
        if check and stale:
            raise CommandError(
                f"docs/ is stale ({', '.join(stale)}): run `python manage.py api_reference --write`"
            )
        self.stdout.write(
            f"{DOCS}/: {'rewrote' if write else 'stale'} {', '.join(stale)}"
            if stale
            else f"{DOCS}/ is up to date"
        )
