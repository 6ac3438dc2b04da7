"""mailtri-router's SECURITY.md, promise by promise, proved through the site (each quoted)."""

import datetime as dt

import pytest

from advisories import services as advisory_services
from advisories.models import Advisory
from projects.access import role_of
from reports import services
from tests.promises.conftest import T0, claim, file_through_the_form, mail_to, signed_in

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)
REPORT = {
    "title": "Webhook signature bypass",
    "description": "An unsigned webhook is accepted.",
    "steps_to_reproduce": "POST to /webhook without a signature.",
    "affected_versions": ["other/unknown"],
    "impact": "Forged inbound mail events.",
    "os": "Linux",
    "nodejs_version": "20",
    "aws_region": "eu-west-1",
}


@pytest.fixture
def filed(seeded, clock, reporter):
    client = signed_in(reporter)
    form = client.get("/projects/mailtri-router/report/").context["form"]
    fields = {name: REPORT.get(name, "x") for name, field in form.fields.items() if field.required}
    fields.update({"title": REPORT["title"], "credit-display": "anonymous"})
    return file_through_the_form(client, "mailtri-router", fields)


def test_email_security_at_mailtri_com(filed):
    """ "Email: security@mailtri.com": that address hears of the report while the project has
    nobody (without its content), and may claim the project.
    """
    notices = mail_to("security@mailtri.com", about=filed)
    assert notices
    assert all(filed.title not in m.body for m in notices)
    contact = claim(filed.project, "security@mailtri.com")
    assert role_of(contact, filed.project) == "admin"


def test_response_time_24_to_72_hours(filed):
    """ "Response time: 24-72 hours for initial response"."""
    assert filed.ack_due - T0 in (24 * H, 72 * H)


def test_credit_unless_you_prefer_anonymity(seeded, clock, reporter):
    """ "we'll credit you in our security advisories (unless you prefer anonymity)": credited by
    name unless the reporter chooses otherwise; this reporter chose anonymity.
    """
    page = signed_in(reporter).get("/projects/mailtri-router/report/")
    assert page.context["credit_form"]["display"].value() == "name"


def test_no_disclosure_delay_is_promised(filed, maintainer):
    """The policy asks reporters to "Allow reasonable time for us to address the issue" and sets
    no disclosure delay: once fixed, the advisory is published on confirmation, crediting the
    reporter as they chose (anonymously).
    """
    from projects.models import Membership
    from tests.factories import MembershipFactory

    MembershipFactory(project=filed.project, user=maintainer, role=Membership.Role.MAINTAINER)
    services.transition(report=filed, by=maintainer, name="triage", severity="high", message="Y")
    services.transition(report=filed, by=maintainer, name="mark_fixed", message="Fixed.")
    advisory = advisory_services.draft_advisory(report=filed, by=maintainer)
    advisory_services.update_advisory(
        advisory=advisory, by=maintainer, fields={"fixed_versions": ["1.0.1"]}
    )
    url = f"/reports/{filed.tracking_id}/advisory/publish/"
    assert signed_in(maintainer).post(url, {"confirm": "on"}).status_code == 302
    advisory.refresh_from_db()
    assert advisory.state == Advisory.State.PUBLISHED
    assert [c.public_name for c in advisory.credits.all()] == ["Anonymous"]
