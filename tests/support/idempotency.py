"""Reading the answers to one keyed request sent many times at once (contract 12.1)."""

from config.api.models import IdempotencyKey
from inventory.models import InventoryTransaction

CACHED = "x-ia-idempotency-cached-date"


def first_and_others(answers):
    """The one answer that ran (no cached date): every other is a replay of it or a 409 saying
    it was still in progress."""
    (first,) = [a for a in answers if a.status_code != 409 and CACHED not in a.headers]
    replays = [a for a in answers if CACHED in a.headers]
    refused = [a for a in answers if a.status_code == 409]
    assert 1 + len(replays) + len(refused) == len(answers)
    for replay in replays:
        assert (replay.status_code, replay.content) == (first.status_code, first.content)
        assert replay.headers["Idempotency-Key"] == first.headers["Idempotency-Key"]
    for answer in refused:
        error = answer.json()["ia::result"]["ia::error"]
        assert (error["errorId"], answer.headers["Retry-After"]) == ("KS-4096", "1")
    return first


def assert_issued_three_once(answers, lot, key: str) -> None:
    """The keyed issue of 3 from the shop's lot of 10 ran once: one 200, one ledger row, one
    stored key."""
    first = first_and_others(answers)
    assert first.status_code == 200
    assert first.json()["ia::result"]["issuedQuantity"] == 3
    lot.refresh_from_db()
    assert (lot.quantity, lot.kitted_quantity) == (7, 3)
    issues = InventoryTransaction.objects.filter(part_inventory=lot, type="issue")
    assert list(issues.values_list("quantity", flat=True)) == [-3]
    assert list(IdempotencyKey.objects.values_list("key", "status")) == [(key, 200)]
