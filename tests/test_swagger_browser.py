"""Swagger UI (`/api/docs/`) as an integrator uses it, in Debian's Chromium driven by Playwright:
Authorize with an API client's credentials (the OAuth2 client-credentials flow at the service's
own token endpoint, the scheme the dialog offers first), then run a request and see its answer.
Nothing but the live server is reached."""

import pytest

from config.api.oauth import api_client_create
from tests.support.browser import chromium
from tests.support.factories import warehouse


@pytest.mark.django_db(transaction=True)
def test_swagger_ui_authorizes_with_client_credentials_and_runs_a_request(live_server, admin_user):
    shelf = warehouse(admin_user, "WH-SWAG", "Swagger shelf")
    client_id, secret = api_client_create(user=admin_user, name="Swagger")
    # The browser runs an event loop in this thread: every database write happens before it.
    refused = []

    def only_the_server(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    with chromium() as browser:
        context = browser.new_context()
        context.route("**/*", only_the_server)
        page = context.new_page()
        page.goto(f"{live_server.url}/api/docs/")
        page.click("button.authorize", timeout=30_000)
        schemes = page.locator(".auth-container h4").all_inner_texts()
        dialog = page.locator(".auth-container").filter(has_text="clientCredentials")
        dialog.locator("#client_id_clientCredentials").fill(client_id)
        dialog.locator("#client_secret_clientCredentials").fill(secret)
        dialog.get_by_role("button", name="Apply given OAuth2 credentials").click()
        dialog.get_by_role("button", name="Remove authorization").wait_for(timeout=30_000)
        dialog.get_by_role("button", name="Close").click()

        operation = page.locator("#operations-objects-objects_inventory_control_warehouse_list")
        operation.locator(".opblock-summary").click()
        operation.get_by_role("button", name="Try it out").click()
        operation.get_by_role("button", name="Execute").click()
        answer = operation.locator(".live-responses-table .response")
        answer.locator(".response-col_status").first.wait_for(timeout=30_000)
        status = answer.locator(".response-col_status").first.inner_text()
        body = answer.locator(".microlight, pre").first.inner_text()

    # Client credentials and a bearer token; no session cookie, which Swagger UI cannot send.
    assert sorted(text.split()[0] for text in schemes) == ["bearer", "oauth2"], schemes
    assert status.strip() == "200"
    assert f'"key": "{shelf.pk}"' in body and '"id": "WH-SWAG"' in body
    assert refused == []
