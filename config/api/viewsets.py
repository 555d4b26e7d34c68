"""The one base viewset: envelopes, paging, payload checks, ETags; the prefetch plan is the spec's.

A concrete viewset names its queryset, serializer, filterset and delete service; nothing else.

The batch forms (contract 13.3: `GET`/`DELETE /objects/…/{k1},{k2}`, `POST` of an array, `PATCH`
of an array on the collection) run each element through the very handler of the single request
(`create_one`, `update_one`, `destroy_one`, `represent`); a batch POST of an object whose service
creates many at once validates each element as `create_one` does and creates the valid ones with
one call of that service (`create_together`). Authentication, permissions and the throttle ran
once for the request, as for any other (config.api.batch assembles the answer).
"""

import re
from collections.abc import Callable, Sequence
from typing import Any

from django.db import models, transaction
from django.db.models import QuerySet
from rest_framework import status, viewsets
from rest_framework.exceptions import MethodNotAllowed, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import batch, errors, identity, responses, spec
from config.api.fields import REFERENCES, parse_key
from config.api.idempotency import IdempotentMixin
from config.api.protocol import (
    paging,
    reject_unknown_parameters,
    request_body,
    request_payload,
)
from core import sql
from core.numbers import whole_number
from core.versions import etag

_OPTIMIZED: dict[tuple[type, type], QuerySet] = {}
_SELECTED: dict[type, bool] = {}
_WHOLE_TABLE: dict[type, bool] = {}


