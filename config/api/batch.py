"""Several requests answered by position: the batch forms of every object (contract 13.3) and the
composite service (13.2, config.api.subrequests) run their items through this module.

Each item is what the single request answered (an `Outcome`: its status and body), produced by the
single request's own code: a batch element by the viewset's single-request handler (or, for an
object whose service creates many at once, by the single request's validation, that service and
the single request's answer: `run_together`), a composite sub-request by the view its path routes
to. This module only checks the shape of a batch, orders
the items, holds them in the transaction the client asked for and assembles the answer.
"""

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import errors

# `X-IA-API-Param-Transaction: true`: every item in one transaction, all or nothing.
TRANSACTION_HEADER = "X-IA-API-Param-Transaction"
MAX_RECORDS = 500
T = TypeVar("T")


def atomic_requested(request: Request) -> bool:
    value = request.headers.get(TRANSACTION_HEADER)
    if value is None or value.strip().lower() == "false":
        return False
    if value.strip().lower() == "true":
        return True
    raise errors.error(errors.INVALID_HEADER, HEADER=TRANSACTION_HEADER, REASON="true or false")


@dataclass(frozen=True)
class Outcome:
    """What one item answered: the status and body of the single request (None for a 204)."""

    status: int
    body: Any
    retry_after: str | None = None

    @property
    def failed(self) -> bool:
        # A 207 is a batch sub-request of a composite with failed elements: not a success.
        return self.status >= 400 or self.status == status.HTTP_207_MULTI_STATUS

    @property
    def retryable(self) -> bool:
        """Whether a retry may succeed: an answer a key is never stored for (12.1)."""
        return self.status >= 500 or self.status == 429 or self.retry_after is not None

    @property
    def result(self) -> Any:
        return self.body.get("ia::result") if isinstance(self.body, dict) else None

    @property
    def error(self) -> dict[str, Any]:
        return self.body["ia::result"]["ia::error"]


def answered(response: Response) -> Outcome:
    """A single-request handler's Response, as an item's outcome."""
    return Outcome(response.status_code, response.data, response.headers.get("Retry-After"))


def refused(err: errors.ApiError, support_id: str | None) -> Outcome:
    return Outcome(err.status, errors.error_body(err, support_id))


# --- the shape of a batch ----------------------------------------------------------------------


def keys(text: str) -> list[str] | None:
    """The keys of a batch GET or DELETE (`/objects/…/{k1},{k2},…`); None for a single key."""
    if "," not in text:
        return None
    listed = text.split(",")
    if len(listed) > MAX_RECORDS:
        raise _invalid(f"at most {MAX_RECORDS} keys, not {len(listed)}")
    empty = [str(position) for position, key in enumerate(listed, 1) if not key]
    if empty:
        raise _invalid(f"the list of keys has an empty key at position {', '.join(empty)}")
    return listed


@dataclass(frozen=True)
class Record:
    """One element of a batch POST or PATCH: its payload, and for a PATCH the key it changes."""

    payload: dict[str, Any]
    key: str | None = None


def records(body: Any, *, keyed: bool) -> list[Record]:
    """The elements of a batch POST (`keyed` False) or PATCH body, refused whole (400) unless it
    is an array of 1 to 500 JSON objects, each of a PATCH naming its `key`."""
    problems: list[errors.ApiError] = []
    found: list[Record] = []
    for position, element in enumerate(array(body, 1, MAX_RECORDS, "objects", "batch")):
        if not isinstance(element, dict):
            problems.append(problem(f"/{position}", "must be a JSON object"))
            continue
        if not keyed:
            found.append(Record(element))
            continue
        payload = dict(element)
        key = payload.pop("key", None)
        if isinstance(key, bool) or not isinstance(key, str | int) or key == "":
            problems.append(problem(f"/{position}/key", "must be the key of the object to change"))
            continue
        found.append(Record(payload, str(key)))
    if problems:
        raise errors.ApiError(errors.PAYLOAD_ERRORS, details=problems)
    return found


_JSON_TYPES = {dict: "an object", str: "a string", bool: "a boolean", type(None): "null"}


def array(body: Any, minimum: int, maximum: int, of: str, form: str) -> list[Any]:
    """The body as a JSON array of `minimum` to `maximum` items, else the whole request is 400."""
    if isinstance(body, list) and minimum <= len(body) <= maximum:
        return body
    given = str(len(body)) if isinstance(body, list) else _JSON_TYPES.get(type(body), "a number")
    reason = f"the body must be a JSON array of {minimum} to {maximum} {of}, not {given}"
    raise errors.error(errors.MULTI_INVALID, FORM=form, REASON=reason)


