"""Production code uses only the public, documented APIs of Django, DRF, drf-spectacular,
django-oauth-toolkit, django-import-export and the GraphQL stack (strawberry,
strawberry-django, graphql-core, cross-web): no SQL-compiler internals, no `_private` names or
attributes of theirs.

Read with `ast` from the source of every production module (not tests, not migrations):
- an import from those packages of a `_` name, of a known-internal module or name;
- an attribute `x._name` (or `getattr(x, "_name")`) whose name our own modules do not define,
  unless allowed below; a name is ours only where our `def`/`class` statements, our module or
  class bodies or `self._name = ...` in our classes define it, never by assigning it onto
  another object (`request._post = ...` is Django's attribute, whoever assigns it);
- an undocumented public attribute of theirs (`connection.ops`, a Q's `children`), and any
  attribute of a queryset's SQL query (`<x>.query.<attr>`);
- a method of ours overriding a `_` method of a class from those packages (a private hook).
"""

import ast
import importlib
import inspect
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = ("config", "core", "inventory", "kitcomponents", "kitting", "ops")
PACKAGES = (
    "django",
    "rest_framework",
    "drf_spectacular",
    "oauth2_provider",
    "strawberry",
    "strawberry_django",
    "graphql",
    "cross_web",
    "django_prometheus",
    "prometheus_client",
    "import_export",
)

# Modules whose contents are Django's implementation, not its API.
INTERNAL_MODULES = ("django.db.models.sql", "django.db.backends", "django.db.models.query_utils")
# Documented names that live in an otherwise internal module.
PUBLIC_IN_INTERNAL = {"django.db.backends.signals": {"connection_created"}}
# Internal names re-exported by public modules.
INTERNAL_NAMES = {
    "get_related_populators",
    "RelatedPopulator",
    "ModelIterable",
    "ValuesIterable",
    "ValuesListIterable",
    "FlatValuesListIterable",
    "Query",
    "InsertQuery",
    "UpdateQuery",
    "DeleteQuery",
    "SQLCompiler",
    "ServerBindingCursor",
}

# `_` attributes that are documented API, each with where it is documented.
ALLOWED_ATTRIBUTES = {
    "_meta": "Model._meta, the Model _meta API (docs: ref/models/meta)",
    "_default_manager": "Model._default_manager (docs: topics/db/managers, default managers)",
    "_base_manager": "Model._base_manager (docs: topics/db/managers, base managers)",
    "_state": "Model._state.adding / .db (docs: ref/models/instances, customizing model loading)",
}

# Undocumented attributes without a `_`, each with whose it is.
INTERNAL_ATTRIBUTES = {
    "ops": "connection.ops, the backend's DatabaseOperations",
    "children": "django.utils.tree.Node (Q, WhereNode)",
    "connector": "django.utils.tree.Node (Q, WhereNode)",
    "negated": "django.utils.tree.Node (Q, WhereNode)",
    "contains_outer_reference": "BaseExpression",
    "klass_info": "SQLCompiler",
}
# Functions that read or write an attribute named by a string.
ATTRIBUTE_FUNCTIONS = ("getattr", "hasattr", "setattr", "delattr")

# Undocumented uses not replaced yet, each with why: the test fails on any other (and on one of
# these once it is gone, so that the list only shrinks).
PENDING: dict[str, str] = {}


def production_files() -> list[Path]:
    files = []
    for top in PRODUCTION:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" not in path.parts:
                files.append(path)
    return files


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def ours(name: str) -> bool:
    return name.split(".")[0] in PRODUCTION


def third_party(module: str) -> bool:
    return module.split(".")[0] in PACKAGES


def internal_module(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in INTERNAL_MODULES) or any(
        is_private(part) for part in module.split(".")
    )


def names_we_define(trees) -> set[str]:
    """Every `_` name our modules define: functions and classes, names bound in a module or
    class body, and `self._x = ...` / `cls._x = ...` in the methods of our classes. Not local
    variables, and not attributes assigned onto other objects."""
    defined = set()

    def body_names(statements) -> None:
        for statement in statements:
            for node in ast.walk(statement):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    defined.add(node.name)
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                continue  # its locals are no attributes of anything
            if isinstance(statement, ast.ClassDef):
                body_names(statement.body)
                for method in statement.body:
                    if isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
                        defined.update(own_attributes(method))
                continue
            for node in ast.walk(statement):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    defined.add(node.id)
                elif isinstance(node, ast.alias) and node.asname:
                    defined.add(node.asname)

    def own_attributes(method) -> set[str]:
        """What a method stores on `self` (or `cls`), or on the instance its `__new__` makes."""
        receivers = {arg.arg for arg in (method.args.posonlyargs + method.args.args)[:1]}
        if method.name == "__new__":
            receivers = {
                target.id
                for node in ast.walk(method)
                if isinstance(node, ast.Assign) and "__new__" in ast.unparse(node.value)
                for target in node.targets
                if isinstance(target, ast.Name)
            }
        return {
            node.attr
            for node in ast.walk(method)
            if isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id in receivers
        }

    for tree in trees:
        body_names(tree.body)
    return {name for name in defined if is_private(name)}


