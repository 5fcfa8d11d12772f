"""Real-browser fixtures: Debian's Chromium driven by Playwright against the real function."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.server import Server, warm

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


# Package-scoped: Playwright's sync API keeps an event loop running on the main thread while it
# is open, and asyncio.run() refuses to start under it, so it closes once these tests are done.
@pytest.fixture(scope="package")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (make system-deps) to run browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def page_server():
    """page_server(model_dir, env=None, instance="shared") -> base URL of a real function (as
    production runs it) serving that model and frontend/, with `env` added. One server per model,
    env and instance name for the session: each costs seconds to start and warm. A test that
    leaves state in its server (DART's spent quota, say) names an instance of its own."""
    servers: dict[tuple, Server] = {}

    def start(model: Path, env: dict[str, str] | None = None, instance: str = "shared") -> str:
        key = (model, tuple(sorted((env or {}).items())), instance)
        if key not in servers:
            # Loaded now, patiently, so no page wait depends on a cold start's length.
            servers[key] = warm({"MODEL_DIR": str(model), "FRONTEND_DIR": str(ROOT / "frontend"), **(env or {})})
        return servers[key].url

    yield start
    for server in servers.values():
        server.stop()


@pytest.fixture
def open_page(browser):
    """open_page(url, viewport=DESKTOP, wait_ready=True, before=None) -> a fresh page (own storage)
    on `url`; `before(page)` runs first (to route requests). An uncaught script error, or anything
    the Content-Security-Policy refused (an inline script or style), fails the test."""
    contexts = []
    errors = []

    def open_(url: str, viewport: dict = DESKTOP, wait_ready: bool = True, before=None):
        context = browser.new_context(viewport=viewport, accept_downloads=True)
        context.set_default_timeout(15000)  # a cold model loads in a few seconds; a failure need not wait 30
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "console",
            lambda message: errors.append(message.text) if "Content Security Policy" in message.text else None,
        )
        if before:
            before(page)
        page.goto(url)
        if wait_ready:
            page.locator('[data-testid="service-status"][data-state="ok"]').wait_for()
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors, f"errors in the page: {errors}"


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("page-screenshots")
    print(f"\nscreenshots of the page: {directory}")
    return directory
