"""Stalwart's SECURITY.md, promise by promise, proved through the site (each test quotes it)."""

import datetime as dt

import pytest

from advisories import services as advisory_services
from advisories.models import Advisory
from projects.access import role_of
from reports import services, sweep
from tests.promises.conftest import T0, claim, file_through_the_form, mail_to, signed_in

pytestmark = pytest.mark.django_db

H, D = dt.timedelta(hours=1), dt.timedelta(days=1)
REPORT = {
    "title": "SMTP smuggling in the relay",
    "vulnerability_type": "SMTP smuggling",
    "affected_versions": ["0.13.x"],
    "affected_components": "smtp-inbound",
    "steps_to_reproduce": "Send a bare LF dot LF inside DATA.",
    "impact": "Spoofed mail from any local sender.",
}


@pytest.fixture
def filed(seeded, clock, reporter):
    client = signed_in(reporter)
    return file_through_the_form(
        client, "stalwart", {**REPORT, "credit-display": "name", "credit-name": "Ada Lovelace"}
    )


def test_email_security_at_stalw_art(filed):
    """ "Email: security@stalw.art": with nobody at the project yet, the address hears of the
    report (without its content) and is invited to claim the project.
    """
    notices = mail_to("security@stalw.art", about=filed)
    assert notices
    assert all(filed.title not in m.body + m.subject for m in notices)
    contact = claim(filed.project, "security@stalw.art")
    assert role_of(contact, filed.project) == "admin"


def test_initial_acknowledgment_within_24_hours(filed):
    """ "Initial acknowledgment: Within 24 hours"."""
    assert filed.ack_due == T0 + 24 * H


def test_detailed_response_within_72_hours(filed):
    """ "Detailed response: Within 72 hours"."""
    assert filed.detail_due == T0 + 72 * H


def test_status_updates_every_7_days_until_resolved(filed):
    """ "Status updates: Every 7 days until resolved"."""
    assert filed.next_update_due == T0 + 7 * D


def test_resolution_target_90_days(filed):
    """ "Resolution target: 90 days for most issues"."""
    assert filed.resolve_due == T0 + 90 * D


def test_backup_contact_after_48_hours_without_response(filed, clock):
    """ "Backup contact: If no response within 48 hours, email hello@stalw.art"."""
    clock.move_to(T0 + 48 * H)
    sweep.sweep()
    assert [m.subject for m in mail_to("hello@stalw.art", about=filed)] == [
        f"[{filed.tracking_id}] No acknowledgment: backup contact"
    ]


def test_credit_unless_you_prefer_anonymity(filed, maintainer):
    """ "we'll credit you in our GitHub Security Advisories (unless you prefer to remain
    anonymous)": the intake's choice is the published credit.
    """
    advisory = _published_on_the_date(filed, maintainer)
    assert [c.public_name for c in advisory.credits.all()] == ["Ada Lovelace"]


def test_disclosure_90_days_from_the_report(filed, maintainer, clock):
    """ "Typical timeline: 90 days from report to public disclosure": refused before the date,
    published on it.
    """
    advisory = _fixed_advisory(filed, maintainer)
    url = f"/reports/{filed.tracking_id}/advisory/publish/"
    assert signed_in(maintainer).post(url, {"confirm": "on"}).status_code == 400
    clock.move_to(T0 + 90 * D)
    response = signed_in(maintainer).post(url, {"confirm": "on"})
    assert response["Location"] == f"/reports/{filed.tracking_id}/advisory/"
    advisory.refresh_from_db()
    assert advisory.published_at == T0 + 90 * D


def test_early_disclosure_if_actively_exploited(filed, maintainer):
    """ "Early disclosure: May occur if issue is being actively exploited"."""
    advisory = _fixed_advisory(filed, maintainer)
    response = signed_in(maintainer).post(
        f"/reports/{filed.tracking_id}/advisory/publish/",
        {"confirm": "on", "early_reason": "exploited", "early_note": "Seen in the wild."},
    )
    assert response.status_code == 302
    advisory.refresh_from_db()
    assert advisory.state == Advisory.State.PUBLISHED


def _fixed_advisory(report, maintainer):
    from projects.models import Membership
    from tests.factories import MembershipFactory

    MembershipFactory(project=report.project, user=maintainer, role=Membership.Role.MAINTAINER)
    services.transition(report=report, by=maintainer, name="triage", severity="high", message="Y")
    services.transition(report=report, by=maintainer, name="mark_fixed", message="Fixed.")
    advisory = advisory_services.draft_advisory(report=report, by=maintainer)
    return advisory_services.update_advisory(
        advisory=advisory, by=maintainer, fields={"fixed_versions": ["0.13.4"]}
    )


def _published_on_the_date(report, maintainer):
    from advisories import publication

    advisory = _fixed_advisory(report, maintainer)
    publication.publish(advisory=advisory, by=maintainer, now=T0 + 90 * D)
    advisory.refresh_from_db()
    return advisory
