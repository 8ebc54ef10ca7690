"""Headless Chromium (Debian's /usr/bin/chromium, driven by Playwright for Python; never a downloaded browser)
against the portal served by pytest-django's live server. Screenshots go to artifacts/screenshots/."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
# `make screenshots` sets this: the shots the README shows are copied into the repository too.
README_SHOTS = ROOT / "static" / "readme"
README_NAMES = {"dashboard", "map", "onboarding-form", "onboarding-phone", "station", "operator", "conformance-report",
                "indicators-explorer", "scorecard", "orders", "disputes", "operator-home", "api-docs"}  # fmt: skip

if not Path(CHROMIUM).exists():
    pytest.skip(
        f"browser tests: {CHROMIUM} not found (apt-get install chromium; .ci/run installs it)", allow_module_level=True
    )


@pytest.fixture(scope="package")
def _sync_orm_beside_playwright():
    # Playwright's sync API keeps an event loop on the test's thread while it runs; the ORM calls the tests (and
    # their database fixtures) make beside it are ordinary synchronous ones, so Django's async-safety check is
    # lifted while this package's browser is open, and restored when it closes.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if before is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture(scope="package")
def browser(_sync_orm_beside_playwright):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def _browser_first(browser):
    """Every test here opens the browser before its database fixtures, so they run with the check lifted."""


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def shot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str, *, element: str | None = None, full_page: bool = True) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        if element:
            page.locator(element).screenshot(path=str(path))
        else:
            # The theme's save bar and pagination stick to the window's bottom; in a whole-page picture they would sit
            # across the middle of the page, so for the picture they stay where they are in the page.
            if full_page:
                page.add_style_tag(content='[class*="lg:sticky"] { position: static !important; }')
            page.screenshot(path=str(path), full_page=full_page)
        if os.environ.get("HLHT_README_SHOTS") and name in README_NAMES:
            README_SHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, README_SHOTS / path.name)
        return path

    return save


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.browser)
