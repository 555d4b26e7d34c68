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
