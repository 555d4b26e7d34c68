"""`Idempotency-Key` (contract 12.1): a keyed POST or PATCH under /objects or /workflows runs once
per API client and user; the same request sent again gets the first answer back.

A keyed request runs in one transaction that also stores its answer, so after any fault a retry
either finds the answer (the writes committed with it) or a free key (neither did). While it runs
its key is held by a PostgreSQL advisory lock that ends with its transaction or its connection (a
killed worker frees it), so a second request with the key, in any process, is refused at once.
SQLite admits one writer at a time: there the unique constraint on the stored answers is enough.

`IdempotentMixin` is the one hook, on the base viewset and the workflow view, so everything that
calls those views (a composite's sub-request, a batch) gets the same rules.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.template.response import SimpleTemplateResponse
from django.utils import timezone
from rest_framework.request import Request

from config.api import errors, render
from config.api.auth import application_id
from config.api.models import IdempotencyKey
from config.api.protocol import route_path

HEADER = "Idempotency-Key"
CACHED_DATE_HEADER = "x-ia-idempotency-cached-date"
KEYED_METHODS = frozenset({"POST", "PATCH"})
REPLAY_WINDOW = timedelta(hours=48)
RETENTION = timedelta(days=60)
# The answer's headers that belong to it and are replayed with its body.
STORED_HEADERS = ("Content-Type", "Location", "ETag")
# Answers a retry must be free to redo, with 5xx and any answer saying when to retry
# (Retry-After: contention, throttling): the key is not stored and nothing stays written.
NOT_STORED = frozenset({401, 403, 429})
_VALID_KEY = re.compile(r"[\x20-\x7e]{1,256}")
_META_NAME = "HTTP_" + HEADER.upper().replace("-", "_")


def requested_key(request: HttpRequest) -> str | None:
    """The key a request sends, where the contract takes one (POST and PATCH; the views that
    mix in IdempotentMixin are the rest of the rule). One dictionary lookup when there is none."""
    if request.method not in KEYED_METHODS:
        return None
    return request.META.get(_META_NAME)


class Replay(Exception):
    """The stored answer, raised out of DRF's checks so that the handler never runs."""

    def __init__(self, response: HttpResponse):
        super().__init__("replayed")
        self.response = response


@dataclass(frozen=True)
class Claim:
    """A key held by the request now running: its answer is stored when it has one."""

    key: str
    application_id: int | None
    user_id: int
    fingerprint: str

    def settle(self, response: HttpResponseBase) -> None:
        """Store the answer in the request's transaction; or, for an answer a retry must be free
        to redo, store nothing and roll back whatever the request wrote."""
        response[HEADER] = self.key
        status = response.status_code
        if status >= 500 or status in NOT_STORED or "Retry-After" in response:
            transaction.set_rollback(True)
            return
        if isinstance(response, SimpleTemplateResponse):
            # A DRF Response renders here rather than after the view: its bytes are stored.
            response.render()
        try:
            with transaction.atomic():
                IdempotencyKey.objects.create(
                    application_id=self.application_id,
                    user_id=self.user_id,
                    key=self.key,
                    fingerprint=self.fingerprint,
                    status=status,
                    body=response.content.decode("utf-8"),
                    headers={name: response[name] for name in STORED_HEADERS if name in response},
                    created_at=timezone.now(),
                )
        except IntegrityError:
            # Only without the advisory lock (SQLite): a request with this key committed while
            # this one ran. This one's writes go; its client retries and gets that answer.
            transaction.set_rollback(True)
            raise in_flight(self.key) from None


