"""No input answers 500: every URL, every form field, hostile values, three kinds of visitor.

For each of anonymous, the reporter and a maintainer (signed in as people do, second factor
included), over every URL pattern of the site (tests/site_map.py walks the resolver: ours,
allauth's, the admin's):
- GET and POST with the real values of a seeded world (a tracking ID, attachment, proposal,
  advisory identifier, project slug, invitation token...), and GET with a hostile query string;
- GET and POST with each path parameter in turn replaced by each hostile value (NUL byte,
  10 000 characters, ../, unicode, an SQL quote, an integer too big for any column); of the
  values the route's own pattern refuses (an <int:...> refuses all but the big integer), only the
  first is sent: the resolver answers them all alike, before any view;
- every form of every page that answered 200 (parsed from the HTML) is posted once per field and
  hostile value, the other fields holding plausible values so the hostile one reaches as deep as
  it can: NUL, a huge string, dates 0001-01-01 and 9999-12-31, choices that do not exist, files
  with hostile names.
Every response must be below 500; all failures are listed at once. The client keeps a 500 as a
status (raise_request_exception=False) and the view's traceback goes to the log. Run it against
PostgreSQL too: NUL bytes only fail there.
"""

import dataclasses
import datetime
from html.parser import HTMLParser
from urllib.parse import unquote, urlencode, urljoin, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import Resolver404, resolve
from django.utils import timezone

from tests.signin import Client
from tests.site_map import HOSTILE, HUGE, NUL, routes, signs_out

pytestmark = [
    pytest.mark.heavy,
    pytest.mark.django_db,
    pytest.mark.usefixtures("templates_unrecorded"),
]

LONG_EMAIL = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".example.org"
TEXT_VALUES = (NUL, HUGE, "' OR '1'='1' -- ünïcødé ☃")
FIELD_VALUES = {
    "email": (NUL, HUGE, LONG_EMAIL),
    "date": ("0001-01-01", "9999-12-31", NUL),
    "choice": ("not-a-choice", NUL),
}
CHOICE_TYPES = {"checkbox", "radio", "select"}
SKIPPED_FIELDS = {"csrfmiddlewaretoken"}
# Forms each visitor must have found (by the URL name they post to).
EXPECTED_FORMS = {
    "anonymous": {"account_login", "account_signup", "account_reset_password"},
    "reporter": {
        "reports:list",  # the filters, a GET form
        "reports:intake",
        "reports:comment",
        "reports:upload",
        "reports:invite",
        "reports:transition",
        "advisories:respond",
        "advisories:approve",
        "reports:credit",
        "advisories:respond_fix",
        "account_email",
    },
    "maintainer": {
        "reports:intake",
        "reports:transition",
        "reports:score",
        "reports:severity",
        "advisories:propose",
        "advisories:fix_release",
        "advisories:advisory",
        "advisories:checklist",
        "advisories:share_fix",
    },
    # The admin, with every page and form it shows a superuser.
    "superuser": {
        "reports:transition",
        "projects:invite_member",
        "projects:change_role",
        "admin:projects_membership_add",
        "admin:projects_policyrevision_add",
        "admin:reports_report_changelist",
    },
}


# --- Forms, as a browser sees them ----------------------------------------------------------------


@dataclasses.dataclass
class Field:
    name: str
    type: str
    value: str = ""
    checked: bool = False
    choices: list = dataclasses.field(default_factory=list)
    multiple: bool = False


@dataclasses.dataclass
class Form:
    page: str
    action: str
    method: str
    fields: dict = dataclasses.field(default_factory=dict)
    submit: tuple | None = None

    @property
    def url(self):
        return urljoin(self.page, self.action)

    def signature(self):
        return (urlsplit(self.url).path, self.method, tuple(sorted(self.fields)))


class FormParser(HTMLParser):
    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.page, self.forms = page, []
        self.form = self.select = self.textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            method = (attrs.get("method") or "get").lower()
            self.form = Form(page=self.page, action=attrs.get("action") or "", method=method)
            self.forms.append(self.form)
            return
        name = attrs.get("name")
        if self.form is None:
            return
        if tag == "option" and self.select is not None:
            self.select.choices.append(attrs.get("value") or "")
            if "selected" in attrs:
                self.select.value = attrs.get("value") or ""
            return
        if not name or name in SKIPPED_FIELDS:
            return
        kind = (attrs.get("type") or "text").lower() if tag == "input" else tag
        if kind in {"submit", "button", "image", "reset"}:
            if self.form.submit is None and kind in {"submit", "button"}:
                self.form.submit = (name, attrs.get("value") or "")
            return
        field = self.form.fields.setdefault(name, Field(name=name, type=kind))
        if kind in {"checkbox", "radio"}:
            field.choices.append(attrs.get("value") or "on")
            field.multiple = field.multiple or (kind == "checkbox" and len(field.choices) > 1)
            if "checked" in attrs:
                field.checked, field.value = True, attrs.get("value") or "on"
        elif tag == "select":
            field.multiple = "multiple" in attrs
            self.select = field
        elif tag == "textarea":
            self.textarea = field
        else:
            field.value = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea.value += data


def plausible(field):
    """A value that passes the field's checks, so a hostile value elsewhere is what fails."""
    if field.type in CHOICE_TYPES:
        if field.type == "checkbox" and not field.checked and not field.multiple:
            return None
        choices = [c for c in field.choices if c]
        value = field.value or (choices[0] if choices else "")
        return [value] if field.multiple else value
    if field.value:
        return field.value
    return {
        "email": "fuzz@example.org",
        "date": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
        "number": "1",
        "url": "https://example.org/fuzz",
        "password": "fuzz-password-123",
        "file": None,
    }.get(field.type, "Plausible text.")


