"""NetBox-style generated object tests: a subclass of ObjectTests names one object with a few
class attributes and methods, and gets the tests every object must pass: list, get, create,
patch, delete, their batch forms, 404, 405, If-Match and model permissions, each with the exact
body and status and the database state after it. A method the object does not allow is tested as
a 405."""

from typing import Any, ClassVar

from django.db import models
from rest_framework.test import APIClient

from tests.support.errors import (
    FORBIDDEN,
    NOT_AUTHENTICATED,
    assert_error,
    err,
    not_allowed,
    not_found,
    precondition_failed,
    precondition_required,
)
from tests.support.multi import answer, failed_item, with_status
from tests.support.refs import ONE, created, ref, snapshot
from tests.support.users import bearer_client, make_user

MISSING_KEY = 999999
# No object's list takes these: references by id are filtered by key (`part=27`), names are
# case-sensitive, and only start and size page.
UNKNOWN_LIST_PARAMETERS = ["part.id", "kit.id", "itemtype", "Status", "format", "page", "bogus"]
BASES = ["", "/ia/api/v1"]  # every route is served at both (contract 1.1)


def page(refs: list[dict]) -> dict:
    """A first list page holding these references."""
    meta = {"totalCount": len(refs), "start": 1, "pageSize": 100, "next": None, "previous": None}
    return {"ia::result": refs, "ia::meta": meta}


