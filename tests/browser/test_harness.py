"""The harness itself: static files are served, and the page fixture notices what goes wrong."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CSP_VIOLATION_PREFIX

pytestmark = pytest.mark.django_db(transaction=True)


def test_start_page_loads_bootstrap(page):
    with page.expect_response(lambda r: r.url.endswith("/bootstrap.min.css")) as stylesheet:
        page.goto("/")
    assert stylesheet.value.status == 200
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()
    # Bootstrap's rules apply (.bg-dark on the navigation) and its script ran.
    navigation = page.get_by_role("navigation", name="Main navigation")
    expect(navigation).to_have_css("background-color", "rgb(33, 37, 41)")
    assert page.evaluate("typeof window.bootstrap.Collapse") == "function"


# What a page could do wrong, as page.evaluate runs it after the page loaded.
INLINE_SCRIPT = """() => {
  const script = document.createElement("script");
  script.textContent = "window.inlineRan = true";
  document.body.append(script);
}"""
INLINE_STYLE = """() => document.querySelector("h1").setAttribute("style", "color: red")"""
UNCAUGHT_ERROR = """() => { setTimeout(() => { throw new Error("boom in a handler"); }); }"""


# Chromium's own console error for a CSP violation, besides the page's report of it.
CHROMIUM_CSP = "violates the following Content Security Policy directive"


@pytest.mark.parametrize(
    ("mischief", "event", "expected"),
    [
        pytest.param(
            INLINE_SCRIPT,
            "console",
            [f"{CSP_VIOLATION_PREFIX} script-src-elem blocked inline", CHROMIUM_CSP],
            id="inline-script",
        ),
        pytest.param(
            INLINE_STYLE,
            "console",
            [f"{CSP_VIOLATION_PREFIX} style-src-attr blocked inline", CHROMIUM_CSP],
            id="inline-style",
        ),
        pytest.param(UNCAUGHT_ERROR, "pageerror", ["uncaught error: boom"], id="uncaught"),
    ],
)
def test_page_fixture_records_what_goes_wrong(page, browser_problems, mischief, event, expected):
    page.goto("/")
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()
    assert not browser_problems

    def recorded(_event=None):
        return all(any(text in problem for problem in browser_problems) for text in expected)

    with page.expect_event(event, recorded):
        page.evaluate(mischief)

    assert recorded(), browser_problems
    assert page.evaluate("window.inlineRan === undefined")  # and CSP did block the script
    # Recorded, so the fixture would fail the test at teardown; here that is the point: pass.
    browser_problems.clear()
