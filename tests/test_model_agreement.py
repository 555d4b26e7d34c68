"""The model service, the OpenAPI document and the real bodies say the same thing (contract 13.1,
last bullet): for every object and workflow, the model's members (names, types, readOnly,
writeOnly, nullable, format, enum) are the OpenAPI component's, and a real GET body (of objects
made with every optional field set) or workflow answer has exactly those keys, with those JSON
types, null only where the model says nullable."""

import pytest

from tests.support.refs import href

MODEL = "/services/core/model"
JSON_TYPES = {
    "string": str,
    "number": (int, float),
    "integer": int,
    "boolean": bool,
    "array": list,
    "object": dict,
}


# --- the three descriptions, as comparable records: API path -> what is said of it --------------


def model_records(part: dict, prefix: str = "") -> dict[str, dict]:
    """Every member of a model part (fields, groups, refs, lists), by dotted path."""
    records = {}
    for name, entry in (part.get("fields") or {}).items():
        records[prefix + name] = {
            "type": entry["type"],
            "readOnly": entry["readOnly"],
            "writeOnly": entry["writeOnly"],
            "nullable": entry["nullable"],
            "format": entry.get("format"),
            "enum": entry.get("enum"),
        }
    for kind in ("groups", "refs"):
        for name, inner in (part.get(kind) or {}).items():
            records[prefix + name] = {"type": "object"}
            records.update(model_records(inner, f"{prefix}{name}."))
    for name in part.get("lists") or {}:
        # A list of objects: a read-only array of them.
        records[prefix + name] = {
            "type": "array",
            "readOnly": True,
            "writeOnly": False,
            "nullable": False,
            "format": None,
            "enum": None,
        }
    return records


def resolve(schema: dict, prop: dict) -> dict:
    """A property with `$ref` and a single `allOf` followed, and an enum offered with null
    (`oneOf: [<enum>, NullEnum]`) read as a nullable enum."""
    prop = dict(prop)
    if "$ref" in prop:
        target = schema["components"]["schemas"][prop.pop("$ref").rsplit("/", 1)[1]]
        return resolve(schema, {**target, **prop})
    if "allOf" in prop:
        (inner,) = prop.pop("allOf")
        return resolve(schema, {**resolve(schema, inner), **prop})
    if "oneOf" in prop:
        options = [resolve(schema, option) for option in prop.pop("oneOf")]
        (real,) = [option for option in options if option.get("enum") != [None]]
        return {**real, **prop, "nullable": True}
    return prop


def openapi_records(
    schema: dict,
    component: dict,
    containers: set[str],
    prefix: str = "",
    read_only: bool = False,
    nullable: bool = False,
) -> dict[str, dict]:
    """The properties of a component by dotted path, descending into the ones the model calls
    groups or refs (`containers`); a container's readOnly and nullable hold for what it holds."""
    records = {}
    for name, raw in resolve(schema, component)["properties"].items():
        prop = resolve(schema, raw)
        path = prefix + name
        if path in containers:
            records[path] = {"type": prop["type"]}
            records.update(
                openapi_records(
                    schema,
                    prop,
                    containers,
                    f"{path}.",
                    read_only or bool(prop.get("readOnly")),
                    nullable or bool(prop.get("nullable")),
                )
            )
        else:
            records[path] = {
                "type": prop["type"],
                "readOnly": read_only or bool(prop.get("readOnly")),
                "writeOnly": bool(prop.get("writeOnly")),
                "nullable": nullable or bool(prop.get("nullable")),
                "format": prop.get("format"),
                "enum": prop.get("enum"),
            }
    return records


def containers_of(records: dict[str, dict]) -> set[str]:
    return {path for path, record in records.items() if record == {"type": "object"}}


def component_of(schema: dict, path: str, method: str, status: str | None = None) -> dict:
    operation = schema["paths"][path][method]
    if status is None:
        return single(operation["requestBody"]["content"]["application/json"]["schema"])
    envelope = operation["responses"][status]["content"]["application/json"]["schema"]
    return single(envelope)["properties"]["ia::result"]


def single(schema: dict) -> dict:
    """An object's GET and POST also document their batch forms (contract 13.3) as a `oneOf`:
    its first choice is the single object's."""
    return schema["oneOf"][0] if "oneOf" in schema else schema


