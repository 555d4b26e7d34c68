"""Import direction: core < inventory < kitcomponents < kitting, the domain does not import the
protocol, and operations (ops) do not import the protocol either (the protocol imports ops's
rate-limit windows only). Read from the source with `ast`, so an import anywhere in a module
counts."""

import ast
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["core", "inventory", "kitcomponents", "kitting"]
# Every module of an app outside its protocol package `api/` is domain (models, services,
# selectors, admin, management commands, demo data…) and never imports the protocol: commands
# about API clients live in config.api, the one rendering the catalogue for nginx in ops.
# ops serves REST, GraphQL and the token endpoint alike: its middleware, rate-limit windows,
# logs and metrics never import config or a protocol's library; config imports ops.ratelimit
# (and what it imports), and names the rest only in settings and URLs.
PROTOCOL_PACKAGES = ("config", "rest_framework", "drf_spectacular", "oauth2_provider")
# Known exceptions, (module, import) -> its reason; the list only shrinks.
ALLOWED: dict[tuple[str, str], str] = {
    ("ops/views.py", "config.api"): "/readyz's 503 and the refusals are ia::error bodies",
    ("ops/views.py", "rest_framework.views"): (
        "/metrics is a DRF view: staff sign in by session or bearer token, as on the API"
    ),
    ("ops/views.py", "rest_framework.permissions"): (
        "/metrics admits staff or a scraper from METRICS_ALLOWED_CIDRS (a DRF permission)"
    ),
    ("ops/management/commands/proxy_errors.py", "config.api"): (
        "nginx's own refusals are answered with the catalogue's ia::error bodies"
    ),
}


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules_of(app: str) -> list[Path]:
    return sorted(p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("app", ORDER)
def test_no_app_imports_a_higher_one(app):
    higher = ORDER[ORDER.index(app) + 1 :]
    upward = [
        (str(path.relative_to(ROOT)), module)
        for path in modules_of(app)
        for module in imported_modules(path)
        if module.split(".")[0] in higher and (str(path.relative_to(ROOT)), module) not in ALLOWED
    ]
    assert upward == []


@pytest.mark.parametrize("app", ORDER)
def test_the_domain_does_not_import_the_protocol(app):
    protocol = [
        (str(path.relative_to(ROOT)), module)
        for path in modules_of(app)
        if "api" not in path.relative_to(ROOT).parts
        for module in imported_modules(path)
        if module in ("config.api", "rest_framework", "ops")
        or module.startswith(
            ("config.api.", "rest_framework.", "drf_spectacular", "oauth2_provider", "ops.")
        )
        # Nor operations: metrics and log formats are ops's (the domain sends signals).
        or module.startswith(("prometheus_client", "django_prometheus"))
        if (str(path.relative_to(ROOT)), module) not in ALLOWED
    ]
    assert protocol == []


def test_operations_do_not_import_the_protocol():
    protocol = [
        (str(path.relative_to(ROOT)), module)
        for path in modules_of("ops")
        for module in imported_modules(path)
        if module.split(".")[0] in PROTOCOL_PACKAGES
        if (str(path.relative_to(ROOT)), module) not in ALLOWED
    ]
    assert protocol == []


def ops_imports(module: str) -> set[str]:
    """`module` and the ops modules it imports, directly or through each other."""
    found, todo = set(), [module]
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            path = ROOT.joinpath(*name.split(".")).with_suffix(".py")
            todo += [m for m in imported_modules(path) if m.split(".")[0] == "ops" and m != "ops"]
    return found


def test_the_protocol_imports_only_the_rate_limit_windows_of_ops():
    allowed = ops_imports("ops.ratelimit")
    imported = {
        (str(path.relative_to(ROOT)), module)
        for path in modules_of("config")
        for module in imported_modules(path)
        if module.split(".")[0] == "ops" and module not in allowed
    }
    assert imported == set()


def relation_walks(path: Path, accessors: set[str]) -> list[tuple[int, str]]:
    """Uses of a higher model without importing it: a reverse accessor (`item.kit_components`,
    `"kit_lines__part_kit"`) or `related_model` (a model reached through `_meta`)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and node.attr in {*accessors, "related_model"}:
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.Constant) and str(node.value).split("__")[0] in accessors:
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.keyword) and str(node.arg).split("__")[0] in accessors:
            found.append((node.value.lineno, node.arg))
    return found


@pytest.mark.parametrize("app", ORDER)
def test_no_app_walks_a_relation_up(app):
    higher = ORDER[ORDER.index(app) + 1 :]
    accessors = {
        name
        for model in apps.get_app_config(app).get_models()
        for field in model._meta.get_fields()
        if field.auto_created and not field.concrete
        if field.related_model._meta.app_label in higher
        for name in (field.name, field.get_accessor_name())
    }
    walks = [
        (str(path.relative_to(ROOT)), *walk)
        for path in modules_of(app)
        for walk in relation_walks(path, accessors)
    ]
    assert walks == []


def test_the_checker_sees_a_relation_walk(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "def f(item):\n"
        "    item.kit_components.all()\n"
        "    Item.objects.filter(kit_lines__part_kit=1)\n"
        "    return Item._meta.get_field('kit_components').related_model\n"
    )
    found = relation_walks(module, {"kit_components", "kit_lines"})
    assert sorted(name for _, name in found) == [
        "kit_components",
        "kit_components",
        "kit_lines__part_kit",
        "related_model",
    ]


def test_the_checker_sees_an_upward_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from kitting.models import Run\n")
    assert "kitting.models" in imported_modules(module)