def hostile_values(field):
    if field.type == "file":
        return (
            SimpleUploadedFile("a\x00b.txt", b"x"),
            SimpleUploadedFile("y" * 300 + ".txt", b"x"),
        )
    if field.type in CHOICE_TYPES:
        return FIELD_VALUES["choice"]
    return FIELD_VALUES.get(field.type, TEXT_VALUES)


def submissions(form):
    """(field name, data) for each field of `form` set to each hostile value in turn."""
    base = {name: plausible(field) for name, field in form.fields.items()}
    base = {name: value for name, value in base.items() if value is not None}
    if form.submit:
        base[form.submit[0]] = form.submit[1]
    for name, field in form.fields.items():
        for value in hostile_values(field):
            yield name, {**base, name: value}


def pattern_of(url):
    """The URL pattern (`ResolverMatch.route`) serving `url`; None where the resolver refuses it."""
    try:
        return resolve(unquote(urlsplit(url).path)).route
    except Resolver404:
        return None


# --- The fuzz -----------------------------------------------------------------------------------


class Fuzzer:
    def __init__(self, client):
        self.client, self.failures, self.forms, self.count = client, [], {}, 0

    def request(self, method, url, data=None, what=""):
        response = getattr(self.client, method)(url, data or {})
        self.count += 1
        if response.streaming:  # read to the end: the client then closes it as a server does
            b"".join(response.streaming_content)
        if response.status_code >= 500:
            self.failures.append(f"{response.status_code} {method.upper()} {url[:150]} {what}")
        return response

    def harvest(self, url, response):
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            return
        parser = FormParser(url)
        parser.feed(response.content.decode())
        for form in parser.forms:
            if urlsplit(form.url).netloc:  # another site: nothing of ours to fuzz
                continue
            self.forms.setdefault(form.signature(), form)

    def visit(self, route, real, query):
        """GET and POST the route with real values (harvesting its forms) and a hostile query,
        then with each path parameter replaced by each hostile value.
        """
        url = route.url(real)
        self.harvest(url, self.request("get", url))
        self.request("post", url)
        self.request("get", f"{url}?{urlencode({'next': query, 'page': query, 'q': query})}")
        own = pattern_of(url)
        for param in route.params:
            refused = False
            for value in HOSTILE:
                hostile_url = route.url({**real, param: value})
                # A value the route's own pattern refuses never reaches its view: the resolver
                # answers (404, or the admin's catch-all), the same code for every such value.
                # One of them per parameter is enough (the first, NUL, where it is refused).
                if own is not None and pattern_of(hostile_url) != own:
                    if refused:
                        continue
                    refused = True
                self.request("get", hostile_url, what=f"{param}={value[:20]!r}")
                self.request("post", hostile_url, what=f"{param}={value[:20]!r}")

    def submit(self, forms):
        for form in forms:
            for name, data in submissions(form):
                self.request(form.method, form.url, data, what=f"field {name} on {form.page}")


@pytest.mark.parametrize("who", ["anonymous", "reporter", "maintainer", "superuser"])
def test_no_input_answers_500(world, reporter, maintainer, superuser, who):
    cast = {"anonymous": None, "reporter": reporter, "maintainer": maintainer}
    user = {**cast, "superuser": superuser}[who]
    client = Client(raise_request_exception=False)
    if user is not None:
        client.sign_in(user)
    fuzz = Fuzzer(client)
    every = routes()
    # What signs the visitor out (tests/site_map.py SIGNS_OUT) comes last.
    for index, route in enumerate(r for r in every if not signs_out(r.url(world.real(r)))):
        fuzz.visit(route, world.real(route), HOSTILE[index % len(HOSTILE)])
    assert fuzz.forms, "no page had a form: the seeded world is broken"
    fuzz.submit(form for form in fuzz.forms.values() if not signs_out(form.url))
    if user is not None:  # the visit above was signed in throughout
        assert client.session.get("_auth_user_id") == str(user.pk)
    for route in (r for r in every if signs_out(r.url(world.real(r)))):
        fuzz.visit(route, world.real(route), HUGE)
    fuzz.submit(form for form in fuzz.forms.values() if signs_out(form.url))

    assert not fuzz.failures, "\n".join(fuzz.failures)
    # Every pattern was visited, with its hostile variants (a floor, not an exact count), and the
    # forms that matter were found: a broken seed must not make the fuzz quietly shallow.
    assert fuzz.count > 3 * len(every)
    found = {resolve(unquote(urlsplit(form.url).path)).view_name for form in fuzz.forms.values()}
    assert EXPECTED_FORMS[who] <= found, EXPECTED_FORMS[who] - found


@pytest.mark.parametrize("cookie", ["sessionid", "csrftoken", "messages"])
def test_no_cookie_answers_500(world, cookie):
    client = Client(raise_request_exception=False)
    for value in HOSTILE:
        # As a server hands the bytes on (WSGI: latin-1), which the test client insists on.
        client.cookies[cookie] = value.encode().decode("latin-1")
        assert client.get("/").status_code < 500, value[:20]
        assert client.get("/reports/").status_code < 500, value[:20]
        response = client.post("/accounts/login/", {"login": "a@example.org", "password": "x"})
        assert response.status_code < 500, value[:20]
