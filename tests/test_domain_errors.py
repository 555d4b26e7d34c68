"""Every refusal the domain can raise has its catalogue entry, worded as the domain words it."""

from config.api import errors
from core.errors import MESSAGES


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