def problem(pointer: str, reason: str) -> errors.ApiError:
    """A detail naming the position (a JSON pointer) of what is wrong."""
    return errors.error(errors.MULTI_ITEM_INVALID, pointer, POINTER=pointer, REASON=reason)


def _invalid(reason: str) -> errors.ApiError:
    return errors.error(errors.MULTI_INVALID, FORM="batch", REASON=reason)


# --- running the items -------------------------------------------------------------------------


def run_in_order(
    items: Sequence[T],
    run_one: Callable[[T], Outcome],
    *,
    atomic: bool,
    stop_at_failure: bool,
    writes: bool,
    support_id: str | None,
) -> list[Outcome]:
    """`run_one` for each item in order. Atomic: all in one transaction (each item's own becomes
    a savepoint), rolled back at the first failure, after which the failed item keeps its error
    and every other is `unprocessed`. Otherwise each item commits alone (in `item_transaction`),
    and what they wrote is on disk before the answer (`flush`); `stop_at_failure` (the
    composite) leaves the items after a failure unprocessed."""
    outcomes: list[Outcome | None] = [None] * len(items)
    failed_at = None
    deferred = writes and not atomic and _defers_flush()
    with transaction.atomic() if atomic else nullcontext():
        for position, item in enumerate(items):
            outcomes[position] = outcome = run_one(item)
            if outcome.failed and failed_at is None:
                failed_at = position
                if atomic:
                    transaction.set_rollback(True)
                if atomic or stop_at_failure:
                    break
    if deferred:
        flush()
    if atomic or stop_at_failure:
        return _skipped_after(outcomes, failed_at, atomic=atomic, support_id=support_id)
    return outcomes  # type: ignore[return-value]  # every position is filled by now


def _skipped_after(
    outcomes: list[Outcome | None], failed_at: int | None, *, atomic: bool, support_id: str | None
) -> list[Outcome]:
    """After the failure at `failed_at` every later item is `unprocessed`, and (`atomic`, rolled
    back) every earlier one too."""
    if failed_at is None:
        return outcomes  # type: ignore[return-value]  # nothing failed: every item ran
    reason = f"the item at /{failed_at} failed"
    if atomic:
        reason += " and every item was rolled back"
    skipped = refused(errors.error(errors.UNPROCESSED, REASON=reason), support_id)
    return [
        outcome if position == failed_at or (position < failed_at and not atomic) else skipped
        for position, outcome in enumerate(outcomes)
    ]


def run_together(
    items: Sequence[T],
    view: Any,
    check: Callable[[T], Any],
    write: Callable[[list[Any]], Sequence[Any]],
    respond: Callable[[Any], Response],
    *,
    atomic: bool,
    support_id: str | None,
) -> list[Outcome]:
    """The items of a batch whose service writes many at once: each is `check`ed as its single
    request checks it, then those that passed are written by one `write` (in one transaction,
    which answers by position what it wrote or the exception refusing it), and each item answers
    as its single request would (`respond`, or the view's answer to the exception). Atomic: the
    items after the first that fails a check are not written, and a failure rolls back all.
    Otherwise, if the one `write` itself fails (a lock given up, a lost connection), each item
    is written again alone, in its own transaction, so that only the items it fails for fail."""
    outcomes: list[Outcome | None] = [None] * len(items)
    checked: dict[int, Any] = {}
    for position, element in enumerate(items):
        try:
            checked[position] = check(element)
        except Exception as exc:
            outcomes[position] = answered(view.handle_exception(exc))
            if atomic:
                break
    with transaction.atomic() if atomic else nullcontext():
        try:
            with transaction.atomic():
                written = write(list(checked.values())) if checked else []
        except Exception as exc:
            # Atomic, every item it would have written fails with it; otherwise each item is its
            # own transaction (contract 13.3), so the failure must not reach the items it spares.
            written = [exc] * len(checked) if atomic else _written_alone(write, checked.values())
        for position, result in zip(checked, written, strict=True):
            failure = isinstance(result, Exception)
            outcomes[position] = answered(
                view.handle_exception(result) if failure else respond(result)
            )
        failed_at = next((p for p, o in enumerate(outcomes) if o is not None and o.failed), None)
        if atomic and failed_at is not None:
            transaction.set_rollback(True)
    if atomic:
        return _skipped_after(outcomes, failed_at, atomic=True, support_id=support_id)
    return outcomes  # type: ignore[return-value]  # every position is filled by now