class ObjectTests:
    """Subclasses set the attributes and methods below; pytest collects their test_* methods
    (this base class is not named Test*, so it is never collected itself)."""

    object_name: ClassVar[str]  # "inventory-control/item"
    model: ClassVar[type[models.Model]]
    app_label: ClassVar[str]  # for the model permissions: "<app_label>.<action>_<model name>"
    methods: ClassVar[frozenset[str]] = frozenset({"post", "patch", "delete"})
    if_match_required: ClassVar[bool] = False
    patch_body: ClassVar[dict] = {}
    # Model values the patch above leaves on the row.
    patched: ClassVar[dict] = {}
    # Further models a write also changes (the ledger of a stock write): snapshot them too.
    related: ClassVar[tuple[type[models.Model], ...]] = ()
    # The list's documented filters (contract 1.3: with start and size, all a list takes).
    filters: ClassVar[tuple[str, ...]] = ()

    # --- what a subclass provides ---------------------------------------------------------------

    def make(self, user) -> models.Model:
        """An existing row, made through the services."""
        raise NotImplementedError

    def create_body(self, user) -> tuple[dict, dict]:
        """(a POST body, the model values the created row must have); may make what it refers to."""
        raise NotImplementedError

    def expected(self, obj, user) -> dict:
        """The full GET body of `obj` made by `make(user)`, before any change."""
        raise NotImplementedError

    # --- helpers --------------------------------------------------------------------------------

    def number(self) -> int:
        """1, 2, 3, … within one test: distinct ids for the rows a test makes."""
        self.made = getattr(self, "made", 0) + 1
        return self.made

    @property
    def path(self) -> str:
        return f"/objects/{self.object_name}"

    def detail(self, key) -> str:
        return f"{self.path}/{key}"

    def perm(self, action: str) -> str:
        return f"{self.app_label}.{action}_{self.model._meta.model_name}"

    def state(self) -> dict:
        return snapshot(self.model, *self.related)

    def send(self, client: APIClient, method: str, url: str, body=None, **headers):
        if body is None:
            return getattr(client, method)(url, **headers)
        return getattr(client, method)(url, body, format="json", **headers)

    def if_match(self, etag: str = '"1"') -> dict[str, str]:
        return {"HTTP_IF_MATCH": etag}

    # --- reads ----------------------------------------------------------------------------------

    def test_list(self, api, admin_user):
        first, second = self.make(admin_user), self.make(admin_user)
        for base in BASES:
            response = api.get(base + self.path)
            expected = page([ref(first), ref(second)])
            assert (response.status_code, response.json()) == (200, expected)

    def test_documented_filters_are_accepted(self, api, admin_user):
        obj = self.make(admin_user)
        # An empty value filters nothing: the name alone is what is checked here.
        for name in ("start", "size", *self.filters):
            response = api.get(self.path, {name: ""})
            assert (response.status_code, response.json()) == (200, page([ref(obj)]))

    def test_unknown_list_parameter_is_400(self, api, admin_user):
        self.make(admin_user)
        before = self.state()
        reason = f"unknown parameter; this list takes {', '.join(('start', 'size', *self.filters))}"
        for base in BASES:
            # Misspelt or undocumented filters never answer every row.
            for name in UNKNOWN_LIST_PARAMETERS:
                response = api.get(base + self.path, {"size": "10", name: "1"})
                message = f"Query parameter {name} is invalid: {reason}"
                expected = err("KS-4003", message, name, PARAMETER=name, REASON=reason)
                assert_error(response, 400, expected)
        assert self.state() == before

    def test_get(self, api, admin_user):
        obj = self.make(admin_user)
        for base in BASES:
            response = api.get(base + self.detail(obj.pk))
            assert (response.status_code, response["ETag"]) == (200, '"1"')
            body = {"ia::result": self.expected(obj, admin_user), "ia::meta": ONE}
            assert response.json() == body

    def test_unknown_key_is_404(self, api, admin_user):
        self.make(admin_user)
        before = self.state()
        response = api.get(self.detail(MISSING_KEY))
        assert_error(response, 404, not_found(self.object_name, MISSING_KEY))
        for method in sorted(self.methods - {"post"}):
            body = self.patch_body if method == "patch" else None
            response = self.send(api, method, self.detail(MISSING_KEY), body, **self.if_match())
            assert_error(response, 404, not_found(self.object_name, MISSING_KEY))
        assert self.state() == before

    # --- writes ---------------------------------------------------------------------------------

    def test_create(self, api, admin_user):
        body, values = self.create_body(admin_user)
        before = self.state()
        response = api.post(self.path, body, format="json")
        if "post" not in self.methods:
            assert_error(response, 405, not_allowed("POST", self.path))
            assert self.state() == before
            return
        row = self.model.objects.latest("pk")
        assert (response.status_code, response.json()) == (201, created(row))
        assert self.model.objects.count() == len(before[self.model._meta.label]) + 1
        assert {name: getattr(row, name) for name in values} == values
        assert (row.version, row.created_by, row.modified_by) == (1, admin_user, admin_user)

    def test_patch(self, api, admin_user):
        obj = self.make(admin_user)
        before = self.state()
        response = api.patch(self.detail(obj.pk), self.patch_body, format="json", **self.if_match())
        if "patch" not in self.methods:
            assert_error(response, 405, not_allowed("PATCH", self.detail(obj.pk)))
            assert self.state() == before
            return
        assert (response.status_code, response.json()) == (200, created(obj))
        obj.refresh_from_db()
        assert {name: getattr(obj, name) for name in self.patched} == self.patched
        assert obj.version == 2
        assert api.get(self.detail(obj.pk))["ETag"] == '"2"'

    def test_patch_that_changes_nothing_keeps_the_version(self, api, admin_user):
        # Contract 12.2: nothing sent, values the row already holds, or the GET body sent back.
        obj = self.make(admin_user)
        if "patch" not in self.methods:
            return  # test_patch proves the 405
        as_made = api.get(self.detail(obj.pk)).json()["ia::result"]
        changed = api.patch(self.detail(obj.pk), self.patch_body, format="json", **self.if_match())
        assert (changed.status_code, changed["ETag"]) == (200, '"2"')
        as_patched = api.get(self.detail(obj.pk)).json()["ia::result"]
        before = self.state()
        for body in ({}, self.patch_body, as_patched):
            response = api.patch(self.detail(obj.pk), body, format="json", **self.if_match('"2"'))
            assert (response.status_code, response.json()) == (200, created(obj)), body
            assert response["ETag"] == '"2"'
            assert self.state() == before  # version, modified time and user, the rest: all kept
        assert api.get(self.detail(obj.pk))["ETag"] == '"2"'
        # Sending the first GET body back undoes the patch: that is a change.
        undone = api.patch(self.detail(obj.pk), as_made, format="json", **self.if_match('"2"'))
        assert (undone.status_code, undone["ETag"]) == (200, '"3"')

    def test_delete(self, api, admin_user):
        obj = self.make(admin_user)
        before = self.state()
        response = api.delete(self.detail(obj.pk), **self.if_match())
        if "delete" not in self.methods:
            assert_error(response, 405, not_allowed("DELETE", self.detail(obj.pk)))
            assert self.state() == before
            return
        assert (response.status_code, response.content) == (204, b"")
        assert not self.model.objects.filter(pk=obj.pk).exists()
        assert_error(api.get(self.detail(obj.pk)), 404, not_found(self.object_name, obj.pk))

    def test_put_is_405(self, api, admin_user):
        obj = self.make(admin_user)
        before = self.state()
        response = api.put(self.detail(obj.pk), self.patch_body, format="json")
        assert_error(response, 405, not_allowed("PUT", self.detail(obj.pk)))
        assert self.state() == before

    # --- the batch forms (contract 13.3) --------------------------------------------------------

    def test_batch_get(self, api, admin_user):
        first, second = self.make(admin_user), self.make(admin_user)
        objects = [self.expected(first, admin_user), self.expected(second, admin_user)]
        for base in BASES:
            response = api.get(f"{base}{self.detail(first.pk)},{second.pk}")
            assert (response.status_code, response.json()) == (200, answer(objects))
        response = api.get(self.detail(f"{second.pk},{MISSING_KEY},{first.pk}"))
        missing = failed_item(response, 404, not_found(self.object_name, MISSING_KEY))
        results = [with_status(objects[1], 200), missing, with_status(objects[0], 200)]
        assert (response.status_code, response.json()) == (207, answer(results, 2))

    def test_batch_create(self, api, admin_user):
        bodies, values = zip(*[self.create_body(admin_user) for _ in range(2)], strict=True)
        before = self.state()
        response = api.post(self.path, list(bodies), format="json")
        if "post" not in self.methods:
            assert_error(response, 405, not_allowed("POST", self.path))
            assert self.state() == before
            return
        rows = list(self.model.objects.order_by("-pk")[:2])[::-1]
        results = [with_status(ref(row), 201) for row in rows]
        assert (response.status_code, response.json()) == (201, answer(results))
        for row, wanted in zip(rows, values, strict=True):
            assert {name: getattr(row, name) for name in wanted} == wanted

    def test_batch_patch(self, api, admin_user):
        objects = [self.make(admin_user), self.make(admin_user)]
        before = self.state()
        changes = [{"key": str(obj.pk), **self.patch_body} for obj in objects]
        # The request's If-Match applies to each element as it would alone (both are version 1).
        response = api.patch(self.path, changes, format="json", **self.if_match())
        if "patch" not in self.methods:
            assert_error(response, 405, not_allowed("PATCH", self.path))
            assert self.state() == before
            return
        results = [with_status(ref(obj), 200) for obj in objects]
        assert (response.status_code, response.json()) == (200, answer(results))
        for obj in objects:
            obj.refresh_from_db()
            assert {name: getattr(obj, name) for name in self.patched} == self.patched
            assert obj.version == 2

    def test_batch_delete(self, api, admin_user):
        first, second = self.make(admin_user), self.make(admin_user)
        before = self.state()
        url = f"{self.detail(first.pk)},{second.pk}"
        response = api.delete(url, **self.if_match())
        if "delete" not in self.methods:
            assert_error(response, 405, not_allowed("DELETE", url))
            assert self.state() == before
            return
        assert (response.status_code, response.content) == (204, b"")
        assert not self.model.objects.filter(pk__in=[first.pk, second.pk]).exists()

    # --- If-Match (contract 12.2) ---------------------------------------------------------------

    def test_if_match(self, api, admin_user):
        obj = self.make(admin_user)
        before = self.state()
        writes = [("patch", self.patch_body), ("delete", None)]
        for method, body in [(m, b) for m, b in writes if m in self.methods]:
            stale = self.send(api, method, self.detail(obj.pk), body, **self.if_match('"7"'))
            assert_error(stale, 412, precondition_failed('"7"', '"1"'))
            if self.if_match_required:
                missing = self.send(api, method, self.detail(obj.pk), body)
                assert_error(missing, 428, precondition_required(self.object_name))
            assert self.state() == before
        if "patch" in self.methods and not self.if_match_required:
            # Optional: a PATCH without If-Match is served.
            response = api.patch(self.detail(obj.pk), self.patch_body, format="json")
            assert (response.status_code, response.json()) == (200, created(obj))

    # --- permissions (contract 11) --------------------------------------------------------------

    def test_without_credentials_is_401(self, admin_user):
        obj = self.make(admin_user)
        before = self.state()
        anonymous = APIClient()
        assert_error(anonymous.get(self.path), 401, NOT_AUTHENTICATED)
        assert_error(anonymous.get(self.detail(obj.pk)), 401, NOT_AUTHENTICATED)
        for method in sorted(self.methods):
            url = self.path if method == "post" else self.detail(obj.pk)
            body = None if method == "delete" else self.patch_body
            response = self.send(anonymous, method, url, body, **self.if_match())
            assert_error(response, 401, NOT_AUTHENTICATED)
        assert self.state() == before

    def test_without_the_model_permission_is_403(self, admin_user):
        obj = self.make(admin_user)
        body, _ = self.create_body(admin_user)
        before = self.state()
        # Each action's permission alone does not grant any other action.
        for action, method in [("view", "post"), ("add", "get"), ("view", "patch")]:
            client = bearer_client(make_user(f"only-{action}-{method}", self.perm(action)))
            if method == "get":
                assert_error(client.get(self.path), 403, FORBIDDEN)
                assert_error(client.get(self.detail(obj.pk)), 403, FORBIDDEN)
            elif method in self.methods:
                url = self.path if method == "post" else self.detail(obj.pk)
                payload = body if method == "post" else self.patch_body
                response = self.send(client, method, url, payload, **self.if_match())
                assert_error(response, 403, FORBIDDEN)
        if "delete" in self.methods:
            client = bearer_client(make_user("only-change", self.perm("change")))
            response = client.delete(self.detail(obj.pk), **self.if_match())
            assert_error(response, 403, FORBIDDEN)
        assert self.state() == before

    def test_with_the_model_permission_succeeds(self, admin_user):
        obj = self.make(admin_user)
        viewer = bearer_client(make_user("viewer", self.perm("view")))
        assert viewer.get(self.path).json()["ia::result"] == [ref(obj)]
        assert viewer.get(self.detail(obj.pk)).json()["ia::result"] == self.expected(
            obj, admin_user
        )
        expected_statuses: dict[str, Any] = {"post": 201, "patch": 200, "delete": 204}
        for action, method in [("add", "post"), ("change", "patch"), ("delete", "delete")]:
            if method not in self.methods:
                continue
            client = bearer_client(make_user(f"{action}er", self.perm(action)))
            if method == "post":
                response = client.post(self.path, self.create_body(admin_user)[0], format="json")
            else:
                body = self.patch_body if method == "patch" else None
                etag = f'"{type(obj).objects.get(pk=obj.pk).version}"'
                response = self.send(
                    client, method, self.detail(obj.pk), body, **self.if_match(etag)
                )
            assert response.status_code == expected_statuses[method], response.content
