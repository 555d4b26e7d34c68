"""GraphiQL (`GET /graphql` in a browser) works with no network beyond the server: Debian's
Chromium, driven by Playwright, loads it from a live server with every other request refused,
logs in through the admin (a session, with its CSRF token) and runs a query."""

import pytest

from tests.support.browser import admin_login, chromium
from tests.support.factories import part, stock


@pytest.mark.django_db(transaction=True)
def test_graphiql_loads_offline_and_runs_a_query(live_server, admin_user):
    inventory = stock(admin_user, part(admin_user, "Widget"), 7)
    # The browser runs an event loop in this thread: every database read happens before it.
    asked, refused = [], []

    def only_the_server(route):
        url = route.request.url
        asked.append(url)
        if url.startswith(live_server.url):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    with chromium() as browser:
        context = browser.new_context()
        context.route("**/*", only_the_server)
        page = context.new_page()
        admin_login(page, live_server.url, next="/graphql")
        page.wait_for_selector(".graphiql-query-editor .CodeMirror", timeout=30_000)
        title = page.title()
        page.click(".graphiql-execute-button")
        response = page.locator(".graphiql-response")
        response.get_by_text('"totalCount": 1').wait_for(timeout=30_000)
        shown = response.inner_text()

    assert title == "Kitsmith GraphQL"
    assert f'"id": "{inventory.pk}"' in shown and '"partNumber": "Widget"' in shown
    assert refused == []
    assert any(url.endswith("/static/graphiql/graphiql.min.js") for url in asked)
