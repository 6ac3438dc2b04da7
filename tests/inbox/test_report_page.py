"""What people see of a report that arrived by email: members are told which required fields
are missing; the reporter, whose account the gateway made, signs in by a mailed code, which
verifies their address."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from projects.models import Membership
from reports.models import Report
from tests.factories import MembershipFactory
from tests.inbox.conftest import deliver
from tests.signin import enroll_totp

pytestmark = pytest.mark.django_db


@pytest.fixture
def emailed(seeded):
    deliver("plain")
    return Report.objects.get()


def test_members_see_the_missing_fields_flagged(client, emailed):
    maintainer = MembershipFactory(project=emailed.project, role=Membership.Role.MAINTAINER).user
    client.sign_in(maintainer)

    page = client.get(f"/reports/{emailed.tracking_id}/").content.decode()

    flag = re.search(r'<div class="alert[^"]*" id="missing-fields">(.*?)</div>', page, re.S)
    assert flag is not None
    assert re.findall(r"<li>(.*?)</li>", flag.group(1)) == [
        "Vulnerability type",
        "Affected version(s)",
        "Affected components",
        "Steps to reproduce",
        "Impact (what could an attacker achieve?)",
    ]


def test_reporter_sees_the_report_without_the_members_flag(client, emailed):
    client.force_login(emailed.reporter)

    response = client.get(f"/reports/{emailed.tracking_id}/")

    assert response.status_code == 200
    assert 'id="missing-fields"' not in response.content.decode()


def test_stranger_does_not_see_the_report(client, emailed, stranger):
    client.force_login(stranger)

    assert client.get(f"/reports/{emailed.tracking_id}/").status_code == 404


def test_reporter_signs_in_by_code_from_the_acknowledgment_and_is_verified(client, emailed):
    reporter = emailed.reporter
    sign_in_page = "/accounts/login/code/"

    response = client.post(sign_in_page, {"email": "ada@example.org"})
    assert response.status_code == 302
    code = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", mail.outbox[-1].body, re.M).group(1)
    response = client.post(response["Location"], {"code": code})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(reporter.pk)
    assert EmailAddress.objects.get(user=reporter).verified
    reporter.refresh_from_db()
    assert reporter.last_login is not None
    assert client.get(f"/reports/{emailed.tracking_id}/").status_code == 200


def test_signing_in_by_code_still_asks_a_member_for_the_second_factor(client, emailed):
    # Enabling sign-in by code (for reporters the gateway enrolled) opens no way around the
    # members' second factor.
    maintainer = MembershipFactory(project=emailed.project, role=Membership.Role.MAINTAINER).user
    enroll_totp(maintainer)

    response = client.post("/accounts/login/code/", {"email": maintainer.email})
    code = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", mail.outbox[-1].body, re.M).group(1)
    response = client.post(response["Location"], {"code": code})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    assert "_auth_user_id" not in client.session
    assert client.get(f"/reports/{emailed.tracking_id}/").status_code == 302  # to sign-in