def claim(request: Request, key: str) -> Claim | None:
    """Hold `key` for this request (None: the request has no user to scope it, so it runs
    unkeyed), or raise: `Replay` with the stored answer, or a 400 / 409 ApiError."""
    if not _VALID_KEY.fullmatch(key):
        raise errors.error(errors.IDEMPOTENCY_KEY_INVALID)
    user = request.user
    if not (user and user.is_authenticated):
        return None
    held = Claim(key, application_id(request), user.pk, fingerprint(request))
    if not _lock(held):
        raise in_flight(key)
    stored = IdempotencyKey.objects.filter(
        application_id=held.application_id, user_id=held.user_id, key=key
    ).first()
    if stored is None:
        return held
    age = timezone.now() - stored.created_at
    if age >= RETENTION:
        # Not purged yet, but as good as purged: the key is free again.
        stored.delete()
        return held
    if age >= REPLAY_WINDOW:
        raise errors.error(
            errors.IDEMPOTENCY_KEY_EXPIRED, KEY=key, DATE=render.timestamp(stored.created_at)
        )
    if stored.fingerprint != held.fingerprint:
        raise errors.error(errors.IDEMPOTENCY_KEY_REUSED, KEY=key)
    raise Replay(replay(stored))


def replay(stored: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(stored.body.encode("utf-8"), status=stored.status)
    for name, value in stored.headers.items():
        response[name] = value
    response[HEADER] = stored.key
    response[CACHED_DATE_HEADER] = render.timestamp(stored.created_at)
    return response


def in_flight(key: str) -> errors.ApiError:
    err = errors.error(errors.IDEMPOTENCY_KEY_IN_FLIGHT, KEY=key)
    err.headers["Retry-After"] = "1"
    return err


def fingerprint(request: Request) -> str:
    """SHA-256 of the method, the path without /ia/api/v1 and the canonical JSON body (sorted
    keys, no whitespace), so the same JSON in another order or spacing is the same request. A
    body that is not JSON counts as its bytes (it is refused the same way each time)."""
    raw = request.body
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        body = raw
    digest = hashlib.sha256(f"{request.method} {route_path(request.path)}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def purge(*, batch_size: int = 1000) -> int:
    """Delete the answers older than RETENTION, `batch_size` rows per statement and transaction
    (short locks, safe beside live traffic and beside another purge); how many went."""
    cutoff = timezone.now() - RETENTION
    expired = IdempotencyKey.objects.filter(created_at__lt=cutoff)
    purged = 0
    while batch := list(expired.values_list("pk", flat=True)[:batch_size]):
        deleted, _ = IdempotencyKey.objects.filter(pk__in=batch).delete()
        purged += deleted
    return purged


def lock_id(application: int | None, user: int, key: str) -> int:
    """The advisory lock of a key: a stable 64-bit hash of its scope, the same in every process."""
    scope = f"{application}:{user}:{key}".encode()
    digest = hashlib.blake2b(scope, digest_size=8, person=b"idempotency-key").digest()
    return int.from_bytes(digest, "big", signed=True)


def _lock(held: Claim) -> bool:
    """Take the key's transaction-scoped advisory lock without waiting (PostgreSQL); False when
    another session holds it."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(%s)",
            [lock_id(held.application_id, held.user_id, held.key)],
        )
        return cursor.fetchone()[0]


class IdempotentMixin:
    """Idempotency-Key on an APIView: a keyed request's checks, handler and stored answer run in
    one transaction. The key is claimed after authentication, permissions and throttling (so a
    401, 403 or 429 never touches it); a request without the header runs exactly as before."""

    idempotency_key: str | None = None
    idempotency_claim: Claim | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.idempotency_key = requested_key(request)
        if self.idempotency_key is None:
            return super().dispatch(request, *args, **kwargs)
        with transaction.atomic():
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if self.idempotency_key is not None:
            self.idempotency_claim = claim(request, self.idempotency_key)

    def handle_exception(self, exc: Exception) -> HttpResponseBase:
        if isinstance(exc, Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.idempotency_claim is None:
            return response
        try:
            self.idempotency_claim.settle(response)
        except errors.ApiError as exc:
            response = super().finalize_response(
                request, self.handle_exception(exc), *args, **kwargs
            )
        return response