class ObjectViewSet(IdempotentMixin, viewsets.GenericViewSet):
    """list / retrieve / create / partial_update / destroy in the Intacct envelopes; a keyed POST
    or PATCH answers once (IdempotentMixin)."""

    lookup_url_kwarg = "key"
    lookup_value_regex = "[^/]+"
    # The service that deletes one object:
    # `delete_service(<model>_key=..., user=..., expected_version=...)`.
    delete_service: Callable[..., None] | None = None
    # Part inventory demands If-Match on every PATCH and DELETE (428 without it).
    if_match_required = False
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    # The GET of one object: `detail_selector(key=...)` returns (representation, version) or
    # None, read without model instances (the app's selectors). None: the serializer renders it.
    detail_selector: Callable[..., tuple[dict[str, Any], int] | None] | None = None
    # The order of a filtered list page (an unfiltered page of a whole table is by key).
    list_order: tuple[str, ...] = ("pk",)

    @property
    def model(self) -> type[models.Model]:
        return self.queryset.model

    # --- reads -----------------------------------------------------------------------------
    def list(self, request: Request, *args, **kwargs) -> Response:
        self.check_list_parameters(request.query_params)
        start, size = paging(request.query_params)
        filterset = self.filterset_class
        id_field = identity.id_field(self.model)
        if self.lists_whole_table() and not (
            filterset is not None
            and any(name in request.query_params for name in filterset.base_filters)
        ):
            # Unfiltered, the common case: plain SQL built once, prepared by PostgreSQL.
            # Intacct's `start` counts from 1.
            total, rows = sql.reference_page(self.model, id_field, offset=start - 1, limit=size)
        else:
            queryset = self.filter_queryset(self.queryset.all()).order_by(*self.list_order)
            total = queryset.count()
            rows = []
            if start <= total:  # past the end nothing to fetch (a huge offset would overflow)
                rows = queryset.values_list(*self.ref_columns())[start - 1 : start - 1 + size]
        name = identity.object_name(self.model)
        refs = [
            {"key": str(row[0]), "id": str(row[-1]), "href": identity.href_of(name, row[0])}
            for row in rows
        ]
        return Response(responses.page(refs, total=total, start=start, size=size))

    def check_list_parameters(self, params) -> None:
        """Contract 1.3: a list takes start, size and its object's filters. Any other parameter
        is a 400 naming it: django-filter ignores what it does not know, so a misspelt filter
        (`part.id`, `itemtype`) would otherwise answer every row."""
        filters = tuple(self.filterset_class.base_filters) if self.filterset_class else ()
        reject_unknown_parameters(params, ("start", "size", *filters), taker="this list")

    def lists_whole_table(self) -> bool:
        """Whether the viewset's queryset is its model's whole table, so an unfiltered page can be
        read with plain SQL. Worked out once per class, from the SQL Django would run."""
        cls = type(self)
        if cls not in _WHOLE_TABLE:
            whole = self.model._default_manager.all()
            _WHOLE_TABLE[cls] = str(cls.queryset.query) == str(whole.query)
        return _WHOLE_TABLE[cls]

    def uses_detail_selector(self) -> bool:
        """A GET reads through `detail_selector` unless an object permission must see the
        instance, or a subclass reads other rows (its own queryset) than the class naming the
        selector. Worked out once per class."""
        cls = type(self)
        if cls not in _SELECTED:
            owner = next((c for c in cls.__mro__ if "detail_selector" in vars(c)), cls)
            object_checks = any(
                type(p).has_object_permission is not BasePermission.has_object_permission
                for p in self.get_permissions()
            )
            _SELECTED[cls] = (
                cls.detail_selector is not None
                and cls.queryset is owner.queryset
                and not object_checks
            )
        return _SELECTED[cls]

    def ref_columns(self) -> tuple[str, ...]:
        """What a list row (a reference) reads: the key, and the field behind `id` if any."""
        id_field = identity.id_field(self.model)
        return ("pk", id_field) if id_field else ("pk",)

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        key = self.kwargs[self.lookup_url_kwarg]
        keys = batch.keys(key)
        if keys is not None:
            return self.retrieve_batch(request, keys)
        if not self.uses_detail_selector():
            return self.represent(self.get_object())
        parsed = parse_key(key)
        found = type(self).detail_selector(key=parsed) if parsed else None
        if found is None:
            raise self.not_found(key)
        data, version = found
        return Response(responses.one(data), headers={"ETag": etag(version)})

    def retrieve_batch(self, request: Request, keys: Sequence[str]) -> Response:
        """The objects of a batch GET, read together: the statements do not grow with the keys.
        Each answers as the single GET through the serializer (whose answer the detail selectors
        equal, tests/test_detail_selectors.py)."""
        parsed = {key: self.lookup(key) for key in keys}
        found = self.get_queryset().in_bulk([pk for pk in parsed.values() if pk])
        serializer = self.get_serializer()

        def element(key: str) -> Response:
            instance = found.get(parsed[key])
            if instance is None:
                raise self.not_found(key)
            self.check_object_permissions(request, instance)
            return self.represent(instance, serializer)

        return self.run_batch(request, keys, element, status.HTTP_200_OK, reads=True)

    def lookup(self, key: str) -> Any:
        """The primary key a key in the URL names; None when it can name no row."""
        return parse_key(key)

    def represent(self, instance: models.Model, serializer=None) -> Response:
        """The GET answer of one object read through the serializer."""
        if serializer is None:
            data = self.get_serializer(instance).data
        else:
            data = serializer.to_representation(instance)
        return Response(responses.one(data), headers={"ETag": instance.etag})

    def not_found(self, key: str) -> errors.ApiError:
        return errors.error(
            errors.OBJECT_NOT_FOUND, OBJECT=identity.object_name(self.model), KEY=key
        )

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        try:
            return super().filter_queryset(queryset)
        except ValidationError as exc:
            name = next(iter(exc.detail), "filter") if isinstance(exc.detail, dict) else "filter"
            raise errors.error(
                errors.INVALID_PARAMETER, name, PARAMETER=name, REASON="not a valid value"
            ) from exc

    def get_queryset(self) -> QuerySet:
        # The joins depend on the viewset and serializer classes only: work them out once.
        plan_key = (type(self), self.get_serializer_class())
        optimized = _OPTIMIZED.get(plan_key)
        if optimized is None:
            described = spec.for_serializer(self.get_serializer_class())
            optimized = _OPTIMIZED[plan_key] = described.optimize(self.queryset.all())
        return optimized.all()

    def get_object(self, *, for_write: bool = False, key: str | None = None) -> models.Model:
        """The object the URL (or a batch element) names. A write reads it without the GET's
        joins and prefetches: the service locks and reads it again, this read only answers 404,
        403 and an early 412."""
        key = self.kwargs[self.lookup_url_kwarg] if key is None else key
        queryset = self.queryset.all() if for_write else self.get_queryset()
        pk = self.lookup(key)
        instance = queryset.filter(pk=pk).first() if pk else None
        if instance is None:
            raise self.not_found(key)
        self.check_object_permissions(self.request, instance)
        return instance

    # --- writes ---------------------------------------------------------------------------
    def create(self, request: Request, *args, **kwargs) -> Response:
        body = request_body(request)
        if isinstance(body, list):
            records = batch.records(body, keyed=False)
            serializer = self.batch_serializer()
            if getattr(serializer, "create_many", None) is not None:
                return self.create_together(request, records, serializer)
            return self.run_batch(
                request,
                records,
                lambda record: self.create_one(request, record.payload, serializer),
                status.HTTP_201_CREATED,
            )
        return self.create_one(request, self.payload(request))

    def create_one(
        self, request: Request, payload: dict[str, Any], serializer: Any = None
    ) -> Response:
        """One create; a batch passes the one serializer all its elements share."""
        if serializer is None:
            serializer = self.get_serializer()
        data = serializer.run_validation(payload)
        with transaction.atomic():
            instance = serializer.create(data)
        return self.created(instance)

    def created(self, instance: models.Model) -> Response:
        return Response(
            responses.one(identity.ref(instance)),
            status=status.HTTP_201_CREATED,
            headers={"Location": identity.href(instance), "ETag": instance.etag},
        )

    def create_together(
        self, request: Request, records: Sequence[batch.Record], serializer: Any
    ) -> Response:
        """A batch POST of an object whose service creates many at once (the serializer's
        `create_many`; its `create` is that service's batch of one): each element is validated
        as its single request, the valid ones are created by one service call, and each answers
        as its single request would."""
        outcomes = batch.run_together(
            records,
            self,
            lambda record: serializer.run_validation(record.payload),
            serializer.create_many,
            self.created,
            atomic=batch.atomic_requested(request),
            support_id=getattr(request, "request_id", None),
        )
        return batch.answer(outcomes, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        return self.update_one(request, self.kwargs[self.lookup_url_kwarg], self.payload(request))

    def partial_update_batch(self, request: Request, *args, **kwargs) -> Response:
        """`PATCH /objects/…` with an array of changes, each naming the `key` it changes. The
        request's If-Match, if any, applies to every element as it would to each alone."""
        records = batch.records(request_body(request), keyed=True)
        serializer = self.batch_serializer(partial=True)
        return self.run_batch(
            request,
            records,
            lambda record: self.update_one(request, record.key, record.payload, serializer),
            status.HTTP_200_OK,
        )

    # The services lock the row and compare the If-Match version under their own lock; the
    # transaction here only makes a request all or nothing, whatever fails inside it.
    def update_one(
        self, request: Request, key: str, payload: dict[str, Any], serializer: Any = None
    ) -> Response:
        """One PATCH; a batch passes the one serializer all its elements share."""
        if serializer is None:
            serializer = self.get_serializer(partial=True)
        with transaction.atomic():
            serializer.instance = instance = self.get_object(for_write=True, key=key)
            expected_version = self.check_if_match(request, instance)
            data = serializer.run_validation(payload)
            instance = serializer.update(instance, {**data, "expected_version": expected_version})
        return Response(responses.one(identity.ref(instance)), headers={"ETag": instance.etag})

    def batch_serializer(self, **kwargs: Any) -> Any:
        """The serializer every element of a batch is validated and written by: its fields are
        built once, and each object the elements refer to is read once (config.api.fields)."""
        context = {**self.get_serializer_context(), REFERENCES: {}}
        return self.get_serializer(context=context, **kwargs)

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        key = self.kwargs[self.lookup_url_kwarg]
        keys = batch.keys(key)
        if keys is None:
            return self.destroy_one(request, key)
        return self.run_batch(
            request, keys, lambda k: self.destroy_one(request, k), status.HTTP_204_NO_CONTENT
        )

    def destroy_one(self, request: Request, key: str) -> Response:
        with transaction.atomic():
            instance = self.get_object(for_write=True, key=key)
            expected_version = self.check_if_match(request, instance)
            type(self).delete_service(
                **{self.key_argument(): instance.pk},
                user=request.user,
                expected_version=expected_version,
            )
        return Response(status=status.HTTP_204_NO_CONTENT)

    def run_batch(
        self,
        request: Request,
        elements: Sequence[Any],
        handle: Callable[[Any], Response],
        success: int,
        *,
        reads: bool = False,
    ) -> Response:
        """Each element through `handle` (the single request's handler), in order, each in its
        own transaction unless it only `reads`; a write batch all in one with the transaction
        header (reads have nothing to roll back: they ignore it)."""

        def run_one(element: Any) -> batch.Outcome:
            return batch.run_element(self, lambda: handle(element), writes=not reads)

        outcomes = batch.run_in_order(
            elements,
            run_one,
            atomic=not reads and batch.atomic_requested(request),
            stop_at_failure=False,
            writes=not reads,
            support_id=getattr(request, "request_id", None),
        )
        return batch.answer(outcomes, success, plain=reads)

    def update(self, request, *args, **kwargs):  # PUT is not part of the dialect
        raise errors.error(errors.METHOD_NOT_ALLOWED, METHOD=request.method, PATH=request.path)

    # --- protocol checks -------------------------------------------------------------------
    def payload(self, request: Request) -> dict[str, Any]:
        return request_payload(request)

    def check_if_match(self, request: Request, instance: models.Model) -> frozenset[int] | None:
        """The versions If-Match accepts (None: any), for the service to compare under its own
        lock; 428 where the object demands the header. A precondition that already fails on the
        unlocked read answers 412 before the body is looked at, as RFC 9110 orders it."""
        versions = expected_versions(request, self.model, required=self.if_match_required)
        if versions is not None and instance.version not in versions:
            header = request.headers["If-Match"]
            raise errors.error(errors.PRECONDITION_FAILED, GIVEN=header, CURRENT=instance.etag)
        return versions

    def key_argument(self) -> str:
        """The keyword the object's services take its key by: `part_inventory_key`."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.model.__name__).lower() + "_key"


def expected_versions(
    request: Request, model: type[models.Model], *, required: bool
) -> frozenset[int] | None:
    """The versions of `model`'s row the request's If-Match accepts (None: any, or no header where
    none is required), for a service to compare under its lock; 428 when required and missing."""
    header = request.headers.get("If-Match")
    if header is None:
        if required:
            raise errors.error(errors.PRECONDITION_REQUIRED, OBJECT=identity.object_name(model))
        return None
    return if_match_versions(header)


class ReadOnlyObjectViewSet(ObjectViewSet):
    """An object served by list and get (and the query service) only: the ledger, requirements."""

    http_method_names = ["get", "head", "options"]

    def check_permissions(self, request):
        # A write is 405 for everyone signed in, not 403 for those without add/change/delete.
        if request.method.lower() not in self.http_method_names and request.user.is_authenticated:
            raise MethodNotAllowed(request.method)
        super().check_permissions(request)


def if_match_versions(header: str) -> frozenset[int] | None:
    """RFC 9110 If-Match: `*` (None: any version), or a comma-separated list of (possibly
    weak-marked) tags; a tag that is no version of ours matches nothing."""
    header = header.strip()
    if header == "*":
        return None
    versions = set()
    for tag in header.split(","):
        version = whole_number(tag.strip().removeprefix("W/").strip('"'))
        if version is not None:
            versions.add(version)
    return frozenset(versions)
