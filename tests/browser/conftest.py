"""Real-browser harness: Debian's Chromium driven by Playwright against pytest-django's live server.

Every test in this folder is marked `browser`. Like `services`, a missing /usr/bin/chromium skips
it locally and fails it in CI (CI=true), which installs Chromium first (.ci/run).

Fixtures:
- `browser`: one headless Chromium per session (per xdist worker).
- `live_server` (pytest-django) with `settings.SITE_URL` pointing at it, so emails link to it.
- `browser_problems`: the list of what went wrong in the page (console errors, uncaught errors,
  CSP violations, server errors, failed requests); `page` fails the test at teardown unless it is
  empty. Chromium logs a console error for any 4xx/5xx response too, so a test that opens an error
  page on purpose asserts what was recorded and clears the list.
- `page`: a fresh context and page per test, with `base_url` set to the live server and a
  default timeout of TIMEOUT_MS.
Helpers that act as a user (sign in, TOTP, read emails) are in tests/browser/helpers.py.
"""

import contextlib
import os
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

# Playwright's sync API drives the browser from an asyncio loop in the main thread (in a
# greenlet), and the loop stays current for the rest of the worker's session. Django then takes
# every ORM call of the test code (and of later tests in the same worker) for a call from async
# code and raises SynchronousOnlyOperation. Nothing here is async: the test code and the live
# server thread run plain synchronous Django, so the guard is switched off.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
HERE = Path(__file__).resolve().parent
# Chromium's background services (updates, sync, metrics) dial out; this machine's closed network
# refuses them with console noise and delays. QUIC and the GPU are of no use headless.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Long enough for a cold live server on a busy 2-core machine (CI runs the browser journeys
# beside the fuzz and query-count sweeps; one sign-out there took over 5 s to answer), short
# enough that a wrong locator fails fast instead of eating the time budget. Actions and `expect`
# share it.
TIMEOUT_MS = 10_000
# The page reports CSP violations itself, on top of Chromium's own console error: the event also
# names the directive and the blocked resource.
CSP_VIOLATION_PREFIX = "CSP violation:"
CSP_REPORTER = f"""
document.addEventListener("securitypolicyviolation", (event) => {{
  console.error(
    "{CSP_VIOLATION_PREFIX} " + event.effectiveDirective + " blocked " +
    (event.blockedURI || "inline") + " at " + event.sourceFile + ":" + event.lineNumber
  );
}});
"""


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


def pytest_runtest_setup(item):
    if item.get_closest_marker("browser") is None or CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests: {CHROMIUM} is missing (.ci/run installs it)")
    pytest.skip(f"needs Chromium at {CHROMIUM} (apt-get install chromium); CI installs it")


@pytest.fixture(scope="session")
def browser():
    # Django keeps a thread's database connections in a thread-local while no asyncio loop runs in
    # the thread, and in a context variable while one does (asgiref's Local). Playwright's loop
    # runs in this thread from its start to its stop, so a connection opened on one side of either
    # switch is out of reach on the other and never closed: PostgreSQL then keeps an idle session
    # that blocks the worker tests (they wait for no other session) and dropping the test database.
    connections.close_all()
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
        connections.close_all()


@pytest.fixture(autouse=True)
def _site_is_the_live_server(live_server, settings, tmp_path):
    """Links in emails point at the live server; attachments go to a private temporary folder.

    The live server listens on `localhost`, which pytest-django adds to ALLOWED_HOSTS for the
    test (the development defaults already allow it); CSRF trusts same-origin posts.
    """
    settings.SITE_URL = live_server.url
    settings.ATTACHMENT_ROOT = tmp_path / "attachments"


@pytest.fixture
def browser_problems():
    """What went wrong in the page, one line each; `page` asserts it is empty at teardown."""
    return []


@pytest.fixture
def page(browser, live_server, browser_problems):
    """A new browser context (no cookies: signed out) and its page, watched by `watch`."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(CSP_REPORTER)
    tab = context.new_page()
    watch(tab, live_server.url, browser_problems)
    yield tab
    # A round trip lets the events the last action caused reach the listeners (unless the page is
    # gone or stuck, after a failure that is reported anyway).
    with contextlib.suppress(PlaywrightError):
        tab.evaluate("0")
    context.close()
    if browser_problems:
        pytest.fail("the browser saw problems:\n" + "\n".join(browser_problems), pytrace=False)


def watch(tab, server_url, problems):
    """Record in `problems` what a user would not see but a test must not miss."""

    def on_console(message):
        if message.type == "error":
            where = message.location.get("url", "")
            problems.append(f"console error: {message.text} ({where})")

    def on_response(response):
        if response.url.startswith(server_url) and response.status >= 500:
            problems.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    def on_request_failed(request):
        # Leaving a page aborts its pending requests: that is no failure of the server.
        if request.url.startswith(server_url) and request.failure != "net::ERR_ABORTED":
            problems.append(f"request failed ({request.failure}): {request.method} {request.url}")

    tab.on("console", on_console)
    tab.on("pageerror", lambda error: problems.append(f"uncaught error: {error}"))
    tab.on("response", on_response)
    tab.on("requestfailed", on_request_failed)