def _written_alone(write: Callable[[list[Any]], Sequence[Any]], checked: Iterable[Any]) -> list:
    """`write` of each checked item alone, in its own transaction: what it wrote or the exception
    refusing it, by position; what they wrote is on disk before the answer (`flush`). Their lock
    waits share one LOCK_TIMEOUT_MS (PostgreSQL): the items a stuck lock blocks give up within it
    together, not one timeout each, so a batch never holds a worker for long (contract 12.3)."""
    deferred = _defers_flush()
    wait_until = time.monotonic() + settings.LOCK_TIMEOUT_MS / 1000
    written = []
    for data in checked:
        try:
            with item_transaction():
                if deferred and settings.LOCK_TIMEOUT_MS:
                    _wait_for_locks_until(wait_until)
                (result,) = write([data])
        except Exception as exc:
            result = exc
        written.append(result)
    if deferred:
        flush()
    return written


# Durability paid once per batch, not per item: on PostgreSQL an item that is its own
# transaction commits without waiting for the disk (`SET LOCAL synchronous_commit TO off`, for
# that transaction only), and one synchronous commit after the last item waits for the
# write-ahead log up to itself, which holds every commit before it. Each item is still its own
# transaction, holding its locks no longer than alone, and everything the answer reports is on
# disk before the answer is sent.


def _wait_for_locks_until(moment: float) -> None:
    """This transaction waits for a lock until `moment` at most (at least 1 ms)."""
    left = max(1, round((moment - time.monotonic()) * 1000))
    with transaction.get_connection().cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{left}ms"])


def _defers_flush() -> bool:
    """Whether an item's transaction would be a transaction of its own, on PostgreSQL."""
    return transaction.get_connection().vendor == "postgresql" and transaction.get_autocommit()


@contextmanager
def item_transaction(writes: bool = True) -> Iterator[None]:
    """An item that writes runs in its own transaction (a savepoint inside an outer one, which
    also keeps a failed statement from breaking the transaction for the items after it)."""
    if not writes:
        yield
        return
    deferred = _defers_flush()
    with transaction.atomic():
        if deferred:
            with transaction.get_connection().cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO off")
        yield


def flush() -> None:
    """Wait until every commit made so far is on disk: commit a transaction that has an id."""
    with transaction.atomic(), transaction.get_connection().cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()")


def run_element(view: Any, call: Callable[[], Response], *, writes: bool = True) -> Outcome:
    """One batch element through the single request's handler, in `item_transaction`, any
    exception answered as the view answers it alone."""
    try:
        with item_transaction(writes):
            response = call()
    except Exception as exc:
        response = view.handle_exception(exc)
    return answered(response)


# --- the answers -------------------------------------------------------------------------------


def meta(outcomes: Sequence[Outcome]) -> dict[str, int]:
    failed = sum(outcome.failed for outcome in outcomes)
    return {
        "totalCount": len(outcomes),
        "totalSuccess": len(outcomes) - failed,
        "totalError": failed,
    }


def item(outcome: Outcome, *, envelope: bool) -> dict[str, Any]:
    """One position of a multi-status answer, with its `ia::status`: a failure's error; a success
    as the single request's whole body (`envelope`, a composite item) or its result (a batch
    element: the object or its reference; nothing for a delete)."""
    if outcome.status >= 400:
        return {"ia::error": outcome.error, "ia::status": outcome.status}
    # A success, or a batch sub-request with failed elements (207): its body says which.
    shown = outcome.body if envelope else outcome.result
    return {**(shown or {}), "ia::status": outcome.status}


def answer(outcomes: Sequence[Outcome], success: int, *, plain: bool = False) -> Response:
    """A batch's answer: `success` (201, 200 or 204 without a body) when every element
    succeeded, with their results (`plain`: as they are, a batch GET's objects; else each with its
    status), otherwise 207 with every element by position."""
    if any(outcome.failed for outcome in outcomes):
        results = [item(outcome, envelope=False) for outcome in outcomes]
        return multi_status(results, outcomes, status.HTTP_207_MULTI_STATUS)
    if success == status.HTTP_204_NO_CONTENT:
        return Response(status=success)
    if plain:
        return multi_status([outcome.result for outcome in outcomes], outcomes, success)
    return multi_status([item(outcome, envelope=False) for outcome in outcomes], outcomes, success)


def multi_status(results: list[Any], outcomes: Sequence[Outcome], code: int) -> Response:
    """An answer by position. When an item may succeed on a retry (a 5xx, a 429, a lock given up)
    the answer says when, as that item alone would: so a keyed request is not stored either and
    its key stays free for the retry (12.1)."""
    retry = next((outcome.retry_after or "1" for outcome in outcomes if outcome.retryable), None)
    headers = {"Retry-After": retry} if retry else None
    body = {"ia::result": results, "ia::meta": meta(outcomes)}
    return Response(body, status=code, headers=headers)
