"""inventory-control/kit-component over HTTP: references, the section 10 statuses it answers, and
the list."""

import pytest

from config.api import identity
from kitcomponents.models import KitComponent
from tests.support.errors import assert_error, assert_rules, err, invalid
from tests.support.kit_components import KC, body, lines_of, patch, post, state
from tests.support.kit_components import parts as parts
from tests.support.refs import ref
from tests.support.users import make_user

# --- references ---------------------------------------------------------------------------


def test_references_by_id(api, items):
    response = post(
        api, {"kit": {"id": "Kit_1"}, "component": {"id": "Prnt_Paper"}, "numberOfUnits": 1}
    )
    assert response.status_code == 201
    assert lines_of(items["Kit_1"]) == [("Prnt_Paper", 1)]


def test_references_by_key_and_id_agreeing(api, items):
    kit, paper = items["Kit_1"], items["Prnt_Paper"]
    response = post(
        api,
        {
            "kit": {"key": str(kit.pk), "id": "Kit_1"},
            "component": {"key": str(paper.pk), "id": "Prnt_Paper"},
            "numberOfUnits": 1,
        },
    )
    assert response.status_code == 201
    assert lines_of(kit) == [("Prnt_Paper", 1)]


@pytest.mark.parametrize("field", ["kit", "component"])
def test_references_by_key_and_id_disagreeing(api, items, add_line, field):
    kit, paper = items["Kit_1"], items["Prnt_Paper"]
    data = body(kit, paper)
    data[field] = {"key": str(data[field]["key"]), "id": "Kit_2"}
    line = add_line(items["Kit_2"], items["NonInv"])
    before = state()
    mismatch = err(
        "KS-4225",
        f"{field}: key {data[field]['key']} and id Kit_2 name different objects",
        field,
        FIELD=field,
        KEY=data[field]["key"],
        ID="Kit_2",
    )
    assert_rules(post(api, data), mismatch)
    assert_rules(patch(api, line, {field: data[field]}), mismatch)
    assert state() == before


@pytest.mark.parametrize(
    ("reference", "described"),
    [
        ({"key": "999999"}, "key 999999"),
        ({"key": "Kit_1"}, "key Kit_1"),
        ({"id": "No_Such_Item"}, "id No_Such_Item"),
        ({"key": "999999", "id": "Kit_1"}, "key 999999"),
    ],
)
@pytest.mark.parametrize("field", ["kit", "component"])
def test_unknown_references(api, items, add_line, field, reference, described):
    data = body(items["Kit_1"], items["Prnt_Paper"])
    data[field] = reference
    line = add_line(items["Kit_2"], items["NonInv"])
    before = state()
    not_found = err(
        "KS-4224",
        f"{field} refers to a inventory-control/item that does not exist: {described}",
        field,
        FIELD=field,
        OBJECT="inventory-control/item",
        REFERENCE=described,
    )
    assert_rules(post(api, data), not_found)
    assert_rules(patch(api, line, {field: reference}), not_found)
    assert state() == before


@pytest.mark.parametrize("reference", ["Kit_1", 5, [], {}, {"key": ""}, {"href": "/objects/x"}])
def test_references_that_are_not_references(api, items, reference):
    data = body(items["Kit_1"], items["Prnt_Paper"])
    data["kit"] = reference
    before = state()
    assert_rules(post(api, data), invalid("kit", "must be an object with a key or an id"))
    assert state() == before


def test_unknown_members_of_a_reference(api, items):
    data = body(items["Kit_1"], items["Prnt_Paper"])
    data["kit"]["name"] = "Kit"  # kit renders key, id and href only
    data["component"]["colour"] = "white"
    data["component"]["name"] = "Paper"  # rendered for components: allowed back, ignored
    assert_error(
        post(api, data),
        400,
        err("REST-1064", "Payload contains errors"),
        [
            err("REST-1043", "/kit/name is not a valid field", "/kit/name", FIELD="/kit/name"),
            err(
                "REST-1043",
                "/component/colour is not a valid field",
                "/component/colour",
                FIELD="/component/colour",
            ),
        ],
    )
    assert not KitComponent.objects.exists()


# --- protocol statuses (section 10) -------------------------------------------------------


@pytest.mark.parametrize("line_key", ["999999", "first"])
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_key_is_404(api, items, add_line, method, line_key):
    add_line(items["Kit_1"], items["Prnt_Paper"])
    before = state()
    response = getattr(api, method)(f"{KC}/{line_key}", {"numberOfUnits": 2}, format="json")
    assert_error(
        response,
        404,
        err(
            "KS-4041",
            f"inventory-control/kit-component with key {line_key} was not found",
            OBJECT="inventory-control/kit-component",
            KEY=line_key,
        ),
    )
    assert state() == before