def compare_with_openapi(schema: dict, part: dict, response: dict, request: dict | None) -> None:
    """A model part against the OpenAPI component it describes (write-only members against the
    request component, where they alone are)."""
    records = model_records(part)
    containers = containers_of(records)
    documented = openapi_records(schema, response, containers)
    write_only = {path for path, record in records.items() if record.get("writeOnly")}
    if write_only:
        sent = openapi_records(schema, request, containers)
        for path in write_only:
            documented[path] = sent[path]
    assert documented == records


# --- real bodies --------------------------------------------------------------------------------


def check_body(part: dict, body: dict, seen: dict[str, set], prefix: str = "") -> None:
    """A real body has exactly the model's readable members, each of its JSON type (null only
    where nullable); `seen` collects the paths that held a value."""
    fields = part.get("fields") or {}
    groups = part.get("groups") or {}
    refs = part.get("refs") or {}
    lists = part.get("lists") or {}
    readable = [name for name, entry in fields.items() if not entry["writeOnly"]]
    assert sorted(body) == sorted([*readable, *groups, *refs, *lists]), prefix
    for name in readable:
        entry, value = fields[name], body[name]
        path = prefix + name
        if value is None:
            assert entry["nullable"], path
            continue
        if value != []:
            seen.setdefault(path, set()).add(type(value).__name__)
        wanted = JSON_TYPES[entry["type"]]
        assert isinstance(value, wanted), (path, value)
        assert not (isinstance(value, bool) and entry["type"] in ("number", "integer")), path
        if "enum" in entry:
            assert value in entry["enum"], (path, value)
    for kind in (groups, refs):
        for name, inner in kind.items():
            value = body[name]
            if value is None:
                assert any(f["nullable"] for f in inner["fields"].values()), prefix + name
                continue
            check_body(inner, value, seen, f"{prefix}{name}.")
    for name in lists:
        assert isinstance(body[name], list), prefix + name
        assert all(isinstance(element, dict) for element in body[name])
        if body[name]:
            seen.setdefault(prefix + name, set()).add("list")


def optional_paths(part: dict, prefix: str = "") -> set[str]:
    """What a body may leave null or empty: nullable members, arrays and lists."""
    paths = {
        prefix + name
        for name, entry in (part.get("fields") or {}).items()
        if (entry["nullable"] or entry["type"] == "array") and not entry["writeOnly"]
    }
    paths |= {prefix + name for name in part.get("lists") or {}}
    for kind in ("groups", "refs"):
        for name, inner in (part.get(kind) or {}).items():
            paths |= optional_paths(inner, f"{prefix}{name}.")
    return paths


# --- the scene ----------------------------------------------------------------------------------


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def model_of(api, name: str) -> dict:
    response = api.get(MODEL, {"name": name})
    assert response.status_code == 200, response.content
    return response.json()["ia::result"]


def resources(api, type_: str) -> list[str]:
    response = api.get(MODEL, {"type": type_})
    return [entry["apiObject"] for entry in response.json()["ia::result"]]


# --- the tests ----------------------------------------------------------------------------------


def test_every_object_model_is_its_openapi_component_and_its_real_bodies(api, schema, scene):
    objects, _, _ = scene
    names = [name.removeprefix("objects/") for name in resources(api, "object")]
    assert sorted(names) == sorted(objects)
    for name in names:
        model = model_of(api, name)
        detail = f"/objects/{name}/{{key}}"
        response = component_of(schema, detail, "get", "200")
        collection = schema["paths"][f"/objects/{name}"]
        request = component_of(schema, f"/objects/{name}", "post") if "post" in collection else None
        compare_with_openapi(schema, model, response, request)

        seen: dict[str, set] = {}
        for obj in objects[name]:
            got = api.get(href(obj))
            assert got.status_code == 200, got.content
            check_body(model, got.json()["ia::result"], seen)
        # The scene sets every optional member somewhere: each held a value, each array an item.
        assert optional_paths(model) - set(seen) == set(), name


def test_every_workflow_model_is_its_openapi_bodies_and_its_real_exchange(api, schema, scene):
    _, requests, answers = scene
    names = resources(api, "workflow")
    assert sorted(names) == sorted(path.lstrip("/") for path in answers)
    for name in names:
        path = f"/{name}"
        model = model_of(api, name)
        request = component_of(schema, path, "post")
        response = component_of(schema, path, "post", "200")
        compare_with_openapi(schema, model["request"], request, request)
        compare_with_openapi(schema, model["response"], response, None)
        # What was sent is what the request model names, each of its type.
        sent = model_records(model["request"])
        for member, value in requests[path].items():
            assert isinstance(value, JSON_TYPES[sent[member]["type"]]), (name, member)
        check_body(model["response"], answers[path], {})
