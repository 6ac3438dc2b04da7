"""A display name each person sets on the account page, shown instead of usernames (which allauth
builds from the address's local part) and never made from the address.
"""

import html

import pytest
from django.test import Client as PlainClient

from mailer.models import OutboundEmail
from projects import services
from projects.models import Profile
from projects.people import shown_name
from reports import services as report_services
from tests.factories import UserFactory
from tests.reports.conftest import file, share
from tests.signin import PASSWORD, prepare

pytestmark = pytest.mark.django_db

PROFILE = "/accounts/profile/"


def page(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def test_the_account_page_sets_the_display_name(client, reporter):
    client.sign_in(reporter)
    assert 'name="display_name"' in page(client, PROFILE)
    response = client.post(PROFILE, {"display_name": "  Ada   Lovelace "}, follow=True)
    assert response.redirect_chain == [(PROFILE, 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "Saved: others now see you as Ada Lovelace."
    ]
    assert Profile.objects.get(user=reporter).display_name == "Ada Lovelace"
    assert 'value="Ada Lovelace"' in page(client, PROFILE)
    client.post(PROFILE, {"display_name": ""})
    assert Profile.objects.get(user=reporter).display_name == ""


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("ada@example.org", "not an email address"),
        ("Acme security team", "Security team"),
        ("x" * 81, "at most 80 characters"),
    ],
)
def test_a_display_name_that_misleads_is_refused_and_nothing_is_stored(
    client, reporter, name, error
):
    client.sign_in(reporter)
    response = client.post(PROFILE, {"display_name": name})
    assert response.status_code == 200
    assert error in html.unescape(response.content.decode())
    assert not Profile.objects.filter(user=reporter).exists()


def test_the_account_page_needs_a_signed_in_person(client):
    response = client.get(PROFILE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_account_menu_and_the_nav_link_the_page(client, reporter):
    client.sign_in(reporter)
    assert f'href="{PROFILE}"' in page(client, "/accounts/email/")
    assert f'href="{PROFILE}"' in page(client, "/")


def test_signing_in_names_the_display_name_never_the_username():
    person = UserFactory(email="ada.lovelace@example.org", username="ada.lovelace")
    prepare(person)

    def sign_in_message():
        client = PlainClient()
        response = client.post(
            "/accounts/login/", {"login": person.email, "password": PASSWORD}, follow=True
        )
        return [str(m) for m in response.context["messages"]]

    assert sign_in_message() == ["Successfully signed in as ada.lovelace@example.org."]
    services.set_display_name(user=person, display_name="Ada")
    assert sign_in_message() == ["Successfully signed in as Ada."]


def test_the_report_page_names_people_per_audience(
    client, project, reporter, collaborator, maintainer, triager
):
    reporter.username = "reporterlocalpart"
    reporter.save(update_fields=["username"])
    report = file(reporter, project)
    share(report, by=reporter, with_user=collaborator)
    report_services.add_comment(
        report=report, by=maintainer, body="We see it.", internal=False, by_member=True
    )
    report_services.add_comment(
        report=report, by=collaborator, body="Me too.", internal=False, by_member=False
    )
    path = f"/reports/{report.tracking_id}/"

    # Without display names: members see addresses, collaborators "Reporter".
    client.sign_in(triager)
    seen = page(client, path)
    assert "by reporter@example.org." in seen
    assert f"{maintainer.email} · " in seen
    client.sign_in(collaborator)
    seen = page(client, path)
    assert "by Reporter." in seen
    assert maintainer.email not in seen
    assert "reporterlocalpart" not in seen

    services.set_display_name(user=reporter, display_name="Ada Lovelace")
    services.set_display_name(user=maintainer, display_name="Grace Hopper")
    services.set_display_name(user=collaborator, display_name="Alan Turing")

    # Members see who reported: display name and address; and each other by name.
    client.sign_in(triager)
    seen = page(client, path)
    assert "by Ada Lovelace (reporter@example.org)." in seen
    assert f"Grace Hopper ({maintainer.email}) · " in seen
    assert "Alan Turing (collaborator@example.org) · " in seen
    # The reporter side: the collaborator by name, the maintainer still only as the team.
    client.sign_in(collaborator)
    seen = page(client, path)
    assert "by Ada Lovelace." in seen
    assert "Acme security team · " in seen
    assert "Grace Hopper" not in seen
    assert maintainer.email not in seen
    assert "reporter@example.org" not in seen
    client.sign_in(reporter)
    seen = page(client, path)
    assert "by You." in seen
    assert "Alan Turing · " in seen
    assert "Grace Hopper" not in seen


def test_the_collaborator_added_email_names_them_by_display_name(
    project, reporter, collaborator, maintainer
):
    services.set_display_name(user=collaborator, display_name="Alan Turing")
    report = file(reporter, project)
    OutboundEmail.objects.all().delete()
    share(report, by=reporter, with_user=collaborator)
    subjects = set(OutboundEmail.objects.filter(to=maintainer.email).values_list("subject"))
    assert (f"[{report.tracking_id}] Alan Turing was added to the report",) in subjects


def test_the_members_page_names_members_by_display_name(client, project, project_admin, triager):
    services.set_display_name(user=triager, display_name="Grace Hopper")
    client.sign_in(project_admin)
    seen = page(client, f"/projects/{project.slug}/members/")
    assert f"Grace Hopper ({triager.email})" in seen


def test_shown_name_never_makes_a_name_from_the_address(reporter):
    assert shown_name(reporter) == "A user"
    assert shown_name(reporter, fallback="Reporter") == "Reporter"
    assert shown_name(reporter, email=True) == "reporter@example.org"
    services.set_display_name(user=reporter, display_name="Ada")
    assert shown_name(reporter) == "Ada"
    assert shown_name(reporter, email=True) == "Ada (reporter@example.org)"
    assert shown_name(None) == "A user"
