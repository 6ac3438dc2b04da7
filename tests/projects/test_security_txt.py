import datetime

import pytest
import time_machine
from django.core.management import call_command
from sectxt import Parser

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 23, 15, 30, tzinfo=datetime.UTC)


@pytest.fixture
def seeded(db, settings):
    settings.SITE_URL = "https://disclosure.example.org"
    settings.SECURITY_CONTACT_EMAIL = "security@disclosure.example.org"
    call_command("seed_projects", verbosity=0)


def fields(text):
    pairs = [line.split(": ", 1) for line in text.splitlines() if line and not line.startswith("#")]
    result = {}
    for name, value in pairs:
        result.setdefault(name, []).append(value)
    return result


def validate(text, url):
    parser = Parser(text.encode(), urls=url)
    assert parser.errors == [], parser.errors
    assert parser.is_valid()
    return parser


@time_machine.travel(NOW)
def test_project_security_txt_fields(client, seeded):
    response = client.get("/projects/stalwart/security.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    values = fields(response.content.decode())
    assert values["Contact"] == [
        "mailto:security@stalw.art",
        "https://disclosure.example.org/projects/stalwart/report/",
        "mailto:hello@stalw.art",
    ]
    assert values["Expires"] == ["2027-05-22T00:00:00Z"]
    assert values["Policy"] == ["https://disclosure.example.org/projects/stalwart/"]
    assert values["Acknowledgments"] == [
        "https://disclosure.example.org/projects/stalwart/hall-of-fame/"
    ]
    assert "Preferred-Languages" not in values  # see test_only_languages_a_policy_states
    assert values["Canonical"] == ["https://disclosure.example.org/projects/stalwart/security.txt"]


@time_machine.travel(NOW)
@pytest.mark.parametrize("slug", ["stalwart", "teammail", "mailtri-router"])
def test_project_security_txt_passes_the_validator(client, seeded, slug):
    text = client.get(f"/projects/{slug}/security.txt").content.decode()
    validate(text, f"https://disclosure.example.org/projects/{slug}/security.txt")


# What each policy says about languages: nothing. Its reporting instructions, quoted.
SAYS_NO_LANGUAGE = {
    "stalwart": "Email (preferred): Send details to `security@stalw.art`",
    "teammail": "Reporter email the issues privately to openpaas-james[AT]linagora.com.",
    "mailtri-router": "Send an email to **security@mailtri.com** with the following information",
}


@time_machine.travel(NOW)
@pytest.mark.parametrize("slug", sorted(SAYS_NO_LANGUAGE))
def test_only_languages_a_policy_states(client, seeded, slug):
    """security.txt used to claim French for TeamMail ("Preferred-Languages: en, fr") and
    English for the others, yet no seeded policy names a language: TeamMail's says only
    "Reporter email the issues privately to openpaas-james[AT]linagora.com." (the others: see
    SAYS_NO_LANGUAGE). Preferred-Languages is optional (RFC 9116 §2.5.8), so it is left out.
    """
    text = client.get(f"/projects/{slug}/security.txt").content.decode()
    assert "Preferred-Languages" not in text
    validate(text, f"https://disclosure.example.org/projects/{slug}/security.txt")


@time_machine.travel(NOW)
def test_a_project_that_states_languages_has_them(client, seeded):
    from projects.models import Project

    Project.objects.filter(slug="teammail").update(preferred_languages="fr, en")
    text = client.get("/projects/teammail/security.txt").content.decode()
    assert fields(text)["Preferred-Languages"] == ["fr, en"]
    validate(text, "https://disclosure.example.org/projects/teammail/security.txt")


@time_machine.travel(NOW)
def test_instance_security_txt(client, seeded):
    response = client.get("/.well-known/security.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    values = fields(text)
    assert values["Contact"] == [
        "mailto:security@disclosure.example.org",
        "https://disclosure.example.org/",
    ]
    assert values["Canonical"] == ["https://disclosure.example.org/.well-known/security.txt"]
    # CSAF 2.0 requirement 8: the field aggregators discover the provider by.
    assert values["CSAF"] == [
        "https://disclosure.example.org/.well-known/csaf/provider-metadata.json"
    ]
    validate(text, "https://disclosure.example.org/.well-known/security.txt")


@pytest.mark.parametrize("days", [1, 180, 365])
def test_expires_stays_within_a_year(client, seeded, settings, days):
    settings.SECURITY_TXT_EXPIRES_DAYS = days
    with time_machine.travel(NOW):
        text = client.get("/projects/stalwart/security.txt").content.decode()
    expires = datetime.datetime.fromisoformat(fields(text)["Expires"][0])
    assert NOW < expires <= NOW + datetime.timedelta(days=365)
    assert expires.date() == NOW.date() + datetime.timedelta(days=days)


def test_expires_moves_with_the_clock(client, seeded):
    with time_machine.travel(NOW + datetime.timedelta(days=400)):
        text = client.get("/projects/stalwart/security.txt").content.decode()
    assert fields(text)["Expires"] == ["2028-06-25T00:00:00Z"]