def test_stale_if_match_is_412(api, items, add_line, parts):
    line = add_line(items["Kit_1"], parts[0], line_number=1)
    post(api, body(items["Kit_1"], parts[1], lineNumber=1))  # pushes the line: version 2
    before = state()
    for response in (
        patch(api, line, {"numberOfUnits": 9}, HTTP_IF_MATCH='"1"'),
        api.delete(identity.href(line), HTTP_IF_MATCH='"1"'),
    ):
        assert_error(
            response,
            412,
            err(
                "KS-4121",
                'If-Match "1" does not match the current version "2"',
                GIVEN='"1"',
                CURRENT='"2"',
            ),
        )
    assert state() == before
    assert patch(api, line, {"numberOfUnits": 9}, HTTP_IF_MATCH='"2"').status_code == 200


def test_unknown_field_missing_payload_malformed_json_and_media_type(api, items, add_line):
    line = add_line(items["Kit_1"], items["Prnt_Paper"])
    before = state()
    assert_error(
        patch(api, line, {"quantity": 2}),
        400,
        err("REST-1064", "Payload contains errors"),
        [err("REST-1043", "/quantity is not a valid field", "/quantity", FIELD="/quantity")],
    )
    assert_error(
        api.patch(identity.href(line), content_type="application/json"),
        400,
        err("REST-1028", "A PATCH request requires a payload", METHOD="PATCH"),
    )
    reason = "Expecting ',' delimiter: line 1 column 21 (char 20)"
    assert_error(
        api.post(KC, data='{"numberOfUnits": 1 "kit": {}}', content_type="application/json"),
        400,
        err("KS-4001", f"Request body is not valid JSON: {reason}", REASON=reason),
    )
    assert_error(
        api.post(KC, data="numberOfUnits=1", content_type="text/plain"),
        415,
        err(
            "KS-4151",
            "Content type text/plain is not supported: send application/json",
            TYPE="text/plain",
        ),
    )
    assert state() == before


def test_put_is_405(api, items, add_line):
    line = add_line(items["Kit_1"], items["Prnt_Paper"])
    assert_error(
        api.put(identity.href(line), {"numberOfUnits": 2}, format="json"),
        405,
        err(
            "KS-4051",
            f"Method PUT is not allowed on {identity.href(line)}",
            METHOD="PUT",
            PATH=identity.href(line),
        ),
    )


def test_permissions(client, client_for, items, add_line):
    line = add_line(items["Kit_1"], items["Prnt_Paper"])
    before = state()
    assert_error(
        client.get(KC), 401, err("KS-4011", "Authentication credentials were not provided")
    )
    reader = client_for(make_user("reader", "kitcomponents.view_kitcomponent"))
    assert reader.get(identity.href(line)).status_code == 200
    forbidden = err("KS-4031", "You do not have permission to perform this action")
    assert_error(
        reader.post(KC, body(items["Kit_2"], items["NonInv"]), format="json"), 403, forbidden
    )
    assert_error(
        reader.patch(identity.href(line), {"numberOfUnits": 2}, format="json"), 403, forbidden
    )
    assert_error(reader.delete(identity.href(line)), 403, forbidden)
    assert state() == before


# --- list ---------------------------------------------------------------------------------


def test_list_and_filters(api, items, add_line):
    a = add_line(items["Kit_1"], items["Prnt_Paper"])
    b = add_line(items["Kit_2"], items["Prnt_Paper"])
    c = add_line(items["Kit_1"], items["NonInv"])
    assert api.get(KC).json() == {
        "ia::result": [ref(a), ref(b), ref(c)],
        "ia::meta": {"totalCount": 3, "start": 1, "pageSize": 100, "next": None, "previous": None},
    }
    assert api.get(f"{KC}?kit={items['Kit_1'].pk}").json()["ia::result"] == [ref(a), ref(c)]
    assert api.get(f"{KC}?component={items['Prnt_Paper'].pk}").json()["ia::result"] == [
        ref(a),
        ref(b),
    ]
    assert_error(
        api.get(f"{KC}?kit=Kit_1"),
        400,
        err(
            "KS-4003",
            "Query parameter kit is invalid: not a valid value",
            "kit",
            PARAMETER="kit",
            REASON="not a valid value",
        ),
    )