def import_violations(path: Path, tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if third_party(alias.name) and internal_module(alias.name):
                    found.append(f"{path} imports {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module and third_party(node.module):
            public = PUBLIC_IN_INTERNAL.get(node.module, set())
            for alias in node.names:
                name = alias.name
                if name in public:
                    continue
                if internal_module(node.module) or is_private(name) or name in INTERNAL_NAMES:
                    found.append(f"{path} imports {name} from {node.module}")
    return found


def attribute_violations(path: Path, tree: ast.Module, defined: set[str]) -> list[str]:
    found = []
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Attribute):
            name = node.attr
            if isinstance(node.value, ast.Attribute) and node.value.attr == "query":
                found.append(f"{path} uses .query.{name}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ATTRIBUTE_FUNCTIONS
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            name = node.args[1].value
        if name is None:
            continue
        if name in INTERNAL_ATTRIBUTES or (
            is_private(name) and name not in defined and name not in ALLOWED_ATTRIBUTES
        ):
            found.append(f"{path} uses .{name}")
    return found


def hook_violations(path: Path, tree: ast.Module) -> list[str]:
    """Methods our classes define (`def _x`) that override a `_` method of a third-party base
    class: a private hook."""
    module = importlib.import_module(module_name(path))
    found = []
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        cls = getattr(module, node.name, None)
        methods = [
            item.name
            for item in node.body
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and is_private(item.name)
        ]
        for name in methods:
            for base in inspect.getmro(cls)[1:]:
                if third_party(base.__module__) and name in vars(base):
                    found.append(f"{path.relative_to(ROOT)} {node.name}.{name} overrides a hook")
                    break
    return found


def test_the_checks_find_what_they_look_for():
    source = (
        "from django.db.models.sql import Query\n"
        "from django.db.models.query import get_related_populators\n"
        "from rest_framework.fields import _UnvalidatedField\n"
        "import django.db.backends.postgresql.base\n"
        "from django.db.backends.signals import connection_created\n"
        "_MINE = 1\n"
        "def f(request, model, queryset, q, connection):\n"
        "    request._request, model._meta, model._mine, model._MINE, model._local\n"
        "    _local = 1\n"
        "    request._post, request._files = {}, {}\n"
        "    getattr(request, '_stream'), hasattr(model, '_mine')\n"
        "    queryset.query.annotations, q.children, q.connector, connection.ops.quote_name\n"
        "class Mine:\n"
        "    _class_level = 1\n"
        "    def __new__(cls):\n"
        "        made = super().__new__(cls)\n"
        "        made._made = 1\n"
        "        return made\n"
        "    def __init__(self):\n"
        "        self._mine = self._class_level + self._made\n"
    )
    tree = ast.parse(source)
    assert len(import_violations(Path("x.py"), tree)) == 4
    found = attribute_violations(Path("x.py"), tree, names_we_define([tree]))
    assert sorted(found) == sorted(
        f"x.py uses .{name}"
        for name in (
            "_request",
            "_local",
            "_post",
            "_files",
            "_stream",
            "query.annotations",
            "children",
            "connector",
            "ops",
        )
    )


def test_production_code_uses_public_apis_only(db):
    files = production_files()
    trees = {path: parse(path) for path in files}
    defined = names_we_define(trees.values())
    found = []
    for path, tree in trees.items():
        relative = path.relative_to(ROOT)
        found += import_violations(relative, tree)
        found += attribute_violations(relative, tree, defined)
        found += hook_violations(path, tree)
    assert sorted(set(found)) == sorted(PENDING), "a new private use, or one fixed: see PENDING"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's connection options")
def test_postgresql_prepares_statements_through_public_settings():
    options = connection.settings_dict["OPTIONS"]
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5
    # libpq's options: set on every connection.
    assert options["options"] == "-c jit=off -c lock_timeout=3000 -c statement_timeout=30000"
