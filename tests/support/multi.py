"""Expected bodies of several requests in one: the composite service and the batch forms
(contract 13.2, 13.3), spelled out literally as tests/support/errors.py spells errors."""

from typing import Any

from tests.support.errors import err

COMPOSITE = "/services/core/composite"
ATOMIC = {"HTTP_X_IA_API_PARAM_TRANSACTION": "true"}


def meta(total: int, succeeded: int) -> dict[str, int]:
    return {"totalCount": total, "totalSuccess": succeeded, "totalError": total - succeeded}


def answer(results: list[Any], succeeded: int | None = None) -> dict[str, Any]:
    """A multi-item body: the items by position and their counts (all succeeded by default)."""
    done = len(results) if succeeded is None else succeeded
    return {"ia::result": results, "ia::meta": meta(len(results), done)}


def failed_item(response, status: int, error: dict) -> dict[str, Any]:
    """A failed position: the error the single request would have answered (its supportId is the
    outer request's id), and its status."""
    return {"ia::error": {**error, "supportId": response["X-Request-Id"]}, "ia::status": status}


def unprocessed(response, failed_at: int, *, rolled_back: bool = False) -> dict[str, Any]:
    reason = f"the item at /{failed_at} failed"
    if rolled_back:
        reason += " and every item was rolled back"
    return failed_item(
        response, 422, err("KS-4270", f"This item was skipped: {reason}", REASON=reason)
    )


def invalid(form: str, reason: str) -> dict:
    """The whole request refused (400): its form (`batch`, `composite request`) and why."""
    return err("KS-4024", f"Invalid {form}: {reason}", FORM=form, REASON=reason)


def at(pointer: str, reason: str) -> dict:
    """A detail naming the position (a JSON pointer) of what is wrong."""
    return err(
        "KS-4025", f"{pointer} is invalid: {reason}", pointer, POINTER=pointer, REASON=reason
    )


def payload_errors(*details: dict) -> dict:
    return err("REST-1064", "Payload contains errors", details=list(details))


def unresolved(pointer: str, reference: str, reason: str) -> dict:
    return err(
        "KS-4026",
        f"Reference {reference} does not resolve: {reason}",
        pointer,
        REFERENCE=reference,
        REASON=reason,
    )


def with_status(result: dict, status: int) -> dict:
    return {**result, "ia::status": status}
