"""Debian's Chromium for the browser tests, driven by Playwright."""

from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"  # Debian's (.ci/run installs it); never `playwright install`


@contextmanager
def chromium():
    """A browser, closed on the way out. The browser runs an event loop in the calling thread:
    read the database before entering."""
    assert Path(CHROMIUM).exists(), "apt-get install -y chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--no-first-run"],
        )
        try:
            yield browser
        finally:
            browser.close()


def admin_login(page, url: str, next: str = "/admin/") -> None:
    """Log in as tests/support/fixtures.py's admin_user through the admin's login page of the
    live server at `url`, and wait for `next`."""
    page.goto(f"{url}/admin/login/?next={next}")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "admin-password")
    page.click("input[type=submit]")
    page.wait_for_url(f"{url}{next}")
