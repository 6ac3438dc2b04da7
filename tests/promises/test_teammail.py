"""TeamMail's security policy, promise by promise, proved through the site (each test quotes it)."""

import datetime as dt

import pytest

from advisories import services as advisory_services
from advisories.models import Advisory, Disclosure
from projects.access import role_of
from projects.models import Membership
from reports import services
from tests.factories import MembershipFactory
from tests.promises.conftest import T0, claim, file_through_the_form, mail_to, signed_in

pytestmark = pytest.mark.django_db

D = dt.timedelta(days=1)
REPORT = {"title": "Stored XSS in the preview", "description": "An SVG part runs script."}


@pytest.fixture
def filed(seeded, clock, reporter):
    fields = {**REPORT, "credit-display": "handle", "credit-handle": "@ada"}
    return file_through_the_form(signed_in(reporter), "teammail", fields)


@pytest.fixture
def maintainer_of_teammail(filed, maintainer):
    MembershipFactory(project=filed.project, user=maintainer, role=Membership.Role.MAINTAINER)
    return maintainer


def publish_url(report):
    return f"/reports/{report.tracking_id}/advisory/publish/"


def fixed_advisory(report, by):
    services.transition(report=report, by=by, name="triage", severity="high", message="Valid.")
    services.transition(report=report, by=by, name="mark_fixed", message="Fixed in 1.4.2.")
    advisory = advisory_services.draft_advisory(report=report, by=by)
    return advisory_services.update_advisory(
        advisory=advisory, by=by, fields={"fixed_versions": ["1.4.2"]}
    )


def test_reporter_emails_the_issues_privately(filed):
    """ "Reporter email the issues privately to openpaas-james[AT]linagora.com.": that address
    hears of each report while the project has nobody (without its content), and may claim it.
    """
    notices = mail_to("openpaas-james@linagora.com", about=filed)
    assert notices
    assert all(filed.title not in m.body for m in notices)
    contact = claim(filed.project, "openpaas-james@linagora.com")
    assert role_of(contact, filed.project) == "admin"


def test_write_back_within_two_weeks(filed):
    """ "We will then evaluate the validity of your report, and write back to you within two
    weeks."
    """
    assert (filed.ack_due, filed.detail_due) == (T0 + 14 * D, T0 + 14 * D)


def test_you_will_be_credited(filed, maintainer_of_teammail, clock):
    """ "You will be credited in the vulnerability report for your findings."."""
    from tests.advisories.publishing import publish_now

    advisory = publish_now(fixed_advisory(filed, maintainer_of_teammail), by=maintainer_of_teammail)
    assert [c.public_name for c in advisory.credits.all()] == ["@ada"]


def test_we_propose_a_fix_that_we_review_with_you(filed, maintainer_of_teammail, reporter):
    """ "We will propose a fix that we will review with you." and "We will propose you a schedule
    for the release and the announcements.": publication waits for the reporter's approval of
    the fix and its schedule.
    """
    maintainer = maintainer_of_teammail
    advisory = fixed_advisory(filed, maintainer)
    advisory_services.set_fix_release(
        report=filed, by=maintainer, version="1.4.2", released_on=T0.date()
    )
    advisory = advisory_services.share_for_review(advisory=advisory, by=maintainer)
    advisory_services.approve(advisory=advisory, by=reporter)
    body = signed_in(maintainer).post(publish_url(filed), {"confirm": "on"}).content.decode()
    assert "review the proposed fix and its schedule" in body
    review = advisory_services.share_fix(
        report=filed,
        by=maintainer,
        fix_url="https://git.example.org/tmail/commit/1",
        release_on=T0.date(),
        announce_on=T0.date(),
    )
    advisory_services.respond_to_fix(review=review, by=reporter, approve=True)
    assert signed_in(maintainer).post(publish_url(filed), {"confirm": "on"}).status_code == 302
    advisory.refresh_from_db()
    assert advisory.state == Advisory.State.PUBLISHED


def test_we_propose_a_draft_for_the_announcement_that_we_review_with_you(
    filed, maintainer_of_teammail
):
    """ "We will propose a draft for the announcement that we will review with you."."""
    fixed_advisory(filed, maintainer_of_teammail)
    body = signed_in(maintainer_of_teammail).post(publish_url(filed), {"confirm": "on"})
    assert "review the advisory: share it and wait for the approval" in body.content.decode()


def test_disclosed_one_week_after_the_release(filed, maintainer_of_teammail, reporter, clock):
    """ "One week after the release we will disclose the vulnerability." and "We disclose such
    security issues only once a released version addressing the issue is available.": no date
    before the release; refused before release + 7 days, published on it.
    """
    maintainer = maintainer_of_teammail
    advisory = fixed_advisory(filed, maintainer)
    assert Disclosure.objects.get(pk=filed.pk).due is None
    review = advisory_services.share_fix(
        report=filed,
        by=maintainer,
        fix_url="https://git.example.org/tmail/commit/1",
        release_on=T0.date(),
        announce_on=T0.date() + 7 * D,
    )
    advisory_services.respond_to_fix(review=review, by=reporter, approve=True)
    advisory = advisory_services.share_for_review(advisory=advisory, by=maintainer)
    advisory_services.approve(advisory=advisory, by=reporter)
    body = signed_in(maintainer).post(publish_url(filed), {"confirm": "on"}).content.decode()
    assert "record the release first" in body
    advisory_services.set_fix_release(
        report=filed, by=maintainer, version="1.4.2", released_on=T0.date()
    )
    assert Disclosure.objects.get(pk=filed.pk).due == T0.replace(hour=0, minute=0) + 7 * D
    assert signed_in(maintainer).post(publish_url(filed), {"confirm": "on"}).status_code == 400
    clock.move_to(T0 + 7 * D)
    assert signed_in(maintainer).post(publish_url(filed), {"confirm": "on"}).status_code == 302
    advisory.refresh_from_db()
    assert advisory.state == Advisory.State.PUBLISHED
