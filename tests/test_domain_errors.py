"""Every refusal the domain can raise has its catalogue entry, worded as the domain words it."""

from config.api import errors
from config.api.exceptions import domain_error
from core.errors import MESSAGES, DomainError, Phrase
from inventory.models import PartInventory
from kitting.api.serializers import RunCompleteSerializer


def test_every_domain_code_has_a_catalogue_entry_with_its_message():
    assert set(errors.DOMAIN_CODES) == set(MESSAGES)
    differing = {
        code
        for code, spec in errors.DOMAIN_CODES.items()
        if spec.message != MESSAGES[code] or errors.CATALOGUE[spec.error_id] is not spec
    }
    # Over HTTP a stale write names the If-Match header the client sent, and the run's completion
    # is named by its route.
    assert differing == {"stale", "run_completed_by_workflow"}
    assert errors.DOMAIN_CODES["stale"] is errors.PRECONDITION_FAILED


def test_fields_are_named_by_the_spec_only():
    """A field by the request serializer's member; one it does not render by the member of the
    object the error names (a duplicate's field); else by its model name, never guessed."""
    clash = DomainError(
        "duplicate",
        "serial_numbers",
        OBJECT=PartInventory,
        FIELD=Phrase("{field}", field="serial_number"),
        VALUE="A-1",
    )
    err = domain_error(clash, RunCompleteSerializer)
    assert (err.target, err.placeholders["FIELD"]) == ("serialNumbers", "serialNumber")
    unknown = domain_error(DomainError("required", "not_a_member"), RunCompleteSerializer)
    assert (unknown.details[0].target, unknown.details[0].placeholders) == (
        "not_a_member",
        {"FIELD": "not_a_member"},
    )
