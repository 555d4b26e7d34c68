"""The object spec: built once when Django starts, and a faithful description of what each
object's serializer renders. Also the protocol layer's imports: no circles, no late imports."""

import ast
import importlib
import importlib.util
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

from django.conf import settings

import config.api
from config.api import identity, spec
from config.api.query import registry
from config.api.spec import Role
from inventory import services as inventory_services
from inventory.models import Item
from kitcomponents.selectors import item_list
from kitting.models import Requirement
from kitting.selectors import requirement_list
from tests.support.factories import kit, part, run, stock
from tests.support.kitting import ISSUE, issue_body

# In declaration order: each app declares the objects whose adapters it holds (apps in order).
OBJECTS = [
    "inventory-control/warehouse",
    "inventory-control/item",
    "inventory-control/kit-component",
    "inventory-control/part-inventory",
    "inventory-control/inventory-transaction",
    "inventory-control/run",
    "inventory-control/part-kit",
    "inventory-control/requirement",
]


def test_the_spec_is_built_at_startup_before_any_request():
    # A fresh interpreter: django.setup() alone describes every object and fills the query
    # registry; the URLconf is never imported for it.
    script = (
        "import sys, django; django.setup()\n"
        "from config.api import spec\n"
        "from config.api.query import registry\n"
        "print(','.join(o.name for o in spec.objects()))\n"
        "print(','.join(registry.names()))\n"
        "print('config.urls' in sys.modules)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
        env=env,
    )
    names, queryable, urls_loaded = result.stdout.split()
    assert names.split(",") == OBJECTS
    assert queryable.split(",") == sorted(OBJECTS)
    assert urls_loaded == "False"


def test_the_protocol_owns_paths_ids_and_hrefs():
    described = spec.get("inventory-control/item")
    assert (described.model.__name__, described.id_field) == ("Item", "code")
    assert spec.get("inventory-control/part-kit").id_field is None
    for name in OBJECTS:
        model = spec.get(name).model
        assert identity.object_name(model) == name
        assert not hasattr(model, "API_OBJECT") and not hasattr(model, "href")


def _every_object(admin_user, items, add_line, api):
    """One of each object, every reference and list filled: the issue workflow writes a ledger
    row and fills the kit."""
    add_line(items["Kit_1"], items["Prnt_Paper"], units=2)
    widget = part(admin_user, "Widget", enable_serial_no=True, serial_mask="W-####")
    where = inventory_services.warehouse_create(user=admin_user, code="WH-1", name="Main")
    from_stock = stock(admin_user, widget, 1, serial_number="W-0001", location=where)
    add_line(items["SKit_1"], widget)  # the run below requires a widget
    the_run = run(admin_user, "RUN-1", part=items["SKit_1"], quantity=1)
    the_kit = kit(admin_user, the_run)
    response = api.post(ISSUE, issue_body(the_kit, from_stock), format="json")
    assert response.status_code == 200, response.json()


def _check(described: spec.ObjectSpec, rendered: dict, members) -> None:
    shown = [m for m in members if not m.write_only]
    assert list(rendered) == [m.name for m in shown], described.name
    for member in shown:
        value = rendered[member.name]
        if member.role is Role.GROUP:
            _check(described, value, member.members)
        elif member.role is Role.REFERENCE and value is not None:
            assert list(value)[:2] == ["key", "id"] and list(value)[-1] == "href"
            assert set(value) <= member.field.allowed_members()
        elif member.role is Role.LIST:
            for element in value:
                _check(member.element, element, member.element.top)
        elif member.role is Role.HREF:
            assert value == identity.href_of(described.name, rendered["key"])


def test_each_spec_matches_what_its_serializer_renders(admin_user, items, add_line, api):
    _every_object(admin_user, items, add_line, api)
    for name in OBJECTS:
        described = spec.get(name)
        # Items and requirements render what their list selectors annotate (contract 15).
        selected = {Item: item_list(), Requirement: requirement_list()}
        rows = selected.get(described.model, described.model._default_manager)
        instance = described.optimize(rows.order_by("pk")).first()
        assert instance is not None, name
        rendered = described.serializer_class(instance).data
        _check(described, rendered, described.top)
        # A payload may carry back every member rendered, and nothing else.
        assert list(described.unknown_members(rendered)) == []
        assert list(described.unknown_members({**rendered, "bogus": 1})) == ["/bogus"]
        for path, source in described.api_to_model.items():
            assert described.members[path].source == source
            assert described.model_to_api[source.split(".")[0]] in described.members
    item = spec.get("inventory-control/item")
    assert item.model_to_api["enable_serial_no"] == "tracking.enableSerialNo"
    assert item.api_to_model["tracking.enableSerialNo"] == "enable_serial_no"
    assert item.prefetch and item.members["kitComponents"].role is spec.Role.LIST
    assert item.members["audit.createdByUser"].role is spec.Role.USER
    assert item.members["tracking"].role is spec.Role.GROUP
    assert registry.get(item.name).spec is item


# --- import discipline of config/api ------------------------------------------------------------
OUR_PACKAGES = ("config", "inventory", "kitcomponents", "kitting", "core")


def _modules():
    root = Path(config.api.__file__).parent
    for info in pkgutil.walk_packages([str(root)], prefix="config.api."):
        yield info.name, Path(importlib.util.find_spec(info.name).origin)


def test_every_protocol_module_imports_and_imports_ours_at_the_top_only():
    """A function-level import of our own code in config/api hides an import circle."""
    late = []
    for name, path in _modules():
        importlib.import_module(name)
        functions = [
            node
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        for function in functions:
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom):
                    modules = ["config" if node.level else (node.module or "")]
                elif isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                else:
                    continue
                if any(module.split(".")[0] in OUR_PACKAGES for module in modules):
                    late.append(f"{name}:{node.lineno}")
    assert late == []


def _top_level_imports(name: str, path: Path, modules: set[str]) -> set[str]:
    """The config.api modules a module imports when it is loaded (`from a import b` names the
    module a.b where b is one)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], base]
                )
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {m for m in found if m in modules and m != name}


def test_config_api_has_no_import_circles():
    paths = dict(_modules())
    paths["config.api"] = Path(config.api.__file__)
    graph = {name: _top_level_imports(name, path, set(paths)) for name, path in paths.items()}
    # Depth-first search for a back edge.
    state: dict[str, str] = {}
    circles = []

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for imported in sorted(graph[name]):
            if state.get(imported) == "open":
                circles.append(" -> ".join([*trail[trail.index(imported) :], imported]))
            elif imported not in state:
                visit(imported, [*trail, imported])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert circles == []
