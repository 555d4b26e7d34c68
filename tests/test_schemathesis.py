"""The whole OpenAPI document fuzzed against the service (schemathesis, through the WSGI app
with a real bearer token, on the demo data): no operation answers a server error or a body its
operation does not document. Bounded (a few examples per operation, derandomized) so that the
run stays about a minute."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.config import SchemathesisConfig

from config.wsgi import application
from kitting.demo import demo_data_load
from tests.support.users import bearer_token

schema = schemathesis.pytest.from_fixture("fuzzed_document")


@pytest.fixture
def fuzzed_document(openapi_document):
    # The explicit examples and a few generated cases per operation, valid and not: no coverage
    # phase (it walks every boundary of every member: minutes).
    config = SchemathesisConfig.from_dict(
        {"phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}}}
    )
    loaded = schemathesis.openapi.from_dict(openapi_document, config=config)
    loaded.app = application
    return loaded


@pytest.fixture
def demo(admin_user):
    """The demo data, and the WSGI app kept inside the test's transaction: as Django's test
    client does, requests do not close the connection (which would end that transaction)."""
    demo_data_load(user=admin_user)
    # First: Django's test client (the token request) connects them again after its request.
    headers = {"Authorization": f"Bearer {bearer_token(admin_user)}"}
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield headers
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error_or_an_undocumented_body(case, demo):
    case.call_and_validate(headers=demo, checks=[not_a_server_error, response_schema_conformance])
