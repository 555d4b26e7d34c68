"""The scenes tests/test_query_counts.py measures: a registry, and the building blocks the
scenes share (tests/support/graphql_scenes.py registers GraphQL's)."""

from collections.abc import Callable

from tests.support.factories import issue, kit, kit_line, part, run, stock, warehouse
from tests.support.refs import href
from tests.support.users import make_user

OBJECTS = "/objects/inventory-control"
QUERY = "/services/core/query"

# A scene builds what one measurement reads and returns the request: (url, query body or None).
# It is called twice in one test, with n=1 and n=MANY and distinct tags, so both sets coexist.
Scene = Callable[..., tuple[str, dict | None]]
SCENES: dict[str, Scene] = {}


def scene(name: str):
    def register(build: Scene) -> Scene:
        SCENES[name] = build
        return build

    return register


# --- building blocks ----------------------------------------------------------------------------


def items(user, tag: str, n: int, item_type: str = "inventory"):
    return [part(user, f"{tag}-{i}", item_type) for i in range(n)]


def warehouses(user, tag: str, n: int):
    return [warehouse(user, f"W{tag}{i}") for i in range(n)]


def kit_with_lines(users, tag: str, n: int):
    """A kit of n lines, written by the users in turn (audit users differ from line to line)."""
    the_kit = part(users[0], f"Kit-{tag}", "kit")
    for i, component in enumerate(items(users[0], f"C{tag}", n)):
        kit_line(users[i % len(users)], the_kit, component, i + 1)
    return the_kit


def stocked(user, tag: str, quantity: int = 10):
    return stock(user, part(user, f"Stock-{tag}"), quantity)


def kit_of(user, code: str):
    return kit(user, run(user, code))


def users(admin, tag: str):
    return [admin, make_user(f"other-{tag}")]


def nested_kits(user, tag: str, n: int):
    """n kits, each holding a nested kit of a stocked part (exploded by the stock figures)."""
    for i in range(n):
        inner, outer = part(user, f"In-{tag}{i}", "kit"), part(user, f"Out-{tag}{i}", "kit")
        kit_line(user, inner, stocked(user, f"{tag}{i}").part, 2)
        kit_line(user, outer, inner, 3)


def planned_run(user, tag: str, n: int):
    """A run of a kit holding n kits of a stocked part each, and a kit holding one of each."""
    outer = part(user, f"Out-{tag}", "kit")
    the_run = run(user, f"RUN-{tag}", part=outer)
    part_kit = kit(user, the_run)
    for i in range(n):
        inner, inventory = part(user, f"In-{tag}{i}", "kit"), stocked(user, f"{tag}{i}")
        kit_line(user, inner, inventory.part, 2)
        kit_line(user, outer, inner, 3)
        issue(user, part_kit, inventory, 1)
    return the_run, part_kit


def batch_of(objects) -> str:
    """`/objects/…/{k1},{k2},…` of these objects."""
    return href(objects[0]) + "".join(f",{obj.pk}" for obj in objects[1:])


def query(obj: str, *fields: str) -> dict:
    return {"object": f"inventory-control/{obj}", "fields": list(fields), "size": 100}
